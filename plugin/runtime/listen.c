/*
 * listen.c - open the daemon's listening sockets before privileges drop
 *
 * "unix:/path" (or libmilter's "local:/path"): a stale socket file is
 * removed first -- only if it is a socket and nobody answers on it --, the
 * socket is bound under a tight umask (0600, root), then given its owner,
 * group and mode. "inet:PORT@HOST" (or "inet6:PORT@HOST"): HOST defaults
 * to 127.0.0.1 and may be an IPv6 address, bracketed or not. Every socket
 * is non-blocking and close-on-exec; TCP ones set SO_REUSEADDR.
 *
 * listen_connect() is the client side (mxpath stats, tests). Whether the
 * socket's directory is safe is the daemon's check (daemon.c), not ours.
 */
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
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
#include "mxpath/runtime/listen.h"

#define LISTEN_BACKLOG 256

/* A parsed socket spec: the address to bind or connect to. */
struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	const char *path;	/* unix sockets: points into ss */
};

static int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen);
static int listen_parse_unix(const char *path, struct listen_addr *out, char *err,
			     size_t errlen);
static int listen_parse_inet(const char *rest, int family, struct listen_addr *out, char *err,
			     size_t errlen);
static int unix_remove_stale(const char *path, char *err, size_t errlen);
static bool unix_is_answering(const char *path);
static int unix_bind(int fd, const struct listen_addr *addr, char *err, size_t errlen);
static int unix_set_access(const struct policy_socket *socket, const char *path, char *err,
			   size_t errlen);
static int listen_open_unix(const struct policy_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen);
static int listen_open_inet(const struct policy_socket *socket, const struct listen_addr *addr,
			    char *err, size_t errlen);
static int account_uid(const char *name, uid_t *out);
static int account_gid(const char *name, gid_t *out);
static int socket_open(const struct listen_addr *addr, bool nonblocking);
static int socket_listen(int fd, const char *spec, char *err, size_t errlen);

int listen_open(const struct policy_socket *socket, const char *what, char *err, size_t errlen)
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

static int listen_open_unix(const struct policy_socket *socket, const struct listen_addr *addr,
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
	if (unix_set_access(socket, addr->path, err, errlen) < 0 ||
	    socket_listen(fd, socket->spec, err, errlen) < 0) {
		close(fd);
		unlink(addr->path);
		return -1;
	}
	return fd;
}

static int listen_open_inet(const struct policy_socket *socket, const struct listen_addr *addr,
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

void listen_cleanup(const struct policy_socket *socket)
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
	memset(out, 0, sizeof(*out));
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_parse_unix(spec + 5, out, err, errlen);
	if (strncmp(spec, "local:", 6) == 0)
		return listen_parse_unix(spec + 6, out, err, errlen);
	if (strncmp(spec, "inet:", 5) == 0)
		return listen_parse_inet(spec + 5, AF_UNSPEC, out, err, errlen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return listen_parse_inet(spec + 6, AF_INET6, out, err, errlen);
	snprintf(err, errlen, "%s: expected unix:/path or inet:PORT@HOST", spec);
	return -1;
}

static int listen_parse_unix(const char *path, struct listen_addr *out, char *err,
			     size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	if (path[0] != '/') {
		snprintf(err, errlen, "unix:%s: the path must be absolute", path);
		return -1;
	}
	if (len >= sizeof(un->sun_path)) {
		snprintf(err, errlen, "unix:%s: the path is longer than %zu bytes", path,
			 sizeof(un->sun_path) - 1);
		return -1;
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	out->path = un->sun_path;
	return 0;
}

static int listen_parse_inet(const char *rest, int family, struct listen_addr *out, char *err,
			     size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8], host[MX_NAME_BUF];
	const char *at = strchr(rest, '@');
	size_t port_len = at != NULL ? (size_t)(at - rest) : strlen(rest);
	size_t host_len;
	char *end;
	unsigned long number;
	int rc;

	if (port_len == 0 || port_len >= sizeof(port) || strspn(rest, "0123456789") != port_len) {
		snprintf(err, errlen, "inet:%s: expected PORT@HOST", rest);
		return -1;
	}
	memcpy(port, rest, port_len);
	port[port_len] = '\0';
	number = strtoul(port, &end, 10);
	if (number > 65535) {
		snprintf(err, errlen, "inet:%s: port out of range", rest);
		return -1;
	}
	if (at == NULL || at[1] == '\0') {
		snprintf(host, sizeof(host), "%s", family == AF_INET6 ? "::1" : "127.0.0.1");
	} else {
		const char *h = at + 1;

		host_len = strlen(h);
		if (h[0] == '[' && host_len > 2 && h[host_len - 1] == ']') {
			h++;
			host_len -= 2;
		}
		if (host_len >= sizeof(host)) {
			snprintf(err, errlen, "inet:%s: host name too long", rest);
			return -1;
		}
		memcpy(host, h, host_len);
		host[host_len] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "inet:%s: %s", rest, gai_strerror(rc));
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
	char why[256];
	bool answering;
	int fd;

	if (listen_parse_unix(path, &addr, why, sizeof(why)) < 0)
		return false;
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

static int unix_set_access(const struct policy_socket *socket, const char *path, char *err,
			   size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (socket->owner != NULL && account_uid(socket->owner, &uid) < 0) {
		snprintf(err, errlen, "unix:%s: owner %s: no such user", path, socket->owner);
		return -1;
	}
	if (socket->group != NULL && account_gid(socket->group, &gid) < 0) {
		snprintf(err, errlen, "unix:%s: group %s: no such group", path, socket->group);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		snprintf(err, errlen, "unix:%s: chown: %s", path, strerror(errno));
		return -1;
	}
	/* mode 0 means "not configured": the socket stays 0600. */
	if (socket->mode != 0 && chmod(path, socket->mode & 07777) < 0) {
		snprintf(err, errlen, "unix:%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A name, or a number (the configuration allows both). */
static int account_uid(const char *name, uid_t *out)
{
	struct passwd *pw = getpwnam(name);
	char *end;
	unsigned long id;

	if (pw == NULL && name[0] >= '0' && name[0] <= '9') {
		id = strtoul(name, &end, 10);
		if (*end == '\0' && id < (unsigned long)(uid_t)-1)
			pw = getpwuid((uid_t)id);
	}
	if (pw == NULL)
		return -1;
	*out = pw->pw_uid;
	return 0;
}

static int account_gid(const char *name, gid_t *out)
{
	struct group *gr = getgrnam(name);
	char *end;
	unsigned long id;

	if (gr == NULL && name[0] >= '0' && name[0] <= '9') {
		id = strtoul(name, &end, 10);
		if (*end == '\0' && id < (unsigned long)(gid_t)-1)
			gr = getgrgid((gid_t)id);
	}
	if (gr == NULL)
		return -1;
	*out = gr->gr_gid;
	return 0;
}
