/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_route_order.c - a route's hop order, written down and followed again
 *
 * route_order_write() names the hops in order; route_order_follow() sorts
 * each equal-preference run of another route to match, and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mxpath/engine/route_order.h"

/* A route from "host/pref ..." ("host/-" a fallback relay); hop i gets
 * address 192.0.2.(i + 1). */
static void route_of(struct route *r, const char *text)
{
	char copy[512], *save = NULL;

	memset(r, 0, sizeof(*r));
	r->action = ROUTE_RELAY;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		struct hop *hop = &r->hops[r->n_hops];
		char *slash = strchr(w, '/');
		char addr[32];

		*slash = '\0';
		snprintf(hop->host, sizeof(hop->host), "%s", w);
		hop->via = slash[1] == '-' ? VIA_FALLBACK : VIA_MX;
		hop->pref = slash[1] == '-' ? HOP_PREF_NONE : (uint32_t)atoi(slash + 1);
		hop->addr_first = (uint16_t)r->n_hops;
		hop->addr_count = 1;
		snprintf(addr, sizeof(addr), "192.0.2.%u", r->n_hops + 1);
		assert_int_equal(addr_parse(addr, &r->addrs[r->n_hops]), 0);
		r->n_addrs++;
		r->n_hops++;
	}
}

/* "host/pref@address ..." */
static const char *route_text(const struct route *r, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_hops; i++) {
		char addr[MX_ADDR_TEXT_MAX];
		const struct hop *hop = &r->hops[i];

		addr_format(&r->addrs[hop->addr_first], addr, sizeof(addr));
		used += (size_t)snprintf(buf + used, size - used, "%s%s/%u@%s", i > 0 ? " " : "",
					 hop->host, hop->pref, addr);
	}
	return buf;
}

/* route "from", followed to the order written down from route "model". */
static const char *followed(const char *model, const char *from, char *buf, size_t size)
{
	struct route m, r;
	char order[ROUTE_ORDER_MAX];
	size_t len;

	route_of(&m, model);
	route_of(&r, from);
	len = route_order_write(&m, order, sizeof(order));
	assert_true(len > 0);
	route_order_follow(&r, order, len);
	return route_text(&r, buf, size);
}

static void test_write_names_every_hop_in_order(void **state)
{
	struct route r;
	char order[ROUTE_ORDER_MAX];

	(void)state;
	route_of(&r, "b.test/10 a.test/10 c.test/20");
	assert_int_equal(route_order_write(&r, order, sizeof(order)), sizeof("b.test a.test c.test"));
	assert_memory_equal(order, "b.test\0a.test\0c.test", sizeof("b.test a.test c.test"));
	assert_int_equal(route_order_write(&r, order, 10), 0);	/* does not fit */
}

static void test_write_has_nothing_without_equal_preferences(void **state)
{
	struct route r;
	char order[ROUTE_ORDER_MAX];

	(void)state;
	route_of(&r, "a.test/0 b.test/10 c.test/20");
	assert_int_equal(route_order_write(&r, order, sizeof(order)), 0);
	route_of(&r, "a.test/10 f.test/- g.test/-");	/* fallback relays are not shuffled */
	assert_int_equal(route_order_write(&r, order, sizeof(order)), 0);
}

static void test_follow_sorts_each_equal_run_with_its_addresses(void **state)
{
	char buf[512];

	(void)state;
	assert_string_equal(followed("c.test/10 a.test/10 b.test/10 e.test/20 d.test/20",
				     "a.test/10 b.test/10 c.test/10 d.test/20 e.test/20", buf,
				     sizeof(buf)),
			    "c.test/10@192.0.2.3 a.test/10@192.0.2.1 b.test/10@192.0.2.2 "
			    "e.test/20@192.0.2.5 d.test/20@192.0.2.4");
}

static void test_follow_never_moves_a_hop_across_preferences(void **state)
{
	char buf[512];

	(void)state;
	/* the model has b before a, but a is better here: preferences win */
	assert_string_equal(followed("b.test/10 a.test/10", "a.test/5 b.test/10 c.test/10", buf,
				     sizeof(buf)),
			    "a.test/5@192.0.2.1 b.test/10@192.0.2.2 c.test/10@192.0.2.3");
}

static void test_follow_puts_hosts_not_named_after_the_named_ones(void **state)
{
	char buf[512];

	(void)state;
	assert_string_equal(followed("b.test/10 a.test/10", "x.test/10 a.test/10 y.test/10 b.test/10",
				     buf, sizeof(buf)),
			    "b.test/10@192.0.2.4 a.test/10@192.0.2.2 x.test/10@192.0.2.1 "
			    "y.test/10@192.0.2.3");
}

static void test_follow_keeps_fallback_relays_in_place(void **state)
{
	char buf[512];

	(void)state;
	assert_string_equal(followed("b.test/10 a.test/10 g.test/- f.test/-",
				     "a.test/10 b.test/10 f.test/- g.test/-", buf, sizeof(buf)),
			    "b.test/10@192.0.2.2 a.test/10@192.0.2.1 f.test/4294967295@192.0.2.3 "
			    "g.test/4294967295@192.0.2.4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_names_every_hop_in_order),
		cmocka_unit_test(test_write_has_nothing_without_equal_preferences),
		cmocka_unit_test(test_follow_sorts_each_equal_run_with_its_addresses),
		cmocka_unit_test(test_follow_never_moves_a_hop_across_preferences),
		cmocka_unit_test(test_follow_puts_hosts_not_named_after_the_named_ones),
		cmocka_unit_test(test_follow_keeps_fallback_relays_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
