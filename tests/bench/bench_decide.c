/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_decide.c - warm route decisions per second through the real cache
 *
 * Fills the real cache with N domains' answers (bench_world.h), checks that
 * every domain decides to the route its answers describe, then decides
 * recipients drawn uniformly at random, one after the other on one thread,
 * the way the router decides a warm recipient: route_decide() with a
 * lookup callback that reads cache_get(), a random source, one reused
 * struct route. Two sets of recipients can be drawn from:
 *   all     every one of the N domains;
 *   hot     K domains spread evenly over the N (--hot K): the same working
 *           set whatever N, so that only the size of the cache changes.
 * Times are the deciding thread's CPU time (what a decision costs one
 * core, whatever else runs on the machine), with the wall-clock time for
 * comparison. Prints a line about the world, then one per run:
 *
 *     world domains=N answers=A cache_bytes=B fill_s=F dual_stack=0|1
 *     run set=all|hot decisions=D cpu_s=S rate=R ns=NS wall_s=W
 *
 * tests/bench/run-bench uses it for the "engine" row (all of 10,000
 * domains) and the "scale" rows (10^2, 10^4, 10^6 domains, both sets).
 * Exit status 1 if a decision is not the expected route or anything misses
 * the cache.
 *
 * usage: bench_decide [--domains N] [--hot K [--all]] [--decisions D] [--runs R]
 *                     [--ipv4-only]
 *        (without --hot, the set is all; with it, add --all for both)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_world.h"
#include "mxpath/dns/sysident.h"

struct bench_run {
	uint64_t decisions;
	uint64_t cpu_ns;
	uint64_t wall_ns;
	uint64_t hops;		/* sum over the decisions: the work is used */
	uint64_t not_done;
};

static int bench_check_world(const struct bench_world *w, const struct route_input *proto,
			     struct route *route);
static int bench_run_set(const struct bench_world *w, const char *name, size_t set,
			 unsigned long runs, uint64_t decisions, struct route_input *in,
			 struct route *route);
static void bench_run_once(const struct bench_world *w, size_t set, struct route_input *in,
			   struct route *route, uint64_t *seed, struct bench_run *out);
static size_t bench_pick(uint64_t *seed, size_t n);

int main(int argc, char **argv)
{
	size_t n_domains = bench_opt_ulong(argc, argv, "--domains", 10000);
	size_t hot = bench_opt_ulong(argc, argv, "--hot", 0);
	bool all = hot == 0 || bench_opt_flag(argc, argv, "--all");
	uint64_t decisions = bench_opt_ulong(argc, argv, "--decisions", 2000000);
	unsigned long runs = bench_opt_ulong(argc, argv, "--runs", 5);
	bool dual_stack = !bench_opt_flag(argc, argv, "--ipv4-only");
	struct bench_world world;
	struct bench_lookup lookup = { .now_ms = BENCH_NOW_MS };
	uint64_t rng = 0x6d78706174682021u;
	struct route *route = xmalloc(sizeof(*route));
	struct route_input in = {
		.self_extra = NULL,
		.lookup = bench_route_lookup,
		.lookup_ctx = &lookup,
		.random = bench_route_random,
		.random_ctx = &rng,
	};
	struct identity *self;
	struct cache_stats stats;
	uint64_t t0;
	int rc = 0;

	if (n_domains == 0 || decisions == 0 || runs == 0)
		bench_die("--domains, --decisions and --runs must be positive");
	if (hot > n_domains)
		hot = n_domains;
	log_open_stderr("bench_decide");
	bench_world_init(&world, n_domains, dual_stack);
	self = sysident_build(world.policy);
	t0 = bench_now_ns();
	bench_world_fill(&world);
	bench_world_make_recipients(&world);
	cache_get_stats(world.cache, &stats);
	printf("world domains=%zu answers=%zu cache_bytes=%zu fill_s=%.3f dual_stack=%d\n",
	       n_domains, stats.entries, stats.bytes, (double)(bench_now_ns() - t0) / 1e9,
	       dual_stack);

	lookup.cache = world.cache;
	in.policy = world.policy;
	in.self = self;
	if (bench_check_world(&world, &in, route) < 0 ||
	    (hot > 0 && bench_run_set(&world, "hot", hot, runs, decisions, &in, route) < 0) ||
	    (all && bench_run_set(&world, "all", n_domains, runs, decisions, &in, route) < 0))
		rc = 1;
	if (lookup.misses > 0) {
		fprintf(stderr, "bench_decide: %" PRIu64 " cache misses\n", lookup.misses);
		rc = 1;
	}
	identity_free(&self);
	bench_world_free(&world);
	free(route);
	return rc;
}

/* Every domain once, in order: the route must be what its answers say. */
static int bench_check_world(const struct bench_world *w, const struct route_input *proto,
			     struct route *route)
{
	struct route_input in = *proto;

	for (size_t i = 0; i < w->n_domains; i++) {
		in.recipient = w->recipients[i];
		if (route_decide(&in, route) != ROUTE_DONE || !bench_route_is_expected(w, route)) {
			fprintf(stderr, "bench_decide: %s: unexpected route (action %s, rule %s, "
				"%u hops, %u addresses, cache %s)\n", in.recipient,
				route_action_name(route->action), route_rule_name(route->rule),
				route->n_hops, route->n_addrs, cache_state_name(route->cache));
			return -1;
		}
	}
	return 0;
}

/* Runs of decisions among set domains; -1 if one did not decide as expected. */
static int bench_run_set(const struct bench_world *w, const char *name, size_t set,
			 unsigned long runs, uint64_t decisions, struct route_input *in,
			 struct route *route)
{
	uint64_t seed = 42;

	for (unsigned long r = 0; r < runs; r++) {
		struct bench_run run = { .decisions = decisions };

		bench_run_once(w, set, in, route, &seed, &run);
		if (run.not_done > 0 || run.hops != decisions * BENCH_EXCHANGERS) {
			fprintf(stderr, "bench_decide: %s run %lu: %" PRIu64 " pending, %" PRIu64
				" hops for %" PRIu64 " decisions\n", name, r + 1, run.not_done,
				run.hops, decisions);
			return -1;
		}
		printf("run set=%s decisions=%" PRIu64 " cpu_s=%.6f rate=%.0f ns=%.1f wall_s=%.6f\n",
		       name, decisions, (double)run.cpu_ns / 1e9,
		       (double)decisions * 1e9 / (double)run.cpu_ns,
		       (double)run.cpu_ns / (double)decisions, (double)run.wall_ns / 1e9);
		fflush(stdout);
	}
	return 0;
}

/* Domain i of the set is domain i * stride of the world. */
static void bench_run_once(const struct bench_world *w, size_t set, struct route_input *in,
			   struct route *route, uint64_t *seed, struct bench_run *out)
{
	size_t stride = w->n_domains / set;
	uint64_t wall0 = bench_now_ns(), cpu0 = bench_cpu_ns();

	for (uint64_t k = 0; k < out->decisions; k++) {
		in->recipient = w->recipients[bench_pick(seed, set) * stride];
		if (route_decide(in, route) != ROUTE_DONE)
			out->not_done++;
		out->hops += route->n_hops;
	}
	out->cpu_ns = bench_cpu_ns() - cpu0;
	out->wall_ns = bench_now_ns() - wall0;
}

/* Uniform in [0, n): Lemire's multiply-shift, no division. */
static size_t bench_pick(uint64_t *seed, size_t n)
{
	return (size_t)(((bench_random(seed) >> 32) * (uint64_t)n) >> 32);
}
