/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_cold_many.c - many distinct cold domains asked at the same moment
 *
 * A new router (empty cache) on a new event loop is handed N decisions,
 * one per domain "c<i>.SUFFIX" (i = 0..N-1), all before the loop runs, as
 * N socketmap connections asking at once would; then the loop runs until
 * every one is done. Each decision's time to done is taken from the start
 * of the burst. Prints one line:
 *
 *     cold_many decisions=N done=D relayed=R p50_ms=X p99_ms=Y max_ms=Z
 *         dns_queries=Q failures=F ms=T
 *
 * tests/bench/run-bench compares the percentiles with one query's RTT and
 * counts the queries in flight at the peak in the DNS server's log.
 * Exit status 1 unless all N decisions relay.
 *
 *   bench_cold_many SERVER[:PORT] SUFFIX [N]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_live.h"

#define COLD_MANY_TIMEOUT_MS 60000
#define COLD_MANY_DNS_TIMEOUT_MS 5000	/* one try: a lost query shows as a long tail */

struct burst {
	struct evloop *loop;
	unsigned long want, done, relayed;
	double start_ms;
	double *took_ms;		/* per decision, in the order they finished */
};

static double percentile(const double *sorted, unsigned long n, double p);
static void cold_many_on_done(void *arg, const struct route *route);
static void cold_many_on_timeout(void *arg);

int main(int argc, char **argv)
{
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	struct burst b = { .want = n };
	struct router_stats stats;
	struct router *router;
	struct evtimer *timer;
	char rcpt[MX_NAME_BUF + 16];

	if (argc < 3 || n == 0) {
		fprintf(stderr, "usage: bench_cold_many SERVER[:PORT] SUFFIX [N]\n");
		return 2;
	}
	log_open_stderr("bench_cold_many");
	b.loop = evloop_new();
	b.took_ms = calloc(n, sizeof(*b.took_ms));
	if (b.took_ms == NULL)
		return 2;
	router = bench_live_router(b.loop, argv[1], COLD_MANY_DNS_TIMEOUT_MS, "bench_cold_many");
	timer = evloop_timer_add(b.loop, COLD_MANY_TIMEOUT_MS, cold_many_on_timeout, b.loop);
	b.start_ms = bench_live_ms();
	for (unsigned long i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "user@c%lu.%s", i, argv[2]);
		router_decide(router, rcpt, NULL, cold_many_on_done, &b);
	}
	if (b.done < n)
		evloop_run(b.loop);
	router_get_stats(router, &stats);
	qsort(b.took_ms, b.done, sizeof(*b.took_ms), bench_live_compare);
	printf("cold_many decisions=%lu done=%lu relayed=%lu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
	       "dns_queries=%llu failures=%llu ms=%.0f\n",
	       n, b.done, b.relayed, percentile(b.took_ms, b.done, 0.50),
	       percentile(b.took_ms, b.done, 0.99), percentile(b.took_ms, b.done, 1.0),
	       (unsigned long long)stats.dns_queries, (unsigned long long)stats.dns_failures,
	       bench_live_ms() - b.start_ms);
	if (b.done == n)
		evloop_timer_cancel(b.loop, &timer);
	router_free(&router);
	evloop_free(&b.loop);
	free(b.took_ms);
	return b.relayed == n ? 0 : 1;
}

/* Nearest rank; 0 for an empty set. */
static double percentile(const double *sorted, unsigned long n, double p)
{
	unsigned long rank;

	if (n == 0)
		return 0;
	rank = (unsigned long)(p * (double)n + 0.999999);
	return sorted[(rank > 0 ? rank : 1) - 1];
}

static void cold_many_on_done(void *arg, const struct route *route)
{
	struct burst *b = arg;

	b->took_ms[b->done++] = bench_live_ms() - b->start_ms;
	if (route->action == ROUTE_RELAY)
		b->relayed++;
	if (b->done == b->want)
		evloop_stop(b->loop);
}

static void cold_many_on_timeout(void *arg)
{
	fprintf(stderr, "bench_cold_many: not every decision was done after %d ms\n",
		COLD_MANY_TIMEOUT_MS);
	evloop_stop(arg);
}
