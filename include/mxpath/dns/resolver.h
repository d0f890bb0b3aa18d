/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * resolver.h - asks DNS servers questions, on the event loop, with c-ares
 *
 * One c-ares channel per server set: channel 0 is the default servers
 * (dns.servers or /etc/resolv.conf), channel N is static route N-1's own
 * servers. Concurrent questions for the same (channel, type, name) share
 * one query (coalescing). Answers are parsed by dnsmsg_parse(), so every
 * status is exact (SERVFAIL and REFUSED are not confused with a refused
 * connection). Event-loop thread only.
 */
#ifndef MXPATH_RESOLVER_H
#define MXPATH_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxpath/engine/dns.h"
#include "mxpath/runtime/evloop.h"
#include "mxpath/engine/policy.h"

struct resolver;

struct resolver_stats {
	uint64_t queries;		/* sent to a server (after coalescing) */
	uint64_t coalesced;		/* questions that joined a query in flight */
	uint64_t failures;		/* servfail, refused, timeout, bad answer */
	unsigned in_flight;
};

/* answer is owned by the resolver: copy it (or take it via the cache) before returning. */
typedef void (*resolver_done_fn)(void *arg, unsigned channel, enum dns_type type,
				 const char *name, const struct dns_answer *answer);

/* Channels from the policy's dns.* and routes[].dns; -1 with err on failure. */
struct resolver *resolver_new(struct evloop *loop, const struct policy *policy, char *err,
			      size_t errlen);
void resolver_free(struct resolver **resolver);	/* cancels queries: done() gets DNS_TIMEOUT */
void resolver_query(struct resolver *resolver, unsigned channel, enum dns_type type,
		    const char *name, resolver_done_fn done, void *arg);
/* True while a query for (channel, type, name) is in flight. */
bool resolver_asking(const struct resolver *resolver, unsigned channel, enum dns_type type,
		     const char *name);
void resolver_get_stats(const struct resolver *resolver, struct resolver_stats *out);

#endif
