/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlspolicy.c - what mxpath's routing must not cost in TLS protection
 *
 * Postfix keys smtp_tls_policy_maps, DANE and MTA-STS resolvers on the
 * verbatim next hop; a "[host]" answer changes that key. So a domain
 * routed by plain DNS MX is left to the MTA when a guarantee hangs on the
 * domain (listed by the admin, an authenticated MX answer, an MTA-STS
 * record, or an MTA-STS lookup that failed), and the hosts mxpath names
 * itself carry the level the policy gives them, the strongest when
 * several clusters, routes or the fallback relays name one host.
 *
 * Pure: reads the policy and the DNS answers the caller passes.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxpath/engine/dns.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/tlspolicy.h"

#define STS_PREFIX "_mta-sts."

struct level_row {
	const char *name;	/* in mxpath.conf */
	const char *policy;	/* in Postfix's policy table */
};

/* verify and secure check the certificate against the host mxpath names:
 * for a "[host]" next hop Postfix's defaults (match=hostname for verify,
 * match=nexthop:dot-nexthop for secure) both mean that name. */
static const struct level_row levels[TLS_LEVELS] = {
	[TLS_LEVEL_NONE] = { "", NULL },
	[TLS_LEVEL_MAY] = { "may", "may" },
	[TLS_LEVEL_DANE] = { "dane", "dane" },
	[TLS_LEVEL_ENCRYPT] = { "encrypt", "encrypt" },
	[TLS_LEVEL_DANE_ONLY] = { "dane-only", "dane-only" },
	[TLS_LEVEL_VERIFY] = { "verify", "verify" },
	[TLS_LEVEL_SECURE] = { "secure", "secure" },
};

static bool pattern_matches(const char *pattern, const char *domain);
static enum tls_level level_max(enum tls_level a, enum tls_level b);
static enum tls_level hosts_level(const struct policy_host *hosts, size_t n, enum tls_level level,
				  const char *host, size_t len);
static bool host_is(const char *name, const char *host, size_t len);

const char *tls_level_policy(enum tls_level level)
{
	return (unsigned)level < TLS_LEVELS ? levels[level].policy : NULL;
}

const char *tls_level_name(enum tls_level level)
{
	return (unsigned)level < TLS_LEVELS ? levels[level].name : "?";
}

int tls_level_parse(const char *text, enum tls_level *out)
{
	for (unsigned i = TLS_LEVEL_MAY; i < TLS_LEVELS; i++) {
		if (strcmp(text, levels[i].name) == 0) {
			*out = (enum tls_level)i;
			return 0;
		}
	}
	return -1;
}

const char *tls_keep_name(enum tls_keep keep)
{
	switch (keep) {
	case TLS_KEEP_NONE: return "none";
	case TLS_KEEP_LISTED: return "listed";
	case TLS_KEEP_DNSSEC: return "dnssec";
	case TLS_KEEP_MTA_STS: return "mta_sts";
	case TLS_KEEP_MTA_STS_UNKNOWN: return "mta_sts_unknown";
	}
	return "?";
}

bool tls_sts_name(const char *domain, char *out, size_t len)
{
	int n;

	if (strlen(STS_PREFIX) + strlen(domain) > MX_NAME_MAX)
		return false;
	n = snprintf(out, len, "%s%s", STS_PREFIX, domain);
	return n > 0 && (size_t)n < len;
}

bool tls_domain_is_listed(const struct policy *policy, const char *domain)
{
	for (size_t i = 0; i < policy->tls.n_mta_domains; i++) {
		if (pattern_matches(policy->tls.mta_domains[i], domain))
			return true;
	}
	return false;
}

enum tls_keep tls_mta_keeps(const struct policy *policy, const char *domain,
			    const struct dns_answer *mx, const struct dns_answer *sts)
{
	if (tls_domain_is_listed(policy, domain))
		return TLS_KEEP_LISTED;
	if (policy->tls.dnssec && mx != NULL && mx->authenticated)
		return TLS_KEEP_DNSSEC;
	if (sts == NULL)
		return TLS_KEEP_NONE;
	if (sts->status == DNS_OK)	/* an alias whose target was not asked: not known */
		return sts->cname_pending ? TLS_KEEP_MTA_STS_UNKNOWN : TLS_KEEP_MTA_STS;
	if (dns_status_is_temporary(sts->status))
		return TLS_KEEP_MTA_STS_UNKNOWN;
	return TLS_KEEP_NONE;
}

enum tls_level tls_host_level(const struct policy *policy, const char *host, size_t len)
{
	enum tls_level level = TLS_LEVEL_NONE;

	for (size_t i = 0; i < policy->n_clusters; i++) {
		const struct policy_cluster *c = &policy->clusters[i];

		level = level_max(level, hosts_level(c->members, c->n_members, c->tls, host, len));
	}
	for (size_t i = 0; i < policy->n_routes; i++) {
		const struct policy_route *r = &policy->routes[i];

		level = level_max(level, hosts_level(r->hosts, r->n_hosts, r->tls, host, len));
	}
	for (size_t i = 0; i < policy->n_fallback_relays; i++) {
		if (host_is(policy->fallback_relays[i], host, len))
			level = level_max(level, policy->tls.fallback_relays);
	}
	return level;
}

/* "example.com" matches itself; ".example.com" the names below it. */
static bool pattern_matches(const char *pattern, const char *domain)
{
	size_t plen = strlen(pattern), dlen = strlen(domain);

	if (pattern[0] != '.')
		return strcmp(pattern, domain) == 0;
	return dlen > plen && strcmp(domain + dlen - plen, pattern) == 0;
}

static enum tls_level level_max(enum tls_level a, enum tls_level b)
{
	return a > b ? a : b;
}

/* level if host is among hosts, else NONE. */
static enum tls_level hosts_level(const struct policy_host *hosts, size_t n, enum tls_level level,
				  const char *host, size_t len)
{
	if (level == TLS_LEVEL_NONE)
		return TLS_LEVEL_NONE;
	for (size_t i = 0; i < n; i++) {
		if (host_is(hosts[i].host, host, len))
			return level;
	}
	return TLS_LEVEL_NONE;
}

/* The policy's host (normalised, literals as "[IPv6:...]") against len bytes of host, any case. */
static bool host_is(const char *name, const char *host, size_t len)
{
	return strlen(name) == len && strncasecmp(name, host, len) == 0;
}
