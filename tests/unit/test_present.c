/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_present.c - text for people: the sanitizer's flags, key=value log
 * lines, hop and pruned lists with their cut
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mxpath/doors/present.h"

static void test_sanitize_table(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		size_t cap;
		const char *want;
	} cases[] = {
		{ "a b\tc", 5, 0, 8, "a?b?c" },
		{ "a b", 3, PRESENT_KEEP_SPACE, 8, "a b" },
		{ "0123456789", 10, PRESENT_KEEP_SPACE, 8, "0123456" },
		{ "a\0b", 3, PRESENT_KEEP_SPACE, 8, "a?b" },
		{ "b\xc3\xbc" "cher", 7, 0, 16, "b??cher" },
		{ "b\xc3\xbc" "cher", 7, PRESENT_KEEP_8BIT, 16, "b\xc3\xbc" "cher" },
		{ "x\r\ny\x7f", 5, PRESENT_KEEP_SPACE | PRESENT_KEEP_8BIT, 16, "x??y?" },
		{ "50% off", 7, PRESENT_KEEP_SPACE, 16, "50% off" },
		{ "50% off", 7, PRESENT_KEEP_SPACE | PRESENT_NO_PERCENT, 16, "50? off" },
		{ "abc", 3, 0, 1, "" },
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = present_sanitize(out, cases[i].cap, cases[i].in, cases[i].len,
					    cases[i].flags);

		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	assert_int_equal(present_sanitize(out, 0, "abc", 3, 0), 0);
}

static void test_line_fields_and_cut(void **state)
{
	struct present_line line;
	char big[PRESENT_LINE_MAX + 100];

	(void)state;
	present_line_start(&line, "socketmap:");
	present_line_field_uint(&line, "conn", 42);
	present_line_field(&line, "key", "u@example.org");
	present_line_field_quoted(&line, "reason", "no route");
	present_line_field_uint(&line, "ms", 0);
	assert_string_equal(line.buf, "socketmap: conn=42 key=u@example.org reason=\"no route\" ms=0");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	present_line_field(&line, "big", big);
	assert_int_equal(line.len, PRESENT_LINE_MAX - 1);
	assert_int_equal(strlen(line.buf), PRESENT_LINE_MAX - 1);
}

static void test_hop_and_pruned_lists(void **state)
{
	static struct route route;
	char buf[64], small[24];

	(void)state;
	memset(&route, 0, sizeof(route));
	present_hops(&route, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	present_pruned(&route, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	snprintf(route.hops[0].host, sizeof(route.hops[0].host), "mx1.example");
	snprintf(route.hops[1].host, sizeof(route.hops[1].host), "mx2.example");
	route.n_hops = 2;
	snprintf(route.pruned[0].host, sizeof(route.pruned[0].host), "me.example");
	route.pruned[0].reason = PRUNE_SELF;
	route.n_pruned = 1;
	present_hops(&route, buf, sizeof(buf));
	assert_string_equal(buf, "mx1.example,mx2.example");
	present_pruned(&route, buf, sizeof(buf));
	assert_string_equal(buf, "me.example:self");
	/* 11 + 4 fits 24 with the room kept for "...", the second does not. */
	present_hops(&route, small, sizeof(small));
	assert_string_equal(small, "mx1.example...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_line_fields_and_cut),
		cmocka_unit_test(test_hop_and_pruned_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
