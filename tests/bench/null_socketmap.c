/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * null_socketmap.c - a do-nothing socketmap server: the baseline that
 * bench_socketmap.py measures mxpathd against
 *
 * Answers every request "OK smtp:[127.0.0.1]" (or ANSWER) without looking
 * at it: one thread, epoll, the project's netstring codec. What is left of
 * a socketmap lookup once the routing is taken away (framing, syscalls,
 * scheduling). Runs until killed.
 *
 *   null_socketmap PATH [ANSWER]   listen on the unix socket PATH
 *
 * mta-bench.sh gives it the route mxpathd gives, so that Postfix can be
 * measured with a socketmap that costs nothing to answer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/netstring.h"

#define DEFAULT_ANSWER "OK smtp:[127.0.0.1]"
#define EVENTS_MAX 64

struct client {
	bool used;
	bool writing;		/* watching EPOLLOUT instead of EPOLLIN */
	struct netstring_in in;
	struct netstring_out out;
};

static const char *answer = DEFAULT_ANSWER;
static size_t answer_len = sizeof(DEFAULT_ANSWER) - 1;
static struct client *clients;
static size_t n_clients;

static int server_listen(const char *path);
static void server_accept(int epfd, int lfd);
static void client_on_event(int epfd, int fd, uint32_t events);
static int client_answer(int fd, struct client *c);
static int client_flush(int epfd, int fd, struct client *c);
static void client_close(int epfd, int fd);

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, events[EVENTS_MAX];
	int lfd, epfd, n, i;

	if (argc == 3) {
		answer = argv[2];
		answer_len = strlen(answer);
	}
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: null_socketmap PATH [ANSWER]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = server_listen(argv[1]);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || epfd < 0) {
		fprintf(stderr, "null_socketmap: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ev.data.fd = lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(epfd, events, EVENTS_MAX, -1);
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == lfd)
				server_accept(epfd, lfd);
			else
				client_on_event(epfd, events[i].data.fd, events[i].events);
		}
	}
}

static int server_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 256) < 0)
		return -1;
	return fd;
}

static void server_accept(int epfd, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if ((size_t)fd >= n_clients) {
			size_t n = (size_t)fd + 64;

			clients = xreallocarray(clients, n, sizeof(*clients));
			memset(clients + n_clients, 0, (n - n_clients) * sizeof(*clients));
			n_clients = n;
		}
		clients[fd].used = true;
		netstring_in_init(&clients[fd].in, NETSTRING_QUERY_MAX);
		netstring_out_init(&clients[fd].out, NETSTRING_REPLY_MAX, 0);
		ev.data.fd = fd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void client_on_event(int epfd, int fd, uint32_t events)
{
	struct client *c = &clients[fd];
	size_t room;
	char *p;
	ssize_t n;

	if (events & (EPOLLERR | EPOLLHUP)) {
		client_close(epfd, fd);
		return;
	}
	if (events & EPOLLIN) {
		p = netstring_in_space(&c->in, &room);
		n = room > 0 ? read(fd, p, room) : 0;
		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			client_close(epfd, fd);
			return;
		}
		if (n > 0)
			netstring_in_commit(&c->in, (size_t)n);
		if (client_answer(fd, c) < 0) {
			client_close(epfd, fd);
			return;
		}
	}
	if (client_flush(epfd, fd, c) < 0)
		client_close(epfd, fd);
}

static int client_answer(int fd, struct client *c)
{
	const char *why = NULL;
	char *payload;
	size_t len;
	enum netstring_status status;

	(void)fd;
	while ((status = netstring_in_next(&c->in, &payload, &len, &why)) == NETSTRING_OK) {
		if (netstring_out_put(&c->out, answer, answer_len) < 0)
			return -1;
	}
	return status == NETSTRING_ERROR ? -1 : 0;
}

static int client_flush(int epfd, int fd, struct client *c)
{
	struct epoll_event ev = { .data.fd = fd };
	const char *data;
	size_t len;
	ssize_t n;

	data = netstring_out_pending(&c->out, &len);
	while (len > 0) {
		n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -1;
		netstring_out_consume(&c->out, (size_t)n);
		data = netstring_out_pending(&c->out, &len);
	}
	if (c->writing == (len > 0))
		return 0;
	c->writing = len > 0;
	ev.events = c->writing ? EPOLLOUT : EPOLLIN;
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	return 0;
}

static void client_close(int epfd, int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	netstring_in_release(&clients[fd].in);
	netstring_out_release(&clients[fd].out);
	clients[fd].used = false;
	clients[fd].writing = false;
}
