/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - libFuzzer harness for the configuration loader
 *
 * Input: the text of a configuration file, up to the first NUL. It goes
 * through config_load_string(); a refused file must leave no policy and
 * one "NAME:LINE: message" error, an accepted one must hold what
 * config.h and policy.h promise, checked here field by field: every name
 * normalised, every number in its documented range, lists within their
 * caps and without duplicates, min_ttl <= max_ttl, not both IPv4 and IPv6
 * off, a route's resolver channel matching its own servers, and the
 * policy lookups finding what the file named. Then the policy is shared
 * and released the way the daemon does (policy_ref, policy_unref).
 *
 * Inputs holding "@include" are skipped: an include opens a file
 * relative to the working directory (or /dev/stdin), which is the file
 * loader's business and no part of parsing text.
 *
 * libconfig 1.5 (Debian 12) leaks the text of a string token when a
 * syntax error follows it where a setting name belongs ("\"x\"" alone):
 * its parser has no destructor for string tokens. That leak is libconfig's
 * and is suppressed below, by the scanner's function names only, so that
 * a leak in config.c is still caught.
 */
#include <sanitizer/lsan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/engine/address.h"
#include "mxpath/config/config.h"
#include "mxpath/engine/policy.h"

#define INPUT_MAX 65536
#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

static void require(int ok, const char *what);
static bool has_include(const char *text);
static void check_error(const char *err);
static void check_policy(const struct policy *p);
static void check_self(const struct policy *p);
static void check_rules(const struct policy *p);
static void check_numbers(const struct policy *p);
static void check_doors(const struct policy *p);
static void check_settings(const struct daemon_settings *s);
static void check_socket(const struct door_socket *sock);
static void check_name(const char *name);
static void check_host(const char *host);
static void check_hosts(const struct policy_host *hosts, size_t n);
static void check_unique(char *const *items, size_t n, const char *what);
static void check_range(unsigned value, unsigned lo, unsigned hi, const char *what);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy sentinel;	/* must be overwritten with NULL on error */
	char err[CONFIG_ERROR_MAX], *text;
	struct policy *policy = &sentinel, *shared;
	struct daemon_settings settings;
	int rc;

	if (size > INPUT_MAX)
		return 0;
	text = malloc(size + 1);
	require(text != NULL, "malloc");
	memcpy(text, data, size);
	text[size] = '\0';
	if (has_include(text)) {
		free(text);
		return 0;
	}
	memset(err, 'X', sizeof(err));
	rc = config_load_string(text, NAME, &policy, &settings, err, sizeof(err));
	free(text);
	if (rc != 0) {
		require(rc == -1, "config_load_string: neither 0 nor -1");
		require(policy == NULL, "config_load_string: a refused file leaves a policy");
		check_error(err);
		return 0;
	}
	require(policy != NULL, "config_load_string: success without a policy");
	check_policy(policy);
	check_settings(&settings);
	daemon_settings_clear(&settings);
	shared = policy_ref(policy);
	require(shared == policy && policy->refs == 2, "policy_ref");
	policy_unref(&shared);
	require(shared == NULL && policy->refs == 1, "policy_unref of a shared policy");
	policy_unref(&policy);
	require(policy == NULL, "policy_unref leaves the pointer");
	return 0;
}

/* The libconfig 1.5 string-token leak (see the top of the file). */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

static void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_config: %s\n", what);
	abort();
}

static bool has_include(const char *text)
{
	return strcasestr(text, "@include") != NULL;
}

/* "fuzz.conf:LINE: message", terminated within the buffer. */
static void check_error(const char *err)
{
	size_t len = strnlen(err, CONFIG_ERROR_MAX), i = strlen(NAME) + 1;

	require(len < CONFIG_ERROR_MAX, "error message not terminated");
	require(strncmp(err, NAME ":", strlen(NAME) + 1) == 0, "error does not name the file");
	require(err[i] >= '0' && err[i] <= '9', "error has no line number");
	while (err[i] >= '0' && err[i] <= '9')
		i++;
	require(err[i] == ':' && err[i + 1] == ' ' && err[i + 2] != '\0',
		"error is not FILE:LINE: message");
}

static void check_policy(const struct policy *p)
{
	require(p->refs == 1, "a new policy does not hold one reference");
	require(p->file != NULL && strcmp(p->file, NAME) == 0, "policy does not name its file");
	check_self(p);
	check_rules(p);
	check_numbers(p);
	check_doors(p);
}

static void check_self(const struct policy *p)
{
	for (size_t i = 0; i < p->n_self_names; i++)
		check_name(p->self_names[i]);
	check_unique(p->self_names, p->n_self_names, "duplicate self name");
	for (size_t i = 0; i < p->n_self_addrs; i++)
		require(p->self_addrs[i].family == AF_INET || p->self_addrs[i].family == AF_INET6,
			"self address of no family");
	require(p->n_self_addrs == 0 || p->self_addrs != NULL, "self addresses lost");
}

static void check_rules(const struct policy *p)
{
	for (size_t i = 0; i < p->n_local_hosts; i++) {
		check_name(p->local_hosts[i]);
		require(policy_is_local_host(p, p->local_hosts[i]), "local host not found");
		require(policy_names_domain(p, p->local_hosts[i]), "local host not named");
	}
	check_unique(p->local_hosts, p->n_local_hosts, "duplicate local host");
	for (size_t i = 0; i < p->n_clusters; i++) {
		const struct policy_cluster *c = &p->clusters[i];

		check_name(c->name);
		require(policy_find_cluster(p, c->name) == c, "cluster not found by its name");
		require(c->n_members >= 1, "cluster without members");
		check_hosts(c->members, c->n_members);
	}
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct policy_route *r = &p->routes[i];

		require(r->pattern != NULL && r->pattern[0] != '\0', "route without a pattern");
		require(r->is_suffix == (r->pattern[0] == '.'), "route suffix flag is wrong");
		if (strcmp(r->pattern, ".") != 0)
			check_name(r->pattern + r->is_suffix);
		if (!r->is_suffix)
			require(policy_find_route(p, r->pattern) == r, "exact route not found");
		for (size_t j = 0; j < i; j++)
			require(strcmp(p->routes[j].pattern, r->pattern) != 0, "duplicate route");
		require(r->n_hosts >= 1, "route without hosts");
		check_hosts(r->hosts, r->n_hosts);
		check_unique(r->dns, r->n_dns, "duplicate route DNS server");
		require(r->channel == (r->n_dns > 0 ? 1 + i : 0), "route channel is wrong");
	}
	require(p->n_fallback_relays <= POLICY_FALLBACK_MAX, "too many fallback relays");
	for (size_t i = 0; i < p->n_fallback_relays; i++)
		check_host(p->fallback_relays[i]);
	check_unique(p->fallback_relays, p->n_fallback_relays, "duplicate fallback relay");
}

static void check_numbers(const struct policy *p)
{
	check_range(p->dns.timeout_ms, 1, 60000, "dns.timeout_ms");
	check_range(p->dns.tries, 1, 10, "dns.tries");
	check_range(p->dns.cache_entries, 1, 10000000, "dns.cache_entries");
	check_range(p->dns.max_ttl, 1, 604800, "dns.max_ttl");
	check_range(p->dns.min_ttl, 0, p->dns.max_ttl, "dns.min_ttl");
	check_range(p->dns.failure_ttl, 0, 3600, "dns.failure_ttl");
	check_range(p->dns.serve_stale, 0, 604800, "dns.serve_stale");
	check_unique(p->dns.servers, p->dns.n_servers, "duplicate DNS server");
	check_range(p->mx.max_hosts, 1, POLICY_MAX_HOSTS_LIMIT, "mx.max_hosts");
	check_range(p->mx.max_addresses, 1, 1024, "mx.max_addresses");
	require(p->mx.ipv4 || p->mx.ipv6, "both ipv4 and ipv6 off");
	require(p->mx.null_mx == VERDICT_REJECT || p->mx.null_mx == VERDICT_TEMPFAIL,
		"mx.null_mx out of range");
	require(p->mx.self_best == VERDICT_REJECT || p->mx.self_best == VERDICT_TEMPFAIL,
		"mx.self_best out of range");
	for (size_t i = 0; i < p->mx.n_ignore_targets; i++) {
		const struct mx_cidr *c = &p->mx.ignore_targets[i];

		require(c->prefix <= (c->net.family == AF_INET ? 32u : 128u),
			"ignore_targets prefix too long");
		require(cidr_contains(c, &c->net), "ignore_targets block misses its own network");
	}
	check_range(p->socketmap.port, 0, 65535, "socketmap.port");
	check_range(p->socketmap.max_connections, 1, 65536, "socketmap.max_connections");
	check_range(p->socketmap.idle_timeout, 1, 86400, "socketmap.idle_timeout");
}

static void check_doors(const struct policy *p)
{
	if (p->milter.rewrite_local != NULL)
		check_name(p->milter.rewrite_local);
	require(p->socketmap.transport != NULL && p->socketmap.transport[0] != '\0',
		"no socketmap transport");
	require(p->socketmap.mailer != NULL && p->socketmap.mailer[0] != '\0',
		"no socketmap mailer");
	require(p->socketmap.local != NULL && strlen(p->socketmap.local) <= 255 &&
			strpbrk(p->socketmap.local, " \t\r\n") == NULL,
		"socketmap.local empty, too long or with blanks");
	require(p->socketmap.nexthop == NEXTHOP_NAME || p->socketmap.nexthop == NEXTHOP_ADDRESS,
		"socketmap.nexthop out of range");
	require(p->socketmap.default_action == DEFAULT_ROUTE ||
			p->socketmap.default_action == DEFAULT_NOTFOUND,
		"socketmap.default out of range");
}

static void check_settings(const struct daemon_settings *s)
{
	check_socket(&s->milter);
	check_socket(&s->socketmap);
	check_socket(&s->control);
	check_range(s->milter_timeout, 1, 86400, "milter.timeout");
	require(s->user != NULL && s->user[0] != '\0' && s->group != NULL && s->group[0] != '\0',
		"no user or group");
	require(s->pidfile == NULL || s->pidfile[0] == '/', "pidfile not absolute");
}

static void check_socket(const struct door_socket *sock)
{
	require(sock->mode <= 0777, "socket mode above 0777");
	if (sock->spec == NULL)
		return;
	require(strncmp(sock->spec, "unix:/", 6) == 0 || strncmp(sock->spec, "inet:", 5) == 0,
		"socket neither unix:/path nor inet:");
	if (strncmp(sock->spec, "inet:", 5) == 0)
		require(sock->owner == NULL && sock->group == NULL,
			"owner or group on an inet socket");
}

static void check_name(const char *name)
{
	char again[MX_NAME_BUF];
	const char *why;
	struct mx_addr addr;

	require(name != NULL && name[0] != '\0', "empty name");
	require(domain_normalize(name, strlen(name), again, &why) == 0, "name not a domain");
	require(strcmp(again, name) == 0, "name not normalised");
	require(addr_parse(name, &addr) != 0, "an IP address taken as a name");
}

/* A name or a literal in the form recipient_parse() gives. */
static void check_host(const char *host)
{
	struct recipient r;
	const char *why;

	require(host != NULL, "no host");
	if (host[0] != '[') {
		check_name(host);
		return;
	}
	require(recipient_parse(host, &r, &why) == 0 && r.kind == RECIPIENT_LITERAL &&
			strcmp(r.domain, host) == 0,
		"address literal not canonical");
}

static void check_hosts(const struct policy_host *hosts, size_t n)
{
	require(n <= POLICY_MAX_HOSTS_LIMIT, "too many hosts in a list");
	for (size_t i = 0; i < n; i++) {
		check_host(hosts[i].host);
		check_range(hosts[i].pref, 0, POLICY_PREF_MAX, "pref");
		for (size_t j = 0; j < i; j++)
			require(strcmp(hosts[j].host, hosts[i].host) != 0, "duplicate host");
	}
}

static void check_unique(char *const *items, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		require(items[i] != NULL, what);
		for (size_t j = 0; j < i; j++)
			require(strcmp(items[j], items[i]) != 0, what);
	}
}

static void check_range(unsigned value, unsigned lo, unsigned hi, const char *what)
{
	require(value >= lo && value <= hi, what);
}
