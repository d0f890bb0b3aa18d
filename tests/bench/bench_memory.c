/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_memory.c - resident memory of the cache holding N warm routes
 *
 * Fills the real cache with N routes' answers (bench_world.h: one MX
 * answer, three A answers and the _mta-sts TXT answer per route, three
 * more AAAA answers with --dual-stack), decides every route once through
 * it so that the answers are known to be complete and usable, and reports
 * the process's resident set (VmRSS) before and after, with the cache's
 * own byte count:
 *
 *     memory routes=N answers=A cache_bytes=B rss_start_kib=S rss_kib=R
 *
 * With --breakdown, then where the octets go (cache_get_memory): per part,
 * in MiB and per route, down to what the RSS holds beyond the cache.
 *
 * tests/bench/run-bench uses it for the "memory" row (100,000 routes).
 * Exit status 1 if a route does not decide as its answers say.
 *
 * usage: bench_memory [--routes N] [--dual-stack] [--breakdown]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_world.h"
#include "mxpath/dns/sysident.h"

/* glibc's malloc: a chunk is the request plus 8, rounded up to 16. */
#define BENCH_MALLOC_CHUNK(n) (((size_t)(n) + 8 + 15) / 16 * 16)

static int bench_decide_all(const struct bench_world *w, const struct identity *self);
static void bench_print_breakdown(const struct dns_cache *cache, size_t n_routes,
				  unsigned long rss_start_kib, unsigned long rss_kib);
static void bench_print_part(const char *what, size_t octets, size_t n_routes);

int main(int argc, char **argv)
{
	size_t n_routes = bench_opt_ulong(argc, argv, "--routes", 100000);
	bool dual_stack = bench_opt_flag(argc, argv, "--dual-stack");
	bool breakdown = bench_opt_flag(argc, argv, "--breakdown");
	struct bench_world world;
	struct identity *self;
	struct cache_stats stats;
	unsigned long rss_start, rss;
	int rc;

	if (n_routes == 0)
		bench_die("--routes must be positive");
	log_open_stderr("bench_memory");
	bench_world_init(&world, n_routes, dual_stack);
	self = sysident_build(world.policy);
	rss_start = bench_rss_kib();
	bench_world_fill(&world);
	rc = bench_decide_all(&world, self);
	rss = bench_rss_kib();
	cache_get_stats(world.cache, &stats);
	if (breakdown)
		bench_print_breakdown(world.cache, n_routes, rss_start, rss);
	printf("memory routes=%zu answers=%zu cache_bytes=%zu rss_start_kib=%lu rss_kib=%lu\n",
	       n_routes, stats.entries, stats.bytes, rss_start, rss);
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

/* Where the RSS goes: the cache's parts, malloc's share of the pages, the rest. */
static void bench_print_breakdown(const struct dns_cache *cache, size_t n_routes,
				  unsigned long rss_start_kib, unsigned long rss_kib)
{
	struct cache_memory m;
	size_t rss = (size_t)rss_kib * 1024, start = (size_t)rss_start_kib * 1024;
	size_t page_malloc, accounted;

	cache_get_memory(cache, &m);
	page_malloc = m.n_pages * BENCH_MALLOC_CHUNK(0);
	accounted = start + m.pages + page_malloc + m.page_table + m.index;
	printf("%-34s %9s %9s\n", "part", "MiB", "B/route");
	bench_print_part("entry headers (cache)", m.headers, n_routes);
	bench_print_part("names", m.names, n_routes);
	bench_print_part("answer headers (struct dns_answer)", m.answer_headers, n_routes);
	bench_print_part("records (dns_mx, mx_addr)", m.records, n_routes);
	bench_print_part("strings (MX targets, CNAMEs)", m.strings, n_routes);
	bench_print_part("padding inside entries", m.padding, n_routes);
	bench_print_part("size-class rounding", m.rounding, n_routes);
	bench_print_part("page slack", m.page_slack, n_routes);
	bench_print_part("malloc headers of pages", page_malloc, n_routes);
	bench_print_part("page table", m.page_table, n_routes);
	bench_print_part("index slots", m.index, n_routes);
	bench_print_part("the program before the fill", start, n_routes);
	bench_print_part("the rest of the RSS", rss > accounted ? rss - accounted : 0, n_routes);
	bench_print_part("RSS", rss, n_routes);
	printf("entries %zu, pages %zu\n", m.entries, m.n_pages);
}

static void bench_print_part(const char *what, size_t octets, size_t n_routes)
{
	printf("%-34s %9.2f %9.1f\n", what, (double)octets / 1048576, (double)octets / (double)n_routes);
}
