/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.c - the control socket: counters in Prometheus text format
 *
 * A client connects; the daemon writes every counter it has (decisions,
 * cache, DNS, socketmap lookups, the milter door's when it runs, reloads)
 * in the Prometheus text exposition format, version 0.0.4, and closes.
 * Nothing is read from the client. The listening socket is the daemon's
 * (opened and closed by it). Runs on the event loop: at most
 * CONTROL_CLIENTS_MAX clients at once, each dropped if it has not taken
 * its answer within CONTROL_TIMEOUT_MS.
 *
 * control_fetch_stats() is the client side, for `mxpath stats`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/control.h"
#include "mxpath/runtime/daemon.h"
#include "mxpath/runtime/listen.h"
#include "mxpath/doors/milter.h"
#include "mxpath/engine/route.h"

#define CONTROL_CLIENTS_MAX 16
#define CONTROL_TIMEOUT_MS 5000
#define CONTROL_PAUSE_MS 1000		/* accept() failing for want of descriptors */
#define CONTROL_ACCEPT_BATCH 64		/* connections taken per wake-up */
#define CONTROL_FETCH_MAX ((size_t)1024 * 1024)	/* the client's cap on an answer */

struct control_client {
	struct control *control;
	int fd;
	char *text;
	size_t len, sent;
	struct evtimer *timer;
	struct control_client *prev, *next;
};

struct control {
	struct evloop *loop;
	int listen_fd;
	struct router *router;
	struct socketmap *socketmap;
	struct control_client *clients;
	unsigned n_clients;
	uint64_t connections;
	uint64_t refused;		/* over CONTROL_CLIENTS_MAX */
	uint64_t refused_log_ms;	/* refusals are logged once a second at most */
	struct evtimer *pause_timer;
};

/* A growing text buffer for one answer. */
struct text {
	char *buf;
	size_t len, cap;
};

/* Every counter, read at one moment (on the loop thread). */
struct stats_snapshot {
	struct router_stats router;
	struct daemon_stats daemon;
	struct socketmap_stats socketmap;
	struct milter_stats milter;
	bool has_socketmap, has_milter;
	uint64_t control_connections, control_refused;
};

static void control_on_accept(int fd, unsigned events, void *arg);
static void control_refuse(struct control *control, int fd);
static void control_on_resume(void *arg);
static void client_start(struct control *control, int fd);
static void client_on_writable(int fd, unsigned events, void *arg);
static void client_on_timeout(void *arg);
static bool client_send(struct control_client *client);
static void client_close(struct control_client **client);
static void stats_format(struct control *control, struct text *t);
static void stats_format_daemon(const struct stats_snapshot *s, struct text *t);
static void stats_format_socketmap(const struct socketmap_stats *ss, struct text *t);
static void stats_format_milter(const struct milter_stats *ms, struct text *t);
static void stats_format_router(const struct router_stats *rs, struct text *t);
static void stats_format_doors(const struct stats_snapshot *s, struct text *t);
static void metric_family(struct text *t, const char *name, const char *type, const char *help);
static void metric_value(struct text *t, const char *name, const char *labels, uint64_t value);
static void metric_single(struct text *t, const char *name, const char *type, const char *help,
			  uint64_t value);
static void text_printf(struct text *t, const char *fmt, ...) MX_PRINTF(2, 3);

static const char *const lookup_map_names[2] = { "transport", "mailertable" };
static const char *const lookup_action_names[5] = {
	"relay", "local", "reject", "tempfail", "notfound",
};

struct control *control_new(struct evloop *loop, int listen_fd, struct router *router,
			    struct socketmap *socketmap)
{
	struct control *control = xcalloc(1, sizeof(*control));

	control->loop = loop;
	control->listen_fd = listen_fd;
	control->router = router;
	control->socketmap = socketmap;
	if (evloop_watch(loop, listen_fd, EV_READ, control_on_accept, control) < 0) {
		log_errx("control socket: cannot watch it: %s", strerror(errno));
		free(control);
		return NULL;
	}
	return control;
}

/* Loop thread. Closes every client; the listening socket stays the daemon's. */
void control_free(struct control **controlp)
{
	struct control *control = *controlp;

	if (control == NULL)
		return;
	while (control->clients != NULL) {
		struct control_client *client = control->clients;

		client_close(&client);
	}
	evloop_timer_cancel(control->loop, &control->pause_timer);
	evloop_unwatch(control->loop, control->listen_fd);
	free(control);
	*controlp = NULL;
}

static void control_on_accept(int fd, unsigned events MX_UNUSED, void *arg)
{
	struct control *control = arg;
	int client_fd;

	for (unsigned i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
		client_fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (client_fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors: the listener would fire again at
			 * once. Take a breath instead of spinning. */
			log_warnx("control socket: accept: %s", strerror(errno));
			evloop_watch(control->loop, fd, 0, control_on_accept, control);
			control->pause_timer = evloop_timer_add(control->loop, CONTROL_PAUSE_MS,
								control_on_resume, control);
			return;
		}
		control->connections++;
		if (control->n_clients >= CONTROL_CLIENTS_MAX) {
			control_refuse(control, client_fd);
			continue;
		}
		client_start(control, client_fd);
	}
}

static void control_refuse(struct control *control, int fd)
{
	uint64_t now = evloop_now_ms(control->loop);

	close(fd);
	control->refused++;
	if (now - control->refused_log_ms < 1000)
		return;
	control->refused_log_ms = now;
	log_warnx("control socket: %d clients already; closing new ones",
		  CONTROL_CLIENTS_MAX);
}

static void control_on_resume(void *arg)
{
	struct control *control = arg;

	control->pause_timer = NULL;
	if (evloop_watch(control->loop, control->listen_fd, EV_READ, control_on_accept,
			 control) < 0)
		log_errx("control socket: cannot watch it again: %s", strerror(errno));
}

/* ---- one client ---- */

static void client_start(struct control *control, int fd)
{
	struct control_client *client = xcalloc(1, sizeof(*client));
	struct text t = { 0 };

	stats_format(control, &t);
	client->control = control;
	client->fd = fd;
	client->text = t.buf;
	client->len = t.len;
	client->next = control->clients;
	if (control->clients != NULL)
		control->clients->prev = client;
	control->clients = client;
	control->n_clients++;
	if (client_send(client)) {
		client_close(&client);
		return;
	}
	if (evloop_watch(control->loop, fd, EV_WRITE, client_on_writable, client) < 0) {
		log_warnx("control socket: cannot watch a client: %s", strerror(errno));
		client_close(&client);
		return;
	}
	client->timer = evloop_timer_add(control->loop, CONTROL_TIMEOUT_MS, client_on_timeout,
					 client);
}

/* True when the client is done with: everything sent, or gone. */
static bool client_send(struct control_client *client)
{
	while (client->sent < client->len) {
		ssize_t n = send(client->fd, client->text + client->sent,
				 client->len - client->sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0)
			return true;	/* the client left; nothing to report */
		client->sent += (size_t)n;
	}
	return true;
}

static void client_on_writable(int fd MX_UNUSED, unsigned events MX_UNUSED, void *arg)
{
	struct control_client *client = arg;

	if (client_send(client))
		client_close(&client);
}

static void client_on_timeout(void *arg)
{
	struct control_client *client = arg;

	client->timer = NULL;
	log_warnx("control socket: a client took more than %d ms to read; dropped it",
		  CONTROL_TIMEOUT_MS);
	client_close(&client);
}

static void client_close(struct control_client **clientp)
{
	struct control_client *client = *clientp;
	struct control *control = client->control;

	evloop_timer_cancel(control->loop, &client->timer);
	evloop_unwatch(control->loop, client->fd);
	close(client->fd);
	if (client->prev != NULL)
		client->prev->next = client->next;
	else
		control->clients = client->next;
	if (client->next != NULL)
		client->next->prev = client->prev;
	control->n_clients--;
	free(client->text);
	free(client);
	*clientp = NULL;
}

/* ---- the answer ---- */

static void stats_format(struct control *control, struct text *t)
{
	struct stats_snapshot s = { 0 };

	router_get_stats(control->router, &s.router);
	daemon_get_stats(&s.daemon);
	s.has_socketmap = control->socketmap != NULL;
	if (s.has_socketmap)
		socketmap_get_stats(control->socketmap, &s.socketmap);
	s.has_milter = s.daemon.milter_enabled;
	if (s.has_milter)
		milter_get_stats(&s.milter);
	s.control_connections = control->connections;
	s.control_refused = control->refused;

	stats_format_daemon(&s, t);
	if (s.has_socketmap)
		stats_format_socketmap(&s.socketmap, t);
	if (s.has_milter)
		stats_format_milter(&s.milter, t);
	stats_format_router(&s.router, t);
	stats_format_doors(&s, t);
}

static void stats_format_daemon(const struct stats_snapshot *s, struct text *t)
{
	metric_family(t, "mxpath_build_info", "gauge", "The running mxpathd's version.");
	text_printf(t, "mxpath_build_info{version=\"%s\"} 1\n", MXPATH_VERSION);
	metric_single(t, "mxpath_start_time_seconds", "gauge",
		      "When mxpathd started, in seconds since the Unix epoch.", (uint64_t)s->daemon.started);
	metric_family(t, "mxpath_reloads_total", "counter",
		      "Configuration reloads (SIGUSR1), by result.");
	metric_value(t, "mxpath_reloads_total", "result=\"ok\"", s->daemon.reloads_ok);
	metric_value(t, "mxpath_reloads_total", "result=\"refused\"", s->daemon.reloads_refused);
}

static void stats_format_router(const struct router_stats *rs, struct text *t)
{
	metric_single(t, "mxpath_decisions_total", "counter",
		      "Routing decisions made.", rs->decisions);

	metric_single(t, "mxpath_cache_hits_total", "counter",
		      "Decisions answered from the DNS cache alone.", rs->cache_hits);
	metric_single(t, "mxpath_cache_misses_total", "counter",
		      "Decisions that had to ask DNS servers.", rs->cache_misses);
	metric_single(t, "mxpath_cache_stale_total", "counter",
		      "Decisions that used a stale answer (the DNS servers failed).", rs->cache_stale);
	metric_single(t, "mxpath_cache_entries", "gauge",
		      "DNS answers in the cache.", rs->cache_entries);
	metric_single(t, "mxpath_cache_bytes", "gauge",
		      "Memory held by cached DNS answers.", rs->cache_bytes);

	metric_single(t, "mxpath_dns_queries_total", "counter",
		      "Queries sent to DNS servers.", rs->dns_queries);
	metric_single(t, "mxpath_dns_coalesced_total", "counter",
		      "Questions that joined a query already in flight.", rs->dns_coalesced);
	metric_single(t, "mxpath_dns_failures_total", "counter",
		      "Queries that failed: SERVFAIL, REFUSED, timeout, bad answer.", rs->dns_failures);
}

/* Connections and errors, one series per door. */
static void stats_format_doors(const struct stats_snapshot *s, struct text *t)
{
	metric_family(t, "mxpath_connections_total", "counter", "Connections accepted, by door.");
	if (s->has_socketmap)
		metric_value(t, "mxpath_connections_total", "door=\"socketmap\"",
			     s->socketmap.connections);
	if (s->has_milter)
		metric_value(t, "mxpath_connections_total", "door=\"milter\"", s->milter.sessions);
	metric_value(t, "mxpath_connections_total", "door=\"control\"", s->control_connections);
	metric_family(t, "mxpath_connections_refused_total", "counter",
		      "Connections closed at once for want of a free slot, by door.");
	if (s->has_socketmap)
		metric_value(t, "mxpath_connections_refused_total", "door=\"socketmap\"",
			     s->socketmap.refused);
	metric_value(t, "mxpath_connections_refused_total", "door=\"control\"",
		     s->control_refused);
	if (s->has_socketmap) {
		metric_family(t, "mxpath_connections_open", "gauge", "Connections open, by door.");
		metric_value(t, "mxpath_connections_open", "door=\"socketmap\"", s->socketmap.open);
	}
	if (!s->has_socketmap && !s->has_milter)
		return;
	metric_family(t, "mxpath_errors_total", "counter",
		      "Malformed or oversize requests and I/O errors, by door.");
	if (s->has_socketmap)
		metric_value(t, "mxpath_errors_total", "door=\"socketmap\"", s->socketmap.errors);
	if (s->has_milter)
		metric_value(t, "mxpath_errors_total", "door=\"milter\"", s->milter.errors);
}

static void stats_format_socketmap(const struct socketmap_stats *ss, struct text *t)
{
	char labels[64];

	metric_family(t, "mxpath_lookups_total", "counter",
		      "Socketmap lookups, by map and answer.");
	for (size_t map = 0; map < MX_ARRAY_LEN(lookup_map_names); map++) {
		for (size_t action = 0; action < MX_ARRAY_LEN(lookup_action_names); action++) {
			snprintf(labels, sizeof(labels), "map=\"%s\",action=\"%s\"",
				 lookup_map_names[map], lookup_action_names[action]);
			metric_value(t, "mxpath_lookups_total", labels, ss->lookups[map][action]);
		}
	}
}

/* Sessions and errors are under mxpath_connections_total / mxpath_errors_total. */
static void stats_format_milter(const struct milter_stats *ms, struct text *t)
{
	char labels[32];

	metric_family(t, "mxpath_milter_recipients_total", "counter",
		      "Recipients judged by the milter door, by action.");
	for (int action = ROUTE_RELAY; action <= ROUTE_TEMPFAIL; action++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"",
			 route_action_name((enum route_action)action));
		metric_value(t, "mxpath_milter_recipients_total", labels, ms->recipients[action]);
	}
	metric_single(t, "mxpath_milter_skipped_total", "counter",
		      "Recipients of locally submitted mail, passed without a verdict.", ms->skipped);
	metric_single(t, "mxpath_milter_rewritten_total", "counter",
		      "Envelope recipients rewritten at end of message.", ms->rewritten);
}

static void metric_family(struct text *t, const char *name, const char *type, const char *help)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_value(struct text *t, const char *name, const char *labels, uint64_t value)
{
	if (labels != NULL)
		text_printf(t, "%s{%s} %llu\n", name, labels, (unsigned long long)value);
	else
		text_printf(t, "%s %llu\n", name, (unsigned long long)value);
}

/* A family with one unlabelled series: most of the counters. */
static void metric_single(struct text *t, const char *name, const char *type, const char *help,
			  uint64_t value)
{
	metric_family(t, name, type, help);
	metric_value(t, name, NULL, value);
}

static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatal("control socket: formatting failed");
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap ? 2 * t->cap : 4096;
		while (t->cap - t->len <= (size_t)n)
			t->cap *= 2;
		t->buf = xrealloc(t->buf, t->cap);
	}
}

/* ---- the client side ---- */

int control_fetch_stats(const char *spec, FILE *out, char *err, size_t errlen)
{
	struct timeval timeout = { .tv_sec = CONTROL_TIMEOUT_MS / 1000 };
	char buf[8192];
	size_t total = 0;
	ssize_t n;
	int fd;

	if (spec == NULL) {
		snprintf(err, errlen, "no control socket configured (control.socket)");
		return -1;
	}
	fd = listen_connect(spec, err, errlen);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		snprintf(err, errlen, "%s: setsockopt: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read: %s", spec,
				 errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		total += (size_t)n;
		if (total > CONTROL_FETCH_MAX) {
			snprintf(err, errlen, "%s: answer longer than %zu bytes", spec,
				 CONTROL_FETCH_MAX);
			break;
		}
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			snprintf(err, errlen, "writing the answer: %s", strerror(errno));
			break;
		}
	}
	close(fd);
	if (n != 0)
		return -1;
	if (fflush(out) != 0) {
		snprintf(err, errlen, "writing the answer: %s", strerror(errno));
		return -1;
	}
	return 0;
}
