/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dnsmsg.c - libFuzzer harness for the DNS message parser
 *
 * Input: a raw DNS response, as a server could send it. It is parsed as
 * the answer to (example.org, MX), (example.org, A) and (example.org,
 * AAAA); and when the message's own question is a plain (uncompressed)
 * host name, to that name as well, so mutated questions still reach the
 * answer section.
 *
 * Besides the sanitizers' checks, the harness aborts with "fuzz_dnsmsg:
 * what broke" when an answer breaks what dns.h promises:
 *   - the type asked, a known status; records only when the status is OK;
 *     at most DNS_MX_MAX / DNS_ADDR_MAX of them;
 *   - MX sorted by preference, each exchange a normalised host name
 *     (lower case, labels of letters, digits, '-', '_', no empty label,
 *     at most 253 octets) or "" for the null MX;
 *   - addresses of the family the type asks for;
 *   - a CNAME target normalised the same way; cname_pending only with an
 *     OK answer that has no records and a target;
 *   - temporary failures carry nothing at all;
 *   - dns_answer_copy() gives an answer of the same size.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxpath/engine/dns.h"

#define QNAME_FIXED "example.org"
#define QNAME_AT 12		/* the question's name follows the header */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_parse(const uint8_t *data, size_t size, const char *qname);
static void check_answer(const struct dns_answer *answer, enum dns_type type);
static void check_mx(const struct dns_answer *answer);
static bool is_normalised_name(const char *name);
static bool read_plain_question(const uint8_t *data, size_t size, char *out);
static void require(bool condition, const char *what);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[MX_NAME_BUF];

	fuzz_parse(data, size, QNAME_FIXED);
	if (read_plain_question(data, size, qname) && strcmp(qname, QNAME_FIXED) != 0)
		fuzz_parse(data, size, qname);
	return 0;
}

static void fuzz_parse(const uint8_t *data, size_t size, const char *qname)
{
	static const enum dns_type types[] = { DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA,
					       DNS_TYPE_TXT };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct dns_answer *answer = dnsmsg_parse(data, size, qname, types[i]);
		struct dns_answer *copy;

		check_answer(answer, types[i]);
		copy = dns_answer_copy(answer);
		require(dns_answer_size(copy) == dns_answer_size(answer), "copy differs in size");
		dns_answer_free(&copy);
		dns_answer_free(&answer);
		require(answer == NULL, "dns_answer_free left the pointer set");
	}
}

static void check_answer(const struct dns_answer *answer, enum dns_type type)
{
	require(answer != NULL, "no answer");
	require(answer->type == type, "answer of another type");
	require((unsigned)answer->status <= DNS_BADANSWER, "unknown status");
	require(answer->status == DNS_OK || answer->n == 0, "records with a non-OK status");
	require(answer->cname == NULL || is_normalised_name(answer->cname),
		"CNAME target not a normalised name");
	if (answer->cname_pending)
		require(answer->status == DNS_OK && answer->n == 0 && answer->cname != NULL,
			"cname_pending without an empty OK answer and a target");
	if (dns_status_is_temporary(answer->status))
		require(answer->cname == NULL && !answer->truncated && answer->ttl == 0,
			"a temporary failure carries more than its status");
	if (type == DNS_TYPE_MX) {
		check_mx(answer);
		return;
	}
	if (type == DNS_TYPE_TXT) {
		require(answer->n == 0, "a TXT answer keeps records");
		return;
	}
	require(answer->n <= DNS_ADDR_MAX, "more addresses than DNS_ADDR_MAX");
	for (size_t i = 0; i < answer->n; i++)
		require(answer->rr.addr[i].family == (type == DNS_TYPE_A ? AF_INET : AF_INET6),
			"address of the wrong family");
}

static void check_mx(const struct dns_answer *answer)
{
	require(answer->n <= DNS_MX_MAX, "more MX than DNS_MX_MAX");
	for (size_t i = 0; i < answer->n; i++) {
		const char *host = answer->rr.mx[i].host;

		require(host != NULL && (host[0] == '\0' || is_normalised_name(host)),
			"MX exchange not a normalised name");
		require(i == 0 || answer->rr.mx[i - 1].pref <= answer->rr.mx[i].pref,
			"MX not sorted by preference");
	}
}

static bool is_normalised_name(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > MX_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > MX_LABEL_MAX)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* The question's name if it is plain labels of printable octets, in text. */
static bool read_plain_question(const uint8_t *data, size_t size, char *out)
{
	size_t at = QNAME_AT, text = 0;

	while (at < size && data[at] != 0) {
		size_t len = data[at];

		if (len > MX_LABEL_MAX || size - at - 1 < len || text + len + 1 > MX_NAME_MAX)
			return false;
		for (size_t i = 1; i <= len; i++) {
			if (data[at + i] <= ' ' || data[at + i] >= 0x7f || data[at + i] == '.')
				return false;
			out[text++] = (char)data[at + i];
		}
		out[text++] = '.';
		at += 1 + len;
	}
	if (at >= size || text == 0)
		return false;
	out[text - 1] = '\0';
	return true;
}

static void require(bool condition, const char *what)
{
	if (condition)
		return;
	fprintf(stderr, "fuzz_dnsmsg: %s\n", what);
	abort();
}
