/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_literal.c - libFuzzer harness for address literals (address.h)
 *
 * Input: byte 0 says whether the IPv6: tag may be left out (bit 0 set:
 * tag_optional, as in configuration files), the rest is the literal text
 * L, every byte of it ("[192.0.2.1]", "[IPv6:2001:db8::1]",
 * "[2001:db8::1]", "[IPv6:::ffff:192.0.2.1]"). Checks:
 *   - addr_literal_parse() accepts L exactly when a reference built on
 *     inet_pton() does: brackets around the whole text, no NUL inside,
 *     an IPv4 address untagged, an IPv6 address after a case-insensitive
 *     "IPv6:" tag (or untagged with tag_optional), nothing else; with the
 *     same address; and says why when it refuses;
 *   - tag_optional only widens what is accepted; canon NULL or not gives
 *     the same verdict;
 *   - the canonical text is "[" inet_ntop "]" or "[IPv6:" inet_ntop "]",
 *     parses back (tag required) to the same address and itself;
 *   - an IPv4-mapped IPv6 address stays IPv6 in the literal, addr_unmap()
 *     gives its IPv4 address (another address for addr_equal()), and an
 *     IPv4 /32 of that address contains it; anything else unmaps to itself;
 *   - recipient_parse() on "user@L" (L of visible ASCII without '@')
 *     takes it as this literal exactly when the tag-required parse does;
 *   - route_decide() on that recipient, with self at 192.0.2.10 and
 *     2001:db8::10: local when the address (unmapped) is self's, else a
 *     relay to that one address or a 5xx refusal, never a hop to self.
 * It aborts with "fuzz_literal: what broke" on a broken promise.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mxpath/config/config.h"
#include "mxpath/engine/address.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/route.h"

#define FUZZ_NAME "fuzz_literal"
#include "fuzz.h"

#define INPUT_MAX 512
#define TAG "IPv6:"
#define TAG_LEN 5

static struct {
	struct policy *defaults;
	struct identity *self;
} fx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reference_parse(const char *text, size_t len, bool tag_optional,
			   struct mx_addr *addr);
static int check_parse(const char *text, size_t len, bool tag_optional, struct mx_addr *addr,
		       char *canon);
static void check_canonical(const struct mx_addr *addr, const char *canon);
static void check_mapped(const struct mx_addr *addr);
static void check_recipient(const char *text, size_t len, int parsed,
			    const struct mx_addr *addr, const char *canon);
static void check_route(const char *canon, const struct mx_addr *addr);
static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out);
static uint32_t random_fixed(void *ctx);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const self_addrs[] = { "192.0.2.10", "2001:db8::10" };
	struct mx_addr addr;

	(void)argc;
	(void)argv;
	fx.defaults = config_defaults();
	fx.self = identity_new();
	require(identity_add_name(fx.self, "mx.example") == 0, "self name");
	for (size_t i = 0; i < sizeof(self_addrs) / sizeof(self_addrs[0]); i++) {
		require(addr_parse(self_addrs[i], &addr) == 0, "self address");
		identity_add_address(fx.self, &addr);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char canon[MX_NAME_BUF], strict_canon[MX_NAME_BUF];
	struct mx_addr addr, strict;
	const char *text = (const char *)data + 1;
	size_t len;
	int rc, strict_rc;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	len = size - 1;
	rc = check_parse(text, len, data[0] & 1, &addr, canon);
	strict_rc = check_parse(text, len, false, &strict, strict_canon);
	require(strict_rc != 0 || (rc == 0 && addr_equal(&addr, &strict) &&
				   strcmp(canon, strict_canon) == 0),
		"tag_optional refuses or changes what the strict parse accepts");
	if (rc == 0) {
		check_canonical(&addr, canon);
		check_mapped(&addr);
	}
	check_recipient(text, len, strict_rc, &strict, strict_canon);
	return 0;
}

/* The rules of address.h with inet_pton() alone: 0, or -1. */
static int reference_parse(const char *text, size_t len, bool tag_optional,
			   struct mx_addr *addr)
{
	char inner[INPUT_MAX];
	const char *body = inner;
	bool tagged = false;

	if (len < 3 || text[0] != '[' || text[len - 1] != ']' || memchr(text, '\0', len) != NULL)
		return -1;
	memcpy(inner, text + 1, len - 2);
	inner[len - 2] = '\0';
	if (strlen(inner) > TAG_LEN && strncasecmp(inner, TAG, TAG_LEN) == 0) {
		tagged = true;
		body = inner + TAG_LEN;
	}
	memset(addr, 0, sizeof(*addr));
	if (!tagged && inet_pton(AF_INET, body, &addr->u.v4) == 1) {
		addr->family = AF_INET;
		return 0;
	}
	if ((tagged || tag_optional) && inet_pton(AF_INET6, body, &addr->u.v6) == 1) {
		addr->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* addr_literal_parse() against the reference, with and without canon. */
static int check_parse(const char *text, size_t len, bool tag_optional, struct mx_addr *addr,
		       char *canon)
{
	struct mx_addr expected, bare;
	const char *why = NULL;
	int rc, expected_rc;

	memset(canon, 'X', MX_NAME_BUF);
	rc = addr_literal_parse(text, len, tag_optional, addr, canon, &why);
	expected_rc = reference_parse(text, len, tag_optional, &expected);
	require(rc == expected_rc, rc == 0 ? "addr_literal_parse: accepts what is no literal"
					   : "addr_literal_parse: refuses a valid literal");
	if (rc != 0) {
		require(why != NULL && why[0] != '\0', "addr_literal_parse: error without a reason");
	} else {
		require(addr_equal(addr, &expected), "addr_literal_parse: another address");
		require(strnlen(canon, MX_NAME_BUF) < MX_NAME_BUF,
			"addr_literal_parse: canonical text not terminated");
	}
	require(addr_literal_parse(text, len, tag_optional, &bare, NULL, &why) == rc &&
			(rc != 0 || addr_equal(&bare, addr)),
		"addr_literal_parse: canon NULL changes the verdict");
	return rc;
}

/* "[" inet_ntop "]" or "[IPv6:" inet_ntop "]", a fixed point of the parser. */
static void check_canonical(const struct mx_addr *addr, const char *canon)
{
	char text[INET6_ADDRSTRLEN], expected[MX_NAME_BUF], again[MX_NAME_BUF];
	struct mx_addr back;
	const char *why = NULL;

	require(inet_ntop(addr->family, &addr->u, text, sizeof(text)) != NULL, "inet_ntop");
	snprintf(expected, sizeof(expected), "[%s%s]", addr->family == AF_INET6 ? TAG : "", text);
	require(strcmp(canon, expected) == 0, "canonical text is not [inet_ntop] / [IPv6:inet_ntop]");
	require(addr_literal_parse(canon, strlen(canon), false, &back, again, &why) == 0,
		"the canonical text does not parse");
	require(addr_equal(&back, addr) && strcmp(again, canon) == 0,
		"the canonical text parses to another literal");
}

static void check_mapped(const struct mx_addr *addr)
{
	struct mx_addr buf, v4;
	const struct mx_addr *plain = addr_unmap(addr, &buf);
	struct mx_cidr block;
	char text[INET6_ADDRSTRLEN + 4];

	if (addr->family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&addr->u.v6)) {
		require(plain == addr, "addr_unmap changes an address that is not v4-mapped");
		return;
	}
	memset(&v4, 0, sizeof(v4));
	v4.family = AF_INET;
	memcpy(&v4.u.v4, &addr->u.v6.s6_addr[12], 4);
	require(plain != addr && addr_equal(plain, &v4), "addr_unmap: not the mapped IPv4 address");
	require(!addr_equal(addr, plain), "addr_equal: a v4-mapped address equals its IPv4 one");
	require(inet_ntop(AF_INET, &v4.u.v4, text, INET6_ADDRSTRLEN) != NULL, "inet_ntop");
	strcat(text, "/32");
	require(cidr_parse(text, &block) == 0 && cidr_contains(&block, addr),
		"an IPv4 /32 does not contain its v4-mapped address");
}

/* The recipient path takes the same literals as the tag-required parse. */
static void check_recipient(const char *text, size_t len, int parsed,
			    const struct mx_addr *addr, const char *canon)
{
	char recipient[INPUT_MAX + 8];
	struct recipient rcpt;
	const char *why = NULL;
	int rc;

	if (len == 0 || text[0] != '[')
		return;
	for (size_t i = 0; i < len; i++)
		if (text[i] <= 0x20 || text[i] >= 0x7f || text[i] == '@')
			return;
	snprintf(recipient, sizeof(recipient), "user@%.*s", (int)len, text);
	rc = recipient_parse(recipient, &rcpt, &why);
	require(rc == parsed, "recipient_parse and addr_literal_parse disagree on a literal");
	if (rc != 0)
		return;
	require(rcpt.kind == RECIPIENT_LITERAL && addr_equal(&rcpt.literal, addr) &&
			strcmp(rcpt.domain, canon) == 0,
		"recipient_parse: another literal than addr_literal_parse");
	check_route(canon, addr);
}

static void check_route(const char *canon, const struct mx_addr *addr)
{
	char recipient[MX_NAME_BUF + 8];
	struct route *route = malloc(sizeof(*route));
	struct route_input in = {
		.recipient = recipient,
		.policy = fx.defaults,
		.self = fx.self,
		.lookup = lookup_nothing,
		.random = random_fixed,
	};
	struct mx_addr buf;
	bool is_self = identity_has_address(fx.self, addr);

	require(route != NULL, "malloc");
	snprintf(recipient, sizeof(recipient), "user@%s", canon);
	require(route_decide(&in, route) == ROUTE_DONE, "a literal waits for DNS");
	require(route->rule == RULE_LITERAL, "a literal not decided by the literal rule");
	switch (route->action) {
	case ROUTE_LOCAL:
		require(is_self, "a literal that is not self's taken as local");
		break;
	case ROUTE_RELAY:
		require(!is_self, "a literal of self's relayed");
		require(route->n_hops == 1 && route->n_addrs == 1 &&
				strcmp(route->hops[0].host, canon) == 0,
			"a literal relayed to other than itself");
		require(addr_equal(&route->addrs[0], addr) ||
				addr_equal(&route->addrs[0], addr_unmap(addr, &buf)),
			"a literal relayed to another address");
		require(!identity_has_address(fx.self, &route->addrs[0]), "a hop to self");
		break;
	case ROUTE_REJECT:
		require(!is_self && route->reply.code >= 500 && route->reply.code <= 599,
			"a literal refused without a 5xx reply");
		break;
	default:
		require(0, "a literal tempfailed");
	}
	free(route);
}

static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out)
{
	(void)ctx;
	(void)channel;
	(void)type;
	(void)name;
	(void)out;
	require(0, "DNS asked about a literal");
	return false;
}

static uint32_t random_fixed(void *ctx)
{
	(void)ctx;
	return 4;
}
