/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_control.c - the control socket: a real loop and router answering a
 * client, and the client's limits against servers that misbehave
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxpath/config/config.h"
#include "mxpath/doors/control.h"
#include "mxpath/runtime/daemon.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/runtime/listen.h"
#include "mxpath/dns/router.h"

struct fixture {
	char dir[64];
	char spec[128];
	struct door_socket socket;
	int listen_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/mxpath-test-control.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->spec, sizeof(f->spec), "unix:%s/control.sock", f->dir);
	f->socket.spec = f->spec;
	f->socket.mode = 0600;
	f->listen_fd = listen_open(&f->socket, "control.socket", err, sizeof(err));
	if (f->listen_fd < 0) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->listen_fd);
	listen_cleanup(&f->socket);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Fetches into memory; returns control_fetch_stats()'s status. */
static int fetch(const char *spec, char **text, char *err, size_t errlen)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);
	int rc;

	assert_non_null(out);
	rc = control_fetch_stats(spec, out, err, errlen);
	fclose(out);
	return rc;
}

/* ---- the server, on a real loop with a real router ---- */

struct client_run {
	const char *spec;
	struct evloop *loop;
	char *text;
	int rc;
	char err[256];
};

static void *client_thread(void *arg)
{
	struct client_run *run = arg;

	run->rc = fetch(run->spec, &run->text, run->err, sizeof(run->err));
	evloop_stop(run->loop);
	return NULL;
}

static void test_a_client_gets_the_counters_as_prometheus_text(void **state)
{
	struct fixture *f = *state;
	struct policy *policy = config_defaults();
	struct client_run run = { .spec = f->spec };
	struct control *control;
	struct router *router;
	pthread_t thread;
	char err[256];

	run.loop = evloop_new();
	router = router_new(run.loop, policy, err, sizeof(err));
	assert_non_null(router);
	daemon_stats_reloaded(false);
	control = control_new(run.loop, f->listen_fd, router, NULL);
	assert_non_null(control);
	assert_int_equal(pthread_create(&thread, NULL, client_thread, &run), 0);
	assert_int_equal(evloop_run(run.loop), 0);
	pthread_join(thread, NULL);

	assert_int_equal(run.rc, 0);
	assert_non_null(strstr(run.text, "# HELP mxpath_decisions_total "));
	assert_non_null(strstr(run.text, "# TYPE mxpath_decisions_total counter\n"
					 "mxpath_decisions_total 0\n"));
	assert_non_null(strstr(run.text, "# TYPE mxpath_cache_entries gauge\n"));
	assert_non_null(strstr(run.text, "mxpath_reloads_total{result=\"refused\"} 1\n"));
	assert_non_null(strstr(run.text, "mxpath_connections_total{door=\"control\"} 1\n"));
	/* No socketmap door, no milter door: none of their series. */
	assert_null(strstr(run.text, "mxpath_lookups_total"));
	assert_null(strstr(run.text, "mxpath_milter_"));
	assert_null(strstr(run.text, "door=\"socketmap\""));
	assert_int_equal(run.text[strlen(run.text) - 1], '\n');

	free(run.text);
	control_free(&control);
	assert_null(control);
	router_free(&router);
	evloop_free(&run.loop);
	policy_unref(&policy);
}

/* ---- the client against fake servers ---- */

struct fake_server {
	int listen_fd;
	size_t bytes;		/* how much to send before closing */
};

static void *fake_server_thread(void *arg)
{
	struct fake_server *srv = arg;
	char block[4096];
	size_t sent = 0;
	int fd;

	memset(block, '#', sizeof(block));
	do
		fd = accept(srv->listen_fd, NULL, NULL);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	if (fd < 0)
		return NULL;
	while (sent < srv->bytes) {
		size_t n = srv->bytes - sent < sizeof(block) ? srv->bytes - sent : sizeof(block);
		ssize_t w = send(fd, block, n, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(fd);
	return NULL;
}

static void test_client_copies_the_whole_answer(void **state)
{
	struct fixture *f = *state;
	struct fake_server srv = { .listen_fd = f->listen_fd, .bytes = 200000 };
	pthread_t thread;
	char err[256], *text = NULL;

	assert_int_equal(pthread_create(&thread, NULL, fake_server_thread, &srv), 0);
	assert_int_equal(fetch(f->spec, &text, err, sizeof(err)), 0);
	pthread_join(thread, NULL);
	assert_int_equal(strlen(text), 200000);
	free(text);
}

static void test_client_refuses_an_endless_answer(void **state)
{
	struct fixture *f = *state;
	struct fake_server srv = { .listen_fd = f->listen_fd, .bytes = 3 * 1024 * 1024 };
	pthread_t thread;
	char err[256], *text = NULL;

	assert_int_equal(pthread_create(&thread, NULL, fake_server_thread, &srv), 0);
	assert_int_equal(fetch(f->spec, &text, err, sizeof(err)), -1);
	pthread_join(thread, NULL);
	assert_non_null(strstr(err, "answer longer than"));
	free(text);
}

static void test_client_without_a_daemon_names_the_socket(void **state)
{
	struct fixture *f = *state;
	char spec[160], err[256], *text = NULL;

	snprintf(spec, sizeof(spec), "unix:%s/nobody-here.sock", f->dir);
	assert_int_equal(fetch(spec, &text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nobody-here.sock"));
	free(text);
	assert_int_equal(fetch(NULL, &text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control.socket"));
	free(text);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_a_client_gets_the_counters_as_prometheus_text),
		T(test_client_copies_the_whole_answer),
		T(test_client_refuses_an_endless_answer),
		T(test_client_without_a_daemon_names_the_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
