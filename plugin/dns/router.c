/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * router.c - decide routes with live DNS: the engine, the cache, the resolver
 *
 * A decision runs route_decide() against the cache. When the engine says
 * PENDING, every question it could not answer is sent at once, the answers
 * go into the cache, and the engine runs again from the start; a cold MX
 * route costs two round trips (MX, then every exchanger's A and AAAA in
 * parallel). The answers a decision fetched are also kept with it, so it
 * converges even if the cache drops them (eviction, TTL 0); after
 * PASSES_MAX passes it gives up with a tempfail.
 *
 * A warm decision runs once, synchronously, in a scratch route owned by
 * the router, and allocates nothing. Randomness comes from a xoshiro128**
 * generator seeded from getrandom(), drawn after the cache lookups, so
 * every decision is shuffled afresh.
 *
 * The two doors agree on a recipient's order: a milter decision
 * (router_decide_wait) writes its hop order down in the hop memory, and a
 * socketmap decision (router_decide) for the same recipient follows it
 * (hop_memory.c says why and for how long).
 *
 * Prefetch (as Unbound's): a decision served from the cache notes every
 * fresh answer it used that is in the last tenth of its TTL (at least the
 * last second), and once it is done, without waiting, asks those questions
 * again in the background; the answer replaces the entry, so a domain
 * asked at least once per tenth of its TTL never waits for DNS. At most
 * one query per question is in flight (none is started while the resolver
 * is already asking it). Negative answers (NXDOMAIN, NODATA) are refreshed
 * like positive ones; stale answers and cached temporary failures are not
 * (their retry schedule is serve-stale's), nor an answer whose whole TTL
 * is a second (it would be asked again on every use). A refresh that
 * fails is dropped: the entry expires as it would have, and the decision
 * that then misses asks for itself, under the serve-stale rules. A route
 * kept in the route memo (route_memo.c) is served only until a tenth of
 * its least TTL left (at least a second) remains, counted on the cache's
 * whole-second clock, so the full decision after it finds that answer due
 * with at least a whole second left for the refresh.
 *
 * Reload: the policy, the identity built from it and the resolver form a
 * "generation". A decision holds a reference on the generation it started
 * with and finishes on it; the resolver is shared between generations
 * while the DNS settings stay the same (the cache is kept), and replaced,
 * with a cache flush, when they change. A retired resolver is freed from a
 * timer once no decision uses it, never from inside its own callbacks.
 *
 * Everything runs on the event-loop thread except router_decide_wait()
 * (posts to the loop and blocks) and router_policy() (takes the lock).
 * router_free() must not be called while other threads may still post.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mxpath/dns/cache.h"
#include "mxpath/dns/hop_memory.h"
#include "mxpath/base/common.h"
#include "mxpath/dns/resolver.h"
#include "mxpath/dns/route_memo.h"
#include "mxpath/dns/router.h"
#include "mxpath/engine/address.h"
#include "mxpath/engine/route_order.h"
#include "mxpath/dns/sysident.h"

#define PASSES_MAX 12		/* a cold CNAME'd MX route needs 4 */
#define STALE_RETRY 30		/* RFC 8767 section 4 */
#define PREFETCH_SHARE 10	/* refresh in the last tenth of the TTL */

/* One resolver, shared by the generations whose DNS settings are equal. */
struct router_dns {
	struct router_dns *next;	/* router->dns_list */
	struct resolver *resolver;
	unsigned refs;			/* generations using it */
};

struct router_gen {
	struct policy *policy;
	struct identity *identity;
	struct router_dns *dns;
	unsigned refs;			/* the router (while current) + decisions */
};

struct question {
	unsigned channel;
	enum dns_type type;
	char name[MX_NAME_BUF];
};

/* Questions, each once: a pass's misses, or the answers due for a refresh. */
struct question_list {
	struct question *q;
	size_t n, cap;
};

/* A refresh in flight: holds its generation, so its resolver, alive. */
struct prefetch {
	struct router *router;
	struct router_gen *gen;
};

/* An answer a decision received: read when the cache no longer has it. */
struct fetched {
	unsigned channel;
	enum dns_type type;
	struct dns_answer *answer;
	char name[MX_NAME_BUF];
};

/* What the engine's lookup callback reads and records during one pass. */
struct lookup_ctx {
	struct dns_cache *cache;	/* NULL: the cache is of other servers */
	uint64_t now_ms;
	const struct fetched *fetched;
	size_t n_fetched;
	struct question_list misses;
	struct question_list due;	/* fresh answers used close to their expiry */
	uint32_t due_within;		/* no answer with more ttl_left is due */
};

/* A recipient whose route waits for DNS answers (each pass is a route_decide()). */
struct waiting_route {
	struct waiting_route *prev, *next;	/* router->waiting */
	struct router *router;
	struct router_gen *gen;
	router_done_fn done;
	void *arg;
	struct route *out;		/* the caller's (router_decide_wait), or NULL */
	const char *recipient;		/* in tail */
	const char *self_extra;		/* in tail, or NULL */
	bool remember;			/* a milter decision: write its order down */
	unsigned passes;
	unsigned outstanding;		/* answers of this pass still to come */
	bool answered;			/* told "stopping": freed once the answers are in */
	struct question_list questions;	/* asked in this pass */
	struct fetched *fetched;
	size_t n_fetched, cap_fetched;
	char tail[];
};

struct router {
	struct evloop *loop;
	pthread_mutex_t lock;		/* guards current for router_policy() */
	struct router_gen *current;
	struct router_dns *dns_list;	/* every resolver alive, current or retired */
	struct evtimer *reaper;		/* frees retired resolvers */
	struct dns_cache *cache;
	struct hop_memory *memory;	/* the milter's hop orders */
	struct route_memo *memo;	/* warm routes per domain, in DNS order */
	struct route *scratch;		/* warm decisions decide here */
	bool scratch_busy;
	bool closing;
	bool stopping;			/* router_stop_waiting(): no new DNS waits */
	struct waiting_route *waiting;	/* waiting for DNS */
	uint32_t rng[4];
	struct router_stats stats;	/* decisions and per-decision cache state */
	struct resolver_stats retired;	/* counters of freed resolvers */
};

/*
 * router_decide_wait(): shared by the blocked thread and the loop, freed
 * by whichever lets go last, so a caller that gave up at its deadline
 * leaves nothing the loop could still write into.
 */
struct wait_call {
	struct router *router;
	const char *recipient;		/* in tail */
	const char *self_extra;		/* in tail, or NULL */
	struct route route;		/* the loop decides here */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	unsigned refs;			/* under lock */
	char tail[];
};

static struct router_gen *gen_new(struct policy *policy, struct router_dns *dns);
static void gen_unref(struct router *router, struct router_gen **gen);
static struct router_dns *dns_new(struct router *router, struct resolver *resolver);
static void dns_unref(struct router *router, struct router_dns *dns);
static void router_reap(void *arg);
static bool dns_settings_equal(const struct policy *a, const struct policy *b);
static bool server_lists_equal(char *const *a, size_t na, char *const *b, size_t nb);
static void cache_limits_from(const struct policy *policy, struct cache_limits *out);

static void router_decide_into(struct router *router, const char *recipient,
			       const char *self_extra, bool remember, struct route *out,
			       router_done_fn done, void *arg);
static void router_agree_order(struct router *router, const char *recipient, bool remember,
			       struct route *route);
static enum route_status router_run_engine(struct router *router, struct router_gen *gen,
					   const char *recipient, const char *self_extra,
					   struct lookup_ctx *ctx, struct route *route);
static bool router_lookup(void *arg, unsigned channel, enum dns_type type, const char *name,
			  struct dns_lookup_result *out);
static bool fetched_find(const struct lookup_ctx *ctx, unsigned channel, enum dns_type type,
			 const char *name, struct dns_lookup_result *out);
static bool prefetch_due(const struct dns_cache *cache, const struct dns_lookup_result *got);
static void question_list_add(struct question_list *list, unsigned channel, enum dns_type type,
			      const char *name);
static void router_prefetch(struct router *router, struct router_gen *gen,
			    struct question_list *due);
static void prefetch_on_answer(void *arg, unsigned channel, enum dns_type type,
			       const char *name, const struct dns_answer *answer);
static struct route *router_borrow_route(struct router *router);
static void router_return_route(struct router *router, struct route *route);
static void router_count(struct router *router, const struct route *route);

static struct waiting_route *waiting_new(struct router *router, struct router_gen *gen,
				     const char *recipient, const char *self_extra, bool remember,
				     struct route *out, router_done_fn done, void *arg);
static void waiting_ask(struct waiting_route *d, struct lookup_ctx *ctx);
static void waiting_on_answer(void *arg, unsigned channel, enum dns_type type,
			       const char *name, const struct dns_answer *answer);
static void waiting_pass(struct waiting_route *d);
static void waiting_finish(struct waiting_route *d, struct route *route, bool asked);
static void waiting_give_up(struct waiting_route *d, const char *why);
static void waiting_answer_stopping(struct waiting_route *d);
static void waiting_free(struct waiting_route *d);

static void rng_seed(uint32_t state[4]);
static uint32_t rotl32(uint32_t x, int k);
static uint32_t rng_next(void *arg);

static struct wait_call *wait_call_new(struct router *router, const char *recipient,
				       const char *self_extra);
static void wait_call_unref(struct wait_call *call);
static void wait_on_loop(void *arg);
static void wait_done(void *arg, const struct route *route);

/* ---- life cycle ---- */

struct router *router_new(struct evloop *loop, struct policy *policy, char *err, size_t errlen)
{
	struct router *router = xcalloc(1, sizeof(*router));
	struct cache_limits limits;
	struct resolver *resolver;

	router->loop = loop;
	resolver = resolver_new(loop, policy, err, errlen);
	if (resolver == NULL) {
		free(router);
		return NULL;
	}
	pthread_mutex_init(&router->lock, NULL);
	cache_limits_from(policy, &limits);
	router->cache = cache_new(&limits);
	router->scratch = xmalloc(sizeof(*router->scratch));
	router->memory = hop_memory_new(HOP_MEMORY_ENTRIES);
	router->memo = route_memo_new();
	router->current = gen_new(policy, dns_new(router, resolver));
	rng_seed(router->rng);
	return router;
}

/*
 * Freeing the resolvers completes their queries with DNS_TIMEOUT; every
 * decision still waiting sees the router closing and finishes with a
 * tempfail, so its caller (a blocked milter thread, say) is released.
 */
void router_free(struct router **routerp)
{
	struct router *router = *routerp;

	if (router == NULL)
		return;
	router->closing = true;
	for (struct router_dns *dns = router->dns_list; dns != NULL; dns = dns->next)
		resolver_free(&dns->resolver);
	gen_unref(router, &router->current);
	evloop_timer_cancel(router->loop, &router->reaper);
	while (router->dns_list != NULL) {
		struct router_dns *dns = router->dns_list;

		router->dns_list = dns->next;
		free(dns);
	}
	cache_free(&router->cache);
	hop_memory_free(&router->memory);
	route_memo_free(&router->memo);
	free(router->scratch);
	pthread_mutex_destroy(&router->lock);
	free(router);
	*routerp = NULL;
}

int router_set_policy(struct router *router, struct policy *policy, char *err, size_t errlen)
{
	struct router_gen *old = router->current;
	struct router_dns *dns = old->dns;
	struct cache_limits limits;

	if (!dns_settings_equal(old->policy, policy)) {
		struct resolver *resolver = resolver_new(router->loop, policy, err, errlen);

		if (resolver == NULL)
			return -1;
		dns = dns_new(router, resolver);
		cache_flush(router->cache);
	}
	cache_limits_from(policy, &limits);
	cache_set_limits(router->cache, &limits);
	route_memo_clear(router->memo);		/* routes of the old policy */
	pthread_mutex_lock(&router->lock);
	router->current = gen_new(policy, dns);
	pthread_mutex_unlock(&router->lock);
	gen_unref(router, &old);
	return 0;
}

struct policy *router_policy(struct router *router)
{
	struct policy *policy;

	pthread_mutex_lock(&router->lock);
	policy = policy_ref(router->current->policy);
	pthread_mutex_unlock(&router->lock);
	return policy;
}

void router_get_stats(struct router *router, struct router_stats *out)
{
	struct resolver_stats sum = router->retired;
	struct cache_stats cache;

	for (struct router_dns *dns = router->dns_list; dns != NULL; dns = dns->next) {
		struct resolver_stats one;

		if (dns->resolver == NULL)
			continue;
		resolver_get_stats(dns->resolver, &one);
		sum.queries += one.queries;
		sum.coalesced += one.coalesced;
		sum.failures += one.failures;
	}
	cache_get_stats(router->cache, &cache);
	*out = router->stats;
	out->dns_queries = sum.queries;
	out->dns_coalesced = sum.coalesced;
	out->dns_failures = sum.failures;
	out->cache_entries = cache.entries;
	out->cache_bytes = cache.bytes;
}

/* ---- generations and resolvers ---- */

static struct router_gen *gen_new(struct policy *policy, struct router_dns *dns)
{
	struct router_gen *gen = xcalloc(1, sizeof(*gen));

	gen->policy = policy_ref(policy);
	gen->identity = sysident_build(policy);
	gen->dns = dns;
	dns->refs++;
	gen->refs = 1;
	return gen;
}

static void gen_unref(struct router *router, struct router_gen **genp)
{
	struct router_gen *gen = *genp;

	*genp = NULL;
	if (gen == NULL || --gen->refs > 0)
		return;
	dns_unref(router, gen->dns);
	identity_free(&gen->identity);
	policy_unref(&gen->policy);
	free(gen);
}

static struct router_dns *dns_new(struct router *router, struct resolver *resolver)
{
	struct router_dns *dns = xcalloc(1, sizeof(*dns));

	dns->resolver = resolver;
	dns->next = router->dns_list;
	router->dns_list = dns;
	return dns;
}

/* The last user may be a decision finishing inside this very resolver's
 * callback: the resolver is freed later, from a timer. */
static void dns_unref(struct router *router, struct router_dns *dns)
{
	if (--dns->refs > 0 || router->closing || router->reaper != NULL)
		return;
	router->reaper = evloop_timer_add(router->loop, 0, router_reap, router);
}

static void router_reap(void *arg)
{
	struct router *router = arg;
	struct router_dns **pp = &router->dns_list;

	router->reaper = NULL;
	while (*pp != NULL) {
		struct router_dns *dns = *pp;
		struct resolver_stats one;

		if (dns->refs > 0) {
			pp = &dns->next;
			continue;
		}
		resolver_get_stats(dns->resolver, &one);
		router->retired.queries += one.queries;
		router->retired.coalesced += one.coalesced;
		router->retired.failures += one.failures;
		resolver_free(&dns->resolver);
		*pp = dns->next;
		free(dns);
	}
}

static bool dns_settings_equal(const struct policy *a, const struct policy *b)
{
	if (a->dns.timeout_ms != b->dns.timeout_ms || a->dns.tries != b->dns.tries ||
	    a->n_routes != b->n_routes ||
	    !server_lists_equal(a->dns.servers, a->dns.n_servers, b->dns.servers,
				b->dns.n_servers))
		return false;
	for (size_t i = 0; i < a->n_routes; i++) {
		const struct policy_route *ra = &a->routes[i], *rb = &b->routes[i];

		if (ra->channel != rb->channel ||
		    !server_lists_equal(ra->dns, ra->n_dns, rb->dns, rb->n_dns))
			return false;
	}
	return true;
}

static bool server_lists_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0)
			return false;
	}
	return true;
}

static void cache_limits_from(const struct policy *policy, struct cache_limits *out)
{
	out->max_entries = policy->dns.cache_entries;
	out->min_ttl = policy->dns.min_ttl;
	out->max_ttl = policy->dns.max_ttl;
	out->failure_ttl = policy->dns.failure_ttl;
	out->serve_stale = policy->dns.serve_stale;
	out->stale_retry = STALE_RETRY;
}

/* ---- deciding ---- */

void router_decide(struct router *router, const char *recipient, const char *self_extra,
		   router_done_fn done, void *arg)
{
	router_decide_into(router, recipient, self_extra, false, NULL, done, arg);
}

/*
 * The first pass runs on the stack and in a borrowed route: a warm
 * decision ends here. Only a decision that must wait for DNS is put on
 * the heap.
 */
static void router_decide_into(struct router *router, const char *recipient,
			       const char *self_extra, bool remember, struct route *out,
			       router_done_fn done, void *arg)
{
	struct router_gen *gen = router->current;
	struct lookup_ctx ctx = { 0 };
	struct route *route = out != NULL ? out : router_borrow_route(router);
	struct waiting_route *d;
	struct recipient rcpt;
	const char *why;
	uint64_t now_ms = evloop_now_ms(router->loop);
	bool parsed = recipient_parse(recipient, &rcpt, &why) == 0;
	bool decided = parsed && route_memo_get(router->memo, rcpt.domain, self_extra, now_ms, route);

	if (decided) {
		router->stats.memo_hits++;
	} else if (router_run_engine(router, gen, recipient, self_extra, &ctx, route) ==
		   ROUTE_DONE) {
		decided = true;
		/* On the cache's clock (whole seconds): the memo then ends
		 * exactly where an answer's last tenth begins, so the full
		 * decision that follows still has that tenth to prefetch in. */
		if (parsed)
			route_memo_put(router->memo, rcpt.domain, self_extra, route,
				       now_ms - now_ms % 1000u);
	}
	if (decided || router->stopping) {
		free(ctx.misses.q);
		if (ctx.due.n > 0)
			gen->refs++;	/* done() may reload; the refreshes ask gen's resolver */
		if (decided)
			router_agree_order(router, recipient, remember, route);
		else
			route_set_stopping(route, recipient);
		router_count(router, route);
		done(arg, route);
		if (out == NULL)
			router_return_route(router, route);
		if (ctx.due.n > 0) {
			router_prefetch(router, gen, &ctx.due);
			gen_unref(router, &gen);
		}
		return;
	}
	free(ctx.due.q);
	if (out == NULL)
		router_return_route(router, route);
	d = waiting_new(router, gen, recipient, self_extra, remember, out, done, arg);
	waiting_ask(d, &ctx);
}

/*
 * The order the route goes out in: the engine left equal preferences in
 * DNS order, so shuffle them; then the milter's decision writes its hop
 * order down and the socketmap's follows it.
 */
static void router_agree_order(struct router *router, const char *recipient, bool remember,
			       struct route *route)
{
	uint64_t now_ms = evloop_now_ms(router->loop);

	if (route->shuffle_pending)
		route_order_shuffle(route, rng_next, router->rng);
	if (remember)
		hop_memory_decide(router->memory, recipient, route, now_ms);
	else
		hop_memory_follow(router->memory, recipient, route, now_ms);
}

static enum route_status router_run_engine(struct router *router, struct router_gen *gen,
					   const char *recipient, const char *self_extra,
					   struct lookup_ctx *ctx, struct route *route)
{
	struct route_input in = {
		.recipient = recipient,
		.policy = gen->policy,
		.self = gen->identity,
		.self_extra = self_extra,
		.lookup = router_lookup,
		.lookup_ctx = ctx,
		.random = rng_next,
		.random_ctx = router->rng,
		.keep_dns_order = true,		/* router_agree_order() shuffles */
	};

	/* A decision from before a change of DNS servers must not read answers
	 * from the new servers, nor leave its own in their cache. */
	ctx->cache = gen->dns == router->current->dns ? router->cache : NULL;
	ctx->now_ms = evloop_now_ms(router->loop);
	ctx->misses.n = 0;
	ctx->due.n = 0;
	ctx->due_within = gen->policy->dns.max_ttl / PREFETCH_SHARE > 1
				  ? gen->policy->dns.max_ttl / PREFETCH_SHARE
				  : 1;
	return route_decide(&in, route);
}

static bool router_lookup(void *arg, unsigned channel, enum dns_type type, const char *name,
			  struct dns_lookup_result *out)
{
	struct lookup_ctx *ctx = arg;

	if (ctx->cache != NULL) {
		enum cache_lookup got = cache_get(ctx->cache, channel, type, name, ctx->now_ms, out);

		if (got == CACHE_LOOKUP_HIT && out->ttl_left <= ctx->due_within &&
		    prefetch_due(ctx->cache, out))
			question_list_add(&ctx->due, channel, type, name);
		if (got != CACHE_LOOKUP_MISS)
			return true;
	}
	if (fetched_find(ctx, channel, type, name, out))
		return true;
	question_list_add(&ctx->misses, channel, type, name);
	return false;
}

/* A fresh answer in the last tenth of its TTL (at least its last second). */
static bool prefetch_due(const struct dns_cache *cache, const struct dns_lookup_result *got)
{
	uint32_t full = cache_answer_ttl(cache, got->answer), window;

	window = full / PREFETCH_SHARE > 1 ? full / PREFETCH_SHARE : 1;
	return got->ttl_left <= window && got->ttl_left < full &&
	       !dns_status_is_temporary(got->answer->status);
}

static bool fetched_find(const struct lookup_ctx *ctx, unsigned channel, enum dns_type type,
			 const char *name, struct dns_lookup_result *out)
{
	for (size_t i = 0; i < ctx->n_fetched; i++) {
		const struct fetched *f = &ctx->fetched[i];

		if (f->channel == channel && f->type == type && strcmp(f->name, name) == 0) {
			out->answer = f->answer;
			out->ttl_left = f->answer->ttl;
			out->stale = false;
			return true;
		}
	}
	return false;
}

static void question_list_add(struct question_list *list, unsigned channel, enum dns_type type,
			      const char *name)
{
	struct question *q;

	for (size_t i = 0; i < list->n; i++) {
		q = &list->q[i];
		if (q->channel == channel && q->type == type && strcmp(q->name, name) == 0)
			return;
	}
	if (list->n == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 8;
		list->q = xreallocarray(list->q, list->cap, sizeof(*list->q));
	}
	q = &list->q[list->n++];
	q->channel = channel;
	q->type = type;
	snprintf(q->name, sizeof(q->name), "%s", name);
}

/* ---- prefetch: refreshing answers close to their expiry ---- */

/* After a decision is done: asks again what it found close to expiry;
 * frees the list. */
static void router_prefetch(struct router *router, struct router_gen *gen,
			    struct question_list *due)
{
	struct resolver *resolver = gen->dns->resolver;
	bool asking = !router->closing && !router->stopping && gen->dns == router->current->dns;

	for (size_t i = 0; asking && i < due->n; i++) {
		const struct question *q = &due->q[i];
		struct prefetch *p;

		if (resolver_asking(resolver, q->channel, q->type, q->name))
			continue;
		p = xmalloc(sizeof(*p));
		p->router = router;
		p->gen = gen;
		gen->refs++;
		router->stats.prefetches++;
		resolver_query(resolver, q->channel, q->type, q->name, prefetch_on_answer, p);
	}
	free(due->q);
	*due = (struct question_list){ 0 };
}

/* A real answer replaces the entry; a temporary failure is dropped. */
static void prefetch_on_answer(void *arg, unsigned channel, enum dns_type type,
			       const char *name, const struct dns_answer *answer)
{
	struct prefetch *p = arg;
	struct router *router = p->router;

	if (!dns_status_is_temporary(answer->status) && !router->closing &&
	    p->gen->dns == router->current->dns)
		cache_put(router->cache, channel, type, name, dns_answer_copy(answer),
			  evloop_now_ms(router->loop));
	gen_unref(router, &p->gen);
	free(p);
}

/* The scratch route, unless a done callback is deciding again inside one. */
static struct route *router_borrow_route(struct router *router)
{
	if (router->scratch_busy)
		return xmalloc(sizeof(struct route));
	router->scratch_busy = true;
	return router->scratch;
}

static void router_return_route(struct router *router, struct route *route)
{
	if (route == router->scratch)
		router->scratch_busy = false;
	else
		free(route);
}

static void router_count(struct router *router, const struct route *route)
{
	router->stats.decisions++;
	switch (route->cache) {
	case CACHE_HIT:
		router->stats.cache_hits++;
		break;
	case CACHE_MISS:
		router->stats.cache_misses++;
		break;
	case CACHE_STALE:
		router->stats.cache_stale++;
		break;
	case CACHE_NONE:
		break;
	}
}

/* ---- decisions waiting for DNS ---- */

static struct waiting_route *waiting_new(struct router *router, struct router_gen *gen,
				     const char *recipient, const char *self_extra, bool remember,
				     struct route *out, router_done_fn done, void *arg)
{
	size_t rlen = strlen(recipient) + 1;
	size_t slen = self_extra != NULL ? strlen(self_extra) + 1 : 0;
	struct waiting_route *d = xcalloc(1, sizeof(*d) + rlen + slen);

	d->router = router;
	d->gen = gen;
	gen->refs++;
	d->out = out;
	d->remember = remember;
	d->done = done;
	d->arg = arg;
	memcpy(d->tail, recipient, rlen);
	d->recipient = d->tail;
	if (self_extra != NULL) {
		memcpy(d->tail + rlen, self_extra, slen);
		d->self_extra = d->tail + rlen;
	}
	d->passes = 1;
	router->stats.pending++;
	d->next = router->waiting;
	if (d->next != NULL)
		d->next->prev = d;
	router->waiting = d;
	return d;
}

/*
 * Sends every question the last pass missed; takes over ctx's list. An
 * answer may come back before resolver_query() returns, so one extra
 * count keeps the pass open until all are sent.
 */
static void waiting_ask(struct waiting_route *d, struct lookup_ctx *ctx)
{
	struct resolver *resolver = d->gen->dns->resolver;

	free(d->questions.q);
	d->questions = ctx->misses;
	ctx->misses = (struct question_list){ 0 };
	if (d->questions.n == 0) {
		/* The engine is pending on nothing: a bug, not a DNS problem. */
		waiting_give_up(d, "the route engine asked for nothing");
		return;
	}
	d->outstanding = (unsigned)d->questions.n + 1;
	for (size_t i = 0; i < d->questions.n; i++) {
		const struct question *q = &d->questions.q[i];

		resolver_query(resolver, q->channel, q->type, q->name, waiting_on_answer, d);
	}
	if (--d->outstanding == 0)
		waiting_pass(d);
}

static void waiting_on_answer(void *arg, unsigned channel, enum dns_type type,
			       const char *name, const struct dns_answer *answer)
{
	struct waiting_route *d = arg;
	struct router *router = d->router;
	struct fetched *f;

	if (d->n_fetched == d->cap_fetched) {
		d->cap_fetched = d->cap_fetched ? 2 * d->cap_fetched : 8;
		d->fetched = xreallocarray(d->fetched, d->cap_fetched, sizeof(*d->fetched));
	}
	f = &d->fetched[d->n_fetched++];
	f->channel = channel;
	f->type = type;
	f->answer = dns_answer_copy(answer);
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (d->gen->dns == router->current->dns && !router->closing)
		cache_put(router->cache, channel, type, name, dns_answer_copy(answer),
			  evloop_now_ms(router->loop));
	if (--d->outstanding == 0)
		waiting_pass(d);
}

static void waiting_pass(struct waiting_route *d)
{
	struct router *router = d->router;
	struct lookup_ctx ctx = { .fetched = d->fetched, .n_fetched = d->n_fetched };
	struct route *route;

	if (d->answered) {
		waiting_free(d);
		return;
	}
	if (router->closing) {
		waiting_give_up(d, "mxpath is shutting down");
		return;
	}
	if (++d->passes > PASSES_MAX) {
		waiting_give_up(d, NULL);
		return;
	}
	route = d->out != NULL ? d->out : router_borrow_route(router);
	if (router_run_engine(router, d->gen, d->recipient, d->self_extra, &ctx, route) ==
	    ROUTE_DONE) {
		struct router_gen *gen = d->gen;

		free(ctx.misses.q);
		gen->refs++;	/* waiting_finish frees d */
		waiting_finish(d, route, true);
		router_prefetch(router, gen, &ctx.due);
		gen_unref(router, &gen);
		return;
	}
	free(ctx.due.q);
	if (d->out == NULL)
		router_return_route(router, route);
	waiting_ask(d, &ctx);
}

/* A decision that sent queries was a cache miss, unless it is stale. */
static void waiting_finish(struct waiting_route *d, struct route *route, bool asked)
{
	struct router *router = d->router;

	if (asked && route->cache == CACHE_HIT)
		route->cache = CACHE_MISS;
	router_count(router, route);
	router_agree_order(router, d->recipient, d->remember, route);
	d->done(d->arg, route);
	if (d->out == NULL)
		router_return_route(router, route);
	waiting_free(d);
}

static void waiting_give_up(struct waiting_route *d, const char *why)
{
	struct route *route = d->out != NULL ? d->out : router_borrow_route(d->router);

	route_set_tempfail(route, d->recipient, why);
	route->cache = CACHE_MISS;
	waiting_finish(d, route, true);
}

/* Its caller hears "stopping" now; d lives on until its answers are in. */
static void waiting_answer_stopping(struct waiting_route *d)
{
	struct route *route = d->out != NULL ? d->out : router_borrow_route(d->router);

	route_set_stopping(route, d->recipient);
	route->cache = CACHE_MISS;
	router_count(d->router, route);
	d->done(d->arg, route);
	if (d->out == NULL)
		router_return_route(d->router, route);
	d->answered = true;
}

static void waiting_free(struct waiting_route *d)
{
	struct router *router = d->router;

	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		router->waiting = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	router->stats.pending--;
	for (size_t i = 0; i < d->n_fetched; i++)
		dns_answer_free(&d->fetched[i].answer);
	free(d->fetched);
	free(d->questions.q);
	gen_unref(router, &d->gen);
	free(d);
}

unsigned router_stop_waiting(struct router *router)
{
	unsigned answered = 0;

	router->stopping = true;
	for (struct waiting_route *d = router->waiting; d != NULL; d = d->next) {
		if (!d->answered) {
			waiting_answer_stopping(d);
			answered++;
		}
	}
	return answered;
}

/* ---- any thread ---- */

void router_decide_wait(struct router *router, const char *recipient, const char *self_extra,
			unsigned timeout_ms, struct route *out)
{
	struct wait_call *call = wait_call_new(router, recipient, self_extra);
	struct timespec deadline = clock_after_ms(CLOCK_MONOTONIC, timeout_ms);
	bool done;

	evloop_post(router->loop, wait_on_loop, call);
	pthread_mutex_lock(&call->lock);
	while (!call->done &&
	       pthread_cond_timedwait(&call->cond, &call->lock, &deadline) != ETIMEDOUT)
		;
	done = call->done;
	if (done)
		memcpy(out, &call->route, sizeof(*out));
	pthread_mutex_unlock(&call->lock);
	if (!done) {
		route_set_tempfail(out, recipient, NULL);
		smtp_reply_set(&out->reply, REPLY_TEMPFAIL,
			       "no route for %s within %u ms", out->domain, timeout_ms);
	}
	wait_call_unref(call);
}

static struct wait_call *wait_call_new(struct router *router, const char *recipient,
				       const char *self_extra)
{
	size_t rlen = strlen(recipient) + 1, slen = self_extra ? strlen(self_extra) + 1 : 0;
	struct wait_call *call = xcalloc(1, sizeof(*call) + rlen + slen);
	pthread_condattr_t attr;

	call->router = router;
	call->recipient = memcpy(call->tail, recipient, rlen);
	call->self_extra = self_extra ? memcpy(call->tail + rlen, self_extra, slen) : NULL;
	call->refs = 2;		/* the caller and the loop */
	pthread_mutex_init(&call->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&call->cond, &attr);
	pthread_condattr_destroy(&attr);
	return call;
}

static void wait_call_unref(struct wait_call *call)
{
	bool last;

	pthread_mutex_lock(&call->lock);
	last = --call->refs == 0;
	pthread_mutex_unlock(&call->lock);
	if (!last)
		return;
	pthread_cond_destroy(&call->cond);
	pthread_mutex_destroy(&call->lock);
	free(call);
}

static void wait_on_loop(void *arg)
{
	struct wait_call *call = arg;

	router_decide_into(call->router, call->recipient, call->self_extra, true, &call->route,
			   wait_done, call);
}

/* route is &call->route: the decision was made in the call record itself. */
static void wait_done(void *arg, const struct route *route)
{
	struct wait_call *call = arg;

	(void)route;
	pthread_mutex_lock(&call->lock);
	call->done = true;
	pthread_cond_signal(&call->cond);
	pthread_mutex_unlock(&call->lock);
	wait_call_unref(call);
}

/* ---- randomness: xoshiro128** (Blackman and Vigna), loop thread only ---- */

static void rng_seed(uint32_t state[4])
{
	ssize_t n = getrandom(state, 4 * sizeof(*state), 0);

	if (n != (ssize_t)(4 * sizeof(*state))) {
		uint64_t t = clock_now_ms();

		log_warnx("getrandom: %s; MX shuffling seeded from the clock",
			  n < 0 ? strerror(errno) : "short read");
		state[0] = (uint32_t)t ^ 0x9e3779b9u;
		state[1] = (uint32_t)(t >> 32) ^ (uint32_t)getpid();
		state[2] = 0x85ebca6bu;
		state[3] = 0xc2b2ae35u;
	}
	if ((state[0] | state[1] | state[2] | state[3]) == 0)
		state[0] = 1;	/* the all-zero state is a fixed point */
}

static uint32_t rotl32(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static uint32_t rng_next(void *arg)
{
	uint32_t *s = arg;
	uint32_t result = rotl32(s[1] * 5u, 7) * 9u;
	uint32_t t = s[1] << 9;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl32(s[3], 11);
	return result;
}
