/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_order.c - a route's hop order, written down and followed again
 *
 * route_decide() shuffles each run of equal-preference hops afresh for
 * every decision (RFC 5321 5.1). When two decisions for one recipient
 * must agree - the milter's, which it logs, and the socketmap's, which
 * the MTA follows - the first one's order is written down as a list of
 * names and the second route is sorted to match it, run by run. Only the
 * order inside a run changes: preferences, hops, addresses and pruning
 * are the second decision's own (fresh DNS answers win).
 *
 * Pure: no I/O, no allocation.
 */
#include <string.h>

#include "mxpath/engine/route_order.h"

#define RANK_UNKNOWN ROUTE_HOPS_MAX	/* after every host that is named */

static unsigned run_end(const struct route *route, unsigned start);
static bool route_has_equal_run(const struct route *route);
static bool hop_is_shuffled(const struct hop *hop);
static unsigned order_rank(const char *order, size_t len, const char *host);
static void hops_sort_by_rank(struct hop *hops, unsigned *ranks, unsigned n);

size_t route_order_write(const struct route *route, char *buf, size_t size)
{
	size_t used = 0;

	if (!route_has_equal_run(route))
		return 0;
	for (unsigned i = 0; i < route->n_hops; i++) {
		size_t n = strlen(route->hops[i].host) + 1;

		if (used + n > size)
			return 0;
		memcpy(buf + used, route->hops[i].host, n);
		used += n;
	}
	return used;
}

void route_order_follow(struct route *route, const char *order, size_t len)
{
	unsigned ranks[ROUTE_HOPS_MAX];
	unsigned start = 0, end;

	while ((end = run_end(route, start)) > start) {
		if (end - start > 1) {
			for (unsigned i = start; i < end; i++)
				ranks[i] = order_rank(order, len, route->hops[i].host);
			hops_sort_by_rank(route->hops + start, ranks + start, end - start);
		}
		start = end;
	}
}

void route_order_shuffle(struct route *route, route_random_fn random, void *random_ctx)
{
	unsigned start = 0, end;

	while ((end = run_end(route, start)) > start) {
		route_shuffle(route->hops + start, end - start, sizeof(route->hops[0]), random,
			      random_ctx);
		start = end;
	}
	route->shuffle_pending = false;
}

/* The end of the run of hops that may trade places starting at start
 * (start itself when no hop is left). */
static unsigned run_end(const struct route *route, unsigned start)
{
	unsigned end = start + 1;

	if (start >= route->n_hops)
		return start;
	while (end < route->n_hops && hop_is_shuffled(&route->hops[start]) &&
	       hop_is_shuffled(&route->hops[end]) &&
	       route->hops[end].pref == route->hops[start].pref)
		end++;
	return end;
}


static bool route_has_equal_run(const struct route *route)
{
	for (unsigned i = 1; i < route->n_hops; i++) {
		if (hop_is_shuffled(&route->hops[i]) && hop_is_shuffled(&route->hops[i - 1]) &&
		    route->hops[i].pref == route->hops[i - 1].pref)
			return true;
	}
	return false;
}

/* Fallback relays keep the configured order; everything else is shuffled. */
static bool hop_is_shuffled(const struct hop *hop)
{
	return hop->via != VIA_FALLBACK;
}

static unsigned order_rank(const char *order, size_t len, const char *host)
{
	unsigned rank = 0;

	for (size_t at = 0; at < len; rank++) {
		const char *name = order + at;
		size_t n = strnlen(name, len - at);

		if (strncmp(name, host, n) == 0 && host[n] == '\0')
			return rank;
		at += n + 1;
	}
	return RANK_UNKNOWN;
}

/* Stable insertion sort: equal ranks (unknown hosts) keep their order. */
static void hops_sort_by_rank(struct hop *hops, unsigned *ranks, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct hop hop = hops[i];
		unsigned rank = ranks[i], j = i;

		while (j > 0 && ranks[j - 1] > rank) {
			hops[j] = hops[j - 1];
			ranks[j] = ranks[j - 1];
			j--;
		}
		hops[j] = hop;
		ranks[j] = rank;
	}
}
