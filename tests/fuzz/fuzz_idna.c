/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_idna.c - libFuzzer harness for IDNA: recipient domains in Unicode
 *
 * Input: byte 0 picks how the rest becomes a domain D (no NUL inside):
 *   even  the bytes as they are, up to the first NUL (any UTF-8, Latin-1,
 *         broken sequences);
 *   odd   each two bytes are one code point (little endian, U+0001 to
 *         U+FFFF, surrogates skipped) written as UTF-8, so the fuzzer
 *         reaches valid UTF-8 names (Greek, CJK, Arabic, mapped letters)
 *         that random bytes rarely are; "." is 2e 00.
 * D then goes where the doors take a recipient's domain:
 *   1. idna_domain_to_ascii() as recipient_parse() calls it: on success
 *      NUL-terminated within the buffer, ASCII only (not yet a host name:
 *      blanks and controls pass, domain_normalize() refuses them), and the
 *      same text when converted again (idempotent); with a buffer too
 *      small for it, an error with a reason; on error, a reason;
 *   2. recipient_parse() on "user@D", "<user@D>" and the bare "D": the
 *      same verdict and domain for all three; an accepted domain is
 *      lower-case letters, digits, '-', '_' and dots, labels of 1..63
 *      octets, at most 253, normalises and parses to itself; a UTF-8 one
 *      is the A-label form of D (its xn-- labels decode to a name that
 *      converts back to the same); a refusal has a reason;
 *   3. route_decide() (the milter's and socketmap's engine) with
 *      config_defaults() and a DNS that knows nothing: a refused domain is
 *      501 5.1.3 at once, an accepted one asks the DNS about exactly the
 *      parsed A-label name;
 *   4. format_request() on "transport user@D" and "mailertable D": an
 *      unparsable key with 8-bit bytes is routed (for the engine's 501),
 *      never NOTFOUND; a parsable one is routed; every answered reply is
 *      one line of printable ASCII.
 * It aborts with "fuzz_idna: what broke" when a result breaks idna.h,
 * address.h, route.h or format.h.
 */
#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/config/config.h"
#include "mxpath/doors/format.h"
#include "mxpath/engine/address.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/idna.h"
#include "mxpath/engine/route.h"

#define FUZZ_NAME "fuzz_idna"
#include "fuzz.h"

#define DOMAIN_MAX 2048		/* past idna.c's 1024-byte input bound */
#define RECIPIENT_MAX (DOMAIN_MAX + 16)
#define ASCII_SIZE (MX_NAME_MAX + 2)	/* what recipient_parse() gives idna.c */
#define SMALL_SIZE 12			/* a buffer most names do not fit */

/* What the DNS was asked during one route_decide(). */
struct asked {
	size_t n;
	char first[MX_NAME_BUF];
};

static struct {
	struct policy *defaults;
	struct identity *nobody;
} fx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t domain_from_input(const uint8_t *data, size_t size, char *out);
static size_t utf8_put(char *out, unsigned cp);
static bool is_plain_domain(const char *d, size_t len);
static void check_to_ascii(const char *d, size_t len);
static void check_host_name(const char *name);
static int check_recipients(const char *d, size_t len, struct recipient *rcpt);
static void check_a_labels(const char *d, size_t len, const char *domain);
static void check_route(const char *d, int parsed, const struct recipient *rcpt);
static void check_socketmap(const char *d, size_t len, int parsed);
static void socketmap_one(const char *request, size_t len, bool routed);
static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out);
static uint32_t random_fixed(void *ctx);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fx.defaults = config_defaults();
	fx.nobody = identity_new();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char d[3 * DOMAIN_MAX + 1];
	struct recipient rcpt;
	size_t len;
	int parsed;

	if (size < 1 || size > DOMAIN_MAX + 1)
		return 0;
	len = domain_from_input(data, size, d);
	check_to_ascii(d, len);
	parsed = check_recipients(d, len, &rcpt);
	check_route(d, parsed, &rcpt);
	check_socketmap(d, len, parsed);
	return 0;
}

/* D from the input as byte 0 says; returns its length (out holds 3 bytes per input byte). */
static size_t domain_from_input(const uint8_t *data, size_t size, char *out)
{
	size_t n = 0;

	if ((data[0] & 1) == 0) {
		n = strnlen((const char *)data + 1, size - 1);
		memcpy(out, data + 1, n);
	} else {
		for (size_t i = 1; i + 1 < size; i += 2) {
			unsigned cp = data[i] | (unsigned)data[i + 1] << 8;

			if (cp != 0 && (cp < 0xd800 || cp > 0xdfff))
				n += utf8_put(out + n, cp);
		}
	}
	out[n] = '\0';
	return n;
}

/* cp (U+0001..U+FFFF, not a surrogate) as UTF-8; returns the bytes written. */
static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* D reads the same after "user@", inside "<user@...>" and alone: no '@',
 * no angle brackets or blanks at its ends, not a literal. */
static bool is_plain_domain(const char *d, size_t len)
{
	return len > 0 && memchr(d, '@', len) == NULL && d[0] != '<' && d[0] != ' ' &&
	       d[0] != '[' && d[len - 1] != '>' && d[len - 1] != ' ';
}

static void check_to_ascii(const char *d, size_t len)
{
	char out[ASCII_SIZE], again[ASCII_SIZE], small[SMALL_SIZE];
	const char *why = NULL;
	size_t n;

	memset(out, 'X', sizeof(out));
	if (idna_domain_to_ascii(d, len, out, sizeof(out), &why) != 0) {
		require(why != NULL && why[0] != '\0', "idna_domain_to_ascii: error without a reason");
		return;
	}
	n = strnlen(out, sizeof(out));
	require(n < sizeof(out), "idna_domain_to_ascii: result not NUL-terminated in its buffer");
	for (size_t i = 0; i < n; i++)
		require((unsigned char)out[i] < 0x80,
			"idna_domain_to_ascii: result holds a byte outside ASCII");
	why = NULL;
	require(idna_domain_to_ascii(out, n, again, sizeof(again), &why) == 0,
		"idna_domain_to_ascii: refuses its own result");
	require(strcmp(again, out) == 0, "idna_domain_to_ascii: not idempotent");
	why = NULL;
	if (idna_domain_to_ascii(d, len, small, sizeof(small), &why) == 0)
		require(n < sizeof(small) && strcmp(small, out) == 0,
			"idna_domain_to_ascii: a small buffer gives another result");
	else
		require(n >= sizeof(small) && why != NULL && why[0] != '\0',
			"idna_domain_to_ascii: a fitting result refused, or without a reason");
}

/* A normalised host name: what the DNS is asked and the doors hand out. */
static void check_host_name(const char *name)
{
	char again[MX_NAME_BUF];
	const char *why = NULL;
	size_t len = strnlen(name, MX_NAME_BUF), label = 0;

	require(len > 0 && len <= MX_NAME_MAX, "domain empty or longer than 253 octets");
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			require(label > 0, "empty label");
			label = 0;
			continue;
		}
		require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_',
			"domain holds a character other than lower-case LDH, '_' and dots");
		require(++label <= MX_LABEL_MAX, "label longer than 63 octets");
	}
	require(label > 0, "domain ends in an empty label");
	require(domain_normalize(name, len, again, &why) == 0 && strcmp(again, name) == 0,
		"normalising the domain again changes or refuses it");
}

/* recipient_parse() on the three spellings; returns its verdict on "user@D". */
static int check_recipients(const char *d, size_t len, struct recipient *rcpt)
{
	char text[RECIPIENT_MAX + 3 * DOMAIN_MAX];
	struct recipient other, again;
	const char *why = NULL;
	int parsed, rc;

	snprintf(text, sizeof(text), "user@%s", d);
	parsed = recipient_parse(text, rcpt, &why);
	if (parsed != 0) {
		require(why != NULL && why[0] != '\0', "recipient_parse: error without a reason");
	} else {
		require(rcpt->has_local && (memchr(d, '@', len) != NULL ||
					     strcmp(rcpt->local, "user") == 0),
			"recipient_parse: local part changed");
		if (rcpt->kind == RECIPIENT_DOMAIN) {
			const char *at = memrchr(d, '@', len);
			const char *part = at != NULL ? at + 1 : d;
			size_t part_len = len - (size_t)(part - d);

			while (part_len > 0 && part[part_len - 1] == ' ')
				part_len--;	/* recipient_strip() drops them */
			check_host_name(rcpt->domain);
			check_a_labels(part, part_len, rcpt->domain);
		}
		require(recipient_parse(rcpt->domain, &again, &why) == 0 &&
				strcmp(again.domain, rcpt->domain) == 0,
			"recipient_parse: the parsed domain does not parse to itself");
	}
	if (!is_plain_domain(d, len))
		return parsed;
	snprintf(text, sizeof(text), "<user@%s>", d);
	rc = recipient_parse(text, &other, &why);
	require(rc == parsed && (rc != 0 || strcmp(other.domain, rcpt->domain) == 0),
		"recipient_parse: <user@D> and user@D differ");
	rc = recipient_parse(d, &other, &why);
	require(rc == parsed && (rc != 0 || (!other.has_local &&
					     strcmp(other.domain, rcpt->domain) == 0)),
		"recipient_parse: D and user@D differ");
	return parsed;
}

/* An accepted UTF-8 domain is the A-label form of d (the part after the
 * last '@', without trailing blanks), and its xn-- labels decode. */
static void check_a_labels(const char *d, size_t len, const char *domain)
{
	char ascii[ASCII_SIZE], normal[MX_NAME_BUF], back[ASCII_SIZE];
	const char *why = NULL;
	char *unicode = NULL;

	if (!idna_has_8bit(d, len))
		return;
	require(idna_domain_to_ascii(d, len, ascii, sizeof(ascii), &why) == 0,
		"a UTF-8 domain accepted that idna_domain_to_ascii() refuses");
	require(domain_normalize(ascii, strlen(ascii), normal, &why) == 0 &&
			strcmp(normal, domain) == 0,
		"the parsed domain is not the A-label form of D");
	require(idn2_to_unicode_8z8z(domain, &unicode, 0) == IDN2_OK,
		"the A-label form does not decode");
	require(idna_domain_to_ascii(unicode, strlen(unicode), back, sizeof(back), &why) == 0 &&
			strcmp(back, domain) == 0,
		"the decoded A-label form converts to another name");
	idn2_free(unicode);
}

/* The engine the milter and socketmap doors call. */
static void check_route(const char *d, int parsed, const struct recipient *rcpt)
{
	char text[RECIPIENT_MAX + 3 * DOMAIN_MAX];
	struct route *route = malloc(sizeof(*route));
	struct asked asked = { 0 };
	struct route_input in = {
		.recipient = text,
		.policy = fx.defaults,
		.self = fx.nobody,
		.lookup = lookup_nothing,
		.lookup_ctx = &asked,
		.random = random_fixed,
	};
	enum route_status st;

	require(route != NULL, "malloc");
	snprintf(text, sizeof(text), "user@%s", d);
	st = route_decide(&in, route);
	if (parsed != 0) {
		require(st == ROUTE_DONE && route->action == ROUTE_REJECT &&
				route->rule == RULE_SYNTAX && route->reply.code == 501 &&
				strcmp(route->reply.status, "5.1.3") == 0 && asked.n == 0,
			"a refused domain is not rejected 501 5.1.3 before any DNS question");
	} else if (rcpt->kind == RECIPIENT_DOMAIN) {
		require(st == ROUTE_PENDING && asked.n > 0, "a domain decided without DNS");
		require(strcmp(asked.first, rcpt->domain) == 0,
			"the DNS is not asked about the parsed A-label name");
	}
	free(route);
}

static void check_socketmap(const char *d, size_t len, int parsed)
{
	char request[RECIPIENT_MAX + 3 * DOMAIN_MAX];
	bool has_8bit = idna_has_8bit(d, len);
	int n;

	n = snprintf(request, sizeof(request), "transport user@%s", d);
	if (5 + len <= FORMAT_KEY_MAX)
		socketmap_one(request, (size_t)n, parsed == 0 || has_8bit);
	else
		socketmap_one(request, (size_t)n, false);
	n = snprintf(request, sizeof(request), "mailertable %s", d);
	socketmap_one(request, (size_t)n, false);
}

/* routed: the request must be routed (else either way); an answer is one clean line. */
static void socketmap_one(const char *request, size_t len, bool routed)
{
	char buf[FORMAT_REPLY_MIN];
	struct format_reply reply = { .buf = buf, .cap = sizeof(buf) };
	struct format_query q;
	enum format_step step;

	step = format_request(fx.defaults, request, len, &q, &reply);
	if (routed)
		require(step == FORMAT_ROUTE && strcmp(q.recipient, q.key) == 0,
			"format_request: a UTF-8 key, parsable or not, is not routed");
	if (step == FORMAT_ROUTE)
		return;
	require(reply.len == strlen(buf) && reply.len > 0, "format_request: reply length wrong");
	for (size_t i = 0; i < reply.len; i++)
		require(buf[i] >= 0x20 && buf[i] < 0x7f,
			"format_request: reply holds a byte that is not printable ASCII");
}

static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out)
{
	struct asked *asked = ctx;

	(void)channel;
	(void)type;
	(void)out;
	if (asked->n++ == 0)
		snprintf(asked->first, sizeof(asked->first), "%s", name);
	return false;
}

static uint32_t random_fixed(void *ctx)
{
	(void)ctx;
	return 4;
}
