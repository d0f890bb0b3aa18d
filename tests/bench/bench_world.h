/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_world.h - a synthetic warm DNS world for the C benchmarks
 *
 * N domains "d<i>.bench.test", each with three exchangers (MX 10 mx1,
 * MX 10 mx2, MX 20 mx3, all below the domain), each exchanger with one A
 * record in TEST-NET-2/3 and, when dual-stack, one AAAA in 2001:db8::/32.
 * The answers are built with the real dns_answer builders and put in the
 * real cache (cache.c), exactly as the router does when the resolver
 * answers; the benchmarks then decide through cache_get() the way
 * router.c's lookup callback does. Nothing here is ever connected to.
 *
 * Also the small helpers every bench shares: options, the clock, the
 * process's resident size, a random source. Header-only (static inline)
 * because the Makefile builds each bench source as its own program.
 */
#ifndef MXPATH_BENCH_WORLD_H
#define MXPATH_BENCH_WORLD_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxpath/dns/cache.h"
#include "mxpath/base/common.h"
#include "mxpath/config/config.h"
#include "mxpath/engine/dns.h"
#include "mxpath/engine/route.h"

#define BENCH_EXCHANGERS 3
#define BENCH_TTL 3600			/* seconds: nothing expires during a run */
#define BENCH_NOW_MS 1000000000ull	/* the cache's clock, fixed */
#define BENCH_RECIPIENT_MAX 48		/* "user@d4294967295.bench.test" fits */

struct bench_world {
	size_t n_domains;
	bool dual_stack;
	struct dns_cache *cache;
	struct policy *policy;
	char (*recipients)[BENCH_RECIPIENT_MAX];	/* "user@d<i>.bench.test" */
};

/* What the engine's lookup callback needs: the router's lookup_ctx, minus
 * the bookkeeping of misses (a warm world has none; they are counted). */
struct bench_lookup {
	struct dns_cache *cache;
	uint64_t now_ms;
	uint64_t misses;
};

static inline void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(2);
}

static inline uint64_t bench_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
	return bench_clock_ns(CLOCK_MONOTONIC);
}

/* Nanoseconds of CPU this thread has used: what a decision costs one core,
 * whatever else the machine is running meanwhile. */
static inline uint64_t bench_cpu_ns(void)
{
	return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The process's resident set (VmRSS) in KiB; 0 if /proc cannot say. */
static inline unsigned long bench_rss_kib(void)
{
	char line[128];
	unsigned long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %lu kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* "--name VALUE" as an unsigned number, or dflt; a bad value ends the bench. */
static inline unsigned long bench_opt_ulong(int argc, char **argv, const char *name,
					    unsigned long dflt)
{
	for (int i = 1; i + 1 < argc; i++) {
		char *end;
		unsigned long v;

		if (strcmp(argv[i], name) != 0)
			continue;
		v = strtoul(argv[i + 1], &end, 10);
		if (*argv[i + 1] == '\0' || *end != '\0')
			bench_die("option value is not a number");
		return v;
	}
	return dflt;
}

static inline bool bench_opt_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return true;
	}
	return false;
}

/* splitmix64: seeds and index streams; fixed seed, so runs are comparable. */
static inline uint64_t bench_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* The engine's random callback (the router uses xoshiro128**; as cheap). */
static inline uint32_t bench_route_random(void *arg)
{
	return (uint32_t)bench_random(arg);
}

/* The router's lookup callback, reading the cache only. */
static inline bool bench_route_lookup(void *arg, unsigned channel, enum dns_type type,
				      const char *name, struct dns_lookup_result *out)
{
	struct bench_lookup *ctx = arg;

	if (cache_get(ctx->cache, channel, type, name, ctx->now_ms, out) != CACHE_LOOKUP_MISS)
		return true;
	ctx->misses++;
	return false;
}

static inline void bench_domain_name(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "d%zu.bench.test", i);
}

/* A (i, k) in 198.51.100.0/24 or 203.0.113.0/24; AAAA in 2001:db8::/32. */
static inline void bench_exchanger_addr(size_t i, unsigned k, bool v6, struct mx_addr *out)
{
	uint32_t n = (uint32_t)(i * BENCH_EXCHANGERS + k);

	memset(out, 0, sizeof(*out));
	if (!v6) {
		out->family = AF_INET;
		out->u.v4.s_addr = htonl((n & 1 ? 0xcb007100u : 0xc6336400u) | (1 + n % 254));
		return;
	}
	out->family = AF_INET6;
	out->u.v6.s6_addr[0] = 0x20;
	out->u.v6.s6_addr[1] = 0x01;
	out->u.v6.s6_addr[2] = 0x0d;
	out->u.v6.s6_addr[3] = 0xb8;
	memcpy(&out->u.v6.s6_addr[12], &n, sizeof(n));
}

/* One domain's answers: 1 MX, 3 A and (dual-stack) 3 AAAA, and the
 * _mta-sts TXT (NXDOMAIN, the common case) a default policy asks, into the cache. */
static inline void bench_world_put_domain(struct bench_world *w, size_t i)
{
	static const uint16_t prefs[BENCH_EXCHANGERS] = { 10, 10, 20 };
	char domain[MX_NAME_BUF], hosts[BENCH_EXCHANGERS][MX_NAME_BUF], sts[MX_NAME_BUF];
	struct dns_mx mx[BENCH_EXCHANGERS];

	bench_domain_name(i, domain, sizeof(domain));
	for (unsigned k = 0; k < BENCH_EXCHANGERS; k++) {
		struct mx_addr addr;

		snprintf(hosts[k], sizeof(hosts[k]), "mx%u.d%zu.bench.test", k + 1, i);
		mx[k].pref = prefs[k];
		mx[k].host = hosts[k];
		bench_exchanger_addr(i, k, false, &addr);
		cache_put(w->cache, 0, DNS_TYPE_A, hosts[k],
			  dns_answer_new_addr(DNS_TYPE_A, &addr, 1, BENCH_TTL, NULL), BENCH_NOW_MS);
		if (!w->dual_stack)
			continue;
		bench_exchanger_addr(i, k, true, &addr);
		cache_put(w->cache, 0, DNS_TYPE_AAAA, hosts[k],
			  dns_answer_new_addr(DNS_TYPE_AAAA, &addr, 1, BENCH_TTL, NULL),
			  BENCH_NOW_MS);
	}
	cache_put(w->cache, 0, DNS_TYPE_MX, domain,
		  dns_answer_new_mx(mx, BENCH_EXCHANGERS, BENCH_TTL, NULL), BENCH_NOW_MS);
	if (tls_sts_name(domain, sts, sizeof(sts)))
		cache_put(w->cache, 0, DNS_TYPE_TXT, sts,
			  dns_answer_new_status(DNS_TYPE_TXT, DNS_NXDOMAIN, BENCH_TTL), BENCH_NOW_MS);
}

/* The default policy (self "auto", as a packaged install), IPv6 on or off. */
static inline struct policy *bench_policy_new(bool dual_stack)
{
	char err[CONFIG_ERROR_MAX];
	struct policy *policy;

	if (config_load_string(dual_stack ? "" : "mx = { ipv6 = false; };", "(bench)", &policy, NULL,
			       err, sizeof(err)) < 0)
		bench_die(err);
	return policy;
}

static inline size_t bench_answers_per_domain(bool dual_stack)
{
	return 2 + BENCH_EXCHANGERS * (dual_stack ? 2 : 1);	/* MX, TXT, addresses */
}

/* The cache is sized to hold the whole world (no evictions). */
static inline void bench_world_init(struct bench_world *w, size_t n_domains, bool dual_stack)
{
	struct cache_limits limits = {
		.max_entries = n_domains * bench_answers_per_domain(dual_stack) + 1,
		.min_ttl = 1,
		.max_ttl = BENCH_TTL,
		.failure_ttl = 5,
		.serve_stale = 86400,
		.stale_retry = 30,
	};

	w->n_domains = n_domains;
	w->dual_stack = dual_stack;
	w->policy = bench_policy_new(dual_stack);
	w->cache = cache_new(&limits);
	w->recipients = NULL;
}

static inline void bench_world_fill(struct bench_world *w)
{
	for (size_t i = 0; i < w->n_domains; i++)
		bench_world_put_domain(w, i);
}

/* The recipients "user@d<i>.bench.test", made before any timing. */
static inline void bench_world_make_recipients(struct bench_world *w)
{
	w->recipients = xcalloc(w->n_domains, sizeof(*w->recipients));
	for (size_t i = 0; i < w->n_domains; i++)
		snprintf(w->recipients[i], sizeof(w->recipients[i]), "user@d%zu.bench.test", i);
}

static inline void bench_world_free(struct bench_world *w)
{
	cache_free(&w->cache);
	policy_unref(&w->policy);
	free(w->recipients);
	w->recipients = NULL;
}

/* True if the route is what the world says: relay to mx1, mx2 (any order), mx3. */
static inline bool bench_route_is_expected(const struct bench_world *w, const struct route *r)
{
	unsigned per_hop = w->dual_stack ? 2 : 1;

	return r->action == ROUTE_RELAY && r->rule == RULE_MX && r->cache == CACHE_HIT &&
	       r->n_hops == BENCH_EXCHANGERS && r->n_addrs == BENCH_EXCHANGERS * per_hop &&
	       r->hops[2].pref == 20 && strncmp(r->hops[2].host, "mx3.", 4) == 0;
}

#endif
