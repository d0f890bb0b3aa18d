/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_memo.h - decided routes kept per domain, to be shuffled per use
 *
 * A warm decision asks the cache seven times or more and runs every rule;
 * for a domain asked thousands of times a second the answer is the same
 * each time but for the shuffle. The router keeps the route the engine
 * left in DNS order (route.shuffle_pending) for its domain and hands out
 * shuffled copies until the answers it came from are about to expire.
 * Loop thread only (the router's).
 */
#ifndef MXPATH_ROUTE_MEMO_H
#define MXPATH_ROUTE_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "mxpath/engine/route.h"

#define ROUTE_MEMO_SLOTS 4096	/* domains kept at most (a power of two) */

struct route_memo;

struct route_memo *route_memo_new(void);
void route_memo_free(struct route_memo **memo);
void route_memo_clear(struct route_memo *memo);	/* a reload, a cache flush */

/*
 * Keeps route for (domain, self_extra) while its answers have more than a
 * tenth of their time to live left (the last tenth goes to the full
 * decision, which refreshes them). Only a route that the same answers
 * would give again (route.repeatable) from fresh cached answers is kept.
 */
void route_memo_put(struct route_memo *memo, const char *domain, const char *self_extra,
		    const struct route *route, uint64_t now_ms);

/* Copies the route kept for (domain, self_extra) into out, its TTL counted
 * down to now; false if there is none or it is too old. */
bool route_memo_get(const struct route_memo *memo, const char *domain, const char *self_extra,
		    uint64_t now_ms, struct route *out);

#endif
