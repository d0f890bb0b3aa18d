/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_evloop.c - the event loop: timers, fd watches, posted tasks, hooks,
 * stop, and the loop thread's log lines written once per iteration
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mxpath/base/common.h"
#include "mxpath/runtime/evloop.h"

struct record {
	struct evloop *loop;
	int order[16];
	int n;
	int stop_after;		/* evloop_stop() once n reaches this */
};

struct tagged {
	struct record *rec;
	int tag;
};

static void record_tag(void *arg)
{
	struct tagged *t = arg;

	t->rec->order[t->rec->n++] = t->tag;
	if (t->rec->n == t->rec->stop_after)
		evloop_stop(t->rec->loop);
}

static void stop_loop(void *arg)
{
	evloop_stop(arg);
}

static void test_timers_fire_by_deadline_then_by_creation(void **state)
{
	struct record rec = { .stop_after = 4 };
	struct tagged t[4];
	int delays[4] = { 30, 10, 20, 10 };

	(void)state;
	rec.loop = evloop_new();
	for (int i = 0; i < 4; i++) {
		t[i] = (struct tagged){ &rec, i };
		evloop_timer_add(rec.loop, (uint64_t)delays[i], record_tag, &t[i]);
	}
	assert_int_equal(evloop_run(rec.loop), 0);
	assert_int_equal(rec.n, 4);
	assert_int_equal(rec.order[0], 1);
	assert_int_equal(rec.order[1], 3);
	assert_int_equal(rec.order[2], 2);
	assert_int_equal(rec.order[3], 0);
	evloop_free(&rec.loop);
	assert_null(rec.loop);
}

static void test_timer_waits_at_least_its_delay(void **state)
{
	struct evloop *loop = evloop_new();
	uint64_t start = clock_now_ms();

	(void)state;
	evloop_timer_add(loop, 50, stop_loop, loop);
	evloop_run(loop);
	assert_true(clock_now_ms() - start >= 50);
	assert_true(evloop_now_ms(loop) - start >= 50);
	evloop_free(&loop);
}

static void test_cancelled_timer_never_fires(void **state)
{
	struct record rec = { .stop_after = 1 };
	struct tagged cancelled = { &rec, 1 }, kept = { &rec, 2 };
	struct evtimer *timer;

	(void)state;
	rec.loop = evloop_new();
	timer = evloop_timer_add(rec.loop, 5, record_tag, &cancelled);
	evloop_timer_add(rec.loop, 20, record_tag, &kept);
	evloop_timer_cancel(rec.loop, &timer);
	assert_null(timer);
	evloop_timer_cancel(rec.loop, &timer);	/* NULL: a no-op */
	evloop_run(rec.loop);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.order[0], 2);
	evloop_free(&rec.loop);
}

struct rearm {
	struct evloop *loop;
	int fired;
	int pipe_seen;
	int write_fd;
};

static void rearm_forever(void *arg)
{
	struct rearm *r = arg;

	/* The first firing makes the pipe readable; a loop that kept running
	 * zero-delay timers would never look at it. */
	if (r->fired++ == 0)
		assert_int_equal(write(r->write_fd, "x", 1), 1);
	if (!r->pipe_seen)
		evloop_timer_add(r->loop, 0, rearm_forever, r);
}

static void pipe_readable_stops(int fd, unsigned events, void *arg)
{
	struct rearm *r = arg;

	(void)fd;
	(void)events;
	r->pipe_seen = 1;
	evloop_stop(r->loop);
}

static void test_zero_delay_rearm_does_not_starve_fds(void **state)
{
	struct rearm r = { 0 };
	int p[2];

	(void)state;
	r.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	r.write_fd = p[1];
	evloop_watch(r.loop, p[0], EV_READ, pipe_readable_stops, &r);
	evloop_timer_add(r.loop, 0, rearm_forever, &r);
	evloop_run(r.loop);
	assert_true(r.pipe_seen);
	assert_true(r.fired >= 1 && r.fired <= 2);
	evloop_free(&r.loop);
	close(p[0]);
	close(p[1]);
}

struct fdcount {
	struct evloop *loop;
	int calls;
	unsigned last_events;
	int other_fd;		/* unwatched by the first callback */
};

/* Consumes one byte (unwatches at EOF) and stops the loop 20 ms later. */
static void count_and_stop(int fd, unsigned events, void *arg)
{
	struct fdcount *c = arg;
	char byte;

	c->calls++;
	c->last_events = events;
	if (read(fd, &byte, 1) <= 0)
		evloop_unwatch(c->loop, fd);
	if (c->other_fd >= 0)
		evloop_unwatch(c->loop, c->other_fd);
	if (c->calls == 1)
		evloop_timer_add(c->loop, 20, stop_loop, c->loop);
}

static void test_readable_fd_reports_read(void **state)
{
	struct fdcount c = { .other_fd = -1 };
	int p[2];

	(void)state;
	c.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_watch(c.loop, p[0], EV_READ, count_and_stop, &c), 0);
	evloop_timer_add(c.loop, 200, stop_loop, c.loop);
	evloop_run(c.loop);
	assert_true(c.calls >= 1);
	assert_true(c.last_events & EV_READ);
	evloop_free(&c.loop);
	close(p[0]);
	close(p[1]);
}

static void test_paused_and_unwatched_fds_stay_quiet(void **state)
{
	struct fdcount c = { .other_fd = -1 };
	int p[2];

	(void)state;
	c.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_watch(c.loop, p[0], EV_READ, count_and_stop, &c), 0);
	assert_int_equal(evloop_watch(c.loop, p[0], 0, count_and_stop, &c), 0);
	evloop_timer_add(c.loop, 30, stop_loop, c.loop);
	evloop_run(c.loop);
	assert_int_equal(c.calls, 0);

	evloop_watch(c.loop, p[0], EV_READ, count_and_stop, &c);
	evloop_unwatch(c.loop, p[0]);
	evloop_timer_add(c.loop, 30, stop_loop, c.loop);
	evloop_run(c.loop);
	assert_int_equal(c.calls, 0);
	evloop_free(&c.loop);
	close(p[0]);
	close(p[1]);
}

static void test_fd_unwatched_by_earlier_callback_gets_no_event(void **state)
{
	struct fdcount a = { .other_fd = -1 }, b = { .other_fd = -1 };
	int p[2], q[2];

	(void)state;
	a.loop = b.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "x", 1), 1);
	/* Whichever callback runs first unwatches the other fd. */
	a.other_fd = q[0];
	b.other_fd = p[0];
	evloop_watch(a.loop, p[0], EV_READ, count_and_stop, &a);
	evloop_watch(a.loop, q[0], EV_READ, count_and_stop, &b);
	evloop_run(a.loop);
	assert_int_equal(a.calls + b.calls, 1);
	evloop_free(&a.loop);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_fd_closed_without_unwatch_can_be_watched_again(void **state)
{
	struct fdcount c = { .other_fd = -1 };
	int p[2], q[2];

	(void)state;
	c.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_watch(c.loop, p[0], EV_READ, count_and_stop, &c), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(pipe(q), 0);	/* lowest free numbers: p's again */
	assert_int_equal(q[0], p[0]);
	assert_int_equal(evloop_watch(c.loop, q[0], EV_READ, count_and_stop, &c), 0);
	assert_int_equal(write(q[1], "x", 1), 1);
	evloop_timer_add(c.loop, 2000, stop_loop, c.loop);	/* safety net */
	evloop_run(c.loop);
	assert_true(c.calls >= 1);
	assert_true(c.last_events & EV_READ);
	evloop_free(&c.loop);
	close(q[0]);
	close(q[1]);
}

static void test_hangup_reports_error(void **state)
{
	struct fdcount c = { .other_fd = -1 };
	int p[2];

	(void)state;
	c.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	evloop_watch(c.loop, p[0], EV_READ, count_and_stop, &c);
	evloop_run(c.loop);
	assert_true(c.calls >= 1);
	assert_true(c.last_events & EV_ERROR);
	evloop_free(&c.loop);
	close(p[0]);
}

struct poster {
	struct evloop *loop;
	pthread_t loop_thread;
	int ran_on_loop_thread;
	int order[100];
	int n;
};

struct post_item {
	struct poster *p;
	int tag;
};

static void posted_task(void *arg)
{
	struct post_item *item = arg;

	if (pthread_equal(pthread_self(), item->p->loop_thread))
		item->p->ran_on_loop_thread++;
	item->p->order[item->p->n++] = item->tag;
	if (item->p->n == 100)
		evloop_stop(item->p->loop);
}

static void *post_from_thread(void *arg)
{
	struct post_item *items = arg;

	for (int i = 0; i < 100; i++)
		evloop_post(items[0].p->loop, posted_task, &items[i]);
	return NULL;
}

static void test_posts_from_other_thread_run_in_order_on_loop(void **state)
{
	struct poster p = { 0 };
	struct post_item items[100];
	pthread_t thread;

	(void)state;
	p.loop = evloop_new();
	p.loop_thread = pthread_self();
	for (int i = 0; i < 100; i++)
		items[i] = (struct post_item){ &p, i };
	assert_int_equal(pthread_create(&thread, NULL, post_from_thread, items), 0);
	evloop_timer_add(p.loop, 5000, stop_loop, p.loop);	/* safety net */
	evloop_run(p.loop);
	pthread_join(thread, NULL);
	assert_int_equal(p.n, 100);
	assert_int_equal(p.ran_on_loop_thread, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p.order[i], i);
	evloop_free(&p.loop);
}

static void *stop_from_thread(void *arg)
{
	usleep(30000);
	evloop_stop(arg);
	return NULL;
}

static void test_stop_from_other_thread_ends_run(void **state)
{
	struct evloop *loop = evloop_new();
	uint64_t start = clock_now_ms();
	pthread_t thread;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, stop_from_thread, loop), 0);
	assert_int_equal(evloop_run(loop), 0);
	pthread_join(thread, NULL);
	assert_true(clock_now_ms() - start < 2000);
	evloop_free(&loop);
}

static void test_stop_before_run_returns_and_loop_runs_again(void **state)
{
	struct record rec = { .stop_after = 1 };
	struct tagged t = { &rec, 7 };

	(void)state;
	rec.loop = evloop_new();
	evloop_stop(rec.loop);
	assert_int_equal(evloop_run(rec.loop), 0);
	assert_int_equal(rec.n, 0);
	evloop_timer_add(rec.loop, 1, record_tag, &t);
	assert_int_equal(evloop_run(rec.loop), 0);
	assert_int_equal(rec.n, 1);
	evloop_free(&rec.loop);
}

static void test_free_with_pending_timers_and_posts_is_clean(void **state)
{
	struct record rec = { .stop_after = 100 };
	struct tagged t = { &rec, 1 };

	(void)state;
	rec.loop = evloop_new();
	evloop_timer_add(rec.loop, 1000, record_tag, &t);
	evloop_post(rec.loop, record_tag, &t);
	evloop_free(&rec.loop);
	assert_null(rec.loop);
	assert_int_equal(rec.n, 0);
}

/* ---- hooks ---- */

struct hooked {
	struct evloop *loop;
	char order[32];		/* 'E' per fd event, 'H' per hook call, 'T' per timer */
	int n;
	int fds[2];		/* read ends, both readable at once */
	int hook_calls;
	bool remove_self;
};

static void hooked_note(struct hooked *h, char what)
{
	if (h->n < (int)sizeof(h->order) - 1)
		h->order[h->n++] = what;
}

static void hooked_event(int fd, unsigned events, void *arg)
{
	struct hooked *h = arg;
	char byte;

	(void)events;
	assert_int_equal(read(fd, &byte, 1), 1);
	hooked_note(h, 'E');
}

static void hooked_hook(void *arg)
{
	struct hooked *h = arg;

	h->hook_calls++;
	hooked_note(h, 'H');
	if (h->remove_self)
		evloop_hook_remove(h->loop, hooked_hook, h);
	if (strstr(h->order, "EE") != NULL)
		evloop_stop(h->loop);
}

static void hooked_timer_stop(void *arg)
{
	struct hooked *h = arg;

	hooked_note(h, 'T');
	evloop_stop(h->loop);
}

static void test_hook_runs_after_all_events_of_an_iteration(void **state)
{
	struct hooked h = { 0 };
	int p[2], q[2];

	(void)state;
	h.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "x", 1), 1);
	evloop_watch(h.loop, p[0], EV_READ, hooked_event, &h);
	evloop_watch(h.loop, q[0], EV_READ, hooked_event, &h);
	evloop_hook_add(h.loop, hooked_hook, &h);
	evloop_timer_add(h.loop, 2000, stop_loop, h.loop);	/* safety net */
	evloop_run(h.loop);
	/* Once before the first wait, once after both events; and once more
	 * as the loop stops. */
	assert_string_equal(h.order, "HEEHH");
	evloop_free(&h.loop);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_hook_that_removes_itself_runs_no_more(void **state)
{
	struct hooked h = { .remove_self = true };

	(void)state;
	h.loop = evloop_new();
	evloop_hook_add(h.loop, hooked_hook, &h);
	evloop_timer_add(h.loop, 5, stop_loop, h.loop);
	evloop_run(h.loop);
	assert_int_equal(h.hook_calls, 1);
	evloop_free(&h.loop);
}

static void test_removed_hook_stays_quiet_and_others_run(void **state)
{
	struct hooked kept = { 0 }, removed = { 0 };

	(void)state;
	kept.loop = removed.loop = evloop_new();
	evloop_hook_add(kept.loop, hooked_hook, &removed);
	evloop_hook_add(kept.loop, hooked_hook, &kept);
	evloop_hook_remove(kept.loop, hooked_hook, &removed);
	evloop_timer_add(kept.loop, 5, stop_loop, kept.loop);
	evloop_run(kept.loop);
	assert_int_equal(removed.hook_calls, 0);
	assert_true(kept.hook_calls >= 2);
	evloop_free(&kept.loop);
}

static void test_hook_runs_after_the_callback_that_stops_the_loop(void **state)
{
	struct hooked h = { 0 };

	(void)state;
	h.loop = evloop_new();
	evloop_hook_add(h.loop, hooked_hook, &h);
	evloop_timer_add(h.loop, 5, hooked_timer_stop, &h);
	evloop_run(h.loop);
	assert_non_null(strstr(h.order, "TH"));
	assert_int_equal(h.order[h.n - 1], 'H');
	evloop_free(&h.loop);
}

/* ---- the loop thread's log lines ---- */

struct logged {
	struct evloop *loop;
	int sink;		/* what stderr writes to (SOCK_SEQPACKET: a record per write) */
	char seen[4096];	/* the first record the next iteration found */
	ssize_t seen_len;
	int records;
};

static void logged_event(int fd, unsigned events, void *arg)
{
	char byte;

	(void)arg;
	(void)events;
	assert_int_equal(read(fd, &byte, 1), 1);
	log_info("event on fd %d", fd);
}

/* The next iteration: what the last one logged must be out already. */
static void logged_check(void *arg)
{
	struct logged *l = arg;
	char more[4096];

	l->seen_len = recv(l->sink, l->seen, sizeof(l->seen) - 1, MSG_DONTWAIT);
	if (l->seen_len > 0) {
		l->seen[l->seen_len] = '\0';
		l->records = 1;
		while (recv(l->sink, more, sizeof(more), MSG_DONTWAIT) > 0)
			l->records++;
	}
	evloop_stop(l->loop);
}

static void logged_first_event(int fd, unsigned events, void *arg)
{
	struct logged *l = arg;

	logged_event(fd, events, arg);
	evloop_timer_add(l->loop, 10, logged_check, l);
}

static void test_lines_of_an_iteration_go_out_in_one_write_before_the_wait(void **state)
{
	struct logged l = { 0 };
	int sv[2], saved = dup(STDERR_FILENO), p[2], q[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_true(dup2(sv[1], STDERR_FILENO) >= 0);
	l.sink = sv[0];
	log_open_stderr("test_evloop");
	l.loop = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "x", 1), 1);
	evloop_watch(l.loop, p[0], EV_READ, logged_first_event, &l);
	evloop_watch(l.loop, q[0], EV_READ, logged_event, &l);
	evloop_timer_add(l.loop, 2000, stop_loop, l.loop);	/* safety net */
	evloop_run(l.loop);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_true(l.seen_len > 0);
	assert_int_equal(l.records, 1);
	assert_non_null(strstr(l.seen, "event on fd"));
	assert_non_null(strstr(strstr(l.seen, "event on fd") + 1, "event on fd"));
	evloop_free(&l.loop);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_by_deadline_then_by_creation),
		cmocka_unit_test(test_timer_waits_at_least_its_delay),
		cmocka_unit_test(test_cancelled_timer_never_fires),
		cmocka_unit_test(test_zero_delay_rearm_does_not_starve_fds),
		cmocka_unit_test(test_readable_fd_reports_read),
		cmocka_unit_test(test_paused_and_unwatched_fds_stay_quiet),
		cmocka_unit_test(test_fd_unwatched_by_earlier_callback_gets_no_event),
		cmocka_unit_test(test_fd_closed_without_unwatch_can_be_watched_again),
		cmocka_unit_test(test_hangup_reports_error),
		cmocka_unit_test(test_posts_from_other_thread_run_in_order_on_loop),
		cmocka_unit_test(test_stop_from_other_thread_ends_run),
		cmocka_unit_test(test_stop_before_run_returns_and_loop_runs_again),
		cmocka_unit_test(test_free_with_pending_timers_and_posts_is_clean),
		cmocka_unit_test(test_hook_runs_after_all_events_of_an_iteration),
		cmocka_unit_test(test_hook_that_removes_itself_runs_no_more),
		cmocka_unit_test(test_removed_hook_stays_quiet_and_others_run),
		cmocka_unit_test(test_hook_runs_after_the_callback_that_stops_the_loop),
		cmocka_unit_test(test_lines_of_an_iteration_go_out_in_one_write_before_the_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
