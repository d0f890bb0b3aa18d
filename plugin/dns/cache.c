/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - DNS answer cache: TTLs, negative entries, LRU, serve-stale
 *
 * Built for the warm path (several lookups per routing decision, a million
 * decisions a second) and for memory (hundreds of thousands of answers).
 * Four parts, each a section below:
 *
 * - the index: open addressing over a compact array of 8-octet slots
 *   {tag, id}, linear probing kept in Robin Hood order, at most 4/5 full.
 *   The tag is 32 bits of the key's hash and its low bits are the home
 *   slot, so a probe compares tags without touching an entry, and neither
 *   growing nor deleting (a backward shift, no tombstones) reads one. The
 *   hash is keyed with a random key drawn per cache, so names chosen by a
 *   sender cannot pile up in one run of slots.
 * - the entries: each one block holding the answer as dnsanswer.c built
 *   it, moved in (see cache_move_answer) with the cache's own 22 octets
 *   (struct cache_entry: LRU links, expiry, stale limit, last use, channel,
 *   type) and the name, without its NUL, spliced in between the answer's
 *   records and its strings. The block starts with the struct dns_answer
 *   the engine reads; the cache's fields follow at dns_answer_head_size(),
 *   so a lookup finds them from the header alone, without a strlen, and
 *   the engine reads the answer from the lines the lookup just fetched.
 *   An entry is named by a 32-bit id rather than a pointer: the slots and
 *   the LRU links are half the size. A warm A or AAAA answer of one
 *   address under a 21-octet name is 24 + 20 + 22 + 21 = 87 octets, 88
 *   with rounding (112 before this layout and the 24-octet dns_answer);
 *   bench_memory --breakdown shows where every octet goes.
 * - the LRU list, through the entries' own fields (most recently used first).
 *   Recency has one-second resolution, as in memcached: a hit moves its
 *   entry to the front at most once a second, so the hot path does not
 *   write to two unrelated entries on every lookup.
 * - the pages the entries are carved from: 8 KiB each, one size class per
 *   8 octets up to 1 KiB, without malloc's per-chunk header and rounding
 *   to 16. An id is (page, offset). A page is freed when its last entry
 *   goes; a larger entry gets a page of its own.
 *
 * cache_get neither allocates nor frees: an answer it hands out stays valid
 * until the next cache_put, cache_flush or cache_set_limits, as cache.h
 * promises. Expired entries stay in place until a put replaces them or the
 * LRU evicts them, since an expired answer may still be served stale.
 * Times are whole seconds (now_ms / 1000, 32 bits): an answer expires up
 * to a second early, never late.
 *
 * Names arrive normalised (lower case, no trailing dot) and are compared
 * exactly; a name longer than MX_NAME_MAX, or a channel above 65535 (one
 * per static route with its own servers), is not cached. No clock, no
 * locks: time is passed in, and the event-loop thread owns the cache.
 */
#include <assert.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mxpath/dns/cache.h"
#include "mxpath/base/common.h"

#define CACHE_ID_NONE UINT32_MAX	/* no entry, no page */
#define CACHE_NOT_FOUND SIZE_MAX	/* no slot */
#define CACHE_SLOTS_MIN 64
#define CACHE_LOAD_NUM 4		/* the index grows beyond 4/5 full */
#define CACHE_LOAD_DEN 5
#define CACHE_MS_PER_S 1000u

#define CACHE_UNIT 8			/* octets: entries are multiples of it */
#define CACHE_OFFSET_BITS 10		/* an id is page << 10 | offset in units */
#define CACHE_PAGE_UNITS (1u << CACHE_OFFSET_BITS)
#define CACHE_PAGE_SIZE ((size_t)CACHE_PAGE_UNITS * CACHE_UNIT)	/* 8 KiB */
#define CACHE_CLASS_MAX 128		/* units: larger entries get their own page */
#define CACHE_PAGES_MAX (CACHE_ID_NONE >> CACHE_OFFSET_BITS)	/* keeps CACHE_ID_NONE free */
#define CACHE_BLOCK_NONE UINT16_MAX	/* end of a page's free blocks */

#define CACHE_CHANNEL_MAX UINT16_MAX	/* higher channels are not cached */

/* An answer's records are aligned within its block; moving the block to an
 * address aligned for the header must keep them aligned. */
static_assert(alignof(struct dns_mx) <= alignof(struct dns_answer) &&
		      alignof(struct mx_addr) <= alignof(struct dns_answer),
	      "answer records need more alignment than the answer header");
/* Entries start at multiples of CACHE_UNIT within malloc'd pages. */
static_assert(alignof(struct dns_answer) <= CACHE_UNIT, "answers need more alignment");

/*
 * The cache's own fields of an entry. A block holds the answer's header
 * and records (dns_answer_head_size), these fields 4-aligned, the name
 * without a NUL, then the answer's strings: all found without a strlen.
 */
struct cache_entry {
	uint32_t lru_prev;		/* id of the more recently used, or CACHE_ID_NONE */
	uint32_t lru_next;		/* id of the less recently used, or CACHE_ID_NONE */
	uint32_t expires;		/* second: fresh before it */
	uint32_t stale_until;		/* second: may be served stale before it */
	uint16_t used;			/* second (low bits) of the last move to the front */
	uint16_t channel;
	uint8_t type;			/* the key's (an answer may have been put under another) */
	uint8_t name_len;
	char name[];			/* name_len octets, no NUL */
};
static_assert(alignof(struct cache_entry) == 4, "the entry's fields follow the answer 4-aligned");
static_assert(sizeof(struct dns_answer) + offsetof(struct cache_entry, name) > (size_t)5 * CACHE_UNIT,
	      "entries of 5 units or fewer allow more ids than cache_insert counts on");

/* A slot of the index; id CACHE_ID_NONE is an empty slot. */
struct cache_slot {
	uint32_t tag;			/* the high half of the key's hash */
	uint32_t id;
};

/*
 * A page of entries of one size, or one large entry (units 0). Blocks are
 * handed out from the freed ones first, then from fresh up. The pages of a
 * class with a free block are linked through prev and next; so are the
 * page numbers not in use (next only).
 */
struct cache_page {
	char *base;			/* NULL: the number is not in use */
	uint32_t prev, next;		/* page numbers, or CACHE_ID_NONE */
	uint16_t units;			/* block size */
	uint16_t live;			/* blocks in use */
	uint16_t free_block;		/* offset of a freed block, or CACHE_BLOCK_NONE */
	uint16_t fresh;			/* offset of the first block never handed out */
};

struct dns_cache {
	struct cache_limits limits;
	struct cache_slot *slots;
	size_t n_slots;			/* a power of two */
	struct cache_page *pages;
	uint32_t n_pages, cap_pages;
	uint32_t spare_pages;		/* first page number not in use */
	uint32_t with_room[CACHE_CLASS_MAX + 1];	/* per size in units: pages with room */
	uint32_t lru_head;		/* most recently used */
	uint32_t lru_tail;		/* next to be evicted */
	uint64_t hash_key[2];
	struct cache_stats stats;	/* entries and bytes kept up to date */
};

static void cache_init_hash_key(struct dns_cache *cache);
static uint64_t cache_mix(uint64_t a, uint64_t b);
static uint64_t cache_read64(const unsigned char *p);
static uint64_t cache_read32(const unsigned char *p);
static uint64_t cache_hash(const struct dns_cache *cache, unsigned channel, enum dns_type type,
			   const char *name, size_t len);
static uint32_t cache_tag(const struct dns_cache *cache, unsigned channel, enum dns_type type,
			  const char *name, size_t len);

static size_t cache_index_find(const struct dns_cache *cache, uint32_t tag, unsigned channel,
			       enum dns_type type, const char *name, size_t len);
static size_t cache_index_find_id(const struct dns_cache *cache, uint32_t tag, uint32_t id);
static void cache_index_insert(struct dns_cache *cache, struct cache_slot slot);
static void cache_index_delete(struct dns_cache *cache, size_t pos);
static void cache_index_grow(struct dns_cache *cache);
static void cache_index_clear(struct cache_slot *slots, size_t n);

static void cache_insert(struct dns_cache *cache, uint32_t tag, uint32_t id, uint32_t now);
static void cache_remove(struct dns_cache *cache, size_t pos);
static void cache_evict_to(struct dns_cache *cache, size_t max_entries);

static uint32_t cache_entry_new(struct dns_cache *cache, unsigned channel, enum dns_type type,
				const char *name, size_t len, const struct dns_answer *answer);
static struct dns_answer *cache_answer_at(const struct dns_cache *cache, uint32_t id);
static struct cache_entry *cache_entry_at(const struct dns_cache *cache, uint32_t id);
static struct cache_entry *cache_entry_of(const struct dns_answer *answer);
static bool cache_entry_has_key(const struct dns_cache *cache, uint32_t id, unsigned channel,
				enum dns_type type, const char *name, size_t len);
static size_t cache_entry_offset(size_t head_size);
static size_t cache_entry_size(const struct dns_cache *cache, uint32_t id);
static void cache_move_answer(struct dns_answer *to, const struct dns_answer *from,
			      size_t size, size_t gap);
static const char *cache_relocate(const char *pointer, const struct dns_answer *from,
				  size_t size, const struct dns_answer *to, size_t gap);

static bool cache_keeps_old_answer(struct dns_cache *cache, uint32_t id, uint32_t now);
static uint32_t cache_ttl_of(const struct cache_limits *limits,
			     const struct dns_answer *answer);
static uint32_t cache_second(uint64_t now_ms);
static uint32_t cache_later(uint32_t now, uint32_t seconds);

static void cache_lru_unlink(struct dns_cache *cache, uint32_t id);
static void cache_lru_push_front(struct dns_cache *cache, uint32_t id);
static void cache_lru_touch(struct dns_cache *cache, uint32_t id, struct cache_entry *entry,
			    uint32_t now);

static uint32_t cache_block_alloc(struct dns_cache *cache, size_t size);
static void cache_block_free(struct dns_cache *cache, uint32_t id);
static uint32_t cache_page_new(struct dns_cache *cache, size_t units, size_t size);
static void cache_page_release(struct dns_cache *cache, uint32_t page);
static bool cache_page_is_full(const struct cache_page *page);
static void cache_room_push(struct dns_cache *cache, uint32_t page);
static void cache_room_unlink(struct dns_cache *cache, uint32_t page);
static void cache_pages_free(struct dns_cache *cache);

static size_t cache_entry_measure(const struct dns_cache *cache, uint32_t id,
				  struct cache_memory *out);
static size_t cache_block_size(const struct dns_cache *cache, uint32_t id);

struct dns_cache *cache_new(const struct cache_limits *limits)
{
	struct dns_cache *cache = xcalloc(1, sizeof(*cache));

	cache->limits = *limits;
	cache->n_slots = CACHE_SLOTS_MIN;
	cache->slots = xreallocarray(NULL, cache->n_slots, sizeof(*cache->slots));
	cache_index_clear(cache->slots, cache->n_slots);
	cache->spare_pages = CACHE_ID_NONE;
	for (size_t i = 0; i < MX_ARRAY_LEN(cache->with_room); i++)
		cache->with_room[i] = CACHE_ID_NONE;
	cache->lru_head = cache->lru_tail = CACHE_ID_NONE;
	cache_init_hash_key(cache);
	return cache;
}

void cache_free(struct dns_cache **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	cache_pages_free(*cache);
	free((*cache)->slots);
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
			    const char *name, uint64_t now_ms, struct dns_lookup_result *out)
{
	size_t len = strlen(name);
	uint32_t now = cache_second(now_ms);
	size_t pos = CACHE_NOT_FOUND;
	struct cache_entry *entry = NULL;
	struct dns_answer *answer = NULL;
	uint32_t id = CACHE_ID_NONE;

	if (len <= MX_NAME_MAX && channel <= CACHE_CHANNEL_MAX)
		pos = cache_index_find(cache, cache_tag(cache, channel, type, name, len), channel,
				       type, name, len);
	if (pos != CACHE_NOT_FOUND) {
		id = cache->slots[pos].id;
		answer = cache_answer_at(cache, id);
		entry = cache_entry_of(answer);
	}
	if (entry != NULL && now < entry->expires) {
		cache->stats.hits++;
		cache_lru_touch(cache, id, entry, now);
		out->answer = answer;
		out->ttl_left = entry->expires - now;
		out->stale = false;
		return CACHE_LOOKUP_HIT;
	}
	if (entry != NULL && now < entry->stale_until) {
		cache->stats.stale++;
		cache_lru_touch(cache, id, entry, now);
		out->answer = answer;
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
	uint32_t tag, id;
	size_t pos;

	if (answer == NULL)
		return;
	if (len > MX_NAME_MAX || channel > CACHE_CHANNEL_MAX || cache->limits.max_entries == 0) {
		dns_answer_free(&answer);
		return;
	}
	tag = cache_tag(cache, channel, type, name, len);
	pos = cache_index_find(cache, tag, channel, type, name, len);
	if (pos != CACHE_NOT_FOUND && dns_status_is_temporary(answer->status) &&
	    cache_keeps_old_answer(cache, cache->slots[pos].id, now)) {
		cache_lru_touch(cache, cache->slots[pos].id,
				cache_entry_at(cache, cache->slots[pos].id), now);
		dns_answer_free(&answer);
		return;
	}
	if (pos != CACHE_NOT_FOUND)
		cache_remove(cache, pos);
	else if (cache->stats.entries >= cache->limits.max_entries)
		cache_evict_to(cache, cache->limits.max_entries - 1);
	id = cache_entry_new(cache, channel, type, name, len, answer);
	dns_answer_free(&answer);
	if (id != CACHE_ID_NONE)
		cache_insert(cache, tag, id, now);
}

void cache_flush(struct dns_cache *cache)
{
	cache_pages_free(cache);
	cache_index_clear(cache->slots, cache->n_slots);
	cache->lru_head = cache->lru_tail = CACHE_ID_NONE;
	cache->stats.entries = 0;
	cache->stats.bytes = 0;
}

/* hits, misses, stale and evictions count since cache_new; a flush keeps them. */
void cache_get_stats(const struct dns_cache *cache, struct cache_stats *out)
{
	*out = cache->stats;
	out->bytes += sizeof(*cache) + cache->n_slots * sizeof(*cache->slots);
}

/* Walks the LRU list and the pages: for benchmarks, not the hot path. */
void cache_get_memory(const struct dns_cache *cache, struct cache_memory *out)
{
	size_t blocks = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t id = cache->lru_head; id != CACHE_ID_NONE;
	     id = cache_entry_at(cache, id)->lru_next)
		blocks += cache_entry_measure(cache, id, out);
	for (uint32_t i = 0; i < cache->n_pages; i++) {
		const struct cache_page *page = &cache->pages[i];

		if (page->base == NULL)
			continue;
		out->n_pages++;
		out->pages += page->units != 0 ? CACHE_PAGE_SIZE
					       : cache_block_size(cache, i << CACHE_OFFSET_BITS);
	}
	out->page_slack = out->pages - blocks;
	out->page_table = cache->cap_pages * sizeof(*cache->pages);
	out->index = cache->n_slots * sizeof(*cache->slots);
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
 * sender cannot choose names that share a run of slots; SipHash would do
 * the same at three times the cost of the whole lookup.
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

/* The slot's tag: the high half of the hash, whose low bits are the home slot. */
static uint32_t cache_tag(const struct dns_cache *cache, unsigned channel, enum dns_type type,
			  const char *name, size_t len)
{
	return (uint32_t)(cache_hash(cache, channel, type, name, len) >> 32);
}

/* --- the index ------------------------------------------------------------- */

/*
 * The slot of the entry with the key, or CACHE_NOT_FOUND. In Robin Hood
 * order a key lies no farther from its home than the slots it passes:
 * meeting one closer to its own home ends the search.
 */
static size_t cache_index_find(const struct dns_cache *cache, uint32_t tag, unsigned channel,
			       enum dns_type type, const char *name, size_t len)
{
	size_t mask = cache->n_slots - 1;

	for (size_t pos = tag & mask, distance = 0;; pos = (pos + 1) & mask, distance++) {
		const struct cache_slot *slot = &cache->slots[pos];

		if (slot->id == CACHE_ID_NONE || ((pos - slot->tag) & mask) < distance)
			return CACHE_NOT_FOUND;
		if (slot->tag == tag &&
		    cache_entry_has_key(cache, slot->id, channel, type, name, len))
			return pos;
	}
}

/* The slot holding id, which the index has under tag. */
static size_t cache_index_find_id(const struct dns_cache *cache, uint32_t tag, uint32_t id)
{
	size_t mask = cache->n_slots - 1;
	size_t pos = tag & mask;

	while (cache->slots[pos].id != id)
		pos = (pos + 1) & mask;
	return pos;
}

/* Robin Hood: the new slot takes the place of the first one nearer its home. */
static void cache_index_insert(struct dns_cache *cache, struct cache_slot slot)
{
	size_t mask = cache->n_slots - 1;

	for (size_t pos = slot.tag & mask, distance = 0;; pos = (pos + 1) & mask, distance++) {
		struct cache_slot *at = &cache->slots[pos];
		size_t its_distance = (pos - at->tag) & mask;

		if (at->id == CACHE_ID_NONE) {
			*at = slot;
			return;
		}
		if (its_distance < distance) {
			struct cache_slot displaced = *at;

			*at = slot;
			slot = displaced;
			distance = its_distance;
		}
	}
}

/* Empties the slot, moving back the run after it that is away from home. */
static void cache_index_delete(struct dns_cache *cache, size_t pos)
{
	size_t mask = cache->n_slots - 1;

	for (;;) {
		size_t next = (pos + 1) & mask;
		const struct cache_slot *slot = &cache->slots[next];

		if (slot->id == CACHE_ID_NONE || (slot->tag & mask) == next)
			break;
		cache->slots[pos] = *slot;
		pos = next;
	}
	cache->slots[pos].id = CACHE_ID_NONE;
}

/* Doubles the slots; their tags say where they go, no entry is read. */
static void cache_index_grow(struct dns_cache *cache)
{
	struct cache_slot *old = cache->slots;
	size_t old_n = cache->n_slots;

	cache->n_slots = old_n * 2;
	cache->slots = xreallocarray(NULL, cache->n_slots, sizeof(*cache->slots));
	cache_index_clear(cache->slots, cache->n_slots);
	for (size_t i = 0; i < old_n; i++) {
		if (old[i].id != CACHE_ID_NONE)
			cache_index_insert(cache, old[i]);
	}
	free(old);
}

static void cache_index_clear(struct cache_slot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slots[i] = (struct cache_slot){ .tag = 0, .id = CACHE_ID_NONE };
}

/* --- entries in the index and the LRU -------------------------------------- */

/* Adds a new entry to the index (growing it first if need be) and the LRU front. */
static void cache_insert(struct dns_cache *cache, uint32_t tag, uint32_t id, uint32_t now)
{
	struct cache_entry *entry = cache_entry_at(cache, id);

	/* Never full, so probes end. The ids allow fewer than 2^30 entries (2^32
	 * units, 6 or more each: 24 + 22 octets at least): the index stays
	 * below 2^32 slots, where a tag still holds the home's bits. */
	if ((cache->stats.entries + 1) * CACHE_LOAD_DEN > cache->n_slots * CACHE_LOAD_NUM)
		cache_index_grow(cache);
	cache_index_insert(cache, (struct cache_slot){ .tag = tag, .id = id });
	cache_lru_push_front(cache, id);
	entry->used = (uint16_t)now;
	entry->expires = cache_later(now, cache_ttl_of(&cache->limits, cache_answer_at(cache, id)));
	entry->stale_until = 0;
	cache->stats.entries++;
	cache->stats.bytes += cache_entry_size(cache, id);
}

/* Takes the entry in slot pos out of the index and the LRU, and frees it. */
static void cache_remove(struct dns_cache *cache, size_t pos)
{
	uint32_t id = cache->slots[pos].id;

	cache_index_delete(cache, pos);
	cache_lru_unlink(cache, id);
	cache->stats.entries--;
	cache->stats.bytes -= cache_entry_size(cache, id);
	cache_block_free(cache, id);
}

/* Least recently used first out, until at most max_entries remain. */
static void cache_evict_to(struct dns_cache *cache, size_t max_entries)
{
	while (cache->stats.entries > max_entries) {
		uint32_t id = cache->lru_tail;
		const struct cache_entry *victim = cache_entry_at(cache, id);
		uint32_t tag = cache_tag(cache, victim->channel, victim->type, victim->name,
					 victim->name_len);

		cache_remove(cache, cache_index_find_id(cache, tag, id));
		cache->stats.evictions++;
	}
}

/* --- entries and the answers inside them ---------------------------------- */

/* A new entry holding a copy of answer, or CACHE_ID_NONE if no id is left. */
static uint32_t cache_entry_new(struct dns_cache *cache, unsigned channel, enum dns_type type,
				const char *name, size_t len, const struct dns_answer *answer)
{
	size_t answer_size = dns_answer_size(answer);
	size_t head = dns_answer_head_size(answer);
	size_t gap = cache_entry_offset(head) - head + offsetof(struct cache_entry, name) + len;
	uint32_t id = cache_block_alloc(cache, answer_size + gap);
	struct dns_answer *copy;
	struct cache_entry *entry;

	if (id == CACHE_ID_NONE)
		return CACHE_ID_NONE;
	copy = cache_answer_at(cache, id);
	cache_move_answer(copy, answer, answer_size, gap);
	entry = cache_entry_of(copy);
	memset(entry, 0, offsetof(struct cache_entry, name));
	entry->channel = (uint16_t)channel;
	entry->type = (uint8_t)type;
	entry->name_len = (uint8_t)len;
	memcpy(entry->name, name, len);
	return id;
}

/* The block of the entry: it starts with the answer. */
static struct dns_answer *cache_answer_at(const struct dns_cache *cache, uint32_t id)
{
	char *base = cache->pages[id >> CACHE_OFFSET_BITS].base;

	return (struct dns_answer *)(void *)(base + (size_t)(id & (CACHE_PAGE_UNITS - 1)) *
							     CACHE_UNIT);
}

static struct cache_entry *cache_entry_at(const struct dns_cache *cache, uint32_t id)
{
	return cache_entry_of(cache_answer_at(cache, id));
}

/* The cache's fields after an answer in the cache. */
static struct cache_entry *cache_entry_of(const struct dns_answer *answer)
{
	/* the cache owns the block; the const is only the caller's view of it */
	char *block = (char *)(uintptr_t)answer;

	return (struct cache_entry *)(void *)(block +
					      cache_entry_offset(dns_answer_head_size(answer)));
}

static bool cache_entry_has_key(const struct dns_cache *cache, uint32_t id, unsigned channel,
				enum dns_type type, const char *name, size_t len)
{
	const struct cache_entry *entry = cache_entry_at(cache, id);

	return entry->name_len == len && entry->type == type && entry->channel == channel &&
	       memcmp(entry->name, name, len) == 0;
}

/* Where the cache's fields start: after the answer's records, aligned for them. */
static size_t cache_entry_offset(size_t head_size)
{
	size_t align = alignof(struct cache_entry);

	return (head_size + align - 1) & ~(align - 1);
}

/* Octets of the entry: the answer, the padding, the cache's fields, the name. */
static size_t cache_entry_size(const struct dns_cache *cache, uint32_t id)
{
	const struct dns_answer *answer = cache_answer_at(cache, id);
	size_t head = dns_answer_head_size(answer);

	return dns_answer_size(answer) + cache_entry_offset(head) - head +
	       offsetof(struct cache_entry, name) + cache_entry_of(answer)->name_len;
}

/*
 * Copies an answer into an entry, gap octets (the cache's fields and the
 * name) between its records and its strings. dns.h makes an answer one
 * block (the header, the records, the strings) whose pointers point into
 * itself, with dns_answer_size() its length: a byte copy, with each of
 * those pointers shifted by the distance its target moved, is a complete
 * and independent answer.
 */
static void cache_move_answer(struct dns_answer *to, const struct dns_answer *from,
			      size_t size, size_t gap)
{
	size_t head = dns_answer_head_size(from);

	memcpy(to, from, head);
	memcpy((char *)to + head + gap, (const char *)from + head, size - head);
	to->cname = cache_relocate(to->cname, from, size, to, gap);
	if (to->type != DNS_TYPE_MX) {
		to->rr.addr = (struct mx_addr *)(void *)((char *)to + ((const char *)from->rr.addr -
								       (const char *)from));
		return;
	}
	to->rr.mx = (struct dns_mx *)(void *)((char *)to +
					      ((const char *)from->rr.mx - (const char *)from));
	for (size_t i = 0; i < to->n; i++)
		to->rr.mx[i].host = cache_relocate(to->rr.mx[i].host, from, size, to, gap);
}

/* A string in from's block (its end included) moves into to's, gap octets
 * further on; others stay. */
static const char *cache_relocate(const char *pointer, const struct dns_answer *from,
				  size_t size, const struct dns_answer *to, size_t gap)
{
	uintptr_t p = (uintptr_t)pointer, base = (uintptr_t)from;

	if (pointer == NULL || p < base || p - base > size)
		return pointer;
	return (const char *)to + (p - base) + gap;
}

/* Adds the entry's parts to *out; returns the size of its block. */
static size_t cache_entry_measure(const struct dns_cache *cache, uint32_t id,
				  struct cache_memory *out)
{
	const struct dns_answer *answer = cache_answer_at(cache, id);
	bool is_mx = answer->type == DNS_TYPE_MX;
	size_t size = dns_answer_size(answer), head = dns_answer_head_size(answer);
	size_t records = answer->n * (is_mx ? sizeof(struct dns_mx) : sizeof(struct mx_addr));
	size_t block = cache_block_size(cache, id);

	out->entries++;
	out->headers += offsetof(struct cache_entry, name);
	out->names += cache_entry_of(answer)->name_len;
	out->padding += cache_entry_offset(head) - sizeof(*answer) - records;
	out->answer_headers += sizeof(*answer);
	out->records += records;
	out->strings += size - head;
	out->rounding += block - cache_entry_size(cache, id);
	return block;
}

/* The octets of the entry's block: its size class, or a large entry's own size. */
static size_t cache_block_size(const struct dns_cache *cache, uint32_t id)
{
	const struct cache_page *page = &cache->pages[id >> CACHE_OFFSET_BITS];

	if (page->units == 0)
		return cache_entry_size(cache, id);
	return (size_t)page->units * CACHE_UNIT;
}

/* --- lifetimes ------------------------------------------------------------- */

/*
 * A temporary failure does not replace a real answer that is still fresh,
 * nor one that expired less than serve_stale ago: that one is served stale
 * for stale_retry seconds, then a miss again so the caller retries (RFC 8767).
 */
static bool cache_keeps_old_answer(struct dns_cache *cache, uint32_t id, uint32_t now)
{
	const struct cache_limits *limits = &cache->limits;
	const struct dns_answer *answer = cache_answer_at(cache, id);
	struct cache_entry *entry = cache_entry_of(answer);

	if (dns_status_is_temporary(answer->status))
		return false;
	if (now < entry->expires)
		return true;
	if (now - entry->expires >= limits->serve_stale)
		return false;
	entry->stale_until = cache_later(now, limits->stale_retry);
	return true;
}

uint32_t cache_answer_ttl(const struct dns_cache *cache, const struct dns_answer *answer)
{
	return cache_ttl_of(&cache->limits, answer);
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

static void cache_lru_unlink(struct dns_cache *cache, uint32_t id)
{
	struct cache_entry *entry = cache_entry_at(cache, id);

	if (entry->lru_prev != CACHE_ID_NONE)
		cache_entry_at(cache, entry->lru_prev)->lru_next = entry->lru_next;
	else
		cache->lru_head = entry->lru_next;
	if (entry->lru_next != CACHE_ID_NONE)
		cache_entry_at(cache, entry->lru_next)->lru_prev = entry->lru_prev;
	else
		cache->lru_tail = entry->lru_prev;
	entry->lru_prev = entry->lru_next = CACHE_ID_NONE;
}

static void cache_lru_push_front(struct dns_cache *cache, uint32_t id)
{
	struct cache_entry *entry = cache_entry_at(cache, id);

	entry->lru_prev = CACHE_ID_NONE;
	entry->lru_next = cache->lru_head;
	if (cache->lru_head != CACHE_ID_NONE)
		cache_entry_at(cache, cache->lru_head)->lru_prev = id;
	else
		cache->lru_tail = id;
	cache->lru_head = id;
}

/* A lookup's move to the front, at most once a second per entry (id's). */
static void cache_lru_touch(struct dns_cache *cache, uint32_t id, struct cache_entry *entry,
			    uint32_t now)
{
	if (entry->used == (uint16_t)now)
		return;
	entry->used = (uint16_t)now;
	cache_lru_unlink(cache, id);
	cache_lru_push_front(cache, id);
}

/* --- pages and blocks -------------------------------------------------------- */

/* The id of a new block of at least size octets, or CACHE_ID_NONE if none is left. */
static uint32_t cache_block_alloc(struct dns_cache *cache, size_t size)
{
	size_t units = (size + CACHE_UNIT - 1) / CACHE_UNIT;
	struct cache_page *page;
	uint32_t number;
	uint16_t offset;

	if (units > CACHE_CLASS_MAX) {
		number = cache_page_new(cache, units, size);
		return number == CACHE_ID_NONE ? CACHE_ID_NONE : number << CACHE_OFFSET_BITS;
	}
	number = cache->with_room[units];
	if (number == CACHE_ID_NONE) {
		number = cache_page_new(cache, units, size);
		if (number == CACHE_ID_NONE)
			return CACHE_ID_NONE;
		cache_room_push(cache, number);
	}
	page = &cache->pages[number];
	if (page->free_block != CACHE_BLOCK_NONE) {
		offset = page->free_block;
		memcpy(&page->free_block, page->base + (size_t)offset * CACHE_UNIT,
		       sizeof(page->free_block));
	} else {
		offset = page->fresh;
		page->fresh = (uint16_t)(page->fresh + units);
	}
	page->live++;
	if (cache_page_is_full(page))
		cache_room_unlink(cache, number);
	return number << CACHE_OFFSET_BITS | offset;
}

static void cache_block_free(struct dns_cache *cache, uint32_t id)
{
	uint32_t number = id >> CACHE_OFFSET_BITS;
	uint16_t offset = (uint16_t)(id & (CACHE_PAGE_UNITS - 1));
	struct cache_page *page = &cache->pages[number];
	bool was_full = cache_page_is_full(page);

	page->live--;
	if (page->live == 0) {
		if (!was_full)
			cache_room_unlink(cache, number);
		cache_page_release(cache, number);
		return;
	}
	memcpy(page->base + (size_t)offset * CACHE_UNIT, &page->free_block,
	       sizeof(page->free_block));
	page->free_block = offset;
	if (was_full)
		cache_room_push(cache, number);
}

/*
 * A page for blocks of units (CACHE_PAGE_SIZE octets), or for one large
 * block of size octets (units above CACHE_CLASS_MAX). Its number, or
 * CACHE_ID_NONE when every number is taken (32 GiB of pages).
 */
static uint32_t cache_page_new(struct dns_cache *cache, size_t units, size_t size)
{
	bool is_large = units > CACHE_CLASS_MAX;
	struct cache_page *page;
	uint32_t number = cache->spare_pages;

	if (number != CACHE_ID_NONE) {
		cache->spare_pages = cache->pages[number].next;
	} else if (cache->n_pages < CACHE_PAGES_MAX) {
		if (cache->n_pages == cache->cap_pages) {
			cache->cap_pages = cache->cap_pages ? 2 * cache->cap_pages : 16;
			cache->pages = xreallocarray(cache->pages, cache->cap_pages,
						     sizeof(*cache->pages));
		}
		number = cache->n_pages++;
	} else {
		return CACHE_ID_NONE;
	}
	page = &cache->pages[number];
	page->base = xmalloc(is_large ? size : CACHE_PAGE_SIZE);
	page->prev = page->next = CACHE_ID_NONE;
	page->units = is_large ? 0 : (uint16_t)units;
	page->live = is_large ? 1 : 0;
	page->free_block = CACHE_BLOCK_NONE;
	page->fresh = 0;
	return number;
}

/* Frees the page's memory; its number goes to the spares. */
static void cache_page_release(struct dns_cache *cache, uint32_t number)
{
	struct cache_page *page = &cache->pages[number];

	free(page->base);
	page->base = NULL;
	page->next = cache->spare_pages;
	cache->spare_pages = number;
}

/* True if no block is left: none freed, no room for a fresh one (large: always). */
static bool cache_page_is_full(const struct cache_page *page)
{
	return page->units == 0 || (page->free_block == CACHE_BLOCK_NONE &&
				    page->fresh + page->units > CACHE_PAGE_UNITS);
}

static void cache_room_push(struct dns_cache *cache, uint32_t number)
{
	struct cache_page *page = &cache->pages[number];
	uint32_t *head = &cache->with_room[page->units];

	page->prev = CACHE_ID_NONE;
	page->next = *head;
	if (*head != CACHE_ID_NONE)
		cache->pages[*head].prev = number;
	*head = number;
}

static void cache_room_unlink(struct dns_cache *cache, uint32_t number)
{
	struct cache_page *page = &cache->pages[number];

	if (page->prev != CACHE_ID_NONE)
		cache->pages[page->prev].next = page->next;
	else
		cache->with_room[page->units] = page->next;
	if (page->next != CACHE_ID_NONE)
		cache->pages[page->next].prev = page->prev;
	page->prev = page->next = CACHE_ID_NONE;
}

/* Frees every page and forgets the numbers. */
static void cache_pages_free(struct dns_cache *cache)
{
	for (uint32_t i = 0; i < cache->n_pages; i++)
		free(cache->pages[i].base);
	free(cache->pages);
	cache->pages = NULL;
	cache->n_pages = cache->cap_pages = 0;
	cache->spare_pages = CACHE_ID_NONE;
	for (size_t i = 0; i < MX_ARRAY_LEN(cache->with_room); i++)
		cache->with_room[i] = CACHE_ID_NONE;
}
