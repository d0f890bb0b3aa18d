/*
 * cache.c - DNS answer cache: TTLs, negative entries, LRU, serve-stale
 *
 * A chained hash table keyed by (channel, type, name), with an intrusive
 * LRU list through the entries (most recently used first). The hash is
 * keyed with a random key drawn per cache, so recipients chosen by a
 * sender cannot pile names into one chain.
 *
 * cache_get neither allocates nor frees: an answer it hands out stays valid
 * until the next cache_put, cache_flush or cache_set_limits, as cache.h
 * promises. Expired entries stay in place until a put replaces them or the
 * LRU evicts them, since an expired answer may still be served stale.
 *
 * Built for the warm path (several lookups per routing decision, a million
 * decisions a second) and for memory (hundreds of thousands of answers):
 * - an entry is one allocation: a 40-octet header, the name, then the
 *   answer itself, moved in from the single block dnsanswer.c builds (see
 *   cache_move_answer): one malloc overhead instead of two, no pointer to
 *   the answer, and the engine reads it from the lines just fetched;
 * - times are whole seconds (now_ms / 1000, 32 bits): an answer expires
 *   up to a second early, never late;
 * - recency has one-second resolution, as in memcached: a hit moves its
 *   entry to the front of the LRU at most once a second, so the hot path
 *   does not write to two unrelated entries on every lookup.
 *
 * Names arrive normalised (lower case, no trailing dot) and are compared
 * exactly; a name longer than MX_NAME_MAX is not cached. No clock, no
 * locks: time is passed in, and the event-loop thread owns the cache.
 */
#include <assert.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mxpath/cache.h"
#include "mxpath/common.h"

/* An answer's records are aligned within its block; moving the block to an
 * address aligned for the header must keep them aligned. */
static_assert(alignof(struct dns_mx) <= alignof(struct dns_answer) &&
		      alignof(struct mx_addr) <= alignof(struct dns_answer),
	      "answer records need more alignment than the answer header");

#define CACHE_BUCKETS_MIN 64
#define CACHE_MS_PER_S 1000u

/* The header; then the name and its NUL; then, aligned, the answer. */
struct cache_entry {
	struct cache_entry *chain_next;	/* same bucket */
	struct cache_entry *lru_prev;	/* more recently used */
	struct cache_entry *lru_next;	/* less recently used */
	uint32_t expires;		/* second: fresh before it */
	uint32_t stale_until;		/* second: may be served stale before it */
	unsigned channel;
	uint16_t used;			/* second (low bits) of the last move to the front */
	uint8_t type;
	uint8_t name_len;
	char name[];
};

struct cache_bucket {
	struct cache_entry *head;
};

struct dns_cache {
	struct cache_limits limits;
	struct cache_bucket *buckets;
	size_t n_buckets;		/* a power of two */
	struct cache_entry *lru_head;	/* most recently used */
	struct cache_entry *lru_tail;	/* next to be evicted */
	uint64_t hash_key[2];
	struct cache_stats stats;	/* entries and bytes kept up to date */
};

static void cache_init_hash_key(struct dns_cache *cache);
static uint64_t cache_mix(uint64_t a, uint64_t b);
static uint64_t cache_read64(const unsigned char *p);
static uint64_t cache_read32(const unsigned char *p);
static uint64_t cache_hash(const struct dns_cache *cache, unsigned channel, enum dns_type type,
			   const char *name, size_t len);
static struct cache_bucket *cache_bucket_of(struct dns_cache *cache, unsigned channel,
					    enum dns_type type, const char *name, size_t len);
static struct cache_entry **cache_find_slot(struct dns_cache *cache, unsigned channel,
					    enum dns_type type, const char *name, size_t len);
static void cache_grow(struct dns_cache *cache);
static void cache_insert(struct dns_cache *cache, struct cache_entry **slot,
			 struct cache_entry *entry, uint32_t now);
static void cache_remove(struct dns_cache *cache, struct cache_entry **slot);
static void cache_evict_to(struct dns_cache *cache, size_t max_entries);
static void cache_free_entries(struct dns_cache *cache);
static struct cache_entry *cache_entry_new(unsigned channel, enum dns_type type,
					   const char *name, size_t len,
					   const struct dns_answer *answer);
static struct dns_answer *cache_entry_answer(const struct cache_entry *entry);
static size_t cache_answer_offset(size_t name_len);
static size_t cache_entry_size(const struct cache_entry *entry);
static void cache_move_answer(struct dns_answer *to, const struct dns_answer *from,
			      size_t size);
static const void *cache_relocate(const void *pointer, const struct dns_answer *from,
				  size_t size, const struct dns_answer *to);
static bool cache_keeps_old_answer(struct dns_cache *cache, struct cache_entry *entry,
				   uint32_t now);
static uint32_t cache_ttl_of(const struct cache_limits *limits,
			     const struct dns_answer *answer);
static uint32_t cache_second(uint64_t now_ms);
static uint32_t cache_later(uint32_t now, uint32_t seconds);
static void cache_lru_unlink(struct dns_cache *cache, struct cache_entry *entry);
static void cache_lru_push_front(struct dns_cache *cache, struct cache_entry *entry);
static void cache_lru_touch(struct dns_cache *cache, struct cache_entry *entry, uint32_t now);

struct dns_cache *cache_new(const struct cache_limits *limits)
{
	struct dns_cache *cache = xcalloc(1, sizeof(*cache));

	cache->limits = *limits;
	cache->n_buckets = CACHE_BUCKETS_MIN;
	cache->buckets = xcalloc(cache->n_buckets, sizeof(*cache->buckets));
	cache_init_hash_key(cache);
	return cache;
}

void cache_free(struct dns_cache **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	cache_free_entries(*cache);
	free((*cache)->buckets);
	free(*cache);
	*cache = NULL;
}

/* New limits apply to later puts; a smaller max_entries evicts at once. */
void cache_set_limits(struct dns_cache *cache, const struct cache_limits *limits)
{
	cache->limits = *limits;
	cache_evict_to(cache, limits->max_entries);
}

enum cache_lookup cache_get(struct dns_cache *cache, unsigned channel, enum dns_type type,
			    const char *name, uint64_t now_ms, struct route_answer *out)
{
	size_t len = strlen(name);
	uint32_t now = cache_second(now_ms);
	struct cache_entry *entry;

	entry = len > MX_NAME_MAX ? NULL : *cache_find_slot(cache, channel, type, name, len);
	if (entry != NULL && now < entry->expires) {
		cache->stats.hits++;
		cache_lru_touch(cache, entry, now);
		out->answer = cache_entry_answer(entry);
		out->ttl_left = entry->expires - now;
		out->stale = false;
		return CACHE_LOOKUP_HIT;
	}
	if (entry != NULL && now < entry->stale_until) {
		cache->stats.stale++;
		cache_lru_touch(cache, entry, now);
		out->answer = cache_entry_answer(entry);
		out->ttl_left = 0;
		out->stale = true;
		return CACHE_LOOKUP_STALE;
	}
	cache->stats.misses++;
	return CACHE_LOOKUP_MISS;
}

void cache_put(struct dns_cache *cache, unsigned channel, enum dns_type type, const char *name,
	       struct dns_answer *answer, uint64_t now_ms)
{
	size_t len = strlen(name);
	uint32_t now = cache_second(now_ms);
	struct cache_entry **slot, *entry;

	if (answer == NULL)
		return;
	if (len > MX_NAME_MAX || cache->limits.max_entries == 0) {
		dns_answer_free(&answer);
		return;
	}
	slot = cache_find_slot(cache, channel, type, name, len);
	if (*slot != NULL && dns_status_is_temporary(answer->status) &&
	    cache_keeps_old_answer(cache, *slot, now)) {
		cache_lru_touch(cache, *slot, now);
		dns_answer_free(&answer);
		return;
	}
	if (*slot != NULL)
		cache_remove(cache, slot);
	else if (cache->stats.entries >= cache->limits.max_entries)
		cache_evict_to(cache, cache->limits.max_entries - 1);
	if (cache->stats.entries >= cache->n_buckets)
		cache_grow(cache);
	entry = cache_entry_new(channel, type, name, len, answer);
	dns_answer_free(&answer);
	/* eviction and growth move links: look the slot up again */
	cache_insert(cache, cache_find_slot(cache, channel, type, name, len), entry, now);
}

void cache_flush(struct dns_cache *cache)
{
	cache_free_entries(cache);
	memset(cache->buckets, 0, cache->n_buckets * sizeof(*cache->buckets));
}

/* hits, misses, stale and evictions count since cache_new; a flush keeps them. */
void cache_get_stats(const struct dns_cache *cache, struct cache_stats *out)
{
	*out = cache->stats;
	out->bytes += sizeof(*cache) + cache->n_buckets * sizeof(*cache->buckets);
}

/* --- hashing ------------------------------------------------------------ */

static void cache_init_hash_key(struct dns_cache *cache)
{
	if (getrandom(cache->hash_key, sizeof(cache->hash_key), GRND_NONBLOCK) ==
	    (ssize_t)sizeof(cache->hash_key))
		return;
	/* No entropy yet (early boot): weaker, but still differs per process. */
	cache->hash_key[0] = (uint64_t)(uintptr_t)cache ^ 0x9e3779b97f4a7c15u;
	cache->hash_key[1] = (uint64_t)(uintptr_t)&cache_init_hash_key ^ (uint64_t)getpid();
}

/* The two halves of the 128-bit product, folded: the mixing step of wyhash. */
static uint64_t cache_mix(uint64_t a, uint64_t b)
{
	__uint128_t product = (__uint128_t)a * b;	/* GCC and Clang, not ISO C */

	return (uint64_t)product ^ (uint64_t)(product >> 64);
}

static uint64_t cache_read64(const unsigned char *p)
{
	uint64_t word;

	memcpy(&word, p, sizeof(word));
	return word;
}

static uint64_t cache_read32(const unsigned char *p)
{
	uint32_t word;

	memcpy(&word, p, sizeof(word));
	return word;
}

/*
 * Keyed multiply-mix hash of (channel, type, name) with the structure of
 * wyhash: fixed-size, overlapping loads, no byte loop. With a secret key a
 * sender cannot choose names that share a chain; SipHash would do the
 * same at three times the cost of the whole lookup.
 */
static uint64_t cache_hash(const struct dns_cache *cache, unsigned channel, enum dns_type type,
			   const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	uint64_t k0 = cache->hash_key[0], k1 = cache->hash_key[1];
	uint64_t h = k0 ^ ((uint64_t)channel << 32 | (uint64_t)type << 16);
	uint64_t a, b;

	if (len <= 16) {
		if (len >= 4) {
			size_t mid = (len >> 3) << 2;

			a = cache_read32(p) << 32 | cache_read32(p + mid);
			b = cache_read32(p + len - 4) << 32 | cache_read32(p + len - 4 - mid);
		} else if (len > 0) {
			a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = len;

		for (; left > 16; p += 16, left -= 16)
			h = cache_mix(cache_read64(p) ^ k1, cache_read64(p + 8) ^ h);
		a = cache_read64(p + left - 16);
		b = cache_read64(p + left - 8);
	}
	return cache_mix(k1 ^ len, cache_mix(a ^ k1, b ^ h));
}

/* --- the table ----------------------------------------------------------- */

static struct cache_bucket *cache_bucket_of(struct dns_cache *cache, unsigned channel,
					    enum dns_type type, const char *name, size_t len)
{
	uint64_t hash = cache_hash(cache, channel, type, name, len);

	return &cache->buckets[hash & (cache->n_buckets - 1)];
}

/* The link that points at the entry for the key, or at the NULL ending its chain. */
static struct cache_entry **cache_find_slot(struct dns_cache *cache, unsigned channel,
					    enum dns_type type, const char *name, size_t len)
{
	struct cache_entry **slot = &cache_bucket_of(cache, channel, type, name, len)->head;

	for (; *slot != NULL; slot = &(*slot)->chain_next) {
		const struct cache_entry *entry = *slot;

		if (entry->name_len == len && entry->type == type && entry->channel == channel &&
		    memcmp(entry->name, name, len) == 0)
			break;
	}
	return slot;
}

/* Doubles the bucket array, keeping the load factor at most one. */
static void cache_grow(struct dns_cache *cache)
{
	struct cache_bucket *old = cache->buckets;
	size_t old_n = cache->n_buckets;

	cache->n_buckets = old_n * 2;
	cache->buckets = xcalloc(cache->n_buckets, sizeof(*cache->buckets));
	for (size_t i = 0; i < old_n; i++) {
		while (old[i].head != NULL) {
			struct cache_entry *entry = old[i].head;
			struct cache_bucket *bucket;

			bucket = cache_bucket_of(cache, entry->channel, entry->type, entry->name,
						 entry->name_len);
			old[i].head = entry->chain_next;
			entry->chain_next = bucket->head;
			bucket->head = entry;
		}
	}
	free(old);
}

/* Links a new entry in at *slot (the end of its chain) and at the LRU front. */
static void cache_insert(struct dns_cache *cache, struct cache_entry **slot,
			 struct cache_entry *entry, uint32_t now)
{
	entry->chain_next = NULL;
	*slot = entry;
	cache_lru_push_front(cache, entry);
	entry->used = (uint16_t)now;
	entry->expires = cache_later(now, cache_ttl_of(&cache->limits, cache_entry_answer(entry)));
	entry->stale_until = 0;
	cache->stats.entries++;
	cache->stats.bytes += cache_entry_size(entry);
}

/* Unlinks the entry *slot points at from its chain and the LRU, and frees it. */
static void cache_remove(struct dns_cache *cache, struct cache_entry **slot)
{
	struct cache_entry *entry = *slot;

	*slot = entry->chain_next;
	cache_lru_unlink(cache, entry);
	cache->stats.entries--;
	cache->stats.bytes -= cache_entry_size(entry);
	free(entry);
}

/* Least recently used first out, until at most max_entries remain. */
static void cache_evict_to(struct dns_cache *cache, size_t max_entries)
{
	while (cache->stats.entries > max_entries) {
		struct cache_entry *victim = cache->lru_tail;

		cache_remove(cache, cache_find_slot(cache, victim->channel, victim->type,
						    victim->name, victim->name_len));
		cache->stats.evictions++;
	}
}

static void cache_free_entries(struct dns_cache *cache)
{
	while (cache->lru_head != NULL) {
		struct cache_entry *entry = cache->lru_head;

		cache->lru_head = entry->lru_next;
		free(entry);
	}
	cache->lru_tail = NULL;
	cache->stats.entries = 0;
	cache->stats.bytes = 0;
}

/* --- entries and the answers inside them ---------------------------------- */

static struct cache_entry *cache_entry_new(unsigned channel, enum dns_type type,
					   const char *name, size_t len,
					   const struct dns_answer *answer)
{
	size_t answer_size = dns_answer_size(answer);
	struct cache_entry *entry = xmalloc(cache_answer_offset(len) + answer_size);

	memset(entry, 0, sizeof(*entry));
	entry->channel = channel;
	entry->type = (uint8_t)type;
	entry->name_len = (uint8_t)len;
	memcpy(entry->name, name, len);
	entry->name[len] = '\0';
	cache_move_answer(cache_entry_answer(entry), answer, answer_size);
	return entry;
}

static struct dns_answer *cache_entry_answer(const struct cache_entry *entry)
{
	/* the entry owns the block; the const is only the caller's view of it */
	char *block = (char *)(uintptr_t)entry;

	return (struct dns_answer *)(void *)(block + cache_answer_offset(entry->name_len));
}

/* Where the answer starts: after the name, aligned for the answer's header
 * (which suffices for its records: see the static assertion). */
static size_t cache_answer_offset(size_t name_len)
{
	size_t align = alignof(struct dns_answer);

	return (offsetof(struct cache_entry, name) + name_len + 1 + align - 1) & ~(align - 1);
}

static size_t cache_entry_size(const struct cache_entry *entry)
{
	return cache_answer_offset(entry->name_len) + dns_answer_size(cache_entry_answer(entry));
}

/*
 * Copies an answer into an entry. dns.h makes an answer one block (the
 * header, the records, the strings) whose pointers point into itself, with
 * dns_answer_size() its length: a byte copy, with each of those pointers
 * shifted by the distance moved, is a complete and independent answer.
 */
static void cache_move_answer(struct dns_answer *to, const struct dns_answer *from,
			      size_t size)
{
	memcpy(to, from, size);
	to->cname = cache_relocate(to->cname, from, size, to);
	if (to->type != DNS_TYPE_MX) {
		to->rr.addr = (struct mx_addr *)(uintptr_t)cache_relocate(to->rr.addr, from,
									   size, to);
		return;
	}
	to->rr.mx = (struct dns_mx *)(uintptr_t)cache_relocate(to->rr.mx, from, size, to);
	for (size_t i = 0; i < to->n; i++)
		to->rr.mx[i].host = cache_relocate(to->rr.mx[i].host, from, size, to);
}

/* A pointer into from's block (its end included) moves into to's; others stay. */
static const void *cache_relocate(const void *pointer, const struct dns_answer *from,
				  size_t size, const struct dns_answer *to)
{
	uintptr_t p = (uintptr_t)pointer, base = (uintptr_t)from;

	if (pointer == NULL || p < base || p - base > size)
		return pointer;
	return (const char *)to + (p - base);
}

/* --- lifetimes ------------------------------------------------------------- */

/*
 * A temporary failure does not replace a real answer that is still fresh,
 * nor one that expired less than serve_stale ago: that one is served stale
 * for stale_retry seconds, then a miss again so the caller retries (RFC 8767).
 */
static bool cache_keeps_old_answer(struct dns_cache *cache, struct cache_entry *entry,
				   uint32_t now)
{
	const struct cache_limits *limits = &cache->limits;

	if (dns_status_is_temporary(cache_entry_answer(entry)->status))
		return false;
	if (now < entry->expires)
		return true;
	if (now - entry->expires >= limits->serve_stale)
		return false;
	entry->stale_until = cache_later(now, limits->stale_retry);
	return true;
}

/* Temporary failures live failure_ttl; answers their TTL within [min_ttl, max_ttl]. */
static uint32_t cache_ttl_of(const struct cache_limits *limits, const struct dns_answer *answer)
{
	uint32_t ttl = answer->ttl;

	if (dns_status_is_temporary(answer->status))
		return limits->failure_ttl;
	if (ttl < limits->min_ttl)
		ttl = limits->min_ttl;
	if (ttl > limits->max_ttl)
		ttl = limits->max_ttl;
	return ttl;
}

/* The caller's clock in whole seconds; 32 bits last 136 years. */
static uint32_t cache_second(uint64_t now_ms)
{
	return (uint32_t)(now_ms / CACHE_MS_PER_S);
}

/* now + seconds, saturating rather than wrapping. */
static uint32_t cache_later(uint32_t now, uint32_t seconds)
{
	return seconds > UINT32_MAX - now ? UINT32_MAX : now + seconds;
}

/* --- the LRU list ------------------------------------------------------------ */

static void cache_lru_unlink(struct dns_cache *cache, struct cache_entry *entry)
{
	if (entry->lru_prev != NULL)
		entry->lru_prev->lru_next = entry->lru_next;
	else
		cache->lru_head = entry->lru_next;
	if (entry->lru_next != NULL)
		entry->lru_next->lru_prev = entry->lru_prev;
	else
		cache->lru_tail = entry->lru_prev;
	entry->lru_prev = entry->lru_next = NULL;
}

static void cache_lru_push_front(struct dns_cache *cache, struct cache_entry *entry)
{
	entry->lru_prev = NULL;
	entry->lru_next = cache->lru_head;
	if (cache->lru_head != NULL)
		cache->lru_head->lru_prev = entry;
	else
		cache->lru_tail = entry;
	cache->lru_head = entry;
}

/* A lookup's move to the front, at most once a second per entry. */
static void cache_lru_touch(struct dns_cache *cache, struct cache_entry *entry, uint32_t now)
{
	if (entry->used == (uint16_t)now)
		return;
	entry->used = (uint16_t)now;
	cache_lru_unlink(cache, entry);
	cache_lru_push_front(cache, entry);
}
