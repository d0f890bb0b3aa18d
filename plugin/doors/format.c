/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * format.c - socketmap answers: what a key means per map, and the reply text
 *
 * Postfix transport(5) (>= 3.5) takes a nexthop list tried in the order
 * given: "OK smtp:[h1]:2526, [h2]:2526". sendmail's mailertable takes
 * hosts tried in turn, separated by ':': "OK esmtp:[h1]:[h2]". Hosts are
 * always bracketed so neither MTA looks up MX records again; a reject is
 * the error transport or mailer, a temporary failure TEMP.
 *
 * A relay the MTA must keep for TLS (route->mta_keeps: DNSSEC, MTA-STS,
 * listed) is NOTFOUND, so the MTA routes it with its own DANE, MTA-STS and
 * policy table. The "tls" map answers Postfix's smtp_tls_policy_maps for
 * the "[host]" keys handed out here with the level the policy gives the
 * host; any other key is NOTFOUND (Postfix's own default applies).
 *
 * Pure: the reply goes into the caller's buffer, and a list that would
 * not fit is cut between hosts, never inside one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/idna.h"
#include "mxpath/doors/format.h"
#include "mxpath/doors/present.h"

/* "[" + "ipv6:" + address or name + "]" + ":65535" */
#define ITEM_MAX (MX_NAME_BUF + 16)

struct map_syntax {
	const char *name;
	const char *separator;		/* between next hops */
	const char *ipv6_tag;		/* inside an IPv6 literal */
	bool has_port;			/* host:port is understood */
};

static const struct map_syntax map_syntax[FORMAT_MAPS] = {
	[FORMAT_MAP_TRANSPORT] = { "transport", ", ", "ipv6:", true },
	[FORMAT_MAP_MAILERTABLE] = { "mailertable", ":", "IPv6:", false },
	[FORMAT_MAP_TLS] = { "tls", "", "", false },
};

static const char *const outcome_names[] = {
	[FORMAT_RELAY] = "relay",
	[FORMAT_LOCAL] = "local",
	[FORMAT_REJECT] = "reject",
	[FORMAT_TEMPFAIL] = "tempfail",
	[FORMAT_NOTFOUND] = "notfound",
	[FORMAT_PERM] = "perm",
};

static void reply_reset(struct format_reply *reply, enum format_outcome outcome);
static void reply_puts(struct format_reply *reply, const char *text);
static size_t reply_room(const struct format_reply *reply);
static bool reply_has_room(const struct format_reply *reply, size_t len);
static enum format_step answer(struct format_reply *reply, enum format_outcome outcome,
			       const char *text, const char *reason);
static void answer3(struct format_reply *reply, enum format_outcome outcome, const char *a,
		    const char *b, const char *c);
static bool map_lookup(const char *name, size_t len, enum format_map *map);
static enum format_step request_unknown_map(const char *name, size_t len,
					    struct format_reply *reply);
static enum format_step request_dot_key(const struct policy *policy, struct format_query *q,
					struct format_reply *reply);
static enum format_step request_key(const struct policy *policy, struct format_query *q,
				    struct format_reply *reply);
static bool key_is_bare_name(const struct recipient *rcpt);
static enum format_step request_tls(const struct policy *policy, struct format_query *q,
				    struct format_reply *reply);
static const char *keep_reason(enum tls_keep keep);
static enum format_step request_route(struct format_query *q, struct format_reply *reply);
static void route_relay(const struct policy *policy, const struct map_syntax *syntax,
			const struct route *route, struct format_reply *reply);
static void route_reject(const struct map_syntax *syntax, const struct route *route,
			 struct format_reply *reply);
static void route_tempfail(const struct route *route, struct format_reply *reply);
static void relay_hop(const struct map_syntax *syntax, unsigned port, bool by_address,
		      const struct route *route, const struct hop *hop,
		      const struct mx_addr **seen, unsigned *n_seen, struct format_reply *reply);
static void relay_item(const struct map_syntax *syntax, const char *item,
		       struct format_reply *reply);
static bool item_name(const char *host, unsigned port, char *buf, size_t len);
static bool item_address(const struct map_syntax *syntax, const struct mx_addr *addr,
			 unsigned port, char *buf, size_t len);
static bool is_host_text(const char *host);
static bool is_seen(const struct mx_addr *addr, const struct mx_addr **seen, unsigned n_seen);
static const char *status_or(const char *status, const char *fallback);
static int code_or(int code, int low, int fallback);
static const char *text_or(const char *text, const char *fallback);

enum format_step format_request(const struct policy *policy, const char *request, size_t len,
				struct format_query *q, struct format_reply *reply)
{
	const char *space = memchr(request, ' ', len);
	const char *key;
	size_t key_len;

	memset(q, 0, sizeof(*q));
	if (space == NULL)
		return answer(reply, FORMAT_PERM, "PERM malformed request", "no space in request");
	key = space + 1;
	key_len = len - (size_t)(key - request);
	memcpy(q->key, key, key_len < FORMAT_KEY_MAX ? key_len : FORMAT_KEY_MAX);
	if (!map_lookup(request, (size_t)(space - request), &q->map))
		return request_unknown_map(request, (size_t)(space - request), reply);
	if (key_len > FORMAT_KEY_MAX)
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "key too long");
	if (q->map == FORMAT_MAP_TLS)
		return request_tls(policy, q, reply);
	if (q->map == FORMAT_MAP_TRANSPORT && strcmp(q->key, "*") == 0)
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "wildcard key");
	if (q->map == FORMAT_MAP_MAILERTABLE && q->key[0] == '.')
		return request_dot_key(policy, q, reply);
	return request_key(policy, q, reply);
}

static bool map_lookup(const char *name, size_t len, enum format_map *map)
{
	unsigned i;

	for (i = 0; i < FORMAT_MAPS; i++) {
		if (strlen(map_syntax[i].name) == len &&
		    strncasecmp(map_syntax[i].name, name, len) == 0) {
			*map = (enum format_map)i;
			return true;
		}
	}
	return false;
}

static enum format_step request_unknown_map(const char *name, size_t len,
					    struct format_reply *reply)
{
	char clean[64];

	present_sanitize(clean, sizeof(clean), name, len, 0);
	answer3(reply, FORMAT_PERM, "PERM unknown map ", clean, "");
	reply->reason = "unknown map";
	return FORMAT_ANSWERED;
}

/*
 * sendmail asks ".parent" keys after the domain itself, and "." last.
 * Only a static ".suffix" (or ".") route answers them: it stands for any
 * name below the suffix, so the route decided for the stand-in
 * "_.suffix" (or "_") is the answer.
 */
static enum format_step request_dot_key(const struct policy *policy, struct format_query *q,
					struct format_reply *reply)
{
	const struct policy_route *route;
	char domain[MX_NAME_BUF];
	const char *why = NULL;

	if (q->key[1] == '\0') {
		snprintf(q->recipient, sizeof(q->recipient), "_");
	} else {
		if (domain_normalize(q->key + 1, strlen(q->key + 1), domain, &why) < 0)
			return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", why ? why : "bad domain");
		if (strlen(domain) + 2 > MX_NAME_MAX)
			return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "domain too long");
		snprintf(q->recipient, sizeof(q->recipient), "_.%s", domain);
	}
	route = policy_find_route(policy, q->recipient);
	if (route == NULL || !route->is_suffix)
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "no .suffix route");
	reply_reset(reply, FORMAT_RELAY);
	return FORMAT_ROUTE;
}

static enum format_step request_key(const struct policy *policy, struct format_query *q,
				    struct format_reply *reply)
{
	struct recipient rcpt;
	const char *why = NULL;

	if (recipient_parse(q->key, &rcpt, &why) < 0) {
		/* A key with 8-bit bytes that does not parse is a domain that is
		 * not valid UTF-8 or not valid IDNA (a valid one is routed by
		 * its A-label form). NOTFOUND would let the MTA route it around
		 * the policy: the engine rejects it instead (501 5.1.3), as the
		 * milter door and `mxpath route` do. */
		if (policy->socketmap.default_action == DEFAULT_ROUTE &&
		    idna_has_8bit(q->key, strlen(q->key)))
			return request_route(q, reply);
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", why ? why : "bad key");
	}
	if (key_is_bare_name(&rcpt))
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "unqualified name");
	if (policy->socketmap.default_action == DEFAULT_NOTFOUND &&
	    (rcpt.kind != RECIPIENT_DOMAIN || !policy_names_domain(policy, rcpt.domain)))
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "not named by the policy");
	return request_route(q, reply);
}

/*
 * "[host]" or "[host]:port" (what route_relay() hands out): the level the
 * policy gives host. A bare domain is the MTA's own business.
 */
static enum format_step request_tls(const struct policy *policy, struct format_query *q,
				    struct format_reply *reply)
{
	const char *close = strchr(q->key, ']');
	enum tls_level named, literal;
	const char *level;
	size_t len;

	if (q->key[0] != '[' || close == NULL || (close[1] != '\0' && close[1] != ':'))
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "not a [host] key");
	len = (size_t)(close - q->key);
	/* A literal is stored with its brackets, a name without them. */
	named = tls_host_level(policy, q->key + 1, len - 1);
	literal = tls_host_level(policy, q->key, len + 1);
	level = tls_level_policy(named > literal ? named : literal);
	if (level == NULL)
		return answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", "no TLS level for this host");
	answer3(reply, FORMAT_RELAY, "OK ", level, "");
	return FORMAT_ANSWERED;
}

/* Static, for the log line: why the MTA keeps a relay. */
static const char *keep_reason(enum tls_keep keep)
{
	switch (keep) {
	case TLS_KEEP_LISTED: return "the MTA keeps it for TLS: listed";
	case TLS_KEEP_DNSSEC: return "the MTA keeps it for TLS: dnssec";
	case TLS_KEEP_MTA_STS: return "the MTA keeps it for TLS: mta_sts";
	case TLS_KEEP_MTA_STS_UNKNOWN: return "the MTA keeps it for TLS: mta_sts_unknown";
	case TLS_KEEP_NONE: break;
	}
	return "the MTA keeps it for TLS";
}

/*
 * "postmaster", "user": one label and no '@' is a local name the MTA
 * qualifies or delivers itself (postmap -q postmaster, sendmail's
 * unqualified hosts), never a domain to ask the DNS about.
 */
static bool key_is_bare_name(const struct recipient *rcpt)
{
	return rcpt->kind == RECIPIENT_DOMAIN && !rcpt->has_local &&
	       strchr(rcpt->domain, '.') == NULL;
}

static enum format_step request_route(struct format_query *q, struct format_reply *reply)
{
	memcpy(q->recipient, q->key, sizeof(q->recipient));
	reply_reset(reply, FORMAT_RELAY);
	return FORMAT_ROUTE;
}

void format_route(const struct policy *policy, const struct format_query *q,
		  const struct route *route, struct format_reply *reply)
{
	const struct map_syntax *syntax = &map_syntax[q->map];

	switch (route->action) {
	case ROUTE_RELAY:
		if (route->mta_keeps != TLS_KEEP_NONE) {
			answer(reply, FORMAT_NOTFOUND, "NOTFOUND ", keep_reason(route->mta_keeps));
			return;
		}
		route_relay(policy, syntax, route, reply);
		return;
	case ROUTE_LOCAL:
		answer3(reply, FORMAT_LOCAL, "OK ", text_or(policy->socketmap.local, "local:"), "");
		return;
	case ROUTE_REJECT:
		route_reject(syntax, route, reply);
		return;
	case ROUTE_TEMPFAIL:
		route_tempfail(route, reply);
		return;
	}
	answer(reply, FORMAT_TEMPFAIL, "TEMP unknown route action", "unknown route action");
}

static void route_relay(const struct policy *policy, const struct map_syntax *syntax,
			const struct route *route, struct format_reply *reply)
{
	const struct mx_addr *seen[ROUTE_ADDRS_MAX];
	unsigned n_seen = 0, i, n_hops, port;
	bool by_address = policy->socketmap.nexthop == NEXTHOP_ADDRESS;
	const char *method = syntax == &map_syntax[FORMAT_MAP_TRANSPORT]
				     ? text_or(policy->socketmap.transport, "smtp")
				     : text_or(policy->socketmap.mailer, "esmtp");

	port = syntax->has_port ? policy->socketmap.port : 0;
	answer3(reply, FORMAT_RELAY, "OK ", method, ":");
	if (reply->outcome != FORMAT_RELAY)
		return;
	n_hops = route->n_hops < ROUTE_HOPS_MAX ? route->n_hops : ROUTE_HOPS_MAX;
	for (i = 0; i < n_hops && !reply->truncated; i++)
		relay_hop(syntax, port, by_address, route, &route->hops[i], seen, &n_seen, reply);
	if (reply->hosts == 0)
		answer(reply, FORMAT_TEMPFAIL, "TEMP no usable next hop", "no usable next hop");
}

/*
 * One hop as one item ("[name]", or its literal address), or with
 * nexthop = "address" as one item per address not given before.
 */
static void relay_hop(const struct map_syntax *syntax, unsigned port, bool by_address,
		      const struct route *route, const struct hop *hop,
		      const struct mx_addr **seen, unsigned *n_seen, struct format_reply *reply)
{
	char item[ITEM_MAX];
	unsigned first = hop->addr_first, count = hop->addr_count, i;
	unsigned n_addrs = route->n_addrs < ROUTE_ADDRS_MAX ? route->n_addrs : ROUTE_ADDRS_MAX;

	if (first > n_addrs || count > n_addrs - first)
		count = 0;
	if (hop->host[0] == '[' && count > 0)
		count = 1;	/* an address literal is its own address */
	if (!by_address && hop->host[0] != '[')
		count = 0;
	if (count == 0) {
		if (item_name(hop->host, port, item, sizeof(item)))
			relay_item(syntax, item, reply);
		return;
	}
	for (i = 0; i < count && !reply->truncated; i++) {
		const struct mx_addr *addr = &route->addrs[first + i];

		if (is_seen(addr, seen, *n_seen))
			continue;
		if (!item_address(syntax, addr, port, item, sizeof(item)))
			continue;
		if (*n_seen < ROUTE_ADDRS_MAX)
			seen[(*n_seen)++] = addr;
		relay_item(syntax, item, reply);
	}
}

static void relay_item(const struct map_syntax *syntax, const char *item,
		       struct format_reply *reply)
{
	const char *separator = reply->hosts > 0 ? syntax->separator : "";
	size_t len = strlen(separator) + strlen(item);

	if (!reply_has_room(reply, len)) {
		reply->truncated = true;
		return;
	}
	reply_puts(reply, separator);
	reply_puts(reply, item);
	reply->hosts++;
}

/* "[name]" or "[name]:port"; a literal "[...]" is kept as it is. */
static bool item_name(const char *host, unsigned port, char *buf, size_t len)
{
	size_t host_len = strlen(host), n = 0;
	bool bracket = host[0] != '[';	/* literals already carry theirs */
	int tail;

	/* On every relay answer: plain copies, printf only for a port. */
	if (!is_host_text(host) || host_len + 3 > len)
		return false;
	if (bracket)
		buf[n++] = '[';
	memcpy(buf + n, host, host_len);
	n += host_len;
	if (bracket)
		buf[n++] = ']';
	buf[n] = '\0';
	if (port == 0)
		return true;
	tail = snprintf(buf + n, len - n, ":%u", port);
	return tail > 0 && (size_t)tail < len - n;
}

static bool item_address(const struct map_syntax *syntax, const struct mx_addr *addr,
			 unsigned port, char *buf, size_t len)
{
	char text[MX_ADDR_TEXT_MAX];
	int n;

	if (addr_format(addr, text, sizeof(text)) == NULL)
		return false;
	n = snprintf(buf, len, "[%s%s]", addr->family == AF_INET6 ? syntax->ipv6_tag : "",
		     text);
	if (n > 0 && port != 0)
		n += snprintf(buf + n, len - (size_t)n, ":%u", port);
	return n > 0 && (size_t)n < len;
}

/* Names the engine hands over are normalised; anything else would break
 * the list syntax, so it is left out rather than passed on. */
static bool is_host_text(const char *host)
{
	const char *p;

	if (host[0] == '\0')
		return false;
	if (host[0] == '[')
		return strchr(host, ']') != NULL && strchr(host, ',') == NULL &&
		       strchr(host, ' ') == NULL;
	for (p = host; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	}
	return true;
}

static bool is_seen(const struct mx_addr *addr, const struct mx_addr **seen, unsigned n_seen)
{
	unsigned i;

	for (i = 0; i < n_seen; i++) {
		if (addr_equal(addr, seen[i]))
			return true;
	}
	return false;
}

/* Postfix: "error:5.1.10 text"; sendmail: "error:5.1.10:556 text". */
static void route_reject(const struct map_syntax *syntax, const struct route *route,
			 struct format_reply *reply)
{
	char text[ROUTE_TEXT_MAX], status[48];
	const struct smtp_reply *smtp = &route->reply;

	present_sanitize(text, sizeof(text), smtp->text, strnlen(smtp->text, sizeof(smtp->text)),
			 PRESENT_KEEP_SPACE);
	if (syntax == &map_syntax[FORMAT_MAP_MAILERTABLE])
		snprintf(status, sizeof(status), "%s:%d ", status_or(smtp->status, "5.0.0"),
			 code_or(smtp->code, 500, 550));
	else
		snprintf(status, sizeof(status), "%s ", status_or(smtp->status, "5.0.0"));
	answer3(reply, FORMAT_REJECT, "OK error:", status,
		text_or(text, "Recipient address rejected"));
}

static void route_tempfail(const struct route *route, struct format_reply *reply)
{
	char text[ROUTE_TEXT_MAX];
	const struct smtp_reply *smtp = &route->reply;

	present_sanitize(text, sizeof(text), smtp->text, strnlen(smtp->text, sizeof(smtp->text)),
			 PRESENT_KEEP_SPACE);
	answer3(reply, FORMAT_TEMPFAIL, "TEMP ", text_or(text, "temporary failure"), "");
}

/* A DSN status "x.y.z" of digits and dots, else the fallback. */
static const char *status_or(const char *status, const char *fallback)
{
	size_t len = strnlen(status, 16), i;

	if (len < 5 || len > 11 || status[1] != '.' || (status[0] != '4' && status[0] != '5'))
		return fallback;
	for (i = 0; i < len; i++) {
		if (status[i] != '.' && (status[i] < '0' || status[i] > '9'))
			return fallback;
	}
	return status;
}

static int code_or(int code, int low, int fallback)
{
	return code >= low && code <= low + 99 ? code : fallback;
}

static const char *text_or(const char *text, const char *fallback)
{
	return text != NULL && text[0] != '\0' ? text : fallback;
}

const char *format_map_name(enum format_map map)
{
	return (unsigned)map < FORMAT_MAPS ? map_syntax[map].name : "unknown";
}

const char *format_outcome_name(enum format_outcome outcome)
{
	return (unsigned)outcome < MX_ARRAY_LEN(outcome_names) ? outcome_names[outcome]
							      : "unknown";
}

/* Starts the reply over with text; reason is for the log. */
static enum format_step answer(struct format_reply *reply, enum format_outcome outcome,
			       const char *text, const char *reason)
{
	reply_reset(reply, outcome);
	reply->reason = reason;
	reply_puts(reply, text);
	return FORMAT_ANSWERED;
}

/* a, b and c in a row, or "TEMP reply too long" if they do not fit. */
static void answer3(struct format_reply *reply, enum format_outcome outcome, const char *a,
		    const char *b, const char *c)
{
	reply_reset(reply, outcome);
	if (!reply_has_room(reply, strlen(a) + strlen(b) + strlen(c))) {
		answer(reply, FORMAT_TEMPFAIL, "TEMP reply too long", "reply too long");
		return;
	}
	reply_puts(reply, a);
	reply_puts(reply, b);
	reply_puts(reply, c);
}

static void reply_reset(struct format_reply *reply, enum format_outcome outcome)
{
	reply->len = 0;
	reply->buf[0] = '\0';
	reply->outcome = outcome;
	reply->reason = NULL;
	reply->hosts = 0;
	reply->truncated = false;
}

/* Bytes left within both the buffer (and its NUL) and the protocol limit. */
static size_t reply_room(const struct format_reply *reply)
{
	size_t cap = reply->cap > FORMAT_REPLY_MAX + 1 ? FORMAT_REPLY_MAX + 1 : reply->cap;

	/* cap - 1: the NUL after the text is not part of the reply */
	return cap > 0 && reply->len < cap - 1 ? cap - 1 - reply->len : 0;
}

static bool reply_has_room(const struct format_reply *reply, size_t len)
{
	return len <= reply_room(reply);
}

/* Appends text; the callers checked the room (the short fixed texts fit
 * in FORMAT_REPLY_MIN), and anything overlong is cut, never overrun. */
static void reply_puts(struct format_reply *reply, const char *text)
{
	size_t len = strlen(text);

	if (len > reply_room(reply))
		len = reply_room(reply);
	memcpy(reply->buf + reply->len, text, len);
	reply->len += len;
	reply->buf[reply->len] = '\0';
}
