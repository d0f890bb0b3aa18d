/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_router.c - the router: passes, cache, coalescing, reload, other threads
 *
 * Runs the real router, resolver and cache against a tiny DNS server in a
 * thread of this process (UDP on 127.0.0.1, canned answers for one zone),
 * which can hold its answers back so a decision stays in flight while the
 * test reloads the policy or frees the router, and can answer with a
 * short TTL or SERVFAIL (prefetch).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mxpath/config/config.h"
#include "mxpath/dns/router.h"

#define HELD_MAX 32
#define PACKET_MAX 512

/* ---- a DNS server with canned answers ---- */

struct held {
	unsigned char buf[PACKET_MAX];
	ssize_t len;
	struct sockaddr_in from;
};

struct fake_dns {
	int fd;
	unsigned short port;
	const char *mx1_address;	/* what mx1.example.test's A record says */
	pthread_t thread;
	pthread_mutex_t lock;
	bool hold;			/* keep answers until released */
	bool servfail;			/* answer SERVFAIL */
	uint32_t ttl;			/* of the records (300 unless set) */
	struct held held[HELD_MAX];
	size_t n_held;
	unsigned mx_queries, a_queries;
	atomic_bool stop;
};

static size_t dns_put_name(unsigned char *p, const char *name)
{
	size_t n = 0;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		p[n++] = (unsigned char)len;
		memcpy(p + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* Reads the question's name (lower case, dotted) and type; the question's end. */
static size_t dns_read_question(const unsigned char *q, size_t len, char *name, uint16_t *type)
{
	size_t off = 12, n = 0;

	while (off < len && q[off] != 0) {
		size_t l = q[off++];

		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, q + off, l);
		n += l;
		off += l;
	}
	name[n] = '\0';
	*type = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
	return off + 5;
}

static size_t dns_put_rr(unsigned char *p, uint16_t type, uint32_t ttl,
			 const unsigned char *rdata, size_t rdlen)
{
	size_t n = 0;

	p[n++] = 0xc0;	/* the question's name */
	p[n++] = 12;
	p[n++] = (unsigned char)(type >> 8);
	p[n++] = (unsigned char)type;
	p[n++] = 0;
	p[n++] = 1;	/* IN */
	p[n++] = (unsigned char)(ttl >> 24);
	p[n++] = (unsigned char)(ttl >> 16);
	p[n++] = (unsigned char)(ttl >> 8);
	p[n++] = (unsigned char)ttl;
	p[n++] = (unsigned char)(rdlen >> 8);
	p[n++] = (unsigned char)rdlen;
	memcpy(p + n, rdata, rdlen);
	return n + rdlen;
}

/* example.test MX 10 mx1.example.test; mx1 A <mx1_address>; nothing else
 * (or SERVFAIL for everything). */
static void fake_answer(struct fake_dns *dns, const struct held *h)
{
	unsigned char out[PACKET_MAX], rdata[300];
	char name[300];
	uint16_t type;
	size_t end = dns_read_question(h->buf, (size_t)h->len, name, &type), n;
	unsigned ancount = 0;

	memcpy(out, h->buf, end);
	out[2] = 0x84;	/* QR, AA */
	out[3] = dns->servfail ? 0x02 : 0x00;
	n = end;
	if (dns->servfail) {
		/* no records */
	} else if (strcmp(name, "example.test") == 0 && type == 15) {
		rdata[0] = 0;
		rdata[1] = 10;
		n += dns_put_rr(out + n, 15, dns->ttl, rdata,
				2 + dns_put_name(rdata + 2, "mx1.example.test"));
		ancount = 1;
	} else if (strcmp(name, "mx1.example.test") == 0 && type == 1) {
		inet_pton(AF_INET, dns->mx1_address, rdata);
		n += dns_put_rr(out + n, 1, dns->ttl, rdata, 4);
		ancount = 1;
	}
	out[6] = 0;
	out[7] = (unsigned char)ancount;
	out[8] = out[9] = out[10] = out[11] = 0;
	sendto(dns->fd, out, n, 0, (const struct sockaddr *)&h->from, sizeof(h->from));
}

static void fake_hold(struct fake_dns *dns)
{
	pthread_mutex_lock(&dns->lock);
	dns->hold = true;
	pthread_mutex_unlock(&dns->lock);
}

static void fake_release(struct fake_dns *dns)
{
	pthread_mutex_lock(&dns->lock);
	dns->hold = false;
	for (size_t i = 0; i < dns->n_held; i++)
		fake_answer(dns, &dns->held[i]);
	dns->n_held = 0;
	pthread_mutex_unlock(&dns->lock);
}

static void *fake_serve(void *arg)
{
	struct fake_dns *dns = arg;

	while (!atomic_load(&dns->stop)) {
		struct pollfd pfd = { .fd = dns->fd, .events = POLLIN };
		struct held h = { .len = 0 };
		socklen_t fromlen = sizeof(h.from);
		char name[300];
		uint16_t type;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		h.len = recvfrom(dns->fd, h.buf, sizeof(h.buf), 0, (struct sockaddr *)&h.from,
				 &fromlen);
		if (h.len < 17)
			continue;
		dns_read_question(h.buf, (size_t)h.len, name, &type);
		pthread_mutex_lock(&dns->lock);
		dns->mx_queries += type == 15;
		dns->a_queries += type == 1;
		if (dns->hold && dns->n_held < HELD_MAX)
			dns->held[dns->n_held++] = h;
		else
			fake_answer(dns, &h);
		pthread_mutex_unlock(&dns->lock);
	}
	return NULL;
}

static void fake_start(struct fake_dns *dns, const char *mx1_address)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	memset(dns, 0, sizeof(*dns));
	dns->mx1_address = mx1_address;
	dns->ttl = 300;
	pthread_mutex_init(&dns->lock, NULL);
	dns->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(dns->fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(dns->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(dns->fd, (struct sockaddr *)&sin, &len), 0);
	dns->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&dns->thread, NULL, fake_serve, dns), 0);
}

static void fake_stop(struct fake_dns *dns)
{
	atomic_store(&dns->stop, true);
	pthread_join(dns->thread, NULL);
	close(dns->fd);
	pthread_mutex_destroy(&dns->lock);
}

static void fake_set(struct fake_dns *dns, uint32_t ttl, bool servfail)
{
	pthread_mutex_lock(&dns->lock);
	dns->ttl = ttl;
	dns->servfail = servfail;
	pthread_mutex_unlock(&dns->lock);
}

static unsigned fake_mx_queries(struct fake_dns *dns)
{
	unsigned n;

	pthread_mutex_lock(&dns->lock);
	n = dns->mx_queries;
	pthread_mutex_unlock(&dns->lock);
	return n;
}

/* ---- the test bench ---- */

struct bench {
	struct fake_dns dns[2];
	struct evloop *loop;
	struct router *router;
	struct policy *policy;
};

struct outcome {
	struct evloop *loop;
	int calls;
	bool stop_loop;		/* evloop_stop() when done */
	enum route_action action;
	enum cache_state cache;
	int code;
	char address[64];	/* the first hop's first address */
};

static struct policy *policy_for(unsigned short port)
{
	char text[256], err[CONFIG_ERROR_MAX];
	struct policy *policy = NULL;

	snprintf(text, sizeof(text),
		 "self = { addresses = [ ]; };\n"
		 "dns = { servers = [ \"127.0.0.1:%u\" ]; timeout_ms = 500; tries = 1; };\n",
		 port);
	if (config_load_string(text, "test", &policy, NULL, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return policy;
}

static int bench_setup(void **state)
{
	struct bench *b = calloc(1, sizeof(*b));
	char err[256];

	fake_start(&b->dns[0], "192.0.2.1");
	fake_start(&b->dns[1], "192.0.2.2");
	b->loop = evloop_new();
	b->policy = policy_for(b->dns[0].port);
	b->router = router_new(b->loop, b->policy, err, sizeof(err));
	assert_non_null(b->router);
	*state = b;
	return 0;
}

static int bench_teardown(void **state)
{
	struct bench *b = *state;

	router_free(&b->router);
	evloop_free(&b->loop);
	policy_unref(&b->policy);
	fake_stop(&b->dns[0]);
	fake_stop(&b->dns[1]);
	free(b);
	return 0;
}

static void on_done(void *arg, const struct route *route)
{
	struct outcome *o = arg;

	o->calls++;
	o->action = route->action;
	o->cache = route->cache;
	o->code = route->reply.code;
	o->address[0] = '\0';
	if (route->n_hops > 0 && route->hops[0].addr_count > 0)
		addr_format(&route->addrs[route->hops[0].addr_first], o->address, sizeof(o->address));
	if (o->stop_loop)
		evloop_stop(o->loop);
}

struct deadline {
	struct evloop *loop;
	struct evtimer *timer;
};

static void deadline_reached(void *arg)
{
	struct deadline *d = arg;

	d->timer = NULL;
	evloop_stop(d->loop);
}

/* Runs the loop for at most ms, or until something else stops it. */
static void run_for(struct evloop *loop, uint64_t ms)
{
	struct deadline d = { loop, NULL };

	d.timer = evloop_timer_add(loop, ms, deadline_reached, &d);
	evloop_run(loop);
	evloop_timer_cancel(loop, &d.timer);
}

static void decide_and_wait(struct bench *b, const char *rcpt, struct outcome *o)
{
	o->loop = b->loop;
	o->stop_loop = true;
	router_decide(b->router, rcpt, NULL, on_done, o);
	if (o->calls == 0)
		run_for(b->loop, 3000);
}

/* Runs the loop into the next second of the clock (the cache's unit), ms past its start. */
static void run_into_next_second(struct evloop *loop, uint64_t ms)
{
	run_for(loop, 1000 - clock_now_ms() % 1000 + ms);
}

/*
 * example.test and mx1 with TTL 2 s, decided cold just after a second
 * starts (second s0): both answers are fresh until s0 + 2, and in the
 * last tenth of their TTL (at least the last second) from s0 + 1 on.
 */
static void decide_cold_with_ttl_2(struct bench *b)
{
	struct outcome cold = { 0 };

	fake_set(&b->dns[0], 2, false);
	run_into_next_second(b->loop, 20);
	decide_and_wait(b, "user@example.test", &cold);
	assert_int_equal(cold.cache, CACHE_MISS);
	run_into_next_second(b->loop, 20);	/* s0 + 1: ttl_left 1 of 2 */
}

/* ---- tests ---- */

static void test_cold_decision_is_a_miss_then_warm_hit_is_synchronous(void **state)
{
	struct bench *b = *state;
	struct outcome cold = { 0 }, warm = { 0 };
	struct router_stats stats;

	decide_and_wait(b, "user@example.test", &cold);
	assert_int_equal(cold.calls, 1);
	assert_int_equal(cold.action, ROUTE_RELAY);
	assert_int_equal(cold.cache, CACHE_MISS);
	assert_string_equal(cold.address, "192.0.2.1");

	router_decide(b->router, "user@example.test", NULL, on_done, &warm);
	assert_int_equal(warm.calls, 1);	/* before router_decide returned */
	assert_int_equal(warm.cache, CACHE_HIT);
	assert_string_equal(warm.address, "192.0.2.1");
	assert_int_equal(fake_mx_queries(&b->dns[0]), 1);

	router_get_stats(b->router, &stats);
	assert_int_equal(stats.decisions, 2);
	assert_int_equal(stats.cache_misses, 1);
	assert_int_equal(stats.cache_hits, 1);
	assert_int_equal(stats.dns_queries, 4);	/* MX, then A, AAAA and _mta-sts TXT */
}

static void test_concurrent_cold_decisions_share_queries(void **state)
{
	struct bench *b = *state;
	struct outcome o[3] = { { 0 } };
	struct router_stats stats;

	for (int i = 0; i < 3; i++)
		router_decide(b->router, "user@example.test", NULL, on_done, &o[i]);
	run_for(b->loop, 300);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(o[i].calls, 1);
		assert_int_equal(o[i].cache, CACHE_MISS);
	}
	assert_int_equal(fake_mx_queries(&b->dns[0]), 1);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.dns_queries, 4);
	assert_true(stats.dns_coalesced >= 2);
}

static void test_reload_with_new_servers_lets_decisions_in_flight_finish(void **state)
{
	struct bench *b = *state;
	struct outcome before = { 0 }, after = { 0 };
	struct policy *next = policy_for(b->dns[1].port);
	struct policy *now;
	char err[256];

	fake_hold(&b->dns[0]);
	router_decide(b->router, "user@example.test", NULL, on_done, &before);
	run_for(b->loop, 50);
	assert_int_equal(before.calls, 0);	/* its MX query is held */

	assert_int_equal(router_set_policy(b->router, next, err, sizeof(err)), 0);
	now = router_policy(b->router);
	assert_ptr_equal(now, next);
	policy_unref(&now);
	decide_and_wait(b, "user@example.test", &after);
	assert_string_equal(after.address, "192.0.2.2");	/* the new servers */

	fake_release(&b->dns[0]);
	before.loop = b->loop;
	before.stop_loop = true;
	run_for(b->loop, 3000);
	assert_int_equal(before.calls, 1);
	assert_string_equal(before.address, "192.0.2.1");	/* the servers it started on */
	run_for(b->loop, 20);	/* the retired resolver is freed from a timer */
	policy_unref(&next);
}

static void test_reload_with_same_servers_keeps_the_cache(void **state)
{
	struct bench *b = *state;
	struct outcome cold = { 0 }, warm = { 0 };
	struct policy *same = policy_for(b->dns[0].port);
	char err[256];

	decide_and_wait(b, "user@example.test", &cold);
	assert_int_equal(router_set_policy(b->router, same, err, sizeof(err)), 0);
	router_decide(b->router, "user@example.test", NULL, on_done, &warm);
	assert_int_equal(warm.calls, 1);
	assert_int_equal(warm.cache, CACHE_HIT);
	policy_unref(&same);
}

static uint64_t memo_hits(struct bench *b)
{
	struct router_stats stats;

	router_get_stats(b->router, &stats);
	return stats.memo_hits;
}

/* The first warm decision keeps its route; the next are copies of it, the
 * same route; a reload forgets it (the policy is part of every route). */
static void test_warm_routes_are_kept_per_domain_until_a_reload(void **state)
{
	struct bench *b = *state;
	struct outcome cold = { 0 }, warm[3] = { { 0 } }, reloaded[2] = { { 0 } };
	struct policy *same = policy_for(b->dns[0].port);
	char err[256];

	decide_and_wait(b, "user@example.test", &cold);
	for (int i = 0; i < 3; i++) {
		router_decide(b->router, i == 2 ? "other@example.test" : "user@example.test", NULL,
			      on_done, &warm[i]);
		assert_int_equal(warm[i].calls, 1);
		assert_int_equal(warm[i].action, ROUTE_RELAY);
		assert_int_equal(warm[i].cache, CACHE_HIT);
		assert_string_equal(warm[i].address, "192.0.2.1");
	}
	assert_int_equal(memo_hits(b), 2);	/* by domain: "other@" too */

	assert_int_equal(router_set_policy(b->router, same, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		router_decide(b->router, "user@example.test", NULL, on_done, &reloaded[i]);
		assert_string_equal(reloaded[i].address, "192.0.2.1");
	}
	assert_int_equal(memo_hits(b), 3);	/* the first after the reload decided afresh */
	assert_int_equal(fake_mx_queries(&b->dns[0]), 1);
	policy_unref(&same);
}

struct waiter {
	struct bench *bench;
	struct route *route;
};

static void *decide_from_thread(void *arg)
{
	struct waiter *w = arg;

	router_decide_wait(w->bench->router, "user@example.test", NULL, 10000, w->route);
	evloop_stop(w->bench->loop);
	return NULL;
}

static void test_decide_wait_from_another_thread_fills_the_route(void **state)
{
	struct bench *b = *state;
	struct route *route = calloc(1, sizeof(*route));
	struct waiter w = { b, route };
	pthread_t thread;
	char text[MX_ADDR_TEXT_MAX];

	assert_int_equal(pthread_create(&thread, NULL, decide_from_thread, &w), 0);
	run_for(b->loop, 3000);
	pthread_join(thread, NULL);
	assert_int_equal(route->action, ROUTE_RELAY);
	assert_int_equal(route->n_hops, 1);
	assert_string_equal(route->hops[0].host, "mx1.example.test");
	assert_string_equal(addr_format(&route->addrs[route->hops[0].addr_first], text,
					sizeof(text)),
			    "192.0.2.1");
	free(route);
}

static void test_free_with_decision_in_flight_tempfails_it(void **state)
{
	struct bench *b = *state;
	struct outcome o = { 0 };

	fake_hold(&b->dns[0]);
	router_decide(b->router, "user@example.test", NULL, on_done, &o);
	run_for(b->loop, 30);
	assert_int_equal(o.calls, 0);
	router_free(&b->router);
	assert_null(b->router);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.action, ROUTE_TEMPFAIL);
	assert_int_equal(o.code, 451);
	fake_release(&b->dns[0]);
}

static void test_pending_counts_decisions_waiting_for_dns(void **state)
{
	struct bench *b = *state;
	struct outcome o[2] = { { 0 } };
	struct router_stats stats;

	fake_hold(&b->dns[0]);
	router_decide(b->router, "user@example.test", NULL, on_done, &o[0]);
	router_decide(b->router, "other@example.test", NULL, on_done, &o[1]);
	router_decide(b->router, "user@[192.0.2.9]", NULL, on_done, &o[0]);
	run_for(b->loop, 30);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.pending, 2);	/* the literal needed no DNS */
	fake_release(&b->dns[0]);
	run_for(b->loop, 300);
	assert_int_equal(o[0].calls, 2);
	assert_int_equal(o[1].calls, 1);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.pending, 0);
}

static void test_hot_answers_are_refreshed_before_they_expire(void **state)
{
	struct bench *b = *state;
	struct outcome first = { 0 }, second = { 0 }, later = { 0 };
	struct router_stats stats;
	uint64_t started;

	decide_cold_with_ttl_2(b);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.prefetches, 0);

	router_decide(b->router, "user@example.test", NULL, on_done, &first);
	assert_int_equal(first.calls, 1);		/* did not wait */
	assert_int_equal(first.cache, CACHE_HIT);
	router_get_stats(b->router, &stats);
	started = stats.prefetches;
	assert_int_equal(started, 2);			/* the MX and mx1's A */
	router_decide(b->router, "user@example.test", NULL, on_done, &second);
	assert_int_equal(second.calls, 1);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.prefetches, started);	/* one refresh in flight per question */

	run_into_next_second(b->loop, 20);		/* s0 + 2: the first answers expired */
	assert_int_equal(fake_mx_queries(&b->dns[0]), 2);
	router_decide(b->router, "user@example.test", NULL, on_done, &later);
	assert_int_equal(later.calls, 1);		/* the refreshed answers */
	assert_int_equal(later.cache, CACHE_HIT);
	assert_string_equal(later.address, "192.0.2.1");
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.cache_misses, 1);	/* only the cold decision waited */
}

/* A refresh that fails changes nothing: the entry expires when it would
 * have, and the next decision asks for itself (then serves it stale). */
static void test_failed_refresh_is_dropped(void **state)
{
	struct bench *b = *state;
	struct outcome warm = { 0 }, expired = { 0 };
	struct router_stats stats;

	decide_cold_with_ttl_2(b);
	fake_hold(&b->dns[0]);
	run_for(b->loop, 600);				/* s0 + 1.6 */
	router_decide(b->router, "user@example.test", NULL, on_done, &warm);
	assert_int_equal(warm.calls, 1);
	run_for(b->loop, 700);		/* the refresh timed out (500 ms) after s0 + 2 */
	fake_set(&b->dns[0], 2, true);
	fake_release(&b->dns[0]);

	expired.loop = b->loop;
	expired.stop_loop = true;
	router_decide(b->router, "user@example.test", NULL, on_done, &expired);
	assert_int_equal(expired.calls, 0);		/* a miss: it asks */
	run_for(b->loop, 2000);
	assert_int_equal(expired.calls, 1);
	assert_int_equal(expired.cache, CACHE_STALE);
	assert_int_equal(fake_mx_queries(&b->dns[0]), 3);	/* cold, refresh, this one */
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.prefetches, 2);
}

/*
 * A memoised route ends where its earliest answer's last tenth begins on
 * the cache's clock (a second boundary), not a TTL after a mid-second put:
 * the full decision after it must still find the answer due for a refresh
 * with the whole tenth (here the last second) left.
 */
static void test_memo_ends_where_the_prefetch_window_begins(void **state)
{
	struct bench *b = *state;
	struct outcome cold = { 0 }, memoised = { 0 }, in_window = { 0 };
	struct router_stats stats;

	fake_set(&b->dns[0], 2, false);
	run_into_next_second(b->loop, 20);		/* s0 */
	decide_and_wait(b, "user@example.test", &cold);
	run_for(b->loop, 850);				/* s0 + 0.87: ttl_left 2 of 2 */
	router_decide(b->router, "user@example.test", NULL, on_done, &memoised);
	assert_int_equal(memoised.calls, 1);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.prefetches, 0);

	run_into_next_second(b->loop, 250);		/* s0 + 1.25: the last second */
	router_decide(b->router, "user@example.test", NULL, on_done, &in_window);
	assert_int_equal(in_window.calls, 1);
	assert_int_equal(in_window.cache, CACHE_HIT);
	router_get_stats(b->router, &stats);
	assert_int_equal(stats.prefetches, 2);		/* the MX and mx1's A */
}

static void test_decisions_without_dns_need_no_loop(void **state)
{
	struct bench *b = *state;
	struct outcome o = { 0 };

	router_decide(b->router, "user@[192.0.2.9]", NULL, on_done, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.action, ROUTE_RELAY);
	assert_int_equal(o.cache, CACHE_NONE);
	router_decide(b->router, "user@bad..name", NULL, on_done, &o);
	assert_int_equal(o.calls, 2);
	assert_int_equal(o.action, ROUTE_REJECT);
	assert_int_equal(fake_mx_queries(&b->dns[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_cold_decision_is_a_miss_then_warm_hit_is_synchronous, bench_setup,
			bench_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_cold_decisions_share_queries,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(
			test_reload_with_new_servers_lets_decisions_in_flight_finish, bench_setup,
			bench_teardown),
		cmocka_unit_test_setup_teardown(test_warm_routes_are_kept_per_domain_until_a_reload,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_reload_with_same_servers_keeps_the_cache,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_decide_wait_from_another_thread_fills_the_route,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_free_with_decision_in_flight_tempfails_it,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_pending_counts_decisions_waiting_for_dns,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_decisions_without_dns_need_no_loop,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_hot_answers_are_refreshed_before_they_expire,
						bench_setup, bench_teardown),
		cmocka_unit_test_setup_teardown(test_failed_refresh_is_dropped, bench_setup,
						bench_teardown),
		cmocka_unit_test_setup_teardown(test_memo_ends_where_the_prefetch_window_begins,
						bench_setup, bench_teardown),
	};

	log_open_stderr("test_router");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
