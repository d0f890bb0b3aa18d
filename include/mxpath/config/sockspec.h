/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sockspec.h - the socket-spec grammar, one module for every door
 *
 * The forms accepted everywhere (configuration, mxpathd's doors, the
 * milter's libmilter socket, mxpath stats --socket):
 *   "unix:/absolute/path"   at most 107 bytes of path
 *   "inet:PORT"             PORT 1..65535 on 127.0.0.1
 *   "inet:PORT@HOST"        HOST an IPv4 address, an IPv6 address (bare or
 *                           in brackets) or a host name
 * libmilter's own "local:" and "inet6:" spellings are not accepted: an
 * IPv6 address after '@' says the same thing. Owner and group are names
 * or numeric ids (a number need not be in the passwd or group file).
 */
#ifndef MXPATH_SOCKSPEC_H
#define MXPATH_SOCKSPEC_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include "mxpath/base/common.h"

#define SOCKSPEC_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define SOCKSPEC_DEFAULT_HOST "127.0.0.1"

enum sockspec_kind { SOCKSPEC_UNIX, SOCKSPEC_INET };

/* A parsed spec. */
struct sockspec {
	enum sockspec_kind kind;
	char path[SOCKSPEC_PATH_MAX];	/* unix: the absolute path */
	char host[MX_NAME_BUF];		/* inet: address (no brackets) or name */
	unsigned port;			/* inet: 1..65535 */
	int family;			/* inet: AF_INET, AF_INET6, or AF_UNSPEC for a name */
};

/* 0, or -1 with *why a static text ("bad port: expected 1..65535"). */
int sockspec_parse(const char *text, struct sockspec *out, const char **why);
/* A port 1..65535: len decimal digits at text, nothing else (DNS servers too). 0 / -1. */
int sockspec_parse_port(const char *text, size_t len, unsigned *port);
/* The path of a "unix:" spec (pointing into text), or NULL. */
const char *sockspec_unix_path(const char *text);
/* The spec as libmilter's smfi_setconn() wants it (explicit host, inet6:
 * for IPv6); 0, or -1 if it does not fit in len. */
int sockspec_libmilter(const struct sockspec *spec, char *out, size_t len);

/* A user or group: a name, or else a decimal number taken as the id. 0 / -1. */
int sockspec_uid(const char *account, uid_t *uid);
int sockspec_gid(const char *account, gid_t *gid);
/*
 * Gives the unix socket at path its owner and group (NULL: unchanged) and
 * mode (0: unchanged). -1 with err "unix:PATH: owner 65535: no such user".
 */
int sockspec_set_access(const char *path, const char *owner, const char *group, mode_t mode,
			char *err, size_t errlen);

#endif
