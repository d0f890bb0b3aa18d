/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter.c - the milter door: RCPT-time verdicts and envelope rewriting
 *
 * At RCPT a session asks the router for the recipient's route
 * (router_decide_wait() blocks only the thread running this session) and
 * turns an unroutable recipient into an SMTP reply for that recipient alone: reject (null MX, NXDOMAIN, mail looping back to
 * this host, no address, malformed) or tempfail (DNS failure; never an
 * accept). At end of message it may rewrite envelope recipients (cluster
 * alias -> first member of its route, local hosts -> one canonical
 * domain) and stamp one X-MXPath trace header. Each of those is off by
 * default and asked for from the MTA only when the policy wants it.
 *
 * Privacy. Every recipient of a message gets the same headers, so the
 * trace header names a recipient (and its route, which names its
 * domain's exchangers) only when the message has exactly one, as
 * Postfix's "Received: ... for <rcpt>" does; with more there is no trace
 * header at all, so no Bcc recipient is disclosed to the others.
 *
 * It does not choose next hops for the MTA (the socketmap door does), nor
 * resolve, cache or parse configuration.
 *
 * Logs. One line per recipient, Postfix style, the MTA's queue id first:
 *   QUEUEID: rcpt=<a@x> action=relay rule=mx hops=mx1.x,mx2.x reply=- conn=7
 * so that grepping mail.log for a queue id finds mxpathd's lines beside
 * the MTA's. sendmail gives {i} from MAIL on; Postfix only once the queue
 * file exists (at the latest from DATA on), so a verdict at RCPT may come
 * before the queue id. Then a refused recipient is logged at once with
 * NOQUEUE for the id (it never enters the queue, as in Postfix's own
 * "NOQUEUE: reject" lines), and an accepted one is held until end of
 * message and logged with the queue id (NOQUEUE if the transaction ends
 * without one: aborted). conn=N ties the lines of one connection.
 *
 * Threads. Debian's libmilter runs sessions on a worker pool: a session's
 * callbacks may run on different threads, and a new worker starts
 * whenever none is idle. The pool counts a worker idle until it wakes,
 * so two sessions ready at the same instant may share one signalled
 * worker: the second then waits until any worker finishes a command, at
 * worst MILTER_DECIDE_MS when every worker waits for DNS (measured with 20
 * lookups started at once against a silent server). All session state
 * lives in smfi_setpriv(), none in thread-locals; what is shared
 * (counters, flags) is atomic.
 *
 * Locally submitted mail. Postfix runs non_smtpd_milters from cleanup for
 * mail from the sendmail command / pickup. Measured on Postfix 3.7.11:
 * such a session connects as host "localhost", AF_INET 127.0.0.1, port 0,
 * HELO "localhost", with the same {j}, {daemon_name} (= myhostname) and
 * {daemon_addr} as an smtpd session, and with {i} already set at MAIL;
 * its envelope addresses come without angle brackets. "sendmail -bs" goes
 * the same way. An smtpd session always has the client's real TCP source
 * port, never 0, so "localhost" + 127.0.0.1 + port 0 is the signature.
 * Rejecting at RCPT there is a configuration error (DESIGN.md), so the
 * recipients of those sessions pass without a verdict (counted as
 * skipped), nothing is rewritten, and the socketmap door still routes
 * the mail.
 */
#include <stdbool.h>	/* before mfapi.h, which otherwise defines its own bool */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "mxpath/base/common.h"
#include "mxpath/config/sockspec.h"
#include "mxpath/doors/milter.h"
#include "mxpath/doors/present.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route.h"
#include "mxpath/dns/router.h"

#define MILTER_NAME "mxpath"
#define MILTER_RCPTS_MAX 1000		/* recorded for EOM per message */
#define MILTER_TRACE_MAX 4096		/* bytes of X-MXPath value */
#define MILTER_TRACE_LINE 78		/* fold the trace header before this */
#define MILTER_LOG_HOPS_MAX 512		/* bytes of the hop list in a log line */
#define MILTER_ESMTP_MAX 2048		/* bytes of RCPT parameters kept for a rewrite */
#define MILTER_DRAIN_MS 3000		/* milter_run() waits this long for callbacks */
/* A route not found by then is a 451: Postfix's milter_command_timeout
 * (30 s) and sendmail's T=R (30 s in README) would otherwise expire first. */
#define MILTER_DECIDE_MS 25000
/* Text from the network in logs, replies, the header: controls become '?'. */
#define MILTER_PRINTABLE (PRESENT_KEEP_SPACE | PRESENT_KEEP_8BIT)
#define MILTER_DEFAULT_TEMP_TEXT "Temporary failure looking up the recipient's route"

/* What rewriting needs from the MTA; ADDRCPT_PAR stands in for ADDRCPT. */
#define ACTIONS_REWRITE (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT)
/* Protocol steps this door never looks at. */
#define STEPS_UNUSED (SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | \
		      SMFIP_NOUNKNOWN | SMFIP_NODATA)

/* One accepted recipient, kept for end of message. */
struct rcpt_entry {
	char *original;		/* argv[0] exactly as the MTA gave it */
	char *esmtp_args;	/* argv[1..] joined by spaces; NULL if none */
	char *rewrite_to;	/* the new recipient; NULL keeps it */
	enum route_action action;
	enum route_rule rule;
	enum tls_keep mta_keeps;	/* the MTA routes it itself (socketmap NOTFOUND) */
	char *hops;		/* "a.example,b.example" for the trace; NULL if none */
};

struct session {
	uint64_t id;			/* names the connection in logs until {i} exists */
	unsigned long actions;		/* SMFIF_* the MTA granted */
	bool is_local_submission;	/* no verdicts for this connection */
	char *self_extra;		/* the MTA's {j} */
	struct policy *policy;		/* this transaction's; NULL outside one */
	struct rcpt_entry *rcpts;
	size_t n_rcpts, cap_rcpts;
	size_t n_dropped;		/* accepted but not recorded (over the caps) */
	size_t n_accepted;		/* recipients of this message, recorded or not */
	char **held_logs;		/* accepted recipients' lines waiting for {i} */
	size_t n_held, cap_held;
	struct route route;		/* reused for every RCPT of the connection */
	char rcpt_buf[MX_ADDRESS_MAX + 1];
};

/* The header value under construction, folded as it grows. */
struct trace {
	char buf[MILTER_TRACE_MAX];
	size_t len;
	size_t line;			/* length of the current line */
	bool full;
};

static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long offered_actions,
				 unsigned long offered_steps, unsigned long f2, unsigned long f3,
				 unsigned long *actions, unsigned long *steps, unsigned long *p2,
				 unsigned long *p3);
static sfsistat milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr);
static sfsistat milter_envfrom(SMFICTX *ctx, char **argv);
static sfsistat milter_envrcpt(SMFICTX *ctx, char **argv);
static sfsistat milter_eom(SMFICTX *ctx);
static sfsistat milter_abort(SMFICTX *ctx);
static sfsistat milter_close(SMFICTX *ctx);

static struct session *session_new(void);
static void session_free(struct session **s);
static void session_end_transaction(struct session *s);
static struct session *session_get(SMFICTX *ctx);
static const char *session_queue_id(SMFICTX *ctx);
static void session_log_held(struct session *s, const char *queue_id);

static bool callback_enter(void);
static void callback_leave(void);

static unsigned long actions_wanted(const struct policy *policy);
static void actions_log_missing(unsigned long missing);
static bool is_local_submission(const char *hostname, const _SOCK_ADDR *hostaddr);

static const char *rcpt_strip(const char *text, char *buf, size_t len);
static char *rcpt_rewrite_target(const struct policy *policy, const char *original,
				 const struct route *route);
static char *rcpt_with_domain(const char *original, const char *domain);
static bool args_too_long(char **argv);
static char *args_join(char **argv);
static void rcpt_record(struct session *s, SMFICTX *ctx, char **argv,
			const struct route *route);
static void rcpt_entry_clear(struct rcpt_entry *e);

static sfsistat verdict_apply(SMFICTX *ctx, const struct route *route, bool enforce);
static void reply_set(SMFICTX *ctx, int code, const char *status, const char *text);
static void decision_log(SMFICTX *ctx, struct session *s, const char *rcpt,
			 const struct route *route, bool replied);

static void eom_add_trace(SMFICTX *ctx, struct session *s);
static void eom_rewrite(SMFICTX *ctx, struct session *s);
static void trace_add_entry(struct trace *t, const struct rcpt_entry *e);
static void trace_add(struct trace *t, const char *token, bool space);

static void stat_add(atomic_uint_fast64_t *counter);

static struct smfiDesc milter_desc = {
	.xxfi_name = MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	/* The most this door may ask for; xxfi_negotiate picks per connection. */
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT,
	.xxfi_connect = milter_connect,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_negotiate = milter_negotiate,
};

static const struct {
	unsigned long flag;
	const char *name;
} action_names[] = {
	{ SMFIF_ADDHDRS, "SMFIF_ADDHDRS" },
	{ SMFIF_ADDRCPT, "SMFIF_ADDRCPT" },
	{ SMFIF_ADDRCPT_PAR, "SMFIF_ADDRCPT_PAR" },
	{ SMFIF_DELRCPT, "SMFIF_DELRCPT" },
};

/* Set once by milter_setup() before any session thread exists. */
static struct router *milter_router;

static struct {
	atomic_uint_fast64_t sessions;
	atomic_uint_fast64_t recipients[4];
	atomic_uint_fast64_t skipped;
	atomic_uint_fast64_t rewritten;
	atomic_uint_fast64_t errors;
} stats;

static atomic_uint_fast64_t next_session_id;
static atomic_ulong missing_logged;	/* SMFIF_* already reported as missing */
static atomic_bool stopping;		/* smfi_main() returned: leave the router alone */
static atomic_uint active_callbacks;	/* callbacks that may touch the router */

int milter_setup(struct router *router, const struct door_socket *socket, unsigned timeout,
		 char *err, size_t errlen)
{
	char conn[SOCKSPEC_PATH_MAX + MX_NAME_BUF + 16], why[256];
	struct sockspec spec;
	const char *bad;

	if (socket == NULL || socket->spec == NULL) {
		snprintf(err, errlen, "milter.socket: not set");
		return -1;
	}
	milter_router = router;
	if (sockspec_parse(socket->spec, &spec, &bad) < 0 ||
	    sockspec_libmilter(&spec, conn, sizeof(conn)) < 0) {
		snprintf(err, errlen, "milter.socket: %s: not a valid socket", socket->spec);
		return -1;
	}
	if (smfi_setconn(conn) == MI_FAILURE) {
		snprintf(err, errlen, "milter.socket: %s: not a valid milter socket",
			 socket->spec);
		return -1;
	}
	if (smfi_settimeout(timeout > INT_MAX ? INT_MAX : (int)timeout) == MI_FAILURE ||
	    smfi_register(milter_desc) == MI_FAILURE) {
		snprintf(err, errlen, "milter.socket: %s: libmilter refused the filter",
			 socket->spec);
		return -1;
	}
	if (smfi_opensocket(true) == MI_FAILURE) {
		snprintf(err, errlen, "milter.socket: %s: cannot listen", socket->spec);
		return -1;
	}
	if (spec.kind != SOCKSPEC_UNIX ||
	    sockspec_set_access(spec.path, socket->owner, socket->group, socket->mode, why,
				sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "milter.socket: %s", why);
	return -1;
}

int milter_run(void)
{
	unsigned waited = 0;
	int rc;

	rc = smfi_main() == MI_SUCCESS ? 0 : -1;
	/*
	 * libmilter leaves session threads running. Once this returns the
	 * daemon stops the router, so stop them from reaching it and wait for
	 * those already inside (the daemon has answered every DNS wait with
	 * router_stop_waiting() by now).
	 */
	atomic_store(&stopping, true);
	while (atomic_load(&active_callbacks) > 0 && waited < MILTER_DRAIN_MS) {
		nanosleep(&(struct timespec){ .tv_nsec = 10L * 1000 * 1000 }, NULL);
		waited += 10;
	}
	if (atomic_load(&active_callbacks) > 0)
		log_warnx("milter: %u sessions still waiting for a route at shutdown",
			  atomic_load(&active_callbacks));
	return rc;
}

void milter_stop(void)
{
	smfi_stop();
}

void milter_get_stats(struct milter_stats *out)
{
	size_t i;

	out->sessions = atomic_load(&stats.sessions);
	for (i = 0; i < MX_ARRAY_LEN(out->recipients); i++)
		out->recipients[i] = atomic_load(&stats.recipients[i]);
	out->skipped = atomic_load(&stats.skipped);
	out->rewritten = atomic_load(&stats.rewritten);
	out->errors = atomic_load(&stats.errors);
}

/*
 * The first callback of every connection: asks only for the actions the
 * current policy needs and drops the protocol steps this door ignores.
 * The session state is created here, so it can remember what was granted.
 */
static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long offered_actions,
				 unsigned long offered_steps, unsigned long f2, unsigned long f3,
				 unsigned long *actions, unsigned long *steps, unsigned long *p2,
				 unsigned long *p3)
{
	struct session *s;
	unsigned long wanted = 0, missing;

	(void)f2;
	(void)f3;
	if (callback_enter()) {
		struct policy *policy = router_policy(milter_router);

		wanted = actions_wanted(policy);
		policy_unref(&policy);
	}
	callback_leave();

	missing = wanted & ~offered_actions;
	if ((offered_actions & SMFIF_ADDRCPT_PAR) != 0)
		missing &= ~SMFIF_ADDRCPT;	/* ADDRCPT_PAR does its job */
	actions_log_missing(missing);

	*actions = wanted & offered_actions;
	/* Rewriting needs a way to add and one to delete, or nothing at all. */
	if ((*actions & SMFIF_DELRCPT) == 0 || (*actions & (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR)) == 0)
		*actions &= ~ACTIONS_REWRITE;
	*steps = STEPS_UNUSED & offered_steps;
	*p2 = 0;
	*p3 = 0;

	s = session_get(ctx);
	if (s == NULL) {
		s = session_new();
		smfi_setpriv(ctx, s);
	}
	s->actions = *actions;
	return SMFIS_CONTINUE;
}

static sfsistat milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s = session_get(ctx);
	const char *j;

	if (s == NULL) {
		/* A connection reused after QUIT_NC: negotiated before, not here. */
		s = session_new();
		smfi_setpriv(ctx, s);
	}
	stat_add(&stats.sessions);
	s->is_local_submission = is_local_submission(hostname, hostaddr);
	if (s->is_local_submission) {
		log_debug("milter: local submission, no verdicts conn=%llu",
			  (unsigned long long)s->id);
		return SMFIS_CONTINUE;
	}
	j = smfi_getsymval(ctx, "j");
	free(s->self_extra);
	s->self_extra = j != NULL && *j != '\0' ? xstrdup(j) : NULL;
	return SMFIS_CONTINUE;
}

static sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	sfsistat rc = SMFIS_CONTINUE;

	(void)argv;
	if (s == NULL || s->is_local_submission)
		return SMFIS_CONTINUE;
	session_end_transaction(s);
	if (callback_enter())
		s->policy = router_policy(milter_router);
	else
		rc = SMFIS_TEMPFAIL;
	callback_leave();
	return rc;
}

static sfsistat milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = session_get(ctx);
	const char *rcpt;
	sfsistat rc;

	if (s == NULL || argv[0] == NULL)
		return SMFIS_CONTINUE;
	if (s->is_local_submission) {
		stat_add(&stats.skipped);
		return SMFIS_CONTINUE;
	}
	rcpt = rcpt_strip(argv[0], s->rcpt_buf, sizeof(s->rcpt_buf));
	/* "<postmaster>" and other unqualified names are the MTA's to judge. */
	if (strchr(rcpt, '@') == NULL && rcpt[0] != '[') {
		s->n_accepted++;
		return SMFIS_CONTINUE;
	}
	if (!callback_enter()) {
		struct smtp_reply reply;

		callback_leave();
		smtp_reply_set(&reply, REPLY_STOPPING, "Service shutting down");
		reply_set(ctx, reply.code, reply.status, reply.text);
		return SMFIS_TEMPFAIL;
	}
	if (s->policy == NULL)
		s->policy = router_policy(milter_router);
	router_decide_wait(milter_router, rcpt, s->self_extra, MILTER_DECIDE_MS, &s->route);
	callback_leave();

	if ((size_t)s->route.action < MX_ARRAY_LEN(stats.recipients))
		stat_add(&stats.recipients[s->route.action]);
	rc = verdict_apply(ctx, &s->route, s->policy->milter.reject_unroutable);
	decision_log(ctx, s, argv[0], &s->route, rc != SMFIS_CONTINUE);
	if (rc == SMFIS_CONTINUE) {
		s->n_accepted++;
		rcpt_record(s, ctx, argv, &s->route);
	}
	return rc;
}

static sfsistat milter_eom(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);

	if (s == NULL || s->policy == NULL)
		return SMFIS_CONTINUE;
	session_log_held(s, session_queue_id(ctx));
	eom_rewrite(ctx, s);
	eom_add_trace(ctx, s);
	session_end_transaction(s);
	return SMFIS_CONTINUE;
}

static sfsistat milter_abort(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);

	if (s != NULL)
		session_end_transaction(s);
	return SMFIS_CONTINUE;
}

/* May run twice for one connection (after QUIT_NC, then at EOF). */
static sfsistat milter_close(SMFICTX *ctx)
{
	struct session *s = session_get(ctx);

	smfi_setpriv(ctx, NULL);
	session_free(&s);
	return SMFIS_CONTINUE;
}

static struct session *session_new(void)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->id = atomic_fetch_add(&next_session_id, 1) + 1;
	/* Created by connect only on a connection reused after QUIT_NC: what
	 * was negotiated then is unknown here, so try plain additions and let
	 * libmilter refuse what was not granted. */
	s->actions = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT;
	return s;
}

static void session_free(struct session **s)
{
	if (*s == NULL)
		return;
	session_end_transaction(*s);
	free((*s)->held_logs);
	free((*s)->rcpts);
	free((*s)->self_extra);
	free(*s);
	*s = NULL;
}

/* Forgets the recipients and the policy of the message; keeps the buffers.
 * Lines still held never got a queue id. */
static void session_end_transaction(struct session *s)
{
	size_t i;

	session_log_held(s, "NOQUEUE");
	for (i = 0; i < s->n_rcpts; i++)
		rcpt_entry_clear(&s->rcpts[i]);
	s->n_rcpts = 0;
	s->n_dropped = 0;
	s->n_accepted = 0;
	if (s->policy != NULL)
		policy_unref(&s->policy);
}

static struct session *session_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The MTA's queue id, or NOQUEUE. Postfix defines {i} once the queue file
 * exists (from DATA on at the latest), sendmail from MAIL on. */
static const char *session_queue_id(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, "i");

	return id != NULL && *id != '\0' ? id : "NOQUEUE";
}

/* Writes the held lines with the queue id, in the order of the RCPTs. */
static void session_log_held(struct session *s, const char *queue_id)
{
	for (size_t i = 0; i < s->n_held; i++) {
		log_info("%s: %s", queue_id, s->held_logs[i]);
		free(s->held_logs[i]);
	}
	s->n_held = 0;
}

/* True if the router may be used; callback_leave() must follow either way. */
static bool callback_enter(void)
{
	atomic_fetch_add(&active_callbacks, 1);
	return !atomic_load(&stopping);
}

static void callback_leave(void)
{
	atomic_fetch_sub(&active_callbacks, 1);
}

static unsigned long actions_wanted(const struct policy *policy)
{
	unsigned long wanted = 0;

	if (policy->milter.trace_header)
		wanted |= SMFIF_ADDHDRS;
	if (policy->milter.rewrite_clusters || policy->milter.rewrite_local != NULL)
		wanted |= ACTIONS_REWRITE;
	return wanted;
}

/* Names each missing action once per process, and what it costs. */
static void actions_log_missing(unsigned long missing)
{
	unsigned long fresh = missing & ~atomic_fetch_or(&missing_logged, missing);
	char names[128] = "";
	size_t i, len = 0;
	bool no_rewrite;

	if (fresh == 0)
		return;
	no_rewrite = (fresh & (SMFIF_ADDRCPT | SMFIF_DELRCPT)) != 0;
	for (i = 0; i < MX_ARRAY_LEN(action_names); i++)
		if ((fresh & action_names[i].flag) != 0 && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len > 0 ? ", " : "", action_names[i].name);
	log_warnx("milter: the MTA does not offer %s: %s%s%s", names,
		  no_rewrite ? "recipients are not rewritten" :
		  (fresh & SMFIF_ADDRCPT_PAR) != 0 ?
		  "rewritten recipients lose their ESMTP parameters" : "",
		  (fresh & SMFIF_ADDHDRS) != 0 && (fresh & ~SMFIF_ADDHDRS) != 0 ? ", " : "",
		  (fresh & SMFIF_ADDHDRS) != 0 ? "no trace header" : "");
}

static bool is_local_submission(const char *hostname, const _SOCK_ADDR *hostaddr)
{
	const struct sockaddr_in *sin;

	if (hostname == NULL || strcmp(hostname, "localhost") != 0 || hostaddr == NULL ||
	    hostaddr->sa_family != AF_INET)
		return false;
	sin = (const struct sockaddr_in *)(const void *)hostaddr;
	return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && sin->sin_port == 0;
}

/* "<user@domain>" -> "user@domain" in buf; text itself if it does not fit. */
static const char *rcpt_strip(const char *text, char *buf, size_t len)
{
	size_t n = strlen(text);

	if (n < 2 || text[0] != '<' || text[n - 1] != '>' || n - 2 >= len)
		return text;
	memcpy(buf, text + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}

/*
 * The recipient to put in place of original, or NULL to keep it:
 * user@CLUSTER -> user@first-hop when the cluster relays, and
 * user@local-host -> user@rewrite_local.
 */
static char *rcpt_rewrite_target(const struct policy *policy, const char *original,
				 const struct route *route)
{
	if (policy->milter.rewrite_clusters && route->rule == RULE_CLUSTER &&
	    route->action == ROUTE_RELAY && route->n_hops > 0)
		return rcpt_with_domain(original, route->hops[0].host);
	if (policy->milter.rewrite_local != NULL && route->rule == RULE_LOCAL_HOSTS)
		return rcpt_with_domain(original, policy->milter.rewrite_local);
	return NULL;
}

/*
 * original with its domain replaced: the local part stays byte for byte
 * (quotes and case included), a source route "@a,@b:" is dropped, angle
 * brackets stay if they were there. NULL if the domain would not change.
 */
static char *rcpt_with_domain(const char *original, const char *domain)
{
	size_t n = strlen(original);
	bool bracketed = n >= 2 && original[0] == '<' && original[n - 1] == '>';
	const char *start = original + bracketed, *end = original + n - bracketed;
	const char *at, *colon;
	char *out;
	size_t local_len;

	at = memrchr(start, '@', (size_t)(end - start));
	if (at == NULL || at == start)
		return NULL;
	if (start[0] == '@' && (colon = memchr(start, ':', (size_t)(at - start))) != NULL)
		start = colon + 1;
	if ((size_t)(end - at - 1) == strlen(domain) &&
	    strncasecmp(at + 1, domain, (size_t)(end - at - 1)) == 0)
		return NULL;
	local_len = (size_t)(at - start);
	out = xmalloc(local_len + strlen(domain) + 4);
	snprintf(out, local_len + strlen(domain) + 4, "%s%.*s@%s%s", bracketed ? "<" : "",
		 (int)local_len, start, domain, bracketed ? ">" : "");
	return out;
}

static bool args_too_long(char **argv)
{
	size_t i, len = 0;

	for (i = 1; argv[i] != NULL; i++)
		len += strlen(argv[i]) + 1;
	return len > MILTER_ESMTP_MAX;
}

/* argv[1..] (ESMTP parameters) joined by spaces; NULL if there are none. */
static char *args_join(char **argv)
{
	size_t i, len = 0;
	char *out, *p;

	for (i = 1; argv[i] != NULL; i++)
		len += strlen(argv[i]) + 1;
	if (len == 0)
		return NULL;
	out = p = xmalloc(len);
	for (i = 1; argv[i] != NULL; i++) {
		size_t n = strlen(argv[i]);

		if (p != out)
			*p++ = ' ';
		memcpy(p, argv[i], n);
		p += n;
	}
	*p = '\0';
	return out;
}

/* Keeps what end of message will need, if it needs anything. */
static void rcpt_record(struct session *s, SMFICTX *ctx, char **argv,
			const struct route *route)
{
	const struct policy *policy = s->policy;
	struct rcpt_entry *e;
	char *rewrite_to;

	if (!policy->milter.trace_header && !policy->milter.rewrite_clusters &&
	    policy->milter.rewrite_local == NULL)
		return;
	rewrite_to = rcpt_rewrite_target(policy, argv[0], route);
	if (!policy->milter.trace_header && rewrite_to == NULL)
		return;
	if (s->n_rcpts == MILTER_RCPTS_MAX || args_too_long(argv)) {
		if (s->n_dropped++ == 0)
			log_warnx("%s: milter: more than %d recipients (or %d octets of RCPT "
				  "parameters): the rest are not rewritten or traced conn=%llu",
				  session_queue_id(ctx), MILTER_RCPTS_MAX, MILTER_ESMTP_MAX,
				  (unsigned long long)s->id);
		free(rewrite_to);
		return;
	}
	if (s->n_rcpts == s->cap_rcpts) {
		s->cap_rcpts = s->cap_rcpts == 0 ? 8 : s->cap_rcpts * 2;
		s->rcpts = xreallocarray(s->rcpts, s->cap_rcpts, sizeof(*s->rcpts));
	}
	e = &s->rcpts[s->n_rcpts++];
	memset(e, 0, sizeof(*e));
	e->original = xstrdup(argv[0]);
	e->esmtp_args = args_join(argv);
	e->rewrite_to = rewrite_to;
	e->action = route->action;
	e->rule = route->rule;
	e->mta_keeps = route->mta_keeps;
	if (policy->milter.trace_header && route->n_hops > 0) {
		char hops[MILTER_TRACE_MAX];

		present_hops(route, hops, sizeof(hops));
		e->hops = xstrdup(hops);
	}
}

static void rcpt_entry_clear(struct rcpt_entry *e)
{
	free(e->original);
	free(e->esmtp_args);
	free(e->rewrite_to);
	free(e->hops);
	memset(e, 0, sizeof(*e));
}

/*
 * SMFIS_CONTINUE, or a reject / tempfail with the engine's reply. A DNS
 * failure is never an accept; rejects only with milter.reject_unroutable.
 */
static sfsistat verdict_apply(SMFICTX *ctx, const struct route *route, bool enforce)
{
	const struct smtp_reply *r = &route->reply;
	struct smtp_reply fallback;

	switch (route->action) {
	case ROUTE_RELAY:
	case ROUTE_LOCAL:
		return SMFIS_CONTINUE;
	case ROUTE_REJECT:
		if (!enforce)
			return SMFIS_CONTINUE;
		if (r->code >= 500 && r->code <= 599) {
			reply_set(ctx, r->code, r->status, r->text);
			return SMFIS_REJECT;
		}
		break;	/* a reject without a 5xx reply: tempfail, never accept */
	case ROUTE_TEMPFAIL:
		break;
	}
	if (r->code < 400 || r->code > 499) {
		smtp_reply_set(&fallback, REPLY_TEMPFAIL, "%s", MILTER_DEFAULT_TEMP_TEXT);
		r = &fallback;
	}
	reply_set(ctx, r->code, r->status, r->text);
	return SMFIS_TEMPFAIL;
}

/* The reply for this recipient; libmilter refuses CR/LF in it. */
static void reply_set(SMFICTX *ctx, int code, const char *status, const char *text)
{
	char code_text[8], clean[ROUTE_TEXT_MAX];

	snprintf(code_text, sizeof(code_text), "%d", code);
	/* '%' too: sendmail reads it as a format escape in a milter reply. */
	present_sanitize(clean, sizeof(clean), text, strlen(text),
			 MILTER_PRINTABLE | PRESENT_NO_PERCENT);
	if (smfi_setreply(ctx, code_text, *status != '\0' ? (char *)status : NULL,
			  clean[0] != '\0' ? clean : NULL) == MI_FAILURE) {
		stat_add(&stats.errors);
		log_errx("milter: cannot set the reply \"%s %s %s\"", code_text, status, clean);
	}
}

/*
 * One line per recipient decision, the queue id first. Without one yet, a
 * refused recipient is logged now as NOQUEUE, an accepted one is held for
 * end of message (at most MILTER_RCPTS_MAX; the rest go out as NOQUEUE).
 */
static void decision_log(SMFICTX *ctx, struct session *s, const char *rcpt,
			 const struct route *route, bool replied)
{
	char hops[MILTER_LOG_HOPS_MAX], reply[ROUTE_TEXT_MAX + 64];
	char printable[MX_ADDRESS_MAX + 3], line[MX_ADDRESS_MAX + MILTER_LOG_HOPS_MAX +
						 ROUTE_TEXT_MAX + 192];
	const struct smtp_reply *r = &route->reply;
	const char *queue_id = session_queue_id(ctx);

	/* From the network: no line breaks into the log. */
	present_sanitize(printable, sizeof(printable), rcpt, strlen(rcpt), MILTER_PRINTABLE);
	present_hops(route, hops, sizeof(hops));
	if (r->code != 0)
		snprintf(reply, sizeof(reply), "\"%d %s %s\"%s", r->code, r->status, r->text,
			 replied ? "" : " (not enforced)");
	else
		snprintf(reply, sizeof(reply), "-");
	snprintf(line, sizeof(line), "rcpt=%s action=%s rule=%s hops=%s reply=%s conn=%llu",
		 printable, route_action_name(route->action), route_rule_name(route->rule), hops,
		 reply, (unsigned long long)s->id);
	if (strcmp(queue_id, "NOQUEUE") != 0 || replied || s->n_held == MILTER_RCPTS_MAX) {
		log_info("%s: %s", queue_id, line);
		return;
	}
	if (s->n_held == s->cap_held) {
		s->cap_held = s->cap_held == 0 ? 8 : s->cap_held * 2;
		s->held_logs = xreallocarray(s->held_logs, s->cap_held, sizeof(*s->held_logs));
	}
	s->held_logs[s->n_held++] = xstrdup(line);
}

static void eom_rewrite(SMFICTX *ctx, struct session *s)
{
	bool with_args = (s->actions & SMFIF_ADDRCPT_PAR) != 0;
	size_t i;
	int rc;

	if ((s->actions & SMFIF_DELRCPT) == 0 ||
	    (s->actions & (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR)) == 0)
		return;
	for (i = 0; i < s->n_rcpts; i++) {
		struct rcpt_entry *e = &s->rcpts[i];

		if (e->rewrite_to == NULL)
			continue;
		/* Add first: a failure then leaves the original, never no recipient. */
		if (with_args)
			rc = smfi_addrcpt_par(ctx, e->rewrite_to, e->esmtp_args);
		else
			rc = smfi_addrcpt(ctx, e->rewrite_to);
		if (rc == MI_FAILURE) {
			stat_add(&stats.errors);
			log_errx("milter: cannot add recipient %s: %s stays", e->rewrite_to,
				 e->original);
			continue;
		}
		if (smfi_delrcpt(ctx, e->original) == MI_FAILURE) {
			stat_add(&stats.errors);
			log_errx("milter: cannot delete recipient %s: %s was added too",
				 e->original, e->rewrite_to);
			continue;
		}
		stat_add(&stats.rewritten);
		log_info("%s: rcpt=%s rewritten to %s conn=%llu", session_queue_id(ctx),
			 e->original, e->rewrite_to, (unsigned long long)s->id);
	}
}

/*
 * X-MXPath: <a@x> relay rule=mx hops=mx1.x,mx2.x
 * (or "... rule=mx mta=mta_sts" for a domain the MTA routes itself)
 * for a message with exactly one recipient (see Privacy above), folded
 * between words and between hops, at most MILTER_TRACE_MAX bytes.
 */
static void eom_add_trace(SMFICTX *ctx, struct session *s)
{
	struct trace t = { .line = sizeof("X-MXPath: ") - 1 };

	if (!s->policy->milter.trace_header || (s->actions & SMFIF_ADDHDRS) == 0)
		return;
	if (s->n_accepted != 1 || s->n_rcpts != 1) {
		if (s->n_accepted > 1)
			log_debug("%s: milter: %zu recipients: no trace header conn=%llu",
				  session_queue_id(ctx), s->n_accepted, (unsigned long long)s->id);
		return;
	}
	trace_add_entry(&t, &s->rcpts[0]);
	if (smfi_addheader(ctx, "X-MXPath", t.buf) == MI_FAILURE) {
		stat_add(&stats.errors);
		log_errx("milter: cannot add the X-MXPath header");
	}
}

/* "<a@x> relay rule=mx hops=h1,h2" */
static void trace_add_entry(struct trace *t, const struct rcpt_entry *e)
{
	char word[MX_NAME_BUF + 16], rcpt[MX_ADDRESS_MAX + 3];
	const char *hop, *next;
	size_t n;

	/* From the network, and an unroutable one may be here (reject_unroutable
	 * off): no line breaks into the header. */
	present_sanitize(rcpt, sizeof(rcpt), e->original, strlen(e->original), MILTER_PRINTABLE);
	trace_add(t, rcpt, true);
	trace_add(t, route_action_name(e->action), true);
	snprintf(word, sizeof(word), "rule=%s", route_rule_name(e->rule));
	trace_add(t, word, true);
	if (e->mta_keeps != TLS_KEEP_NONE) {
		/* The MTA routes it itself: mxpath's hops are not the ones taken. */
		snprintf(word, sizeof(word), "mta=%s", tls_keep_name(e->mta_keeps));
		trace_add(t, word, true);
		return;
	}
	for (hop = e->hops; hop != NULL; hop = next) {
		next = strchr(hop, ',');
		n = next != NULL ? (size_t)(++next - hop) : strlen(hop);
		snprintf(word, sizeof(word), "%s%.*s", hop == e->hops ? "hops=" : "", (int)n, hop);
		trace_add(t, word, hop == e->hops);
	}
}

/*
 * Appends token, after a space if space is set; folds ("\n\t") instead
 * when the line would grow past MILTER_TRACE_LINE. Once the value is
 * full, ends it with "..." and ignores the rest.
 */
static void trace_add(struct trace *t, const char *token, bool space)
{
	size_t n = strlen(token);
	bool fold = t->len > 0 && t->line + (space ? 1 : 0) + n > MILTER_TRACE_LINE;
	size_t sep = fold ? 2 : space && t->len > 0 ? 1 : 0;

	if (t->full)
		return;
	if (t->len + sep + n + sizeof(" ...") > sizeof(t->buf)) {
		memcpy(t->buf + t->len, " ...", sizeof(" ..."));
		t->len += sizeof(" ...") - 1;
		t->full = true;
		return;
	}
	if (fold) {
		memcpy(t->buf + t->len, "\n\t", 2);
		t->line = 1;
	} else if (sep == 1) {
		t->buf[t->len] = ' ';
		t->line++;
	}
	t->len += sep;
	memcpy(t->buf + t->len, token, n + 1);
	t->len += n;
	t->line += n;
}

static void stat_add(atomic_uint_fast64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}
