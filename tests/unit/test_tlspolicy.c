/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tlspolicy.c - what routing must not cost in TLS protection
 *
 * The TLS levels' words, the level the TLS door gives a host (the
 * strongest of the clusters, routes and fallback relays naming it), and
 * when route_decide() leaves a DNS-MX domain to the MTA: listed, an
 * authenticated MX answer, an MTA-STS record, an MTA-STS lookup that
 * failed. Policies come from config_load_string(), DNS from fake_dns.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_dns.h"
#include "mxpath/config/config.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/route.h"
#include "mxpath/engine/tlspolicy.h"

static struct policy *policy_from(const char *text)
{
	char err[CONFIG_ERROR_MAX];
	struct policy *policy = NULL;

	if (config_load_string(text, "test.conf", &policy, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	return policy;
}

static void test_levels_have_a_word_and_a_postfix_policy(void **state)
{
	static const struct {
		const char *word, *policy;
		enum tls_level level;
	} rows[] = {
		{ "may", "may", TLS_LEVEL_MAY },
		{ "dane", "dane", TLS_LEVEL_DANE },
		{ "encrypt", "encrypt", TLS_LEVEL_ENCRYPT },
		{ "dane-only", "dane-only", TLS_LEVEL_DANE_ONLY },
		{ "verify", "verify", TLS_LEVEL_VERIFY },
		{ "secure", "secure", TLS_LEVEL_SECURE },
	};
	enum tls_level level;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(tls_level_parse(rows[i].word, &level), 0);
		assert_int_equal(level, rows[i].level);
		assert_string_equal(tls_level_name(level), rows[i].word);
		assert_string_equal(tls_level_policy(level), rows[i].policy);
	}
	assert_int_equal(tls_level_parse("none", &level), -1);
	assert_int_equal(tls_level_parse("Verify", &level), -1);
	assert_int_equal(tls_level_parse("", &level), -1);
	assert_null(tls_level_policy(TLS_LEVEL_NONE));
}

static enum tls_level level_of(const struct policy *policy, const char *host)
{
	return tls_host_level(policy, host, strlen(host));
}

static void test_host_level_is_the_strongest_naming_it(void **state)
{
	struct policy *p = policy_from(
		"clusters = ( { name = \"c.example\"; tls = \"may\";\n"
		"  members = ( { host = \"a.example\"; }, { host = \"m.example\"; } ); } );\n"
		"routes = ( { domain = \"r.example\"; tls = \"verify\";\n"
		"  hosts = ( { host = \"a.example\"; }, { host = \"b.example\"; } ); },\n"
		"  { domain = \"s.example\"; hosts = ( { host = \"plain.example\"; } ); } );\n"
		"fallback_relays = [ \"b.example\", \"[192.0.2.1]\" ];\n"
		"tls = { fallback_relays = \"secure\"; };\n");

	(void)state;
	assert_int_equal(level_of(p, "m.example"), TLS_LEVEL_MAY);
	assert_int_equal(level_of(p, "a.example"), TLS_LEVEL_VERIFY);	/* may < verify */
	assert_int_equal(level_of(p, "A.Example"), TLS_LEVEL_VERIFY);
	assert_int_equal(level_of(p, "b.example"), TLS_LEVEL_SECURE);	/* verify < secure */
	assert_int_equal(level_of(p, "[192.0.2.1]"), TLS_LEVEL_SECURE);
	assert_int_equal(level_of(p, "plain.example"), TLS_LEVEL_NONE);	/* no level set */
	assert_int_equal(level_of(p, "other.example"), TLS_LEVEL_NONE);
	assert_int_equal(level_of(p, "a.exampl"), TLS_LEVEL_NONE);
	assert_int_equal(tls_host_level(p, "a.example.org", 9), TLS_LEVEL_VERIFY);	/* len counts */
	policy_unref(&p);
}

static void test_listed_domains_match_as_route_patterns(void **state)
{
	struct policy *p = policy_from("tls = { mta_domains = [ \"Exact.Example\", \".below.example\" ]; };");

	(void)state;
	assert_true(tls_domain_is_listed(p, "exact.example"));
	assert_false(tls_domain_is_listed(p, "x.exact.example"));
	assert_true(tls_domain_is_listed(p, "x.below.example"));
	assert_true(tls_domain_is_listed(p, "y.x.below.example"));
	assert_false(tls_domain_is_listed(p, "below.example"));
	assert_false(tls_domain_is_listed(p, "xbelow.example"));
	policy_unref(&p);
}

static void test_sts_name_fits_a_domain_name_or_is_refused(void **state)
{
	char name[MX_NAME_BUF], longest[MX_NAME_BUF];

	(void)state;
	assert_true(tls_sts_name("example.org", name, sizeof(name)));
	assert_string_equal(name, "_mta-sts.example.org");
	memset(longest, 'a', 244);	/* "_mta-sts." + 244 = 253 */
	longest[244] = '\0';
	assert_true(tls_sts_name(longest, name, sizeof(name)));
	longest[244] = 'a';
	longest[245] = '\0';
	assert_false(tls_sts_name(longest, name, sizeof(name)));
}

/* One recipient decided against a policy and the fake DNS (cold: each
 * missing answer is fetched between passes, as the router does). */
struct decide_env {
	struct policy *policy;
	struct identity *self;
	struct fake_random random;
	struct fake_dns *dns;
	struct route *route;
};

static void env_init(struct decide_env *e, const char *conf)
{
	e->policy = policy_from(conf);
	e->self = identity_new();
	fake_random_seed(&e->random, 1);
	e->dns = calloc(1, sizeof(*e->dns));
	e->route = calloc(1, sizeof(*e->route));
	assert_non_null(e->dns);
	assert_non_null(e->route);
	fake_dns_init(e->dns, true);
}

/* The number of route_decide() calls it took. */
static int env_decide(struct decide_env *e, const char *recipient)
{
	struct route_input in = {
		.recipient = recipient, .policy = e->policy, .self = e->self,
		.lookup = fake_dns_lookup, .lookup_ctx = e->dns,
		.random = fake_random_next, .random_ctx = &e->random,
	};

	return fake_dns_decide(e->dns, &in, e->route, 4);
}

static void env_free(struct decide_env *e)
{
	for (size_t i = 0; i < e->dns->n_entries; i++)
		dns_answer_free(&e->dns->entries[i].answer);
	free(e->dns);
	free(e->route);
	identity_free(&e->self);
	policy_unref(&e->policy);
}

struct keep_case {
	const char *name;
	const char *conf;
	bool mx_authenticated;
	int sts;			/* -1: no row (never asked), -2: an alias not followed,
					 * else its status */
	enum tls_keep want;
};

static enum tls_keep keeps_for(const struct keep_case *c)
{
	struct decide_env e;
	enum tls_keep keeps;

	env_init(&e, c->conf);
	fake_dns_mx(e.dns, "example.org", "10 mx.example.org")->answer->authenticated =
		c->mx_authenticated;
	fake_dns_host(e.dns, "mx.example.org", "192.0.2.25");
	if (c->sts >= 0)
		fake_dns_status(e.dns, DNS_TYPE_TXT, "_mta-sts.example.org",
				(enum dns_status)c->sts);
	if (c->sts == -2)
		fake_dns_cname_pending(e.dns, 0, DNS_TYPE_TXT, "_mta-sts.example.org",
				       "sts.elsewhere.example");
	/* two round trips: MX, then the addresses and TXT together */
	assert_int_equal(env_decide(&e, "u@example.org"), 3);
	assert_int_equal(e.route->action, ROUTE_RELAY);
	keeps = e.route->mta_keeps;
	env_free(&e);
	return keeps;
}

static void test_mx_domain_is_kept_when_a_guarantee_hangs_on_it(void **state)
{
	static const struct keep_case cases[] = {
		{ "nothing: routed", "", false, DNS_NXDOMAIN, TLS_KEEP_NONE },
		{ "no _mta-sts TXT: routed", "", false, DNS_NODATA, TLS_KEEP_NONE },
		{ "MTA-STS record", "", false, DNS_OK, TLS_KEEP_MTA_STS },
		{ "MTA-STS lookup failed", "", false, DNS_SERVFAIL, TLS_KEEP_MTA_STS_UNKNOWN },
		{ "MTA-STS lookup timed out", "", false, DNS_TIMEOUT, TLS_KEEP_MTA_STS_UNKNOWN },
		{ "_mta-sts an alias, not followed", "", false, -2, TLS_KEEP_MTA_STS_UNKNOWN },
		{ "authenticated MX", "", true, DNS_NXDOMAIN, TLS_KEEP_DNSSEC },
		{ "authenticated MX, dnssec off", "tls = { dnssec = false; };", true,
		  DNS_NXDOMAIN, TLS_KEEP_NONE },
		{ "listed", "tls = { mta_domains = [ \"example.org\" ]; };", false,
		  DNS_NXDOMAIN, TLS_KEEP_LISTED },
		{ "listed by suffix", "tls = { mta_domains = [ \".org\" ]; };", false,
		  DNS_NXDOMAIN, TLS_KEEP_LISTED },
		{ "mta_sts off: TXT never asked", "tls = { mta_sts = false; };", false, -1,
		  TLS_KEEP_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case: %s\n", cases[i].name);
		assert_string_equal(tls_keep_name(keeps_for(&cases[i])),
				    tls_keep_name(cases[i].want));
	}
}

/* A domain the policy routes is never handed back, whatever DNS says. */
static void test_policy_routes_are_not_kept_and_carry_their_level(void **state)
{
	struct decide_env e;

	(void)state;
	env_init(&e, "routes = ( { domain = \"example.org\"; tls = \"encrypt\";\n"
		     "  hosts = ( { host = \"relay.example\"; } ); } );\n"
		     "tls = { mta_domains = [ \"example.org\" ]; };\n");
	fake_dns_host(e.dns, "relay.example", "192.0.2.26");
	assert_int_equal(env_decide(&e, "u@example.org"), 2);
	assert_int_equal(e.route->action, ROUTE_RELAY);
	assert_int_equal(e.route->mta_keeps, TLS_KEEP_NONE);
	assert_int_equal(e.route->n_hops, 1);
	assert_int_equal(e.route->hops[0].tls, TLS_LEVEL_ENCRYPT);
	assert_false(fake_dns_missed(e.dns, 0, DNS_TYPE_TXT, "_mta-sts.example.org"));
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_have_a_word_and_a_postfix_policy),
		cmocka_unit_test(test_host_level_is_the_strongest_naming_it),
		cmocka_unit_test(test_listed_domains_match_as_route_patterns),
		cmocka_unit_test(test_sts_name_fits_a_domain_name_or_is_refused),
		cmocka_unit_test(test_mx_domain_is_kept_when_a_guarantee_hangs_on_it),
		cmocka_unit_test(test_policy_routes_are_not_kept_and_carry_their_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
