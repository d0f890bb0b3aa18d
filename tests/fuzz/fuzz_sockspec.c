/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sockspec.c - libFuzzer harness for socket specs (sockspec.h)
 *
 * Input: a socket spec as a configuration file or a command line gives it
 * ("unix:/run/mxpath/s", "inet:10025", "inet:10025@[::1]",
 * "inet:25@mx.example"), up to its first NUL; sockspec_parse_port() and
 * the numeric-account parser see the raw bytes too. Checks sockspec.h:
 *   - sockspec_parse_port() accepts exactly 1..5 decimal digits worth
 *     1..65535 (a reference parse decides), and gives that value;
 *   - a refused spec has a reason; anything but "unix:" or "inet:" is
 *     refused;
 *   - an accepted "unix:" spec is the absolute path as given, below
 *     SOCKSPEC_PATH_MAX bytes, without control characters, and
 *     sockspec_unix_path() points at it;
 *   - an accepted "inet:" spec has a port 1..65535 equal to the digits
 *     given, and a host that matches its family: an IPv4 or IPv6 address
 *     (inet_pton() takes it, no brackets kept), or a normalised host name
 *     that is not an IP address (AF_UNSPEC); "inet:PORT" alone is
 *     127.0.0.1;
 *   - the canonical spelling ("unix:PATH", "inet:PORT@HOST", IPv6 in
 *     brackets) parses back to the same spec, and so does libmilter's
 *     spelling from sockspec_libmilter() once "inet6:" is written the
 *     house way;
 *   - sockspec_uid()/sockspec_gid() on a short all-digit input take it
 *     as the id when it is below (uid_t)-1, else refuse it.
 * It aborts with "fuzz_sockspec: what broke" on a broken promise.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxpath/config/sockspec.h"
#include "mxpath/engine/address.h"

#define FUZZ_NAME "fuzz_sockspec"
#include "fuzz.h"

#define INPUT_MAX 1024
#define SPEC_TEXT_MAX (SOCKSPEC_PATH_MAX + MX_NAME_BUF + 32)
#define ACCOUNT_DIGITS_MAX 12	/* sockspec_uid() on digits only: no NSS name is that */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_port(const char *text, size_t len);
static int reference_port(const char *text, size_t len, unsigned *port);
static void check_spec(const char *text);
static void check_unix(const char *text, const struct sockspec *spec);
static void check_inet(const char *text, const struct sockspec *spec);
static void check_canonical(const struct sockspec *spec);
static void check_libmilter(const struct sockspec *spec);
static void check_same(const char *text, const struct sockspec *spec, const char *what);
static void check_account(const char *text, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INPUT_MAX + 1];
	size_t len;

	if (size > INPUT_MAX)
		return 0;
	check_port((const char *)data, size);
	len = strnlen((const char *)data, size);
	memcpy(text, data, len);
	text[len] = '\0';
	check_spec(text);
	check_account(text, len);
	return 0;
}

static void check_port(const char *text, size_t len)
{
	unsigned port = 0, expected = 0;
	int rc = sockspec_parse_port(text, len, &port);

	require(rc == reference_port(text, len, &expected),
		"sockspec_parse_port: verdict differs from the reference");
	require(rc != 0 || port == expected, "sockspec_parse_port: wrong value");
}

/* 1..5 ASCII digits, value 1..65535, nothing else: 0, else -1. */
static int reference_port(const char *text, size_t len, unsigned *port)
{
	char digits[6];
	unsigned long value;

	if (len < 1 || len > 5)
		return -1;
	memcpy(digits, text, len);
	digits[len] = '\0';
	if (strspn(digits, "0123456789") < len)
		return -1;
	value = strtoul(digits, NULL, 10);
	if (value < 1 || value > 65535)
		return -1;
	*port = (unsigned)value;
	return 0;
}

static void check_spec(const char *text)
{
	struct sockspec spec;
	const char *why = NULL;

	memset(&spec, 'X', sizeof(spec));
	if (sockspec_parse(text, &spec, &why) != 0) {
		require(why != NULL && why[0] != '\0', "sockspec_parse: error without a reason");
		return;
	}
	require(strncmp(text, "unix:", 5) == 0 || strncmp(text, "inet:", 5) == 0,
		"sockspec_parse: accepted a spec that is neither unix: nor inet:");
	if (spec.kind == SOCKSPEC_UNIX)
		check_unix(text, &spec);
	else
		check_inet(text, &spec);
	check_canonical(&spec);
	check_libmilter(&spec);
}

static void check_unix(const char *text, const struct sockspec *spec)
{
	size_t len = strnlen(spec->path, sizeof(spec->path));

	require(strncmp(text, "unix:", 5) == 0, "a unix spec from an inet: text");
	require(len < sizeof(spec->path), "unix path not NUL-terminated");
	require(spec->path[0] == '/', "unix path not absolute");
	require(strcmp(spec->path, text + 5) == 0, "unix path is not the text after unix:");
	for (size_t i = 0; i < len; i++)
		require((unsigned char)spec->path[i] >= 0x20 && spec->path[i] != 0x7f,
			"unix path holds a control character");
	require(sockspec_unix_path(text) == text + 5, "sockspec_unix_path: not the path");
}

static void check_inet(const char *text, const struct sockspec *spec)
{
	const char *at = strchr(text + 5, '@');
	size_t digits = at != NULL ? (size_t)(at - text - 5) : strlen(text + 5);
	unsigned port = 0;
	unsigned char buf[sizeof(struct in6_addr)];
	char normal[MX_NAME_BUF];
	const char *why = NULL;
	struct mx_addr addr;

	require(strncmp(text, "inet:", 5) == 0, "an inet spec from a unix: text");
	require(sockspec_unix_path(text) == NULL, "sockspec_unix_path: a path in an inet: spec");
	require(spec->port >= 1 && spec->port <= 65535, "port out of 1..65535");
	require(reference_port(text + 5, digits, &port) == 0 && port == spec->port,
		"port is not the digits after inet:");
	require(strnlen(spec->host, sizeof(spec->host)) < sizeof(spec->host),
		"host not NUL-terminated");
	switch (spec->family) {
	case AF_INET:
		require(inet_pton(AF_INET, spec->host, buf) == 1, "AF_INET host is no IPv4 address");
		if (at == NULL)
			require(strcmp(spec->host, SOCKSPEC_DEFAULT_HOST) == 0,
				"inet:PORT is not on the default host");
		break;
	case AF_INET6:
		require(inet_pton(AF_INET6, spec->host, buf) == 1,
			"AF_INET6 host is no IPv6 address");
		break;
	case AF_UNSPEC:
		require(addr_parse(spec->host, &addr) != 0, "an IP address taken as a host name");
		require(domain_normalize(spec->host, strlen(spec->host), normal, &why) == 0 &&
				strcmp(normal, spec->host) == 0,
			"host name not normalised");
		break;
	default:
		require(0, "unknown address family");
	}
}

/* "unix:PATH" or "inet:PORT@HOST" ([HOST] for IPv6) parses to the same spec. */
static void check_canonical(const struct sockspec *spec)
{
	char text[SPEC_TEXT_MAX];

	if (spec->kind == SOCKSPEC_UNIX)
		snprintf(text, sizeof(text), "unix:%s", spec->path);
	else if (spec->family == AF_INET6)
		snprintf(text, sizeof(text), "inet:%u@[%s]", spec->port, spec->host);
	else
		snprintf(text, sizeof(text), "inet:%u@%s", spec->port, spec->host);
	check_same(text, spec, "the canonical spelling parses to another spec");
}

/* libmilter's spelling, "inet6:" written as "inet:" with brackets, is the same spec. */
static void check_libmilter(const struct sockspec *spec)
{
	char text[SPEC_TEXT_MAX], house[SPEC_TEXT_MAX], small[4];
	const char *host;

	require(sockspec_libmilter(spec, small, sizeof(small)) == -1,
		"sockspec_libmilter: overflow not seen");
	require(sockspec_libmilter(spec, text, sizeof(text)) == 0,
		"sockspec_libmilter: a parsed spec does not fit");
	if (strncmp(text, "inet6:", 6) != 0) {
		check_same(text, spec, "libmilter's spelling parses to another spec");
		return;
	}
	require(spec->family == AF_INET6, "inet6: for a host that is not IPv6");
	host = strchr(text, '@');
	require(host != NULL, "libmilter's inet6: spelling has no host");
	snprintf(house, sizeof(house), "inet:%.*s@[%s]", (int)(host - text - 6), text + 6, host + 1);
	check_same(house, spec, "libmilter's inet6: spelling parses to another spec");
}

static void check_same(const char *text, const struct sockspec *spec, const char *what)
{
	struct sockspec again;
	const char *why = NULL;

	require(sockspec_parse(text, &again, &why) == 0 && memcmp(&again, spec, sizeof(again)) == 0,
		what);
}

static void check_account(const char *text, size_t len)
{
	unsigned long long value;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc;

	if (len == 0 || len > ACCOUNT_DIGITS_MAX || strspn(text, "0123456789") != len)
		return;
	value = strtoull(text, NULL, 10);
	rc = sockspec_uid(text, &uid);
	require((rc == 0) == (len <= 10 && value < (uid_t)-1), "sockspec_uid: wrong verdict on a number");
	require(rc != 0 || uid == (uid_t)value, "sockspec_uid: id is not the number");
	rc = sockspec_gid(text, &gid);
	require((rc == 0) == (len <= 10 && value < (gid_t)-1), "sockspec_gid: wrong verdict on a number");
	require(rc != 0 || gid == (gid_t)value, "sockspec_gid: id is not the number");
}
