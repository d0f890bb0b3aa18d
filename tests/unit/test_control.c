/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_control.c - the control socket: a real loop and router answering a
 * client (counters, reload through the daemon's hook, a route with each
 * map's reply, bad requests), and the client's limits against servers
 * that misbehave
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
	const char *request;	/* NULL: control_fetch_stats() */
	struct evloop *loop;
	char *text;
	int rc;
	char err[256];
};

static void *client_thread(void *arg)
{
	struct client_run *run = arg;
	size_t len = 0;
	FILE *out;

	if (run->request == NULL) {
		run->rc = fetch(run->spec, &run->text, run->err, sizeof(run->err));
	} else {
		out = open_memstream(&run->text, &len);
		assert_non_null(out);
		run->rc = control_ask(run->spec, run->request, out, 5000, run->err,
				      sizeof(run->err));
		fclose(out);
	}
	evloop_stop(run->loop);
	return NULL;
}

/* The daemon's side of a reload, faked: an older ticket's result first
 * (it must answer nobody), then this one's. */
struct reload_fake {
	struct control *control;
	uint64_t ticket;
};

static void reload_fake_run(void *arg, uint64_t ticket)
{
	struct reload_fake *fake = arg;

	fake->ticket = ticket;
	control_reload_done(fake->control, ticket - 1, "stale\n");
	control_reload_done(fake->control, ticket, "reloaded /etc/x.conf\n");
}

/* One client asks request of a control on a router for policy; the answer. */
static char *ask_once(struct fixture *f, struct policy *policy, const char *request,
		      struct reload_fake *fake)
{
	struct client_run run = { .spec = f->spec, .request = request };
	struct control *control;
	struct router *router;
	pthread_t thread;
	char err[256];

	run.loop = evloop_new();
	router = router_new(run.loop, policy, err, sizeof(err));
	assert_non_null(router);
	control = control_new(run.loop, f->listen_fd, router, NULL);
	assert_non_null(control);
	if (fake != NULL) {
		fake->control = control;
		control_set_hooks(control, &(struct control_hooks){ .reload = reload_fake_run,
								    .arg = fake });
	}
	assert_int_equal(pthread_create(&thread, NULL, client_thread, &run), 0);
	assert_int_equal(evloop_run(run.loop), 0);
	pthread_join(thread, NULL);
	assert_int_equal(run.rc, 0);
	control_free(&control);
	router_free(&router);
	evloop_free(&run.loop);
	return run.text;
}

static void test_a_client_gets_the_counters_as_prometheus_text(void **state)
{
	struct policy *policy = config_defaults();
	char *text;

	daemon_stats_reloaded(false);
	text = ask_once(*state, policy, NULL, NULL);
	assert_non_null(strstr(text, "# HELP mxpath_decisions_total "));
	assert_non_null(strstr(text, "# TYPE mxpath_decisions_total counter\n"
				     "mxpath_decisions_total 0\n"));
	assert_non_null(strstr(text, "# TYPE mxpath_cache_entries gauge\n"));
	assert_non_null(strstr(text, "mxpath_reloads_total{result=\"refused\"} 1\n"));
	assert_non_null(strstr(text, "mxpath_connections_total{door=\"control\"} 1\n"));
	/* No socketmap door, no milter door: none of their series. */
	assert_null(strstr(text, "mxpath_lookups_total"));
	assert_null(strstr(text, "mxpath_milter_"));
	assert_null(strstr(text, "door=\"socketmap\""));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	policy_unref(&policy);
}

static void test_reload_is_answered_by_its_own_ticket(void **state)
{
	struct policy *policy = config_defaults();
	struct reload_fake fake = { 0 };
	char *text = ask_once(*state, policy, "reload", &fake);

	assert_int_equal(fake.ticket, 1);
	assert_string_equal(text, "reloaded /etc/x.conf\n");
	free(text);
	policy_unref(&policy);
}

static void test_reload_without_a_hook_is_an_error(void **state)
{
	struct policy *policy = config_defaults();
	char *text = ask_once(*state, policy, "reload", NULL);

	assert_string_equal(text, "error: this daemon takes no reload requests\n");
	free(text);
	policy_unref(&policy);
}

static void test_route_shows_action_explanation_and_each_map_reply(void **state)
{
	static const char conf[] =
		"routes = ( { domain = \".example.test\";\n"
		"             hosts = ( { host = \"[198.51.100.7]\"; pref = 10; } ); } );\n"
		"self = { names = [ ]; addresses = [ ]; };\n"
		"dns = { servers = [ \"127.0.0.1:1\" ]; };\n";
	struct policy *policy = NULL;
	char err[256], *text;

	assert_int_equal(config_load_string(conf, "test.conf", &policy, NULL, err, sizeof(err)),
			 0);
	text = ask_once(*state, policy, "route u@a.example.test", NULL);
	assert_true(strncmp(text, "relay\nu@a.example.test: relay (rule route", 41) == 0);
	assert_non_null(strstr(text, "\ntransport    u@a.example.test -> OK smtp:[198.51.100.7]\n"));
	assert_non_null(strstr(text, "\nmailertable  a.example.test -> OK esmtp:[198.51.100.7]\n"));
	free(text);
	text = ask_once(*state, policy, "route u@bad..example.test", NULL);
	assert_true(strncmp(text, "reject\n", 7) == 0);
	assert_non_null(strstr(text, "501 5.1.3"));
	free(text);
	policy_unref(&policy);
}

static void test_bad_requests_get_an_error_line(void **state)
{
	struct policy *policy = config_defaults();
	char *text = ask_once(*state, policy, "bogus \x01 request", NULL);

	assert_string_equal(text, "error: unknown request \"bogus ? request\" (stats, reload, "
			    "route ADDRESS, or HTTP GET /metrics)\n");
	free(text);
	text = ask_once(*state, policy, "GET /metrics HTTP/1.0\r\n", NULL);
	/* control_ask() sends one more newline: the blank line that ends it. */
	assert_true(strncmp(text, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4", 56)
		    == 0);
	assert_non_null(strstr(text, "\r\n\r\n# HELP mxpath_build_info "));
	free(text);
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
	/* Take the request first: closing with it unread would reset the connection. */
	if (recv(fd, block, sizeof(block), 0) < 0) {
		close(fd);
		return NULL;
	}
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
		T(test_reload_is_answered_by_its_own_ticket),
		T(test_reload_without_a_hook_is_an_error),
		T(test_route_shows_action_explanation_and_each_map_reply),
		T(test_bad_requests_get_an_error_line),
		T(test_client_copies_the_whole_answer),
		T(test_client_refuses_an_endless_answer),
		T(test_client_without_a_daemon_names_the_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
