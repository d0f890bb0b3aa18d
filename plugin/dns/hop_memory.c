/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hop_memory.c - the hop order the milter decided, kept for the socketmap
 *
 * Why. Both doors decide a recipient's route, and each decision shuffles
 * the hops of equal preference (RFC 5321 5.1). The milter logs its order
 * (and may stamp it in the X-MXPath header); Postfix then asks the
 * socketmap and tries the order it is given. Without a memory the two
 * orders agree one time in n! and the log says something that did not
 * happen. So the milter's decision writes its order down here, keyed by
 * the recipient, and the socketmap's decision for the same recipient
 * follows it (route_order.c sorts each equal-preference run to match).
 *
 * What stays random. Each message's first RCPT for a recipient shuffles
 * afresh; only a second message to the same recipient within
 * HOP_MEMORY_SHARE_MS follows the first (so two messages in flight at
 * once agree too). Different recipients at one domain are independent,
 * so load still spreads over equal exchangers. Decisions without a milter
 * decision before them (sendmail's mailertable asks by domain, local
 * submission, the CLI) shuffle as always.
 *
 * Shape. A hash table of entries, each also on a list from the least to
 * the most recently written; since every write keeps an entry for the
 * same HOP_MEMORY_KEEP_MS, that list is also expiry order, and the
 * oldest entries are dropped from its head (expired, or over the cap).
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/dns/hop_memory.h"
#include "mxpath/engine/address.h"
#include "mxpath/engine/route_order.h"

#define BUCKETS 4096		/* a power of two */

struct entry {
	struct entry *chain;		/* next in the bucket */
	struct entry *older, *newer;	/* the write-order list */
	uint64_t born_ms;		/* when this order was decided */
	uint64_t expires_ms;
	char *order;			/* route_order_write() */
	size_t order_len;
	char key[];			/* "local@domain", lower case */
};

struct hop_memory {
	struct entry *buckets[BUCKETS];
	struct entry *oldest, *newest;
	size_t n, max;
};

static bool memory_key(const char *recipient, char *key, size_t size);
static uint32_t key_hash(const char *key);
static struct entry *memory_find(const struct hop_memory *m, const char *key, uint64_t now_ms);
static void memory_write(struct hop_memory *m, const char *key, const struct route *route,
			 uint64_t now_ms);
static void memory_refresh(struct hop_memory *m, struct entry *e, uint64_t now_ms);
static void memory_expire(struct hop_memory *m, uint64_t now_ms);
static void list_unlink(struct hop_memory *m, struct entry *e);
static void list_append(struct hop_memory *m, struct entry *e);
static void entry_remove(struct hop_memory *m, struct entry *e);

struct hop_memory *hop_memory_new(size_t max_entries)
{
	struct hop_memory *m = xcalloc(1, sizeof(*m));

	m->max = max_entries > 0 ? max_entries : 1;
	return m;
}

void hop_memory_free(struct hop_memory **memory)
{
	struct hop_memory *m = *memory;

	if (m == NULL)
		return;
	while (m->oldest != NULL)
		entry_remove(m, m->oldest);
	free(m);
	*memory = NULL;
}

void hop_memory_decide(struct hop_memory *m, const char *recipient, struct route *route,
		       uint64_t now_ms)
{
	char key[MX_ADDRESS_MAX + 1];
	struct entry *e;

	if (route->action != ROUTE_RELAY || !memory_key(recipient, key, sizeof(key)))
		return;
	memory_expire(m, now_ms);
	e = memory_find(m, key, now_ms);
	if (e != NULL && now_ms - e->born_ms < HOP_MEMORY_SHARE_MS) {
		route_order_follow(route, e->order, e->order_len);
		memory_refresh(m, e, now_ms);
		return;
	}
	if (e != NULL)
		entry_remove(m, e);
	memory_write(m, key, route, now_ms);
}

void hop_memory_follow(const struct hop_memory *m, const char *recipient, struct route *route,
		       uint64_t now_ms)
{
	char key[MX_ADDRESS_MAX + 1];
	const struct entry *e;

	if (m->n == 0 || route->action != ROUTE_RELAY || !memory_key(recipient, key, sizeof(key)))
		return;
	e = memory_find(m, key, now_ms);
	if (e != NULL)
		route_order_follow(route, e->order, e->order_len);
}

size_t hop_memory_entries(const struct hop_memory *m)
{
	return m->n;
}

/* "User@Example.ORG" and "<user@example.org>" are one recipient; a bare
 * domain or a literal has nothing to remember by. */
static bool memory_key(const char *recipient, char *key, size_t size)
{
	struct recipient rcpt;
	const char *why;
	size_t n;

	if (recipient_parse(recipient, &rcpt, &why) == -1 || !rcpt.has_local ||
	    rcpt.kind != RECIPIENT_DOMAIN)
		return false;
	n = strlen(rcpt.local);
	if (n + 1 + strlen(rcpt.domain) + 1 > size)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = rcpt.local[i];

		key[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	key[n] = '@';
	strcpy(key + n + 1, rcpt.domain);
	return true;
}

/* FNV-1a. */
static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

static struct entry *memory_find(const struct hop_memory *m, const char *key, uint64_t now_ms)
{
	struct entry *e = m->buckets[key_hash(key) & (BUCKETS - 1)];

	for (; e != NULL; e = e->chain) {
		if (strcmp(e->key, key) == 0)
			return now_ms < e->expires_ms ? e : NULL;
	}
	return NULL;
}

static void memory_write(struct hop_memory *m, const char *key, const struct route *route,
			 uint64_t now_ms)
{
	char order[ROUTE_ORDER_MAX];
	size_t len = route_order_write(route, order, sizeof(order));
	size_t key_len = strlen(key) + 1;
	struct entry *e;
	uint32_t bucket;

	if (len == 0)
		return;			/* no equal preferences: nothing to agree on */
	while (m->n >= m->max)
		entry_remove(m, m->oldest);
	e = xmalloc(sizeof(*e) + key_len);
	memcpy(e->key, key, key_len);
	e->order = xmalloc(len);
	memcpy(e->order, order, len);
	e->order_len = len;
	e->born_ms = now_ms;
	bucket = key_hash(key) & (BUCKETS - 1);
	e->chain = m->buckets[bucket];
	m->buckets[bucket] = e;
	m->n++;
	e->older = e->newer = NULL;
	memory_refresh(m, e, now_ms);
}

/* Kept HOP_MEMORY_KEEP_MS from now; the newest on the list. */
static void memory_refresh(struct hop_memory *m, struct entry *e, uint64_t now_ms)
{
	if (e->older != NULL || e->newer != NULL || m->oldest == e)
		list_unlink(m, e);
	e->expires_ms = now_ms + HOP_MEMORY_KEEP_MS;
	list_append(m, e);
}

static void memory_expire(struct hop_memory *m, uint64_t now_ms)
{
	while (m->oldest != NULL && m->oldest->expires_ms <= now_ms)
		entry_remove(m, m->oldest);
}

static void list_unlink(struct hop_memory *m, struct entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		m->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		m->newest = e->older;
	e->older = e->newer = NULL;
}

static void list_append(struct hop_memory *m, struct entry *e)
{
	e->older = m->newest;
	e->newer = NULL;
	if (m->newest != NULL)
		m->newest->newer = e;
	else
		m->oldest = e;
	m->newest = e;
}

static void entry_remove(struct hop_memory *m, struct entry *e)
{
	struct entry **pp = &m->buckets[key_hash(e->key) & (BUCKETS - 1)];

	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	list_unlink(m, e);
	free(e->order);
	free(e);
	m->n--;
}
