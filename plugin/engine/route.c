/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route.c - decide the next hops for one recipient
 *
 * Applies the routing rules in order: address literal, local hosts,
 * cluster aliases, static routes, DNS MX (RFC 5321 5.1, RFC 7505,
 * RFC 974), then appends the fallback relays. Cluster members, static
 * route hosts and MX records all go through one path: sort by preference,
 * drop invalid targets, prune self by name and by address, shuffle each
 * equal-preference group, look up addresses, apply the caps.
 *
 * Pure: DNS answers come through the caller's lookup callback, randomness
 * through its random callback. No I/O, no clock, no logging, no malloc:
 * the working set lives on the stack and in the caller's struct route.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxpath/engine/route.h"

/* The parser keeps the best DNS_MX_MAX exchangers; policies are smaller. */
#define CANDIDATES_MAX DNS_MX_MAX
#define NO_CUT UINT32_MAX	/* self does not appear in the list */

/* The engine's replies, each code and status spelled here only. */
static const struct {
	int code;
	const char *status;
} route_replies[] = {
	[REPLY_BAD_SYNTAX] = { 501, "5.1.3" },
	[REPLY_NO_DOMAIN] = { 550, "5.1.2" },
	[REPLY_NULL_MX] = { 556, "5.1.10" },
	[REPLY_LOOP] = { 554, "5.4.6" },
	[REPLY_NO_ROUTE] = { 550, "5.4.4" },
	[REPLY_TEMPFAIL] = { 451, "4.4.3" },
	[REPLY_STOPPING] = { 451, "4.3.2" },
	[REPLY_NO_PRIMARY] = { 451, "4.4.4" },
};

/* A host that might become a hop. */
struct candidate {
	const char *host;		/* owned by the policy or a DNS answer */
	uint32_t pref;
	bool is_literal;		/* "[192.0.2.1]": no DNS */
	bool is_self;
	bool temp_failure;		/* an address lookup failed temporarily */
	struct mx_addr literal;
	const struct dns_answer *answers[2];	/* A, AAAA with status ok */
};

/*
 * One pass of route_decide(), called again while answers are pending
 * (not to be confused with router.c's waiting_route): its inputs,
 * working set and bookkeeping.
 */
struct route_pass {
	const struct route_input *in;
	const struct policy *policy;
	struct route *out;
	char self_extra[MX_NAME_BUF];	/* normalised, "" if none */
	bool pending;			/* some answer is not known yet */
	bool used_dns;
	bool used_stale;
	unsigned channel;		/* where the hosts' addresses are asked */
	enum hop_via via;
	struct candidate cands[CANDIDATES_MAX];
	size_t n_cands;
	struct candidate fallbacks[POLICY_FALLBACK_MAX];
	size_t n_fallbacks;
	const struct dns_answer *sts;	/* _mta-sts TXT of an MX domain, if asked */
	bool capped;			/* a cap cut hosts or addresses: order matters */
};

enum ask_result { ASK_OK, ASK_PENDING, ASK_BROKEN };

/* What the address filter says of one address. */
enum address_use { ADDRESS_USABLE, ADDRESS_WRONG_FAMILY, ADDRESS_IGNORED };

/* What happened to a host's addresses on their way into the route. */
struct address_tally {
	size_t taken, ignored, capped;
};

static void route_reset(struct route *out);
static void pass_init(struct route_pass *d, const struct route_input *in, struct route *out);
static void pass_finish(struct route_pass *d);
static enum route_status pass_apply_rules(struct route_pass *d, const struct recipient *rcpt);
static bool pass_is_self_name(const struct route_pass *d, const char *name);
static const struct dns_answer *pass_ask(struct route_pass *d, unsigned channel,
					     enum dns_type type, const char *name);
static enum ask_result pass_resolve(struct route_pass *d, unsigned channel,
					enum dns_type type, const char *name,
					const struct dns_answer **out);

static enum route_status route_literal(struct route_pass *d, const struct recipient *rcpt);
static enum route_status route_local(struct route_pass *d, enum route_rule rule, const char *name);
static enum route_status route_cluster(struct route_pass *d, const struct policy_cluster *cluster);
static enum route_status route_static(struct route_pass *d, const struct policy_route *route);
static enum route_status route_mx(struct route_pass *d);
static enum route_status route_mx_records(struct route_pass *d, const struct dns_answer *mx);
static enum route_status route_mx_answer(struct route_pass *d, const struct dns_answer *mx);
static void pass_ask_sts(struct route_pass *d);
static void pass_set_hop_tls(struct route_pass *d);
static enum route_status route_implicit_mx(struct route_pass *d);
static enum route_status route_exchangers(struct route_pass *d);
static enum route_status route_self_best(struct route_pass *d);
static enum route_status route_unreachable(struct route_pass *d);
static enum route_status route_fail(struct route_pass *d, enum route_reply reply,
				    const char *fmt, ...) MX_PRINTF(3, 4);
static enum route_status route_fail_verdict(struct route_pass *d, enum policy_verdict verdict,
					    enum route_reply reply, const char *fmt, ...)
	MX_PRINTF(4, 5);
static void route_vset_reply(struct route *out, enum route_reply reply, const char *fmt,
			     va_list ap) MX_PRINTF(3, 0);

static void smtp_reply_vset(struct smtp_reply *out, enum route_reply reply, const char *fmt,
			    va_list ap) MX_PRINTF(3, 0);

static void mx_add_candidate(struct route_pass *d, const char *host, uint32_t pref);
static void mx_drop_invalid(struct route_pass *d);
static void mx_sort_by_pref(struct candidate *cands, size_t n);
static void mx_drop_duplicates(struct route_pass *d);
static uint32_t mx_find_self_by_name(struct route_pass *d);
static uint32_t mx_find_self_by_address(struct route_pass *d, uint32_t below);
static void mx_prune_self(struct route_pass *d, uint32_t cut);
static void mx_shuffle_groups(struct route_pass *d);
static uint32_t random_below(route_random_fn random, void *random_ctx, uint32_t bound);
static void swap_bytes(unsigned char *a, unsigned char *b, size_t size);
static void mx_order_and_emit(struct route_pass *d);
static void mx_emit_hops(struct route_pass *d);

static void fallback_prepare(struct route_pass *d);
static void fallback_append(struct route_pass *d);
static bool fallback_is_listed(const struct route *out, const char *host);

static void candidate_init(struct candidate *c, const char *host, uint32_t pref);
static bool candidate_parse_target(struct candidate *c);
static void candidate_lookup(struct route_pass *d, struct candidate *c, unsigned channel);
static void candidate_lookup_type(struct route_pass *d, struct candidate *c, unsigned channel,
				  enum dns_type type, size_t slot);
static bool candidate_has_self_address(const struct route_pass *d, const struct candidate *c);
static bool candidate_emit(struct route_pass *d, const struct candidate *c, enum hop_via via,
			   enum prune_reason *why_not);
static void hop_take_addresses(struct route_pass *d, const struct mx_addr *list, size_t n,
			       struct address_tally *tally);
static void hop_append_address(struct route *out, const struct mx_addr *addr,
			       struct address_tally *tally);
static enum address_use address_filter(const struct policy *policy, const struct mx_addr *addr);

static void route_add_pruned(struct route *out, const char *host, uint32_t pref,
			     enum prune_reason reason);
static void text_copy(char *dst, size_t size, const char *src);

enum route_status route_decide(const struct route_input *in, struct route *out)
{
	struct route_pass d;
	struct recipient rcpt;
	const char *why = "malformed address";
	enum route_status status;

	route_reset(out);
	pass_init(&d, in, out);
	if (recipient_parse(in->recipient, &rcpt, &why) == -1) {
		out->rule = RULE_SYNTAX;
		status = route_fail(&d, REPLY_BAD_SYNTAX,
				    "bad recipient address syntax: %s", why);
	} else {
		text_copy(out->domain, sizeof(out->domain), rcpt.domain);
		status = pass_apply_rules(&d, &rcpt);
	}
	if (status == ROUTE_DONE)
		pass_finish(&d);
	return status;
}

const char *route_action_name(enum route_action action)
{
	switch (action) {
	case ROUTE_RELAY: return "relay";
	case ROUTE_LOCAL: return "local";
	case ROUTE_REJECT: return "reject";
	case ROUTE_TEMPFAIL: return "tempfail";
	}
	return "?";
}

const char *route_rule_name(enum route_rule rule)
{
	switch (rule) {
	case RULE_SYNTAX: return "syntax";
	case RULE_LITERAL: return "literal";
	case RULE_LOCAL_HOSTS: return "local_hosts";
	case RULE_CLUSTER: return "cluster";
	case RULE_ROUTE: return "route";
	case RULE_MX: return "mx";
	case RULE_IMPLICIT_MX: return "implicit_mx";
	}
	return "?";
}

const char *hop_via_name(enum hop_via via)
{
	switch (via) {
	case VIA_MX: return "mx";
	case VIA_CLUSTER: return "cluster";
	case VIA_ROUTE: return "route";
	case VIA_IMPLICIT_MX: return "implicit_mx";
	case VIA_FALLBACK: return "fallback";
	case VIA_LITERAL: return "literal";
	}
	return "?";
}

const char *prune_reason_name(enum prune_reason reason)
{
	switch (reason) {
	case PRUNE_SELF: return "self";
	case PRUNE_WORSE_THAN_SELF: return "worse_than_self";
	case PRUNE_NO_ADDRESS: return "no_address";
	case PRUNE_IGNORED_TARGET: return "ignored_target";
	case PRUNE_LIMIT: return "limit";
	case PRUNE_INVALID: return "invalid";
	}
	return "?";
}

const char *cache_state_name(enum cache_state state)
{
	switch (state) {
	case CACHE_NONE: return "none";
	case CACHE_HIT: return "hit";
	case CACHE_MISS: return "miss";
	case CACHE_STALE: return "stale";
	}
	return "?";
}

/* The route is large (fixed arrays): reset what is read, not every byte. */
static void route_reset(struct route *out)
{
	out->domain[0] = '\0';
	out->action = ROUTE_REJECT;
	out->rule = RULE_SYNTAX;
	out->matched[0] = '\0';
	out->n_hops = 0;
	out->n_addrs = 0;
	out->n_pruned = 0;
	out->self_listed = false;
	out->mta_keeps = TLS_KEEP_NONE;
	out->reply.code = 0;
	out->reply.status[0] = '\0';
	out->reply.text[0] = '\0';
	out->ttl = 0;
	out->cache = CACHE_NONE;
	out->shuffle_pending = false;
	out->repeatable = true;
}

static void pass_init(struct route_pass *d, const struct route_input *in, struct route *out)
{
	const char *extra = in->self_extra;
	const char *why;

	d->in = in;
	d->policy = in->policy;
	d->out = out;
	d->pending = false;
	d->used_dns = false;
	d->used_stale = false;
	d->channel = 0;
	d->via = VIA_MX;
	d->n_cands = 0;
	d->n_fallbacks = 0;
	d->sts = NULL;
	d->capped = false;
	d->self_extra[0] = '\0';
	/* The MTA's {j} may carry a trailing dot or capitals; a malformed
	 * one names nothing. */
	if (extra != NULL && *extra != '\0' &&
	    domain_normalize(extra, strlen(extra), d->self_extra, &why) == -1)
		d->self_extra[0] = '\0';
}

static void pass_finish(struct route_pass *d)
{
	pass_set_hop_tls(d);
	if (!d->used_dns) {
		d->out->ttl = 0;
		d->out->cache = CACHE_NONE;
		return;
	}
	d->out->cache = d->used_stale ? CACHE_STALE : CACHE_HIT;
}

static enum route_status pass_apply_rules(struct route_pass *d, const struct recipient *rcpt)
{
	const char *domain = rcpt->domain;
	const struct policy_cluster *cluster;
	const struct policy_route *route;

	if (rcpt->kind == RECIPIENT_LITERAL)
		return route_literal(d, rcpt);
	if (policy_is_local_host(d->policy, domain) || pass_is_self_name(d, domain))
		return route_local(d, RULE_LOCAL_HOSTS, domain);
	cluster = policy_find_cluster(d->policy, domain);
	if (cluster != NULL)
		return route_cluster(d, cluster);
	route = policy_find_route(d->policy, domain);
	if (route != NULL)
		return route_static(d, route);
	return route_mx(d);
}

static bool pass_is_self_name(const struct route_pass *d, const char *name)
{
	if (d->self_extra[0] != '\0' && strcmp(d->self_extra, name) == 0)
		return true;
	return identity_has_name(d->in->self, name);
}

/* One question to the caller; NULL (and pending) if it has no answer yet. */
static const struct dns_answer *pass_ask(struct route_pass *d, unsigned channel,
					     enum dns_type type, const char *name)
{
	struct dns_lookup_result got;

	if (!d->in->lookup(d->in->lookup_ctx, channel, type, name, &got) ||
	    got.answer == NULL) {
		d->pending = true;
		return NULL;
	}
	if (!d->used_dns || got.ttl_left < d->out->ttl)
		d->out->ttl = got.ttl_left;
	d->used_dns = true;
	if (got.stale)
		d->used_stale = true;
	return got.answer;
}

/*
 * Asks for (name, type) and follows a CNAME chain the answer could not
 * complete, at most DNS_CNAME_DEPTH links; a loop or a longer chain is
 * ASK_BROKEN.
 */
static enum ask_result pass_resolve(struct route_pass *d, unsigned channel,
					enum dns_type type, const char *name,
					const struct dns_answer **out)
{
	const char *seen[DNS_CNAME_DEPTH + 1];
	const struct dns_answer *answer;
	size_t depth = 0;

	seen[0] = name;
	answer = pass_ask(d, channel, type, name);
	while (answer != NULL && answer->cname_pending && answer->cname != NULL) {
		if (depth == DNS_CNAME_DEPTH)
			return ASK_BROKEN;
		for (size_t i = 0; i <= depth; i++) {
			if (strcmp(seen[i], answer->cname) == 0)
				return ASK_BROKEN;
		}
		seen[++depth] = answer->cname;
		answer = pass_ask(d, channel, type, answer->cname);
	}
	if (answer == NULL)
		return ASK_PENDING;
	*out = answer;
	return ASK_OK;
}

/*
 * Rule 1: user@[192.0.2.1] goes to that address, unless it is ours; it
 * passes the same address filters as an exchanger's (families,
 * ignore_targets), so a literal cannot reach what an MX may not.
 */
static enum route_status route_literal(struct route_pass *d, const struct recipient *rcpt)
{
	struct candidate literal = {
		.host = rcpt->domain, .is_literal = true, .literal = rcpt->literal,
	};
	enum prune_reason why_not;

	d->out->rule = RULE_LITERAL;
	if (identity_has_address(d->in->self, &rcpt->literal))
		return route_local(d, RULE_LITERAL, rcpt->domain);
	if (!candidate_emit(d, &literal, VIA_LITERAL, &why_not)) {
		route_add_pruned(d->out, rcpt->domain, 0, why_not);
		return route_fail(d, REPLY_NO_ROUTE,
				  "address literal %s is not a usable destination (%s)",
				  rcpt->domain, prune_reason_name(why_not));
	}
	d->out->action = ROUTE_RELAY;
	return ROUTE_DONE;
}

static enum route_status route_local(struct route_pass *d, enum route_rule rule, const char *name)
{
	d->out->action = ROUTE_LOCAL;
	d->out->rule = rule;
	text_copy(d->out->matched, sizeof(d->out->matched), name);
	return ROUTE_DONE;
}

/* Rule 3: a cluster alias is an MX set written in the policy. */
static enum route_status route_cluster(struct route_pass *d, const struct policy_cluster *cluster)
{
	d->out->rule = RULE_CLUSTER;
	text_copy(d->out->matched, sizeof(d->out->matched), cluster->name);
	d->via = VIA_CLUSTER;
	d->channel = 0;
	for (size_t i = 0; i < cluster->n_members; i++)
		mx_add_candidate(d, cluster->members[i].host, cluster->members[i].pref);
	return route_exchangers(d);
}

/* Rule 4: a static route, its addresses asked on its own DNS channel. */
static enum route_status route_static(struct route_pass *d, const struct policy_route *route)
{
	d->out->rule = RULE_ROUTE;
	text_copy(d->out->matched, sizeof(d->out->matched), route->pattern);
	d->via = VIA_ROUTE;
	d->channel = route->channel;
	for (size_t i = 0; i < route->n_hosts; i++)
		mx_add_candidate(d, route->hosts[i].host, route->hosts[i].pref);
	return route_exchangers(d);
}

/* Rule 5: the domain's MX records. */
static enum route_status route_mx(struct route_pass *d)
{
	const char *domain = d->out->domain;
	const struct dns_answer *mx = NULL;

	d->out->rule = RULE_MX;
	d->via = VIA_MX;
	d->channel = 0;
	switch (pass_resolve(d, 0, DNS_TYPE_MX, domain, &mx)) {
	case ASK_PENDING:
		return ROUTE_PENDING;
	case ASK_BROKEN:
		return route_fail(d, REPLY_TEMPFAIL,
				  "CNAME chain for %s is too long or loops", domain);
	case ASK_OK:
		break;
	}
	if (dns_status_is_temporary(mx->status))
		return route_fail(d, REPLY_TEMPFAIL,
				  "temporary DNS failure looking up MX for %s (%s)", domain,
				  dns_status_name(mx->status));
	if (mx->status == DNS_NXDOMAIN)
		return route_fail(d, REPLY_NO_DOMAIN, "domain %s does not exist",
				  domain);
	return route_mx_answer(d, mx);
}

/* An MX set or its absence: routed, and then perhaps left to the MTA for TLS. */
static enum route_status route_mx_answer(struct route_pass *d, const struct dns_answer *mx)
{
	enum route_status status;
	bool is_null = mx->status == DNS_OK && mx->n == 1 && mx->rr.mx[0].host[0] == '\0';

	if (!is_null)
		pass_ask_sts(d);
	if (mx->status == DNS_NODATA || mx->n == 0)
		status = route_implicit_mx(d);
	else
		status = route_mx_records(d, mx);
	if (status == ROUTE_DONE && d->out->action == ROUTE_RELAY)
		d->out->mta_keeps = tls_mta_keeps(d->policy, d->out->domain, mx, d->sts);
	return status;
}

/* Asked beside the exchangers' addresses, so a cold route still takes two round trips. */
static void pass_ask_sts(struct route_pass *d)
{
	char name[MX_NAME_BUF];

	if (!d->policy->tls.mta_sts || !tls_sts_name(d->out->domain, name, sizeof(name)))
		return;
	d->sts = pass_ask(d, 0, DNS_TYPE_TXT, name);
}

/* Each hop carries the level the TLS door gives its host. */
static void pass_set_hop_tls(struct route_pass *d)
{
	for (unsigned i = 0; i < d->out->n_hops; i++) {
		struct hop *hop = &d->out->hops[i];

		hop->tls = tls_host_level(d->policy, hop->host, strlen(hop->host));
	}
}

static enum route_status route_mx_records(struct route_pass *d, const struct dns_answer *mx)
{
	/* RFC 7505: a single "MX 0 ." says the domain takes no mail. */
	if (mx->n == 1 && mx->rr.mx[0].host[0] == '\0')
		return route_fail_verdict(d, d->policy->mx.null_mx, REPLY_NULL_MX,
					  "Recipient address has null MX");
	for (size_t i = 0; i < mx->n; i++)
		mx_add_candidate(d, mx->rr.mx[i].host, mx->rr.mx[i].pref);
	return route_exchangers(d);
}

/* RFC 5321 5.1: no MX, so the domain itself is the exchanger at pref 0. */
static enum route_status route_implicit_mx(struct route_pass *d)
{
	d->out->rule = RULE_IMPLICIT_MX;
	d->via = VIA_IMPLICIT_MX;
	mx_add_candidate(d, d->out->domain, 0);
	return route_exchangers(d);
}

/*
 * The common path of rules 3 to 5 (and 6): the candidates are in
 * d->cands in the order given.
 */
static enum route_status route_exchangers(struct route_pass *d)
{
	uint32_t cut, by_address;

	mx_drop_invalid(d);
	mx_sort_by_pref(d->cands, d->n_cands);
	mx_drop_duplicates(d);
	cut = mx_find_self_by_name(d);
	/* Every host better than self by name is needed: to route to, and to
	 * see whether it is self by address. Ask for all of them (and the
	 * fallback relays) in one pass. */
	for (size_t i = 0; i < d->n_cands && d->cands[i].pref < cut; i++)
		candidate_lookup(d, &d->cands[i], d->channel);
	if (cut == NO_CUT)
		fallback_prepare(d);
	if (d->pending)
		return ROUTE_PENDING;
	by_address = mx_find_self_by_address(d, cut);
	if (by_address < cut)
		cut = by_address;
	if (cut != NO_CUT) {
		d->out->self_listed = true;
		mx_prune_self(d, cut);
		if (d->n_cands == 0)
			return route_self_best(d);
	}
	mx_order_and_emit(d);
	if (d->out->n_hops == 0)
		return route_unreachable(d);
	if (!d->out->self_listed)
		fallback_append(d);
	d->out->action = ROUTE_RELAY;
	return ROUTE_DONE;
}

/* Self is the best (or an equal-best) host: local for the policy's own
 * sets, a loop for DNS. */
static enum route_status route_self_best(struct route_pass *d)
{
	if (d->out->rule == RULE_CLUSTER || d->out->rule == RULE_ROUTE) {
		d->out->action = ROUTE_LOCAL;
		return ROUTE_DONE;
	}
	return route_fail_verdict(d, d->policy->mx.self_best, REPLY_LOOP,
				  "mail for %s loops back to myself", d->out->domain);
}

static enum route_status route_unreachable(struct route_pass *d)
{
	const char *domain = d->out->domain;

	for (size_t i = 0; i < d->n_cands; i++) {
		if (d->cands[i].temp_failure)
			return route_fail(d, REPLY_TEMPFAIL,
					  "temporary DNS failure looking up the addresses "
					  "of the mail exchangers for %s",
					  domain);
	}
	/* A backup MX (or a worse cluster member) whose better hosts have no
	 * address: defer like Postfix ("unable to find primary relay"); the
	 * primary may get its address back, and the mail is ours to keep. */
	if (d->out->self_listed)
		return route_fail(d, REPLY_NO_PRIMARY, "unable to find primary relay for %s",
				  domain);
	switch (d->out->rule) {
	case RULE_IMPLICIT_MX:
		return route_fail(d, REPLY_NO_DOMAIN,
				  "domain %s has no MX record and no address", domain);
	case RULE_CLUSTER:
		return route_fail(d, REPLY_NO_ROUTE,
				  "no member of cluster %s has an address", domain);
	case RULE_ROUTE:
		return route_fail(d, REPLY_NO_ROUTE,
				  "no host of the route for %s has an address", domain);
	default:
		break;
	}
	return route_fail(d, REPLY_NO_ROUTE,
			  "no mail exchanger for %s has an address", domain);
}

static enum route_status route_fail(struct route_pass *d, enum route_reply reply,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	route_vset_reply(d->out, reply, fmt, ap);
	va_end(ap);
	return ROUTE_DONE;
}

/* A configurable outcome: reject with reply, or tempfail 451 4.4.3. */
static enum route_status route_fail_verdict(struct route_pass *d, enum policy_verdict verdict,
					    enum route_reply reply, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	route_vset_reply(d->out, verdict == VERDICT_TEMPFAIL ? REPLY_TEMPFAIL : reply, fmt, ap);
	va_end(ap);
	return ROUTE_DONE;
}

/* A 4xx reply is a temporary failure, any other a refusal. */
static void route_vset_reply(struct route *out, enum route_reply reply, const char *fmt,
			     va_list ap)
{
	out->action = route_replies[reply].code / 100 == 4 ? ROUTE_TEMPFAIL : ROUTE_REJECT;
	smtp_reply_vset(&out->reply, reply, fmt, ap);
}

void smtp_reply_set(struct smtp_reply *out, enum route_reply reply, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_reply_vset(out, reply, fmt, ap);
	va_end(ap);
}

static void smtp_reply_vset(struct smtp_reply *out, enum route_reply reply, const char *fmt,
			    va_list ap)
{
	out->code = route_replies[reply].code;
	text_copy(out->status, sizeof(out->status), route_replies[reply].status);
	vsnprintf(out->text, sizeof(out->text), fmt, ap);
}

void route_set_tempfail(struct route *out, const char *recipient, const char *why)
{
	struct recipient rcpt;
	const char *bad;

	route_reset(out);
	if (recipient_parse(recipient, &rcpt, &bad) == 0)
		text_copy(out->domain, sizeof(out->domain), rcpt.domain);
	out->rule = RULE_MX;
	out->action = ROUTE_TEMPFAIL;
	if (why != NULL)
		smtp_reply_set(&out->reply, REPLY_TEMPFAIL, "%s", why);
	else
		smtp_reply_set(&out->reply, REPLY_TEMPFAIL, "DNS lookups for %s did not converge",
			       out->domain);
}

void route_set_stopping(struct route *out, const char *recipient)
{
	route_set_tempfail(out, recipient, NULL);
	smtp_reply_set(&out->reply, REPLY_STOPPING, "mxpathd is stopping: try again later");
}

static void mx_add_candidate(struct route_pass *d, const char *host, uint32_t pref)
{
	if (d->n_cands == CANDIDATES_MAX) {
		route_add_pruned(d->out, host, pref, PRUNE_LIMIT);
		return;
	}
	candidate_init(&d->cands[d->n_cands++], host, pref);
}

/* "." among other records, an IP address where a name belongs, or a
 * malformed "[literal]": skipped, the rest is kept. */
static void mx_drop_invalid(struct route_pass *d)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->n_cands; i++) {
		struct candidate *c = &d->cands[i];

		if (!candidate_parse_target(c)) {
			route_add_pruned(d->out, c->host[0] != '\0' ? c->host : ".", c->pref,
					 PRUNE_INVALID);
			continue;
		}
		if (kept != i)
			d->cands[kept] = *c;
		kept++;
	}
	d->n_cands = kept;
}

/* False for a target that cannot be an exchanger; parses a "[literal]". */
static bool candidate_parse_target(struct candidate *c)
{
	struct mx_addr addr;
	const char *why;

	if (c->host[0] == '\0')
		return false;
	if (c->host[0] == '[') {
		c->is_literal = addr_literal_parse(c->host, strlen(c->host), true, &c->literal, NULL,
						   &why) == 0;
		return c->is_literal;
	}
	/* Only a name starting with a digit (or holding ':') can be an IP
	 * address written as a host name; skip inet_pton for the rest. */
	if ((c->host[0] < '0' || c->host[0] > '9') && strchr(c->host, ':') == NULL)
		return true;
	return addr_parse(c->host, &addr) == -1;
}

/* Stable: equal preferences keep the order given until the shuffle. */
static void mx_sort_by_pref(struct candidate *cands, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct candidate c = cands[i];
		size_t j = i;

		while (j > 0 && cands[j - 1].pref > c.pref) {
			cands[j] = cands[j - 1];
			j--;
		}
		cands[j] = c;
	}
}

/* A host listed twice is tried once, at its best preference; the worse
 * record shows as invalid. Runs after the sort. */
static void mx_drop_duplicates(struct route_pass *d)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->n_cands; i++) {
		const struct candidate *c = &d->cands[i];
		bool seen = false;

		for (size_t k = 0; k < kept && !seen; k++)
			seen = strcmp(d->cands[k].host, c->host) == 0;
		if (seen) {
			route_add_pruned(d->out, c->host, c->pref, PRUNE_INVALID);
			continue;
		}
		if (kept != i)
			d->cands[kept] = *c;
		kept++;
	}
	d->n_cands = kept;
}

/* The best preference at which self appears by name (or as a literal of
 * one of its addresses); NO_CUT if nowhere. */
static uint32_t mx_find_self_by_name(struct route_pass *d)
{
	uint32_t cut = NO_CUT;

	for (size_t i = 0; i < d->n_cands; i++) {
		struct candidate *c = &d->cands[i];

		if (c->is_literal)
			c->is_self = identity_has_address(d->in->self, &c->literal);
		else
			c->is_self = pass_is_self_name(d, c->host);
		if (c->is_self && c->pref < cut)
			cut = c->pref;
	}
	return cut;
}

/* The best preference below `below` held by a host with one of our
 * addresses (looked up already). */
static uint32_t mx_find_self_by_address(struct route_pass *d, uint32_t below)
{
	uint32_t cut = NO_CUT;

	for (size_t i = 0; i < d->n_cands && d->cands[i].pref < below; i++) {
		struct candidate *c = &d->cands[i];

		if (c->is_literal || !candidate_has_self_address(d, c))
			continue;
		c->is_self = true;
		if (c->pref < cut)
			cut = c->pref;
	}
	return cut;
}

/* Backup-MX behaviour: every host at or beyond self's preference goes. */
static void mx_prune_self(struct route_pass *d, uint32_t cut)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->n_cands; i++) {
		const struct candidate *c = &d->cands[i];

		if (c->pref >= cut) {
			route_add_pruned(d->out, c->host, c->pref,
					 c->is_self ? PRUNE_SELF : PRUNE_WORSE_THAN_SELF);
			continue;
		}
		if (kept != i)
			d->cands[kept] = *c;
		kept++;
	}
	d->n_cands = kept;
}

/* Each run of equal preference shuffled on its own, never across runs. */
static void mx_shuffle_groups(struct route_pass *d)
{
	size_t start = 0;

	if (d->in->random == NULL)	/* no source of randomness: DNS order */
		return;
	while (start < d->n_cands) {
		size_t end = start + 1;

		while (end < d->n_cands && d->cands[end].pref == d->cands[start].pref)
			end++;
		route_shuffle(d->cands + start, end - start, sizeof(d->cands[0]), d->in->random,
			      d->in->random_ctx);
		start = end;
	}
}

void route_shuffle(void *base, size_t n, size_t size, route_random_fn random, void *random_ctx)
{
	unsigned char *p = base;

	for (size_t i = n > 0 ? n - 1 : 0; i > 0; i--) {
		size_t j = random_below(random, random_ctx, (uint32_t)(i + 1));

		if (j != i)
			swap_bytes(p + i * size, p + j * size, size);
	}
}

/* Uniform in [0, bound): draws below 2^32 mod bound are rejected, so the
 * remainder carries no bias. */
static uint32_t random_below(route_random_fn random, void *random_ctx, uint32_t bound)
{
	uint32_t threshold = (uint32_t)(-bound) % bound;
	uint32_t r;

	do {
		r = random(random_ctx);
	} while (r < threshold);
	return r % bound;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char tmp[64];

	while (size > 0) {
		size_t n = size < sizeof(tmp) ? size : sizeof(tmp);

		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
		a += n;
		b += n;
		size -= n;
	}
}

/*
 * Shuffles the candidates and emits them as hops; or, when the caller
 * asked to keep the DNS order and no cap made the order decide which
 * hosts and addresses get in, emits them in DNS order for the caller to
 * shuffle the hops (the same outcome, drawn later). A cap reached in DNS
 * order means emitting again, shuffled.
 */
static void mx_order_and_emit(struct route_pass *d)
{
	unsigned n_pruned = d->out->n_pruned;

	if (!d->policy->mx.randomize || d->in->random == NULL) {
		mx_emit_hops(d);
		return;
	}
	if (d->in->keep_dns_order) {
		mx_emit_hops(d);
		if (!d->capped) {
			d->out->shuffle_pending = true;
			return;
		}
		d->out->n_hops = 0;
		d->out->n_addrs = 0;
		d->out->n_pruned = n_pruned;
		d->capped = false;
	}
	mx_shuffle_groups(d);
	d->out->repeatable = false;
	mx_emit_hops(d);
}

/* Turns the surviving candidates into hops, in order, within the caps. */
static void mx_emit_hops(struct route_pass *d)
{
	unsigned max_hosts = d->policy->mx.max_hosts;

	if (max_hosts == 0 || max_hosts > POLICY_MAX_HOSTS_LIMIT)
		max_hosts = POLICY_MAX_HOSTS_LIMIT;
	for (size_t i = 0; i < d->n_cands; i++) {
		const struct candidate *c = &d->cands[i];
		enum prune_reason why_not = PRUNE_LIMIT;

		if (d->out->n_hops >= max_hosts) {
			d->capped = true;
			route_add_pruned(d->out, c->host, c->pref, PRUNE_LIMIT);
		} else if (!candidate_emit(d, c, d->via, &why_not)) {
			route_add_pruned(d->out, c->host, c->pref, why_not);
		}
	}
}

/* Rule 6 (questions): fallback relays need addresses too; ask with the
 * exchangers' so they come in the same pass. */
static void fallback_prepare(struct route_pass *d)
{
	const struct policy *policy = d->policy;

	for (size_t i = 0; i < policy->n_fallback_relays && i < POLICY_FALLBACK_MAX; i++) {
		struct candidate *c = &d->fallbacks[d->n_fallbacks];

		candidate_init(c, policy->fallback_relays[i], HOP_PREF_NONE);
		/* config.c refuses these; never ask the DNS about "[junk]" */
		if (!candidate_parse_target(c))
			continue;
		d->n_fallbacks++;
		c->is_self = c->is_literal ? identity_has_address(d->in->self, &c->literal)
					   : pass_is_self_name(d, c->host);
		if (!c->is_self)
			candidate_lookup(d, c, 0);
	}
}

/* Rule 6: the fallback relays go last, minus self and hosts listed already. */
static void fallback_append(struct route_pass *d)
{
	for (size_t i = 0; i < d->n_fallbacks; i++) {
		const struct candidate *c = &d->fallbacks[i];
		enum prune_reason why_not = PRUNE_LIMIT;

		if (fallback_is_listed(d->out, c->host))
			continue;
		if (c->is_self || candidate_has_self_address(d, c)) {
			route_add_pruned(d->out, c->host, HOP_PREF_NONE, PRUNE_SELF);
			continue;
		}
		if (d->out->n_hops >= ROUTE_HOPS_MAX || !candidate_emit(d, c, VIA_FALLBACK, &why_not))
			route_add_pruned(d->out, c->host, HOP_PREF_NONE, why_not);
	}
}

static bool fallback_is_listed(const struct route *out, const char *host)
{
	for (unsigned i = 0; i < out->n_hops; i++) {
		if (strcmp(out->hops[i].host, host) == 0)
			return true;
	}
	return false;
}

static void candidate_init(struct candidate *c, const char *host, uint32_t pref)
{
	c->host = host;
	c->pref = pref;
	c->is_literal = false;
	c->is_self = false;
	c->temp_failure = false;
	c->answers[0] = NULL;
	c->answers[1] = NULL;
}

/* Asks A and/or AAAA (as configured); literals need no DNS. */
static void candidate_lookup(struct route_pass *d, struct candidate *c, unsigned channel)
{
	if (c->is_literal)
		return;
	if (d->policy->mx.ipv4)
		candidate_lookup_type(d, c, channel, DNS_TYPE_A, 0);
	if (d->policy->mx.ipv6)
		candidate_lookup_type(d, c, channel, DNS_TYPE_AAAA, 1);
}

static void candidate_lookup_type(struct route_pass *d, struct candidate *c, unsigned channel,
				  enum dns_type type, size_t slot)
{
	const struct dns_answer *answer = NULL;

	/* A broken CNAME chain leaves the host without this family. */
	if (pass_resolve(d, channel, type, c->host, &answer) != ASK_OK)
		return;
	if (dns_status_is_temporary(answer->status))
		c->temp_failure = true;
	else if (answer->status == DNS_OK)
		c->answers[slot] = answer;
}

static bool candidate_has_self_address(const struct route_pass *d, const struct candidate *c)
{
	if (c->is_literal)
		return identity_has_address(d->in->self, &c->literal);
	for (size_t slot = 0; slot < MX_ARRAY_LEN(c->answers); slot++) {
		const struct dns_answer *answer = c->answers[slot];

		for (size_t i = 0; answer != NULL && i < answer->n; i++) {
			if (identity_has_address(d->in->self, &answer->rr.addr[i]))
				return true;
		}
	}
	return false;
}

/*
 * Appends the candidate as a hop with its usable addresses (configured
 * families, outside ignore_targets, within max_addresses). Without any,
 * returns false and says why in *why_not.
 */
static bool candidate_emit(struct route_pass *d, const struct candidate *c, enum hop_via via,
			   enum prune_reason *why_not)
{
	struct route *out = d->out;
	struct hop *hop = &out->hops[out->n_hops];
	struct address_tally tally = { 0, 0, 0 };

	hop->addr_first = (uint16_t)out->n_addrs;
	if (c->is_literal) {
		hop_take_addresses(d, &c->literal, 1, &tally);
	} else {
		for (size_t slot = 0; slot < MX_ARRAY_LEN(c->answers); slot++) {
			if (c->answers[slot] != NULL)
				hop_take_addresses(d, c->answers[slot]->rr.addr,
						   c->answers[slot]->n, &tally);
		}
	}
	if (tally.taken == 0) {
		if (tally.capped > 0)
			*why_not = PRUNE_LIMIT;
		else
			*why_not = tally.ignored > 0 ? PRUNE_IGNORED_TARGET : PRUNE_NO_ADDRESS;
		return false;
	}
	text_copy(hop->host, sizeof(hop->host), c->host);
	hop->pref = c->pref;
	hop->via = via;
	hop->addr_count = (uint16_t)tally.taken;
	out->n_hops++;
	return true;
}

/* Appends the usable addresses of one list to the route, in order. */
static void hop_take_addresses(struct route_pass *d, const struct mx_addr *list, size_t n,
			       struct address_tally *tally)
{
	const struct policy *policy = d->policy;
	struct route *out = d->out;
	unsigned max_addrs = policy->mx.max_addresses;

	if (max_addrs == 0 || max_addrs > ROUTE_ADDRS_MAX)
		max_addrs = ROUTE_ADDRS_MAX;
	for (size_t i = 0; i < n; i++) {
		enum address_use use = address_filter(policy, &list[i]);

		if (use == ADDRESS_WRONG_FAMILY)
			continue;
		if (use == ADDRESS_IGNORED)
			tally->ignored++;
		else if (out->n_addrs >= max_addrs)
			tally->capped++, d->capped = true;
		else
			hop_append_address(out, &list[i], tally);
	}
}

static void hop_append_address(struct route *out, const struct mx_addr *addr,
			       struct address_tally *tally)
{
	out->addrs[out->n_addrs++] = *addr;
	tally->taken++;
}

/*
 * The one address filter, for exchangers' addresses and literals alike,
 * on the address unmapped (::ffff:0.0.0.0 is 0.0.0.0): a family switched
 * off, or a block in mx.ignore_targets.
 */
static enum address_use address_filter(const struct policy *policy, const struct mx_addr *addr)
{
	struct mx_addr buf;
	const struct mx_addr *plain = addr_unmap(addr, &buf);

	if ((plain->family == AF_INET && !policy->mx.ipv4) ||
	    (plain->family == AF_INET6 && !policy->mx.ipv6))
		return ADDRESS_WRONG_FAMILY;
	for (size_t i = 0; i < policy->mx.n_ignore_targets; i++) {
		if (cidr_contains(&policy->mx.ignore_targets[i], plain))
			return ADDRESS_IGNORED;
	}
	return ADDRESS_USABLE;
}

static void route_add_pruned(struct route *out, const char *host, uint32_t pref,
			     enum prune_reason reason)
{
	struct pruned *p;

	if (out->n_pruned >= ROUTE_PRUNED_MAX)
		return;
	p = &out->pruned[out->n_pruned++];
	text_copy(p->host, sizeof(p->host), host);
	p->pref = pref;
	p->reason = reason;
}

/* Bounded copy that always terminates; the sources are checked names,
 * so truncation never happens in practice. */
static void text_copy(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}
