/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop.c - the event loop: epoll watches, one-shot timers, posted tasks
 *
 * One thread calls evloop_run(); every watch and timer belongs to it.
 * Other threads hand work over with evloop_post(), which queues the task
 * under a mutex and wakes the loop through an eventfd; evloop_stop() uses
 * the same wake-up. Timers live in a binary min-heap ordered by deadline,
 * then by creation order, so timers due at the same millisecond fire in
 * the order they were added. The clock is read once per iteration.
 *
 * Each iteration ends with the hooks (work queued by several events, done
 * once), then the loop thread's log lines, held back while it runs, go
 * out with one write() (log_buffer_begin() in common.h): a wakeup that
 * answers N requests logs them in one system call.
 *
 * Not here: anything that knows about DNS, sockets' contents or policy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/runtime/evloop.h"

#define EVLOOP_BATCH 256	/* epoll events taken per wait */

struct evwatch {
	evloop_fd_fn fn;
	void *arg;
	unsigned events;
	uint32_t generation;	/* tells a stale epoll event from a new watch */
	bool active;
};

struct evtimer {
	uint64_t deadline;
	uint64_t seq;
	size_t index;		/* position in the heap */
	evloop_timer_fn fn;
	void *arg;
};

struct evtask {
	evloop_task_fn fn;
	void *arg;
};

struct task_queue {
	struct evtask *tasks;
	size_t n, cap;
};

struct evhook {
	evloop_hook_fn fn;	/* NULL: removed, compacted after the run */
	void *arg;
};

struct evloop {
	int epfd;
	int wakefd;
	uint64_t now_ms;

	struct evwatch *watches;	/* indexed by fd */
	size_t n_watches;
	uint32_t next_generation;

	struct evtimer **heap;
	size_t n_timers, cap_timers;
	uint64_t next_seq;

	struct evhook *hooks;
	size_t n_hooks, cap_hooks;
	bool hooks_running;

	pthread_mutex_t lock;		/* guards posted and wake_pending */
	struct task_queue posted;	/* filled by any thread */
	struct task_queue running;	/* drained by the loop, swapped with posted */
	bool wake_pending;
	atomic_bool stop;
	bool in_run;			/* inside evloop_run: now_ms is fresh */
};

static void loop_wake(struct evloop *loop);
static void loop_drain_wakefd(struct evloop *loop);
static int loop_timeout_ms(const struct evloop *loop);
static void loop_dispatch_fd(struct evloop *loop, const struct epoll_event *ev);
static void loop_run_timers(struct evloop *loop);
static void loop_run_tasks(struct evloop *loop);
static void loop_run_hooks(struct evloop *loop);
static void hooks_compact(struct evloop *loop);
static int watch_grow(struct evloop *loop, int fd);
static uint32_t events_to_epoll(unsigned events);
static unsigned events_from_epoll(uint32_t events);
static bool timer_before(const struct evtimer *a, const struct evtimer *b);
static void heap_swap(struct evloop *loop, size_t i, size_t j);
static void heap_sift_up(struct evloop *loop, size_t i);
static void heap_sift_down(struct evloop *loop, size_t i);
static void heap_remove(struct evloop *loop, size_t i);

uint64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timespec clock_after_ms(clockid_t clock, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

struct evloop *evloop_new(void)
{
	struct evloop *loop = xcalloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || loop->wakefd < 0)
		fatal("event loop: %s", strerror(errno));
	/* The wake-up fd is told apart from watched fds by data.u64 = UINT64_MAX. */
	ev.data.u64 = UINT64_MAX;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0)
		fatal("event loop: epoll_ctl: %s", strerror(errno));
	pthread_mutex_init(&loop->lock, NULL);
	atomic_init(&loop->stop, false);
	loop->now_ms = clock_now_ms();
	return loop;
}

/* Timers and posted tasks still pending are dropped, not run. */
void evloop_free(struct evloop **loopp)
{
	struct evloop *loop = *loopp;

	if (loop == NULL)
		return;
	for (size_t i = 0; i < loop->n_timers; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->hooks);
	free(loop->watches);
	free(loop->posted.tasks);
	free(loop->running.tasks);
	pthread_mutex_destroy(&loop->lock);
	close(loop->epfd);
	close(loop->wakefd);
	free(loop);
	*loopp = NULL;
}

/* ---- file descriptors ---- */

static int watch_grow(struct evloop *loop, int fd)
{
	size_t n;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd < loop->n_watches)
		return 0;
	n = loop->n_watches ? loop->n_watches : 64;
	while (n <= (size_t)fd)
		n *= 2;
	loop->watches = xreallocarray(loop->watches, n, sizeof(*loop->watches));
	memset(loop->watches + loop->n_watches, 0,
	       (n - loop->n_watches) * sizeof(*loop->watches));
	loop->n_watches = n;
	return 0;
}

static uint32_t events_to_epoll(unsigned events)
{
	return ((events & EV_READ) ? (uint32_t)EPOLLIN : 0u) |
	       ((events & EV_WRITE) ? (uint32_t)EPOLLOUT : 0u);
}

static unsigned events_from_epoll(uint32_t events)
{
	unsigned out = 0;

	if (events & EPOLLIN)
		out |= EV_READ;
	if (events & EPOLLOUT)
		out |= EV_WRITE;
	if (events & (EPOLLERR | EPOLLHUP))
		out |= EV_ERROR;
	return out;
}

int evloop_watch(struct evloop *loop, int fd, unsigned events, evloop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { 0 };
	struct evwatch *w;
	int op;

	if (watch_grow(loop, fd) < 0)
		return -1;
	w = &loop->watches[fd];
	op = w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (!w->active)
		w->generation = ++loop->next_generation;
	ev.events = events_to_epoll(events);
	ev.data.u64 = (uint64_t)w->generation << 32 | (uint32_t)fd;
	/* ENOENT: the fd was closed (and reused) without an unwatch; the
	 * kernel forgot it, so this is a new watch. */
	if (epoll_ctl(loop->epfd, op, fd, &ev) < 0 &&
	    (op != EPOLL_CTL_MOD || errno != ENOENT ||
	     epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
		return -1;
	w->fn = fn;
	w->arg = arg;
	w->events = events;
	w->active = true;
	return 0;
}

void evloop_unwatch(struct evloop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->n_watches || !loop->watches[fd].active)
		return;
	/* Fails harmlessly (EBADF) if the caller closed fd first: the kernel
	 * dropped it from the epoll set already. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->watches[fd].active = false;
	loop->watches[fd].fn = NULL;
	loop->watches[fd].arg = NULL;
}

static void loop_dispatch_fd(struct evloop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t generation = (uint32_t)(ev->data.u64 >> 32);
	struct evwatch *w;
	unsigned events;

	if ((size_t)fd >= loop->n_watches)
		return;
	w = &loop->watches[fd];
	/* Unwatched (or unwatched and watched anew) by an earlier callback
	 * of this same batch: the event belongs to the old watch. */
	if (!w->active || w->generation != generation)
		return;
	events = events_from_epoll(ev->events);
	events &= w->events | EV_ERROR;
	if (events != 0)
		w->fn(fd, events, w->arg);
}

/* ---- timers ---- */

static bool timer_before(const struct evtimer *a, const struct evtimer *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

static void heap_swap(struct evloop *loop, size_t i, size_t j)
{
	struct evtimer *t = loop->heap[i];

	loop->heap[i] = loop->heap[j];
	loop->heap[j] = t;
	loop->heap[i]->index = i;
	loop->heap[j]->index = j;
}

static void heap_sift_up(struct evloop *loop, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(loop->heap[i], loop->heap[parent]))
			break;
		heap_swap(loop, i, parent);
		i = parent;
	}
}

static void heap_sift_down(struct evloop *loop, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, best = i;

		if (left < loop->n_timers && timer_before(loop->heap[left], loop->heap[best]))
			best = left;
		if (right < loop->n_timers && timer_before(loop->heap[right], loop->heap[best]))
			best = right;
		if (best == i)
			return;
		heap_swap(loop, i, best);
		i = best;
	}
}

static void heap_remove(struct evloop *loop, size_t i)
{
	size_t last = --loop->n_timers;

	if (i != last) {
		heap_swap(loop, i, last);
		heap_sift_down(loop, i);
		heap_sift_up(loop, i);
	}
	loop->heap[last] = NULL;
}

struct evtimer *evloop_timer_add(struct evloop *loop, uint64_t delay_ms, evloop_timer_fn fn,
				 void *arg)
{
	struct evtimer *t = xmalloc(sizeof(*t));

	if (loop->n_timers == loop->cap_timers) {
		loop->cap_timers = loop->cap_timers ? 2 * loop->cap_timers : 16;
		loop->heap = xreallocarray(loop->heap, loop->cap_timers, sizeof(struct evtimer *));
	}
	t->deadline = evloop_now_ms(loop) + delay_ms;
	t->seq = loop->next_seq++;
	t->fn = fn;
	t->arg = arg;
	t->index = loop->n_timers;
	loop->heap[loop->n_timers++] = t;
	heap_sift_up(loop, t->index);
	return t;
}

void evloop_timer_cancel(struct evloop *loop, struct evtimer **timer)
{
	if (*timer == NULL)
		return;
	heap_remove(loop, (*timer)->index);
	free(*timer);
	*timer = NULL;
}

/*
 * Fires the timers that were due when this phase began. A timer added by a
 * callback with delay 0 waits for the next iteration, so a callback that
 * re-arms itself cannot starve the file descriptors.
 */
static void loop_run_timers(struct evloop *loop)
{
	uint64_t seq_limit = loop->next_seq;

	while (loop->n_timers > 0 && !atomic_load(&loop->stop)) {
		struct evtimer *t = loop->heap[0];
		evloop_timer_fn fn;
		void *arg;

		if (t->deadline > loop->now_ms || t->seq >= seq_limit)
			return;
		fn = t->fn;
		arg = t->arg;
		heap_remove(loop, 0);
		free(t);
		fn(arg);
	}
}

static int loop_timeout_ms(const struct evloop *loop)
{
	uint64_t deadline;

	if (loop->n_timers == 0)
		return -1;
	deadline = loop->heap[0]->deadline;
	if (deadline <= loop->now_ms)
		return 0;
	if (deadline - loop->now_ms > (uint64_t)INT32_MAX)
		return INT32_MAX;
	return (int)(deadline - loop->now_ms);
}

/* ---- posted tasks ---- */

static void loop_wake(struct evloop *loop)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fatal("event loop: eventfd write: %s", strerror(errno));
}

static void loop_drain_wakefd(struct evloop *loop)
{
	uint64_t count;

	if (read(loop->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		fatal("event loop: eventfd read: %s", strerror(errno));
}

void evloop_post(struct evloop *loop, evloop_task_fn fn, void *arg)
{
	struct task_queue *q = &loop->posted;
	bool must_wake;

	pthread_mutex_lock(&loop->lock);
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 64;
		q->tasks = xreallocarray(q->tasks, q->cap, sizeof(*q->tasks));
	}
	q->tasks[q->n].fn = fn;
	q->tasks[q->n].arg = arg;
	q->n++;
	must_wake = !loop->wake_pending;
	loop->wake_pending = true;
	pthread_mutex_unlock(&loop->lock);
	if (must_wake)
		loop_wake(loop);
}

/*
 * Swaps the posted queue for the (empty) running one under the lock, then
 * runs the tasks without it: tasks may post more, which run next time.
 * The two arrays are reused, so a steady flow of posts does not allocate.
 */
static void loop_run_tasks(struct evloop *loop)
{
	struct task_queue q;

	pthread_mutex_lock(&loop->lock);
	q = loop->posted;
	loop->posted = loop->running;
	loop->running.tasks = NULL;
	loop->running.n = loop->running.cap = 0;
	loop->wake_pending = false;
	pthread_mutex_unlock(&loop->lock);

	for (size_t i = 0; i < q.n; i++)
		q.tasks[i].fn(q.tasks[i].arg);
	q.n = 0;
	/* Hand the array back for the next swap (the loop thread owns running). */
	loop->running = q;
}

/* ---- hooks ---- */

void evloop_hook_add(struct evloop *loop, evloop_hook_fn fn, void *arg)
{
	if (loop->n_hooks == loop->cap_hooks) {
		loop->cap_hooks = loop->cap_hooks ? 2 * loop->cap_hooks : 4;
		loop->hooks = xreallocarray(loop->hooks, loop->cap_hooks, sizeof(*loop->hooks));
	}
	loop->hooks[loop->n_hooks].fn = fn;
	loop->hooks[loop->n_hooks].arg = arg;
	loop->n_hooks++;
}

/* Removes the first hook added with fn and arg. */
void evloop_hook_remove(struct evloop *loop, evloop_hook_fn fn, void *arg)
{
	for (size_t i = 0; i < loop->n_hooks; i++) {
		if (loop->hooks[i].fn == fn && loop->hooks[i].arg == arg) {
			loop->hooks[i].fn = NULL;
			break;
		}
	}
	if (!loop->hooks_running)
		hooks_compact(loop);
}

static void hooks_compact(struct evloop *loop)
{
	size_t kept = 0;

	for (size_t i = 0; i < loop->n_hooks; i++)
		if (loop->hooks[i].fn != NULL)
			loop->hooks[kept++] = loop->hooks[i];
	loop->n_hooks = kept;
}

/* Hooks added meanwhile wait for the next iteration; removed ones stay
 * quiet. They run even when the loop is stopping: they finish its work. */
static void loop_run_hooks(struct evloop *loop)
{
	size_t n = loop->n_hooks;

	loop->hooks_running = true;
	for (size_t i = 0; i < n; i++)
		if (loop->hooks[i].fn != NULL)
			loop->hooks[i].fn(loop->hooks[i].arg);
	loop->hooks_running = false;
	hooks_compact(loop);
}

/* ---- the loop ---- */

int evloop_run(struct evloop *loop)
{
	struct epoll_event events[EVLOOP_BATCH];
	int rc = 0;

	loop->now_ms = clock_now_ms();
	loop->in_run = true;
	log_buffer_begin();
	/* Tasks posted before the loop started (or by a previous run) go first. */
	loop_run_tasks(loop);
	while (!atomic_load(&loop->stop)) {
		int n;
		bool woken = false;

		loop_run_hooks(loop);
		/* What the iteration logged goes out before we may sleep. */
		log_flush();
		n = epoll_wait(loop->epfd, events, EVLOOP_BATCH, loop_timeout_ms(loop));
		loop->now_ms = clock_now_ms();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_errx("event loop: epoll_wait: %s", strerror(errno));
			rc = -1;
			break;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stop); i++) {
			if (events[i].data.u64 == UINT64_MAX)
				woken = true;
			else
				loop_dispatch_fd(loop, &events[i]);
		}
		loop_run_timers(loop);
		if (woken) {
			loop_drain_wakefd(loop);
			loop_run_tasks(loop);
		}
	}
	loop_run_hooks(loop);
	/* A stop consumed here lets the loop be run again later. */
	atomic_store(&loop->stop, false);
	loop->in_run = false;
	log_buffer_end();
	return rc;
}

void evloop_stop(struct evloop *loop)
{
	atomic_store(&loop->stop, true);
	loop_wake(loop);
}

/* Outside evloop_run() (set-up code) the cached value would be stale. */
uint64_t evloop_now_ms(struct evloop *loop)
{
	if (!loop->in_run)
		loop->now_ms = clock_now_ms();
	return loop->now_ms;
}
