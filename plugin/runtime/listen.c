/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.c - open the daemon's listening sockets before privileges drop
 *
 * Specs are read by sockspec.c (the one grammar for every door).
 * "unix:/path": a stale socket file is removed first -- only if it is a
 * socket and nobody answers on it --, the socket is bound under a tight
 * umask (0600, root), then given its owner, group and mode (sockspec.c).
 * "inet:PORT@HOST": HOST defaults to 127.0.0.1. Every socket is
 * non-blocking and close-on-exec; TCP ones set SO_REUSEADDR.
 *
 * listen_connect() is the client side (mxpath stats, tests). Whether the
 * socket's directory is safe is the daemon's check (daemon.c), not ours.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/config/sockspec.h"
#include "mxpath/runtime/listen.h"

#define LISTEN_BACKLOG 256

/* A parsed socket spec: the address to bind or connect to. */
struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	const char *path;	/* unix sockets: points into ss */
};

static int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen);
static void listen_addr_unix(const char *path, struct listen_addr *out);
static int listen_addr_inet(const struct sockspec *spec, struct listen_addr *out, char *err,
			    size_t errlen);
static int unix_remove_stale(const char *path, char *err, size_t errlen);
static bool unix_is_answering(const char *path);
static int unix_bind(int fd, const struct listen_addr *addr, char *err, size_t errlen);
static int listen_open_unix(const struct door_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen);
static int listen_open_inet(const struct door_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen);
static int socket_open(const struct listen_addr *addr, bool nonblocking);
static int socket_listen(int fd, const char *spec, char *err, size_t errlen);

int listen_open(const struct door_socket *socket, const char *what, char *err, size_t errlen)
{
	struct listen_addr addr;
	char why[256];
	int fd;

	if (socket->spec == NULL) {
		snprintf(err, errlen, "%s: no socket configured", what);
		return -1;
	}
	if (listen_parse(socket->spec, &addr, why, sizeof(why)) < 0)
		fd = -1;
	else if (addr.path != NULL)
		fd = listen_open_unix(socket, &addr, why, sizeof(why));
	else
		fd = listen_open_inet(socket, &addr, why, sizeof(why));
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", what, why);
	return fd;
}

static int listen_open_unix(const struct door_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen)
{
	int fd;

	if (unix_remove_stale(addr->path, err, errlen) < 0)
		return -1;
	fd = socket_open(addr, true);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", socket->spec, strerror(errno));
		return -1;
	}
	if (unix_bind(fd, addr, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (sockspec_set_access(addr->path, socket->owner, socket->group, socket->mode, err,
				errlen) < 0 ||
	    socket_listen(fd, socket->spec, err, errlen) < 0) {
		close(fd);
		unlink(addr->path);
		return -1;
	}
	return fd;
}

static int listen_open_inet(const struct door_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket_open(addr, true);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", socket->spec, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		snprintf(err, errlen, "%s: setsockopt: %s", socket->spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
		snprintf(err, errlen, "%s: bind: %s", socket->spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (socket_listen(fd, socket->spec, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void listen_cleanup(const struct door_socket *socket)
{
	struct listen_addr addr;
	struct stat st;
	char why[256];

	if (socket->spec == NULL || listen_parse(socket->spec, &addr, why, sizeof(why)) < 0 ||
	    addr.path == NULL)
		return;
	/* Only ever remove a socket: the path may have been reused since. */
	if (lstat(addr.path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (unlink(addr.path) < 0 && errno != ENOENT)
		log_warnx("cannot remove socket %s: %s (the next start replaces it)", addr.path,
			  strerror(errno));
}

int listen_connect(const char *spec, char *err, size_t errlen)
{
	struct listen_addr addr;
	char why[256];
	int fd;

	if (listen_parse(spec, &addr, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	fd = socket_open(&addr, false);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "%s: connect: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int socket_open(const struct listen_addr *addr, bool nonblocking)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);

	return socket(addr->ss.ss_family, type, 0);
}

static int socket_listen(int fd, const char *spec, char *err, size_t errlen)
{
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", spec, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen)
{
	struct sockspec parsed;
	const char *why;

	memset(out, 0, sizeof(*out));
	if (sockspec_parse(spec, &parsed, &why) < 0) {
		snprintf(err, errlen, "%s: %s", spec, why);
		return -1;
	}
	if (parsed.kind == SOCKSPEC_INET)
		return listen_addr_inet(&parsed, out, err, errlen);
	listen_addr_unix(parsed.path, out);
	return 0;
}

/* path: checked by sockspec_parse(), it fits. */
static void listen_addr_unix(const char *path, struct listen_addr *out)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	/* Through ss, not un: the readers look at ss.ss_family (strict aliasing). */
	out->ss.ss_family = AF_UNIX;
	memcpy(un->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	out->path = un->sun_path;
}

static int listen_addr_inet(const struct sockspec *spec, struct listen_addr *out, char *err,
			    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", spec->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = spec->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(spec->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "inet:%u@%.200s: %s", spec->port, spec->host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	out->path = NULL;
	freeaddrinfo(res);
	return 0;
}

/* A leftover socket file from an earlier run is removed; anything else stays. */
static int unix_remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "unix:%s: exists and is not a socket; not removing it", path);
		return -1;
	}
	if (unix_is_answering(path)) {
		snprintf(err, errlen, "unix:%s: another process is listening on it", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "unix:%s: cannot remove the stale socket: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static bool unix_is_answering(const char *path)
{
	struct listen_addr addr;
	bool answering;
	int fd;

	memset(&addr, 0, sizeof(addr));
	listen_addr_unix(path, &addr);
	fd = socket_open(&addr, true);
	if (fd < 0)
		return false;
	/* A unix connect never blocks for long: it succeeds, or a full
	 * backlog says EAGAIN (someone is there), or ECONNREFUSED (stale). */
	answering = connect(fd, (struct sockaddr *)&addr.ss, addr.len) == 0 || errno == EAGAIN;
	close(fd);
	return answering;
}

static int unix_bind(int fd, const struct listen_addr *addr, char *err, size_t errlen)
{
	mode_t old_mask;
	int rc;

	/* Born 0600 and root's, so nobody else can connect before chmod below. */
	old_mask = umask(0177);
	rc = bind(fd, (const struct sockaddr *)&addr->ss, addr->len);
	umask(old_mask);
	if (rc < 0) {
		snprintf(err, errlen, "unix:%s: bind: %s", addr->path, strerror(errno));
		return -1;
	}
	return 0;
}
