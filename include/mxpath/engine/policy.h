/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h - the loaded, validated configuration and the lookups on it
 *
 * config.c builds a struct policy from a file (or the defaults); the
 * engine reads it, never changes it. The doors' answer options ride
 * along; the daemon's own settings (sockets, user, pid file) do not: see
 * config/settings.h. The daemon shares one policy between
 * threads by reference count, so a reload never pulls it from under a
 * lookup in flight. The policy_find_* functions are pure.
 */
#ifndef MXPATH_POLICY_H
#define MXPATH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/tlspolicy.h"

#define POLICY_PREF_MAX 65535
#define POLICY_MAX_HOSTS_LIMIT 50	/* mx.max_hosts may not exceed this */
#define POLICY_FALLBACK_MAX 8

struct policy_host {
	char *host;		/* normalised name, or an address literal "[192.0.2.1]" */
	unsigned pref;
};

struct policy_cluster {
	char *name;		/* normalised */
	struct policy_host *members;
	size_t n_members;
	enum tls_level tls;	/* for its members as next hops; NONE: not set */
};

struct policy_route {
	char *pattern;		/* "example.com" (exact) or ".example.com" (below it) */
	bool is_suffix;
	struct policy_host *hosts;
	size_t n_hosts;
	char **dns;		/* own DNS servers (split horizon), "ADDR[:PORT]" */
	size_t n_dns;
	unsigned channel;	/* resolver channel: 0 = default, else 1 + index */
	enum tls_level tls;	/* for its hosts as next hops; NONE: not set */
};

enum policy_verdict { VERDICT_REJECT, VERDICT_TEMPFAIL };
enum policy_nexthop { NEXTHOP_NAME, NEXTHOP_ADDRESS };
enum policy_default { DEFAULT_ROUTE, DEFAULT_NOTFOUND };

struct policy {
	char *file;			/* where it came from; "(defaults)" if none */

	/* self */
	char **self_names;
	size_t n_self_names;
	bool self_auto;			/* addresses = "auto": add interface addresses */
	struct mx_addr *self_addrs;	/* addresses = [ ... ] and proxy_addresses */
	size_t n_self_addrs;

	char **local_hosts;		/* normalised */
	size_t n_local_hosts;
	struct policy_cluster *clusters;
	size_t n_clusters;
	struct policy_route *routes;
	size_t n_routes;
	char **fallback_relays;		/* normalised names or "[addr]" literals */
	size_t n_fallback_relays;

	struct {
		char **servers;		/* empty: those of /etc/resolv.conf */
		size_t n_servers;
		unsigned timeout_ms;	/* 2000 */
		unsigned tries;		/* 2 */
		unsigned cache_entries;	/* 100000 */
		unsigned max_ttl;	/* 3600 */
		unsigned min_ttl;	/* 1 */
		unsigned failure_ttl;	/* 5: how long a SERVFAIL/timeout is remembered */
		unsigned serve_stale;	/* 86400: RFC 8767 window, 0 disables */
	} dns;

	struct {
		bool randomize;		/* true */
		unsigned max_hosts;	/* 20 */
		unsigned max_addresses;	/* 64, over the whole route */
		bool ipv4;		/* true */
		bool ipv6;		/* true */
		enum policy_verdict null_mx;	/* reject */
		enum policy_verdict self_best;	/* reject */
		struct mx_cidr *ignore_targets;
		size_t n_ignore_targets;
	} mx;

	/* The doors' answers and limits, read per request (a reload changes
	 * them). Sockets, user and pid file: struct daemon_settings. */
	struct {
		bool reject_unroutable;		/* true */
		bool rewrite_clusters;		/* false */
		char *rewrite_local;		/* NULL: off */
		bool trace_header;		/* false */
	} milter;

	struct {
		char *transport;		/* "smtp" (Postfix) */
		unsigned port;			/* 0: none added */
		char *mailer;			/* "esmtp" (sendmail) */
		char *local;			/* "local:" answer for local */
		enum policy_nexthop nexthop;	/* name */
		enum policy_default default_action;	/* route */
		unsigned max_connections;	/* 1024 */
		unsigned idle_timeout;		/* 300 s */
	} socketmap;

	struct {
		enum tls_level fallback_relays;	/* NONE: not set */
		char **mta_domains;		/* "example.com" or ".example.com" */
		size_t n_mta_domains;
		char *policy_table;		/* NULL: none read */
		bool mta_sts;			/* true: look up _mta-sts TXT */
		bool dnssec;			/* true: an authenticated MX keeps the domain */
	} tls;

	unsigned refs;			/* policy_ref / policy_unref only */
};

/* Reference counting (atomic): the creator holds the first reference. */
struct policy *policy_ref(struct policy *policy);
void policy_unref(struct policy **policy);	/* frees on the last one */
void policy_free(struct policy **policy);	/* unconditional, for the loader */

/* All take a normalised domain. */
bool policy_is_local_host(const struct policy *policy, const char *domain);
const struct policy_cluster *policy_find_cluster(const struct policy *policy,
						 const char *domain);
/* An exact pattern wins, then the longest ".suffix" that matches. */
const struct policy_route *policy_find_route(const struct policy *policy, const char *domain);
/* True if the domain is named by the policy (local host, cluster, route). */
bool policy_names_domain(const struct policy *policy, const char *domain);

#endif
