/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.h - DNS answer cache: TTLs, negative entries, LRU, serve-stale
 *
 * Keyed by (channel, type, name). Positive and negative answers live for
 * their TTL clamped to [min_ttl, max_ttl]; temporary failures for
 * failure_ttl. When a refresh fails and an expired answer is younger than
 * serve_stale, that answer is kept and served as stale (RFC 8767) for
 * stale_retry seconds before the next attempt. Bounded by max_entries,
 * least recently used first out. Names longer than MX_NAME_MAX and
 * channels above 65535 are never cached (a put is dropped, a get misses).
 * Time is passed in: no clock, no locks (the event-loop thread owns it).
 */
#ifndef MXPATH_CACHE_H
#define MXPATH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mxpath/engine/dns.h"

struct cache_limits {
	size_t max_entries;
	uint32_t min_ttl, max_ttl;	/* seconds */
	uint32_t failure_ttl;
	uint32_t serve_stale;		/* 0: never serve stale */
	uint32_t stale_retry;		/* 30 (RFC 8767 suggests 30 s) */
};

struct cache_stats {
	uint64_t hits, misses, stale, evictions;
	size_t entries;
	size_t bytes;
};

enum cache_lookup { CACHE_LOOKUP_MISS, CACHE_LOOKUP_HIT, CACHE_LOOKUP_STALE };

/* Where the cache's memory goes, in octets (cache_get_memory walks every
 * entry: for benchmarks and diagnostics, not for the hot path). */
struct cache_memory {
	size_t entries;
	size_t headers;		/* the cache's own per-entry fields (LRU, times, key) */
	size_t names;		/* the keys' names, NULs included */
	size_t answer_headers;	/* struct dns_answer */
	size_t records;		/* the dns_mx / mx_addr arrays */
	size_t strings;		/* MX targets and CNAME targets */
	size_t padding;		/* alignment inside entries */
	size_t rounding;	/* blocks beyond their entries (size classes) */
	size_t page_slack;	/* page octets in no block: freed or never handed out */
	size_t pages;		/* octets of the pages entries are carved from */
	size_t n_pages;		/* pages (one malloc each) */
	size_t page_table;	/* the array describing the pages */
	size_t index;		/* the slots of the index */
};

struct dns_cache *cache_new(const struct cache_limits *limits);
void cache_free(struct dns_cache **cache);
void cache_set_limits(struct dns_cache *cache, const struct cache_limits *limits);

/* On HIT or STALE fills *out; the answer stays valid until the next put or flush. */
enum cache_lookup cache_get(struct dns_cache *cache, unsigned channel, enum dns_type type,
			    const char *name, uint64_t now_ms, struct dns_lookup_result *out);
/* Takes ownership of answer. A temporary failure over a servable expired
 * entry keeps the old answer and marks it stale instead. */
void cache_put(struct dns_cache *cache, unsigned channel, enum dns_type type, const char *name,
	       struct dns_answer *answer, uint64_t now_ms);
void cache_flush(struct dns_cache *cache);
/* The seconds an answer stays fresh once put: its TTL clamped to
 * [min_ttl, max_ttl], or failure_ttl for a temporary failure (the router's
 * prefetch compares a hit's ttl_left with it). */
uint32_t cache_answer_ttl(const struct dns_cache *cache, const struct dns_answer *answer);
void cache_get_stats(const struct dns_cache *cache, struct cache_stats *out);
void cache_get_memory(const struct dns_cache *cache, struct cache_memory *out);

#endif
