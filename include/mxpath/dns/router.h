/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * router.h - decides routes with live DNS: engine + cache + resolver
 *
 * Runs route_decide() against the cache; when it is PENDING, asks the
 * resolver every missing question at once, puts the answers in the cache
 * and decides again (a cold MX route costs two round trips). Randomness is
 * drawn after the cache, so every decision is shuffled afresh. A cached
 * answer used in the last tenth of its TTL is refreshed in the background
 * (prefetch), so a domain in steady use never waits for DNS.
 *
 * router_decide() is for the event-loop thread; router_decide_wait() is
 * for any other thread (milter sessions): it posts the work to the loop
 * and blocks until the route is ready.
 *
 * The doors agree on a recipient's hop order: router_decide_wait() (the
 * milter, at RCPT) writes the order it decided down for a few minutes,
 * and router_decide() (the socketmap) for the same recipient follows it
 * (hop_memory.h).
 */
#ifndef MXPATH_ROUTER_H
#define MXPATH_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxpath/runtime/evloop.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route.h"

struct router;

struct router_stats {
	uint64_t decisions;
	uint64_t memo_hits;		/* decided from a kept route (route_memo.c) */
	uint64_t cache_hits, cache_misses, cache_stale;	/* per decision */
	uint64_t dns_queries, dns_coalesced, dns_failures;
	uint64_t prefetches;		/* background refreshes started */
	size_t cache_entries, cache_bytes;
	unsigned pending;		/* decisions in flight (waiting for DNS) */
};

/* The route is valid only during the call. */
typedef void (*router_done_fn)(void *arg, const struct route *route);

/* Takes a reference on policy; builds the identity (sysident) and the resolver. */
struct router *router_new(struct evloop *loop, struct policy *policy, char *err, size_t errlen);
void router_free(struct router **router);
/* Reload: new decisions use the new policy; decisions in flight finish on
 * theirs. The cache is kept unless the DNS servers changed. Loop thread. */
int router_set_policy(struct router *router, struct policy *policy, char *err, size_t errlen);
/* The policy decisions start with now (a new reference; unref it). Any thread. */
struct policy *router_policy(struct router *router);

/* Loop thread. done may run before this returns (warm cache). self_extra may be NULL. */
void router_decide(struct router *router, const char *recipient, const char *self_extra,
		   router_done_fn done, void *arg);
/*
 * Any thread but the loop's: blocks until decided, at most timeout_ms, and
 * fills *out; past the deadline *out is a 451 4.4.3 tempfail and the
 * decision, when it ends, is dropped.
 */
void router_decide_wait(struct router *router, const char *recipient, const char *self_extra,
			unsigned timeout_ms, struct route *out);
/*
 * Loop thread, when the daemon stops: every decision waiting for DNS is
 * answered now with 451 4.3.2 (route_set_stopping), and so is every later
 * one that would wait. Returns how many were waiting.
 */
unsigned router_stop_waiting(struct router *router);

void router_get_stats(struct router *router, struct router_stats *out);

#endif
