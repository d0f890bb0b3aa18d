/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlspolicy.h - what mxpath's routing must not cost in TLS protection
 *
 * Two questions, both pure lookups on the policy and DNS answers:
 * - should the MTA keep this domain? A domain routed by plain DNS MX is
 *   left to the MTA (socketmap NOTFOUND) when routing it through "[host]"
 *   next hops would lose a guarantee keyed on the domain: its MX answer is
 *   DNSSEC-authenticated (DANE), it publishes "_mta-sts" TXT (MTA-STS), or
 *   the admin lists it (tls.mta_domains, tls.policy_table);
 * - which TLS level goes with a host mxpath hands out? The level of the
 *   clusters, static routes and fallback relays that name it, the
 *   strongest when several do; the TLS door answers it to Postfix's
 *   smtp_tls_policy_maps for the "[host]" and "[host]:port" keys.
 */
#ifndef MXPATH_TLSPOLICY_H
#define MXPATH_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Weakest first: "the strongest" of several is the largest. */
enum tls_level {
	TLS_LEVEL_NONE,		/* not set: the MTA's own default applies */
	TLS_LEVEL_MAY,
	TLS_LEVEL_DANE,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_DANE_ONLY,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_SECURE,
};
#define TLS_LEVELS (TLS_LEVEL_SECURE + 1)

/* Why the MTA keeps a domain (TLS_KEEP_NONE: mxpath routes it). */
enum tls_keep {
	TLS_KEEP_NONE,
	TLS_KEEP_LISTED,	/* tls.mta_domains or tls.policy_table names it */
	TLS_KEEP_DNSSEC,	/* its MX answer carried the AD bit */
	TLS_KEEP_MTA_STS,	/* it publishes a v=STSv1 record at _mta-sts */
	TLS_KEEP_MTA_STS_UNKNOWN,	/* that lookup failed (or ended in an alias not
				 * followed): not known, so kept */
};

/* What Postfix's smtp_tls_policy_maps answer for a level is ("secure"); NULL for NONE. */
const char *tls_level_policy(enum tls_level level);
/* The configuration's word for a level ("verify", "dane-only"; "" for NONE). */
const char *tls_level_name(enum tls_level level);
/* Parses a configuration word; -1 if it is none of them ("none" is not one). */
int tls_level_parse(const char *text, enum tls_level *out);
const char *tls_keep_name(enum tls_keep keep);	/* "dnssec", "mta_sts", ... */

struct policy;
struct dns_answer;

/* Does tls.mta_domains (or the policy table read into it) name this normalised domain? */
bool tls_domain_is_listed(const struct policy *policy, const char *domain);
/*
 * Why the MTA keeps a domain routed by DNS MX: listed, the MX answer
 * authenticated, or an MTA-STS record (sts: the TXT answer for
 * "_mta-sts.DOMAIN", NULL when tls.mta_sts is off).
 */
enum tls_keep tls_mta_keeps(const struct policy *policy, const char *domain,
			    const struct dns_answer *mx, const struct dns_answer *sts);
/* The strongest level the policy gives host (a name or "[literal]", any case). */
enum tls_level tls_host_level(const struct policy *policy, const char *host, size_t len);

/* "_mta-sts.DOMAIN" into out (MX_NAME_BUF); false if that is too long a name. */
bool tls_sts_name(const char *domain, char *out, size_t len);

#endif
