/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * resolver.c - DNS questions over c-ares, driven by the event loop
 *
 * c-ares 1.18 has no event thread and its channels are not thread-safe,
 * so everything here runs on the loop thread: c-ares tells us which
 * sockets to watch (ARES_OPT_SOCK_STATE_CB), the loop calls
 * ares_process_fd() when one is ready, and one timer per channel, set from
 * ares_timeout(), lets c-ares retransmit and time out. Truncated UDP
 * answers are retried over TCP by c-ares itself.
 *
 * Channels are created with ARES_FLAG_NOCHECKRESP, so a SERVFAIL or
 * REFUSED comes back as an answer instead of a bare error code, and the
 * raw message is parsed by dnsmsg_parse(): the status we report is the
 * server's own. Without a message, c-ares's status is mapped:
 *   ARES_ETIMEOUT                        -> DNS_TIMEOUT
 *   ARES_EDESTRUCTION, ARES_ECANCELLED   -> DNS_TIMEOUT (resolver_free)
 *   ARES_ECONNREFUSED (ICMP unreachable, no TCP listener), ARES_ENOMEM,
 *   anything else                        -> DNS_SERVFAIL: temporary, the
 *                                           server could not be asked
 * Both are temporary, so routes tempfail (or are served stale).
 *
 * Questions for the same (channel, type, name) in flight share one query:
 * the first creates it, the others join its waiter list.
 *
 * Every UDP question leaves from a socket (a source port) of its own:
 * udpsock.c stands in for c-ares's one socket per server.
 *
 * Every query is built here (ares_create_query) with the AD bit set, the
 * RFC 6840 5.7 way to ask a validating resolver to say whether the answer
 * is DNSSEC-authenticated without asking for the signatures (DO); it is
 * then sent with ares_send. dnsmsg_parse() keeps the answer's AD bit.
 */
#include <ares.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "mxpath/base/common.h"
#include "mxpath/dns/resolver.h"
#include "mxpath/dns/udpsock.h"

#define CLASS_IN 1
#define QTYPE_A 1
#define QTYPE_MX 15
#define QTYPE_TXT 16
#define DNS_HEADER_AD_BYTE 3
#define HEADER_AD 0x20		/* in byte 3 of the header */
#define QTYPE_AAAA 28
#define SERVERS_CSV_MAX 4096

struct rchannel {
	struct resolver *resolver;
	ares_channel ares;		/* NULL: this channel number has no servers of its own */
	struct evtimer *timer;
	uint64_t deadline;		/* of timer, loop milliseconds */
	unsigned timeout_ms;		/* the first try's: no new deadline is nearer */
};

struct waiter {
	resolver_done_fn done;
	void *arg;
};

struct rquery {
	struct rquery *next;		/* hash chain */
	struct resolver *resolver;
	unsigned channel;		/* as asked (the cache's key) */
	enum dns_type type;
	uint32_t hash;
	struct waiter *waiters;
	size_t n_waiters, cap_waiters;
	char name[MX_NAME_BUF];
};

struct resolver {
	struct evloop *loop;
	struct rchannel *channels;
	size_t n_channels;
	struct rquery **buckets;	/* in-flight queries by (channel, type, name) */
	size_t n_buckets, n_queries;
	struct resolver_stats stats;
	struct udpsock *udp;		/* a source port per UDP question, every channel */
	bool closing;			/* in resolver_free: no new queries */
};

static void resolver_library_init(void);
static int channel_open(struct resolver *r, struct rchannel *ch, const struct policy *policy,
			char *const *servers, size_t n_servers, const char *what, char *err,
			size_t errlen);
static int servers_join(char *const *servers, size_t n, char *out, size_t len);
static void channel_close(struct rchannel *ch);
static struct rchannel *channel_for(struct resolver *r, unsigned channel);
static void channel_on_sock_state(void *data, ares_socket_t fd, int readable, int writable);
static void channel_on_fd(int fd, unsigned events, void *arg);
static void channel_on_timer(void *arg);
static void channel_schedule(struct rchannel *ch);
static uint32_t query_hash(unsigned channel, enum dns_type type, const char *name);
static struct rquery *query_find(const struct resolver *r, unsigned channel,
				 enum dns_type type, const char *name, uint32_t hash);
static void query_insert(struct resolver *r, struct rquery *q);
static void query_unlink(struct resolver *r, const struct rquery *q);
static void query_add_waiter(struct rquery *q, resolver_done_fn done, void *arg);
static void query_on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
			    int alen);
static void resolver_answer_now(struct resolver *r, unsigned channel, enum dns_type type,
				const char *name, enum dns_status status, resolver_done_fn done,
				void *arg);
static enum dns_status status_from_ares(int status);
static unsigned longest_wait_ms(const struct policy *policy);
static int qtype_of(enum dns_type type);
static void query_send(struct rchannel *ch, struct rquery *q);

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status;

static void resolver_library_init(void)
{
	library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

struct resolver *resolver_new(struct evloop *loop, const struct policy *policy, char *err,
			      size_t errlen)
{
	struct resolver *r;

	pthread_once(&library_once, resolver_library_init);
	if (library_status != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(library_status));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->loop = loop;
	r->n_channels = 1 + policy->n_routes;
	r->channels = xcalloc(r->n_channels, sizeof(*r->channels));
	r->n_buckets = 64;
	r->buckets = xcalloc(r->n_buckets, sizeof(struct rquery *));
	r->udp = udpsock_new(longest_wait_ms(policy));
	if (channel_open(r, &r->channels[0], policy, policy->dns.servers, policy->dns.n_servers,
			 "dns.servers", err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < policy->n_routes; i++) {
		const struct policy_route *route = &policy->routes[i];
		char what[MX_NAME_BUF + 32];

		if (route->n_dns == 0 || route->channel == 0)
			continue;
		if (route->channel >= r->n_channels || r->channels[route->channel].ares != NULL) {
			snprintf(err, errlen, "route %s: bad resolver channel %u", route->pattern,
				 route->channel);
			goto fail;
		}
		snprintf(what, sizeof(what), "route %s: dns", route->pattern);
		if (channel_open(r, &r->channels[route->channel], policy, route->dns,
				 route->n_dns, what, err, errlen) < 0)
			goto fail;
	}
	return r;
fail:
	resolver_free(&r);
	return NULL;
}

/*
 * One c-ares channel. No servers given: c-ares reads /etc/resolv.conf
 * (and falls back to 127.0.0.1 when it has none). ADDR, ADDR:PORT and
 * [V6]:PORT are c-ares's own CSV syntax.
 */
static int channel_open(struct resolver *r, struct rchannel *ch, const struct policy *policy,
			char *const *servers, size_t n_servers, const char *what, char *err,
			size_t errlen)
{
	struct ares_options opt = { 0 };
	char csv[SERVERS_CSV_MAX];
	int rc;

	ch->resolver = r;
	ch->timeout_ms = policy->dns.timeout_ms;
	opt.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
	opt.lookups = (char *)"b";	/* DNS only, never /etc/hosts; c-ares copies it */
	opt.timeout = (int)policy->dns.timeout_ms;
	opt.tries = (int)policy->dns.tries;
	opt.sock_state_cb = channel_on_sock_state;
	opt.sock_state_cb_data = ch;
	rc = ares_init_options(&ch->ares, &opt,
			       ARES_OPT_FLAGS | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS |
				       ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
	if (rc != ARES_SUCCESS) {
		ch->ares = NULL;
		snprintf(err, errlen, "%s: c-ares: %s", what, ares_strerror(rc));
		return -1;
	}
	udpsock_attach(r->udp, ch->ares);
	if (n_servers == 0)
		return 0;
	if (servers_join(servers, n_servers, csv, sizeof(csv)) < 0) {
		snprintf(err, errlen, "%s: server list too long", what);
		return -1;
	}
	rc = ares_set_servers_ports_csv(ch->ares, csv);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "%s: bad server list \"%s\": %s", what, csv,
			 ares_strerror(rc));
		return -1;
	}
	return 0;
}

static int servers_join(char *const *servers, size_t n, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, len - used, "%s%s", i ? "," : "", servers[i]);

		if (w < 0 || (size_t)w >= len - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

/*
 * ares_destroy() completes every query with ARES_EDESTRUCTION (waiters get
 * DNS_TIMEOUT) and reports its sockets closed, which unwatches them.
 */
void resolver_free(struct resolver **rp)
{
	struct resolver *r = *rp;

	if (r == NULL)
		return;
	r->closing = true;
	for (size_t i = 0; i < r->n_channels; i++)
		channel_close(&r->channels[i]);
	udpsock_free(&r->udp);
	free(r->channels);
	free(r->buckets);
	free(r);
	*rp = NULL;
}

static void channel_close(struct rchannel *ch)
{
	if (ch->ares == NULL)
		return;
	ares_destroy(ch->ares);
	ch->ares = NULL;
	evloop_timer_cancel(ch->resolver->loop, &ch->timer);
}

/* A route without servers of its own asks the default ones. */
static struct rchannel *channel_for(struct resolver *r, unsigned channel)
{
	if (channel < r->n_channels && r->channels[channel].ares != NULL)
		return &r->channels[channel];
	return &r->channels[0];
}

/* ---- c-ares and the event loop ---- */

static void channel_on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct rchannel *ch = data;
	unsigned events = (readable ? EV_READ : 0u) | (writable ? EV_WRITE : 0u);

	if (events == 0) {
		evloop_unwatch(ch->resolver->loop, fd);
		return;
	}
	if (evloop_watch(ch->resolver->loop, fd, events, channel_on_fd, ch) < 0)
		log_errx("resolver: cannot watch DNS socket %d: %s", fd, strerror(errno));
}

static void channel_on_fd(int fd, unsigned events, void *arg)
{
	struct rchannel *ch = arg;
	ares_socket_t rfd = (events & (EV_READ | EV_ERROR)) ? fd : ARES_SOCKET_BAD;
	ares_socket_t wfd = (events & EV_WRITE) ? fd : ARES_SOCKET_BAD;

	ares_process_fd(ch->ares, rfd, wfd);
	channel_schedule(ch);
}

static void channel_on_timer(void *arg)
{
	struct rchannel *ch = arg;

	ch->timer = NULL;	/* fired: the loop freed it */
	ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	channel_schedule(ch);
}

/*
 * Arms the channel's timer for c-ares's next timeout. A timer that is
 * already due earlier is kept: firing early costs one idle
 * ares_process_fd() and a re-arm, moving it costs a free and a malloc
 * on every packet.
 *
 * ares_timeout() walks every query in flight (c-ares 1.18), so it is not
 * asked after every send and every answer, which made a burst of N
 * questions cost N^2 (a third of the CPU with 4,000 in flight). A timer
 * due within timeout_ms is early enough: answers only remove deadlines,
 * and every deadline c-ares sets from now on (a send, a retry) is at
 * least timeout_ms away. It is recomputed when the timer fires.
 */
static void channel_schedule(struct rchannel *ch)
{
	struct evloop *loop = ch->resolver->loop;
	struct timeval tv, *tvp;
	uint64_t delay, deadline;

	if (ch->ares == NULL)
		return;
	if (ch->timer != NULL && ch->deadline <= evloop_now_ms(loop) + ch->timeout_ms)
		return;
	tvp = ares_timeout(ch->ares, NULL, &tv);
	if (tvp == NULL)
		return;		/* nothing in flight; a pending timer fires harmlessly */
	delay = (uint64_t)tvp->tv_sec * 1000u + ((uint64_t)tvp->tv_usec + 999u) / 1000u;
	deadline = evloop_now_ms(loop) + delay;
	if (ch->timer != NULL && ch->deadline <= deadline)
		return;
	evloop_timer_cancel(loop, &ch->timer);
	ch->timer = evloop_timer_add(loop, delay, channel_on_timer, ch);
	ch->deadline = deadline;
}

/* ---- queries ---- */

void resolver_query(struct resolver *r, unsigned channel, enum dns_type type, const char *name,
		    resolver_done_fn done, void *arg)
{
	uint32_t hash = query_hash(channel, type, name);
	struct rquery *q = query_find(r, channel, type, name, hash);
	struct rchannel *ch;

	if (r->closing) {
		resolver_answer_now(r, channel, type, name, DNS_TIMEOUT, done, arg);
		return;
	}
	if (q != NULL) {
		query_add_waiter(q, done, arg);
		r->stats.coalesced++;
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->resolver = r;
	q->channel = channel;
	q->type = type;
	q->hash = hash;
	snprintf(q->name, sizeof(q->name), "%s", name);
	query_add_waiter(q, done, arg);
	query_insert(r, q);
	r->stats.queries++;
	r->stats.in_flight++;
	ch = channel_for(r, channel);
	query_send(ch, q);
	channel_schedule(ch);
}

bool resolver_asking(const struct resolver *r, unsigned channel, enum dns_type type,
		     const char *name)
{
	return query_find(r, channel, type, name, query_hash(channel, type, name)) != NULL;
}

/* May call query_on_answer() at once (a name c-ares cannot encode). */
static void query_send(struct rchannel *ch, struct rquery *q)
{
	unsigned char *buf = NULL;
	int len = 0;
	int rc = ares_create_query(q->name, CLASS_IN, qtype_of(q->type), 0, 1, &buf, &len, 0);

	if (rc != ARES_SUCCESS || len <= DNS_HEADER_AD_BYTE) {
		ares_free_string(buf);
		query_on_answer(q, rc != ARES_SUCCESS ? rc : ARES_EBADQUERY, 0, NULL, 0);
		return;
	}
	buf[DNS_HEADER_AD_BYTE] |= HEADER_AD;
	ares_send(ch->ares, buf, len, query_on_answer, q);
	ares_free_string(buf);
}

static void query_on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rquery *q = arg;
	struct resolver *r = q->resolver;
	struct dns_answer *answer;

	(void)timeouts;
	if (abuf != NULL && alen > 0)
		answer = dnsmsg_parse(abuf, (size_t)alen, q->name, q->type);
	else
		answer = dns_answer_new_status(q->type, status_from_ares(status), 0);
	if (dns_status_is_temporary(answer->status))
		r->stats.failures++;
	if (answer->status == DNS_BADANSWER)
		log_warnx("resolver: bad answer for %s/%s", q->name, dns_type_name(q->type));
	/* Out of the table first: a waiter asking the same question again
	 * starts a new query instead of joining this finished one. */
	query_unlink(r, q);
	r->stats.in_flight--;
	for (size_t i = 0; i < q->n_waiters; i++)
		q->waiters[i].done(q->waiters[i].arg, q->channel, q->type, q->name, answer);
	dns_answer_free(&answer);
	free(q->waiters);
	free(q);
}

/* A waiter asking while the channels are being destroyed (from inside a
 * cancelled query's callback) is answered at once: c-ares must not get a
 * new query on a channel it is tearing down. */
static void resolver_answer_now(struct resolver *r, unsigned channel, enum dns_type type,
				const char *name, enum dns_status status, resolver_done_fn done,
				void *arg)
{
	struct dns_answer *answer = dns_answer_new_status(type, status, 0);

	r->stats.failures++;
	done(arg, channel, type, name, answer);
	dns_answer_free(&answer);
}

static enum dns_status status_from_ares(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return DNS_TIMEOUT;
	case ARES_ENOTFOUND:
		return DNS_NXDOMAIN;
	case ARES_ENODATA:
		return DNS_NODATA;
	case ARES_EREFUSED:
		return DNS_REFUSED;
	case ARES_EBADRESP:
		return DNS_BADANSWER;
	default:
		return DNS_SERVFAIL;
	}
}

/*
 * c-ares 1.18 waits timeout << (round) for one try, the last round being
 * tries - 1; a second more covers a late answer to the last one.
 */
static unsigned longest_wait_ms(const struct policy *policy)
{
	unsigned rounds = policy->dns.tries > 1 ? policy->dns.tries - 1 : 0;
	uint64_t wait = (uint64_t)policy->dns.timeout_ms << (rounds < 16 ? rounds : 16);

	return wait + 1000u > UINT32_MAX ? UINT32_MAX : (unsigned)(wait + 1000u);
}

static int qtype_of(enum dns_type type)
{
	switch (type) {
	case DNS_TYPE_A:
		return QTYPE_A;
	case DNS_TYPE_AAAA:
		return QTYPE_AAAA;
	case DNS_TYPE_TXT:
		return QTYPE_TXT;
	case DNS_TYPE_MX:
		break;
	}
	return QTYPE_MX;
}

static void query_add_waiter(struct rquery *q, resolver_done_fn done, void *arg)
{
	if (q->n_waiters == q->cap_waiters) {
		q->cap_waiters = q->cap_waiters ? 2 * q->cap_waiters : 4;
		q->waiters = xreallocarray(q->waiters, q->cap_waiters, sizeof(*q->waiters));
	}
	q->waiters[q->n_waiters].done = done;
	q->waiters[q->n_waiters].arg = arg;
	q->n_waiters++;
}

/* FNV-1a over the name, mixed with channel and type. */
static uint32_t query_hash(unsigned channel, enum dns_type type, const char *name)
{
	uint32_t h = 2166136261u ^ (channel * 31u + (unsigned)type);

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static struct rquery *query_find(const struct resolver *r, unsigned channel,
				 enum dns_type type, const char *name, uint32_t hash)
{
	struct rquery *q = r->buckets[hash & (r->n_buckets - 1)];

	for (; q != NULL; q = q->next) {
		if (q->hash == hash && q->channel == channel && q->type == type &&
		    strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

/* Doubles the table when it is full on average: chains stay short. */
static void query_insert(struct resolver *r, struct rquery *q)
{
	if (r->n_queries >= r->n_buckets) {
		size_t n = 2 * r->n_buckets;
		struct rquery **buckets = xcalloc(n, sizeof(struct rquery *));

		for (size_t i = 0; i < r->n_buckets; i++) {
			while (r->buckets[i] != NULL) {
				struct rquery *move = r->buckets[i];

				r->buckets[i] = move->next;
				move->next = buckets[move->hash & (n - 1)];
				buckets[move->hash & (n - 1)] = move;
			}
		}
		free(r->buckets);
		r->buckets = buckets;
		r->n_buckets = n;
	}
	q->next = r->buckets[q->hash & (r->n_buckets - 1)];
	r->buckets[q->hash & (r->n_buckets - 1)] = q;
	r->n_queries++;
}

static void query_unlink(struct resolver *r, const struct rquery *q)
{
	struct rquery **pp = &r->buckets[q->hash & (r->n_buckets - 1)];

	while (*pp != NULL && *pp != q)
		pp = &(*pp)->next;
	if (*pp != NULL) {
		*pp = q->next;
		r->n_queries--;
	}
}

void resolver_get_stats(const struct resolver *r, struct resolver_stats *out)
{
	*out = r->stats;
}
