/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_dns.h - a table-driven fake resolver and a seeded PRNG for engine tests
 *
 * The table maps (channel, type, name) to a struct dns_answer built with
 * the real dns_answer builders. The lookup callback hands route_decide()
 * what the table knows and records every question it cannot answer (a
 * miss), the way the router's cache does. In "cold" mode every entry
 * starts unknown: fake_dns_fetch() then plays the resolver, making the
 * missed entries known, so a test can count the passes a decision takes.
 *
 * Header-only (static inline) because only tests/unit/test_*.c are built.
 */
#ifndef MXPATH_TEST_FAKE_DNS_H
#define MXPATH_TEST_FAKE_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/dns.h"
#include "mxpath/engine/route.h"

#define FAKE_DNS_ENTRIES 256
#define FAKE_DNS_MISSES 64
#define FAKE_DNS_RECORDS 16

struct fake_question {
	unsigned channel;
	enum dns_type type;
	char name[MX_NAME_BUF];
};

struct fake_entry {
	struct fake_question q;
	struct dns_answer *answer;
	uint32_t ttl_left;
	bool stale;
	bool known;		/* the lookup callback may hand it out */
};

struct fake_dns {
	struct fake_entry entries[FAKE_DNS_ENTRIES];
	size_t n_entries;
	struct fake_question misses[FAKE_DNS_MISSES];
	size_t n_misses;
	size_t lookups[DNS_TYPE_TXT + 1];	/* per dns_type, answered or not */
	bool cold;		/* new entries start unknown */
};

static inline void fake_dns_init(struct fake_dns *fd, bool cold)
{
	fd->n_entries = 0;
	fd->n_misses = 0;
	memset(fd->lookups, 0, sizeof(fd->lookups));
	fd->cold = cold;
}

static inline void fake_dns_clear(struct fake_dns *fd)
{
	for (size_t i = 0; i < fd->n_entries; i++)
		dns_answer_free(&fd->entries[i].answer);
	fd->n_entries = 0;
	fd->n_misses = 0;
}

static inline struct fake_entry *fake_dns_find(struct fake_dns *fd, unsigned channel,
					       enum dns_type type, const char *name)
{
	for (size_t i = 0; i < fd->n_entries; i++) {
		struct fake_entry *e = &fd->entries[i];

		if (e->q.type == type && e->q.channel == channel && strcmp(e->q.name, name) == 0)
			return e;
	}
	return NULL;
}

/* Takes ownership of answer; a second put for the same question replaces it. */
static inline struct fake_entry *fake_dns_put(struct fake_dns *fd, unsigned channel,
					      enum dns_type type, const char *name,
					      struct dns_answer *answer)
{
	struct fake_entry *e = fake_dns_find(fd, channel, type, name);

	if (e == NULL) {
		if (fd->n_entries == FAKE_DNS_ENTRIES) {
			fprintf(stderr, "fake_dns: table full\n");
			abort();
		}
		e = &fd->entries[fd->n_entries++];
		e->q.channel = channel;
		e->q.type = type;
		snprintf(e->q.name, sizeof(e->q.name), "%s", name);
	} else {
		dns_answer_free(&e->answer);
	}
	e->answer = answer;
	e->ttl_left = answer->ttl;
	e->stale = false;
	e->known = !fd->cold;
	return e;
}

/* "10 a.example, 20 b.example"; "." is the null MX target. */
static inline struct fake_entry *fake_dns_mx_on(struct fake_dns *fd, unsigned channel,
						const char *name, const char *records)
{
	struct dns_mx mx[FAKE_DNS_RECORDS];
	char hosts[FAKE_DNS_RECORDS][MX_NAME_BUF];
	const char *p = records;
	size_t n = 0;
	int used;
	unsigned pref;

	while (n < FAKE_DNS_RECORDS && sscanf(p, " %u %255[^, ]%n", &pref, hosts[n], &used) == 2) {
		mx[n].pref = (uint16_t)pref;
		mx[n].host = strcmp(hosts[n], ".") == 0 ? "" : hosts[n];
		n++;
		p += used;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return fake_dns_put(fd, channel, DNS_TYPE_MX, name, dns_answer_new_mx(mx, n, 300, NULL));
}

static inline struct fake_entry *fake_dns_mx(struct fake_dns *fd, const char *name,
					     const char *records)
{
	return fake_dns_mx_on(fd, 0, name, records);
}

/* "192.0.2.1 192.0.2.2"; cname (may be NULL) is the chain's final target. */
static inline struct fake_entry *fake_dns_addr_cname(struct fake_dns *fd, unsigned channel,
						     enum dns_type type, const char *name,
						     const char *addrs, const char *cname)
{
	struct mx_addr list[FAKE_DNS_RECORDS];
	char buf[MX_ADDR_TEXT_MAX];
	const char *p = addrs;
	size_t n = 0;
	int used;

	while (n < FAKE_DNS_RECORDS && sscanf(p, " %45s%n", buf, &used) == 1) {
		if (addr_parse(buf, &list[n]) == -1) {
			fprintf(stderr, "fake_dns: bad address %s\n", buf);
			abort();
		}
		n++;
		p += used;
	}
	return fake_dns_put(fd, channel, type, name,
			    dns_answer_new_addr(type, list, n, 300, cname));
}

static inline struct fake_entry *fake_dns_a(struct fake_dns *fd, const char *name,
					    const char *addrs)
{
	return fake_dns_addr_cname(fd, 0, DNS_TYPE_A, name, addrs, NULL);
}

static inline struct fake_entry *fake_dns_aaaa(struct fake_dns *fd, const char *name,
					       const char *addrs)
{
	return fake_dns_addr_cname(fd, 0, DNS_TYPE_AAAA, name, addrs, NULL);
}

static inline struct fake_entry *fake_dns_status_on(struct fake_dns *fd, unsigned channel,
						    enum dns_type type, const char *name,
						    enum dns_status status)
{
	return fake_dns_put(fd, channel, type, name, dns_answer_new_status(type, status, 30));
}

static inline struct fake_entry *fake_dns_status(struct fake_dns *fd, enum dns_type type,
						 const char *name, enum dns_status status)
{
	return fake_dns_status_on(fd, 0, type, name, status);
}

/* A host with an A record and no AAAA (NODATA). */
static inline void fake_dns_host(struct fake_dns *fd, const char *name, const char *v4)
{
	fake_dns_a(fd, name, v4);
	fake_dns_status(fd, DNS_TYPE_AAAA, name, DNS_NODATA);
}

/* An alias whose target's records were not in the answer: ask target next. */
static inline struct fake_entry *fake_dns_cname_pending(struct fake_dns *fd, unsigned channel,
							enum dns_type type, const char *name,
							const char *target)
{
	struct dns_answer *answer = type == DNS_TYPE_MX
					    ? dns_answer_new_mx(NULL, 0, 300, target)
					    : dns_answer_new_addr(type, NULL, 0, 300, target);

	answer->cname_pending = true;
	return fake_dns_put(fd, channel, type, name, answer);
}

static inline bool fake_dns_lookup(void *ctx, unsigned channel, enum dns_type type,
				   const char *name, struct dns_lookup_result *out)
{
	struct fake_dns *fd = ctx;
	struct fake_entry *e = fake_dns_find(fd, channel, type, name);

	fd->lookups[type]++;
	if (e != NULL && e->known) {
		out->answer = e->answer;
		out->ttl_left = e->ttl_left;
		out->stale = e->stale;
		return true;
	}
	for (size_t i = 0; i < fd->n_misses; i++) {
		struct fake_question *q = &fd->misses[i];

		if (q->channel == channel && q->type == type && strcmp(q->name, name) == 0)
			return false;
	}
	if (fd->n_misses < FAKE_DNS_MISSES) {
		struct fake_question *q = &fd->misses[fd->n_misses++];

		q->channel = channel;
		q->type = type;
		snprintf(q->name, sizeof(q->name), "%s", name);
	}
	return false;
}

static inline bool fake_dns_missed(const struct fake_dns *fd, unsigned channel,
				   enum dns_type type, const char *name)
{
	for (size_t i = 0; i < fd->n_misses; i++) {
		const struct fake_question *q = &fd->misses[i];

		if (q->channel == channel && q->type == type && strcmp(q->name, name) == 0)
			return true;
	}
	return false;
}

/* Plays the resolver: every missed question becomes known. Returns how
 * many were fetched, or -1 if one has no table row (a test bug). */
static inline int fake_dns_fetch(struct fake_dns *fd)
{
	int fetched = 0;

	for (size_t i = 0; i < fd->n_misses; i++) {
		struct fake_question *q = &fd->misses[i];
		struct fake_entry *e = fake_dns_find(fd, q->channel, q->type, q->name);

		if (e == NULL) {
			fprintf(stderr, "fake_dns: no row for %u %s %s\n", q->channel,
				dns_type_name(q->type), q->name);
			return -1;
		}
		e->known = true;
		fetched++;
	}
	fd->n_misses = 0;
	return fetched;
}

/* Decides, fetching what is missing between passes. Returns the number
 * of route_decide() calls, or -1 if it never finished. */
static inline int fake_dns_decide(struct fake_dns *fd, const struct route_input *in,
				  struct route *out, int max_passes)
{
	for (int pass = 1; pass <= max_passes; pass++) {
		fd->n_misses = 0;
		if (route_decide(in, out) == ROUTE_DONE)
			return pass;
		if (fake_dns_fetch(fd) <= 0)
			return -1;
	}
	return -1;
}

/* xorshift64*: a small seeded generator, reproducible across runs. */
struct fake_random {
	uint64_t state;
	uint64_t draws;
};

static inline void fake_random_seed(struct fake_random *r, uint64_t seed)
{
	r->state = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
	r->draws = 0;
}

static inline uint32_t fake_random_next(void *ctx)
{
	struct fake_random *r = ctx;

	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	r->draws++;
	return (uint32_t)((r->state * 0x2545f4914f6cdd1dull) >> 32);
}

#endif
