/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udpsock.c - a fresh UDP socket, so a fresh source port, for every DNS
 * question c-ares sends (RFC 5452 section 9.2)
 *
 * c-ares asks for one UDP socket per server and sends every query on it.
 * Here that socket is a "virtual" one: an epoll descriptor. Each send
 * opens a new socket, connects it to the server (Linux picks a random
 * ephemeral port for it) and adds it to the epoll set, so c-ares's event
 * loop watch on the descriptor fires when any answer arrives; a receive
 * takes one datagram from a ready socket and closes the socket once it
 * has had as many datagrams as it sent. Sockets never answered are closed
 * after max_wait_ms, and all of them when c-ares closes its socket (every
 * query done, or a server error). Without a new socket (no descriptor
 * left, or MAX_PER_SERVER open) a send reuses the newest one: slower to
 * spoof than one port for everything, and never a lost query.
 *
 * The answer's source must still match the server (c-ares checks it),
 * and a connected socket receives nothing from anyone else.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/dns/udpsock.h"

#define MAX_PER_SERVER 2048	/* open sockets behind one virtual socket */

struct real {
	int fd;
	unsigned pending;	/* datagrams sent, not yet answered */
	uint64_t sent_ms;	/* the last send */
};

struct vsock {
	struct vsock *next;
	int epfd;		/* what c-ares holds */
	int family;
	struct sockaddr_storage peer;
	socklen_t peer_len;	/* 0 until c-ares connects it */
	struct real *reals;
	size_t n_reals, cap_reals;
};

struct udpsock {
	struct vsock *socks;
	unsigned max_wait_ms;
};

static ares_socket_t sock_open(int family, int type, int protocol, void *data);
static int sock_close(ares_socket_t fd, void *data);
static int sock_connect(ares_socket_t fd, const struct sockaddr *addr, ares_socklen_t len,
			void *data);
static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
				  struct sockaddr *from, ares_socklen_t *from_len, void *data);
static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data);
static struct vsock *vsock_find(const struct udpsock *u, int fd);
static void vsock_reap(struct vsock *v, uint64_t now, unsigned max_wait_ms);
static struct real *vsock_new_real(struct vsock *v);
static struct real *vsock_real_of(struct vsock *v, int fd);
static void vsock_close_real(struct vsock *v, struct real *r);
static uint64_t now_ms(void);

static const struct ares_socket_functions udpsock_functions = {
	sock_open, sock_close, sock_connect, sock_recvfrom, sock_sendv,
};

struct udpsock *udpsock_new(unsigned max_wait_ms)
{
	struct udpsock *u = xcalloc(1, sizeof(*u));

	u->max_wait_ms = max_wait_ms;
	return u;
}

void udpsock_free(struct udpsock **up)
{
	struct udpsock *u = *up;

	if (u == NULL)
		return;
	while (u->socks != NULL)
		sock_close(u->socks->epfd, u);
	free(u);
	*up = NULL;
}

void udpsock_attach(struct udpsock *u, ares_channel channel)
{
	ares_set_socket_functions(channel, &udpsock_functions, u);
}

/* ---- the functions c-ares calls ---- */

/* c-ares leaves user sockets as they come: non-blocking, close-on-exec here. */
static ares_socket_t sock_open(int family, int type, int protocol, void *data)
{
	struct udpsock *u = data;
	struct vsock *v;
	int fd, one = 1;

	if (type != SOCK_DGRAM) {
		fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
		if (fd >= 0 && type == SOCK_STREAM)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd < 0 ? ARES_SOCKET_BAD : fd;
	}
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return ARES_SOCKET_BAD;
	v = xcalloc(1, sizeof(*v));
	v->epfd = fd;
	v->family = family;
	v->next = u->socks;
	u->socks = v;
	return fd;
}

static int sock_close(ares_socket_t fd, void *data)
{
	struct udpsock *u = data;
	struct vsock **link, *v;

	for (link = &u->socks; *link != NULL && (*link)->epfd != fd; link = &(*link)->next)
		;
	if (*link == NULL)
		return close(fd);
	v = *link;
	*link = v->next;
	while (v->n_reals > 0)
		vsock_close_real(v, &v->reals[v->n_reals - 1]);
	free(v->reals);
	free(v);
	return close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *addr, ares_socklen_t len,
			void *data)
{
	struct vsock *v = vsock_find(data, fd);

	if (v == NULL)
		return connect(fd, addr, len);
	if (len > sizeof(v->peer)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&v->peer, addr, len);
	v->peer_len = len;
	return 0;
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data)
{
	struct udpsock *u = data;
	struct vsock *v = vsock_find(u, fd);
	uint64_t now = now_ms();
	struct real *r;
	ssize_t sent;

	if (v == NULL)
		return writev(fd, iov, n);
	vsock_reap(v, now, u->max_wait_ms);
	r = vsock_new_real(v);
	if (r == NULL && v->n_reals > 0)
		r = &v->reals[v->n_reals - 1];
	if (r == NULL)
		return -1;
	sent = writev(r->fd, iov, n);
	if (sent < 0) {
		int error = errno;

		if (r->pending == 0)
			vsock_close_real(v, r);
		errno = error;
		return -1;
	}
	r->pending++;
	r->sent_ms = now;
	return sent;
}

/* One datagram from whichever socket has one; EAGAIN when none has. */
static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
				  struct sockaddr *from, ares_socklen_t *from_len, void *data)
{
	struct vsock *v = vsock_find(data, fd);
	struct epoll_event ev;
	struct real *r;
	ssize_t got;
	int error;

	if (v == NULL)
		return recvfrom(fd, buf, len, flags, from, from_len);
	if (epoll_wait(v->epfd, &ev, 1, 0) != 1) {
		errno = EAGAIN;
		return -1;
	}
	r = vsock_real_of(v, ev.data.fd);
	if (r == NULL) {
		errno = EAGAIN;
		return -1;
	}
	got = recvfrom(r->fd, buf, len, flags, from, from_len);
	error = errno;
	if (got < 0 && (error == EAGAIN || error == EWOULDBLOCK || error == EINTR))
		return -1;
	/* An error (ICMP unreachable: ECONNREFUSED) is the server's: c-ares moves on. */
	if (got < 0 || r->pending <= 1)
		vsock_close_real(v, r);
	else
		r->pending--;
	errno = error;
	return got;
}

/* ---- the sockets behind one virtual socket ---- */

static struct vsock *vsock_find(const struct udpsock *u, int fd)
{
	struct vsock *v;

	for (v = u->socks; v != NULL && v->epfd != fd; v = v->next)
		;
	return v;
}

static void vsock_reap(struct vsock *v, uint64_t now, unsigned max_wait_ms)
{
	size_t i = 0;

	while (i < v->n_reals) {
		if (now - v->reals[i].sent_ms > max_wait_ms)
			vsock_close_real(v, &v->reals[i]);	/* the last one moves to i */
		else
			i++;
	}
}

/* A new socket connected to the server and watched; NULL (errno) if none. */
static struct real *vsock_new_real(struct vsock *v)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct real *r;
	int fd;

	if (v->peer_len == 0) {
		errno = ENOTCONN;
		return NULL;
	}
	if (v->n_reals >= MAX_PER_SERVER) {
		errno = EMFILE;
		return NULL;
	}
	fd = socket(v->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	ev.data.fd = fd;
	if (connect(fd, (const struct sockaddr *)&v->peer, v->peer_len) < 0 ||
	    epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int error = errno;

		close(fd);
		errno = error;
		return NULL;
	}
	if (v->n_reals == v->cap_reals) {
		v->cap_reals = v->cap_reals ? 2 * v->cap_reals : 16;
		v->reals = xreallocarray(v->reals, v->cap_reals, sizeof(*v->reals));
	}
	r = &v->reals[v->n_reals++];
	r->fd = fd;
	r->pending = 0;
	r->sent_ms = 0;
	return r;
}

static struct real *vsock_real_of(struct vsock *v, int fd)
{
	for (size_t i = 0; i < v->n_reals; i++)
		if (v->reals[i].fd == fd)
			return &v->reals[i];
	return NULL;
}

/* Closes it (which also takes it out of the epoll set); the last one takes its place. */
static void vsock_close_real(struct vsock *v, struct real *r)
{
	close(r->fd);
	*r = v->reals[--v->n_reals];
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
