/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_format.c - socketmap answers: each action x each map x nexthop
 * name/address x port, what each key means (the sendmail dot keys,
 * default = "notfound"), sanitising and the reply size limit
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/config/config.h"
#include "mxpath/doors/format.h"

#define T FORMAT_MAP_TRANSPORT
#define M FORMAT_MAP_MAILERTABLE

static const char base_conf[] =
	"local_hosts = [ \"b.cs.xyz.edu\" ];\n"
	"clusters = ( { name = \"cluster.cs.xyz.edu\";\n"
	"  members = ( { host = \"a.cs.xyz.edu\"; pref = 10; } ); } );\n"
	"routes = ( { domain = \".process.com\";\n"
	"             hosts = ( { host = \"daisy.process.com\"; pref = 10; } ); },\n"
	"           { domain = \"exact.test\";\n"
	"             hosts = ( { host = \"gw.exact.test\"; pref = 10; } ); } );\n";

static char reply_buf[FORMAT_REPLY_MAX + 1];

static struct policy *policy_load(const char *socketmap_section, const char *extra);
static struct policy *policy_from_text(const char *text);
static struct format_reply reply_new(char *buf, size_t cap);
static void route_init(struct route *route, enum route_action action);
static void route_add_hop(struct route *route, const char *host, const char *const *addrs);
static void route_set_reply(struct route *route, int code, const char *status,
			    const char *text);
static const char *answer_of(const struct policy *policy, enum format_map map,
			     const struct route *route, struct format_reply *reply);

/* A policy from base_conf plus a socketmap section and extra lines. */
static struct policy *policy_load(const char *socketmap_section, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s\nsocketmap = { %s };\n", base_conf, extra,
		 socketmap_section);
	return policy_from_text(text);
}

static struct policy *policy_from_text(const char *text)
{
	char err[CONFIG_ERROR_MAX] = "";
	struct policy *policy = NULL;

	if (config_load_string(text, "t.conf", &policy, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	return policy;
}

static struct format_reply reply_new(char *buf, size_t cap)
{
	struct format_reply reply;

	memset(&reply, 0, sizeof(reply));
	reply.buf = buf;
	reply.cap = cap;
	return reply;
}

static void route_init(struct route *route, enum route_action action)
{
	memset(route, 0, sizeof(*route));
	route->action = action;
	route->rule = RULE_MX;
}

/* addrs: NULL-terminated texts, or NULL for none. */
static void route_add_hop(struct route *route, const char *host, const char *const *addrs)
{
	struct hop *hop = &route->hops[route->n_hops++];

	snprintf(hop->host, sizeof(hop->host), "%s", host);
	hop->pref = 10;
	hop->addr_first = (uint16_t)route->n_addrs;
	for (; addrs != NULL && *addrs != NULL; addrs++) {
		assert_int_equal(addr_parse(*addrs, &route->addrs[route->n_addrs]), 0);
		route->n_addrs++;
		hop->addr_count++;
	}
}

static void route_set_reply(struct route *route, int code, const char *status,
			    const char *text)
{
	route->reply.code = code;
	snprintf(route->reply.status, sizeof(route->reply.status), "%s", status);
	snprintf(route->reply.text, sizeof(route->reply.text), "%s", text);
}

static const char *answer_of(const struct policy *policy, enum format_map map,
			     const struct route *route, struct format_reply *reply)
{
	struct format_query q;

	memset(&q, 0, sizeof(q));
	q.map = map;
	format_route(policy, &q, route, reply);
	assert_int_equal(reply->len, strlen(reply->buf));
	return reply->buf;
}

static const char *const addrs_a[] = { "192.0.2.1", "192.0.2.11", NULL };
static const char *const addrs_b[] = { "2001:db8::2", NULL };
static const char *const addrs_c[] = { "192.0.2.3", NULL };

struct relay_case {
	const char *socketmap;
	enum format_map map;
	const char *want;
};

static const struct relay_case relay_cases[] = {
	{ "nexthop = \"name\";", T, "OK smtp:[a.test], [b.test], [c.test]" },
	{ "nexthop = \"name\"; port = 2526;", T,
	  "OK smtp:[a.test]:2526, [b.test]:2526, [c.test]:2526" },
	{ "nexthop = \"address\";", T,
	  "OK smtp:[192.0.2.1], [192.0.2.11], [ipv6:2001:db8::2], [192.0.2.3]" },
	{ "nexthop = \"address\"; port = 2526;", T,
	  "OK smtp:[192.0.2.1]:2526, [192.0.2.11]:2526, [ipv6:2001:db8::2]:2526, "
	  "[192.0.2.3]:2526" },
	{ "nexthop = \"name\"; transport = \"relay\";", T,
	  "OK relay:[a.test], [b.test], [c.test]" },
	{ "nexthop = \"name\";", M, "OK esmtp:[a.test]:[b.test]:[c.test]" },
	/* sendmail takes no port in a host list: the mailer has it */
	{ "nexthop = \"name\"; port = 2526;", M, "OK esmtp:[a.test]:[b.test]:[c.test]" },
	{ "nexthop = \"address\";", M,
	  "OK esmtp:[192.0.2.1]:[192.0.2.11]:[IPv6:2001:db8::2]:[192.0.2.3]" },
	{ "nexthop = \"address\"; port = 2526;", M,
	  "OK esmtp:[192.0.2.1]:[192.0.2.11]:[IPv6:2001:db8::2]:[192.0.2.3]" },
	{ "nexthop = \"name\"; mailer = \"relay\";", M, "OK relay:[a.test]:[b.test]:[c.test]" },
};

static void test_relay_lists_hops_in_route_order_per_map_and_nexthop(void **state)
{
	struct format_reply reply;
	struct policy *policy;
	struct route route;
	size_t i;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	route_add_hop(&route, "a.test", addrs_a);
	route_add_hop(&route, "b.test", addrs_b);
	route_add_hop(&route, "c.test", addrs_c);
	for (i = 0; i < MX_ARRAY_LEN(relay_cases); i++) {
		policy = policy_load(relay_cases[i].socketmap, "");
		reply = reply_new(reply_buf, sizeof(reply_buf));
		answer_of(policy, relay_cases[i].map, &route, &reply);
		if (strcmp(reply.buf, relay_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, reply.buf,
				 relay_cases[i].want);
		assert_int_equal(reply.outcome, FORMAT_RELAY);
		assert_false(reply.truncated);
		policy_unref(&policy);
	}
}

struct literal_case {
	const char *host;
	const char *addr;
	const char *socketmap;
	enum format_map map;
	const char *want;
};

static const struct literal_case literal_cases[] = {
	{ "[192.0.2.9]", "192.0.2.9", "nexthop = \"name\";", T, "OK smtp:[192.0.2.9]" },
	{ "[192.0.2.9]", "192.0.2.9", "nexthop = \"address\"; port = 25;", T,
	  "OK smtp:[192.0.2.9]:25" },
	{ "[192.0.2.9]", "192.0.2.9", "nexthop = \"name\";", M, "OK esmtp:[192.0.2.9]" },
	{ "[IPv6:2001:db8::9]", "2001:db8::9", "nexthop = \"name\";", T,
	  "OK smtp:[ipv6:2001:db8::9]" },
	{ "[IPv6:2001:db8::9]", "2001:db8::9", "nexthop = \"name\";", M,
	  "OK esmtp:[IPv6:2001:db8::9]" },
	{ "[2001:db8::9]", "2001:db8::9", "nexthop = \"address\";", M,
	  "OK esmtp:[IPv6:2001:db8::9]" },
};

static void test_address_literal_hops_stay_literals(void **state)
{
	struct format_reply reply;
	struct policy *policy;
	struct route route;
	size_t i;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(literal_cases); i++) {
		const char *addrs[] = { literal_cases[i].addr, NULL };

		route_init(&route, ROUTE_RELAY);
		route.rule = RULE_LITERAL;
		route_add_hop(&route, literal_cases[i].host, addrs);
		policy = policy_load(literal_cases[i].socketmap, "");
		reply = reply_new(reply_buf, sizeof(reply_buf));
		answer_of(policy, literal_cases[i].map, &route, &reply);
		if (strcmp(reply.buf, literal_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, reply.buf,
				 literal_cases[i].want);
		policy_unref(&policy);
	}
}

static void test_address_mode_lists_a_shared_address_once(void **state)
{
	static const char *const shared[] = { "192.0.2.1", NULL };
	struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));
	struct policy *policy = policy_load("nexthop = \"address\";", "");
	struct route route;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	route_add_hop(&route, "a.test", addrs_a);
	route_add_hop(&route, "alias.test", shared);
	route_add_hop(&route, "c.test", addrs_c);
	assert_string_equal(answer_of(policy, T, &route, &reply),
			    "OK smtp:[192.0.2.1], [192.0.2.11], [192.0.2.3]");
	assert_int_equal(reply.hosts, 3);
	policy_unref(&policy);
}

struct verdict_case {
	const char *socketmap;
	enum route_action action;
	enum format_map map;
	const char *want;
	enum format_outcome outcome;
};

static const struct verdict_case verdict_cases[] = {
	{ "", ROUTE_LOCAL, T, "OK local:", FORMAT_LOCAL },
	{ "", ROUTE_LOCAL, M, "OK local:", FORMAT_LOCAL },
	{ "local = \"lmtp:unix:private/dovecot-lmtp\";", ROUTE_LOCAL, T,
	  "OK lmtp:unix:private/dovecot-lmtp", FORMAT_LOCAL },
	{ "", ROUTE_REJECT, T, "OK error:5.1.10 Recipient address has null MX", FORMAT_REJECT },
	{ "", ROUTE_REJECT, M, "OK error:5.1.10:556 Recipient address has null MX",
	  FORMAT_REJECT },
	{ "", ROUTE_TEMPFAIL, T, "TEMP Recipient address has null MX", FORMAT_TEMPFAIL },
	{ "", ROUTE_TEMPFAIL, M, "TEMP Recipient address has null MX", FORMAT_TEMPFAIL },
};

static void test_local_reject_and_tempfail_answers_per_map(void **state)
{
	struct format_reply reply;
	struct policy *policy;
	struct route route;
	size_t i;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(verdict_cases); i++) {
		route_init(&route, verdict_cases[i].action);
		if (verdict_cases[i].action != ROUTE_LOCAL)
			route_set_reply(&route, 556, "5.1.10", "Recipient address has null MX");
		policy = policy_load(verdict_cases[i].socketmap, "");
		reply = reply_new(reply_buf, sizeof(reply_buf));
		answer_of(policy, verdict_cases[i].map, &route, &reply);
		if (strcmp(reply.buf, verdict_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, reply.buf,
				 verdict_cases[i].want);
		assert_int_equal(reply.outcome, verdict_cases[i].outcome);
		policy_unref(&policy);
	}
}

/* One reply of the engine through one map: the text as the MTA gets it. */
static const struct reply_case {
	const char *name;
	enum route_action action;
	int code;
	const char *status;
	const char *text;
	enum format_map map;
	const char *want;
} reply_cases[] = {
	{ "tempfail answer is the engine text", ROUTE_TEMPFAIL, 451, "4.4.3",
	  "DNS lookup of example.org failed: timeout", T,
	  "TEMP DNS lookup of example.org failed: timeout" },
	{ "reply texts lose control characters", ROUTE_REJECT, 550, "5.1.2",
	  "no such\r\ndomain\x7f \xc3\xa9", M, "OK error:5.1.2:550 no such??domain? ??" },
	{ "reject with a 2xx code gets safe defaults", ROUTE_REJECT, 250, "2.0.0", "", M,
	  "OK error:5.0.0:550 Recipient address rejected" },
	{ "reject with a bad status gets 5.0.0", ROUTE_REJECT, 554, "5.4.6 x",
	  "loops back to myself", T, "OK error:5.0.0 loops back to myself" },
};

static void test_reply_texts_per_map(void **state)
{
	struct policy *policy = policy_load("", "");
	struct route route;

	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(reply_cases); i++) {
		const struct reply_case *c = &reply_cases[i];
		struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));

		route_init(&route, c->action);
		route_set_reply(&route, c->code, c->status, c->text);
		if (strcmp(answer_of(policy, c->map, &route, &reply), c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, reply.buf, c->want);
	}
	policy_unref(&policy);
}

static void test_relay_without_hops_is_a_temporary_failure(void **state)
{
	struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));
	struct policy *policy = policy_load("", "");
	struct route route;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	answer_of(policy, T, &route, &reply);
	assert_int_equal(reply.outcome, FORMAT_TEMPFAIL);
	assert_int_equal(strncmp(reply.buf, "TEMP ", 5), 0);
	policy_unref(&policy);
}

/* Hop i's name: 246 octets of one letter, then ".NN.t" (251 in all). */
static const char *long_hop_name(unsigned i)
{
	static char name[MX_NAME_MAX];

	memset(name, 'a' + (char)(i % 26), 246);
	snprintf(name + 246, sizeof(name) - 246, ".%02u.t", i);
	return name;
}

/* 58 hops of 250-octet names cannot fit in 1,024 bytes: the list is cut
 * between two hosts and the reply stays well-formed. */
static void test_long_host_list_is_cut_between_hosts(void **state)
{
	char small[FORMAT_REPLY_MIN];
	struct format_reply reply = reply_new(small, sizeof(small));
	struct policy *policy = policy_load("port = 2526;", "");
	struct route route;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	for (unsigned i = 0; i < ROUTE_HOPS_MAX; i++)
		route_add_hop(&route, long_hop_name(i), addrs_c);
	answer_of(policy, T, &route, &reply);
	assert_int_equal(reply.outcome, FORMAT_RELAY);
	assert_true(reply.truncated);
	assert_int_equal(reply.hosts, 3);
	assert_true(reply.len < sizeof(small));
	assert_string_equal(reply.buf + reply.len - 11, ".02.t]:2526");
	assert_int_equal(strncmp(reply.buf, "OK smtp:[aaaa", 13), 0);
	policy_unref(&policy);
}

/* The reply and its NUL fill the buffer exactly, or the last host goes. */
static void test_reply_uses_the_buffer_to_the_last_byte_and_no_further(void **state)
{
	static char buf[2048];
	char name[MX_NAME_MAX];
	struct policy *policy = policy_load("", "");
	struct format_reply reply;
	struct route route;
	unsigned i;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	for (i = 0; i < 4; i++) {
		memset(name, 'a' + (char)i, 251);
		name[251] = '\0';
		route_add_hop(&route, name, addrs_c);
	}
	/* "OK smtp:" + 4 x "[251 octets]" + 3 x ", " = 1026 bytes */
	reply = reply_new(buf, 1027);
	answer_of(policy, T, &route, &reply);
	assert_int_equal(reply.len, 1026);
	assert_int_equal(reply.hosts, 4);
	assert_false(reply.truncated);
	memset(buf, 'Z', sizeof(buf));
	reply = reply_new(buf, 1026);
	answer_of(policy, T, &route, &reply);
	assert_int_equal(reply.hosts, 3);
	assert_true(reply.truncated);
	assert_int_equal(buf[1026], 'Z');
	policy_unref(&policy);
}

/* Every answer format_route() can give stays under the protocol limit. */
static void test_biggest_possible_route_fits_the_reply_limit(void **state)
{
	static char addr_text[ROUTE_ADDRS_MAX][MX_ADDR_TEXT_MAX];
	const char *addrs[3] = { NULL, NULL, NULL };
	struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));
	struct policy *policy = policy_load("port = 65535; nexthop = \"address\";", "");
	struct route route;
	unsigned i;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	for (i = 0; i < ROUTE_HOPS_MAX; i++) {
		snprintf(addr_text[2 * i], MX_ADDR_TEXT_MAX, "2001:db8:ffff:ffff:ffff:ffff:ffff:%x",
			 2 * i + 1);
		snprintf(addr_text[2 * i + 1], MX_ADDR_TEXT_MAX,
			 "2001:db8:ffff:ffff:ffff:ffff:ffff:%x", 2 * i + 2);
		addrs[0] = addr_text[2 * i];
		addrs[1] = addr_text[2 * i + 1];
		route_add_hop(&route, long_hop_name(i), addrs);
	}
	answer_of(policy, T, &route, &reply);
	assert_int_equal(reply.outcome, FORMAT_RELAY);
	assert_false(reply.truncated);
	assert_int_equal(reply.hosts, 2 * ROUTE_HOPS_MAX);
	assert_true(reply.len <= FORMAT_REPLY_MAX);
	policy_unref(&policy);
}

struct request_case {
	const char *socketmap;
	const char *request;
	enum format_step step;
	enum format_outcome outcome;	/* FORMAT_ANSWERED */
	const char *want;		/* reply text, or the recipient to route */
};

static const struct request_case request_cases[] = {
	/* Postfix transport_maps: the whole address, "*" at start-up */
	{ "", "transport user@example.org", FORMAT_ROUTE, 0, "user@example.org" },
	{ "", "transport example.org", FORMAT_ROUTE, 0, "example.org" },
	{ "", "transport user@[192.0.2.1]", FORMAT_ROUTE, 0, "user@[192.0.2.1]" },
	{ "", "TRANSPORT user@example.org", FORMAT_ROUTE, 0, "user@example.org" },
	{ "", "transport *", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "transport ", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "transport user@exa mple.org", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "transport user@ex\tample.org", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	/* bare one-label keys ("postmaster", "user"): the MTA's own, no DNS */
	{ "", "transport postmaster", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "transport user", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "transport <Postmaster.>", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "mailertable localhost", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	/* UTF-8 domains are routed (the engine takes their A-label form);
	 * 8-bit ones that are not IDNA go to the engine for its 501 5.1.3 */
	{ "", "transport user@b\xc3\xbc" "cher.example", FORMAT_ROUTE, 0,
	  "user@b\xc3\xbc" "cher.example" },
	{ "", "mailertable b\xfc" "cher.example", FORMAT_ROUTE, 0, "b\xfc" "cher.example" },
	{ "default = \"notfound\";", "transport user@b\xc3\xbc" "cher.example", FORMAT_ANSWERED,
	  FORMAT_NOTFOUND, "NOTFOUND " },
	/* Postfix never sends parent keys: no dot-key meaning for transport */
	{ "", "transport .process.com", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	/* sendmail mailertable: the domain, ".parent" keys, then "." */
	{ "", "mailertable example.org", FORMAT_ROUTE, 0, "example.org" },
	{ "", "mailertable host.process.com", FORMAT_ROUTE, 0, "host.process.com" },
	{ "", "mailertable .process.com", FORMAT_ROUTE, 0, "_.process.com" },
	{ "", "mailertable .Process.COM.", FORMAT_ROUTE, 0, "_.process.com" },
	{ "", "mailertable .sub.process.com", FORMAT_ROUTE, 0, "_.sub.process.com" },
	{ "", "mailertable .com", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "mailertable .exact.test", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "mailertable .", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	{ "", "mailertable ..", FORMAT_ANSWERED, FORMAT_NOTFOUND, "NOTFOUND " },
	/* default = "notfound": only what the policy names is routed */
	{ "default = \"notfound\";", "transport user@example.org", FORMAT_ANSWERED,
	  FORMAT_NOTFOUND, "NOTFOUND " },
	{ "default = \"notfound\";", "transport user@[192.0.2.1]", FORMAT_ANSWERED,
	  FORMAT_NOTFOUND, "NOTFOUND " },
	{ "default = \"notfound\";", "transport user@B.cs.xyz.edu", FORMAT_ROUTE, 0,
	  "user@B.cs.xyz.edu" },
	{ "default = \"notfound\";", "transport u@cluster.cs.xyz.edu", FORMAT_ROUTE, 0,
	  "u@cluster.cs.xyz.edu" },
	{ "default = \"notfound\";", "transport u@x.process.com", FORMAT_ROUTE, 0,
	  "u@x.process.com" },
	{ "default = \"notfound\";", "transport u@exact.test", FORMAT_ROUTE, 0, "u@exact.test" },
	{ "default = \"notfound\";", "mailertable example.org", FORMAT_ANSWERED,
	  FORMAT_NOTFOUND, "NOTFOUND " },
	{ "default = \"notfound\";", "mailertable .process.com", FORMAT_ROUTE, 0,
	  "_.process.com" },
	/* requests that are not lookups */
	{ "", "aliases root", FORMAT_ANSWERED, FORMAT_PERM, "PERM unknown map aliases" },
	{ "", "ali\nases root", FORMAT_ANSWERED, FORMAT_PERM, "PERM unknown map ali?ases" },
	{ "", "transport", FORMAT_ANSWERED, FORMAT_PERM, "PERM malformed request" },
	{ "", "", FORMAT_ANSWERED, FORMAT_PERM, "PERM malformed request" },
};

static void test_requests_are_answered_or_routed_per_map_and_default(void **state)
{
	struct format_reply reply;
	struct format_query q;
	struct policy *policy;
	enum format_step step;
	size_t i;

	(void)state;
	for (i = 0; i < MX_ARRAY_LEN(request_cases); i++) {
		const struct request_case *c = &request_cases[i];

		policy = policy_load(c->socketmap, "");
		reply = reply_new(reply_buf, sizeof(reply_buf));
		step = format_request(policy, c->request, strlen(c->request), &q, &reply);
		if (step != c->step)
			fail_msg("case %zu \"%s\": step %d, want %d (%s)", i, c->request, step,
				 c->step, reply.buf);
		if (step == FORMAT_ROUTE) {
			assert_string_equal(q.recipient, c->want);
		} else {
			if (strcmp(reply.buf, c->want) != 0 || reply.outcome != c->outcome)
				fail_msg("case %zu \"%s\": got \"%s\" (%d)", i, c->request,
					 reply.buf, reply.outcome);
			assert_non_null(reply.reason);
		}
		policy_unref(&policy);
	}
}

static void test_root_route_answers_every_dot_key(void **state)
{
	static const char text[] =
		"routes = ( { domain = \".\"; hosts = ( { host = \"smarthost.test\"; "
		"pref = 10; } ); } );\n";
	struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));
	struct policy *policy = policy_from_text(text);
	struct format_query q;

	(void)state;
	assert_int_equal(format_request(policy, "mailertable .", 13, &q, &reply), FORMAT_ROUTE);
	assert_string_equal(q.recipient, "_");
	assert_int_equal(format_request(policy, "mailertable .org", 16, &q, &reply),
			 FORMAT_ROUTE);
	assert_string_equal(q.recipient, "_.org");
	policy_unref(&policy);
}

static void test_overlong_key_is_not_found_and_kept_cut_for_the_log(void **state)
{
	static char request[2000];
	struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));
	struct policy *policy = policy_load("", "");
	struct format_query q;
	size_t n;

	(void)state;
	n = (size_t)snprintf(request, sizeof(request), "transport u@");
	memset(request + n, 'x', sizeof(request) - n - 1);
	assert_int_equal(format_request(policy, request, sizeof(request) - 1, &q, &reply),
			 FORMAT_ANSWERED);
	assert_int_equal(reply.outcome, FORMAT_NOTFOUND);
	assert_int_equal(strlen(q.key), FORMAT_KEY_MAX);
	policy_unref(&policy);
}

/* Postfix's smtp_tls_policy_maps keys: "[host]" and "[host]:port". */
static void test_tls_map_answers_the_level_of_the_hosts_handed_out(void **state)
{
	static const char text[] =
		"routes = ( { domain = \"r.test\"; tls = \"verify\";\n"
		"  hosts = ( { host = \"gw.r.test\"; }, { host = \"[192.0.2.7]\"; },\n"
		"            { host = \"[IPv6:2001:db8::7]\"; }, { host = \"1mx.r.test\"; } ); },\n"
		"  { domain = \"s.test\"; hosts = ( { host = \"gw.s.test\"; } ); } );\n"
		"fallback_relays = [ \"gw.r.test\" ];\n"
		"tls = { fallback_relays = \"dane-only\"; };\n";
	static const struct {
		const char *request, *want;
	} cases[] = {
		{ "tls [gw.r.test]", "OK verify" },
		{ "tls [GW.R.Test]:2525", "OK verify" },
		{ "tls [192.0.2.7]:25", "OK verify" },
		{ "tls [ipv6:2001:db8::7]", "OK verify" },
		{ "tls [1mx.r.test]", "OK verify" },
		{ "tls [gw.s.test]", "NOTFOUND " },		/* its route sets no level */
		{ "tls [other.test]:25", "NOTFOUND " },
		{ "tls r.test", "NOTFOUND " },			/* a domain: Postfix's own table */
		{ "tls [gw.r.test]x", "NOTFOUND " },
		{ "tls [gw.r.test", "NOTFOUND " },
		{ "tls []", "NOTFOUND " },
	};
	struct policy *policy = policy_from_text(text);
	struct format_query q;

	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(cases); i++) {
		struct format_reply reply = reply_new(reply_buf, sizeof(reply_buf));

		assert_int_equal(format_request(policy, cases[i].request, strlen(cases[i].request),
						&q, &reply), FORMAT_ANSWERED);
		if (strcmp(reply.buf, cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].request, reply.buf,
				 cases[i].want);
	}
	policy_unref(&policy);
}

/* A relay the MTA keeps for TLS is NOTFOUND on both routing maps. */
static void test_relay_the_mta_keeps_is_not_found(void **state)
{
	struct policy *policy = policy_load("", "");
	struct route route;
	struct format_reply reply;

	(void)state;
	route_init(&route, ROUTE_RELAY);
	route_add_hop(&route, "a.test", addrs_a);
	route.mta_keeps = TLS_KEEP_MTA_STS;
	reply = reply_new(reply_buf, sizeof(reply_buf));
	assert_string_equal(answer_of(policy, T, &route, &reply), "NOTFOUND ");
	assert_int_equal(reply.outcome, FORMAT_NOTFOUND);
	assert_string_equal(reply.reason, "the MTA keeps it for TLS: mta_sts");
	reply = reply_new(reply_buf, sizeof(reply_buf));
	assert_string_equal(answer_of(policy, M, &route, &reply), "NOTFOUND ");
	route.mta_keeps = TLS_KEEP_NONE;
	reply = reply_new(reply_buf, sizeof(reply_buf));
	assert_string_equal(answer_of(policy, T, &route, &reply), "OK smtp:[a.test]");
	policy_unref(&policy);
}

static void test_names_of_maps_and_outcomes(void **state)
{
	(void)state;
	assert_string_equal(format_map_name(FORMAT_MAP_TRANSPORT), "transport");
	assert_string_equal(format_map_name(FORMAT_MAP_MAILERTABLE), "mailertable");
	assert_string_equal(format_map_name(FORMAT_MAP_TLS), "tls");
	assert_string_equal(format_outcome_name(FORMAT_RELAY), "relay");
	assert_string_equal(format_outcome_name(FORMAT_NOTFOUND), "notfound");
	assert_string_equal(format_outcome_name(FORMAT_PERM), "perm");
	/* the stats index lookups by route action */
	assert_int_equal((int)FORMAT_RELAY, (int)ROUTE_RELAY);
	assert_int_equal((int)FORMAT_LOCAL, (int)ROUTE_LOCAL);
	assert_int_equal((int)FORMAT_REJECT, (int)ROUTE_REJECT);
	assert_int_equal((int)FORMAT_TEMPFAIL, (int)ROUTE_TEMPFAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_lists_hops_in_route_order_per_map_and_nexthop),
		cmocka_unit_test(test_address_literal_hops_stay_literals),
		cmocka_unit_test(test_address_mode_lists_a_shared_address_once),
		cmocka_unit_test(test_local_reject_and_tempfail_answers_per_map),
		cmocka_unit_test(test_reply_texts_per_map),
		cmocka_unit_test(test_relay_without_hops_is_a_temporary_failure),
		cmocka_unit_test(test_long_host_list_is_cut_between_hosts),
		cmocka_unit_test(test_reply_uses_the_buffer_to_the_last_byte_and_no_further),
		cmocka_unit_test(test_biggest_possible_route_fits_the_reply_limit),
		cmocka_unit_test(test_requests_are_answered_or_routed_per_map_and_default),
		cmocka_unit_test(test_root_route_answers_every_dot_key),
		cmocka_unit_test(test_overlong_key_is_not_found_and_kept_cut_for_the_log),
		cmocka_unit_test(test_tls_map_answers_the_level_of_the_hosts_handed_out),
		cmocka_unit_test(test_relay_the_mta_keeps_is_not_found),
		cmocka_unit_test(test_names_of_maps_and_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
