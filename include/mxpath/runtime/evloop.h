/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop.h - the event loop that owns DNS, the cache and the socketmap
 *
 * One thread runs the loop (epoll). File descriptors and timers are
 * watched from that thread only; other threads (milter sessions) hand
 * work to it with evloop_post(), which is the only thread-safe call
 * besides evloop_stop().
 */
#ifndef MXPATH_EVLOOP_H
#define MXPATH_EVLOOP_H

#include <stdint.h>
#include <time.h>

struct evloop;
struct evtimer;

#define EV_READ 0x1u
#define EV_WRITE 0x2u
#define EV_ERROR 0x4u	/* reported, never requested */

typedef void (*evloop_fd_fn)(int fd, unsigned events, void *arg);
typedef void (*evloop_timer_fn)(void *arg);
typedef void (*evloop_task_fn)(void *arg);
typedef void (*evloop_hook_fn)(void *arg);

struct evloop *evloop_new(void);
void evloop_free(struct evloop **loop);

/* Adds or changes the watch on fd; events is EV_READ|EV_WRITE (0 pauses it). */
int evloop_watch(struct evloop *loop, int fd, unsigned events, evloop_fd_fn fn, void *arg);
void evloop_unwatch(struct evloop *loop, int fd);

/* One-shot timer; returns a handle valid until it fires or is cancelled. */
struct evtimer *evloop_timer_add(struct evloop *loop, uint64_t delay_ms, evloop_timer_fn fn,
				 void *arg);
void evloop_timer_cancel(struct evloop *loop, struct evtimer **timer);

/*
 * fn(arg) runs on every iteration, after its events, timers and tasks, just
 * before the loop writes out its log lines and waits (and once more when
 * it stops): for work that several events queue, like replies sent in one
 * go. Loop thread only. A hook may add hooks (they run from the next
 * iteration) and remove hooks (they run no more).
 */
void evloop_hook_add(struct evloop *loop, evloop_hook_fn fn, void *arg);
void evloop_hook_remove(struct evloop *loop, evloop_hook_fn fn, void *arg);

/* Thread-safe: runs fn(arg) on the loop thread soon. */
void evloop_post(struct evloop *loop, evloop_task_fn fn, void *arg);

/* Runs until evloop_stop(); 0, or -1 on an epoll failure (logged). Meanwhile
 * the calling thread's log lines are held back and written once per
 * iteration, after the hooks, before the loop waits (log_buffer_begin()). */
int evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);	/* thread-safe */

/* Monotonic milliseconds, cached per loop iteration. */
uint64_t evloop_now_ms(struct evloop *loop);
/* Monotonic milliseconds, read now. */
uint64_t clock_now_ms(void);
/* CLOCK's time MS milliseconds from now: a deadline for the *timed* waits. */
struct timespec clock_after_ms(clockid_t clock, uint64_t ms);

#endif
