/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_address.c - addresses, CIDR blocks, domain names and recipients
 *
 * Table-driven: each row is one input and what address.c must make of it
 * (the normalised value, or the words of its complaint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/engine/address.h"

struct addr_case {
	const char *text;
	const char *canonical;	/* NULL: must be refused */
	int family;
};

static const struct addr_case addr_cases[] = {
	{ "192.0.2.1", "192.0.2.1", AF_INET },
	{ "0.0.0.0", "0.0.0.0", AF_INET },
	{ "255.255.255.255", "255.255.255.255", AF_INET },
	{ "2001:DB8:0:0::1", "2001:db8::1", AF_INET6 },
	{ "::", "::", AF_INET6 },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", AF_INET6 },
	{ "", NULL, 0 },
	{ "192.0.2", NULL, 0 },
	{ "192.0.2.256", NULL, 0 },
	{ "192.0.2.01", NULL, 0 },
	{ " 192.0.2.1", NULL, 0 },
	{ "192.0.2.1 ", NULL, 0 },
	{ "[192.0.2.1]", NULL, 0 },
	{ "2001:db8::1%eth0", NULL, 0 },
	{ "2001:db8:::1", NULL, 0 },
	{ "example.org", NULL, 0 },
};

static void test_addr_parse_table(void **state)
{
	char buf[MX_ADDR_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct mx_addr addr;
		int rc = addr_parse(c->text, &addr);

		if (c->canonical == NULL) {
			if (rc != -1)
				fail_msg("\"%s\" was accepted", c->text);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\" was refused", c->text);
		assert_int_equal(addr.family, c->family);
		assert_string_equal(addr_format(&addr, buf, sizeof(buf)), c->canonical);
	}
}

static void test_addr_parse_refuses_null(void **state)
{
	struct mx_addr addr;

	(void)state;
	assert_int_equal(addr_parse(NULL, &addr), -1);
}

static void test_addr_equal_compares_family_and_bytes(void **state)
{
	struct mx_addr a, b, c, mapped;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(addr_parse("192.0.2.1", &b), 0);
	assert_int_equal(addr_parse("192.0.2.2", &c), 0);
	assert_int_equal(addr_parse("::ffff:192.0.2.1", &mapped), 0);
	assert_true(addr_equal(&a, &b));
	assert_false(addr_equal(&a, &c));
	assert_false(addr_equal(&a, &mapped));
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(addr_parse("2001:db8:0::1", &b), 0);
	assert_int_equal(addr_parse("2001:db8::2", &c), 0);
	assert_true(addr_equal(&a, &b));
	assert_false(addr_equal(&a, &c));
}

struct cidr_case {
	const char *text;
	bool valid;
	unsigned prefix;
};

static const struct cidr_case cidr_cases[] = {
	{ "198.51.100.0/24", true, 24 },
	{ "0.0.0.0/0", true, 0 },
	{ "192.0.2.1", true, 32 },
	{ "192.0.2.1/32", true, 32 },
	{ "198.51.100.128/25", true, 25 },
	{ "2001:db8::/32", true, 32 },
	{ "::/0", true, 0 },
	{ "::1", true, 128 },
	{ "198.51.100.1/24", false, 0 },		/* host bits set */
	{ "198.51.100.64/25", false, 0 },
	{ "2001:db8::1/32", false, 0 },
	{ "192.0.2.0/33", false, 0 },
	{ "2001:db8::/129", false, 0 },
	{ "192.0.2.0/", false, 0 },
	{ "/8", false, 0 },
	{ "192.0.2.0/024", false, 0 },
	{ "192.0.2.0/-1", false, 0 },
	{ "192.0.2.0/+24", false, 0 },
	{ "192.0.2.0/24x", false, 0 },
	{ "192.0.2.0/24/1", false, 0 },
	{ "", false, 0 },
	{ "example.org/8", false, 0 },
};

static void test_cidr_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(cidr_cases); i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct mx_cidr cidr;
		int rc = cidr_parse(c->text, &cidr);

		if (rc != (c->valid ? 0 : -1))
			fail_msg("\"%s\" was %s", c->text, rc == 0 ? "accepted" : "refused");
		if (c->valid)
			assert_int_equal(cidr.prefix, c->prefix);
	}
}

struct contains_case {
	const char *cidr;
	const char *addr;
	bool inside;
};

static const struct contains_case contains_cases[] = {
	{ "127.0.0.0/8", "127.0.0.1", true },
	{ "127.0.0.0/8", "127.255.255.255", true },
	{ "127.0.0.0/8", "192.0.2.1", false },
	{ "198.51.100.0/25", "198.51.100.127", true },
	{ "198.51.100.0/25", "198.51.100.128", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "2001:db8::1", false },	/* families never mix ... */
	{ "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.8", false },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "::/0", "192.0.2.1", false },
	{ "127.0.0.0/8", "::ffff:127.0.0.1", true },	/* ... but a v4-mapped one is v4 */
	{ "127.0.0.0/8", "::ffff:192.0.2.1", false },
	{ "::1", "::1", true },
};

static void test_cidr_contains_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(contains_cases); i++) {
		const struct contains_case *c = &contains_cases[i];
		struct mx_cidr cidr;
		struct mx_addr addr;

		assert_int_equal(cidr_parse(c->cidr, &cidr), 0);
		assert_int_equal(addr_parse(c->addr, &addr), 0);
		if (cidr_contains(&cidr, &addr) != c->inside)
			fail_msg("%s in %s: want %s", c->addr, c->cidr, c->inside ? "yes" : "no");
	}
}

struct domain_case {
	const char *text;
	const char *normal;	/* NULL: refused */
	const char *why;	/* a word of the complaint */
};

#define LABEL63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"
#define LABEL64 LABEL63 "4"
/* 4 x 63 + 3 dots = 255: too long; 253 built below. */

static const struct domain_case domain_cases[] = {
	{ "Example.ORG", "example.org", NULL },
	{ "example.org.", "example.org", NULL },
	{ "_dmarc.example.org", "_dmarc.example.org", NULL },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", NULL },
	{ "localhost", "localhost", NULL },
	{ LABEL63 ".example", LABEL63 ".example", NULL },
	{ LABEL64 ".example", NULL, "63" },
	{ "", NULL, "empty" },
	{ ".", NULL, "empty" },
	{ "example.org..", NULL, "empty label" },
	{ ".example.org", NULL, "empty label" },
	{ "exa..mple.org", NULL, "empty label" },
	{ "exa mple.org", NULL, "invalid character" },
	{ "exa\tmple.org", NULL, "control character" },
	{ "b\xc3\xbc" "cher.example", NULL, "non-ASCII character" },	/* UTF-8 */
	{ "b\xfc" "cher.example", NULL, "xn-- form" },			/* Latin-1 */
	{ "user@example.org", NULL, "invalid character" },
};

typedef int (*normalize_fn)(const char *in, size_t len, char *out, const char **why);

static void run_domain_cases(normalize_fn normalize, const struct domain_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct domain_case *c = &cases[i];
		char out[MX_NAME_BUF];
		const char *why = NULL;
		int rc = normalize(c->text, strlen(c->text), out, &why);

		if (c->normal != NULL) {
			if (rc != 0)
				fail_msg("\"%s\" was refused: %s", c->text, why);
			assert_string_equal(out, c->normal);
			continue;
		}
		if (rc != -1)
			fail_msg("\"%s\" was accepted", c->text);
		assert_non_null(why);
		if (strstr(why, c->why) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", c->text, why, c->why);
	}
}

static void test_domain_normalize_table(void **state)
{
	(void)state;
	run_domain_cases(domain_normalize, domain_cases, MX_ARRAY_LEN(domain_cases));
}

/* A host name is a domain that is not an address, judged after normalising. */
static const struct domain_case host_name_cases[] = {
	{ "Mail.Example.ORG.", "mail.example.org", NULL },
	{ "192.0.2.1.example", "192.0.2.1.example", NULL },
	{ "2.0.2", "2.0.2", NULL },
	{ "192.0.2.1", NULL, "an IP address" },
	{ "192.0.2.1.", NULL, "an IP address" },		/* fuzz_config's find */
	{ "198.51.100.77.", NULL, "an IP address" },
	{ "192.0.2.1..", NULL, "empty label" },
	{ "2001:db8::1.", NULL, "invalid character" },
};

static void test_host_name_normalize_refuses_addresses_after_normalising(void **state)
{
	(void)state;
	run_domain_cases(host_name_normalize, host_name_cases, MX_ARRAY_LEN(host_name_cases));
}

/* 253 octets is the limit; 254 (or 253 plus the root dot, fine) is not. */
static void test_domain_normalize_length_limit_is_253(void **state)
{
	char name[300], out[MX_NAME_BUF];
	const char *why;

	(void)state;
	/* 3 labels of 63 + 1 of 61 + 3 dots = 253 */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", LABEL63, LABEL63, LABEL63, LABEL63);
	assert_int_equal(strlen(name), 253);
	assert_int_equal(domain_normalize(name, strlen(name), out, &why), 0);
	assert_int_equal(strlen(out), 253);
	strcat(name, ".");
	assert_int_equal(domain_normalize(name, strlen(name), out, &why), 0);
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", LABEL63, LABEL63, LABEL63, LABEL63);
	assert_int_equal(strlen(name), 254);
	assert_int_equal(domain_normalize(name, strlen(name), out, &why), -1);
	assert_non_null(strstr(why, "253"));
}

/* The length argument is honoured: the text need not end there. */
static void test_domain_normalize_reads_only_len_octets(void **state)
{
	char out[MX_NAME_BUF];
	const char *why;

	(void)state;
	assert_int_equal(domain_normalize("example.org>junk", 11, out, &why), 0);
	assert_string_equal(out, "example.org");
}

struct recipient_case {
	const char *text;
	const char *domain;	/* NULL: refused */
	const char *local;	/* NULL: no local part */
	enum recipient_kind kind;
	const char *why;
};

static const struct recipient_case recipient_cases[] = {
	{ "user@Example.ORG", "example.org", "user", RECIPIENT_DOMAIN, NULL },
	{ "<User@example.org.>", "example.org", "User", RECIPIENT_DOMAIN, NULL },
	{ "  <user@example.org>  ", "example.org", "user", RECIPIENT_DOMAIN, NULL },
	{ "example.org", "example.org", NULL, RECIPIENT_DOMAIN, NULL },
	{ "\"a@b\"@example.org", "example.org", "\"a@b\"", RECIPIENT_DOMAIN, NULL },
	{ "<@relay.example,@r2.example:user@example.org>", "example.org", "user",
	  RECIPIENT_DOMAIN, NULL },
	{ "user@[192.0.2.1]", "[192.0.2.1]", "user", RECIPIENT_LITERAL, NULL },
	{ "user@[IPv6:2001:DB8::0:1]", "[IPv6:2001:db8::1]", "user", RECIPIENT_LITERAL, NULL },
	{ "user@[ipv6:2001:db8::1]", "[IPv6:2001:db8::1]", "user", RECIPIENT_LITERAL, NULL },
	{ "[192.0.2.1]", "[192.0.2.1]", NULL, RECIPIENT_LITERAL, NULL },
	{ "", NULL, NULL, 0, "empty address" },
	{ "<>", NULL, NULL, 0, "empty address" },
	{ "@example.org", NULL, NULL, 0, "empty local part" },
	{ "user@", NULL, NULL, 0, "empty domain" },
	{ "<user@example.org", NULL, NULL, 0, "angle brackets" },
	{ "user@example.org>", NULL, NULL, 0, "angle brackets" },
	{ "user@exa\nmple.org", NULL, NULL, 0, "control character" },
	{ "us\x7f" "er@example.org", NULL, NULL, 0, "control character" },
	{ "user@" LABEL64 ".example", NULL, NULL, 0, "63 octets" },
	{ "user@[192.0.2.1", NULL, NULL, 0, "closing bracket" },
	{ "user@[192.0.2.300]", NULL, NULL, 0, "malformed address literal" },
	{ "user@[]", NULL, NULL, 0, "literal" },
	{ "user@[2001:db8::1]", NULL, NULL, 0, "IPv6: tag" },
	{ "user@[IPv6:192.0.2.1]", NULL, NULL, 0, "IPv4" },
	{ "user@[tag:whatever]", NULL, NULL, 0, "malformed address literal" },
	{ "user@exa mple.org", NULL, NULL, 0, "invalid character" },
	/* a UTF-8 domain (SMTPUTF8) by its A-label form; not UTF-8, or not IDNA: refused */
	{ "user@b\xc3\xbc" "cher.example", "xn--bcher-kva.example", "user", RECIPIENT_DOMAIN,
	  NULL },
	{ "<user@B\xc3\x9c" "CHER.example.>", "xn--bcher-kva.example", "user", RECIPIENT_DOMAIN,
	  NULL },
	{ "user@b\xfc" "cher.example", NULL, NULL, 0, "not valid UTF-8" },
	{ "user@\xe2\x98\x83.example", NULL, NULL, 0, "not a valid internationalized name" },
	{ "user@b\xc3\xbc" "cher..example", NULL, NULL, 0, "" },
	{ "b\xc3\xbc" "cher@example.org", "example.org", "b\xc3\xbc" "cher", RECIPIENT_DOMAIN,
	  NULL },	/* an 8-bit local part is the next MTA's business */
};

static void test_recipient_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(recipient_cases); i++) {
		const struct recipient_case *c = &recipient_cases[i];
		struct recipient r;
		const char *why = NULL;
		int rc = recipient_parse(c->text, &r, &why);

		if (c->domain == NULL) {
			if (rc != -1)
				fail_msg("\"%s\" was accepted", c->text);
			if (why == NULL || strstr(why, c->why) == NULL)
				fail_msg("\"%s\": \"%s\" lacks \"%s\"", c->text, why, c->why);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\" was refused: %s", c->text, why);
		assert_string_equal(r.domain, c->domain);
		assert_int_equal(r.kind, c->kind);
		assert_int_equal(r.has_local, c->local != NULL);
		assert_string_equal(r.local, c->local != NULL ? c->local : "");
	}
}

static void test_recipient_literal_carries_its_address(void **state)
{
	struct recipient r;
	struct mx_addr want;
	const char *why;

	(void)state;
	assert_int_equal(recipient_parse("u@[IPv6:2001:db8::7]", &r, &why), 0);
	assert_int_equal(addr_parse("2001:db8::7", &want), 0);
	assert_true(addr_equal(&r.literal, &want));
}

/* Every one of the len bytes is the literal's: a NUL inside is no literal
 * (fuzz_literal found "[192.0.2.1\0junk]" taken as 192.0.2.1). */
static void test_addr_literal_parse_refuses_nul_inside(void **state)
{
	static const char text[] = "[192.0.2.1\0junk]";
	struct mx_addr addr;
	const char *why = NULL;

	(void)state;
	assert_int_equal(addr_literal_parse(text, sizeof(text) - 1, true, &addr, NULL, &why), -1);
	assert_string_equal(why, "malformed address literal");
	assert_int_equal(addr_literal_parse(text, 11, true, &addr, NULL, &why), -1);
	assert_int_equal(addr_literal_parse("[192.0.2.1]", 11, false, &addr, NULL, &why), 0);
}

/* 256 octets of local part are accepted, 257 are not. */
static void test_recipient_local_part_limit_is_256(void **state)
{
	char text[400];
	struct recipient r;
	const char *why;

	(void)state;
	memset(text, 'x', 256);
	strcpy(text + 256, "@example.org");
	assert_int_equal(recipient_parse(text, &r, &why), 0);
	assert_int_equal(strlen(r.local), 256);
	memset(text, 'x', 257);
	strcpy(text + 257, "@example.org");
	assert_int_equal(recipient_parse(text, &r, &why), -1);
	assert_non_null(strstr(why, "local part"));
}

static void test_recipient_parse_refuses_null(void **state)
{
	struct recipient r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(recipient_parse(NULL, &r, &why), -1);
	assert_non_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_table),
		cmocka_unit_test(test_addr_parse_refuses_null),
		cmocka_unit_test(test_addr_equal_compares_family_and_bytes),
		cmocka_unit_test(test_cidr_parse_table),
		cmocka_unit_test(test_cidr_contains_table),
		cmocka_unit_test(test_domain_normalize_table),
		cmocka_unit_test(test_host_name_normalize_refuses_addresses_after_normalising),
		cmocka_unit_test(test_domain_normalize_length_limit_is_253),
		cmocka_unit_test(test_domain_normalize_reads_only_len_octets),
		cmocka_unit_test(test_recipient_parse_table),
		cmocka_unit_test(test_recipient_literal_carries_its_address),
		cmocka_unit_test(test_addr_literal_parse_refuses_nul_inside),
		cmocka_unit_test(test_recipient_local_part_limit_is_256),
		cmocka_unit_test(test_recipient_parse_refuses_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
