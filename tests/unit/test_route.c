/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_route.c - the route engine against the seeds' examples and the rules
 *
 * One table row per seed example and point of view (Example 16, 17, 18,
 * oreilly.com, plange.puntacana.dr, software.com) and per edge case of
 * DESIGN.md's routing rules; then the behaviours a row cannot show:
 * pending passes, TTL and cache state, the uniformity of the shuffle, the
 * policy lookups. DNS is a table-driven fake (fake_dns.h), randomness a
 * seeded xorshift; policies start from the loader's defaults, the rows
 * add to them by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/route_order.h"
#include "mxpath/base/common.h"
#include "mxpath/config/config.h"
#include "mxpath/engine/dns.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route.h"

#include "fake_dns.h"

#define OUTSIDE_NAME "outside.example.net"
#define OUTSIDE_ADDR "203.0.113.1"
#define TEXT_MAX 4096

/* Configuration switches a table row can flip on the default policy. */
enum {
	CFG_NULL_MX_TEMPFAIL = 1 << 0,
	CFG_SELF_BEST_TEMPFAIL = 1 << 1,
	CFG_NO_IPV4 = 1 << 2,
	CFG_NO_IPV6 = 1 << 3,
	CFG_MAX_HOSTS_3 = 1 << 4,
	CFG_MAX_ADDRS_2 = 1 << 5,
	CFG_IGNORE_LOOPBACK = 1 << 6,
};

struct route_case {
	const char *name;		/* the behaviour, as the test's name */
	const char *self;		/* self names; NULL: an outside host */
	const char *self_addrs;
	const char *self_extra;		/* the MTA's {j} */
	const char *local_hosts;
	const char *cluster;		/* "NAME = HOST PREF, HOST PREF" */
	const char *route;		/* "PATTERN = HOST PREF, ... @CHANNEL" */
	const char *fallback;
	unsigned config;		/* CFG_* */
	const char *rcpt;
	enum route_action action;
	enum route_rule rule;
	const char *hops;		/* "host/pref ..." equal prefs sorted by name */
	const char *pruned;		/* "host/pref:reason ..." sorted */
	const char *reply;		/* "554 5.4.6" */
	const char *text;		/* a substring of the reply text */
	const char *addrs;		/* every route address, in order */
	bool self_listed;
	const char *matched;
};

struct env {
	struct fake_dns dns;
	struct fake_random random;
	struct policy *policy;
	struct identity *self;
	const char *self_extra;
	bool keep_dns_order;		/* as the router asks */
	struct route route;
	const struct route_case *row;
};

/* --- policies and identities built by hand ------------------------------ */

/* The loader's defaults (an empty file), so the rows cannot drift from them;
 * without the _mta-sts lookup, which the rows' DNS tables leave out
 * (test_tlspolicy.c covers it). */
static struct policy *policy_new_test(void)
{
	struct policy *p = config_defaults();

	p->tls.mta_sts = false;
	return p;
}

static void strings_add(char ***list, size_t *n, const char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = xstrdup(s);
}

/* Calls add(arg, word) for each blank-separated word of text. */
static void words_each(const char *text, void (*add)(void *, const char *), void *arg)
{
	char word[MX_NAME_BUF];
	int used;

	while (text != NULL && sscanf(text, " %255s%n", word, &used) == 1) {
		add(arg, word);
		text += used;
	}
}

/* "a.example 10, b.example 20" */
static struct policy_host *hosts_parse(const char *text, size_t *n)
{
	struct policy_host *hosts = NULL;
	char host[MX_NAME_BUF];
	unsigned pref;
	int used;

	*n = 0;
	while (sscanf(text, " %255[^ ,] %u%n", host, &pref, &used) == 2) {
		hosts = xreallocarray(hosts, *n + 1, sizeof(*hosts));
		hosts[*n].host = xstrdup(host);
		hosts[*n].pref = pref;
		(*n)++;
		text += used;
		while (*text == ',' || *text == ' ')
			text++;
	}
	return hosts;
}

static void policy_add_local_host(void *arg, const char *name)
{
	struct policy *p = arg;

	strings_add(&p->local_hosts, &p->n_local_hosts, name);
}

static void policy_add_fallback(void *arg, const char *name)
{
	struct policy *p = arg;

	strings_add(&p->fallback_relays, &p->n_fallback_relays, name);
}

static void policy_add_cluster(struct policy *p, const char *spec)
{
	char name[MX_NAME_BUF];
	struct policy_cluster *c;
	int used;

	assert_int_equal(sscanf(spec, "%255s =%n", name, &used), 1);
	p->clusters = xreallocarray(p->clusters, p->n_clusters + 1, sizeof(*p->clusters));
	c = &p->clusters[p->n_clusters++];
	c->name = xstrdup(name);
	c->members = hosts_parse(spec + used, &c->n_members);
}

static struct policy_route *policy_add_route(struct policy *p, const char *spec)
{
	char pattern[MX_NAME_BUF];
	const char *at = strchr(spec, '@');
	struct policy_route *r;
	int used;

	assert_int_equal(sscanf(spec, "%255s =%n", pattern, &used), 1);
	p->routes = xreallocarray(p->routes, p->n_routes + 1, sizeof(*p->routes));
	r = &p->routes[p->n_routes++];
	memset(r, 0, sizeof(*r));
	r->pattern = xstrdup(pattern);
	r->is_suffix = pattern[0] == '.';
	r->hosts = hosts_parse(spec + used, &r->n_hosts);
	if (at != NULL) {
		r->channel = (unsigned)atoi(at + 1);
		strings_add(&r->dns, &r->n_dns, "192.0.2.53");
	}
	return r;
}

static void policy_add_ignore(struct policy *p, const char *text)
{
	p->mx.ignore_targets = xreallocarray(p->mx.ignore_targets, p->mx.n_ignore_targets + 1,
					     sizeof(*p->mx.ignore_targets));
	assert_int_equal(cidr_parse(text, &p->mx.ignore_targets[p->mx.n_ignore_targets]), 0);
	p->mx.n_ignore_targets++;
}

static void policy_apply_config(struct policy *p, unsigned config)
{
	if (config & CFG_NULL_MX_TEMPFAIL)
		p->mx.null_mx = VERDICT_TEMPFAIL;
	if (config & CFG_SELF_BEST_TEMPFAIL)
		p->mx.self_best = VERDICT_TEMPFAIL;
	if (config & CFG_NO_IPV4)
		p->mx.ipv4 = false;
	if (config & CFG_NO_IPV6)
		p->mx.ipv6 = false;
	if (config & CFG_MAX_HOSTS_3)
		p->mx.max_hosts = 3;
	if (config & CFG_MAX_ADDRS_2)
		p->mx.max_addresses = 2;
	if (config & CFG_IGNORE_LOOPBACK) {
		policy_add_ignore(p, "0.0.0.0/8");
		policy_add_ignore(p, "127.0.0.0/8");
		policy_add_ignore(p, "::1");
	}
}

static void identity_add_name_word(void *arg, const char *name)
{
	assert_int_equal(identity_add_name(arg, name), 0);
}

static void identity_add_address_word(void *arg, const char *text)
{
	struct mx_addr addr;

	assert_int_equal(addr_parse(text, &addr), 0);
	identity_add_address(arg, &addr);
}

static struct identity *identity_of(const char *names, const char *addrs)
{
	struct identity *id = identity_new();

	words_each(names, identity_add_name_word, id);
	words_each(addrs, identity_add_address_word, id);
	return id;
}

/* --- the DNS world of the seeds and of the edge cases --------------------- */

static void world_load(struct fake_dns *fd)
{
	/* 000: Example 16, the air route analogy. */
	fake_dns_mx(fd, "boston.travel.edu",
		    "0 san-francisco.target.edu, 10 chicago.target.edu, 20 toronto.target.edu");
	fake_dns_a(fd, "san-francisco.target.edu", "192.0.2.10");
	fake_dns_aaaa(fd, "san-francisco.target.edu", "2001:db8::10");
	fake_dns_host(fd, "chicago.target.edu", "192.0.2.11");
	fake_dns_host(fd, "toronto.target.edu", "192.0.2.12");

	/* 000: Example 17, the OpenVMS cluster. */
	fake_dns_mx(fd, "a.cs.xyz.edu", "10 a.cs.xyz.edu, 20 b.cs.xyz.edu");
	fake_dns_mx(fd, "b.cs.xyz.edu", "10 b.cs.xyz.edu, 20 a.cs.xyz.edu");
	fake_dns_mx(fd, "c.cs.xyz.edu", "10 a.cs.xyz.edu, 10 b.cs.xyz.edu");
	fake_dns_mx(fd, "cluster.cs.xyz.edu", "10 a.cs.xyz.edu, 10 b.cs.xyz.edu");
	fake_dns_host(fd, "a.cs.xyz.edu", "192.0.2.21");
	fake_dns_host(fd, "b.cs.xyz.edu", "192.0.2.22");

	/* 000: Example 18, the firewall; channel 1 is the inside view. */
	fake_dns_mx(fd, "daisy.process.com", "10 daisy.process.com, 20 iris.process.com");
	fake_dns_host(fd, "daisy.process.com", "198.51.100.10");
	fake_dns_host(fd, "iris.process.com", "198.51.100.20");
	fake_dns_addr_cname(fd, 1, DNS_TYPE_A, "daisy.process.com", "198.51.100.110", NULL);
	fake_dns_status_on(fd, 1, DNS_TYPE_AAAA, "daisy.process.com", DNS_NODATA);

	/* 001: oreilly.com and plange.puntacana.dr. */
	fake_dns_mx(fd, "oreilly.com", "0 ora.oreilly.com, 10 ruby.oreilly.com, 10 opal.oreilly.com");
	fake_dns_host(fd, "ora.oreilly.com", "192.0.2.30");
	fake_dns_host(fd, "ruby.oreilly.com", "192.0.2.31");
	fake_dns_host(fd, "opal.oreilly.com", "192.0.2.32");
	fake_dns_mx(fd, "plange.puntacana.dr", "1 listo.puntacana.dr, 2 hep.puntacana.dr");
	fake_dns_host(fd, "listo.puntacana.dr", "192.0.2.40");
	fake_dns_host(fd, "hep.puntacana.dr", "192.0.2.41");

	/* 004: software.com with its on-site and off-site fallback MX. */
	fake_dns_mx(fd, "software.com",
		    "10 mail.software.com, 20 fallback.software.com, 90 mail.othercorp.com");
	fake_dns_host(fd, "mail.software.com", "192.0.2.82");
	fake_dns_host(fd, "fallback.software.com", "192.0.2.83");
	fake_dns_host(fd, "mail.othercorp.com", "203.0.113.90");
	fake_dns_host(fd, "relay.partner.example", "203.0.113.99");

	/* RFC 7505, RFC 5321 5.1 and the DNS failure modes. */
	fake_dns_mx(fd, "nullmx.example", "0 .");
	fake_dns_status(fd, DNS_TYPE_MX, "nx.example", DNS_NXDOMAIN);
	fake_dns_status(fd, DNS_TYPE_MX, "servfail.example", DNS_SERVFAIL);
	fake_dns_status(fd, DNS_TYPE_MX, "timeout.example", DNS_TIMEOUT);
	fake_dns_status(fd, DNS_TYPE_MX, "refused.example", DNS_REFUSED);
	fake_dns_status(fd, DNS_TYPE_MX, "badanswer.example", DNS_BADANSWER);
	fake_dns_status(fd, DNS_TYPE_MX, "implicit.example", DNS_NODATA);
	fake_dns_a(fd, "implicit.example", "192.0.2.50");
	fake_dns_aaaa(fd, "implicit.example", "2001:db8::50");
	fake_dns_status(fd, DNS_TYPE_MX, "bare.example", DNS_NODATA);
	fake_dns_status(fd, DNS_TYPE_A, "bare.example", DNS_NODATA);
	fake_dns_status(fd, DNS_TYPE_AAAA, "bare.example", DNS_NODATA);

	/* CNAMEs as exchangers. */
	fake_dns_mx(fd, "cname.example", "10 alias.cname.example");
	fake_dns_addr_cname(fd, 0, DNS_TYPE_A, "alias.cname.example", "192.0.2.60",
			    "real.cname.example");
	fake_dns_status(fd, DNS_TYPE_AAAA, "alias.cname.example", DNS_NODATA);
	fake_dns_mx(fd, "pending.example", "10 alias.pending.example");
	fake_dns_cname_pending(fd, 0, DNS_TYPE_A, "alias.pending.example", "real.pending.example");
	fake_dns_cname_pending(fd, 0, DNS_TYPE_AAAA, "alias.pending.example",
			       "real.pending.example");
	fake_dns_host(fd, "real.pending.example", "192.0.2.61");
	fake_dns_mx(fd, "loop.example", "10 one.loop.example");
	fake_dns_cname_pending(fd, 0, DNS_TYPE_A, "one.loop.example", "two.loop.example");
	fake_dns_cname_pending(fd, 0, DNS_TYPE_A, "two.loop.example", "one.loop.example");
	fake_dns_status(fd, DNS_TYPE_AAAA, "one.loop.example", DNS_NODATA);

	fake_dns_cname_pending(fd, 0, DNS_TYPE_MX, "mxalias.example", "oreilly.com");

	/* Targets to skip. */
	fake_dns_mx(fd, "iptarget.example", "10 192.0.2.70, 20 good.iptarget.example");
	fake_dns_host(fd, "good.iptarget.example", "192.0.2.71");
	fake_dns_mx(fd, "dot.example", "0 ., 10 good.dot.example");
	fake_dns_host(fd, "good.dot.example", "192.0.2.72");
	fake_dns_mx(fd, "dup.example", "20 a.dup.example, 10 a.dup.example, 30 b.dup.example");
	fake_dns_host(fd, "a.dup.example", "192.0.2.74");
	fake_dns_host(fd, "b.dup.example", "192.0.2.75");
	fake_dns_mx(fd, "noaddr.example", "10 none.noaddr.example");
	fake_dns_status(fd, DNS_TYPE_A, "none.noaddr.example", DNS_NODATA);
	fake_dns_status(fd, DNS_TYPE_AAAA, "none.noaddr.example", DNS_NODATA);
	fake_dns_mx(fd, "tempaddr.example", "10 none.noaddr.example, 20 down.tempaddr.example");
	fake_dns_status(fd, DNS_TYPE_A, "down.tempaddr.example", DNS_SERVFAIL);
	fake_dns_status(fd, DNS_TYPE_AAAA, "down.tempaddr.example", DNS_NODATA);
	fake_dns_mx(fd, "partial.example", "10 down.tempaddr.example, 20 up.partial.example");
	/* This host (bk.backup.example) backs these up; the better exchanger
	 * has no address, or does not exist. */
	fake_dns_mx(fd, "backup.example", "10 none.noaddr.example, 20 bk.backup.example");
	fake_dns_mx(fd, "backupnx.example", "10 gone.backupnx.example, 20 bk.backup.example");
	fake_dns_status(fd, DNS_TYPE_A, "gone.backupnx.example", DNS_NXDOMAIN);
	fake_dns_status(fd, DNS_TYPE_AAAA, "gone.backupnx.example", DNS_NXDOMAIN);
	fake_dns_host(fd, "bk.backup.example", "192.0.2.120");

	/* An internationalized domain, bücher.example, by its A-label form. */
	fake_dns_mx(fd, "xn--bcher-kva.example", "10 mx.xn--bcher-kva.example");
	fake_dns_host(fd, "mx.xn--bcher-kva.example", "192.0.2.121");
	fake_dns_host(fd, "up.partial.example", "192.0.2.73");

	/* Self by address only: me.alias.example is 192.0.2.200. */
	fake_dns_mx(fd, "selfaddr.example", "10 other.selfaddr.example, 20 me.alias.example");
	fake_dns_mx(fd, "selfbest.example", "10 me.alias.example, 20 other.selfaddr.example");
	fake_dns_host(fd, "other.selfaddr.example", "192.0.2.80");
	fake_dns_host(fd, "me.alias.example", "192.0.2.200");
	/* Self behind an IPv4-mapped AAAA, and a mapped "this network" (issue 12). */
	fake_dns_mx(fd, "mapped.example", "10 other.selfaddr.example, 20 me.mapped.example, "
					  "30 zero.mapped.example");
	fake_dns_status(fd, DNS_TYPE_A, "me.mapped.example", DNS_NODATA);
	fake_dns_aaaa(fd, "me.mapped.example", "::ffff:192.0.2.200");
	fake_dns_status(fd, DNS_TYPE_A, "zero.mapped.example", DNS_NODATA);
	fake_dns_aaaa(fd, "zero.mapped.example", "::ffff:0.0.0.0");

	/* Caps, ignore_targets, address families. */
	fake_dns_mx(fd, "limit.example", "10 h1.limit.example, 20 h2.limit.example, "
					  "30 h3.limit.example, 40 h4.limit.example, "
					  "50 h5.limit.example");
	fake_dns_host(fd, "h1.limit.example", "192.0.2.101");
	fake_dns_host(fd, "h2.limit.example", "192.0.2.102");
	fake_dns_host(fd, "h3.limit.example", "192.0.2.103");
	fake_dns_host(fd, "h4.limit.example", "192.0.2.104");
	fake_dns_host(fd, "h5.limit.example", "192.0.2.105");
	fake_dns_mx(fd, "ignore.example",
		    "10 lo.ignore.example, 20 mixed.ignore.example, 30 good.ignore.example");
	fake_dns_a(fd, "lo.ignore.example", "127.0.0.1");
	fake_dns_aaaa(fd, "lo.ignore.example", "::1");
	fake_dns_host(fd, "mixed.ignore.example", "127.0.0.2 192.0.2.91");
	fake_dns_host(fd, "good.ignore.example", "192.0.2.92");
	fake_dns_mx(fd, "dual.example", "10 host.dual.example");
	fake_dns_a(fd, "host.dual.example", "192.0.2.95 192.0.2.96");
	fake_dns_aaaa(fd, "host.dual.example", "2001:db8::95");
	fake_dns_mx(fd, "v6only.example", "10 host.v6only.example");
	fake_dns_status(fd, DNS_TYPE_A, "host.v6only.example", DNS_NODATA);
	fake_dns_aaaa(fd, "host.v6only.example", "2001:db8::97");

	/* Randomization. */
	fake_dns_mx(fd, "equal.example", "10 x.equal.example, 10 y.equal.example, 10 z.equal.example");
	fake_dns_host(fd, "x.equal.example", "192.0.2.111");
	fake_dns_host(fd, "y.equal.example", "192.0.2.112");
	fake_dns_host(fd, "z.equal.example", "192.0.2.113");
	fake_dns_mx(fd, "groups.example", "20 last.groups.example, 10 b.groups.example, "
					   "0 first.groups.example, 10 a.groups.example, "
					   "10 c.groups.example");
	fake_dns_host(fd, "first.groups.example", "192.0.2.120");
	fake_dns_host(fd, "a.groups.example", "192.0.2.121");
	fake_dns_host(fd, "b.groups.example", "192.0.2.122");
	fake_dns_host(fd, "c.groups.example", "192.0.2.123");
	fake_dns_host(fd, "last.groups.example", "192.0.2.124");
}

/* --- the fixture ---------------------------------------------------------- */

static struct env *env_new(void)
{
	struct env *e = xcalloc(1, sizeof(*e));

	fake_dns_init(&e->dns, false);
	world_load(&e->dns);
	fake_random_seed(&e->random, 20240601);
	e->policy = policy_new_test();
	e->self = identity_of(OUTSIDE_NAME, OUTSIDE_ADDR);
	return e;
}

static void env_free(struct env **e)
{
	fake_dns_clear(&(*e)->dns);
	policy_free(&(*e)->policy);
	identity_free(&(*e)->self);
	free(*e);
	*e = NULL;
}

static int env_setup(void **state)
{
	*state = env_new();
	return 0;
}

/* For table rows: the row arrives as the initial state. */
static int row_setup(void **state)
{
	const struct route_case *row = *state;
	struct env *e = env_new();

	e->row = row;
	if (row->self != NULL) {
		identity_free(&e->self);
		e->self = identity_of(row->self, row->self_addrs);
	}
	e->self_extra = row->self_extra;
	words_each(row->local_hosts, policy_add_local_host, e->policy);
	words_each(row->fallback, policy_add_fallback, e->policy);
	if (row->cluster != NULL)
		policy_add_cluster(e->policy, row->cluster);
	if (row->route != NULL)
		policy_add_route(e->policy, row->route);
	policy_apply_config(e->policy, row->config);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	env_free(&e);
	return 0;
}

static enum route_status env_try(struct env *e, const char *rcpt)
{
	struct route_input in = {
		.recipient = rcpt,
		.policy = e->policy,
		.self = e->self,
		.self_extra = e->self_extra,
		.lookup = fake_dns_lookup,
		.lookup_ctx = &e->dns,
		.random = fake_random_next,
		.random_ctx = &e->random,
		.keep_dns_order = e->keep_dns_order,
	};

	e->dns.n_misses = 0;
	return route_decide(&in, &e->route);
}

static const struct route *env_decide(struct env *e, const char *rcpt)
{
	if (env_try(e, rcpt) != ROUTE_DONE) {
		for (size_t i = 0; i < e->dns.n_misses; i++)
			print_error("no answer for %u %s %s\n", e->dns.misses[i].channel,
				    dns_type_name(e->dns.misses[i].type), e->dns.misses[i].name);
		fail_msg("%s: route_decide is still pending", rcpt);
	}
	return &e->route;
}

/* --- canonical texts of a route ------------------------------------------ */

static int compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts words[from, to) and appends them to buf, blank separated. */
static void words_append_sorted(char *buf, size_t len, char words[][MX_NAME_BUF + 32],
				size_t from, size_t to)
{
	const char *sorted[ROUTE_HOPS_MAX + ROUTE_PRUNED_MAX];

	if (to <= from)
		return;
	for (size_t i = from; i < to; i++)
		sorted[i - from] = words[i];
	qsort(sorted, to - from, sizeof(sorted[0]), compare_words);
	for (size_t i = 0; i < to - from; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "", sorted[i]);
	}
}

/* "host/pref ...", hosts of one preference sorted: the shuffle is
 * tested on its own. Fallback relays read "host/-". */
static const char *hops_text(const struct route *r, char *buf, size_t len)
{
	static char words[ROUTE_HOPS_MAX][MX_NAME_BUF + 32];
	size_t start = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_hops; i++) {
		const struct hop *h = &r->hops[i];

		if (h->pref == HOP_PREF_NONE)
			snprintf(words[i], sizeof(words[i]), "%s/-", h->host);
		else
			snprintf(words[i], sizeof(words[i]), "%s/%u", h->host, h->pref);
		/* fallback relays keep their configured order: a group each */
		if (i > 0 && (h->pref != r->hops[i - 1].pref || h->pref == HOP_PREF_NONE)) {
			words_append_sorted(buf, len, words, start, i);
			start = i;
		}
	}
	words_append_sorted(buf, len, words, start, r->n_hops);
	return buf;
}

static const char *pruned_text(const struct route *r, char *buf, size_t len)
{
	static char words[ROUTE_PRUNED_MAX][MX_NAME_BUF + 32];

	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_pruned; i++) {
		const struct pruned *p = &r->pruned[i];

		if (p->pref == HOP_PREF_NONE)
			snprintf(words[i], sizeof(words[i]), "%s/-:%s", p->host,
				 prune_reason_name(p->reason));
		else
			snprintf(words[i], sizeof(words[i]), "%s/%u:%s", p->host, p->pref,
				 prune_reason_name(p->reason));
	}
	words_append_sorted(buf, len, words, 0, r->n_pruned);
	return buf;
}

static const char *addrs_text(const struct route *r, char *buf, size_t len)
{
	char one[MX_ADDR_TEXT_MAX];

	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_addrs; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "",
			 addr_format(&r->addrs[i], one, sizeof(one)));
	}
	return buf;
}

static void check_text(const char *row, const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s: %s are \"%s\", want \"%s\"", row, what, got, want);
}

/* Every hop's addresses lie inside the route's list, in order, without gaps. */
static void check_hop_addresses(const struct route *r)
{
	unsigned next = 0;

	for (unsigned i = 0; i < r->n_hops; i++) {
		assert_int_equal(r->hops[i].addr_first, next);
		assert_true(r->hops[i].addr_count > 0);
		next += r->hops[i].addr_count;
	}
	assert_int_equal(next, r->n_addrs);
}

static void test_route_case(void **state)
{
	struct env *e = *state;
	const struct route_case *c = e->row;
	const struct route *r = env_decide(e, c->rcpt);
	char buf[TEXT_MAX], reply[64];

	if (r->action != c->action || r->rule != c->rule)
		fail_msg("%s: %s by rule %s (%d %s %s), want %s by rule %s", c->name,
			 route_action_name(r->action), route_rule_name(r->rule), r->reply.code,
			 r->reply.status, r->reply.text, route_action_name(c->action),
			 route_rule_name(c->rule));
	check_text(c->name, "hops", hops_text(r, buf, sizeof(buf)), c->hops != NULL ? c->hops : "");
	check_text(c->name, "pruned", pruned_text(r, buf, sizeof(buf)),
		   c->pruned != NULL ? c->pruned : "");
	snprintf(reply, sizeof(reply), "%d %s", r->reply.code, r->reply.status);
	check_text(c->name, "reply", reply, c->reply != NULL ? c->reply : "0 ");
	if (c->text != NULL && strstr(r->reply.text, c->text) == NULL)
		fail_msg("%s: reply text \"%s\" lacks \"%s\"", c->name, r->reply.text, c->text);
	if (c->addrs != NULL)
		check_text(c->name, "addresses", addrs_text(r, buf, sizeof(buf)), c->addrs);
	if (c->matched != NULL)
		check_text(c->name, "matched", r->matched, c->matched);
	if (r->self_listed != c->self_listed)
		fail_msg("%s: self_listed is %d", c->name, r->self_listed);
	check_hop_addresses(r);
}

/* --- the table ------------------------------------------------------------ */

#define A_NAMES "a.cs.xyz.edu"
#define A_ADDRS "192.0.2.21"
#define B_NAMES "b.cs.xyz.edu"
#define B_ADDRS "192.0.2.22"
#define A_LOCALS "b.cs.xyz.edu c.cs.xyz.edu cluster.cs.xyz.edu"
#define B_LOCALS "a.cs.xyz.edu c.cs.xyz.edu cluster.cs.xyz.edu"
#define CLUSTER_EQUAL "cluster.cs.xyz.edu = a.cs.xyz.edu 10, b.cs.xyz.edu 10"
#define CLUSTER_BACKUP "cluster.cs.xyz.edu = a.cs.xyz.edu 10, b.cs.xyz.edu 20"
#define SW_MX "mail.software.com/10 fallback.software.com/20 mail.othercorp.com/90"

static const struct route_case route_cases[] = {
	/* 000, Example 16: boston.travel.edu MX 0 san-francisco, 10 chicago, 20 toronto */
	{ .name = "example16_outside_tries_san_francisco_chicago_toronto",
	  .rcpt = "traveller@boston.travel.edu", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "san-francisco.target.edu/0 chicago.target.edu/10 toronto.target.edu/20",
	  .addrs = "192.0.2.10 2001:db8::10 192.0.2.11 192.0.2.12" },
	{ .name = "example16_chicago_relays_to_san_francisco_only",
	  .self = "chicago.target.edu", .self_addrs = "192.0.2.11",
	  .rcpt = "traveller@boston.travel.edu", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "san-francisco.target.edu/0",
	  .pruned = "chicago.target.edu/10:self toronto.target.edu/20:worse_than_self",
	  .self_listed = true },
	{ .name = "example16_toronto_relays_to_san_francisco_then_chicago",
	  .self = "toronto.target.edu", .self_addrs = "192.0.2.12",
	  .rcpt = "traveller@boston.travel.edu", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "san-francisco.target.edu/0 chicago.target.edu/10",
	  .pruned = "toronto.target.edu/20:self", .self_listed = true },
	{ .name = "example16_san_francisco_is_best_so_mail_loops",
	  .self = "san-francisco.target.edu", .self_addrs = "192.0.2.10",
	  .rcpt = "traveller@boston.travel.edu", .action = ROUTE_REJECT, .rule = RULE_MX,
	  .pruned = "chicago.target.edu/10:worse_than_self san-francisco.target.edu/0:self "
		    "toronto.target.edu/20:worse_than_self",
	  .reply = "554 5.4.6", .text = "mail for boston.travel.edu loops back to myself",
	  .self_listed = true },
	{ .name = "example16_chicago_known_only_by_mta_j_macro",
	  .self_extra = "Chicago.Target.EDU.", .rcpt = "traveller@boston.travel.edu",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "san-francisco.target.edu/0",
	  .pruned = "chicago.target.edu/10:self toronto.target.edu/20:worse_than_self",
	  .self_listed = true },

	/* 000, Example 17 seen from A: local hosts B, C, CLUSTER */
	{ .name = "example17_a_takes_its_own_name", .self = A_NAMES, .self_addrs = A_ADDRS,
	  .local_hosts = A_LOCALS, .rcpt = "u@a.cs.xyz.edu", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "a.cs.xyz.edu" },
	{ .name = "example17_a_takes_b_as_local_host", .self = A_NAMES, .self_addrs = A_ADDRS,
	  .local_hosts = A_LOCALS, .rcpt = "u@B.CS.XYZ.EDU", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "b.cs.xyz.edu" },
	{ .name = "example17_a_takes_c_as_local_host", .self = A_NAMES, .self_addrs = A_ADDRS,
	  .local_hosts = A_LOCALS, .rcpt = "u@c.cs.xyz.edu", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "c.cs.xyz.edu" },
	{ .name = "example17_a_takes_cluster_as_local_host", .self = A_NAMES,
	  .self_addrs = A_ADDRS, .local_hosts = A_LOCALS, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_LOCAL, .rule = RULE_LOCAL_HOSTS, .matched = "cluster.cs.xyz.edu" },
	/* ... seen from B: local hosts A, C, CLUSTER */
	{ .name = "example17_b_takes_a_as_local_host", .self = B_NAMES, .self_addrs = B_ADDRS,
	  .local_hosts = B_LOCALS, .rcpt = "u@a.cs.xyz.edu", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "a.cs.xyz.edu" },
	{ .name = "example17_b_takes_its_own_name", .self = B_NAMES, .self_addrs = B_ADDRS,
	  .local_hosts = B_LOCALS, .rcpt = "u@b.cs.xyz.edu", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "b.cs.xyz.edu" },
	{ .name = "example17_b_takes_c_as_local_host", .self = B_NAMES, .self_addrs = B_ADDRS,
	  .local_hosts = B_LOCALS, .rcpt = "u@c.cs.xyz.edu", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "c.cs.xyz.edu" },
	{ .name = "example17_b_takes_cluster_as_local_host", .self = B_NAMES,
	  .self_addrs = B_ADDRS, .local_hosts = B_LOCALS, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_LOCAL, .rule = RULE_LOCAL_HOSTS, .matched = "cluster.cs.xyz.edu" },
	/* ... seen from outside: the MX records */
	{ .name = "example17_outside_sends_a_to_a_then_b", .rcpt = "u@a.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "a.cs.xyz.edu/10 b.cs.xyz.edu/20",
	  .addrs = "192.0.2.21 192.0.2.22" },
	{ .name = "example17_outside_sends_b_to_b_then_a", .rcpt = "u@b.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "b.cs.xyz.edu/10 a.cs.xyz.edu/20",
	  .addrs = "192.0.2.22 192.0.2.21" },
	{ .name = "example17_outside_sends_c_to_a_and_b", .rcpt = "u@c.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "a.cs.xyz.edu/10 b.cs.xyz.edu/10" },
	{ .name = "example17_outside_sends_cluster_to_a_and_b", .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "a.cs.xyz.edu/10 b.cs.xyz.edu/10" },
	/* ... A without its local-host set: what the set is for */
	{ .name = "example17_a_without_local_hosts_relays_b_to_b", .self = A_NAMES,
	  .self_addrs = A_ADDRS, .rcpt = "u@b.cs.xyz.edu", .action = ROUTE_RELAY,
	  .rule = RULE_MX, .hops = "b.cs.xyz.edu/10", .pruned = "a.cs.xyz.edu/20:self",
	  .self_listed = true },
	{ .name = "example17_a_without_local_hosts_loops_on_c", .self = A_NAMES,
	  .self_addrs = A_ADDRS, .rcpt = "u@c.cs.xyz.edu", .action = ROUTE_REJECT,
	  .rule = RULE_MX, .pruned = "a.cs.xyz.edu/10:self b.cs.xyz.edu/10:worse_than_self",
	  .reply = "554 5.4.6", .self_listed = true },
	/* ... CLUSTER as a cluster alias: members A 10, B 10 */
	{ .name = "example17_cluster_alias_is_local_on_a", .self = A_NAMES,
	  .self_addrs = A_ADDRS, .cluster = CLUSTER_EQUAL, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_LOCAL, .rule = RULE_CLUSTER, .matched = "cluster.cs.xyz.edu",
	  .pruned = "a.cs.xyz.edu/10:self b.cs.xyz.edu/10:worse_than_self",
	  .self_listed = true },
	{ .name = "example17_cluster_alias_is_local_on_b", .self = B_NAMES,
	  .self_addrs = B_ADDRS, .cluster = CLUSTER_EQUAL, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_LOCAL, .rule = RULE_CLUSTER, .matched = "cluster.cs.xyz.edu",
	  .pruned = "a.cs.xyz.edu/10:worse_than_self b.cs.xyz.edu/10:self",
	  .self_listed = true },
	{ .name = "example17_cluster_alias_outside_relays_to_both_members",
	  .cluster = CLUSTER_EQUAL, .rcpt = "u@cluster.cs.xyz.edu", .action = ROUTE_RELAY,
	  .rule = RULE_CLUSTER, .matched = "cluster.cs.xyz.edu",
	  .hops = "a.cs.xyz.edu/10 b.cs.xyz.edu/10" },
	/* ... members A 10, B 20: B is a backup and relays to A */
	{ .name = "example17_cluster_backup_b_relays_to_a", .self = B_NAMES,
	  .self_addrs = B_ADDRS, .cluster = CLUSTER_BACKUP, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_CLUSTER, .matched = "cluster.cs.xyz.edu",
	  .hops = "a.cs.xyz.edu/10", .pruned = "b.cs.xyz.edu/20:self", .addrs = "192.0.2.21",
	  .self_listed = true },
	{ .name = "example17_cluster_backup_a_is_best_and_local", .self = A_NAMES,
	  .self_addrs = A_ADDRS, .cluster = CLUSTER_BACKUP, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_LOCAL, .rule = RULE_CLUSTER,
	  .pruned = "a.cs.xyz.edu/10:self b.cs.xyz.edu/20:worse_than_self",
	  .self_listed = true },
	{ .name = "example17_cluster_member_known_by_address_only", .self = "vms-a.internal",
	  .self_addrs = B_ADDRS, .cluster = CLUSTER_BACKUP, .rcpt = "u@cluster.cs.xyz.edu",
	  .action = ROUTE_RELAY, .rule = RULE_CLUSTER, .hops = "a.cs.xyz.edu/10",
	  .pruned = "b.cs.xyz.edu/20:self", .self_listed = true },

	/* 000, Example 18: daisy MX 10 daisy, 20 iris (the firewall) */
	{ .name = "example18_iris_relays_daisy_to_daisy_only", .self = "iris.process.com",
	  .self_addrs = "198.51.100.20", .rcpt = "u@daisy.process.com", .action = ROUTE_RELAY,
	  .rule = RULE_MX, .hops = "daisy.process.com/10", .pruned = "iris.process.com/20:self",
	  .addrs = "198.51.100.10", .self_listed = true },
	{ .name = "example18_internet_tries_daisy_then_iris", .rcpt = "u@daisy.process.com",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "daisy.process.com/10 iris.process.com/20" },
	{ .name = "example18_iris_static_route_sends_process_com_inside",
	  .self = "iris.process.com", .self_addrs = "198.51.100.20",
	  .route = ".process.com = daisy.process.com 10 @1", .rcpt = "u@daisy.process.com",
	  .action = ROUTE_RELAY, .rule = RULE_ROUTE, .matched = ".process.com",
	  .hops = "daisy.process.com/10", .addrs = "198.51.100.110" },
	{ .name = "example18_daisy_is_best_on_its_static_route", .self = "daisy.process.com",
	  .route = ".process.com = daisy.process.com 10 @1", .rcpt = "u@tulip.process.com",
	  .action = ROUTE_LOCAL, .rule = RULE_ROUTE, .matched = ".process.com",
	  .pruned = "daisy.process.com/10:self", .self_listed = true },
	{ .name = "static_route_literal_host_needs_no_dns",
	  .route = "literal.example = [192.0.2.77] 10, [IPv6:2001:db8::77] 20",
	  .rcpt = "u@literal.example", .action = ROUTE_RELAY, .rule = RULE_ROUTE,
	  .hops = "[192.0.2.77]/10 [IPv6:2001:db8::77]/20", .addrs = "192.0.2.77 2001:db8::77" },
	{ .name = "static_route_literal_host_of_self_is_local", .self_addrs = "192.0.2.77",
	  .self = OUTSIDE_NAME, .route = "literal.example = [192.0.2.77] 10",
	  .rcpt = "u@literal.example", .action = ROUTE_LOCAL, .rule = RULE_ROUTE,
	  .pruned = "[192.0.2.77]/10:self", .self_listed = true },

	/* 001: oreilly.com MX 0 ora, 10 ruby, 10 opal; plange MX 1 listo, 2 hep */
	{ .name = "oreilly_tries_ora_then_ruby_and_opal", .rcpt = "u@oreilly.com",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "ora.oreilly.com/0 opal.oreilly.com/10 ruby.oreilly.com/10" },
	{ .name = "oreilly_ora_is_best_so_mail_loops", .self = "ora.oreilly.com",
	  .rcpt = "u@oreilly.com", .action = ROUTE_REJECT, .rule = RULE_MX,
	  .pruned = "opal.oreilly.com/10:worse_than_self ora.oreilly.com/0:self "
		    "ruby.oreilly.com/10:worse_than_self",
	  .reply = "554 5.4.6", .self_listed = true },
	{ .name = "oreilly_ruby_relays_to_ora_not_to_equal_opal", .self = "ruby.oreilly.com",
	  .rcpt = "u@oreilly.com", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "ora.oreilly.com/0",
	  .pruned = "opal.oreilly.com/10:worse_than_self ruby.oreilly.com/10:self",
	  .self_listed = true },
	{ .name = "plange_tries_listo_then_hep", .rcpt = "u@plange.puntacana.dr",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "listo.puntacana.dr/1 hep.puntacana.dr/2", .addrs = "192.0.2.40 192.0.2.41" },
	{ .name = "plange_hep_relays_to_listo", .self = "hep.puntacana.dr",
	  .rcpt = "u@plange.puntacana.dr", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "listo.puntacana.dr/1", .pruned = "hep.puntacana.dr/2:self",
	  .self_listed = true },

	/* 004: software.com MX 10 mail, 20 fallback, 90 mail.othercorp.com */
	{ .name = "software_com_at_mail_as_local_host_is_local", .self = "mail.software.com",
	  .local_hosts = "software.com", .rcpt = "u@software.com", .action = ROUTE_LOCAL,
	  .rule = RULE_LOCAL_HOSTS, .matched = "software.com" },
	{ .name = "software_com_at_mail_without_local_host_loops", .self = "mail.software.com",
	  .fallback = "relay.partner.example", .rcpt = "u@software.com",
	  .action = ROUTE_REJECT, .rule = RULE_MX,
	  .pruned = "fallback.software.com/20:worse_than_self mail.othercorp.com/90:"
		    "worse_than_self mail.software.com/10:self",
	  .reply = "554 5.4.6", .text = "mail for software.com loops back to myself",
	  .self_listed = true },
	{ .name = "software_com_at_mail_self_best_tempfails_if_configured",
	  .self = "mail.software.com", .config = CFG_SELF_BEST_TEMPFAIL, .rcpt = "u@software.com",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX,
	  .pruned = "fallback.software.com/20:worse_than_self mail.othercorp.com/90:"
		    "worse_than_self mail.software.com/10:self",
	  .reply = "451 4.4.3", .text = "loops back to myself", .self_listed = true },
	{ .name = "software_com_at_fallback_relays_to_mail_only",
	  .self = "fallback.software.com", .fallback = "relay.partner.example",
	  .rcpt = "u@software.com", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "mail.software.com/10",
	  .pruned = "fallback.software.com/20:self mail.othercorp.com/90:worse_than_self",
	  .self_listed = true },
	{ .name = "software_com_at_othercorp_relays_to_mail_then_fallback",
	  .self = "mail.othercorp.com", .fallback = "relay.partner.example",
	  .rcpt = "u@software.com", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "mail.software.com/10 fallback.software.com/20",
	  .pruned = "mail.othercorp.com/90:self", .self_listed = true },
	{ .name = "software_com_from_outside_appends_fallback_relays_last",
	  .fallback = "relay.partner.example [198.51.100.99]", .rcpt = "u@software.com",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = SW_MX " relay.partner.example/- [198.51.100.99]/-",
	  .addrs = "192.0.2.82 192.0.2.83 203.0.113.90 203.0.113.99 198.51.100.99" },
	{ .name = "fallback_relay_already_an_exchanger_is_not_repeated",
	  .fallback = "mail.othercorp.com", .rcpt = "u@software.com", .action = ROUTE_RELAY,
	  .rule = RULE_MX, .hops = SW_MX },
	{ .name = "fallback_relay_that_is_self_is_dropped", .self = "relay.partner.example",
	  .fallback = "relay.partner.example", .rcpt = "u@software.com",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = SW_MX,
	  .pruned = "relay.partner.example/-:self" },

	/* RFC 7505 null MX */
	{ .name = "null_mx_is_rejected_556", .rcpt = "u@nullmx.example",
	  .action = ROUTE_REJECT, .rule = RULE_MX, .reply = "556 5.1.10",
	  .text = "Recipient address has null MX" },
	{ .name = "null_mx_tempfails_if_configured", .config = CFG_NULL_MX_TEMPFAIL,
	  .rcpt = "u@nullmx.example", .action = ROUTE_TEMPFAIL, .rule = RULE_MX,
	  .reply = "451 4.4.3", .text = "null MX" },
	{ .name = "null_mx_target_among_others_is_skipped", .rcpt = "u@dot.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "good.dot.example/10",
	  .pruned = "./0:invalid" },

	/* DNS failures */
	{ .name = "nxdomain_is_rejected_550_5_1_2", .rcpt = "u@nx.example",
	  .action = ROUTE_REJECT, .rule = RULE_MX, .reply = "550 5.1.2",
	  .text = "nx.example" },
	{ .name = "servfail_tempfails_451_4_4_3", .rcpt = "u@servfail.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3", .text = "servfail" },
	{ .name = "timeout_tempfails_451_4_4_3", .rcpt = "u@timeout.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3", .text = "timeout" },
	{ .name = "refused_tempfails_451_4_4_3", .rcpt = "u@refused.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3", .text = "refused" },
	{ .name = "bad_answer_tempfails_451_4_4_3", .rcpt = "u@badanswer.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3" },

	/* RFC 5321 5.1 implicit MX */
	{ .name = "implicit_mx_uses_the_domain_address", .rcpt = "u@implicit.example",
	  .action = ROUTE_RELAY, .rule = RULE_IMPLICIT_MX, .hops = "implicit.example/0",
	  .addrs = "192.0.2.50 2001:db8::50" },
	{ .name = "implicit_mx_without_address_is_rejected_550_5_1_2", .rcpt = "u@bare.example",
	  .action = ROUTE_REJECT, .rule = RULE_IMPLICIT_MX, .reply = "550 5.1.2",
	  .pruned = "bare.example/0:no_address" },
	{ .name = "implicit_mx_on_own_address_loops", .self = OUTSIDE_NAME,
	  .self_addrs = "192.0.2.50", .rcpt = "u@implicit.example", .action = ROUTE_REJECT,
	  .rule = RULE_IMPLICIT_MX, .reply = "554 5.4.6", .pruned = "implicit.example/0:self",
	  .self_listed = true },

	/* Exchangers that are aliases, addresses, or have no address */
	{ .name = "cname_target_is_followed", .rcpt = "u@cname.example", .action = ROUTE_RELAY,
	  .rule = RULE_MX, .hops = "alias.cname.example/10", .addrs = "192.0.2.60" },
	{ .name = "cname_pending_target_is_asked_next", .rcpt = "u@pending.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "alias.pending.example/10",
	  .addrs = "192.0.2.61" },
	{ .name = "cname_loop_leaves_the_exchanger_without_address", .rcpt = "u@loop.example",
	  .action = ROUTE_REJECT, .rule = RULE_MX, .reply = "550 5.4.4",
	  .pruned = "one.loop.example/10:no_address" },
	{ .name = "domain_that_is_an_alias_gets_the_mx_of_its_target",
	  .rcpt = "u@mxalias.example", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "ora.oreilly.com/0 opal.oreilly.com/10 ruby.oreilly.com/10" },
	{ .name = "exchanger_listed_twice_is_tried_once_at_best_pref", .rcpt = "u@dup.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "a.dup.example/10 b.dup.example/30",
	  .pruned = "a.dup.example/20:invalid", .addrs = "192.0.2.74 192.0.2.75" },
	{ .name = "ip_address_target_is_skipped", .rcpt = "u@iptarget.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "good.iptarget.example/20",
	  .pruned = "192.0.2.70/10:invalid" },
	{ .name = "exchanger_without_address_is_rejected_550_5_4_4", .rcpt = "u@noaddr.example",
	  .action = ROUTE_REJECT, .rule = RULE_MX, .reply = "550 5.4.4",
	  .text = "no mail exchanger for noaddr.example has an address",
	  .pruned = "none.noaddr.example/10:no_address" },
	{ .name = "backup_mx_whose_primary_has_no_address_tempfails_451_4_4_4",
	  .self = "bk.backup.example", .rcpt = "u@backup.example", .action = ROUTE_TEMPFAIL,
	  .rule = RULE_MX, .reply = "451 4.4.4",
	  .text = "unable to find primary relay for backup.example",
	  .pruned = "bk.backup.example/20:self none.noaddr.example/10:no_address",
	  .self_listed = true },
	{ .name = "backup_mx_whose_primary_does_not_exist_tempfails_451_4_4_4",
	  .self = "bk.backup.example", .rcpt = "u@backupnx.example", .action = ROUTE_TEMPFAIL,
	  .rule = RULE_MX, .reply = "451 4.4.4",
	  .text = "unable to find primary relay for backupnx.example",
	  .pruned = "bk.backup.example/20:self gone.backupnx.example/10:no_address",
	  .self_listed = true },
	{ .name = "failed_address_lookup_tempfails_451_4_4_3", .rcpt = "u@tempaddr.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3",
	  .pruned = "down.tempaddr.example/20:no_address none.noaddr.example/10:no_address" },
	{ .name = "failed_address_lookup_keeps_the_other_exchangers",
	  .rcpt = "u@partial.example", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "up.partial.example/20", .pruned = "down.tempaddr.example/10:no_address" },

	/* Self by address */
	{ .name = "self_by_address_only_prunes_self_and_worse", .self = "me.example.net",
	  .self_addrs = "192.0.2.200", .fallback = "relay.partner.example",
	  .rcpt = "u@selfaddr.example", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "other.selfaddr.example/10", .pruned = "me.alias.example/20:self",
	  .self_listed = true },
	{ .name = "self_by_address_at_best_pref_loops", .self = "me.example.net",
	  .self_addrs = "192.0.2.200", .rcpt = "u@selfbest.example", .action = ROUTE_REJECT,
	  .rule = RULE_MX, .reply = "554 5.4.6",
	  .pruned = "me.alias.example/10:self other.selfaddr.example/20:worse_than_self",
	  .self_listed = true },
	{ .name = "self_by_address_at_best_pref_tempfails_if_configured",
	  .self = "me.example.net", .self_addrs = "192.0.2.200",
	  .config = CFG_SELF_BEST_TEMPFAIL, .rcpt = "u@selfbest.example",
	  .action = ROUTE_TEMPFAIL, .rule = RULE_MX, .reply = "451 4.4.3",
	  .pruned = "me.alias.example/10:self other.selfaddr.example/20:worse_than_self",
	  .self_listed = true },

	/* Caps and filters */
	{ .name = "max_hosts_prunes_the_rest_as_limit", .config = CFG_MAX_HOSTS_3,
	  .rcpt = "u@limit.example", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "h1.limit.example/10 h2.limit.example/20 h3.limit.example/30",
	  .pruned = "h4.limit.example/40:limit h5.limit.example/50:limit" },
	{ .name = "max_addresses_caps_the_whole_route", .config = CFG_MAX_ADDRS_2,
	  .rcpt = "u@boston.travel.edu", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "san-francisco.target.edu/0", .addrs = "192.0.2.10 2001:db8::10",
	  .pruned = "chicago.target.edu/10:limit toronto.target.edu/20:limit" },
	{ .name = "ignore_targets_drop_addresses_and_hosts", .config = CFG_IGNORE_LOOPBACK,
	  .rcpt = "u@ignore.example", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "mixed.ignore.example/20 good.ignore.example/30",
	  .pruned = "lo.ignore.example/10:ignored_target", .addrs = "192.0.2.91 192.0.2.92" },
	{ .name = "ignore_targets_unset_keeps_loopback", .rcpt = "u@ignore.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "lo.ignore.example/10 mixed.ignore.example/20 good.ignore.example/30",
	  .addrs = "127.0.0.1 ::1 127.0.0.2 192.0.2.91 192.0.2.92" },
	{ .name = "addresses_keep_dns_order_a_before_aaaa", .rcpt = "u@dual.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "host.dual.example/10",
	  .addrs = "192.0.2.95 192.0.2.96 2001:db8::95" },
	{ .name = "ipv6_off_uses_ipv4_only", .config = CFG_NO_IPV6, .rcpt = "u@dual.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "host.dual.example/10",
	  .addrs = "192.0.2.95 192.0.2.96" },
	{ .name = "ipv4_off_uses_ipv6_only", .config = CFG_NO_IPV4, .rcpt = "u@dual.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "host.dual.example/10",
	  .addrs = "2001:db8::95" },
	{ .name = "ipv6_only_exchanger_with_ipv6_off_has_no_address", .config = CFG_NO_IPV6,
	  .rcpt = "u@v6only.example", .action = ROUTE_REJECT, .rule = RULE_MX,
	  .reply = "550 5.4.4", .pruned = "host.v6only.example/10:no_address" },

	/* Address literals */
	{ .name = "ipv4_literal_goes_to_that_address", .fallback = "relay.partner.example",
	  .rcpt = "u@[192.0.2.1]", .action = ROUTE_RELAY, .rule = RULE_LITERAL,
	  .hops = "[192.0.2.1]/0", .addrs = "192.0.2.1" },
	{ .name = "ipv6_literal_goes_to_that_address", .rcpt = "<u@[IPv6:2001:DB8:0::1]>",
	  .action = ROUTE_RELAY, .rule = RULE_LITERAL, .hops = "[IPv6:2001:db8::1]/0",
	  .addrs = "2001:db8::1" },
	{ .name = "literal_of_own_address_is_local", .self = OUTSIDE_NAME,
	  .self_addrs = "192.0.2.200 2001:db8::200", .rcpt = "u@[IPv6:2001:db8::200]",
	  .action = ROUTE_LOCAL, .rule = RULE_LITERAL, .matched = "[IPv6:2001:db8::200]" },
	/* Literals pass the MX targets' address filters (issue 12 items 2, 3). */
	{ .name = "literal_this_network_is_ignored_by_default", .rcpt = "u@[0.0.0.0]",
	  .action = ROUTE_REJECT, .rule = RULE_LITERAL, .reply = "550 5.4.4",
	  .text = "[0.0.0.0] is not a usable destination (ignored_target)",
	  .pruned = "[0.0.0.0]/0:ignored_target" },
	{ .name = "literal_broadcast_is_ignored_by_default", .rcpt = "u@[255.255.255.255]",
	  .action = ROUTE_REJECT, .rule = RULE_LITERAL, .reply = "550 5.4.4",
	  .pruned = "[255.255.255.255]/0:ignored_target" },
	{ .name = "literal_ipv6_unspecified_is_ignored_by_default", .rcpt = "u@[IPv6:::]",
	  .action = ROUTE_REJECT, .rule = RULE_LITERAL, .reply = "550 5.4.4",
	  .pruned = "[IPv6:::]/0:ignored_target" },
	{ .name = "literal_mapped_this_network_is_ignored", .rcpt = "u@[IPv6:::ffff:0.0.0.0]",
	  .action = ROUTE_REJECT, .rule = RULE_LITERAL, .reply = "550 5.4.4",
	  .pruned = "[IPv6:::ffff:0.0.0.0]/0:ignored_target" },
	{ .name = "literal_in_ignore_targets_is_refused", .config = CFG_IGNORE_LOOPBACK,
	  .rcpt = "u@[127.0.0.2]", .action = ROUTE_REJECT, .rule = RULE_LITERAL,
	  .reply = "550 5.4.4", .pruned = "[127.0.0.2]/0:ignored_target" },
	{ .name = "ipv6_literal_in_ignore_targets_is_refused", .config = CFG_IGNORE_LOOPBACK,
	  .rcpt = "u@[IPv6:::1]", .action = ROUTE_REJECT, .rule = RULE_LITERAL,
	  .reply = "550 5.4.4", .pruned = "[IPv6:::1]/0:ignored_target" },
	{ .name = "ipv6_literal_with_ipv6_off_is_refused", .config = CFG_NO_IPV6,
	  .rcpt = "u@[IPv6:2001:db8::1]", .action = ROUTE_REJECT, .rule = RULE_LITERAL,
	  .reply = "550 5.4.4", .text = "(no_address)",
	  .pruned = "[IPv6:2001:db8::1]/0:no_address" },
	{ .name = "ipv4_literal_with_ipv4_off_is_refused", .config = CFG_NO_IPV4,
	  .rcpt = "u@[192.0.2.1]", .action = ROUTE_REJECT, .rule = RULE_LITERAL,
	  .reply = "550 5.4.4", .pruned = "[192.0.2.1]/0:no_address" },
	{ .name = "mapped_literal_of_own_address_is_local", .self = OUTSIDE_NAME,
	  .self_addrs = "192.0.2.200", .rcpt = "u@[IPv6:::ffff:192.0.2.200]",
	  .action = ROUTE_LOCAL, .rule = RULE_LITERAL,
	  .matched = "[IPv6:::ffff:192.0.2.200]" },
	{ .name = "mapped_aaaa_of_own_address_is_self", .self = "me.example.net",
	  .self_addrs = "192.0.2.200", .rcpt = "u@mapped.example", .action = ROUTE_RELAY,
	  .rule = RULE_MX, .hops = "other.selfaddr.example/10",
	  .pruned = "me.mapped.example/20:self zero.mapped.example/30:worse_than_self",
	  .self_listed = true },
	{ .name = "mapped_aaaa_of_this_network_is_ignored", .rcpt = "u@mapped.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "other.selfaddr.example/10 me.mapped.example/20",
	  .pruned = "zero.mapped.example/30:ignored_target" },

	/* Malformed recipients */
	{ .name = "empty_local_part_is_501", .rcpt = "@example.org", .action = ROUTE_REJECT,
	  .rule = RULE_SYNTAX, .reply = "501 5.1.3", .text = "empty local part" },
	{ .name = "label_of_64_octets_is_501",
	  .rcpt = "u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	  .action = ROUTE_REJECT, .rule = RULE_SYNTAX, .reply = "501 5.1.3",
	  .text = "label longer than 63 octets" },
	{ .name = "name_longer_than_253_is_501",
	  .rcpt = "u@aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		  "aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		  "aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		  "aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.example",
	  .action = ROUTE_REJECT, .rule = RULE_SYNTAX, .reply = "501 5.1.3",
	  .text = "longer than 253 octets" },
	{ .name = "bad_literal_is_501", .rcpt = "u@[192.0.2.256]", .action = ROUTE_REJECT,
	  .rule = RULE_SYNTAX, .reply = "501 5.1.3", .text = "malformed address literal" },
	{ .name = "control_character_is_501", .rcpt = "u@exa\rmple.org", .action = ROUTE_REJECT,
	  .rule = RULE_SYNTAX, .reply = "501 5.1.3", .text = "control character" },
	{ .name = "empty_domain_is_501", .rcpt = "u@", .action = ROUTE_REJECT,
	  .rule = RULE_SYNTAX, .reply = "501 5.1.3", .text = "empty domain" },
	{ .name = "utf8_domain_is_routed_by_its_a_label", .rcpt = "u@b\xc3\xbc" "cher.example",
	  .action = ROUTE_RELAY, .rule = RULE_MX, .hops = "mx.xn--bcher-kva.example/10",
	  .addrs = "192.0.2.121" },
	{ .name = "utf8_domain_in_upper_case_maps_to_the_same_a_label",
	  .rcpt = "<u@B\xc3\x9c" "CHER.Example.>", .action = ROUTE_RELAY, .rule = RULE_MX,
	  .hops = "mx.xn--bcher-kva.example/10" },
	{ .name = "latin1_domain_is_501", .rcpt = "u@b\xfc" "cher.example",
	  .action = ROUTE_REJECT, .rule = RULE_SYNTAX, .reply = "501 5.1.3",
	  .text = "domain name is not valid UTF-8" },
	{ .name = "utf8_domain_with_a_symbol_idna2008_disallows_is_501",
	  .rcpt = "u@\xe2\x98\x83.example", .action = ROUTE_REJECT, .rule = RULE_SYNTAX,
	  .reply = "501 5.1.3", .text = "not a valid internationalized name" },
	{ .name = "ipv6_literal_without_tag_is_501", .rcpt = "u@[2001:db8::1]",
	  .action = ROUTE_REJECT, .rule = RULE_SYNTAX, .reply = "501 5.1.3",
	  .text = "IPv6: tag" },
};

/* --- behaviours a table row cannot show ----------------------------------- */

/* A cold MX route: the MX, then every exchanger's A and AAAA (and the
 * fallback relays') in one pass, then the decision. */
static void test_pending_cold_mx_route_takes_two_passes_of_queries(void **state)
{
	struct env *e = *state;
	static const char *const hosts[] = { "mail.software.com", "fallback.software.com",
					     "mail.othercorp.com", "relay.partner.example" };
	char buf[TEXT_MAX];

	policy_add_fallback(e->policy, "relay.partner.example");
	fake_dns_clear(&e->dns);
	fake_dns_init(&e->dns, true);
	world_load(&e->dns);

	assert_int_equal(env_try(e, "u@software.com"), ROUTE_PENDING);
	assert_int_equal(e->dns.n_misses, 1);
	assert_true(fake_dns_missed(&e->dns, 0, DNS_TYPE_MX, "software.com"));
	assert_int_equal(fake_dns_fetch(&e->dns), 1);

	assert_int_equal(env_try(e, "u@software.com"), ROUTE_PENDING);
	assert_int_equal(e->dns.n_misses, 2 * MX_ARRAY_LEN(hosts));
	for (size_t i = 0; i < MX_ARRAY_LEN(hosts); i++) {
		assert_true(fake_dns_missed(&e->dns, 0, DNS_TYPE_A, hosts[i]));
		assert_true(fake_dns_missed(&e->dns, 0, DNS_TYPE_AAAA, hosts[i]));
	}
	assert_int_equal(fake_dns_fetch(&e->dns), 8);

	assert_int_equal(env_try(e, "u@software.com"), ROUTE_DONE);
	assert_int_equal(e->route.action, ROUTE_RELAY);
	assert_string_equal(hops_text(&e->route, buf, sizeof(buf)),
			    SW_MX " relay.partner.example/-");
}

/* A host listed at 90 needs no address of itself, of worse hosts or of
 * the fallback relays (it never appends them). */
static void test_pending_backup_mx_asks_only_for_better_hosts(void **state)
{
	struct env *e = *state;

	identity_free(&e->self);
	e->self = identity_of("mail.othercorp.com", NULL);
	policy_add_fallback(e->policy, "relay.partner.example");
	fake_dns_clear(&e->dns);
	fake_dns_init(&e->dns, true);
	world_load(&e->dns);

	assert_int_equal(fake_dns_decide(&e->dns, &(struct route_input){
		.recipient = "u@software.com", .policy = e->policy, .self = e->self,
		.lookup = fake_dns_lookup, .lookup_ctx = &e->dns,
		.random = fake_random_next, .random_ctx = &e->random }, &e->route, 5), 3);
	assert_int_equal(e->dns.lookups[DNS_TYPE_A] + e->dns.lookups[DNS_TYPE_AAAA], 8);
	assert_false(fake_dns_find(&e->dns, 0, DNS_TYPE_A, "mail.othercorp.com")->known);
	assert_false(fake_dns_find(&e->dns, 0, DNS_TYPE_A, "relay.partner.example")->known);
	assert_int_equal(e->route.n_hops, 2);
}

static void test_pending_cname_chain_costs_one_more_pass(void **state)
{
	struct env *e = *state;
	struct route_input in = { .recipient = "u@pending.example", .policy = e->policy,
				  .self = e->self, .lookup = fake_dns_lookup,
				  .lookup_ctx = &e->dns, .random = fake_random_next,
				  .random_ctx = &e->random };

	fake_dns_clear(&e->dns);
	fake_dns_init(&e->dns, true);
	world_load(&e->dns);
	assert_int_equal(fake_dns_decide(&e->dns, &in, &e->route, 5), 4);
	assert_int_equal(e->route.action, ROUTE_RELAY);
	assert_int_equal(e->route.n_addrs, 1);
}

static void test_ttl_is_the_minimum_over_answers_used(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < e->dns.n_entries; i++)
		e->dns.entries[i].ttl_left = 1000;
	fake_dns_find(&e->dns, 0, DNS_TYPE_MX, "boston.travel.edu")->ttl_left = 3000;
	fake_dns_find(&e->dns, 0, DNS_TYPE_A, "chicago.target.edu")->ttl_left = 42;
	fake_dns_find(&e->dns, 0, DNS_TYPE_AAAA, "toronto.target.edu")->ttl_left = 77;
	env_decide(e, "u@boston.travel.edu");
	assert_int_equal(e->route.ttl, 42);
	assert_int_equal(e->route.cache, CACHE_HIT);
}

static void test_stale_answer_marks_the_route_stale(void **state)
{
	struct env *e = *state;

	fake_dns_find(&e->dns, 0, DNS_TYPE_A, "toronto.target.edu")->stale = true;
	env_decide(e, "u@boston.travel.edu");
	assert_int_equal(e->route.cache, CACHE_STALE);
}

static void test_route_without_dns_has_no_ttl_and_no_cache(void **state)
{
	struct env *e = *state;

	env_decide(e, "u@[192.0.2.1]");
	assert_int_equal(e->route.ttl, 0);
	assert_int_equal(e->route.cache, CACHE_NONE);
	assert_int_equal(e->dns.lookups[DNS_TYPE_MX] + e->dns.lookups[DNS_TYPE_A], 0);
}

static void test_ipv6_off_never_asks_for_aaaa(void **state)
{
	struct env *e = *state;

	e->policy->mx.ipv6 = false;
	env_decide(e, "u@boston.travel.edu");
	assert_int_equal(e->dns.lookups[DNS_TYPE_AAAA], 0);
	assert_int_equal(e->dns.lookups[DNS_TYPE_A], 3);
}

static unsigned permutation_index(const struct route *r)
{
	/* x, y, z: the index of the order among the six, by its first two. */
	unsigned first = (unsigned)(r->hops[0].host[0] - 'x');
	unsigned second = (unsigned)(r->hops[1].host[0] - 'x');

	return first * 2 + (second > first ? second - 1 : second);
}

/* All six orders, and a chi-square statistic (5 degrees of freedom)
 * below 20.515 (p = 0.001). */
static void assert_uniform_orders(const unsigned counts[6], unsigned rounds)
{
	double chi2 = 0, expected = rounds / 6.0;

	for (size_t k = 0; k < 6; k++) {
		assert_true(counts[k] > 0);
		chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
	}
	print_message("chi-square over %u decisions: %.3f (critical 20.515)\n", rounds, chi2);
	assert_true(chi2 < 20.515);
}

static void test_shuffle_of_three_equal_hosts_is_uniform(void **state)
{
	struct env *e = *state;
	unsigned counts[6] = { 0 };
	const unsigned rounds = 6000;

	for (unsigned i = 0; i < rounds; i++) {
		const struct route *r = env_decide(e, "u@equal.example");

		assert_int_equal(r->n_hops, 3);
		counts[permutation_index(r)]++;
	}
	assert_uniform_orders(counts, rounds);
}

/* The router's way: the engine keeps DNS order and draws nothing, the
 * route is repeatable, and shuffling copies of it afterwards is uniform. */
static void test_keep_dns_order_leaves_the_shuffle_to_the_caller(void **state)
{
	struct env *e = *state;
	unsigned counts[6] = { 0 };
	const unsigned rounds = 6000;
	struct route kept;

	e->keep_dns_order = true;
	env_decide(e, "u@equal.example");
	assert_true(e->route.shuffle_pending);
	assert_true(e->route.repeatable);
	assert_int_equal(e->random.draws, 0);
	assert_int_equal(e->route.n_hops, 3);
	assert_string_equal(e->route.hops[0].host, "x.equal.example");
	assert_string_equal(e->route.hops[2].host, "z.equal.example");
	kept = e->route;
	for (unsigned i = 0; i < rounds; i++) {
		e->route = kept;
		route_order_shuffle(&e->route, fake_random_next, &e->random);
		assert_false(e->route.shuffle_pending);
		counts[permutation_index(&e->route)]++;
	}
	assert_uniform_orders(counts, rounds);
}

/* A cap makes the order decide who gets in: the engine shuffles first. */
static void test_keep_dns_order_under_a_cap_shuffles_in_the_engine(void **state)
{
	struct env *e = *state;
	unsigned seen[3] = { 0 };

	e->keep_dns_order = true;
	e->policy->mx.max_hosts = 2;
	for (unsigned i = 0; i < 300; i++) {
		const struct route *r = env_decide(e, "u@equal.example");

		assert_int_equal(r->n_hops, 2);
		assert_false(r->shuffle_pending);
		assert_false(r->repeatable);
		for (unsigned k = 0; k < r->n_hops; k++)
			seen[r->hops[k].host[0] - 'x']++;
	}
	for (size_t k = 0; k < 3; k++)
		assert_true(seen[k] > 0);	/* z too, though DNS lists it last */
}

/* Preference groups never mix: 0 first, 20 last, the 10s shuffled. */
static void test_shuffle_never_crosses_preference_groups(void **state)
{
	struct env *e = *state;
	unsigned seen_second[3] = { 0 };

	for (unsigned i = 0; i < 600; i++) {
		const struct route *r = env_decide(e, "u@groups.example");

		assert_int_equal(r->n_hops, 5);
		assert_string_equal(r->hops[0].host, "first.groups.example");
		assert_string_equal(r->hops[4].host, "last.groups.example");
		for (unsigned k = 1; k < 4; k++)
			assert_int_equal(r->hops[k].pref, 10);
		seen_second[r->hops[1].host[0] - 'a']++;
	}
	for (size_t k = 0; k < 3; k++)
		assert_true(seen_second[k] > 0);
}

static void test_randomize_off_keeps_dns_order(void **state)
{
	struct env *e = *state;

	e->policy->mx.randomize = false;
	for (unsigned i = 0; i < 50; i++) {
		const struct route *r = env_decide(e, "u@groups.example");

		assert_string_equal(r->hops[1].host, "b.groups.example");
		assert_string_equal(r->hops[2].host, "a.groups.example");
		assert_string_equal(r->hops[3].host, "c.groups.example");
	}
	assert_int_equal(e->random.draws, 0);
}

/* 001: "MX 1 listo, 2 hep" does exactly the same thing as "50, 100". */
static void test_plange_prefs_1_2_route_like_50_100(void **state)
{
	struct env *e = *state;
	char first[TEXT_MAX], second[TEXT_MAX];

	identity_free(&e->self);
	e->self = identity_of("hep.puntacana.dr", NULL);
	env_decide(e, "u@plange.puntacana.dr");
	assert_int_equal(e->route.n_hops, 1);
	addrs_text(&e->route, first, sizeof(first));
	fake_dns_mx(&e->dns, "plange.puntacana.dr", "50 listo.puntacana.dr, 100 hep.puntacana.dr");
	env_decide(e, "u@plange.puntacana.dr");
	assert_int_equal(e->route.n_hops, 1);
	assert_string_equal(e->route.hops[0].host, "listo.puntacana.dr");
	assert_int_equal(e->route.n_pruned, 1);
	assert_string_equal(e->route.pruned[0].host, "hep.puntacana.dr");
	assert_string_equal(addrs_text(&e->route, second, sizeof(second)), first);
}

static void test_hops_carry_the_via_of_their_rule(void **state)
{
	struct env *e = *state;

	policy_add_cluster(e->policy, CLUSTER_EQUAL);
	policy_add_route(e->policy, ".process.com = daisy.process.com 10 @1");
	policy_add_fallback(e->policy, "relay.partner.example");
	env_decide(e, "u@cluster.cs.xyz.edu");
	assert_int_equal(e->route.hops[0].via, VIA_CLUSTER);
	assert_int_equal(e->route.hops[2].via, VIA_FALLBACK);
	assert_int_equal(e->route.hops[2].pref, HOP_PREF_NONE);
	env_decide(e, "u@daisy.process.com");
	assert_int_equal(e->route.hops[0].via, VIA_ROUTE);
	env_decide(e, "u@implicit.example");
	assert_int_equal(e->route.hops[0].via, VIA_IMPLICIT_MX);
	env_decide(e, "u@boston.travel.edu");
	assert_int_equal(e->route.hops[0].via, VIA_MX);
	env_decide(e, "u@[192.0.2.1]");
	assert_int_equal(e->route.hops[0].via, VIA_LITERAL);
	assert_int_equal(e->route.n_hops, 1);
}

static void test_names_of_enums(void **state)
{
	(void)state;
	assert_string_equal(route_action_name(ROUTE_TEMPFAIL), "tempfail");
	assert_string_equal(route_rule_name(RULE_IMPLICIT_MX), "implicit_mx");
	assert_string_equal(route_rule_name(RULE_LOCAL_HOSTS), "local_hosts");
	assert_string_equal(hop_via_name(VIA_FALLBACK), "fallback");
	assert_string_equal(prune_reason_name(PRUNE_WORSE_THAN_SELF), "worse_than_self");
	assert_string_equal(prune_reason_name(PRUNE_IGNORED_TARGET), "ignored_target");
	assert_string_equal(cache_state_name(CACHE_STALE), "stale");
	assert_string_equal(dns_type_name(DNS_TYPE_AAAA), "AAAA");
	assert_string_equal(dns_status_name(DNS_NXDOMAIN), "nxdomain");
	assert_true(dns_status_is_temporary(DNS_TIMEOUT));
	assert_true(dns_status_is_temporary(DNS_BADANSWER));
	assert_false(dns_status_is_temporary(DNS_NXDOMAIN));
	assert_false(dns_status_is_temporary(DNS_NODATA));
}

/* --- policy.c ------------------------------------------------------------- */

static void test_policy_exact_route_beats_longest_suffix(void **state)
{
	struct env *e = *state;
	const struct policy_route *r;

	policy_add_route(e->policy, ".com = h1.example 10");
	policy_add_route(e->policy, ".process.com = h2.example 10");
	policy_add_route(e->policy, "daisy.process.com = h3.example 10");
	policy_add_route(e->policy, ".example.com = h4.example 10");
	r = policy_find_route(e->policy, "daisy.process.com");
	assert_non_null(r);
	assert_string_equal(r->pattern, "daisy.process.com");
	r = policy_find_route(e->policy, "tulip.process.com");
	assert_string_equal(r->pattern, ".process.com");
	r = policy_find_route(e->policy, "a.b.process.com");
	assert_string_equal(r->pattern, ".process.com");
	r = policy_find_route(e->policy, "process.com");
	assert_string_equal(r->pattern, ".com");
	assert_null(policy_find_route(e->policy, "process.org"));
	assert_null(policy_find_route(e->policy, "com"));
	/* a suffix matches whole labels only */
	assert_string_equal(policy_find_route(e->policy, "xprocess.com")->pattern, ".com");
}

static void test_policy_local_hosts_and_clusters_are_named(void **state)
{
	struct env *e = *state;

	policy_add_local_host(e->policy, "b.cs.xyz.edu");
	policy_add_cluster(e->policy, CLUSTER_EQUAL);
	policy_add_route(e->policy, ".process.com = daisy.process.com 10");
	assert_true(policy_is_local_host(e->policy, "b.cs.xyz.edu"));
	assert_false(policy_is_local_host(e->policy, "c.cs.xyz.edu"));
	assert_non_null(policy_find_cluster(e->policy, "cluster.cs.xyz.edu"));
	assert_null(policy_find_cluster(e->policy, "b.cs.xyz.edu"));
	assert_true(policy_names_domain(e->policy, "b.cs.xyz.edu"));
	assert_true(policy_names_domain(e->policy, "cluster.cs.xyz.edu"));
	assert_true(policy_names_domain(e->policy, "iris.process.com"));
	assert_false(policy_names_domain(e->policy, "process.com"));
}

static void test_policy_unref_frees_on_the_last_reference(void **state)
{
	struct policy *p = policy_new_test(), *held;

	(void)state;
	policy_add_cluster(p, CLUSTER_EQUAL);
	policy_add_route(p, ".process.com = daisy.process.com 10 @1");
	policy_add_ignore(p, "127.0.0.0/8");
	p->milter.rewrite_local = xstrdup("cluster.cs.xyz.edu");	/* the defaults own the rest */
	held = policy_ref(p);
	assert_ptr_equal(held, p);
	assert_int_equal(p->refs, 2);
	policy_unref(&held);
	assert_null(held);
	assert_int_equal(p->refs, 1);
	policy_unref(&p);	/* frees: ASan reports any field left behind */
	assert_null(p);
	policy_unref(&p);	/* NULL is fine */
}

/* --- dnsanswer.c ---------------------------------------------------------- */

static void test_dns_answer_copy_is_deep_and_sized(void **state)
{
	struct dns_mx mx[] = { { 10, "a.example" }, { 0, "" } };
	struct dns_answer *answer, *copy;

	(void)state;
	answer = dns_answer_new_mx(mx, 2, 60, "canonical.example");
	answer->truncated = true;
	copy = dns_answer_copy(answer);
	assert_int_equal(dns_answer_size(copy), dns_answer_size(answer));
	assert_true(dns_answer_size(answer) >= sizeof(*answer) + 2 * sizeof(mx[0]) +
						       sizeof("a.example") + 1 +
						       sizeof("canonical.example"));
	dns_answer_free(&answer);
	assert_null(answer);
	assert_int_equal(copy->n, 2);
	assert_int_equal(copy->rr.mx[0].pref, 10);
	assert_string_equal(copy->rr.mx[0].host, "a.example");
	assert_string_equal(copy->rr.mx[1].host, "");
	assert_string_equal(copy->cname, "canonical.example");
	assert_true(copy->truncated);
	assert_int_equal(copy->ttl, 60);
	dns_answer_free(&copy);
}

static void test_dns_answer_status_copy_keeps_status(void **state)
{
	struct dns_answer *answer = dns_answer_new_addr(DNS_TYPE_A, NULL, 0, 5, "t.example");
	struct dns_answer *copy;

	(void)state;
	answer->status = DNS_NODATA;
	answer->cname_pending = true;
	copy = dns_answer_copy(answer);
	assert_int_equal(copy->status, DNS_NODATA);
	assert_true(copy->cname_pending);
	assert_int_equal(copy->type, DNS_TYPE_A);
	assert_string_equal(copy->cname, "t.example");
	dns_answer_free(&answer);
	dns_answer_free(&copy);
}

/* The doors' and the router's tempfail comes from the engine's table. */
static void test_route_set_tempfail_resets_and_says_451_4_4_3(void **state)
{
	struct env *e = *state;
	struct smtp_reply reply;

	env_decide(e, "u@boston.travel.edu");
	assert_true(e->route.n_hops > 0);
	route_set_tempfail(&e->route, "<u@Boston.Travel.EDU>", NULL);
	assert_int_equal(e->route.action, ROUTE_TEMPFAIL);
	assert_int_equal(e->route.rule, RULE_MX);
	assert_int_equal(e->route.n_hops, 0);
	assert_int_equal(e->route.n_addrs, 0);
	assert_int_equal(e->route.reply.code, 451);
	assert_string_equal(e->route.reply.status, "4.4.3");
	assert_string_equal(e->route.reply.text, "DNS lookups for boston.travel.edu did not converge");
	route_set_tempfail(&e->route, "u@", "resolver stopped");
	assert_string_equal(e->route.domain, "");
	assert_string_equal(e->route.reply.text, "resolver stopped");
	smtp_reply_set(&reply, REPLY_NULL_MX, "no mail for %s", "x.example");
	assert_int_equal(reply.code, 556);
	assert_string_equal(reply.status, "5.1.10");
	assert_string_equal(reply.text, "no mail for x.example");
}

#define ENV_TEST(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		ENV_TEST(test_pending_cold_mx_route_takes_two_passes_of_queries),
		ENV_TEST(test_pending_backup_mx_asks_only_for_better_hosts),
		ENV_TEST(test_pending_cname_chain_costs_one_more_pass),
		ENV_TEST(test_ttl_is_the_minimum_over_answers_used),
		ENV_TEST(test_stale_answer_marks_the_route_stale),
		ENV_TEST(test_route_without_dns_has_no_ttl_and_no_cache),
		ENV_TEST(test_ipv6_off_never_asks_for_aaaa),
		ENV_TEST(test_shuffle_of_three_equal_hosts_is_uniform),
		ENV_TEST(test_keep_dns_order_leaves_the_shuffle_to_the_caller),
		ENV_TEST(test_keep_dns_order_under_a_cap_shuffles_in_the_engine),
		ENV_TEST(test_shuffle_never_crosses_preference_groups),
		ENV_TEST(test_randomize_off_keeps_dns_order),
		ENV_TEST(test_plange_prefs_1_2_route_like_50_100),
		ENV_TEST(test_hops_carry_the_via_of_their_rule),
		ENV_TEST(test_route_set_tempfail_resets_and_says_451_4_4_3),
		cmocka_unit_test(test_names_of_enums),
		ENV_TEST(test_policy_exact_route_beats_longest_suffix),
		ENV_TEST(test_policy_local_hosts_and_clusters_are_named),
		cmocka_unit_test(test_policy_unref_frees_on_the_last_reference),
		cmocka_unit_test(test_dns_answer_copy_is_deep_and_sized),
		cmocka_unit_test(test_dns_answer_status_copy_keeps_status),
	};
	enum { N_CASES = MX_ARRAY_LEN(route_cases), N_FIXED = MX_ARRAY_LEN(fixed) };
	static struct CMUnitTest tests[N_CASES + N_FIXED];

	/* One named test per table row. */
	for (size_t i = 0; i < N_CASES; i++) {
		tests[i] = (struct CMUnitTest){
			.name = route_cases[i].name,
			.test_func = test_route_case,
			.setup_func = row_setup,
			.teardown_func = env_teardown,
			.initial_state = (void *)&route_cases[i],
		};
	}
	for (size_t i = 0; i < N_FIXED; i++)
		tests[N_CASES + i] = fixed[i];
	return _cmocka_run_group_tests("route", tests, N_CASES + N_FIXED, NULL, NULL);
}
