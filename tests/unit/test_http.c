/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_http.c - the control socket's HTTP request reader: good requests,
 * hostile request lines and headers (each must end in a precise status,
 * never a crash or an over-read), partial requests, limits, and the
 * response head
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/http.h"

struct request_case {
	const char *input;
	int status;		/* 0: still incomplete */
	const char *method;	/* 200: expected */
	const char *path;
};

static const struct request_case request_cases[] = {
	/* good */
	{ "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n\r\n", 200, "GET", "/metrics" },
	{ "GET /metrics HTTP/1.0\r\n\r\n", 200, "GET", "/metrics" },
	{ "GET /metrics HTTP/1.1\nHost: x\n\n", 200, "GET", "/metrics" },
	{ "HEAD /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", 200, "HEAD", "/metrics" },
	{ "GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET", "/metrics" },
	{ "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, "POST", "/metrics" },
	{ "GET / HTTP/1.1\r\nhOsT: x\r\nUser-Agent: curl/7.88.1\r\n\r\n", 200, "GET", "/" },
	/* incomplete: wait for more */
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, NULL, NULL },
	{ "GET /metr", 0, NULL, NULL },
	/* hostile request lines */
	{ "GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics  HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics\r\n\r\n", 400, NULL, NULL },				/* HTTP/0.9 */
	{ "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505, NULL, NULL },
	{ "GET /metrics HTTP/1.9\r\nHost: x\r\n\r\n", 505, NULL, NULL },
	{ "GET /metrics HTTP/1.10\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/x.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics http/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /met\x01rics HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /met\x80rics HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GETTINGTOOLONGMETHOD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\rHost: x\r\n\r\n", 400, NULL, NULL },		/* lone CR */
	/* hostile headers */
	{ "GET /metrics HTTP/1.1\r\n\r\n", 400, NULL, NULL },			/* no Host */
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n", 400, NULL, NULL },
	{ "GET /metrics HTTP/1.1\r\nHost: x\x7f\r\n\r\n", 400, NULL, NULL },
};

static void test_request_table_gives_each_case_its_status(void **state MX_UNUSED)
{
	for (size_t i = 0; i < MX_ARRAY_LEN(request_cases); i++) {
		const struct request_case *c = &request_cases[i];
		struct http_request req;
		enum http_parse rc = http_request_parse(c->input, strlen(c->input), false, &req);

		if (c->status == 0) {
			assert_int_equal(rc, HTTP_PARSE_INCOMPLETE);
			continue;
		}
		if (rc != HTTP_PARSE_DONE || req.status != c->status)
			fail_msg("case %zu \"%s\": got %d / %d, want %d", i, c->input, (int)rc,
				 req.status, c->status);
		if (c->status == 200) {
			assert_string_equal(req.method, c->method);
			assert_string_equal(req.path, c->path);
		}
	}
}

/* Every prefix of a good request is incomplete; the whole is done. */
static void test_byte_by_byte_is_incomplete_until_the_blank_line(void **state MX_UNUSED)
{
	static const char good[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_request req;

	for (size_t len = 0; len < sizeof(good) - 2; len++)
		assert_int_equal(http_request_parse(good, len, false, &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_request_parse(good, sizeof(good) - 1, false, &req), HTTP_PARSE_DONE);
	assert_int_equal(req.status, 200);
}

static void test_a_client_that_stops_early_gets_400(void **state MX_UNUSED)
{
	static const char part[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	struct http_request req;

	assert_int_equal(http_request_parse(part, sizeof(part) - 1, true, &req), HTTP_PARSE_DONE);
	assert_int_equal(req.status, 400);
}

static void test_nul_byte_anywhere_is_400(void **state MX_UNUSED)
{
	static const char req_text[] = "GET /metrics HTTP/1.1\r\nHost: x\0y\r\n\r\n";
	struct http_request req;

	assert_int_equal(http_request_parse(req_text, sizeof(req_text) - 1, false, &req),
			 HTTP_PARSE_DONE);
	assert_int_equal(req.status, 400);
}

/* A request line that fills the whole buffer without ending: 414. */
static void test_endless_request_line_is_414(void **state MX_UNUSED)
{
	char *buf = malloc(HTTP_REQUEST_MAX);
	struct http_request req;

	assert_non_null(buf);
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', HTTP_REQUEST_MAX - 5);
	assert_int_equal(http_request_parse(buf, HTTP_REQUEST_MAX - 1, false, &req),
			 HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_request_parse(buf, HTTP_REQUEST_MAX, false, &req), HTTP_PARSE_DONE);
	assert_int_equal(req.status, 414);
	free(buf);
}

static void test_target_over_its_limit_is_414(void **state MX_UNUSED)
{
	char buf[HTTP_TARGET_MAX + 64];
	struct http_request req;
	int n;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	n = snprintf(buf + 5 + HTTP_TARGET_MAX, sizeof(buf) - 5 - HTTP_TARGET_MAX,
		     " HTTP/1.0\r\n\r\n");
	assert_int_equal(http_request_parse(buf, (size_t)(5 + HTTP_TARGET_MAX + n), false, &req),
			 HTTP_PARSE_DONE);
	assert_int_equal(req.status, 414);
}

/* Headers that never end within HTTP_REQUEST_MAX: 431. */
static void test_endless_headers_are_431(void **state MX_UNUSED)
{
	char *buf = malloc(HTTP_REQUEST_MAX);
	struct http_request req;
	size_t len = 0;

	assert_non_null(buf);
	len += (size_t)snprintf(buf, HTTP_REQUEST_MAX, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
	while (len + 8 <= HTTP_REQUEST_MAX) {
		memcpy(buf + len, "X-A: b\r\n", 8);
		len += 8;
	}
	memset(buf + len, 'x', HTTP_REQUEST_MAX - len);
	assert_int_equal(http_request_parse(buf, HTTP_REQUEST_MAX, false, &req), HTTP_PARSE_DONE);
	assert_int_equal(req.status, 431);
	free(buf);
}

static void test_too_many_header_fields_are_431(void **state MX_UNUSED)
{
	char buf[HTTP_REQUEST_MAX];
	struct http_request req;
	size_t len = (size_t)snprintf(buf, sizeof(buf), "GET /metrics HTTP/1.1\r\nHost: x\r\n");

	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "X-%d: y\r\n", i);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n");
	assert_int_equal(http_request_parse(buf, len, false, &req), HTTP_PARSE_DONE);
	assert_int_equal(req.status, 431);
}

static void test_http_is_request_tells_http_from_commands(void **state MX_UNUSED)
{
	assert_true(http_is_request("GET /metrics HTTP/1.1\r\n", 23));
	assert_true(http_is_request("GET /", 5));
	assert_true(http_is_request("BREW /pot HTTP/1.1\r\n", 20));
	assert_false(http_is_request("stats\n", 6));
	assert_false(http_is_request("route user@example.com\n", 23));
	assert_false(http_is_request("reload", 6));
	assert_true(http_is_request("GET  /metrics HTTP/1.1", 22));
	assert_false(http_is_request("GET", 3));
	assert_false(http_is_request("Get /", 5));
	assert_false(http_is_request("", 0));
}

static void test_response_head_has_length_type_and_close(void **state MX_UNUSED)
{
	char buf[512];
	size_t n = http_response_head(buf, sizeof(buf), 200, "text/plain; version=0.0.4", 1234);

	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/plain; version=0.0.4\r\n"
			    "Content-Length: 1234\r\n"
			    "Connection: close\r\n\r\n");
	n = http_response_head(buf, sizeof(buf), 405, "text/plain", 0);
	assert_non_null(strstr(buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(buf, "\r\nAllow: GET, HEAD\r\n"));
	assert_int_equal(http_response_head(buf, 20, 200, "text/plain", 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table_gives_each_case_its_status),
		cmocka_unit_test(test_byte_by_byte_is_incomplete_until_the_blank_line),
		cmocka_unit_test(test_a_client_that_stops_early_gets_400),
		cmocka_unit_test(test_nul_byte_anywhere_is_400),
		cmocka_unit_test(test_endless_request_line_is_414),
		cmocka_unit_test(test_target_over_its_limit_is_414),
		cmocka_unit_test(test_endless_headers_are_431),
		cmocka_unit_test(test_too_many_header_fields_are_431),
		cmocka_unit_test(test_http_is_request_tells_http_from_commands),
		cmocka_unit_test(test_response_head_has_length_type_and_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
