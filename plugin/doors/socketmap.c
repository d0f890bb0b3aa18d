/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap.c - the socketmap door: Postfix transport_maps and sendmail
 * mailertable lookups over netstrings, served on the event loop
 *
 * Many connections, one request at a time on each: pipelined requests wait
 * in the connection's input buffer and are answered in order. A request
 * that needs DNS never blocks the loop: the router calls back when the
 * route is decided, and a connection that went away meanwhile only drops
 * the answer (the connection record lives until that callback).
 *
 * Replies wait for the end of the loop iteration (an evloop hook) and go
 * out together: a client woken by the first replies reads while the next
 * ones are sent, instead of being woken once per reply. Each decision is
 * logged as one key=value line, built without printf; the loop writes the
 * iteration's lines at once.
 *
 * Memory per connection is bounded: one request buffer (a query is at most
 * NETSTRING_QUERY_MAX bytes) and one reply buffer (no new request is taken
 * while OUTPUT_HIGH_WATER bytes wait), both allocated once and reused; a
 * client that does not read its replies is not read from either. Idle
 * connections, requests that trickle in and clients that stop reading are
 * closed by a sweep once a second. The listening socket stays the
 * daemon's: it is not closed here.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/format.h"
#include "mxpath/doors/netstring.h"
#include "mxpath/doors/present.h"
#include "mxpath/doors/socketmap.h"

#define SWEEP_INTERVAL_MS 1000
#define REQUEST_TIMEOUT_MS 10000	/* a request must arrive whole within this */
#define OUTPUT_HIGH_WATER 4096		/* take no new request past this much unsent */
#define ACCEPT_BATCH 64			/* connections accepted per wakeup */
#define ACCEPT_PAUSE_MS 100		/* after running out of descriptors */
#define ORPHAN_REPLY_MAX 8192		/* answers sent while shutting down */
#define LOG_KEY_MAX 256
#define LOG_LIST_MAX 512

enum take_stop { TAKE_MORE, TAKE_BUSY, TAKE_FULL, TAKE_BROKEN };

struct conn {
	struct socketmap *sm;		/* NULL once orphaned by socketmap_free() */
	struct conn *prev, *next;
	int fd;				/* -1 once closed (the record may wait for the router) */
	unsigned id;
	char peer[64];
	unsigned events;		/* watched now */
	struct netstring_in in;
	struct netstring_out out;
	bool eof;			/* the client shut its side: finish, then close */
	bool busy;			/* a route is being decided */
	bool processing;		/* in conn_process(): a callback must not re-enter */
	bool broken;			/* a reply could not be queued: close */
	uint64_t active_ms;		/* accepted, last answer, last write progress */
	uint64_t partial_ms;		/* an incomplete request began; 0: none */
	uint64_t stalled_ms;		/* replies waiting for the client; 0: none */
	uint64_t started_ms;		/* the request being answered */
	struct policy *policy;		/* held while the route is decided */
	struct format_query query;
	bool reply_queued;		/* in the socketmap's reply queue */
	struct conn *queue_prev, *queue_next;
};

/* A list for the log ("a,b,c"), cut with "..." when it does not fit. */
struct socketmap {
	struct evloop *loop;
	struct router *router;
	int listen_fd;
	bool accepting;
	struct evtimer *sweep_timer;
	struct evtimer *accept_timer;
	struct conn *conns;
	unsigned next_id;
	struct socketmap_stats stats;
	uint64_t refused_log_ms;	/* refusals are logged once a second at most */
	uint64_t refused_unlogged;
	struct conn *queue_head, *queue_tail;	/* replies to send this iteration */
	char reply_buf[FORMAT_REPLY_MAX + 1];
};

static void sm_on_accept(int fd, unsigned events, void *arg);
static void sm_accept_resume(void *arg);
static void sm_accept_pause(struct socketmap *sm);
static void sm_admit(struct socketmap *sm, int fd);
static void sm_refuse(struct socketmap *sm, int fd, unsigned max);
static void sm_sweep(void *arg);
static void sm_sweep_conn(struct conn *conn, uint64_t now, uint64_t idle_ms);
static struct conn *conn_new(struct socketmap *sm, int fd);
static void conn_name_peer(struct conn *conn);
static void conn_on_event(int fd, unsigned events, void *arg);
static int conn_read(struct conn *conn);
static void conn_process(struct conn *conn);
static void conn_output(struct conn *conn);
static void sm_send_replies(void *arg);
static void queue_add(struct conn *conn);
static void queue_remove(struct conn *conn);
static enum take_stop conn_take_requests(struct conn *conn);
static void conn_request(struct conn *conn, const char *payload, size_t len);
static void conn_route_done(void *arg, const struct route *route);
static void conn_answer(struct conn *conn, const struct format_reply *reply,
			const struct route *route);
static void conn_log(const struct conn *conn, const struct format_reply *reply,
		     const struct route *route);
static int conn_flush(struct conn *conn);
static void conn_update_watch(struct conn *conn);
static void conn_close(struct conn *conn);
static void conn_destroy(struct conn *conn);
static void conn_orphan_answer(struct conn *conn, const struct route *route);
static struct format_reply reply_init(char *buf, size_t cap);

struct socketmap *socketmap_new(struct evloop *loop, struct router *router, int listen_fd)
{
	struct socketmap *sm = xcalloc(1, sizeof(*sm));

	sm->loop = loop;
	sm->router = router;
	sm->listen_fd = listen_fd;
	if (evloop_watch(loop, listen_fd, EV_READ, sm_on_accept, sm) < 0) {
		log_errx("socketmap: cannot watch the listening socket");
		free(sm);
		return NULL;
	}
	sm->accepting = true;
	sm->sweep_timer = evloop_timer_add(loop, SWEEP_INTERVAL_MS, sm_sweep, sm);
	evloop_hook_add(loop, sm_send_replies, sm);
	return sm;
}

/*
 * Connections waiting for a route become orphans: they keep their socket
 * and answer when the router calls back (at the latest when the router is
 * freed), then free themselves. The others are flushed and closed.
 */
void socketmap_free(struct socketmap **smp)
{
	struct socketmap *sm = *smp;
	struct conn *conn, *next;

	if (sm == NULL)
		return;
	if (sm->accepting)
		evloop_unwatch(sm->loop, sm->listen_fd);
	if (sm->sweep_timer != NULL)
		evloop_timer_cancel(sm->loop, &sm->sweep_timer);
	if (sm->accept_timer != NULL)
		evloop_timer_cancel(sm->loop, &sm->accept_timer);
	evloop_hook_remove(sm->loop, sm_send_replies, sm);
	for (conn = sm->conns; conn != NULL; conn = next) {
		next = conn->next;
		queue_remove(conn);	/* flushed below, or by the orphan's answer */
		if (conn->busy) {
			if (conn->fd >= 0)
				evloop_unwatch(sm->loop, conn->fd);
			conn->sm = NULL;
			conn->prev = conn->next = NULL;
			continue;
		}
		if (conn->fd < 0 || conn_flush(conn) == 0)
			conn_close(conn);	/* (a failed flush closed it) */
	}
	free(sm);
	*smp = NULL;
}

void socketmap_get_stats(const struct socketmap *sm, struct socketmap_stats *out)
{
	*out = sm->stats;
}

static void sm_on_accept(int fd, unsigned events, void *arg)
{
	struct socketmap *sm = arg;
	unsigned i;
	int cfd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			sm_admit(sm, cfd);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EAGAIN != EWOULDBLOCK
		case EWOULDBLOCK:
#endif
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			log_warnx("socketmap: accept: %s; pausing for %d ms", strerror(errno),
				  ACCEPT_PAUSE_MS);
			sm_accept_pause(sm);
			return;
		default:
			log_errx("socketmap: accept: %s", strerror(errno));
			return;
		}
	}
}

static void sm_accept_pause(struct socketmap *sm)
{
	if (!sm->accepting)
		return;
	evloop_unwatch(sm->loop, sm->listen_fd);
	sm->accepting = false;
	sm->accept_timer = evloop_timer_add(sm->loop, ACCEPT_PAUSE_MS, sm_accept_resume, sm);
}

static void sm_accept_resume(void *arg)
{
	struct socketmap *sm = arg;

	sm->accept_timer = NULL;
	if (evloop_watch(sm->loop, sm->listen_fd, EV_READ, sm_on_accept, sm) < 0) {
		log_errx("socketmap: cannot watch the listening socket: retrying in %d ms",
			 ACCEPT_PAUSE_MS);
		sm->accept_timer = evloop_timer_add(sm->loop, ACCEPT_PAUSE_MS, sm_accept_resume, sm);
		return;
	}
	sm->accepting = true;
}

static void sm_admit(struct socketmap *sm, int fd)
{
	struct policy *policy = router_policy(sm->router);
	unsigned max = policy->socketmap.max_connections;

	policy_unref(&policy);
	if (max > 0 && sm->stats.open >= max) {
		sm_refuse(sm, fd, max);
		return;
	}
	if (conn_new(sm, fd) == NULL)
		close(fd);
}

/* Over socketmap.max_connections: close at once, so the client notices
 * (a full backlog would only make it hang). */
static void sm_refuse(struct socketmap *sm, int fd, unsigned max)
{
	uint64_t now = evloop_now_ms(sm->loop);

	close(fd);
	sm->stats.refused++;
	sm->refused_unlogged++;
	if (sm->refused_log_ms != 0 && now - sm->refused_log_ms < 1000)
		return;
	log_warnx("socketmap: %u connections open (socketmap.max_connections): "
		  "refused %llu new connection(s)",
		  max, (unsigned long long)sm->refused_unlogged);
	sm->refused_log_ms = now;
	sm->refused_unlogged = 0;
}

static void sm_sweep(void *arg)
{
	struct socketmap *sm = arg;
	struct policy *policy = router_policy(sm->router);
	uint64_t now = evloop_now_ms(sm->loop);
	uint64_t idle_ms = (uint64_t)policy->socketmap.idle_timeout * 1000;
	struct conn *conn, *next;

	policy_unref(&policy);
	sm->sweep_timer = NULL;
	for (conn = sm->conns; conn != NULL; conn = next) {
		next = conn->next;
		sm_sweep_conn(conn, now, idle_ms);
	}
	sm->sweep_timer = evloop_timer_add(sm->loop, SWEEP_INTERVAL_MS, sm_sweep, sm);
}

/* idle_ms 0: no idle limit (the request deadline still holds). */
static void sm_sweep_conn(struct conn *conn, uint64_t now, uint64_t idle_ms)
{
	uint64_t request_ms = REQUEST_TIMEOUT_MS;

	if (conn->busy || conn->fd < 0)
		return;
	if (idle_ms != 0 && idle_ms < request_ms)
		request_ms = idle_ms;
	if (conn->stalled_ms != 0) {
		if (idle_ms == 0 || now - conn->stalled_ms < idle_ms)
			return;
		log_warnx("socketmap: conn=%u peer=%s: replies unread for %llu s, closing",
			  conn->id, conn->peer, (unsigned long long)(idle_ms / 1000));
	} else if (conn->partial_ms != 0) {
		if (now - conn->partial_ms < request_ms)
			return;
		log_warnx("socketmap: conn=%u peer=%s: request incomplete after %llu ms, closing",
			  conn->id, conn->peer, (unsigned long long)request_ms);
		conn->sm->stats.errors++;
	} else {
		if (idle_ms == 0 || now - conn->active_ms < idle_ms)
			return;
		log_info("socketmap: conn=%u peer=%s: idle for %llu s, closing", conn->id,
			 conn->peer, (unsigned long long)(idle_ms / 1000));
	}
	conn_close(conn);
}

static struct conn *conn_new(struct socketmap *sm, int fd)
{
	struct conn *conn = xcalloc(1, sizeof(*conn));

	conn->sm = sm;
	conn->fd = fd;
	conn->id = ++sm->next_id;
	netstring_in_init(&conn->in, NETSTRING_QUERY_MAX);
	netstring_out_init(&conn->out, NETSTRING_REPLY_MAX,
			   OUTPUT_HIGH_WATER + netstring_frame_size(NETSTRING_REPLY_MAX));
	conn_name_peer(conn);
	conn->active_ms = evloop_now_ms(sm->loop);
	if (evloop_watch(sm->loop, fd, EV_READ, conn_on_event, conn) < 0) {
		log_errx("socketmap: conn=%u peer=%s: cannot watch the connection", conn->id,
			 conn->peer);
		netstring_in_release(&conn->in);
		netstring_out_release(&conn->out);
		free(conn);
		return NULL;
	}
	conn->events = EV_READ;
	conn->next = sm->conns;
	if (sm->conns != NULL)
		sm->conns->prev = conn;
	sm->conns = conn;
	sm->stats.connections++;
	sm->stats.open++;
	return conn;
}

/* "pid1234" for a local client (Postfix's trivial-rewrite), "addr:port" for TCP. */
static void conn_name_peer(struct conn *conn)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);

	snprintf(conn->peer, sizeof(conn->peer), "unknown");
	if (getpeername(conn->fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_UNIX) {
		if (getsockopt(conn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0)
			snprintf(conn->peer, sizeof(conn->peer), "pid%ld", (long)cred.pid);
		else
			snprintf(conn->peer, sizeof(conn->peer), "unix");
		return;
	}
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(conn->peer, sizeof(conn->peer), ss.ss_family == AF_INET6 ? "[%s]:%s"
										  : "%s:%s",
			 host, serv);
}

static void conn_on_event(int fd, unsigned events, void *arg)
{
	struct conn *conn = arg;

	(void)fd;
	if (events & EV_ERROR) {
		conn_close(conn);	/* hung up both ways, or failed: nobody to answer */
		return;
	}
	if ((events & EV_WRITE) && conn_flush(conn) < 0)
		return;
	if ((events & EV_READ) && conn_read(conn) < 0)
		return;
	conn_process(conn);
}

/* One read per wakeup keeps connections fair. 0, or -1 if closed. */
static int conn_read(struct conn *conn)
{
	size_t room = 0;
	char *p;
	ssize_t n;

	if (conn->eof)
		return 0;
	p = netstring_in_space(&conn->in, &room);
	if (room == 0)
		return 0;
	n = read(conn->fd, p, room);
	if (n > 0) {
		netstring_in_commit(&conn->in, (size_t)n);
		if (conn->partial_ms == 0)
			conn->partial_ms = evloop_now_ms(conn->sm->loop);
		return 0;
	}
	if (n == 0) {
		conn->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	if (errno != ECONNRESET) {
		log_warnx("socketmap: conn=%u peer=%s: read: %s", conn->id, conn->peer,
			  strerror(errno));
		conn->sm->stats.errors++;
	}
	conn_close(conn);
	return -1;
}

/*
 * Answers what can be answered now. Replies wait in the queue for the end
 * of the iteration, unless OUTPUT_HIGH_WATER is reached (then they go at
 * once, to make room for more). May close (and free) the connection.
 */
static void conn_process(struct conn *conn)
{
	enum take_stop stop = conn_take_requests(conn);
	size_t pending;

	if (stop == TAKE_BROKEN) {
		conn_close(conn);
		return;
	}
	netstring_out_pending(&conn->out, &pending);
	if (stop != TAKE_FULL && pending > 0) {
		queue_add(conn);
		return;
	}
	conn_output(conn);
}

/* The loop's hook: what this iteration answered goes out. */
static void sm_send_replies(void *arg)
{
	struct socketmap *sm = arg;
	struct conn *conn;

	while ((conn = sm->queue_head) != NULL) {
		queue_remove(conn);
		conn_output(conn);
	}
}

static void queue_add(struct conn *conn)
{
	struct socketmap *sm = conn->sm;

	if (conn->reply_queued)
		return;
	conn->reply_queued = true;
	conn->queue_next = NULL;
	conn->queue_prev = sm->queue_tail;
	if (sm->queue_tail != NULL)
		sm->queue_tail->queue_next = conn;
	else
		sm->queue_head = conn;
	sm->queue_tail = conn;
}

static void queue_remove(struct conn *conn)
{
	struct socketmap *sm = conn->sm;

	if (!conn->reply_queued)
		return;
	if (conn->queue_prev != NULL)
		conn->queue_prev->queue_next = conn->queue_next;
	else
		sm->queue_head = conn->queue_next;
	if (conn->queue_next != NULL)
		conn->queue_next->queue_prev = conn->queue_prev;
	else
		sm->queue_tail = conn->queue_prev;
	conn->queue_prev = conn->queue_next = NULL;
	conn->reply_queued = false;
}

/*
 * Writes out what is queued, takes more requests while the client reads
 * its replies, and decides what to watch next. May close (and free) the
 * connection.
 */
static void conn_output(struct conn *conn)
{
	enum take_stop stop;
	size_t pending;

	for (;;) {
		stop = conn_take_requests(conn);
		if (stop == TAKE_BROKEN) {
			conn_close(conn);
			return;
		}
		if (conn_flush(conn) < 0)
			return;
		netstring_out_pending(&conn->out, &pending);
		if (stop != TAKE_FULL || pending >= OUTPUT_HIGH_WATER)
			break;
	}
	if (conn->eof && !conn->busy && pending == 0 && stop == TAKE_MORE) {
		conn_close(conn);	/* everything asked was answered */
		return;
	}
	conn_update_watch(conn);
}

static enum take_stop conn_take_requests(struct conn *conn)
{
	const char *why = NULL;
	char *payload;
	size_t len, pending;
	bool took = false;
	enum netstring_status status;

	conn->processing = true;
	for (;;) {
		if (conn->broken || conn->fd < 0)
			break;
		if (conn->busy)
			break;
		netstring_out_pending(&conn->out, &pending);
		if (pending >= OUTPUT_HIGH_WATER)
			break;
		status = netstring_in_next(&conn->in, &payload, &len, &why);
		if (status == NETSTRING_MORE)
			break;
		if (status == NETSTRING_ERROR) {
			log_warnx("socketmap: conn=%u peer=%s: malformed request: %s, closing",
				  conn->id, conn->peer, why);
			conn->sm->stats.errors++;
			conn->broken = true;
			break;
		}
		took = true;
		conn_request(conn, payload, len);
	}
	conn->processing = false;
	if (netstring_in_buffered(&conn->in) == 0)
		conn->partial_ms = 0;
	else if (took)
		conn->partial_ms = evloop_now_ms(conn->sm->loop);
	if (conn->broken || conn->fd < 0)
		return TAKE_BROKEN;
	if (conn->busy)
		return TAKE_BUSY;
	netstring_out_pending(&conn->out, &pending);
	return pending >= OUTPUT_HIGH_WATER ? TAKE_FULL : TAKE_MORE;
}

static void conn_request(struct conn *conn, const char *payload, size_t len)
{
	struct socketmap *sm = conn->sm;
	struct format_reply reply = reply_init(sm->reply_buf, sizeof(sm->reply_buf));
	struct policy *policy;

	conn->started_ms = clock_now_ms();
	if (memchr(payload, '\0', len) != NULL) {
		memset(&conn->query, 0, sizeof(conn->query));
		snprintf(reply.buf, reply.cap, "PERM malformed request");
		reply.len = strlen(reply.buf);
		reply.outcome = FORMAT_PERM;
		reply.reason = "NUL byte in request";
		conn_answer(conn, &reply, NULL);
		return;
	}
	policy = router_policy(sm->router);
	if (format_request(policy, payload, len, &conn->query, &reply) == FORMAT_ANSWERED) {
		conn_answer(conn, &reply, NULL);
		policy_unref(&policy);
		return;
	}
	conn->policy = policy;
	conn->busy = true;
	router_decide(sm->router, conn->query.recipient, NULL, conn_route_done, conn);
}

/* The router's answer: now (warm cache) or later (DNS). */
static void conn_route_done(void *arg, const struct route *route)
{
	struct conn *conn = arg;
	struct format_reply reply;
	char key[LOG_KEY_MAX];

	conn->busy = false;
	if (conn->sm == NULL) {
		conn_orphan_answer(conn, route);
		return;
	}
	if (conn->fd < 0) {
		present_sanitize(key, sizeof(key), conn->query.key, strlen(conn->query.key), 0);
		log_info("socketmap: conn=%u peer=%s map=%s key=%s action=%s: client gone, "
			 "answer dropped", conn->id, conn->peer, format_map_name(conn->query.map),
			 key, route_action_name(route->action));
		conn_destroy(conn);
		return;
	}
	reply = reply_init(conn->sm->reply_buf, sizeof(conn->sm->reply_buf));
	format_route(conn->policy, &conn->query, route, &reply);
	conn_answer(conn, &reply, route);
	policy_unref(&conn->policy);
	if (!conn->processing)
		conn_process(conn);
}

/* Queues the reply, counts it and logs the decision. Never closes. */
static void conn_answer(struct conn *conn, const struct format_reply *reply,
			const struct route *route)
{
	struct socketmap_stats *stats = &conn->sm->stats;

	if (netstring_out_put(&conn->out, reply->buf, reply->len) < 0) {
		log_errx("socketmap: conn=%u peer=%s: no room for a %zu-byte reply", conn->id,
			 conn->peer, reply->len);
		conn->broken = true;
		stats->errors++;
		return;
	}
	if (reply->outcome == FORMAT_PERM)
		stats->errors++;
	else
		stats->lookups[conn->query.map][reply->outcome]++;
	conn->active_ms = evloop_now_ms(conn->sm->loop);
	conn_log(conn, reply, route);
}

/* One line per decision, key=value. */
static void conn_log(const struct conn *conn, const struct format_reply *reply,
		     const struct route *route)
{
	char key[LOG_KEY_MAX], hops[LOG_LIST_MAX], pruned[LOG_LIST_MAX];
	unsigned long long ms = clock_now_ms() - conn->started_ms;
	const char *map = reply->outcome == FORMAT_PERM ? "-" : format_map_name(conn->query.map);
	struct present_line line;

	present_sanitize(key, sizeof(key), conn->query.key, strlen(conn->query.key), 0);
	present_line_start(&line, "socketmap:");
	present_line_field_uint(&line, "conn", conn->id);
	present_line_field(&line, "peer", conn->peer);
	present_line_field(&line, "map", map);
	if (route == NULL) {
		present_line_field(&line, "key", key[0] != '\0' ? key : "-");
		present_line_field(&line, "action", format_outcome_name(reply->outcome));
		present_line_field_quoted(&line, "reason", reply->reason ? reply->reason : "");
		present_line_field_uint(&line, "ms", ms);
		log_text(LOG_LEVEL_INFO, line.buf, line.len);
		return;
	}
	present_hops(route, hops, sizeof(hops));
	present_pruned(route, pruned, sizeof(pruned));
	present_line_field(&line, "key", key);
	present_line_field(&line, "action", format_outcome_name(reply->outcome));
	present_line_field(&line, "rule", route_rule_name(route->rule));
	present_line_field(&line, "hops", hops);
	present_line_field(&line, "pruned", pruned);
	present_line_field_uint(&line, "ttl", route->ttl);
	present_line_field(&line, "cache", cache_state_name(route->cache));
	present_line_field_uint(&line, "ms", ms);
	if (reply->truncated)
		present_line_field(&line, "truncated", "yes");
	if (reply->reason)
		present_line_field_quoted(&line, "reason", reply->reason);
	log_text(LOG_LEVEL_INFO, line.buf, line.len);
}

/* Writes what is queued. 0, or -1 if the connection was closed. */
static int conn_flush(struct conn *conn)
{
	const char *data;
	size_t len;
	ssize_t n;

	for (;;) {
		data = netstring_out_pending(&conn->out, &len);
		if (len == 0) {
			conn->stalled_ms = 0;
			return 0;
		}
		n = send(conn->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			netstring_out_consume(&conn->out, (size_t)n);
			conn->active_ms = evloop_now_ms(conn->sm->loop);
			conn->stalled_ms = conn->active_ms;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (conn->stalled_ms == 0)
				conn->stalled_ms = evloop_now_ms(conn->sm->loop);
			return 0;
		}
		if (errno != EPIPE && errno != ECONNRESET) {
			log_warnx("socketmap: conn=%u peer=%s: write: %s", conn->id, conn->peer,
				  strerror(errno));
			conn->sm->stats.errors++;
		}
		conn_close(conn);
		return -1;
	}
}

/*
 * Read while the input buffer has room, the client is still sending and
 * it reads its replies; write while replies wait.
 */
static void conn_update_watch(struct conn *conn)
{
	unsigned want = 0;
	size_t room = 0, pending;

	netstring_out_pending(&conn->out, &pending);
	if (!conn->eof && pending < OUTPUT_HIGH_WATER) {
		netstring_in_space(&conn->in, &room);
		if (room > 0)
			want |= EV_READ;
	}
	if (pending > 0)
		want |= EV_WRITE;
	if (want == conn->events)
		return;
	if (evloop_watch(conn->sm->loop, conn->fd, want, conn_on_event, conn) < 0) {
		log_errx("socketmap: conn=%u peer=%s: cannot watch the connection", conn->id,
			 conn->peer);
		conn_close(conn);
		return;
	}
	conn->events = want;
}

/* Closes the socket; the record waits for the router if a route is pending. */
static void conn_close(struct conn *conn)
{
	queue_remove(conn);
	if (conn->fd >= 0) {
		evloop_unwatch(conn->sm->loop, conn->fd);
		close(conn->fd);
		conn->fd = -1;
		conn->sm->stats.open--;
	}
	if (!conn->busy)
		conn_destroy(conn);
}

static void conn_destroy(struct conn *conn)
{
	struct socketmap *sm = conn->sm;

	if (sm != NULL) {
		queue_remove(conn);
		if (conn->prev != NULL)
			conn->prev->next = conn->next;
		else
			sm->conns = conn->next;
		if (conn->next != NULL)
			conn->next->prev = conn->prev;
	}
	if (conn->fd >= 0)
		close(conn->fd);
	if (conn->policy != NULL)
		policy_unref(&conn->policy);
	netstring_in_release(&conn->in);
	netstring_out_release(&conn->out);
	free(conn);
}

/* The door is gone: answer on a best-effort write, then free. */
static void conn_orphan_answer(struct conn *conn, const struct route *route)
{
	char buf[ORPHAN_REPLY_MAX];
	struct format_reply reply = reply_init(buf, sizeof(buf));
	const char *data;
	size_t len;

	if (conn->fd >= 0 && conn->policy != NULL) {
		format_route(conn->policy, &conn->query, route, &reply);
		if (netstring_out_put(&conn->out, reply.buf, reply.len) == 0) {
			data = netstring_out_pending(&conn->out, &len);
			if (send(conn->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("socketmap: conn=%u: last answer lost: %s", conn->id,
					  strerror(errno));
		}
	}
	conn_destroy(conn);
}

static struct format_reply reply_init(char *buf, size_t cap)
{
	struct format_reply reply;

	memset(&reply, 0, sizeof(reply));
	reply.buf = buf;
	reply.cap = cap;
	buf[0] = '\0';
	return reply;
}
