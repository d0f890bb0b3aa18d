/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap_load.c - closed-loop load for a socketmap server, for
 * bench_socketmap.py
 *
 * Opens N connections; each sends one request, waits for the answer,
 * sends the next (as Postfix's trivial-rewrite processes do). One thread
 * and epoll, so the client costs little next to the server it measures.
 * Every answer must begin with "OK "; latencies go into a 1-microsecond
 * histogram. Prints one line of key=value figures.
 *
 *   socketmap_load SOCKET CONNECTIONS SECONDS MAP KEY
 *       SOCKET: "unix:/path" or "inet:PORT@HOST"
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/runtime/listen.h"
#include "mxpath/doors/netstring.h"

#define HISTOGRAM_US 200000	/* latencies above 200 ms share the last bucket */
#define EVENTS_MAX 64
#define WARMUP_NS 300000000ull

struct conn {
	int fd;
	uint64_t sent_ns;
	struct netstring_in in;
};

static char request[1024];
static size_t request_len;
static uint32_t histogram[HISTOGRAM_US + 1];
static uint64_t measured, errors;
static char first_answer[256];

static uint64_t now_ns(void);
static int conn_send(struct conn *c);
static int conn_receive(struct conn *c, uint64_t measure_from);
static uint64_t percentile_us(double p);

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, events[EVENTS_MAX];
	char err[256];
	struct conn *conns;
	unsigned n_conns, i;
	uint64_t start, measure_from, end;
	double seconds;
	int epfd, n, k;

	if (argc != 6 || atoi(argv[2]) <= 0 || atof(argv[3]) <= 0) {
		fprintf(stderr, "usage: socketmap_load SOCKET CONNECTIONS SECONDS MAP KEY\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	n_conns = (unsigned)atoi(argv[2]);
	seconds = atof(argv[3]);
	request_len = (size_t)snprintf(request, sizeof(request), "%zu:%s %s,",
				       strlen(argv[4]) + 1 + strlen(argv[5]), argv[4], argv[5]);
	conns = xcalloc(n_conns, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < n_conns; i++) {
		conns[i].fd = listen_connect(argv[1], err, sizeof(err));
		if (conns[i].fd < 0) {
			fprintf(stderr, "socketmap_load: %s\n", err);
			return 1;
		}
		netstring_in_init(&conns[i].in, NETSTRING_REPLY_MAX);
		ev.data.ptr = &conns[i];
		epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	start = now_ns();
	measure_from = start + WARMUP_NS;
	end = measure_from + (uint64_t)(seconds * 1e9);
	for (i = 0; i < n_conns; i++) {
		if (conn_send(&conns[i]) < 0)
			return 1;
	}
	while (now_ns() < end) {
		n = epoll_wait(epfd, events, EVENTS_MAX, 100);
		for (k = 0; k < n; k++) {
			if (conn_receive(events[k].data.ptr, measure_from) < 0)
				return 1;
		}
	}
	printf("connections=%u lookups=%llu seconds=%.2f rate=%.0f p50_us=%llu p99_us=%llu "
	       "errors=%llu answer=%s\n",
	       n_conns, (unsigned long long)measured, seconds, (double)measured / seconds,
	       (unsigned long long)percentile_us(0.50), (unsigned long long)percentile_us(0.99),
	       (unsigned long long)errors, first_answer);
	for (i = 0; i < n_conns; i++) {
		close(conns[i].fd);
		netstring_in_release(&conns[i].in);
	}
	free(conns);
	close(epfd);
	return errors == 0 ? 0 : 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int conn_send(struct conn *c)
{
	c->sent_ns = now_ns();
	if (send(c->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len) {
		fprintf(stderr, "socketmap_load: send: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int conn_receive(struct conn *c, uint64_t measure_from)
{
	const char *why = NULL;
	char *payload, *p;
	size_t room, len;
	ssize_t n;
	uint64_t now, us;

	p = netstring_in_space(&c->in, &room);
	n = recv(c->fd, p, room, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return 0;
		fprintf(stderr, "socketmap_load: the server closed a connection\n");
		return -1;
	}
	netstring_in_commit(&c->in, (size_t)n);
	switch (netstring_in_next(&c->in, &payload, &len, &why)) {
	case NETSTRING_MORE:
		return 0;
	case NETSTRING_ERROR:
		fprintf(stderr, "socketmap_load: bad answer: %s\n", why);
		return -1;
	case NETSTRING_OK:
		break;
	}
	now = now_ns();
	if (first_answer[0] == '\0')
		snprintf(first_answer, sizeof(first_answer), "%s", payload);
	if (strncmp(payload, "OK ", 3) != 0)
		errors++;
	if (c->sent_ns >= measure_from) {
		us = (now - c->sent_ns) / 1000;
		histogram[us < HISTOGRAM_US ? us : HISTOGRAM_US]++;
		measured++;
	}
	return conn_send(c);
}

static uint64_t percentile_us(double p)
{
	uint64_t want = (uint64_t)((double)measured * p), seen = 0;
	size_t us;

	for (us = 0; us <= HISTOGRAM_US; us++) {
		seen += histogram[us];
		if (seen > want)
			return us;
	}
	return HISTOGRAM_US;
}
