/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_coalesce.c - many concurrent cold decisions of one domain
 *
 * A new router (empty cache) on a new event loop is handed N decisions
 * of the same recipient before the loop runs, as N milter threads or
 * socketmap connections asking at once would; then the loop runs until
 * every one is done. The resolver should send each question once and let
 * the others wait on it (coalescing). Prints one line:
 *
 *     coalesce requests=N done=D relayed=R dns_queries=Q coalesced=C ms=T
 *
 * tests/bench/run-bench counts the queries in the DNS server's log too.
 * Exit status 1 unless all N decisions relay.
 *
 *   bench_coalesce SERVER[:PORT] RECIPIENT [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mxpath/config/config.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/dns/router.h"

#define COALESCE_TIMEOUT_MS 30000

struct tally {
	struct evloop *loop;
	unsigned long want, done, relayed;
};

static struct router *coalesce_router(struct evloop *loop, const char *server);
static void coalesce_on_done(void *arg, const struct route *route);
static void coalesce_on_timeout(void *arg);

int main(int argc, char **argv)
{
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	struct tally t = { .want = n };
	struct router_stats stats;
	struct router *router;
	struct evtimer *timer;
	uint64_t start;

	if (argc < 3 || n == 0) {
		fprintf(stderr, "usage: bench_coalesce SERVER[:PORT] RECIPIENT [N]\n");
		return 2;
	}
	log_open_stderr("bench_coalesce");
	t.loop = evloop_new();
	router = coalesce_router(t.loop, argv[1]);
	timer = evloop_timer_add(t.loop, COALESCE_TIMEOUT_MS, coalesce_on_timeout, t.loop);
	start = clock_now_ms();
	for (unsigned long i = 0; i < n; i++)
		router_decide(router, argv[2], NULL, coalesce_on_done, &t);
	if (t.done < n)
		evloop_run(t.loop);
	router_get_stats(router, &stats);
	printf("coalesce requests=%lu done=%lu relayed=%lu dns_queries=%llu coalesced=%llu "
	       "ms=%llu\n", n, t.done, t.relayed, (unsigned long long)stats.dns_queries,
	       (unsigned long long)stats.dns_coalesced,
	       (unsigned long long)(clock_now_ms() - start));
	if (t.done == n)
		evloop_timer_cancel(t.loop, &timer);
	router_free(&router);
	evloop_free(&t.loop);
	return t.relayed == n ? 0 : 1;
}

/* Self is nobody: the test zones point exchangers at 127.0.0.x. */
static struct router *coalesce_router(struct evloop *loop, const char *server)
{
	char text[512], err[CONFIG_ERROR_MAX];
	struct policy *policy;
	struct router *router;

	snprintf(text, sizeof(text),
		 "self = { addresses = [ ]; }; dns = { servers = [ \"%s\" ]; timeout_ms = 2000; };",
		 server);
	if (config_load_string(text, "(bench)", &policy, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_coalesce: %s\n", err);
		exit(2);
	}
	router = router_new(loop, policy, err, sizeof(err));
	policy_unref(&policy);
	if (router == NULL) {
		fprintf(stderr, "bench_coalesce: %s\n", err);
		exit(2);
	}
	return router;
}

static void coalesce_on_done(void *arg, const struct route *route)
{
	struct tally *t = arg;

	t->done++;
	if (route->action == ROUTE_RELAY)
		t->relayed++;
	if (t->done == t->want)
		evloop_stop(t->loop);
}

static void coalesce_on_timeout(void *arg)
{
	fprintf(stderr, "bench_coalesce: not every decision was done after %d ms\n",
		COALESCE_TIMEOUT_MS);
	evloop_stop(arg);
}
