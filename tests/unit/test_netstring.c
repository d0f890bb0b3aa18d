/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_netstring.c - the netstring codec: every malformed class, partial
 * reads byte by byte, pipelining, limits, and the reply encoder
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/netstring.h"

struct parse_case {
	const char *input;
	size_t limit;
	enum netstring_status status;
	const char *payload;	/* OK: expected payload */
	const char *why;	/* ERROR: expected reason */
};

static const struct parse_case parse_cases[] = {
	{ "5:hello,", 100, NETSTRING_OK, "hello", NULL },
	{ "0:,", 100, NETSTRING_OK, "", NULL },
	{ "3:abc,4:next,", 100, NETSTRING_OK, "abc", NULL },
	{ "3:a,c,", 100, NETSTRING_OK, "a,c", NULL },
	{ "10:0123456789,", 10, NETSTRING_OK, "0123456789", NULL },
	{ "", 100, NETSTRING_MORE, NULL, NULL },
	{ "1", 100, NETSTRING_MORE, NULL, NULL },
	{ "12", 100, NETSTRING_MORE, NULL, NULL },
	{ "0", 100, NETSTRING_MORE, NULL, NULL },
	{ "5:", 100, NETSTRING_MORE, NULL, NULL },
	{ "5:hel", 100, NETSTRING_MORE, NULL, NULL },
	{ "5:hello", 100, NETSTRING_MORE, NULL, NULL },
	{ "x:", 100, NETSTRING_ERROR, NULL, "length is not a number" },
	{ ":abc,", 100, NETSTRING_ERROR, NULL, "length is not a number" },
	{ "-1:a,", 100, NETSTRING_ERROR, NULL, "length is not a number" },
	{ " 1:a,", 100, NETSTRING_ERROR, NULL, "length is not a number" },
	{ "00:,", 100, NETSTRING_ERROR, NULL, "length has a leading zero" },
	{ "01:a,", 100, NETSTRING_ERROR, NULL, "length has a leading zero" },
	{ "5x", 100, NETSTRING_ERROR, NULL, "length not followed by ':'" },
	{ "5 :hello,", 100, NETSTRING_ERROR, NULL, "length not followed by ':'" },
	{ "3:abc;", 100, NETSTRING_ERROR, NULL, "missing ',' terminator" },
	{ "3:abcd,", 100, NETSTRING_ERROR, NULL, "missing ',' terminator" },
	{ "101:", 100, NETSTRING_ERROR, NULL, "length over the limit" },
	{ "10001", 10000, NETSTRING_ERROR, NULL, "length over the limit" },
	/* a long run of digits is refused at once, not kept waiting for ':' */
	{ "999999", 10000, NETSTRING_ERROR, NULL, "length over the limit" },
	{ "18446744073709551617:", 10000, NETSTRING_ERROR, NULL, "length over the limit" },
};

static void test_parse_table_classifies_every_case(void **state)
{
	size_t i, off, len;
	const char *why;
	enum netstring_status status;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];

		off = len = 0;
		why = NULL;
		status = netstring_parse(c->input, strlen(c->input), c->limit, &off, &len, &why);
		if (status != c->status)
			fail_msg("case %zu \"%s\": status %d, expected %d", i, c->input, status,
				 c->status);
		if (c->status == NETSTRING_OK) {
			assert_int_equal(len, strlen(c->payload));
			assert_memory_equal(c->input + off, c->payload, len);
		}
		if (c->status == NETSTRING_ERROR)
			assert_string_equal(why, c->why);
	}
}

static void test_frame_size_counts_digits_colon_and_comma(void **state)
{
	(void)state;
	assert_int_equal(netstring_frame_size(0), 3);
	assert_int_equal(netstring_frame_size(9), 12);
	assert_int_equal(netstring_frame_size(10), 14);
	assert_int_equal(netstring_frame_size(10000), 10007);
	assert_int_equal(netstring_frame_size(100000), 100008);
}

/* Feeds data through the input buffer n bytes per read. */
static size_t feed(struct netstring_in *in, const char *data, size_t len, size_t chunk)
{
	size_t room, n, fed = 0;
	char *p;

	while (fed < len) {
		p = netstring_in_space(in, &room);
		if (room == 0)
			break;
		n = len - fed < chunk ? len - fed : chunk;
		n = n < room ? n : room;
		memcpy(p, data + fed, n);
		netstring_in_commit(in, n);
		fed += n;
	}
	return fed;
}

static void test_byte_by_byte_yields_each_request_once_complete(void **state)
{
	static const char stream[] = "21:transport user@a.test,15:mailertable b.c,0:,";
	static const char *const want[] = { "transport user@a.test", "mailertable b.c", "" };
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t i, got = 0, len;
	enum netstring_status status;

	(void)state;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	for (i = 0; i < sizeof(stream) - 1; i++) {
		assert_int_equal(feed(&in, stream + i, 1, 1), 1);
		while ((status = netstring_in_next(&in, &payload, &len, &why)) == NETSTRING_OK) {
			assert_true(got < MX_ARRAY_LEN(want));
			assert_int_equal(len, strlen(want[got]));
			assert_string_equal(payload, want[got]);
			got++;
		}
		assert_int_equal(status, NETSTRING_MORE);
	}
	assert_int_equal(got, 3);
	assert_int_equal(netstring_in_buffered(&in), 0);
	netstring_in_release(&in);
}

static void test_pipelined_requests_in_one_read_come_out_in_order(void **state)
{
	static const char stream[] = "3:one,3:two,5:three,4:fo";
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len;

	(void)state;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	feed(&in, stream, sizeof(stream) - 1, sizeof(stream));
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_string_equal(payload, "one");
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_string_equal(payload, "two");
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_string_equal(payload, "three");
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_MORE);
	assert_int_equal(netstring_in_buffered(&in), 4);
	/* the rest of the fourth arrives after the buffer was compacted */
	feed(&in, "ur,", 3, 3);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_string_equal(payload, "four");
	netstring_in_release(&in);
}

static void test_payload_with_nul_byte_keeps_its_length(void **state)
{
	static const char stream[] = "3:a\0b,";
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len;

	(void)state;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	feed(&in, stream, sizeof(stream) - 1, 64);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(payload, "a\0b", 3);
	netstring_in_release(&in);
}

static void test_query_of_exactly_the_limit_is_accepted(void **state)
{
	static char stream[NETSTRING_QUERY_MAX + 16];
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len, n;

	(void)state;
	n = (size_t)snprintf(stream, sizeof(stream), "%d:", NETSTRING_QUERY_MAX);
	memset(stream + n, 'k', NETSTRING_QUERY_MAX);
	stream[n + NETSTRING_QUERY_MAX] = ',';
	n += NETSTRING_QUERY_MAX + 1;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	assert_int_equal(feed(&in, stream, n, 1000), n);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_int_equal(len, NETSTRING_QUERY_MAX);
	assert_int_equal(payload[0], 'k');
	netstring_in_release(&in);
}

static void test_query_over_the_limit_fails_on_its_header(void **state)
{
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len;

	(void)state;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	feed(&in, "10001:", 6, 6);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_ERROR);
	assert_string_equal(why, "length over the limit");
	netstring_in_release(&in);
}

static void test_full_buffer_asks_to_decode_before_reading(void **state)
{
	static char stream[2 * (NETSTRING_QUERY_MAX + 16)];
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len, n, one, room;

	(void)state;
	one = (size_t)snprintf(stream, sizeof(stream), "%d:", NETSTRING_QUERY_MAX);
	memset(stream + one, 'a', NETSTRING_QUERY_MAX);
	stream[one + NETSTRING_QUERY_MAX] = ',';
	one += NETSTRING_QUERY_MAX + 1;
	memcpy(stream + one, stream, one);
	n = 2 * one;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	/* the buffer never holds more than one whole query */
	assert_int_equal(feed(&in, stream, n, 4096), one);
	netstring_in_space(&in, &room);
	assert_int_equal(room, 0);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_int_equal(feed(&in, stream + one, one, 4096), one);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_int_equal(len, NETSTRING_QUERY_MAX);
	assert_true(in.size <= netstring_frame_size(NETSTRING_QUERY_MAX));
	netstring_in_release(&in);
}

static void test_garbage_after_a_good_request_fails_only_then(void **state)
{
	struct netstring_in in;
	const char *why = NULL;
	char *payload;
	size_t len;

	(void)state;
	netstring_in_init(&in, NETSTRING_QUERY_MAX);
	feed(&in, "2:ok,GET / HTTP/1.0\r\n", 21, 64);
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
	assert_string_equal(payload, "ok");
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_ERROR);
	assert_string_equal(why, "length is not a number");
	netstring_in_release(&in);
}

static void test_encoder_frames_payloads(void **state)
{
	struct netstring_out out;
	const char *data;
	size_t len;

	(void)state;
	netstring_out_init(&out, NETSTRING_REPLY_MAX, 0);
	data = netstring_out_pending(&out, &len);
	assert_int_equal(len, 0);
	assert_int_equal(netstring_out_put(&out, "OK smtp:[a.test]", 16), 0);
	assert_int_equal(netstring_out_put(&out, "", 0), 0);
	assert_int_equal(netstring_out_put(&out, "NOTFOUND ", 9), 0);
	data = netstring_out_pending(&out, &len);
	assert_int_equal(len, strlen("16:OK smtp:[a.test],0:,9:NOTFOUND ,"));
	assert_memory_equal(data, "16:OK smtp:[a.test],0:,9:NOTFOUND ,", len);
	netstring_out_release(&out);
}

static void test_encoder_keeps_the_unwritten_rest_after_partial_write(void **state)
{
	struct netstring_out out;
	const char *data;
	size_t len;

	(void)state;
	netstring_out_init(&out, NETSTRING_REPLY_MAX, 0);
	assert_int_equal(netstring_out_put(&out, "hello", 5), 0);
	netstring_out_consume(&out, 3);
	data = netstring_out_pending(&out, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "ello,", 5);
	assert_int_equal(netstring_out_put(&out, "x", 1), 0);
	data = netstring_out_pending(&out, &len);
	assert_memory_equal(data, "ello,1:x,", 9);
	netstring_out_consume(&out, 9);
	netstring_out_pending(&out, &len);
	assert_int_equal(len, 0);
	netstring_out_release(&out);
}

static void test_encoder_refuses_reply_over_limit(void **state)
{
	static char big[NETSTRING_REPLY_MAX + 1];
	struct netstring_out out;
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big));
	netstring_out_init(&out, NETSTRING_REPLY_MAX, 0);
	assert_int_equal(netstring_out_put(&out, big, NETSTRING_REPLY_MAX + 1), -1);
	netstring_out_pending(&out, &len);
	assert_int_equal(len, 0);
	assert_int_equal(netstring_out_put(&out, big, NETSTRING_REPLY_MAX), 0);
	netstring_out_pending(&out, &len);
	assert_int_equal(len, netstring_frame_size(NETSTRING_REPLY_MAX));
	netstring_out_release(&out);
}

static void test_encoder_stops_at_its_maximum_backlog(void **state)
{
	struct netstring_out out;
	size_t len;
	int i;

	(void)state;
	/* 16-byte payload limit, 40 bytes of backlog: two 20-byte frames fit */
	netstring_out_init(&out, 16, 40);
	assert_false(netstring_out_fits(&out, 17));
	assert_int_equal(netstring_out_put(&out, "0123456789abcdefg", 17), -1);
	for (i = 0; i < 2; i++) {
		assert_true(netstring_out_fits(&out, 16));
		assert_int_equal(netstring_out_put(&out, "0123456789abcdef", 16), 0);
	}
	assert_false(netstring_out_fits(&out, 16));
	assert_int_equal(netstring_out_put(&out, "0123456789abcdef", 16), -1);
	netstring_out_consume(&out, 20);
	assert_int_equal(netstring_out_put(&out, "0123456789abcdef", 16), 0);
	netstring_out_pending(&out, &len);
	assert_int_equal(len, 40);
	assert_true(out.size <= 40);
	netstring_out_release(&out);
}

static void test_encoded_replies_decode_back(void **state)
{
	static const char *const replies[] = { "OK esmtp:[a]:[b]", "TEMP dns timeout", "" };
	struct netstring_out out;
	struct netstring_in in;
	const char *data, *why = NULL;
	char *payload;
	size_t len, i;

	(void)state;
	netstring_out_init(&out, NETSTRING_REPLY_MAX, 0);
	netstring_in_init(&in, NETSTRING_REPLY_MAX);
	for (i = 0; i < MX_ARRAY_LEN(replies); i++)
		assert_int_equal(netstring_out_put(&out, replies[i], strlen(replies[i])), 0);
	data = netstring_out_pending(&out, &len);
	feed(&in, data, len, 7);
	for (i = 0; i < MX_ARRAY_LEN(replies); i++) {
		assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_OK);
		assert_string_equal(payload, replies[i]);
	}
	assert_int_equal(netstring_in_next(&in, &payload, &len, &why), NETSTRING_MORE);
	netstring_in_release(&in);
	netstring_out_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table_classifies_every_case),
		cmocka_unit_test(test_frame_size_counts_digits_colon_and_comma),
		cmocka_unit_test(test_byte_by_byte_yields_each_request_once_complete),
		cmocka_unit_test(test_pipelined_requests_in_one_read_come_out_in_order),
		cmocka_unit_test(test_payload_with_nul_byte_keeps_its_length),
		cmocka_unit_test(test_query_of_exactly_the_limit_is_accepted),
		cmocka_unit_test(test_query_over_the_limit_fails_on_its_header),
		cmocka_unit_test(test_full_buffer_asks_to_decode_before_reading),
		cmocka_unit_test(test_garbage_after_a_good_request_fails_only_then),
		cmocka_unit_test(test_encoder_frames_payloads),
		cmocka_unit_test(test_encoder_keeps_the_unwritten_rest_after_partial_write),
		cmocka_unit_test(test_encoder_refuses_reply_over_limit),
		cmocka_unit_test(test_encoder_stops_at_its_maximum_backlog),
		cmocka_unit_test(test_encoded_replies_decode_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
