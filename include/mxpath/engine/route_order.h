/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_order.h - a route's hop order, written down and followed again
 *
 * The milter decides a recipient's route at RCPT time and logs (and may
 * stamp in a trace header) the order of its equal-preference hops; the
 * MTA asks the socketmap for the same recipient a moment later, and that
 * decision shuffles afresh. These two functions let the daemon write the
 * first order down and make the second decision follow it; a third
 * shuffles a route the engine left in DNS order. Pure.
 */
#ifndef MXPATH_ROUTE_ORDER_H
#define MXPATH_ROUTE_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "mxpath/engine/route.h"

/* The most a written-down order takes: every hop name and its NUL. */
#define ROUTE_ORDER_MAX (ROUTE_HOPS_MAX * MX_NAME_BUF)

/*
 * Writes the route's hop names, each followed by a NUL, into buf; returns
 * the length, or 0 when there is nothing to follow (no two hops share a
 * preference, or buf is too small).
 */
size_t route_order_write(const struct route *route, char *buf, size_t size);

/*
 * Reorders the hops within each run of equal preference (never across
 * preferences, never the fallback relays) so that the hosts named in
 * order[0..len) come in that order; a host not named keeps its place
 * after them. The route's addresses stay with their hops.
 */
void route_order_follow(struct route *route, const char *order, size_t len);

/*
 * Shuffles the hops within each run of equal preference (never the
 * fallback relays), uniformly, with random's numbers; clears
 * route->shuffle_pending. The addresses stay with their hops.
 */
void route_order_shuffle(struct route *route, route_random_fn random, void *random_ctx);

#endif
