/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_prefetch.c - a hot domain asked steadily across several TTLs
 *
 * A new router (empty cache) on a new event loop decides RECIPIENT RATE
 * times a second (a timer) for SECONDS. A decision "waited" when it was
 * not done before router_decide() returned, that is when it had to ask
 * DNS; with prefetch, only the first (cold) decision, and any started
 * while it was still waiting, should. Prints one line:
 *
 *     prefetch decisions=N waited=W waited_after_first=A relayed=R
 *         dns_queries=Q prefetches=P ms=T
 *
 * waited_after_first counts the decisions that waited among those started
 * after the first one was done. tests/bench/run-bench counts the queries
 * per TTL period in the DNS server's log. Exit status 1 unless every
 * decision relays.
 *
 *   bench_prefetch SERVER[:PORT] RECIPIENT RATE SECONDS
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_live.h"

#define PREFETCH_DNS_TIMEOUT_MS 2000

struct steady {
	struct evloop *loop;
	struct router *router;
	const char *recipient;
	unsigned long want;		/* decisions to start */
	unsigned long started, done, relayed, waited, waited_after_first;
	unsigned interval_ms;
	bool first_done;		/* the cold decision is done */
	struct evtimer *tick;
};

/* One decision, as the router sees it: did it finish before router_decide returned? */
struct asked {
	struct steady *s;
	bool returned;			/* router_decide() has returned */
	bool after_first;		/* started once the cold decision was done */
};

static void prefetch_tick(void *arg);
static void prefetch_on_done(void *arg, const struct route *route);

int main(int argc, char **argv)
{
	struct steady s = { 0 };
	struct router_stats stats;
	unsigned long rate, seconds;
	uint64_t start;

	if (argc < 5 || (rate = strtoul(argv[3], NULL, 10)) == 0 || rate > 1000 ||
	    (seconds = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_prefetch SERVER[:PORT] RECIPIENT RATE SECONDS\n");
		return 2;
	}
	log_open_stderr("bench_prefetch");
	s.loop = evloop_new();
	s.router = bench_live_router(s.loop, argv[1], PREFETCH_DNS_TIMEOUT_MS, "bench_prefetch");
	s.recipient = argv[2];
	s.want = rate * seconds;
	s.interval_ms = (unsigned)(1000 / rate);
	start = clock_now_ms();
	prefetch_tick(&s);
	evloop_run(s.loop);
	router_get_stats(s.router, &stats);
	printf("prefetch decisions=%lu waited=%lu waited_after_first=%lu relayed=%lu "
	       "dns_queries=%llu prefetches=%llu ms=%llu\n",
	       s.done, s.waited, s.waited_after_first, s.relayed,
	       (unsigned long long)stats.dns_queries, (unsigned long long)stats.prefetches,
	       (unsigned long long)(clock_now_ms() - start));
	evloop_timer_cancel(s.loop, &s.tick);
	router_free(&s.router);
	evloop_free(&s.loop);
	return s.relayed == s.want ? 0 : 1;
}

/* Starts one decision and arms the next; the loop stops after the last is done. */
static void prefetch_tick(void *arg)
{
	struct steady *s = arg;
	struct asked *a = calloc(1, sizeof(*a));

	if (a == NULL)
		abort();
	s->tick = NULL;
	a->s = s;
	a->after_first = s->first_done;
	s->started++;
	router_decide(s->router, s->recipient, NULL, prefetch_on_done, a);
	if (a->returned)
		free(a);	/* done inside router_decide */
	else
		a->returned = true;
	if (s->started < s->want)
		s->tick = evloop_timer_add(s->loop, s->interval_ms, prefetch_tick, s);
}

static void prefetch_on_done(void *arg, const struct route *route)
{
	struct asked *a = arg;
	struct steady *s = a->s;
	bool waited = a->returned;

	s->done++;
	s->relayed += route->action == ROUTE_RELAY;
	s->waited += waited;
	s->waited_after_first += waited && a->after_first;
	s->first_done = true;
	if (waited)
		free(a);
	else
		a->returned = true;	/* tells prefetch_tick it is done */
	if (s->done == s->want)
		evloop_stop(s->loop);
}
