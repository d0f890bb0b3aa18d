/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_udpsock.c - a source port per DNS question under c-ares 1.18: many
 * questions in flight leave from as many ports, each gets its answer, and
 * without descriptors to spare they share sockets instead of failing
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/dns/udpsock.h"

#define QUESTIONS 40
#define POLL_MAX 64

/* A DNS server on 127.0.0.1 that answers NXDOMAIN and notes source ports. */
struct server {
	int fd;
	unsigned short port;
	unsigned short sources[QUESTIONS * 2];
	size_t n_sources;
};

static void server_open(struct server *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
}

/* Answers every waiting query: its header with QR and NXDOMAIN, its question. */
static void server_answer(struct server *s)
{
	unsigned char buf[512];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len)) >= 12) {
		buf[2] = 0x81;		/* QR, RD */
		buf[3] = 0x83;		/* RA, NXDOMAIN */
		if (s->n_sources < sizeof(s->sources) / sizeof(s->sources[0]))
			s->sources[s->n_sources++] = ntohs(from.sin_port);
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
		len = sizeof(from);
	}
}

static size_t server_distinct_ports(const struct server *s)
{
	size_t distinct = 0;

	for (size_t i = 0; i < s->n_sources; i++) {
		size_t j = 0;

		while (j < i && s->sources[j] != s->sources[i])
			j++;
		distinct += j == i;
	}
	return distinct;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	int *results = arg;

	(void)timeouts;
	(void)abuf;
	(void)alen;
	*results += status == ARES_ENOTFOUND ? 1 : 1000;
}

/* QUESTIONS names asked at once through a channel with udpsock; the
 * server answers only once all are sent, so all are in flight together. */
static int ask_all(struct server *s, size_t *distinct)
{
	struct ares_options opt = { .flags = ARES_FLAG_NOSEARCH, .timeout = 2000, .tries = 1 };
	struct udpsock *u = udpsock_new(3000);
	ares_channel channel;
	char servers[64], name[64];
	int results = 0;
	time_t end = time(NULL) + 5;

	opt.lookups = (char *)"b";
	if (ares_init_options(&channel, &opt, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
				    ARES_OPT_TRIES | ARES_OPT_LOOKUPS) != ARES_SUCCESS)
		return -1;
	udpsock_attach(u, channel);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", s->port);
	if (ares_set_servers_ports_csv(channel, servers) != ARES_SUCCESS)
		return -1;
	for (int i = 0; i < QUESTIONS; i++) {
		snprintf(name, sizeof(name), "q%d.example.test", i);
		ares_query(channel, name, 1, 15, on_answer, &results);
	}
	while (results < QUESTIONS && time(NULL) < end) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd fds[POLL_MAX];
		nfds_t n = 0;

		server_answer(s);
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++)
			if (ARES_GETSOCK_READABLE(bits, i))
				fds[n++] = (struct pollfd){ .fd = socks[i], .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
		poll(fds, n, 100);
		for (nfds_t i = 0; i + 1 < n; i++)
			ares_process_fd(channel, fds[i].revents ? fds[i].fd : ARES_SOCKET_BAD,
					ARES_SOCKET_BAD);
		ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
	ares_destroy(channel);
	udpsock_free(&u);
	*distinct = server_distinct_ports(s);
	return results;
}

static void test_each_question_in_flight_has_its_own_port(void **state)
{
	struct server s;
	size_t distinct = 0;

	(void)state;
	server_open(&s);
	assert_int_equal(ask_all(&s, &distinct), QUESTIONS);
	assert_int_equal(s.n_sources, QUESTIONS);
	assert_int_equal(distinct, QUESTIONS);
	close(s.fd);
}

/* Descriptors for a handful of sockets only: questions share the newest
 * socket, every one is still answered. In a child: the limit stays there. */
static void test_without_descriptors_questions_share_sockets(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct server s;
		struct rlimit rl;
		size_t distinct = 0;
		int fd, answered;

		server_open(&s);
		fd = dup(0);	/* the lowest free descriptor: what is in use lies below */
		close(fd);
		rl.rlim_cur = rl.rlim_max = (rlim_t)fd + 6;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(2);
		answered = ask_all(&s, &distinct);
		if (answered != QUESTIONS)
			_exit(3);
		if (distinct < 2 || distinct >= QUESTIONS)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_question_in_flight_has_its_own_port),
		cmocka_unit_test(test_without_descriptors_questions_share_sockets),
	};

	ares_library_init(ARES_LIB_INIT_ALL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
