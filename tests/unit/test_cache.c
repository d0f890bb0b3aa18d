/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cache.c - the DNS answer cache: hits, TTLs, negative and failed
 * answers, serve-stale, LRU eviction, flush, statistics and memory parts
 *
 * Time is a number the tests move by hand (milliseconds, of which the
 * cache keeps whole seconds). The last tests drive the cache with random
 * puts and gets against a plain model of what it must hold.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/dns/cache.h"

#define S(n) ((uint64_t)(n) * 1000u)	/* seconds, in the cache's milliseconds */
#define MODEL_TTL 1000000u		/* longer than any model run: nothing expires */

static const struct cache_limits default_limits = {
	.max_entries = 100,
	.min_ttl = 10,
	.max_ttl = 3600,
	.failure_ttl = 5,
	.serve_stale = 3600,
	.stale_retry = 30,
};

static struct dns_answer *answer_a(const char *text, uint32_t ttl);
static struct dns_answer *answer_status(enum dns_status status, uint32_t ttl);
static enum cache_lookup get(struct dns_cache *cache, const char *name, uint64_t now,
			     struct dns_lookup_result *out);
static void put(struct dns_cache *cache, const char *name, struct dns_answer *answer,
		uint64_t now);
static const char *lookup_name(enum cache_lookup lookup);
static void assert_answer_a(const struct dns_answer *answer, const char *text);
static bool points_into(const void *p, const struct dns_answer *answer);
static void assert_lookup(struct dns_cache *cache, const char *name, uint64_t now,
			  enum cache_lookup expected);
static int setup(void **state);
static int teardown(void **state);

struct model {
	struct dns_cache *cache;
	size_t n_keys;
	unsigned *order;	/* keys held, most recently used first */
	size_t n_held;
	size_t max_entries;
	uint32_t *stamp;	/* per key: the answer held (0: none) */
	uint32_t next_stamp;
	uint64_t now;		/* seconds; one per operation, so every hit moves */
	uint64_t evictions;
	uint64_t rng;
};

static char *long_name(char *buf, size_t len, const char *head, size_t pad, const char *tail);
static void model_key(unsigned key, unsigned *channel, enum dns_type *type, char *name,
		      size_t len);
static struct dns_answer *model_answer(unsigned key, uint32_t stamp);
static void assert_answers_equal(const struct dns_answer *got, const struct dns_answer *want);
static uint32_t model_random(struct model *m);
static size_t model_find(const struct model *m, unsigned key);
static void model_to_front(struct model *m, size_t at, unsigned key);
static void model_put(struct model *m, unsigned key);
static void model_get(struct model *m, unsigned key);
static void model_run(size_t max_entries, size_t n_keys, unsigned n_ops, uint64_t seed);

static struct dns_answer *answer_a(const char *text, uint32_t ttl)
{
	struct mx_addr addr;

	memset(&addr, 0, sizeof(addr));
	addr.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &addr.u.v4), 1);
	return dns_answer_new_addr(DNS_TYPE_A, &addr, 1, ttl, NULL);
}

static struct dns_answer *answer_status(enum dns_status status, uint32_t ttl)
{
	return dns_answer_new_status(DNS_TYPE_A, status, ttl);
}

static enum cache_lookup get(struct dns_cache *cache, const char *name, uint64_t now,
			     struct dns_lookup_result *out)
{
	return cache_get(cache, 0, DNS_TYPE_A, name, now, out);
}

static void put(struct dns_cache *cache, const char *name, struct dns_answer *answer,
		uint64_t now)
{
	cache_put(cache, 0, DNS_TYPE_A, name, answer, now);
}

static const char *lookup_name(enum cache_lookup lookup)
{
	switch (lookup) {
	case CACHE_LOOKUP_MISS:
		return "miss";
	case CACHE_LOOKUP_HIT:
		return "hit";
	case CACHE_LOOKUP_STALE:
		return "stale";
	}
	return "?";
}

/* The answer is an A answer with exactly that address. */
static void assert_answer_a(const struct dns_answer *answer, const char *text)
{
	struct in_addr expected;

	assert_int_equal(inet_pton(AF_INET, text, &expected), 1);
	assert_non_null(answer);
	assert_int_equal(answer->type, DNS_TYPE_A);
	assert_int_equal(answer->n, 1);
	assert_int_equal(answer->rr.addr[0].u.v4.s_addr, expected.s_addr);
}

/* Inside the cache's block for the answer: its own octets, and between its
 * records and its strings the cache's fields and the name (cache.c). */
static bool points_into(const void *p, const struct dns_answer *answer)
{
	uintptr_t at = (uintptr_t)p, base = (uintptr_t)answer;

	return at >= base && at - base < dns_answer_size(answer) + 32 + MX_NAME_MAX;
}

static void assert_lookup(struct dns_cache *cache, const char *name, uint64_t now,
			  enum cache_lookup expected)
{
	struct dns_lookup_result out;

	assert_string_equal(lookup_name(get(cache, name, now, &out)), lookup_name(expected));
}

static int setup(void **state)
{
	*state = cache_new(&default_limits);
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	struct dns_cache *cache = *state;

	cache_free(&cache);
	return cache == NULL ? 0 : -1;
}

/* --- hits and misses ---------------------------------------------------------- */

static void test_get_on_empty_cache_misses(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_stats stats;

	assert_lookup(cache, "example.org", 0, CACHE_LOOKUP_MISS);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.misses, 1);
	assert_int_equal(stats.hits, 0);
	assert_int_equal(stats.entries, 0);
}

static void test_put_then_get_hits_with_ttl_left(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_answer *answer = answer_a("192.0.2.1", 300);
	struct dns_lookup_result out;
	struct cache_stats stats;

	put(cache, "mx.example.org", answer, S(1000));
	assert_int_equal(get(cache, "mx.example.org", S(1000), &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.1");
	assert_int_equal(out.ttl_left, 300);
	assert_false(out.stale);
	assert_int_equal(get(cache, "mx.example.org", S(1100) + 1, &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.ttl_left, 200);	/* 199.999 s, rounded up */
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.hits, 2);
	assert_int_equal(stats.misses, 0);
	assert_int_equal(stats.entries, 1);
}

/* The cache keeps its own copy: every pointer in it points into that copy. */
static void test_answers_come_back_whole_after_the_put(void **state)
{
	static const struct dns_mx mx[] = { { 10, "mx1.example.org" }, { 20, "mx2.example.org" } };
	struct dns_cache *cache = *state;
	struct dns_answer *answer = dns_answer_new_mx(mx, 2, 300, "real.example.org");
	struct mx_addr addr[2];
	struct dns_lookup_result out;

	answer->truncated = true;
	cache_put(cache, 0, DNS_TYPE_MX, "alias.example.org", answer, 0);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_MX, "alias.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_OK);
	assert_int_equal(out.answer->n, 2);
	assert_true(out.answer->truncated);
	assert_false(out.answer->cname_pending);
	assert_int_equal(out.answer->rr.mx[1].pref, 20);
	assert_string_equal(out.answer->rr.mx[0].host, "mx1.example.org");
	assert_string_equal(out.answer->rr.mx[1].host, "mx2.example.org");
	assert_string_equal(out.answer->cname, "real.example.org");
	assert_true(points_into(out.answer->rr.mx, out.answer));
	assert_true(points_into(out.answer->rr.mx[1].host, out.answer));
	assert_true(points_into(out.answer->cname, out.answer));

	memset(addr, 0, sizeof(addr));
	addr[0].family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &addr[0].u.v6), 1);
	addr[1].family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &addr[1].u.v4), 1);
	answer = dns_answer_new_addr(DNS_TYPE_AAAA, addr, 2, 300, "host.example.net");
	answer->cname_pending = true;
	cache_put(cache, 0, DNS_TYPE_AAAA, "alias.example.org", answer, 0);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_AAAA, "alias.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->n, 2);
	assert_true(out.answer->cname_pending);
	assert_int_equal(memcmp(&out.answer->rr.addr[0], &addr[0], sizeof(addr[0])), 0);
	assert_int_equal(memcmp(&out.answer->rr.addr[1], &addr[1], sizeof(addr[1])), 0);
	assert_string_equal(out.answer->cname, "host.example.net");
	assert_true(points_into(out.answer->rr.addr, out.answer));
	assert_true(points_into(out.answer->cname, out.answer));
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_MX, "alias.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_string_equal(out.answer->rr.mx[0].host, "mx1.example.org");
}

static void test_keys_differ_by_channel_type_and_name(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	cache_put(cache, 0, DNS_TYPE_A, "mx.example.org", answer_a("192.0.2.1", 300), 0);
	assert_int_equal(cache_get(cache, 1, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_MISS);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_AAAA, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_MISS);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_A, "mx.example.org.x", 0, &out),
			 CACHE_LOOKUP_MISS);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_A, "mx.example.or", 0, &out),
			 CACHE_LOOKUP_MISS);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	cache_put(cache, 1, DNS_TYPE_A, "mx.example.org", answer_a("192.0.2.2", 300), 0);
	assert_int_equal(cache_get(cache, 1, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->rr.addr[0].u.v4.s_addr, htonl(0xc0000202));
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->rr.addr[0].u.v4.s_addr, htonl(0xc0000201));
}

/*
 * Keys that differ only by channel or type share a bucket only now and
 * then (the hash key is random): many names, several fresh caches.
 */
static void test_same_name_on_other_channel_or_type_stays_apart(void **state)
{
	static const enum dns_type types[] = { DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA };
	struct cache_limits limits = default_limits;
	char name[32];

	(void)state;
	limits.max_entries = 10000;
	limits.max_ttl = 100000;
	for (unsigned round = 0; round < 20; round++) {
		struct dns_cache *cache = cache_new(&limits);
		unsigned wrong = 0;

		for (unsigned i = 0; i < 200; i++)
			for (unsigned c = 0; c < 2; c++)
				for (unsigned t = 0; t < 3; t++) {
					snprintf(name, sizeof(name), "h%u.example.org", i);
					cache_put(cache, c, types[t], name,
						  dns_answer_new_status(types[t], DNS_NODATA,
									1000 + i * 6 + c * 3 + t),
						  0);
				}
		for (unsigned i = 0; i < 200; i++)
			for (unsigned c = 0; c < 2; c++)
				for (unsigned t = 0; t < 3; t++) {
					struct dns_lookup_result out;

					snprintf(name, sizeof(name), "h%u.example.org", i);
					if (cache_get(cache, c, types[t], name, 0, &out) !=
						    CACHE_LOOKUP_HIT ||
					    out.answer->ttl != 1000 + i * 6 + c * 3 + t)
						wrong++;
				}
		cache_free(&cache);
		assert_int_equal(wrong, 0);
	}
}

static void test_put_replaces_the_answer_for_a_key(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;
	struct cache_stats stats;

	put(cache, "mx.example.org", answer_a("192.0.2.1", 300), 0);
	put(cache, "mx.example.org", answer_a("192.0.2.2", 600), S(10));
	assert_int_equal(get(cache, "mx.example.org", S(10), &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.2");
	assert_int_equal(out.ttl_left, 600);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 1);
}

/* --- lifetimes ------------------------------------------------------------------ */

static void test_answer_expires_after_its_ttl(void **state)
{
	struct dns_cache *cache = *state;

	put(cache, "mx.example.org", answer_a("192.0.2.1", 300), S(50));
	assert_lookup(cache, "mx.example.org", S(350) - 1, CACHE_LOOKUP_HIT);
	assert_lookup(cache, "mx.example.org", S(350), CACHE_LOOKUP_MISS);
	assert_lookup(cache, "mx.example.org", S(5000), CACHE_LOOKUP_MISS);

	/* whole seconds: up to a second early, never late */
	put(cache, "late.example.org", answer_a("192.0.2.1", 300), S(51) - 1);
	assert_lookup(cache, "late.example.org", S(350) - 1, CACHE_LOOKUP_HIT);
	assert_lookup(cache, "late.example.org", S(350), CACHE_LOOKUP_MISS);
}

static void test_ttl_is_clamped_to_min_and_max(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "short.example.org", answer_a("192.0.2.1", 1), 0);
	assert_lookup(cache, "short.example.org", S(10) - 1, CACHE_LOOKUP_HIT);
	assert_lookup(cache, "short.example.org", S(10), CACHE_LOOKUP_MISS);

	put(cache, "long.example.org", answer_a("192.0.2.1", 604800), 0);
	assert_int_equal(get(cache, "long.example.org", 0, &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.ttl_left, 3600);
	assert_int_equal(out.answer->ttl, 604800);	/* the answer itself is untouched */
	assert_lookup(cache, "long.example.org", S(3600), CACHE_LOOKUP_MISS);
}

static void test_negative_answers_are_cached_with_clamped_ttl(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "nope.example.org", answer_status(DNS_NXDOMAIN, 600), 0);
	assert_int_equal(get(cache, "nope.example.org", S(599), &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_NXDOMAIN);
	assert_lookup(cache, "nope.example.org", S(600), CACHE_LOOKUP_MISS);

	put(cache, "aonly.example.org", answer_status(DNS_NODATA, 2), 0);
	assert_int_equal(get(cache, "aonly.example.org", S(9), &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_NODATA);
	assert_lookup(cache, "aonly.example.org", S(10), CACHE_LOOKUP_MISS);

	put(cache, "nope2.example.org", answer_status(DNS_NXDOMAIN, 86400), 0);
	assert_lookup(cache, "nope2.example.org", S(3600), CACHE_LOOKUP_MISS);
}

static void test_temporary_failure_lives_failure_ttl(void **state)
{
	static const enum dns_status failures[] = { DNS_SERVFAIL, DNS_REFUSED, DNS_TIMEOUT,
						    DNS_BADANSWER };
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	for (size_t i = 0; i < MX_ARRAY_LEN(failures); i++) {
		put(cache, "down.example.org", answer_status(failures[i], 3000), S(100 * i));
		assert_int_equal(get(cache, "down.example.org", S(100 * i + 5) - 1, &out),
				 CACHE_LOOKUP_HIT);
		assert_int_equal(out.answer->status, failures[i]);
		assert_false(out.stale);
		assert_lookup(cache, "down.example.org", S(100 * i + 5), CACHE_LOOKUP_MISS);
	}
}

/* --- serve-stale --------------------------------------------------------------- */

static void test_failure_after_expiry_serves_old_answer_stale(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;
	struct cache_stats stats;

	put(cache, "mx.example.org", answer_a("192.0.2.1", 60), 0);
	assert_lookup(cache, "mx.example.org", S(61), CACHE_LOOKUP_MISS);
	put(cache, "mx.example.org", answer_status(DNS_SERVFAIL, 0), S(61));
	assert_int_equal(get(cache, "mx.example.org", S(61), &out), CACHE_LOOKUP_STALE);
	assert_answer_a(out.answer, "192.0.2.1");
	assert_true(out.stale);
	assert_int_equal(out.ttl_left, 0);
	assert_int_equal(get(cache, "mx.example.org", S(91) - 1, &out), CACHE_LOOKUP_STALE);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.stale, 2);
	assert_int_equal(stats.hits, 0);
}

static void test_stale_retry_window_ends_in_a_miss_then_serves_again(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "mx.example.org", answer_a("192.0.2.1", 60), 0);
	put(cache, "mx.example.org", answer_status(DNS_TIMEOUT, 0), S(100));
	assert_lookup(cache, "mx.example.org", S(130) - 1, CACHE_LOOKUP_STALE);
	/* the retry window is over: the caller must ask again */
	assert_lookup(cache, "mx.example.org", S(130), CACHE_LOOKUP_MISS);
	/* and when that fails too, the old answer comes back for another window */
	put(cache, "mx.example.org", answer_status(DNS_SERVFAIL, 0), S(131));
	assert_int_equal(get(cache, "mx.example.org", S(131), &out), CACHE_LOOKUP_STALE);
	assert_answer_a(out.answer, "192.0.2.1");
	assert_lookup(cache, "mx.example.org", S(161) - 1, CACHE_LOOKUP_STALE);
	assert_lookup(cache, "mx.example.org", S(161), CACHE_LOOKUP_MISS);
}

static void test_serve_stale_window_ends_serve_stale_after_expiry(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	/* expired 3599.999 s ago: still servable */
	put(cache, "a.example.org", answer_a("192.0.2.1", 60), 0);
	put(cache, "a.example.org", answer_status(DNS_SERVFAIL, 0), S(60 + 3600) - 1);
	assert_lookup(cache, "a.example.org", S(60 + 3600) - 1, CACHE_LOOKUP_STALE);

	/* expired 3600 s ago: the failure replaces it */
	put(cache, "b.example.org", answer_a("192.0.2.1", 60), 0);
	put(cache, "b.example.org", answer_status(DNS_SERVFAIL, 0), S(60 + 3600));
	assert_int_equal(get(cache, "b.example.org", S(60 + 3600), &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_SERVFAIL);
	assert_false(out.stale);
}

static void test_serve_stale_zero_never_serves_stale(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct dns_lookup_result out;

	limits.serve_stale = 0;
	cache_set_limits(cache, &limits);
	put(cache, "mx.example.org", answer_a("192.0.2.1", 60), 0);
	put(cache, "mx.example.org", answer_status(DNS_SERVFAIL, 0), S(60));
	assert_int_equal(get(cache, "mx.example.org", S(60), &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_SERVFAIL);
}

static void test_successful_put_replaces_stale_answer(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct dns_lookup_result out;

	limits.stale_retry = 1000;	/* a stale window that outlives the new answer */
	cache_set_limits(cache, &limits);
	put(cache, "mx.example.org", answer_a("192.0.2.1", 60), 0);
	put(cache, "mx.example.org", answer_status(DNS_SERVFAIL, 0), S(70));
	assert_lookup(cache, "mx.example.org", S(70), CACHE_LOOKUP_STALE);
	put(cache, "mx.example.org", answer_a("192.0.2.2", 20), S(80));
	assert_int_equal(get(cache, "mx.example.org", S(80), &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.2");
	assert_false(out.stale);
	assert_int_equal(out.ttl_left, 20);
	/* its expiry is its own: no stale window left over from before */
	assert_lookup(cache, "mx.example.org", S(100), CACHE_LOOKUP_MISS);
}

static void test_negative_answer_can_be_served_stale(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "nope.example.org", answer_status(DNS_NXDOMAIN, 60), 0);
	put(cache, "nope.example.org", answer_status(DNS_REFUSED, 0), S(61));
	assert_int_equal(get(cache, "nope.example.org", S(61), &out), CACHE_LOOKUP_STALE);
	assert_int_equal(out.answer->status, DNS_NXDOMAIN);
}

static void test_failure_does_not_replace_a_fresh_answer(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "mx.example.org", answer_a("192.0.2.1", 300), 0);
	put(cache, "mx.example.org", answer_status(DNS_SERVFAIL, 0), S(10));
	assert_int_equal(get(cache, "mx.example.org", S(10), &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.1");
	assert_int_equal(out.ttl_left, 290);
}

static void test_failure_replaces_an_earlier_failure(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	put(cache, "down.example.org", answer_status(DNS_SERVFAIL, 0), 0);
	put(cache, "down.example.org", answer_status(DNS_TIMEOUT, 0), S(6));
	assert_int_equal(get(cache, "down.example.org", S(6), &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_TIMEOUT);
	assert_lookup(cache, "down.example.org", S(11), CACHE_LOOKUP_MISS);
}

/* --- size ------------------------------------------------------------------------ */

static void test_lru_evicts_least_recently_used(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct cache_stats stats;

	limits.max_entries = 3;
	cache_set_limits(cache, &limits);
	put(cache, "a.example.org", answer_a("192.0.2.1", 300), S(0));
	put(cache, "b.example.org", answer_a("192.0.2.2", 300), S(0));
	put(cache, "c.example.org", answer_a("192.0.2.3", 300), S(0));
	assert_lookup(cache, "a.example.org", S(1), CACHE_LOOKUP_HIT);	/* a is now newest */
	put(cache, "d.example.org", answer_a("192.0.2.4", 300), S(2));	/* evicts b */
	assert_lookup(cache, "b.example.org", S(3), CACHE_LOOKUP_MISS);
	put(cache, "c.example.org", answer_a("192.0.2.3", 300), S(4));	/* c is now newest */
	put(cache, "e.example.org", answer_a("192.0.2.5", 300), S(5));	/* evicts a */
	assert_lookup(cache, "a.example.org", S(6), CACHE_LOOKUP_MISS);
	assert_lookup(cache, "c.example.org", S(6), CACHE_LOOKUP_HIT);
	assert_lookup(cache, "d.example.org", S(6), CACHE_LOOKUP_HIT);
	assert_lookup(cache, "e.example.org", S(6), CACHE_LOOKUP_HIT);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 3);
	assert_int_equal(stats.evictions, 2);
}

/* A hit moves an entry to the front at most once a second (as memcached). */
static void test_lru_recency_has_one_second_resolution(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;

	limits.max_entries = 2;
	cache_set_limits(cache, &limits);
	put(cache, "a.example.org", answer_a("192.0.2.1", 300), S(10));
	put(cache, "b.example.org", answer_a("192.0.2.2", 300), S(10) + 1);
	assert_lookup(cache, "a.example.org", S(10) + 2, CACHE_LOOKUP_HIT);	/* same second */
	put(cache, "c.example.org", answer_a("192.0.2.3", 300), S(10) + 3);	/* evicts a */
	assert_lookup(cache, "a.example.org", S(11), CACHE_LOOKUP_MISS);
	assert_lookup(cache, "b.example.org", S(11), CACHE_LOOKUP_HIT);	/* b is now newest */
	put(cache, "d.example.org", answer_a("192.0.2.4", 300), S(12));	/* evicts c */
	assert_lookup(cache, "c.example.org", S(12), CACHE_LOOKUP_MISS);
	assert_lookup(cache, "b.example.org", S(12), CACHE_LOOKUP_HIT);
}

static void test_smaller_max_entries_evicts_at_once(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct cache_stats stats;
	char name[32];

	for (unsigned i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%u.example.org", i);
		put(cache, name, answer_a("192.0.2.1", 300), i);
	}
	limits.max_entries = 4;
	cache_set_limits(cache, &limits);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 4);
	assert_int_equal(stats.evictions, 6);
	assert_lookup(cache, "h5.example.org", 20, CACHE_LOOKUP_MISS);
	assert_lookup(cache, "h6.example.org", 20, CACHE_LOOKUP_HIT);
	assert_lookup(cache, "h9.example.org", 20, CACHE_LOOKUP_HIT);
}

static void test_max_entries_zero_caches_nothing(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct cache_stats stats;

	limits.max_entries = 0;
	cache_set_limits(cache, &limits);
	put(cache, "mx.example.org", answer_a("192.0.2.1", 300), 0);
	assert_lookup(cache, "mx.example.org", 0, CACHE_LOOKUP_MISS);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 0);
}

static void test_name_longer_than_253_is_not_cached(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_stats stats;
	char name[300];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	put(cache, name, answer_a("192.0.2.1", 300), 0);
	assert_lookup(cache, name, 0, CACHE_LOOKUP_MISS);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 0);

	name[253] = '\0';
	put(cache, name, answer_a("192.0.2.1", 300), 0);
	assert_lookup(cache, name, 0, CACHE_LOOKUP_HIT);
}

/* Channels are kept in 16 bits: a higher one is never cached. */
static void test_channel_above_65535_is_not_cached(void **state)
{
	static const unsigned channels[] = { 65536, 65535 };
	struct dns_cache *cache = *state;
	struct dns_lookup_result out;

	for (size_t i = 0; i < MX_ARRAY_LEN(channels); i++) {
		struct cache_stats stats;

		cache_put(cache, channels[i], DNS_TYPE_A, "mx.example.org",
			  answer_a("192.0.2.1", 300), 0);
		cache_get_stats(cache, &stats);
		assert_int_equal(stats.entries, i);
	}
	assert_int_equal(cache_get(cache, 65536, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_MISS);
	assert_int_equal(cache_get(cache, 65535, DNS_TYPE_A, "mx.example.org", 0, &out),
			 CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.1");
}

/* cache_get_memory's parts add up to the byte count and to the pages. */
static void test_memory_parts_add_up(void **state)
{
	static const struct dns_mx mx[] = { { 10, "mx1.example.org" }, { 20, "mx2.example.org" } };
	struct dns_cache *cache = *state;
	struct cache_stats stats, empty;
	struct cache_memory m;
	size_t in_entries;

	cache_get_stats(cache, &empty);
	put(cache, "a.example.org", answer_a("192.0.2.1", 300), 0);
	put(cache, "b.example.org", answer_status(DNS_NXDOMAIN, 300), 0);
	cache_put(cache, 1, DNS_TYPE_MX, "example.org",
		  dns_answer_new_mx(mx, 2, 300, "alias.example.org"), 0);
	cache_get_stats(cache, &stats);
	cache_get_memory(cache, &m);

	assert_int_equal(m.entries, 3);
	assert_int_equal(m.names, strlen("a.example.org") * 2 + strlen("example.org"));
	assert_int_equal(m.answer_headers, 3 * sizeof(struct dns_answer));
	assert_int_equal(m.records, sizeof(struct mx_addr) + 2 * sizeof(struct dns_mx));
	assert_int_equal(m.strings, 2 * sizeof("mx1.example.org") + sizeof("alias.example.org"));
	in_entries = m.headers + m.names + m.answer_headers + m.records + m.strings + m.padding;
	assert_int_equal(in_entries, stats.bytes - empty.bytes);
	assert_int_equal(m.pages, in_entries + m.rounding + m.page_slack);
	assert_int_equal(m.n_pages, 3);	/* three size classes */
	assert_true(m.index >= 64 * 8 && m.page_table > 0);
	cache_flush(cache);
	cache_get_memory(cache, &m);
	assert_int_equal(m.entries + m.pages + m.n_pages, 0);
}

static void test_flush_empties_and_keeps_counters(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_stats empty, stats;

	cache_get_stats(cache, &empty);
	put(cache, "a.example.org", answer_a("192.0.2.1", 300), 0);
	put(cache, "b.example.org", answer_a("192.0.2.2", 300), 0);
	assert_lookup(cache, "a.example.org", 0, CACHE_LOOKUP_HIT);
	cache_flush(cache);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 0);
	assert_int_equal(stats.bytes, empty.bytes);
	assert_int_equal(stats.hits, 1);
	assert_lookup(cache, "a.example.org", 0, CACHE_LOOKUP_MISS);
	assert_lookup(cache, "b.example.org", 0, CACHE_LOOKUP_MISS);
	/* and it works as before */
	put(cache, "a.example.org", answer_a("192.0.2.1", 300), 0);
	assert_lookup(cache, "a.example.org", 0, CACHE_LOOKUP_HIT);
}

static void test_stats_count_bytes_of_entries_and_answers(void **state)
{
	struct dns_cache *cache = *state;
	struct dns_answer *answer = answer_a("192.0.2.1", 300);
	struct dns_answer *negative = answer_status(DNS_NXDOMAIN, 300);
	size_t answer_size = dns_answer_size(answer);
	size_t negative_size = dns_answer_size(negative);
	struct cache_stats empty, one, replaced, gone;

	assert_int_not_equal(answer_size, negative_size);
	cache_get_stats(cache, &empty);
	assert_true(empty.bytes >= 64 * sizeof(void *));	/* the bucket array counts */
	put(cache, "mx.example.org", answer, 0);
	cache_get_stats(cache, &one);
	assert_true(one.bytes >= empty.bytes + answer_size + strlen("mx.example.org"));
	assert_true(one.bytes <= empty.bytes + answer_size + 128);
	put(cache, "mx.example.org", negative, 0);
	cache_get_stats(cache, &replaced);
	assert_int_equal(replaced.bytes, one.bytes - answer_size + negative_size);
	cache_flush(cache);
	cache_get_stats(cache, &gone);
	assert_int_equal(gone.bytes, empty.bytes);
}

static void test_many_entries_stay_reachable_and_bounded(void **state)
{
	struct dns_cache *cache = *state;
	struct cache_limits limits = default_limits;
	struct cache_stats stats;
	char name[64];
	unsigned misses = 0;

	limits.max_entries = 50000;
	cache_set_limits(cache, &limits);
	for (unsigned i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "mx%u.domain%u.example", i % 3, i);
		cache_put(cache, i % 2, DNS_TYPE_A, name, answer_a("192.0.2.1", 300), 0);
	}
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.entries, 50000);
	assert_int_equal(stats.evictions, 50000);
	for (unsigned i = 0; i < 100000; i++) {
		struct dns_lookup_result out;
		enum cache_lookup expected = i < 50000 ? CACHE_LOOKUP_MISS : CACHE_LOOKUP_HIT;

		snprintf(name, sizeof(name), "mx%u.domain%u.example", i % 3, i);
		if (cache_get(cache, i % 2, DNS_TYPE_A, name, 1, &out) != expected)
			misses++;
	}
	assert_int_equal(misses, 0);
}

/* --- entries of every size ------------------------------------------------------ */

/* "head" + pad times 'a' (in labels of 50) + tail. */
static char *long_name(char *buf, size_t len, const char *head, size_t pad, const char *tail)
{
	size_t at = (size_t)snprintf(buf, len, "%s", head);

	for (size_t i = 0; i < pad && at + 1 < len; i++)
		buf[at++] = (i + 1) % 51 == 0 ? '.' : 'a';
	snprintf(buf + at, len - at, "%s", tail);
	return buf;
}

/* The largest answer dnsmsg.c can build, under the longest name: it comes
 * back whole, and goes without disturbing its neighbours. */
static void test_largest_answer_comes_back_whole(void **state)
{
	struct dns_cache *cache = *state;
	char hosts[DNS_MX_MAX][MX_NAME_BUF], name[MX_NAME_BUF], cname[MX_NAME_BUF];
	struct dns_mx mx[DNS_MX_MAX];
	struct dns_answer *answer;
	struct dns_lookup_result out;
	struct cache_stats empty, stats;

	cache_get_stats(cache, &empty);
	put(cache, "before.example.org", answer_a("192.0.2.1", 300), 0);
	for (size_t i = 0; i < DNS_MX_MAX; i++) {
		char head[16];

		snprintf(head, sizeof(head), "mx%zu.", i);
		mx[i].pref = (uint16_t)i;
		mx[i].host = long_name(hosts[i], sizeof(hosts[i]), head, 236, ".example.org");
	}
	assert_int_equal(strlen(hosts[DNS_MX_MAX - 1]), MX_NAME_MAX);
	long_name(name, sizeof(name), "", 241, ".example.org");
	long_name(cname, sizeof(cname), "", 241, ".example.net");
	assert_int_equal(strlen(name), MX_NAME_MAX);
	answer = dns_answer_new_mx(mx, DNS_MX_MAX, 300, cname);
	assert_true(dns_answer_size(answer) > 16000);
	cache_put(cache, 0, DNS_TYPE_MX, name, answer, 0);
	put(cache, "after.example.org", answer_a("192.0.2.2", 300), 0);

	assert_int_equal(cache_get(cache, 0, DNS_TYPE_MX, name, 0, &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->n, DNS_MX_MAX);
	for (size_t i = 0; i < DNS_MX_MAX; i++) {
		assert_int_equal(out.answer->rr.mx[i].pref, i);
		assert_string_equal(out.answer->rr.mx[i].host, hosts[i]);
		assert_true(points_into(out.answer->rr.mx[i].host, out.answer));
	}
	assert_string_equal(out.answer->cname, cname);
	assert_int_equal(get(cache, "before.example.org", 0, &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.1");

	/* replaced by a small answer, then evicted with everything else */
	cache_put(cache, 0, DNS_TYPE_MX, name, answer_status(DNS_NXDOMAIN, 300), 0);
	assert_int_equal(cache_get(cache, 0, DNS_TYPE_MX, name, 0, &out), CACHE_LOOKUP_HIT);
	assert_int_equal(out.answer->status, DNS_NXDOMAIN);
	assert_int_equal(get(cache, "after.example.org", 0, &out), CACHE_LOOKUP_HIT);
	assert_answer_a(out.answer, "192.0.2.2");
	cache_flush(cache);
	cache_get_stats(cache, &stats);
	assert_int_equal(stats.bytes, empty.bytes);
}

/* --- against a model ------------------------------------------------------------ */

/* Key k: channel k % 2, type (k / 2) % 3, name "k<k / 6>.example.org". */
static void model_key(unsigned key, unsigned *channel, enum dns_type *type, char *name,
		      size_t len)
{
	static const enum dns_type types[] = { DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA };

	*channel = key % 2;
	*type = types[(key / 2) % 3];
	snprintf(name, len, "k%u.example.org", key / 6);
}

/*
 * The answer stamp s puts under key k, built afresh whenever it is needed:
 * its TTL is MODEL_TTL + s; its shape (status, number and length of the
 * records, CNAME) varies with s, so that entries of many sizes come and go,
 * some of them larger than a page.
 */
static struct dns_answer *model_answer(unsigned key, uint32_t stamp)
{
	unsigned channel;
	enum dns_type type;
	char name[MX_NAME_BUF], cname[MX_NAME_BUF];
	const char *alias = NULL;

	model_key(key, &channel, &type, name, sizeof(name));
	if (stamp % 3 == 0)
		alias = long_name(cname, sizeof(cname), "alias.", stamp % 40, ".example.net");
	if (stamp % 5 == 0)
		return dns_answer_new_status(type, type == DNS_TYPE_MX ? DNS_NXDOMAIN : DNS_NODATA,
					     MODEL_TTL + stamp);
	if (type == DNS_TYPE_MX) {
		static char hosts[DNS_MX_MAX][MX_NAME_BUF];	/* 16 KiB: not on the stack */
		struct dns_mx mx[DNS_MX_MAX];
		size_t n = stamp % 11 == 1 ? DNS_MX_MAX : 1 + stamp % 7;

		for (size_t i = 0; i < n; i++) {
			char head[16];

			snprintf(head, sizeof(head), "mx%zu.", i);
			mx[i].pref = (uint16_t)(stamp + i);
			mx[i].host = long_name(hosts[i], sizeof(hosts[i]), head,
					       n == DNS_MX_MAX ? 60 : stamp % 30, name);
		}
		return dns_answer_new_mx(mx, n, MODEL_TTL + stamp, alias);
	} else {
		struct mx_addr addr[DNS_ADDR_MAX];
		size_t n = 1 + stamp % DNS_ADDR_MAX;

		memset(addr, 0, sizeof(addr));
		for (size_t i = 0; i < n; i++) {
			uint32_t v = htonl(0xc0000200u | ((stamp + i) & 0xff));

			addr[i].family = type == DNS_TYPE_A ? AF_INET : AF_INET6;
			if (type == DNS_TYPE_A)
				addr[i].u.v4.s_addr = v;
			else
				memcpy(&addr[i].u.v6.s6_addr[12], &v, sizeof(v));
		}
		return dns_answer_new_addr(type, addr, n, MODEL_TTL + stamp, alias);
	}
}

static void assert_answers_equal(const struct dns_answer *got, const struct dns_answer *want)
{
	assert_int_equal(got->type, want->type);
	assert_int_equal(got->status, want->status);
	assert_int_equal(got->ttl, want->ttl);
	assert_int_equal(got->n, want->n);
	if (want->cname == NULL)
		assert_null(got->cname);
	else
		assert_string_equal(got->cname, want->cname);
	for (size_t i = 0; i < want->n && want->type == DNS_TYPE_MX; i++) {
		assert_int_equal(got->rr.mx[i].pref, want->rr.mx[i].pref);
		assert_string_equal(got->rr.mx[i].host, want->rr.mx[i].host);
	}
	if (want->type != DNS_TYPE_MX && want->n > 0)
		assert_memory_equal(got->rr.addr, want->rr.addr, want->n * sizeof(*want->rr.addr));
	assert_int_equal(dns_answer_size(got), dns_answer_size(want));
}

/* xorshift64: fixed seeds, so a failure is the same on every run. */
static uint32_t model_random(struct model *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)(m->rng >> 32);
}

/* Where the key is in the recency order, or n_held. */
static size_t model_find(const struct model *m, unsigned key)
{
	size_t at = 0;

	while (at < m->n_held && m->order[at] != key)
		at++;
	return at;
}

/* Moves order[at] (n_held: a new key) to the front. */
static void model_to_front(struct model *m, size_t at, unsigned key)
{
	memmove(&m->order[1], &m->order[0], at * sizeof(*m->order));
	m->order[0] = key;
}

static void model_put(struct model *m, unsigned key)
{
	unsigned channel;
	enum dns_type type;
	char name[MX_NAME_BUF];
	size_t at = model_find(m, key);

	model_key(key, &channel, &type, name, sizeof(name));
	m->stamp[key] = ++m->next_stamp;
	cache_put(m->cache, channel, type, name, model_answer(key, m->stamp[key]), S(m->now));
	if (at == m->n_held && m->n_held == m->max_entries) {
		m->stamp[m->order[--m->n_held]] = 0;	/* the least recently used goes */
		m->evictions++;
		at = m->n_held;
	}
	if (at == m->n_held)
		m->n_held++;
	model_to_front(m, at, key);
}

static void model_get(struct model *m, unsigned key)
{
	unsigned channel;
	enum dns_type type;
	char name[MX_NAME_BUF];
	struct dns_lookup_result out;
	size_t at = model_find(m, key);
	enum cache_lookup got;

	model_key(key, &channel, &type, name, sizeof(name));
	got = cache_get(m->cache, channel, type, name, S(m->now), &out);
	if (at == m->n_held) {
		assert_string_equal(lookup_name(got), "miss");
		return;
	}
	assert_string_equal(lookup_name(got), "hit");
	if (m->stamp[key] % 4 == 0 || out.answer->n > 30) {	/* a sample: building is slow */
		struct dns_answer *want = model_answer(key, m->stamp[key]);

		assert_answers_equal(out.answer, want);
		dns_answer_free(&want);
	} else {
		assert_int_equal(out.answer->ttl, MODEL_TTL + m->stamp[key]);
	}
	model_to_front(m, at, key);
}

/* n_ops random puts and gets, then every key asked once: as the model says. */
static void model_run(size_t max_entries, size_t n_keys, unsigned n_ops, uint64_t seed)
{
	struct cache_limits limits = default_limits;
	struct cache_stats stats;
	struct model m = { .n_keys = n_keys, .max_entries = max_entries, .rng = seed, .now = 1 };

	limits.max_entries = max_entries;
	limits.max_ttl = 2 * MODEL_TTL;
	m.cache = cache_new(&limits);
	m.order = calloc(n_keys, sizeof(*m.order));
	m.stamp = calloc(n_keys, sizeof(*m.stamp));
	assert_non_null(m.order);
	assert_non_null(m.stamp);
	for (unsigned i = 0; i < n_ops; i++, m.now++) {
		unsigned key = model_random(&m) % (unsigned)n_keys;

		if (model_random(&m) % 3 == 0)
			model_get(&m, key);
		else
			model_put(&m, key);
	}
	for (unsigned key = 0; key < n_keys; key++, m.now++)
		model_get(&m, key);
	cache_get_stats(m.cache, &stats);
	assert_int_equal(stats.entries, m.n_held);
	assert_int_equal(stats.evictions, m.evictions);
	cache_free(&m.cache);
	free(m.order);
	free(m.stamp);
}

static void test_random_use_matches_a_small_lru_model(void **state)
{
	(void)state;
	model_run(64, 240, 20000, 0x9e3779b97f4a7c15u);
}

/* Enough entries to grow the index and fill pages of every size many times. */
static void test_random_use_matches_a_large_lru_model(void **state)
{
	(void)state;
	model_run(3000, 7200, 60000, 0x2545f4914f6cdd1du);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_on_empty_cache_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_then_get_hits_with_ttl_left, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_answers_come_back_whole_after_the_put, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keys_differ_by_channel_type_and_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_name_on_other_channel_or_type_stays_apart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_replaces_the_answer_for_a_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_answer_expires_after_its_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_is_clamped_to_min_and_max, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_negative_answers_are_cached_with_clamped_ttl,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporary_failure_lives_failure_ttl, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_expiry_serves_old_answer_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stale_retry_window_ends_in_a_miss_then_serves_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_serve_stale_window_ends_serve_stale_after_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_stale_zero_never_serves_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_successful_put_replaces_stale_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_negative_answer_can_be_served_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_does_not_replace_a_fresh_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_replaces_an_earlier_failure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lru_evicts_least_recently_used, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lru_recency_has_one_second_resolution, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_smaller_max_entries_evicts_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_entries_zero_caches_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_name_longer_than_253_is_not_cached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_channel_above_65535_is_not_cached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_parts_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_empties_and_keeps_counters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats_count_bytes_of_entries_and_answers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_entries_stay_reachable_and_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_largest_answer_comes_back_whole, setup,
						teardown),
		cmocka_unit_test(test_random_use_matches_a_small_lru_model),
		cmocka_unit_test(test_random_use_matches_a_large_lru_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
