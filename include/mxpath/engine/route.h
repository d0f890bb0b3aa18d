/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route.h - the route engine: where mail for one recipient goes next
 *
 * route_decide() applies the routing rules in order (address literal,
 * local hosts, cluster aliases, static routes, DNS MX) and returns the
 * decision with its explanation. It is pure: DNS answers come through a
 * lookup callback, randomness through a random callback, time as a value.
 *
 * DNS is asked through the callback only; an answer it does not have yet
 * makes route_decide() return ROUTE_PENDING after collecting every other
 * name it can already see it needs (the callback records the misses), so
 * the caller can fetch them all in parallel and decide again.
 */
#ifndef MXPATH_ROUTE_H
#define MXPATH_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/dns.h"
#include "mxpath/engine/identity.h"
#include "mxpath/engine/policy.h"

enum route_action { ROUTE_RELAY, ROUTE_LOCAL, ROUTE_REJECT, ROUTE_TEMPFAIL };

enum route_rule {
	RULE_SYNTAX,		/* the recipient could not be parsed */
	RULE_LITERAL,
	RULE_LOCAL_HOSTS,
	RULE_CLUSTER,
	RULE_ROUTE,
	RULE_MX,
	RULE_IMPLICIT_MX,
};

enum hop_via { VIA_MX, VIA_CLUSTER, VIA_ROUTE, VIA_IMPLICIT_MX, VIA_FALLBACK, VIA_LITERAL };

enum prune_reason {
	PRUNE_SELF,
	PRUNE_WORSE_THAN_SELF,
	PRUNE_NO_ADDRESS,
	PRUNE_IGNORED_TARGET,
	PRUNE_LIMIT,
	PRUNE_INVALID,
};

enum cache_state { CACHE_NONE, CACHE_HIT, CACHE_MISS, CACHE_STALE };

#define ROUTE_HOPS_MAX (POLICY_MAX_HOSTS_LIMIT + POLICY_FALLBACK_MAX)
#define ROUTE_PRUNED_MAX 64
#define ROUTE_ADDRS_MAX 128
#define ROUTE_TEXT_MAX 256
#define HOP_PREF_NONE 0xffffffffu	/* fallback relays have no preference */

struct hop {
	char host[MX_NAME_BUF];		/* name, or "[192.0.2.1]" for a literal */
	uint32_t pref;			/* HOP_PREF_NONE for fallback relays */
	enum hop_via via;
	uint16_t addr_first;		/* index into route.addrs */
	uint16_t addr_count;		/* in DNS order; A before AAAA */
	enum tls_level tls;		/* what the TLS door answers for it */
};

struct pruned {
	char host[MX_NAME_BUF];
	uint32_t pref;
	enum prune_reason reason;
};

/* The engine's replies; codes and statuses are spelled once, in route.c. */
enum route_reply {
	REPLY_BAD_SYNTAX,	/* 501 5.1.3 */
	REPLY_NO_DOMAIN,	/* 550 5.1.2 */
	REPLY_NULL_MX,		/* 556 5.1.10 */
	REPLY_LOOP,		/* 554 5.4.6 */
	REPLY_NO_ROUTE,		/* 550 5.4.4 */
	REPLY_TEMPFAIL,		/* 451 4.4.3 */
	REPLY_STOPPING,		/* 451 4.3.2 */
	REPLY_NO_PRIMARY,	/* 451 4.4.4: a backup MX finds no better host */
};

struct smtp_reply {
	int code;			/* 550, 451, ... */
	char status[16];		/* "5.1.2" */
	char text[ROUTE_TEXT_MAX];	/* without code and status */
};

struct route {
	char domain[MX_NAME_BUF];	/* normalised recipient domain */
	enum route_action action;
	enum route_rule rule;
	char matched[MX_NAME_BUF];	/* the local host, cluster or route pattern */
	struct hop hops[ROUTE_HOPS_MAX];
	unsigned n_hops;
	struct mx_addr addrs[ROUTE_ADDRS_MAX];
	unsigned n_addrs;
	struct pruned pruned[ROUTE_PRUNED_MAX];
	unsigned n_pruned;
	bool self_listed;		/* self was among the MX/members */
	enum tls_keep mta_keeps;	/* relay by DNS MX: why the MTA keeps it */
	struct smtp_reply reply;	/* REJECT and TEMPFAIL only */
	uint32_t ttl;			/* min over the answers used; 0 if none */
	enum cache_state cache;		/* filled by the caller (it knows) */
	/* route_input.keep_dns_order was honoured: the runs of equal
	 * preference are in DNS order, route_order_shuffle() them. */
	bool shuffle_pending;
	/* No random number was drawn: the same answers give the same route. */
	bool repeatable;
};

/*
 * Returns true and fills *out if the answer is known; false if not (the
 * callback should then remember the question, to be asked before the next
 * call). channel 0 is the default DNS; a static route's own servers are
 * its policy_route.channel. name is normalised.
 */
typedef bool (*route_lookup_fn)(void *ctx, unsigned channel, enum dns_type type,
				const char *name, struct dns_lookup_result *out);
/* Uniform 32-bit random numbers. */
typedef uint32_t (*route_random_fn)(void *ctx);

struct route_input {
	const char *recipient;			/* as the MTA gave it */
	const struct policy *policy;
	const struct identity *self;
	const char *self_extra;			/* one more self name (MTA's {j}); may be NULL */
	route_lookup_fn lookup;
	void *lookup_ctx;
	route_random_fn random;
	void *random_ctx;
	/*
	 * Leave the runs of equal preference in DNS order for the caller to
	 * shuffle (route.shuffle_pending), so that it may keep the route and
	 * shuffle each copy it hands out. Honoured only where the order cannot
	 * change which hosts and addresses the route holds (no cap reached);
	 * elsewhere the engine shuffles as always.
	 */
	bool keep_dns_order;
};

enum route_status { ROUTE_DONE, ROUTE_PENDING };

/* Decides; on ROUTE_PENDING *out is incomplete and must not be used. */
enum route_status route_decide(const struct route_input *in, struct route *out);

/* Shuffles the n elements of size octets at base, uniformly (Fisher-Yates
 * with random's numbers, no modulo bias). */
void route_shuffle(void *base, size_t n, size_t size, route_random_fn random, void *random_ctx);

/* reply's code and status, with the text from fmt (cut to ROUTE_TEXT_MAX). */
void smtp_reply_set(struct smtp_reply *out, enum route_reply reply, const char *fmt, ...)
	MX_PRINTF(3, 4);
/*
 * The route could not be decided now: 451 4.4.3, rule mx, no hops, the
 * recipient's domain if it parses; why NULL says the DNS lookups did not
 * converge.
 */
void route_set_tempfail(struct route *out, const char *recipient, const char *why);
/* The same with 451 4.3.2: the daemon is stopping, the MTA should retry. */
void route_set_stopping(struct route *out, const char *recipient);

const char *route_action_name(enum route_action action);	/* "relay", ... */
const char *route_rule_name(enum route_rule rule);		/* "implicit_mx", ... */
const char *hop_via_name(enum hop_via via);
const char *prune_reason_name(enum prune_reason reason);	/* "worse_than_self", ... */
const char *cache_state_name(enum cache_state state);		/* "none", "hit", ... */

#endif
