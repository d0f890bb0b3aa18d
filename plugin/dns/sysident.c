/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysident.c - build the identity of this host from the policy and the system
 *
 * The configured self names and addresses (proxy/NAT addresses are already
 * among the policy's self_addrs) always count. With self.addresses = "auto"
 * the system adds its host name, the fully qualified form of that name if
 * /etc/hosts gives it, and every interface address except IPv6 link-local
 * ones (they are meaningless without a scope and never appear in DNS).
 *
 * Deliberately no DNS: a resolver lookup here could hang start-up or a
 * reload, and the answer would be one more thing that can be spoofed.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/dns/sysident.h"

#define HOSTS_FILE "/etc/hosts"

static void sysident_add_hostname(struct identity *id);
static void sysident_add_fqdn_from_hosts(struct identity *id, const char *hostname);
static const char *hosts_line_canonical(char *line, const char *hostname);
static void sysident_add_interfaces(struct identity *id);
static bool addr_is_link_local(const struct mx_addr *addr);

struct identity *sysident_build(const struct policy *policy)
{
	struct identity *id = identity_new();

	for (size_t i = 0; i < policy->n_self_names; i++) {
		if (identity_add_name(id, policy->self_names[i]) < 0)
			log_warnx("self name \"%s\" is malformed; ignored", policy->self_names[i]);
	}
	for (size_t i = 0; i < policy->n_self_addrs; i++)
		identity_add_address(id, &policy->self_addrs[i]);
	if (policy->self_auto) {
		sysident_add_hostname(id);
		sysident_add_interfaces(id);
	}
	return id;
}

static void sysident_add_hostname(struct identity *id)
{
	char name[MX_NAME_BUF + 1];

	if (gethostname(name, sizeof(name)) < 0) {
		log_warnx("gethostname: %s; the system host name is not a self name", strerror(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';
	if (identity_add_name(id, name) < 0) {
		log_warnx("system host name \"%s\" is not a valid domain name; ignored", name);
		return;
	}
	if (strchr(name, '.') == NULL)
		sysident_add_fqdn_from_hosts(id, name);
}

/*
 * A short host name's fully qualified form, the way the resolver library
 * would find it without DNS: the canonical (first) name of the first
 * /etc/hosts line that lists the host name. Kept only if it is dotted.
 */
static void sysident_add_fqdn_from_hosts(struct identity *id, const char *hostname)
{
	char line[1024];
	FILE *fp = fopen(HOSTS_FILE, "re");

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *canonical = hosts_line_canonical(line, hostname);

		if (canonical == NULL)
			continue;
		if (strchr(canonical, '.') != NULL && identity_add_name(id, canonical) < 0)
			log_warnx("%s: \"%s\" is not a valid domain name; ignored", HOSTS_FILE,
				  canonical);
		break;
	}
	fclose(fp);
}

/* The canonical name of a hosts(5) line if hostname is among its names. */
static const char *hosts_line_canonical(char *line, const char *hostname)
{
	char *save = NULL, *canonical;

	line[strcspn(line, "#\n")] = '\0';
	if (strtok_r(line, " \t", &save) == NULL)	/* the address */
		return NULL;
	canonical = strtok_r(NULL, " \t", &save);
	for (char *name = canonical; name != NULL; name = strtok_r(NULL, " \t", &save)) {
		if (strcasecmp(name, hostname) == 0)
			return canonical;
	}
	return NULL;
}

static void sysident_add_interfaces(struct identity *id)
{
	struct ifaddrs *list, *ifa;

	if (getifaddrs(&list) < 0) {
		log_warnx("getifaddrs: %s; interface addresses are not self addresses", strerror(errno));
		return;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		struct mx_addr addr = { 0 };

		if (ifa->ifa_addr == NULL)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			addr.family = AF_INET;
			addr.u.v4 = ((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr;
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			addr.family = AF_INET6;
			addr.u.v6 =
				((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr;
			if (addr_is_link_local(&addr))
				continue;
		} else {
			continue;
		}
		identity_add_address(id, &addr);
	}
	freeifaddrs(list);
}

static bool addr_is_link_local(const struct mx_addr *addr)
{
	return addr->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addr->u.v6);
}
