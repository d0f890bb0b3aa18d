/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sockspec.c - parse, check and apply socket specs for every door
 *
 * One grammar (see sockspec.h) shared by the configuration loader, the
 * daemon's listeners, the milter's libmilter socket and the CLI: a spec
 * the loader accepts is one every door can open, and the other way round.
 * Applying a unix socket's owner, group and mode lives here too, so a
 * numeric owner works the same on every door. Parsing is pure; only the
 * account lookups and chown/chmod touch the system.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxpath/config/sockspec.h"
#include "mxpath/engine/address.h"

static int parse_unix(const char *path, struct sockspec *out, const char **why);
static int parse_inet(const char *rest, struct sockspec *out, const char **why);
static int parse_host(const char *text, struct sockspec *out, const char **why);
static bool has_control(const char *text);
static int account_number(const char *text, unsigned long *id);

int sockspec_parse(const char *text, struct sockspec *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, out, why);
	if (strncmp(text, "inet:", 5) == 0)
		return parse_inet(text + 5, out, why);
	*why = "expected unix:/path or inet:PORT@HOST";
	return -1;
}

const char *sockspec_unix_path(const char *text)
{
	return text != NULL && strncmp(text, "unix:", 5) == 0 ? text + 5 : NULL;
}

int sockspec_libmilter(const struct sockspec *spec, char *out, size_t len)
{
	int n;

	if (spec->kind == SOCKSPEC_UNIX)
		n = snprintf(out, len, "unix:%s", spec->path);
	else
		n = snprintf(out, len, "%s:%u@%s", spec->family == AF_INET6 ? "inet6" : "inet",
			     spec->port, spec->host);
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

static int parse_unix(const char *path, struct sockspec *out, const char **why)
{
	*why = "unix socket path must be absolute";
	if (path[0] != '/' || has_control(path))
		return -1;
	*why = "unix socket path too long";
	if (strlen(path) >= sizeof(out->path))
		return -1;
	out->kind = SOCKSPEC_UNIX;
	memcpy(out->path, path, strlen(path) + 1);
	return 0;
}

static int parse_inet(const char *rest, struct sockspec *out, const char **why)
{
	const char *at = strchr(rest, '@');

	out->kind = SOCKSPEC_INET;
	if (sockspec_parse_port(rest, at ? (size_t)(at - rest) : strlen(rest), &out->port) != 0) {
		*why = "bad port: expected 1..65535";
		return -1;
	}
	if (at == NULL) {
		out->family = AF_INET;
		memcpy(out->host, SOCKSPEC_DEFAULT_HOST, sizeof(SOCKSPEC_DEFAULT_HOST));
		return 0;
	}
	return parse_host(at + 1, out, why);
}

/* An address (IPv6 bare or in brackets) or a name, stored without brackets. */
static int parse_host(const char *text, struct sockspec *out, const char **why)
{
	size_t len = strlen(text);
	char name[MX_NAME_BUF];
	struct mx_addr addr;
	const char *unused;

	*why = "bad host after '@': expected an address or a name";
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(out->host))
		return -1;
	memcpy(out->host, text, len);
	out->host[len] = '\0';
	if (addr_parse(out->host, &addr) == 0) {
		if (text[-1] == '[' && addr.family != AF_INET6)
			return -1;	/* brackets are for IPv6 */
		out->family = addr.family;
		return 0;
	}
	if (text[-1] == '[' || host_name_normalize(out->host, len, name, &unused) != 0)
		return -1;
	memcpy(out->host, name, strlen(name) + 1);
	out->family = AF_UNSPEC;
	return 0;
}

/* 1..65535 in decimal, nothing else. */
int sockspec_parse_port(const char *text, size_t len, unsigned *port)
{
	unsigned long value = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value < 1 || value > 65535)
		return -1;
	*port = (unsigned)value;
	return 0;
}

static bool has_control(const char *text)
{
	for (; *text != '\0'; text++)
		if (iscntrl((unsigned char)*text))
			return true;
	return false;
}

/* ---- owner, group, mode ---- */

int sockspec_uid(const char *account, uid_t *uid)
{
	const struct passwd *pw = getpwnam(account);
	unsigned long id;

	if (pw != NULL) {
		*uid = pw->pw_uid;
		return 0;
	}
	if (account_number(account, &id) != 0 || id >= (unsigned long)(uid_t)-1)
		return -1;
	*uid = (uid_t)id;
	return 0;
}

int sockspec_gid(const char *account, gid_t *gid)
{
	const struct group *gr = getgrnam(account);
	unsigned long id;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (account_number(account, &id) != 0 || id >= (unsigned long)(gid_t)-1)
		return -1;
	*gid = (gid_t)id;
	return 0;
}

/* Decimal digits only, at most 10 of them. */
static int account_number(const char *text, unsigned long *id)
{
	size_t len = strspn(text, "0123456789");
	char *end;

	if (len == 0 || len > 10 || text[len] != '\0')
		return -1;
	*id = strtoul(text, &end, 10);
	return 0;
}

int sockspec_set_access(const char *path, const char *owner, const char *group, mode_t mode,
			char *err, size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (owner != NULL && sockspec_uid(owner, &uid) < 0) {
		snprintf(err, errlen, "unix:%s: owner %s: no such user", path, owner);
		return -1;
	}
	if (group != NULL && sockspec_gid(group, &gid) < 0) {
		snprintf(err, errlen, "unix:%s: group %s: no such group", path, group);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		snprintf(err, errlen, "unix:%s: chown: %s", path, strerror(errno));
		return -1;
	}
	/* mode 0 means "not configured": the socket keeps the mode it was born with. */
	if (mode != 0 && chmod(path, mode & 07777) < 0) {
		snprintf(err, errlen, "unix:%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
