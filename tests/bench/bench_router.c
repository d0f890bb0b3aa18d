/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_router.c - cold and warm route decisions through the real router
 *
 *   bench_router SERVER[:PORT] ADDRESS [WARM_DECISIONS]
 *
 * Cold: a new router (empty cache) decides ADDRESS, the event loop runs
 * until it is done; the median of 9 runs is printed, in milliseconds.
 * Warm: WARM_DECISIONS (default 1,000,000) decisions of ADDRESS from the
 * cache, back to back on this one thread; decisions per second.
 * Built and run by tests/integration/25-dns-bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxpath/config/config.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/dns/router.h"

#define COLD_RUNS 9

struct tally {
	struct evloop *loop;
	unsigned long done;
	unsigned long relayed;
	enum cache_state last_cache;
};

static void on_done(void *arg, const struct route *route)
{
	struct tally *t = arg;

	t->done++;
	t->relayed += route->action == ROUTE_RELAY;
	t->last_cache = route->cache;
	if (t->loop != NULL)
		evloop_stop(t->loop);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct router *bench_router(struct evloop *loop, struct policy *policy)
{
	char err[256];
	struct router *router = router_new(loop, policy, err, sizeof(err));

	if (router == NULL) {
		fprintf(stderr, "bench_router: %s\n", err);
		exit(1);
	}
	return router;
}

/* Decides once on a fresh router; leaves it (and its warm cache) in *out. */
static double decide_cold(struct evloop *loop, struct policy *policy, const char *address,
			  struct router **out)
{
	struct tally t = { .loop = loop };
	struct router *router = bench_router(loop, policy);
	double start = now_us();

	router_decide(router, address, NULL, on_done, &t);
	if (t.done == 0)
		evloop_run(loop);
	if (t.relayed != 1 || t.last_cache != CACHE_MISS) {
		fprintf(stderr, "bench_router: %s was not relayed from a cold cache\n", address);
		exit(1);
	}
	*out = router;
	return (now_us() - start) / 1e3;
}

int main(int argc, char **argv)
{
	char text[512], err[CONFIG_ERROR_MAX];
	double cold[COLD_RUNS], start, seconds;
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	struct tally t = { 0 };
	struct policy *policy;
	struct evloop *loop;
	struct router *router = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_router SERVER[:PORT] ADDRESS [WARM_DECISIONS]\n");
		return 64;
	}
	snprintf(text, sizeof(text),
		 "self = { addresses = [ ]; }; dns = { servers = [ \"%s\" ]; timeout_ms = 1000; };",
		 argv[1]);
	if (config_load_string(text, "bench", &policy, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_router: %s\n", err);
		return 78;
	}
	log_open_stderr("bench_router");
	loop = evloop_new();
	for (int i = 0; i < COLD_RUNS; i++) {
		cold[i] = decide_cold(loop, policy, argv[2], &router);
		if (i < COLD_RUNS - 1)
			router_free(&router);
	}
	qsort(cold, COLD_RUNS, sizeof(cold[0]), compare_double);
	printf("cold_ms %.1f (min %.1f, max %.1f)\n", cold[COLD_RUNS / 2], cold[0],
	       cold[COLD_RUNS - 1]);

	/* The last router's cache is warm: every decision below is synchronous. */
	start = now_us();
	for (unsigned long i = 0; i < n; i++)
		router_decide(router, argv[2], NULL, on_done, &t);
	seconds = (now_us() - start) / 1e6;
	if (t.done != n || t.relayed != n || t.last_cache != CACHE_HIT) {
		fprintf(stderr, "bench_router: warm decisions were not all cached relays\n");
		return 1;
	}
	printf("warm_per_second %.0f (%lu decisions in %.3f s)\n", (double)n / seconds, n, seconds);
	router_free(&router);
	evloop_free(&loop);
	policy_unref(&policy);
	return 0;
}
