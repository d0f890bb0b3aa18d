/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hop_memory.c - the milter's hop order, kept for the socketmap
 *
 * A milter decision writes its order down per recipient; a socketmap
 * decision for the same recipient (any spelling) follows it until it
 * expires; a second milter decision follows a recent order and shuffles
 * afresh after HOP_MEMORY_SHARE_MS; the oldest entry goes at the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mxpath/dns/hop_memory.h"

/* A relay route through the hosts of "a b c", all at preference 10. */
static void route_of(struct route *r, const char *hosts)
{
	char copy[256], *save = NULL;

	memset(r, 0, sizeof(*r));
	r->action = ROUTE_RELAY;
	snprintf(copy, sizeof(copy), "%s", hosts);
	for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		snprintf(r->hops[r->n_hops].host, MX_NAME_BUF, "%s", w);
		r->hops[r->n_hops].pref = 10;
		r->hops[r->n_hops].via = VIA_MX;
		r->n_hops++;
	}
}

static const char *hosts_of(const struct route *r, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_hops; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i > 0 ? " " : "",
					 r->hops[i].host);
	return buf;
}

/* What a socketmap decision shuffled as "from" becomes for recipient. */
static const char *follow(const struct hop_memory *m, const char *rcpt, const char *from,
			  uint64_t now_ms, char *buf, size_t size)
{
	struct route r;

	route_of(&r, from);
	hop_memory_follow(m, rcpt, &r, now_ms);
	return hosts_of(&r, buf, size);
}

/* A milter decision shuffled as "from"; returns the order it ends with. */
static const char *decide(struct hop_memory *m, const char *rcpt, const char *from,
			  uint64_t now_ms, char *buf, size_t size)
{
	struct route r;

	route_of(&r, from);
	hop_memory_decide(m, rcpt, &r, now_ms);
	return hosts_of(&r, buf, size);
}

static void test_socketmap_follows_the_milters_order_for_that_recipient(void **state)
{
	struct hop_memory *m = hop_memory_new(16);
	char buf[256];

	(void)state;
	assert_string_equal(decide(m, "<User@Example.test>", "c b a", 1000, buf, sizeof(buf)),
			    "c b a");
	assert_string_equal(follow(m, "user@example.test", "a b c", 2000, buf, sizeof(buf)),
			    "c b a");
	assert_string_equal(follow(m, "USER@EXAMPLE.TEST.", "b a c", 2000, buf, sizeof(buf)),
			    "c b a");
	/* another recipient, a bare domain: shuffled as they come */
	assert_string_equal(follow(m, "other@example.test", "a b c", 2000, buf, sizeof(buf)),
			    "a b c");
	assert_string_equal(follow(m, "example.test", "a b c", 2000, buf, sizeof(buf)), "a b c");
	hop_memory_free(&m);
	assert_null(m);
}

static void test_the_order_expires_after_keep(void **state)
{
	struct hop_memory *m = hop_memory_new(16);
	char buf[256];

	(void)state;
	decide(m, "u@example.test", "c b a", 1000, buf, sizeof(buf));
	assert_string_equal(follow(m, "u@example.test", "a b c", 1000 + HOP_MEMORY_KEEP_MS - 1, buf,
				   sizeof(buf)),
			    "c b a");
	assert_string_equal(follow(m, "u@example.test", "a b c", 1000 + HOP_MEMORY_KEEP_MS, buf,
				   sizeof(buf)),
			    "a b c");
	hop_memory_free(&m);
}

static void test_a_second_milter_decision_shares_a_recent_order_only(void **state)
{
	struct hop_memory *m = hop_memory_new(16);
	char buf[256];

	(void)state;
	decide(m, "u@example.test", "c b a", 1000, buf, sizeof(buf));
	assert_string_equal(decide(m, "u@example.test", "a b c", 1000 + HOP_MEMORY_SHARE_MS - 1,
				   buf, sizeof(buf)),
			    "c b a");
	/* later: a fresh shuffle, and the socketmap follows that one */
	assert_string_equal(decide(m, "u@example.test", "b a c", 1000 + HOP_MEMORY_SHARE_MS, buf,
				   sizeof(buf)),
			    "b a c");
	assert_string_equal(follow(m, "u@example.test", "a b c", 1000 + HOP_MEMORY_SHARE_MS, buf,
				   sizeof(buf)),
			    "b a c");
	assert_int_equal(hop_memory_entries(m), 1);
	hop_memory_free(&m);
}

static void test_nothing_is_kept_without_equal_preferences_or_a_relay(void **state)
{
	struct hop_memory *m = hop_memory_new(16);
	struct route r;
	char buf[256];

	(void)state;
	decide(m, "u@example.test", "a", 1000, buf, sizeof(buf));
	route_of(&r, "b a");
	r.action = ROUTE_TEMPFAIL;
	hop_memory_decide(m, "v@example.test", &r, 1000);
	assert_int_equal(hop_memory_entries(m), 0);
	hop_memory_free(&m);
}

static void test_the_oldest_goes_at_the_cap(void **state)
{
	struct hop_memory *m = hop_memory_new(2);
	char buf[256];

	(void)state;
	decide(m, "one@example.test", "b a", 1000, buf, sizeof(buf));
	decide(m, "two@example.test", "b a", 1001, buf, sizeof(buf));
	decide(m, "three@example.test", "b a", 1002, buf, sizeof(buf));
	assert_int_equal(hop_memory_entries(m), 2);
	assert_string_equal(follow(m, "one@example.test", "a b", 1003, buf, sizeof(buf)), "a b");
	assert_string_equal(follow(m, "two@example.test", "a b", 1003, buf, sizeof(buf)), "b a");
	assert_string_equal(follow(m, "three@example.test", "a b", 1003, buf, sizeof(buf)), "b a");
	hop_memory_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socketmap_follows_the_milters_order_for_that_recipient),
		cmocka_unit_test(test_the_order_expires_after_keep),
		cmocka_unit_test(test_a_second_milter_decision_shares_a_recent_order_only),
		cmocka_unit_test(test_nothing_is_kept_without_equal_preferences_or_a_relay),
		cmocka_unit_test(test_the_oldest_goes_at_the_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
