/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_recipient.c - libFuzzer harness for recipients, domains and the route engine
 *
 * Input: what an MTA hands over for one recipient ("<user@domain>",
 * "user@[192.0.2.1]", a bare domain, a sendmail ".parent" key). The
 * parser and the engine see it up to its first NUL, domain_normalize()
 * and the socketmap request every byte. Each input goes through:
 *   1. domain_normalize() on the raw bytes, and recipient_parse();
 *   2. route_decide() with config_defaults() and a lookup that knows
 *      nothing: literals and syntax errors are decided at once, every
 *      domain waits for DNS (ROUTE_PENDING);
 *   3. route_decide() with a gateway policy (local hosts, clusters, static
 *      routes with literal hosts, fallback relays) and the same lookup:
 *      the early rules decide without DNS;
 *   4. route_decide() with both policies and a synthetic DNS that answers
 *      every question from a hash of the name (NXDOMAIN, null MX, self as
 *      best or backup MX, CNAME chains and loops, ignored and self
 *      addresses, SERVFAIL): must always finish;
 *   5. the socketmap formatter: "transport KEY" and "mailertable KEY"
 *      requests, routed and formatted into a reply.
 * It aborts when a result breaks the contract of address.h, route.h or
 * format.h: an unterminated or unnormalised name, a hop past the caps, a
 * hop to this host, hops out of preference order, a reply code that does
 * not match the action, a socketmap reply with control characters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxpath/engine/address.h"
#include "mxpath/config/config.h"
#include "mxpath/engine/dns.h"
#include "mxpath/doors/format.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route.h"

#define FUZZ_NAME "fuzz_recipient"
#include "fuzz.h"

#define INPUT_MAX 4096
#define POOL_MAX 512		/* synthetic answers handed out in one decision */
#define SELF_NAME "a.cs.xyz.edu"
#define SELF_EXTRA "relay.mta.example"	/* the MTA's {j} */
#define SELF_ADDRESS "192.0.2.10"

/* A gateway in the seeds' spirit: every early rule has something to match. */
static const char gateway_conf[] =
	"self = { names = [ \"" SELF_NAME "\" ]; addresses = [ \"" SELF_ADDRESS "\" ]; };\n"
	"local_hosts = [ \"b.cs.xyz.edu\", \"c.cs.xyz.edu\" ];\n"
	"clusters = ( { name = \"cluster.cs.xyz.edu\";\n"
	"               members = ( { host = \"" SELF_NAME "\"; pref = 10; },\n"
	"                           { host = \"[192.0.2.20]\"; pref = 10; } ); },\n"
	"             { name = \"backup.cs.xyz.edu\";\n"
	"               members = ( { host = \"[192.0.2.21]\"; pref = 10; },\n"
	"                           { host = \"[IPv6:2001:db8::21]\"; pref = 10; },\n"
	"                           { host = \"" SELF_NAME "\"; pref = 20; } ); } );\n"
	"routes = ( { domain = \".process.com\";\n"
	"             hosts = ( { host = \"daisy.process.com\"; pref = 10; },\n"
	"                       { host = \"[192.0.2.25]\"; pref = 20; } );\n"
	"             dns = [ \"192.0.2.53\" ]; },\n"
	"           { domain = \"firewall.example\";\n"
	"             hosts = ( { host = \"[192.0.2.26]\"; pref = 0; },\n"
	"                       { host = \"[0.0.0.1]\"; pref = 5; } ); },\n"
	"           { domain = \".loop.example\";\n"
	"             hosts = ( { host = \"[" SELF_ADDRESS "]\"; pref = 1; } ); } );\n"
	"fallback_relays = [ \"mail.othercorp.com\", \"[198.51.100.7]\" ];\n"
	"mx = { max_hosts = 3; max_addresses = 4; randomize = true;\n"
	"       ignore_targets = [ \"0.0.0.0/8\", \"127.0.0.0/8\", \"::ffff:0.0.0.0/104\" ]; };\n"
	"socketmap = { nexthop = \"address\"; port = 2525;\n"
	"              local = \"lmtp:unix:private/lmtp\"; };\n";

static struct {
	struct policy *defaults;
	struct policy *gateway;
	struct identity *nobody;
	struct identity *self;
} fx;

/* The answers handed out during one route_decide(), freed after it. */
struct synth_dns {
	struct dns_answer *pool[POOL_MAX];
	size_t n;
	size_t asked;		/* questions, answered or not */
};

struct run {
	const char *recipient;
	const struct policy *policy;
	const struct identity *self;
	const char *self_extra;
	bool knows_dns;		/* synthetic DNS, else nothing known */
	uint32_t seed;
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normalized(const char *name, bool is_literal_ok);
static void fuzz_domain(const uint8_t *data, size_t size);
static int fuzz_parse(const char *text, struct recipient *rcpt);
static enum route_status route_run(const struct run *run, struct route *out, size_t *asked);
static void route_check(const struct run *run, const struct route *route);
static void route_check_hops(const struct run *run, const struct route *route);
static void fuzz_routes(const char *text, int parsed, const struct recipient *rcpt,
			uint32_t seed);
static void literal_check(enum route_status st, const struct route *route,
			  const struct recipient *rcpt);
static void fuzz_socketmap(const uint8_t *data, size_t size, uint32_t seed);
static void socketmap_one(const struct policy *policy, const char *map, const uint8_t *data,
			  size_t size, uint32_t seed);
static void reply_check(const struct format_reply *reply);

static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out);
static bool lookup_synth(void *ctx, unsigned channel, enum dns_type type, const char *name,
			 struct dns_lookup_result *out);
static struct dns_answer *synth_mx(const char *name, uint32_t h);
static struct dns_answer *synth_addr(enum dns_type type, const char *name, uint32_t h);
static struct dns_answer *synth_cname(enum dns_type type, const char *name, uint32_t h);
static const char *synth_host(char *buf, size_t len, const char *label, const char *domain);
static uint32_t hash_text(const void *data, size_t len, uint32_t h);
static uint32_t random_next(void *ctx);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONFIG_ERROR_MAX];

	(void)argc;
	(void)argv;
	fx.defaults = config_defaults();
	if (config_load_string(gateway_conf, "gateway", &fx.gateway, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_recipient: gateway policy: %s\n", err);
		abort();
	}
	fx.nobody = identity_new();
	fx.self = identity_new();
	for (size_t i = 0; i < fx.gateway->n_self_names; i++)
		require(identity_add_name(fx.self, fx.gateway->self_names[i]) == 0, "self name");
	for (size_t i = 0; i < fx.gateway->n_self_addrs; i++)
		identity_add_address(fx.self, &fx.gateway->self_addrs[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INPUT_MAX + 1];
	struct recipient rcpt;
	uint32_t seed;
	size_t len;
	int parsed;

	if (size > INPUT_MAX)
		return 0;
	fuzz_domain(data, size);
	len = strnlen((const char *)data, size);
	memcpy(text, data, len);
	text[len] = '\0';
	seed = hash_text(data, size, 2166136261u);
	parsed = fuzz_parse(text, &rcpt);
	fuzz_routes(text, parsed, &rcpt, seed);
	fuzz_socketmap(data, size, seed);
	return 0;
}

/* Lower case letters, digits, '-', '_', dots between labels; or a "[literal]". */
static void check_normalized(const char *name, bool is_literal_ok)
{
	char again[MX_NAME_BUF];
	const char *why = NULL;
	size_t len = strnlen(name, MX_NAME_BUF);

	require(len < MX_NAME_BUF, "name not NUL-terminated");
	require(len > 0, "empty name");
	if (name[0] == '[') {
		struct recipient lit;

		require(is_literal_ok, "literal where a name belongs");
		require(recipient_parse(name, &lit, &why) == 0, "literal does not parse again");
		require(lit.kind == RECIPIENT_LITERAL && strcmp(lit.domain, name) == 0,
			"literal is not in canonical form");
		return;
	}
	require(len <= MX_NAME_MAX, "name longer than 253 octets");
	for (size_t i = 0; i < len; i++)
		require((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
				name[i] == '-' || name[i] == '_' || name[i] == '.',
			"name holds a character it should not");
	require(domain_normalize(name, len, again, &why) == 0, "normalised name is refused");
	require(strcmp(again, name) == 0, "normalising twice changes the name");
}

static void fuzz_domain(const uint8_t *data, size_t size)
{
	char out[MX_NAME_BUF];
	const char *why = NULL;

	memset(out, 'X', sizeof(out));
	if (domain_normalize((const char *)data, size, out, &why) != 0) {
		require(why != NULL && why[0] != '\0', "domain_normalize: error without a reason");
		return;
	}
	check_normalized(out, false);
	/* Nothing is dropped but one trailing dot, and case folds. */
	require(strlen(out) == size || (strlen(out) == size - 1 && data[size - 1] == '.'),
		"domain_normalize: length changed");
	require(strncasecmp(out, (const char *)data, strlen(out)) == 0,
		"domain_normalize: more than case changed");
}

/* Returns recipient_parse()'s result, after checking what it filled. */
static int fuzz_parse(const char *text, struct recipient *rcpt)
{
	struct recipient again;
	const char *why = NULL;

	if (recipient_parse(text, rcpt, &why) != 0) {
		require(why != NULL && why[0] != '\0', "recipient_parse: error without a reason");
		return -1;
	}
	check_normalized(rcpt->domain, true);
	require((rcpt->kind == RECIPIENT_LITERAL) == (rcpt->domain[0] == '['),
		"recipient kind does not match its domain");
	if (rcpt->has_local) {
		size_t n = strnlen(rcpt->local, sizeof(rcpt->local));

		require(n > 0 && n <= MX_LOCAL_MAX, "local part empty or too long");
		require(strstr(text, rcpt->local) != NULL, "local part not taken from the input");
	}
	/* The domain alone parses to itself. */
	require(recipient_parse(rcpt->domain, &again, &why) == 0, "domain does not parse again");
	require(!again.has_local && again.kind == rcpt->kind &&
			strcmp(again.domain, rcpt->domain) == 0,
		"domain parses to something else");
	if (rcpt->kind == RECIPIENT_LITERAL)
		require(addr_equal(&again.literal, &rcpt->literal), "literal address changed");
	return 0;
}

static void fuzz_routes(const char *text, int parsed, const struct recipient *rcpt,
			uint32_t seed)
{
	struct run run = { .recipient = text, .seed = seed };
	struct route *route = malloc(sizeof(*route));
	enum route_status st;
	size_t asked;

	require(route != NULL, "malloc");

	/* Defaults, no DNS: only literals and syntax errors can be decided. */
	run.policy = fx.defaults;
	run.self = fx.nobody;
	st = route_run(&run, route, &asked);
	if (parsed != 0) {
		require(st == ROUTE_DONE && route->rule == RULE_SYNTAX &&
				route->action == ROUTE_REJECT && route->reply.code == 501,
			"unparsable recipient not rejected 501 as syntax");
	} else if (rcpt->kind == RECIPIENT_LITERAL) {
		literal_check(st, route, rcpt);
	} else {
		require(st == ROUTE_PENDING && asked > 0, "a domain decided without DNS");
	}
	if (st == ROUTE_DONE)
		route_check(&run, route);

	/* The gateway policy, no DNS: the early rules still decide. */
	run.policy = fx.gateway;
	run.self = fx.self;
	run.self_extra = SELF_EXTRA;
	st = route_run(&run, route, &asked);
	require(st == ROUTE_DONE || asked > 0, "pending without a question asked");
	if (st == ROUTE_DONE)
		route_check(&run, route);

	/* Both policies with every answer known: always decided. */
	run.knows_dns = true;
	st = route_run(&run, route, &asked);
	require(st == ROUTE_DONE, "pending although every answer is known");
	route_check(&run, route);
	run.policy = fx.defaults;
	run.self = fx.nobody;
	run.self_extra = NULL;
	st = route_run(&run, route, &asked);
	require(st == ROUTE_DONE, "pending although every answer is known (defaults)");
	route_check(&run, route);
	free(route);
}

/*
 * With the defaults and no self: a literal is relayed to its address, or
 * refused 550 as no usable destination (one pruned host) when it is one
 * no mail server has or mx.ignore_targets holds ("[0.0.2.0]").
 */
static void literal_check(enum route_status st, const struct route *route,
			  const struct recipient *rcpt)
{
	bool is_ignored = false;

	for (size_t i = 0; i < fx.defaults->mx.n_ignore_targets; i++)
		is_ignored |= cidr_contains(&fx.defaults->mx.ignore_targets[i], &rcpt->literal);
	require(st == ROUTE_DONE && route->rule == RULE_LITERAL,
		"literal not decided at once by the literal rule");
	if (route->action == ROUTE_RELAY) {
		require(!is_ignored, "a literal in mx.ignore_targets relayed");
		require(route->n_hops == 1 && addr_equal(&route->addrs[0], &rcpt->literal),
			"literal not relayed to its address");
		return;
	}
	require(route->action == ROUTE_REJECT && route->reply.code == 550 &&
			route->n_pruned == 1 && strcmp(route->pruned[0].host, rcpt->domain) == 0,
		"literal neither relayed to its address nor refused as unusable");
}

static enum route_status route_run(const struct run *run, struct route *out, size_t *asked)
{
	struct synth_dns *dns = calloc(1, sizeof(*dns));
	uint32_t state = run->seed | 1;
	struct route_input in = {
		.recipient = run->recipient,
		.policy = run->policy,
		.self = run->self,
		.self_extra = run->self_extra,
		.lookup = run->knows_dns ? lookup_synth : lookup_nothing,
		.random = random_next,
		.random_ctx = &state,
	};
	enum route_status st;

	require(dns != NULL, "calloc");
	in.lookup_ctx = dns;
	st = route_decide(&in, out);
	*asked = dns->asked;
	for (size_t i = 0; i < dns->n; i++)
		dns_answer_free(&dns->pool[i]);
	free(dns);
	return st;
}

static void route_check(const struct run *run, const struct route *route)
{
	const struct smtp_reply *reply = &route->reply;

	require(route->n_hops <= ROUTE_HOPS_MAX, "too many hops");
	require(route->n_addrs <= ROUTE_ADDRS_MAX, "too many addresses");
	require(route->n_addrs <= run->policy->mx.max_addresses,
		"more addresses than mx.max_addresses");
	require(route->n_pruned <= ROUTE_PRUNED_MAX, "too many pruned hosts");
	require(strnlen(route->domain, sizeof(route->domain)) < sizeof(route->domain),
		"route domain not terminated");
	require(strnlen(route->matched, sizeof(route->matched)) < sizeof(route->matched),
		"route matched not terminated");
	for (unsigned i = 0; i < route->n_pruned; i++)
		require(strnlen(route->pruned[i].host, MX_NAME_BUF) < MX_NAME_BUF,
			"pruned host not terminated");
	require(strnlen(reply->text, sizeof(reply->text)) < sizeof(reply->text) &&
			strnlen(reply->status, sizeof(reply->status)) < sizeof(reply->status),
		"reply not terminated");
	switch (route->action) {
	case ROUTE_RELAY:
		require(route->n_hops > 0, "relay without a hop");
		break;
	case ROUTE_LOCAL:
		break;
	case ROUTE_REJECT:
		require(reply->code >= 500 && reply->code <= 599 && reply->status[0] == '5' &&
				reply->text[0] != '\0',
			"reject without a 5xx reply");
		break;
	case ROUTE_TEMPFAIL:
		require(reply->code >= 400 && reply->code <= 499 && reply->status[0] == '4' &&
				reply->text[0] != '\0',
			"tempfail without a 4xx reply");
		break;
	default:
		require(0, "unknown route action");
	}
	if (route->action != ROUTE_RELAY)
		return;
	route_check_hops(run, route);
}

/* In preference order, fallback relays last, never this host, within the caps. */
static void route_check_hops(const struct run *run, const struct route *route)
{
	const struct policy *policy = run->policy;
	uint32_t last_pref = 0;
	bool in_fallbacks = false;
	unsigned n_mx = 0;

	for (unsigned i = 0; i < route->n_hops; i++) {
		const struct hop *hop = &route->hops[i];

		check_normalized(hop->host, true);
		require(hop->addr_count > 0, "hop without an address");
		require((unsigned)hop->addr_first + hop->addr_count <= route->n_addrs,
			"hop addresses past the route's");
		require(!identity_has_name(run->self, hop->host), "hop to this host by name");
		require(run->self_extra == NULL || strcmp(hop->host, run->self_extra) != 0,
			"hop to this host by the MTA's name");
		if (hop->via == VIA_FALLBACK) {
			require(hop->pref == HOP_PREF_NONE, "fallback relay with a preference");
			in_fallbacks = true;
			continue;
		}
		require(!in_fallbacks, "hop after the fallback relays");
		require(hop->pref >= last_pref, "hops out of preference order");
		last_pref = hop->pref;
		n_mx++;
		for (unsigned a = hop->addr_first; a < hop->addr_first + hop->addr_count; a++) {
			const struct mx_addr *addr = &route->addrs[a];

			require(!identity_has_address(run->self, addr),
				"hop to this host by address");
			if (hop->via == VIA_LITERAL)
				continue;
			for (size_t c = 0; c < policy->mx.n_ignore_targets; c++)
				require(!cidr_contains(&policy->mx.ignore_targets[c], addr),
					"hop address in mx.ignore_targets");
		}
	}
	require(n_mx <= policy->mx.max_hosts, "more hops than mx.max_hosts");
}

/* The socketmap path: the same bytes as the key of both maps. */
static void fuzz_socketmap(const uint8_t *data, size_t size, uint32_t seed)
{
	socketmap_one(fx.defaults, "transport", data, size, seed);
	socketmap_one(fx.gateway, "transport", data, size, seed);
	socketmap_one(fx.gateway, "mailertable", data, size, seed);
}

static void socketmap_one(const struct policy *policy, const char *map, const uint8_t *data,
			  size_t size, uint32_t seed)
{
	char request[INPUT_MAX + 32], buf[FORMAT_REPLY_MIN];
	struct format_reply reply = { .buf = buf, .cap = sizeof(buf) };
	struct format_query q;
	struct route *route;
	struct run run = { .policy = policy, .self = fx.self, .knows_dns = true, .seed = seed };
	size_t asked, n = strlen(map);

	memcpy(request, map, n);
	request[n++] = ' ';
	memcpy(request + n, data, size);
	n += size;
	if (format_request(policy, request, n, &q, &reply) == FORMAT_ANSWERED) {
		reply_check(&reply);
		require(reply.outcome == FORMAT_NOTFOUND || reply.outcome == FORMAT_PERM ||
				reply.outcome == FORMAT_TEMPFAIL,
			"a request answered before routing with a route outcome");
		return;
	}
	require(strnlen(q.recipient, sizeof(q.recipient)) < sizeof(q.recipient),
		"query recipient not terminated");
	route = malloc(sizeof(*route));
	require(route != NULL, "malloc");
	run.recipient = q.recipient;
	require(route_run(&run, route, &asked) == ROUTE_DONE, "socketmap route pending");
	route_check(&run, route);
	format_route(policy, &q, route, &reply);
	reply_check(&reply);
	free(route);
}

/* One line for the MTA: a known verb, no control characters, within cap. */
static void reply_check(const struct format_reply *reply)
{
	static const char *const verbs[] = { "OK ", "NOTFOUND ", "TEMP ", "PERM " };
	bool known = false;

	require(reply->len < reply->cap, "reply past its buffer");
	require(reply->buf[reply->len] == '\0' && strlen(reply->buf) == reply->len,
		"reply length wrong or not terminated");
	for (size_t i = 0; i < reply->len; i++)
		require((unsigned char)reply->buf[i] >= 0x20 && reply->buf[i] != 0x7f,
			"control character in a socketmap reply");
	for (size_t i = 0; i < MX_ARRAY_LEN(verbs); i++)
		known = known || strncmp(reply->buf, verbs[i], strlen(verbs[i])) == 0;
	require(known, "socketmap reply without OK, NOTFOUND, TEMP or PERM");
	require(reply->outcome <= FORMAT_PERM, "unknown format outcome");
}

/* The cold cache: every question is a miss. Names asked must be normalised. */
static bool lookup_nothing(void *ctx, unsigned channel, enum dns_type type, const char *name,
			   struct dns_lookup_result *out)
{
	struct synth_dns *dns = ctx;

	(void)channel;
	(void)out;
	require(type == DNS_TYPE_MX || type == DNS_TYPE_A || type == DNS_TYPE_AAAA,
		"lookup of an unknown type");
	check_normalized(name, false);
	dns->asked++;
	return false;
}

/* Every question answered, the answer picked by a hash of (channel, type, name). */
static bool lookup_synth(void *ctx, unsigned channel, enum dns_type type, const char *name,
			 struct dns_lookup_result *out)
{
	struct synth_dns *dns = ctx;
	uint32_t h;
	struct dns_answer *answer;

	check_normalized(name, false);
	dns->asked++;
	require(dns->n < POOL_MAX, "the engine asks more than POOL_MAX questions");
	h = hash_text(name, strlen(name), 2166136261u ^ (uint32_t)type ^ (channel << 8));
	if (type == DNS_TYPE_MX)
		answer = synth_mx(name, h);
	else
		answer = synth_addr(type, name, h);
	require(answer->type == type, "synthetic answer of the wrong type");
	dns->pool[dns->n++] = answer;
	out->answer = answer;
	out->ttl_left = h % 7200;
	out->stale = (h >> 24) % 5 == 0;
	return true;
}

static struct dns_answer *synth_mx(const char *name, uint32_t h)
{
	char a[MX_NAME_BUF], b[MX_NAME_BUF];
	struct dns_mx mx[4];
	uint32_t ttl = 300;

	switch (h % 11) {
	case 0:
		return dns_answer_new_status(DNS_TYPE_MX, DNS_NXDOMAIN, ttl);
	case 1:
		return dns_answer_new_status(DNS_TYPE_MX, DNS_NODATA, ttl);	/* implicit MX */
	case 2:
		return dns_answer_new_status(DNS_TYPE_MX, (h >> 8) % 2 ? DNS_SERVFAIL : DNS_TIMEOUT,
					     0);
	case 3:		/* RFC 7505 null MX */
		mx[0] = (struct dns_mx){ 0, "" };
		return dns_answer_new_mx(mx, 1, ttl, NULL);
	case 4:		/* self is the best MX: a loop */
		mx[0] = (struct dns_mx){ 10, SELF_NAME };
		mx[1] = (struct dns_mx){ 20, synth_host(a, sizeof(a), "mx1", name) };
		return dns_answer_new_mx(mx, 2, ttl, NULL);
	case 5:		/* self is a backup MX */
		mx[0] = (struct dns_mx){ 10, synth_host(a, sizeof(a), "mx1", name) };
		mx[1] = (struct dns_mx){ 20, SELF_NAME };
		mx[2] = (struct dns_mx){ 30, synth_host(b, sizeof(b), "mx2", name) };
		return dns_answer_new_mx(mx, 3, ttl, NULL);
	case 6:		/* an address and a null target among real ones: skipped */
		mx[0] = (struct dns_mx){ 5, "192.0.2.99" };
		mx[1] = (struct dns_mx){ 10, "" };
		mx[2] = (struct dns_mx){ 10, synth_host(a, sizeof(a), "mx1", name) };
		mx[3] = (struct dns_mx){ 10, synth_host(a, sizeof(a), "mx1", name) };
		return dns_answer_new_mx(mx, 4, ttl, NULL);
	case 7:
		return synth_cname(DNS_TYPE_MX, name, h);
	default:	/* four exchangers, two equal preferences */
		mx[0] = (struct dns_mx){ 10, synth_host(a, sizeof(a), "mx1", name) };
		mx[1] = (struct dns_mx){ 10, synth_host(b, sizeof(b), "mx2", name) };
		mx[2] = (struct dns_mx){ 20, "mx.othercorp.com" };
		mx[3] = (struct dns_mx){ (uint16_t)(h >> 16), "mail.othercorp.com" };
		return dns_answer_new_mx(mx, 4, ttl, NULL);
	}
}

static struct dns_answer *synth_addr(enum dns_type type, const char *name, uint32_t h)
{
	static const char *const v4[] = { "192.0.2.30", "198.51.100.31", "127.0.0.1",
					  "0.0.0.1", SELF_ADDRESS, "203.0.113.32" };
	static const char *const v6[] = { "2001:db8::30", "::ffff:0.0.0.7", "2001:db8::31",
					  "::1" };
	struct mx_addr addrs[3];
	const char *const *pool = type == DNS_TYPE_A ? v4 : v6;
	size_t n_pool = type == DNS_TYPE_A ? MX_ARRAY_LEN(v4) : MX_ARRAY_LEN(v6);
	size_t n = 1 + (h >> 4) % 3;

	switch (h % 9) {
	case 0:
		return dns_answer_new_status(type, DNS_NODATA, 60);
	case 1:
		return dns_answer_new_status(type, DNS_NXDOMAIN, 60);
	case 2:
		return dns_answer_new_status(type, DNS_SERVFAIL, 0);
	case 3:
		return synth_cname(type, name, h);
	default:
		break;
	}
	for (size_t i = 0; i < n; i++)
		require(addr_parse(pool[(h >> (8 + 4 * i)) % n_pool], &addrs[i]) == 0, "addr");
	return dns_answer_new_addr(type, addrs, n, 300, NULL);
}

/* An alias whose target was not in the answer: to another name, or a loop. */
static struct dns_answer *synth_cname(enum dns_type type, const char *name, uint32_t h)
{
	char target[MX_NAME_BUF];
	struct dns_answer *answer;
	const char *to = name;

	if ((h >> 12) % 4 != 0)
		to = synth_host(target, sizeof(target), "alias", name);

	answer = type == DNS_TYPE_MX ? dns_answer_new_mx(NULL, 0, 300, to)
				     : dns_answer_new_addr(type, NULL, 0, 300, to);
	answer->cname_pending = true;
	return answer;
}

/* "label.domain", or a fixed name when that would be too long. */
static const char *synth_host(char *buf, size_t len, const char *label, const char *domain)
{
	int n = snprintf(buf, len, "%s.%s", label, domain);

	if (n < 0 || (size_t)n > MX_NAME_MAX)
		snprintf(buf, len, "%s.example.net", label);
	return buf;
}

/* FNV-1a. */
static uint32_t hash_text(const void *data, size_t len, uint32_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* xorshift32: the engine only needs uniform 32-bit numbers. */
static uint32_t random_next(void *ctx)
{
	uint32_t *state = ctx, x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x != 0 ? x : 1;
	return *state;
}
