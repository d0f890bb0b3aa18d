/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_memory.c - resident memory of the cache holding N warm routes
 *
 * Fills the real cache with N routes' answers (bench_world.h: one MX
 * answer and three A answers per route, or three more AAAA answers with
 * --dual-stack), decides every route once through it so that the answers
 * are known to be complete and usable, and reports the process's resident
 * set (VmRSS) before and after, with the cache's own byte count:
 *
 *     memory routes=N answers=A cache_bytes=B rss_start_kib=S rss_kib=R
 *
 * tests/bench/run-bench uses it for the "memory" row (100,000 routes).
 * Exit status 1 if a route does not decide as its answers say.
 *
 * usage: bench_memory [--routes N] [--dual-stack]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_world.h"
#include "mxpath/dns/sysident.h"

static int bench_decide_all(const struct bench_world *w, const struct identity *self);

int main(int argc, char **argv)
{
	size_t n_routes = bench_opt_ulong(argc, argv, "--routes", 100000);
	bool dual_stack = bench_opt_flag(argc, argv, "--dual-stack");
	struct bench_world world;
	struct identity *self;
	struct cache_stats stats;
	unsigned long rss_start;
	int rc;

	if (n_routes == 0)
		bench_die("--routes must be positive");
	log_open_stderr("bench_memory");
	bench_world_init(&world, n_routes, dual_stack);
	self = sysident_build(world.policy);
	rss_start = bench_rss_kib();
	bench_world_fill(&world);
	rc = bench_decide_all(&world, self);
	cache_get_stats(world.cache, &stats);
	printf("memory routes=%zu answers=%zu cache_bytes=%zu rss_start_kib=%lu rss_kib=%lu\n",
	       n_routes, stats.entries, stats.bytes, rss_start, bench_rss_kib());
	identity_free(&self);
	bench_world_free(&world);
	return rc;
}

/* Recipients are formatted one at a time: no array of them inflates the RSS. */
static int bench_decide_all(const struct bench_world *w, const struct identity *self)
{
	struct bench_lookup lookup = { .cache = w->cache, .now_ms = BENCH_NOW_MS };
	uint64_t rng = 1;
	struct route *route = xmalloc(sizeof(*route));
	char recipient[BENCH_RECIPIENT_MAX];
	struct route_input in = {
		.recipient = recipient,
		.policy = w->policy,
		.self = self,
		.lookup = bench_route_lookup,
		.lookup_ctx = &lookup,
		.random = bench_route_random,
		.random_ctx = &rng,
	};
	int rc = 0;

	for (size_t i = 0; i < w->n_domains && rc == 0; i++) {
		snprintf(recipient, sizeof(recipient), "user@d%zu.bench.test", i);
		if (route_decide(&in, route) != ROUTE_DONE || !bench_route_is_expected(w, route)) {
			fprintf(stderr, "bench_memory: %s does not decide as its answers say\n",
				recipient);
			rc = 1;
		}
	}
	free(route);
	return rc;
}
