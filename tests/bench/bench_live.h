/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_live.h - what the benches of the real router against a live DNS
 * server share (bench_prefetch, bench_cold_many): the router, the clock,
 * sorting. Header-only (static inline) because the Makefile builds each
 * bench source as its own program.
 */
#ifndef MXPATH_BENCH_LIVE_H
#define MXPATH_BENCH_LIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mxpath/config/config.h"
#include "mxpath/dns/router.h"
#include "mxpath/runtime/evloop.h"

/* A router asking only SERVER (one try of timeout_ms); self is nobody.
 * Exits 2 with "WHO: why" if it cannot be made. */
static inline struct router *bench_live_router(struct evloop *loop, const char *server,
					       unsigned timeout_ms, const char *who)
{
	char text[512], err[CONFIG_ERROR_MAX];
	struct policy *policy;
	struct router *router;

	snprintf(text, sizeof(text),
		 "self = { addresses = [ ]; }; dns = { servers = [ \"%s\" ]; timeout_ms = %u; "
		 "tries = 1; };",
		 server, timeout_ms);
	if (config_load_string(text, "(bench)", &policy, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", who, err);
		exit(2);
	}
	router = router_new(loop, policy, err, sizeof(err));
	policy_unref(&policy);
	if (router == NULL) {
		fprintf(stderr, "%s: %s\n", who, err);
		exit(2);
	}
	return router;
}

/* Monotonic milliseconds, fractional. */
static inline double bench_live_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* qsort's comparator for doubles, ascending. */
static inline int bench_live_compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
