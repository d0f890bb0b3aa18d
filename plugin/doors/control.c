/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control.c - the control socket: counters, reloads and routes for the admin
 *
 * A client connects and sends one request; the daemon answers it and
 * closes. Requests, one line each:
 *   stats          every counter it has (decisions, cache, DNS, socketmap
 *                  lookups, the milter door's when it runs, reloads) in
 *                  the Prometheus text exposition format, version 0.0.4;
 *   reload         reload the configuration (by the daemon's reload hook)
 *                  and answer "reloaded FILE" or "refused: FILE:LINE: why";
 *   route ADDRESS  decide ADDRESS with the daemon's router (its cache, its
 *                  identity) and answer the action, the explanation and
 *                  the exact reply of each socketmap map;
 *   GET /metrics HTTP/1.1 (and its headers): the counters over HTTP, for
 *                  a Prometheus scrape (http.c reads the request).
 * reload and route change or spend the daemon's state: a TCP client that
 * is not on this host gets only the counters.
 *
 * The listening socket is the daemon's (opened and closed by it). Runs on
 * the event loop: at most CONTROL_CLIENTS_MAX clients at once; a client
 * must send its request within CONTROL_TIMEOUT_MS and take its answer
 * within as long again.
 *
 * control_ask() is the client side, for `mxpath stats|reload|route`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "mxpath/doors/format.h"
#include "mxpath/doors/http.h"
#include "mxpath/doors/present.h"
#include "mxpath/runtime/daemon.h"
#include "mxpath/runtime/listen.h"
#include "mxpath/doors/milter.h"
#include "mxpath/engine/route.h"
#include "mxpath/engine/route_text.h"

#define CONTROL_CLIENTS_MAX 16
#define CONTROL_TIMEOUT_MS 5000		/* to send the request; to take the answer */
#define CONTROL_WAIT_MS 60000		/* a reload or a route being decided */
#define CONTROL_DRAIN_MS 1000		/* after the answer, for the client to close */
#define CONTROL_PAUSE_MS 1000		/* accept() failing for want of descriptors */
#define CONTROL_ACCEPT_BATCH 64		/* connections taken per wake-up */
#define CONTROL_REQUEST_MAX HTTP_REQUEST_MAX
#define CONTROL_FETCH_MAX ((size_t)1024 * 1024)	/* the client's cap on an answer */
#define CONTROL_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum client_state {
	CLIENT_READING,		/* the request */
	CLIENT_WAITING,		/* a reload or a route */
	CLIENT_WRITING,		/* the answer */
	CLIENT_DRAINING,	/* answered; reading what is left until the client closes */
};

struct control_client {
	struct control *control;	/* NULL once orphaned by control_free() */
	int fd;				/* -1 once closed (a route may still be coming) */
	enum client_state state;
	bool is_local;			/* unix socket or loopback peer */
	char request[CONTROL_REQUEST_MAX + 1];
	size_t request_len;
	char address[FORMAT_KEY_MAX + 1];	/* route: what was asked */
	uint64_t reload_ticket;		/* reload: answered by this ticket's result */
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
	struct control_hooks hooks;
	struct control_client *clients;
	unsigned n_clients;
	uint64_t reload_tickets;	/* reload requests handed out */
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

/*
 * The maps `route` shows the reply of, in this order. One decision is
 * shown in each map's syntax. A map added to the socketmap door (a TLS
 * policy map, say) gets a row here.
 */
static const struct route_map_view {
	const char *label;
	enum format_map map;
	bool by_domain;			/* the key is the domain, not the address */
} route_map_views[] = {
	{ "transport", FORMAT_MAP_TRANSPORT, false },
	{ "mailertable", FORMAT_MAP_MAILERTABLE, true },
};

static void control_on_accept(int fd, unsigned events, void *arg);
static void control_refuse(struct control *control, int fd);
static void control_on_resume(void *arg);
static void client_start(struct control *control, int fd, const struct sockaddr_storage *peer);
static bool peer_is_local(const struct sockaddr_storage *peer);
static void client_on_readable(int fd, unsigned events, void *arg);
static void client_dispatch(struct control_client *client, bool at_eof);
static void client_command(struct control_client *client, const char *line, size_t len);
static void client_http(struct control_client *client, const struct http_request *req);
static void client_reload(struct control_client *client);
static void client_route(struct control_client *client, const char *address);
static void client_on_route(void *arg, const struct route *route);
static void route_answer_format(struct control *control, const char *address,
				const struct route *route, struct text *t);
static void route_map_reply(const struct policy *policy, const struct route_map_view *view,
			    const char *address, const struct route *route, struct text *t);
static void client_answer(struct control_client *client, struct text *t);
static void client_answerf(struct control_client *client, const char *fmt, ...) MX_PRINTF(2, 3);
static void client_wait(struct control_client *client, uint64_t ms);
static void client_on_writable(int fd, unsigned events, void *arg);
static void client_finish(struct control_client *client);
static void client_on_drain(int fd, unsigned events, void *arg);
static void client_on_timeout(void *arg);
static bool client_send(struct control_client *client);
static void client_unlink(struct control_client *client);
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
static void text_vprintf(struct text *t, const char *fmt, va_list ap) MX_PRINTF(2, 0);
static void text_put(struct text *t, const char *data, size_t len);

static const char *const lookup_map_names[3] = { "transport", "mailertable", "tls" };
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

void control_set_hooks(struct control *control, const struct control_hooks *hooks)
{
	control->hooks = *hooks;
}

/* Loop thread. Closes every client; the listening socket stays the daemon's.
 * A client whose route is still being decided is orphaned: the router's
 * callback frees it. */
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
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int client_fd;

	for (unsigned i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
		peer_len = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		client_fd = accept4(fd, (struct sockaddr *)&peer, &peer_len,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);
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
		client_start(control, client_fd, &peer);
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

/* ---- one client: the request ---- */

static void client_start(struct control *control, int fd, const struct sockaddr_storage *peer)
{
	struct control_client *client = xcalloc(1, sizeof(*client));

	client->control = control;
	client->fd = fd;
	client->state = CLIENT_READING;
	client->is_local = peer_is_local(peer);
	client->next = control->clients;
	if (control->clients != NULL)
		control->clients->prev = client;
	control->clients = client;
	control->n_clients++;
	if (evloop_watch(control->loop, fd, EV_READ, client_on_readable, client) < 0) {
		log_warnx("control socket: cannot watch a client: %s", strerror(errno));
		client_close(&client);
		return;
	}
	client_wait(client, CONTROL_TIMEOUT_MS);
}

/* A unix socket, or TCP from a loopback address (IPv4-mapped included). */
static bool peer_is_local(const struct sockaddr_storage *peer)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)peer;

	switch (peer->ss_family) {
	case AF_INET:
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return sin6->sin6_addr.s6_addr[12] == 127;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	default:
		return true;
	}
}

static void client_on_readable(int fd, unsigned events MX_UNUSED, void *arg)
{
	struct control_client *client = arg;
	size_t room = CONTROL_REQUEST_MAX - client->request_len;
	ssize_t n;

	n = recv(fd, client->request + client->request_len, room, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		client_close(&client);	/* the client left; nothing to report */
		return;
	}
	client->request_len += (size_t)n;
	client->request[client->request_len] = '\0';
	client_dispatch(client, n == 0);
}

/* Answers once the request is whole (or cannot be). */
static void client_dispatch(struct control_client *client, bool at_eof)
{
	struct http_request req;
	const char *nl;
	size_t len;

	if (http_is_request(client->request, client->request_len)) {
		if (http_request_parse(client->request, client->request_len, at_eof, &req) ==
		    HTTP_PARSE_DONE)
			client_http(client, &req);
		return;
	}
	nl = memchr(client->request, '\n', client->request_len);
	if (nl == NULL && client->request_len < CONTROL_REQUEST_MAX && !at_eof)
		return;
	if (nl == NULL && !at_eof) {
		client_answerf(client, "error: request longer than %d bytes\n",
			       CONTROL_REQUEST_MAX);
		return;
	}
	len = nl != NULL ? (size_t)(nl - client->request) : client->request_len;
	if (len > 0 && client->request[len - 1] == '\r')
		len--;
	if (memchr(client->request, '\0', len) != NULL) {
		client_answerf(client, "error: NUL byte in the request\n");
		return;
	}
	client->request[len] = '\0';
	client_command(client, client->request, len);
}

/* One command line, NUL-terminated, len bytes. An empty one means stats. */
static void client_command(struct control_client *client, const char *line, size_t len)
{
	bool is_reload = strcmp(line, "reload") == 0;
	bool is_route = strncmp(line, "route ", 6) == 0 && line[6] != '\0';

	if (strcmp(line, "stats") == 0 || len == 0) {
		struct text t = { 0 };

		stats_format(client->control, &t);
		client_answer(client, &t);
	} else if ((is_reload || is_route) && !client->is_local) {
		client_answerf(client, "error: %s is only taken from this host (a unix socket "
			       "or a loopback address)\n", is_route ? "route" : "reload");
	} else if (is_reload) {
		client_reload(client);
	} else if (is_route) {
		client_route(client, line + 6);
	} else {
		char shown[64];

		present_sanitize(shown, sizeof(shown), line, len, PRESENT_KEEP_SPACE);
		client_answerf(client, "error: unknown request \"%s\" (stats, reload, "
			       "route ADDRESS, or HTTP GET /metrics)\n", shown);
	}
}

/* GET or HEAD of /metrics; everything else is an error status. */
static void client_http(struct control_client *client, const struct http_request *req)
{
	struct text t = { 0 };
	char head[256];
	size_t head_len;
	int status = req->status;
	bool is_head = strcmp(req->method, "HEAD") == 0;

	if (status == 200 && strcmp(req->path, "/metrics") != 0)
		status = 404;
	else if (status == 200 && strcmp(req->method, "GET") != 0 && !is_head)
		status = 405;
	if (status == 200)
		stats_format(client->control, &t);
	else
		text_printf(&t, "%d %s\n", status, http_reason(status));
	head_len = http_response_head(head, sizeof(head), status,
				      status == 200 ? CONTROL_METRICS_TYPE :
				      "text/plain; charset=utf-8", t.len);
	if (is_head)
		t.len = 0;
	/* The head goes first: the body moves up behind it. */
	text_put(&t, head, head_len);
	memmove(t.buf + head_len, t.buf, t.len - head_len);
	memcpy(t.buf, head, head_len);
	client_answer(client, &t);
}

/* ---- reload: the daemon does it (off the loop), then control_reload_done() ---- */

static void client_reload(struct control_client *client)
{
	struct control *control = client->control;

	if (control->hooks.reload == NULL) {
		client_answerf(client, "error: this daemon takes no reload requests\n");
		return;
	}
	client->reload_ticket = ++control->reload_tickets;
	client->state = CLIENT_WAITING;
	evloop_watch(control->loop, client->fd, 0, client_on_readable, client);
	client_wait(client, CONTROL_WAIT_MS);
	control->hooks.reload(control->hooks.arg, client->reload_ticket);
}

void control_reload_done(struct control *control, uint64_t ticket, const char *result)
{
	struct control_client *client = control->clients, *next;

	for (; client != NULL; client = next) {
		next = client->next;
		if (client->state == CLIENT_WAITING && client->reload_ticket != 0 &&
		    client->reload_ticket <= ticket)
			client_answerf(client, "%s", result);
	}
}

/* ---- route: the daemon's router decides ---- */

static void client_route(struct control_client *client, const char *address)
{
	struct control *control = client->control;

	if (strlen(address) > FORMAT_KEY_MAX) {
		client_answerf(client, "error: address longer than %d bytes\n", FORMAT_KEY_MAX);
		return;
	}
	snprintf(client->address, sizeof(client->address), "%s", address);
	client->state = CLIENT_WAITING;
	evloop_watch(control->loop, client->fd, 0, client_on_readable, client);
	client_wait(client, CONTROL_WAIT_MS);
	router_decide(control->router, client->address, NULL, client_on_route, client);
}

static void client_on_route(void *arg, const struct route *route)
{
	struct control_client *client = arg;
	struct text t = { 0 };

	if (client->control == NULL) {
		free(client);	/* closed while the route was decided: nobody to tell */
		return;
	}
	route_answer_format(client->control, client->address, route, &t);
	client_answer(client, &t);
}

/*
 * "ACTION\n", the explanation (mxpath route's text), then per map
 * "map KEY -> REPLY" with the reply exactly as the socketmap door sends it.
 */
static void route_answer_format(struct control *control, const char *address,
				const struct route *route, struct text *t)
{
	struct policy *policy = router_policy(control->router);
	char *explained = NULL;
	size_t explained_len = 0;
	FILE *fp = open_memstream(&explained, &explained_len);

	if (fp == NULL)
		fatal("control socket: open_memstream: %s", strerror(errno));
	route_text_write(fp, address, route);
	if (fclose(fp) != 0)
		fatal("control socket: formatting a route: %s", strerror(errno));
	text_printf(t, "%s\n", route_action_name(route->action));
	text_put(t, explained, explained_len);
	free(explained);
	for (size_t i = 0; i < MX_ARRAY_LEN(route_map_views); i++)
		route_map_reply(policy, &route_map_views[i], address, route, t);
	policy_unref(&policy);
}

static void route_map_reply(const struct policy *policy, const struct route_map_view *view,
			    const char *address, const struct route *route, struct text *t)
{
	struct format_query q;
	struct format_reply reply = { .cap = FORMAT_REPLY_MAX + 1 };
	const char *at = strrchr(address, '@');
	const char *key = view->by_domain && at != NULL ? at + 1 : address;
	char request[FORMAT_KEY_MAX + 32];

	snprintf(request, sizeof(request), "%s %s", format_map_name(view->map), key);
	reply.buf = xmalloc(reply.cap);
	if (format_request(policy, request, strlen(request), &q, &reply) == FORMAT_ROUTE)
		format_route(policy, &q, route, &reply);
	text_printf(t, "%-12s %s -> %s\n", view->label, key, reply.buf);
	free(reply.buf);
}

/* ---- one client: the answer ---- */

/* Takes t's buffer; sends what it can now, the rest when the client reads. */
static void client_answer(struct control_client *client, struct text *t)
{
	struct control *control = client->control;

	client->text = t->buf;
	client->len = t->len;
	client->state = CLIENT_WRITING;
	t->buf = NULL;
	if (client_send(client)) {
		client_finish(client);
		return;
	}
	if (evloop_watch(control->loop, client->fd, EV_WRITE, client_on_writable, client) < 0) {
		log_warnx("control socket: cannot watch a client: %s", strerror(errno));
		client_close(&client);
		return;
	}
	client_wait(client, CONTROL_TIMEOUT_MS);
}

static void client_answerf(struct control_client *client, const char *fmt, ...)
{
	struct text t = { 0 };
	va_list ap;

	va_start(ap, fmt);
	text_vprintf(&t, fmt, ap);
	va_end(ap);
	client_answer(client, &t);
}

/* (Re)arms the client's one timer. */
static void client_wait(struct control_client *client, uint64_t ms)
{
	struct control *control = client->control;

	evloop_timer_cancel(control->loop, &client->timer);
	client->timer = evloop_timer_add(control->loop, ms, client_on_timeout, client);
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
		client_finish(client);
}

/*
 * Answered. Closing now with unread request bytes (an oversize request
 * cut short) would reset the connection and lose the answer on the way:
 * say we are done writing and read until the client closes, a while at
 * most.
 */
static void client_finish(struct control_client *client)
{
	struct control *control = client->control;

	client->state = CLIENT_DRAINING;
	if (shutdown(client->fd, SHUT_WR) < 0 ||
	    evloop_watch(control->loop, client->fd, EV_READ, client_on_drain, client) < 0) {
		client_close(&client);
		return;
	}
	client_wait(client, CONTROL_DRAIN_MS);
}

static void client_on_drain(int fd, unsigned events MX_UNUSED, void *arg)
{
	struct control_client *client = arg;
	char sink[4096];
	ssize_t n = recv(fd, sink, sizeof(sink), 0);

	if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)))
		return;
	client_close(&client);	/* closed by the client, or gone */
}

static void client_on_timeout(void *arg)
{
	struct control_client *client = arg;
	static const char *const what[] = {
		[CLIENT_READING] = "send its request",
		[CLIENT_WAITING] = "get its reload or route",
		[CLIENT_WRITING] = "read its answer",
		[CLIENT_DRAINING] = "close",
	};

	client->timer = NULL;
	if (client->state == CLIENT_DRAINING) {
		client_close(&client);	/* answered; it just did not close */
		return;
	}
	log_warnx("control socket: a client took more than %llu ms to %s; dropped it",
		  (unsigned long long)(client->state == CLIENT_WAITING ? CONTROL_WAIT_MS :
				       CONTROL_TIMEOUT_MS), what[client->state]);
	client_close(&client);
}

/* Off the control's list; the fd and the timer are left alone. */
static void client_unlink(struct control_client *client)
{
	struct control *control = client->control;

	if (client->prev != NULL)
		client->prev->next = client->next;
	else
		control->clients = client->next;
	if (client->next != NULL)
		client->next->prev = client->prev;
	client->prev = client->next = NULL;
	control->n_clients--;
}

/* A client waiting for a route stays allocated (off the list, fd closed)
 * until the router's callback, which frees it. */
static void client_close(struct control_client **clientp)
{
	struct control_client *client = *clientp;
	struct control *control = client->control;
	bool route_pending = client->state == CLIENT_WAITING && client->reload_ticket == 0;

	evloop_timer_cancel(control->loop, &client->timer);
	evloop_unwatch(control->loop, client->fd);
	close(client->fd);
	client->fd = -1;
	free(client->text);
	client->text = NULL;
	client_unlink(client);
	if (route_pending)
		client->control = NULL;
	else
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
	metric_single(t, "mxpath_route_memo_hits_total", "counter",
		      "Decisions answered from a route kept for their domain.", rs->memo_hits);
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
	metric_single(t, "mxpath_dns_prefetches_total", "counter",
		      "Background refreshes of cached answers used close to their expiry.",
		      rs->prefetches);
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

	va_start(ap, fmt);
	text_vprintf(t, fmt, ap);
	va_end(ap);
}

static void text_vprintf(struct text *t, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_copy(again, ap);
		n = vsnprintf(t->buf + t->len, room, fmt, again);
		va_end(again);
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

/* Appends len bytes (not NUL-terminated). */
static void text_put(struct text *t, const char *data, size_t len)
{
	if (t->cap - t->len < len + 1) {
		t->cap = t->len + len + 1;
		t->buf = xrealloc(t->buf, t->cap);
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

/* ---- the client side ---- */

int control_fetch_stats(const char *spec, FILE *out, char *err, size_t errlen)
{
	return control_ask(spec, "stats", out, CONTROL_TIMEOUT_MS, err, errlen);
}

int control_ask(const char *spec, const char *request, FILE *out, int timeout_ms, char *err,
		size_t errlen)
{
	struct timeval timeout = { .tv_sec = timeout_ms / 1000,
				   .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };
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
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0) {
		snprintf(err, errlen, "%s: setsockopt: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", request);
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) != (ssize_t)strlen(buf)) {
		snprintf(err, errlen, "%s: sending the request: %s", spec, strerror(errno));
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
