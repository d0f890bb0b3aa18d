/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_tlskey.c - libFuzzer harness for the TLS policy keys
 *
 * Input: a key Postfix's smtp_tls_policy_maps asks the "tls" socketmap
 * ("[gw.r.test]", "[192.0.2.7]:25", "[ipv6:2001:db8::7]"), up to its
 * first NUL; the whole input is also read as the source file of an
 * admin's TLS policy table (tls.policy_table: "KEY LEVEL..." lines).
 * The policy below gives levels to names and literals through a cluster,
 * static routes and the fallback relays, one host in two places. Checks:
 *   - format_request("tls KEY") answers "OK LEVEL" exactly for "[HOST]" and
 *     "[HOST]:PORT" (PORT 1..65535) where HOST is, in any case, a host the
 *     policy gives a level (the strongest of its places), with Postfix's
 *     word for it; anything else is NOTFOUND; the reply is one line of
 *     printable ASCII; the key upper-cased, or with ":25" added to a
 *     "[HOST]", answers the same, a bad port NOTFOUND;
 *   - tls_host_level() on the raw bytes is that host's level exactly when
 *     the bytes are one of the policy's hosts, in any case;
 *   - tls_table_read() on the input (without NUL bytes) calls back, in
 *     order, with the normalised domain key, the level word and the line
 *     number of each line that starts with neither blank, '#' nor '['
 *     ("[host]" keys are next hops, not domains), or fails with
 *     "PATH:LINE: why" at the first line with a key over 256 bytes, a
 *     level word over 31, a key that is no domain, or over 4094 bytes;
 *     with NUL bytes, it fails, if at all, with "PATH:LINE:".
 * It aborts with "fuzz_tlskey: what broke" on a broken promise.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mxpath/config/config.h"
#include "mxpath/config/tls_table.h"
#include "mxpath/doors/format.h"
#include "mxpath/engine/address.h"
#include "mxpath/engine/tlspolicy.h"

#define FUZZ_NAME "fuzz_tlskey"
#include "fuzz.h"

#define INPUT_MAX 8192
#define TABLE_LINE_MAX 4094	/* bytes before the '\n' tls_table_read() takes */
#define TABLE_KEY_MAX 256
#define TABLE_LEVEL_MAX (TLS_TABLE_WORD_MAX - 1)

/* What tls_table_read() called back with, or what the reference expects. */
struct table_entry {
	char domain[MX_NAME_BUF + 1];
	char level[TLS_TABLE_WORD_MAX];
	unsigned line;
};

struct table {
	struct table_entry *entries;	/* INPUT_MAX of them */
	size_t n;
};

static const char policy_conf[] =
	"socketmap = { nexthop = \"name\"; };\n"
	"clusters = ( { name = \"cluster.c.test\"; tls = \"encrypt\";\n"
	"               members = ( { host = \"gw.c.test\"; pref = 10; },\n"
	"                           { host = \"[192.0.2.7]\"; pref = 20; } ); } );\n"
	"routes = ( { domain = \"r.test\"; tls = \"verify\";\n"
	"             hosts = ( { host = \"gw.r.test\"; pref = 10; },\n"
	"                       { host = \"[IPv6:2001:db8::7]\"; pref = 20; },\n"
	"                       { host = \"[192.0.2.7]\"; pref = 30; } ); },\n"
	"           { domain = \".t.test\"; tls = \"secure\";\n"
	"             hosts = ( { host = \"mx.t.test\"; pref = 10; } ); },\n"
	"           { domain = \"s.test\";\n"
	"             hosts = ( { host = \"gw.s.test\"; pref = 10; } ); } );\n"
	"fallback_relays = [ \"relay.f.test\", \"gw.c.test\" ];\n"
	"tls = { fallback_relays = \"dane-only\"; };\n";

/* Every host of the policy with the strongest level it is given. */
static const struct {
	const char *host;		/* as Postfix writes it between the brackets */
	const char *stored;		/* as the policy holds it */
	enum tls_level level;
} hosts[] = {
	{ "gw.c.test", "gw.c.test", TLS_LEVEL_DANE_ONLY },	/* cluster encrypt, relay dane-only */
	{ "192.0.2.7", "[192.0.2.7]", TLS_LEVEL_VERIFY },	/* cluster encrypt, route verify */
	{ "gw.r.test", "gw.r.test", TLS_LEVEL_VERIFY },
	{ "ipv6:2001:db8::7", "[IPv6:2001:db8::7]", TLS_LEVEL_VERIFY },
	{ "mx.t.test", "mx.t.test", TLS_LEVEL_SECURE },
	{ "gw.s.test", "gw.s.test", TLS_LEVEL_NONE },		/* its route sets no level */
	{ "relay.f.test", "relay.f.test", TLS_LEVEL_DANE_ONLY },
};
#define N_HOSTS (sizeof(hosts) / sizeof(hosts[0]))

static struct {
	struct policy *policy;
	int table_fd;
	char table_path[64];
} fx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum tls_level expected_level(const char *key, size_t len, bool *is_key);
static bool port_is_valid(const char *text, size_t len);
static enum format_outcome ask(const char *key, size_t len, char *reply, size_t cap);
static void check_key(const char *key, size_t len);
static void check_variants(const char *key, size_t len, enum format_outcome outcome,
			   const char *reply);
static void check_host_level(const char *bytes, size_t len);
static void check_table(const char *text, size_t len);
static int table_take(void *ctx, const struct tls_table_entry *entry, char *err, size_t errlen);
static int expected_table(const char *text, size_t len, struct table *want, unsigned *bad_line);
static size_t word_len(const char *text, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONFIG_ERROR_MAX];

	(void)argc;
	(void)argv;
	if (config_load_string(policy_conf, "tlskey", &fx.policy, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_tlskey: policy: %s\n", err);
		abort();
	}
	for (size_t i = 0; i < N_HOSTS; i++)
		require(tls_host_level(fx.policy, hosts[i].stored, strlen(hosts[i].stored)) ==
				hosts[i].level,
			"the harness's table of levels is not the policy's");
	fx.table_fd = memfd_create("tls-policy-table", 0);
	require(fx.table_fd >= 0, "memfd_create");
	snprintf(fx.table_path, sizeof(fx.table_path), "/proc/self/fd/%d", fx.table_fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	if (size > INPUT_MAX)
		return 0;
	check_key(text, strnlen(text, size));
	check_host_level(text, size);
	check_table(text, size);
	return 0;
}

/* The level the contract gives key; *is_key says whether it is "[HOST]" or "[HOST]:PORT". */
static enum tls_level expected_level(const char *key, size_t len, bool *is_key)
{
	const char *close = memchr(key, ']', len);
	size_t host_len;

	*is_key = len >= 2 && key[0] == '[' && close != NULL &&
		  (close == key + len - 1 ||
		   (close[1] == ':' && port_is_valid(close + 2, (size_t)(key + len - close - 2))));
	if (!*is_key)
		return TLS_LEVEL_NONE;
	host_len = (size_t)(close - key - 1);
	for (size_t i = 0; i < N_HOSTS; i++)
		if (strlen(hosts[i].host) == host_len &&
		    strncasecmp(hosts[i].host, key + 1, host_len) == 0)
			return hosts[i].level;
	return TLS_LEVEL_NONE;
}

static bool port_is_valid(const char *text, size_t len)
{
	unsigned long value = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	return value >= 1 && value <= 65535;
}

/* format_request("tls KEY"): the outcome, the reply text in reply. */
static enum format_outcome ask(const char *key, size_t len, char *reply, size_t cap)
{
	char request[INPUT_MAX + 16];
	struct format_reply r = { .buf = reply, .cap = cap };
	struct format_query q;

	memcpy(request, "tls ", 4);
	memcpy(request + 4, key, len);
	require(format_request(fx.policy, request, len + 4, &q, &r) == FORMAT_ANSWERED,
		"a tls key is routed instead of answered");
	require(r.len == strlen(reply) && r.len > 0, "reply length wrong");
	for (size_t i = 0; i < r.len; i++)
		require(reply[i] >= 0x20 && reply[i] < 0x7f,
			"reply holds a byte that is not printable ASCII");
	return r.outcome;
}

static void check_key(const char *key, size_t len)
{
	char reply[FORMAT_REPLY_MIN], expected[64];
	bool is_key;
	enum tls_level level = expected_level(key, len, &is_key);
	enum format_outcome outcome = ask(key, len, reply, sizeof(reply));

	if (len > FORMAT_KEY_MAX) {
		require(outcome == FORMAT_NOTFOUND, "a key longer than FORMAT_KEY_MAX answered");
		return;
	}
	if (level == TLS_LEVEL_NONE) {
		require(outcome == FORMAT_NOTFOUND && strncmp(reply, "NOTFOUND ", 9) == 0,
			is_key ? "a host without a level answered" : "not a [host] key, answered");
	} else {
		snprintf(expected, sizeof(expected), "OK %s", tls_level_policy(level));
		require(outcome == FORMAT_RELAY, "a host with a level not answered");
		require(strcmp(reply, expected) == 0, "the answer is not the host's strongest level");
	}
	check_variants(key, len, outcome, reply);
}

/* Upper case, ":25" after "[HOST]", a bad port: the same answer, or NOTFOUND. */
static void check_variants(const char *key, size_t len, enum format_outcome outcome,
			   const char *reply)
{
	char variant[INPUT_MAX + 16], other[FORMAT_REPLY_MIN];

	if (len + 6 > FORMAT_KEY_MAX)
		return;
	for (size_t i = 0; i < len; i++)
		variant[i] = (char)toupper((unsigned char)key[i]);
	require(ask(variant, len, other, sizeof(other)) == outcome &&
			(outcome == FORMAT_NOTFOUND || strcmp(other, reply) == 0),
		"the key in upper case answers differently");
	if (len < 2 || key[len - 1] != ']' || memchr(key, ']', len) != key + len - 1)
		return;
	memcpy(variant, key, len);
	memcpy(variant + len, ":25", 3);
	require(ask(variant, len + 3, other, sizeof(other)) == outcome &&
			(outcome == FORMAT_NOTFOUND || strcmp(other, reply) == 0),
		"[HOST]:25 answers differently from [HOST]");
	memcpy(variant + len, ":0", 2);
	require(ask(variant, len + 2, other, sizeof(other)) == FORMAT_NOTFOUND,
		"[HOST]:0 answered");
	memcpy(variant + len, ":x25", 4);
	require(ask(variant, len + 4, other, sizeof(other)) == FORMAT_NOTFOUND,
		"[HOST]:x25 answered");
}

static void check_host_level(const char *bytes, size_t len)
{
	enum tls_level expected = TLS_LEVEL_NONE;

	for (size_t i = 0; i < N_HOSTS; i++)
		if (strlen(hosts[i].stored) == len && memchr(bytes, '\0', len) == NULL &&
		    strncasecmp(hosts[i].stored, bytes, len) == 0)
			expected = hosts[i].level;
	require(tls_host_level(fx.policy, bytes, len) == expected,
		"tls_host_level: not the level of the host these bytes name");
}

static void check_table(const char *text, size_t len)
{
	static struct table_entry got_entries[INPUT_MAX], want_entries[INPUT_MAX];
	struct table got = { got_entries, 0 }, want = { want_entries, 0 };
	char err[512], prefix[128];
	unsigned bad_line = 0;
	int rc, want_rc;

	require(ftruncate(fx.table_fd, 0) == 0 && pwrite(fx.table_fd, text, len, 0) == (ssize_t)len,
		"writing the table");
	err[0] = '\0';
	rc = tls_table_read(fx.table_path, table_take, &got, err, sizeof(err));
	if (memchr(text, '\0', len) != NULL) {
		snprintf(prefix, sizeof(prefix), "%s:", fx.table_path);
		require(rc == 0 || (strncmp(err, prefix, strlen(prefix)) == 0 &&
				    err[strlen(prefix)] >= '1' && err[strlen(prefix)] <= '9'),
			"tls_table_read: the error does not start with PATH:LINE");
		return;
	}
	want_rc = expected_table(text, len, &want, &bad_line);
	require(rc == want_rc, rc == 0 ? "tls_table_read: accepts a bad table"
				       : "tls_table_read: refuses a good table");
	require(got.n == want.n, "tls_table_read: not one entry per domain key");
	for (size_t i = 0; i < got.n; i++) {
		require(strcmp(got.entries[i].domain, want.entries[i].domain) == 0,
			"tls_table_read: a domain is not its key normalised");
		require(strcmp(got.entries[i].level, want.entries[i].level) == 0,
			"tls_table_read: a level is not the line's second word");
		require(got.entries[i].line == want.entries[i].line,
			"tls_table_read: an entry with another line number");
	}
	if (rc != 0) {
		snprintf(prefix, sizeof(prefix), "%s:%u: ", fx.table_path, bad_line);
		require(strncmp(err, prefix, strlen(prefix)) == 0,
			"tls_table_read: the error does not name PATH:LINE of the bad line");
	}
}

static int table_take(void *ctx, const struct tls_table_entry *entry, char *err, size_t errlen)
{
	struct table *t = ctx;
	struct table_entry *e;

	(void)err;
	(void)errlen;
	require(t->n < INPUT_MAX, "tls_table_read: more entries than lines");
	require(strlen(entry->domain) < sizeof(e->domain) && strlen(entry->level) < sizeof(e->level),
		"tls_table_read: an entry past its bounds");
	e = &t->entries[t->n++];
	strcpy(e->domain, entry->domain);
	strcpy(e->level, entry->level);
	e->line = entry->line;
	return 0;
}

/* The table by the rules of tls_table.h and tls_table.c's header; 0, or -1 with *bad_line. */
static int expected_table(const char *text, size_t len, struct table *want, unsigned *bad_line)
{
	size_t pos = 0;
	unsigned line = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - text - pos) : len - pos;
		const char *s = text + pos, *why;
		struct table_entry *e = &want->entries[want->n];
		size_t key, gap, level;
		bool dot;

		line++;
		pos += line_len + 1;
		*bad_line = line;
		if (line_len > TABLE_LINE_MAX)
			return -1;
		if (line_len == 0 || isspace((unsigned char)s[0]) || s[0] == '#' || s[0] == '[')
			continue;
		key = word_len(s, line_len);
		gap = key;
		while (gap < line_len && isspace((unsigned char)s[gap]))
			gap++;
		level = word_len(s + gap, line_len - gap);
		if (key > TABLE_KEY_MAX || level > TABLE_LEVEL_MAX)
			return -1;
		dot = s[0] == '.';
		e->domain[0] = '.';
		if (domain_normalize(s + dot, key - dot, e->domain + dot, &why) != 0)
			return -1;
		memcpy(e->level, s + gap, level);
		e->level[level] = '\0';
		e->line = line;
		want->n++;
	}
	return 0;
}

/* Bytes up to the first white space. */
static size_t word_len(const char *text, size_t len)
{
	size_t n = 0;

	while (n < len && !isspace((unsigned char)text[n]))
		n++;
	return n;
}
