/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_memo.c - decided routes kept per domain, to be shuffled per use
 *
 * What is kept. A relay route that the engine left in DNS order
 * (route.repeatable: no random number drawn, no cap reached), decided
 * from fresh answers only (cache state hit: nothing stale, nothing just
 * fetched that the cache may not hold), keyed by its domain and the
 * MTA's extra self name. The router shuffles each copy it hands out
 * (route_order_shuffle), so every decision still draws its own order.
 *
 * For how long. The route's TTL is the least time to live left among its
 * answers; it is kept until nine tenths of that have passed. The last
 * tenth goes to full decisions, which read the cache, so an answer about
 * to expire is seen (and refreshed) as without the memo. A reload and a
 * cache flush clear it all: the policy, self and servers are part of
 * every route.
 *
 * Shape. A fixed table of ROUTE_MEMO_SLOTS slots, each holding one route
 * in one block (the used hops, addresses and pruned hosts only, a few
 * hundred octets, not the 36 KiB of a struct route). A domain has one
 * slot (FNV-1a of the key); two domains that share it take turns, so
 * memory is bounded and names chosen by a sender can at worst evict each
 * other back to the full decision. Loop thread only.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/dns/route_memo.h"

/* One route in one block: this header, then hops, addresses, pruned hosts,
 * then the key ("domain\0self_extra\0") and the matched name. */
struct memo_entry {
	uint64_t stored_ms;
	uint64_t fresh_until_ms;	/* served before it */
	uint32_t ttl;			/* route.ttl when stored */
	enum route_rule rule;
	bool self_listed;
	bool shuffle_pending;
	enum tls_keep mta_keeps;
	enum cache_state cache;
	unsigned n_hops, n_addrs, n_pruned;
	struct hop *hops;
	struct mx_addr *addrs;
	struct pruned *pruned;
	char *key;
	size_t key_len;			/* both names and their NULs */
	char *matched;
};

struct route_memo {
	struct memo_entry *slots[ROUTE_MEMO_SLOTS];
};

static size_t memo_key(const char *domain, const char *self_extra, char *key, size_t size);
static uint32_t memo_slot(const char *key, size_t len);
static struct memo_entry *memo_pack(const struct route *route, const char *key, size_t key_len,
				    uint64_t now_ms);
static void memo_unpack(const struct memo_entry *e, const char *domain, uint64_t now_ms,
			struct route *out);
static size_t align_up(size_t n, size_t alignment);

struct route_memo *route_memo_new(void)
{
	return xcalloc(1, sizeof(struct route_memo));
}

void route_memo_free(struct route_memo **memo)
{
	if (*memo == NULL)
		return;
	route_memo_clear(*memo);
	free(*memo);
	*memo = NULL;
}

void route_memo_clear(struct route_memo *memo)
{
	for (size_t i = 0; i < ROUTE_MEMO_SLOTS; i++) {
		free(memo->slots[i]);
		memo->slots[i] = NULL;
	}
}

void route_memo_put(struct route_memo *memo, const char *domain, const char *self_extra,
		    const struct route *route, uint64_t now_ms)
{
	char key[2 * MX_NAME_BUF];
	size_t len;
	uint32_t slot;

	/* ttl 1 leaves no nine tenths worth keeping. */
	if (route->action != ROUTE_RELAY || !route->repeatable || route->cache != CACHE_HIT ||
	    route->ttl < 2)
		return;
	len = memo_key(domain, self_extra, key, sizeof(key));
	if (len == 0)
		return;
	slot = memo_slot(key, len);
	free(memo->slots[slot]);
	memo->slots[slot] = memo_pack(route, key, len, now_ms);
}

bool route_memo_get(const struct route_memo *memo, const char *domain, const char *self_extra,
		    uint64_t now_ms, struct route *out)
{
	char key[2 * MX_NAME_BUF];
	size_t len = memo_key(domain, self_extra, key, sizeof(key));
	const struct memo_entry *e;

	if (len == 0)
		return false;
	e = memo->slots[memo_slot(key, len)];
	if (e == NULL || e->key_len != len || memcmp(e->key, key, len) != 0 ||
	    now_ms >= e->fresh_until_ms)
		return false;
	memo_unpack(e, domain, now_ms, out);
	return true;
}

/* "domain\0self_extra\0"; 0 if it does not fit. */
static size_t memo_key(const char *domain, const char *self_extra, char *key, size_t size)
{
	size_t d = strlen(domain) + 1;
	size_t s = self_extra != NULL ? strlen(self_extra) + 1 : 1;

	if (d + s > size || d > MX_NAME_BUF)
		return 0;
	memcpy(key, domain, d);
	if (self_extra != NULL)
		memcpy(key + d, self_extra, s);
	else
		key[d] = '\0';
	return d + s;
}

static uint32_t memo_slot(const char *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h & (ROUTE_MEMO_SLOTS - 1);
}

static struct memo_entry *memo_pack(const struct route *route, const char *key, size_t key_len,
				    uint64_t now_ms)
{
	size_t hops_at = align_up(sizeof(struct memo_entry), alignof(struct hop));
	size_t addrs_at = align_up(hops_at + route->n_hops * sizeof(struct hop),
				   alignof(struct mx_addr));
	size_t pruned_at = align_up(addrs_at + route->n_addrs * sizeof(struct mx_addr),
				    alignof(struct pruned));
	size_t key_at = pruned_at + route->n_pruned * sizeof(struct pruned);
	size_t matched_len = strlen(route->matched) + 1;
	char *block = xmalloc(key_at + key_len + matched_len);
	struct memo_entry *e = (struct memo_entry *)block;
	uint32_t margin = route->ttl / 10 > 1 ? route->ttl / 10 : 1;

	e->stored_ms = now_ms;
	e->fresh_until_ms = now_ms + (uint64_t)(route->ttl - margin) * 1000u;
	e->ttl = route->ttl;
	e->rule = route->rule;
	e->self_listed = route->self_listed;
	e->shuffle_pending = route->shuffle_pending;
	e->mta_keeps = route->mta_keeps;
	e->cache = route->cache;
	e->n_hops = route->n_hops;
	e->n_addrs = route->n_addrs;
	e->n_pruned = route->n_pruned;
	e->hops = (struct hop *)(block + hops_at);
	e->addrs = (struct mx_addr *)(block + addrs_at);
	e->pruned = (struct pruned *)(block + pruned_at);
	e->key = block + key_at;
	e->key_len = key_len;
	e->matched = e->key + key_len;
	memcpy(e->hops, route->hops, route->n_hops * sizeof(struct hop));
	memcpy(e->addrs, route->addrs, route->n_addrs * sizeof(struct mx_addr));
	memcpy(e->pruned, route->pruned, route->n_pruned * sizeof(struct pruned));
	memcpy(e->key, key, key_len);
	memcpy(e->matched, route->matched, matched_len);
	return e;
}

/* Every field route_reset() sets, and the arrays' used parts. */
static void memo_unpack(const struct memo_entry *e, const char *domain, uint64_t now_ms,
			struct route *out)
{
	uint64_t elapsed_s = (now_ms - e->stored_ms) / 1000u;

	/* Both fit: memo_key() took the domain, memo_pack() a route's name. */
	memcpy(out->domain, domain, strlen(domain) + 1);
	memcpy(out->matched, e->matched, strlen(e->matched) + 1);
	out->action = ROUTE_RELAY;
	out->rule = e->rule;
	out->n_hops = e->n_hops;
	out->n_addrs = e->n_addrs;
	out->n_pruned = e->n_pruned;
	memcpy(out->hops, e->hops, e->n_hops * sizeof(struct hop));
	memcpy(out->addrs, e->addrs, e->n_addrs * sizeof(struct mx_addr));
	memcpy(out->pruned, e->pruned, e->n_pruned * sizeof(struct pruned));
	out->self_listed = e->self_listed;
	out->mta_keeps = e->mta_keeps;
	out->reply.code = 0;
	out->reply.status[0] = '\0';
	out->reply.text[0] = '\0';
	out->ttl = elapsed_s < e->ttl ? e->ttl - (uint32_t)elapsed_s : 1;
	out->cache = e->cache;
	out->shuffle_pending = e->shuffle_pending;
	out->repeatable = true;
}

static size_t align_up(size_t n, size_t alignment)
{
	return (n + alignment - 1) / alignment * alignment;
}
