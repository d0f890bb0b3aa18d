/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * format.h - socketmap answers: what a key means per map, and the reply text
 *
 * Three maps: "transport" (Postfix transport_maps: "user@domain", a bare
 * domain, or "*"), "mailertable" (sendmail: a domain, then ".parent"
 * keys, then ".") and "tls" (Postfix smtp_tls_policy_maps: "[host]" or
 * "[host]:port", answered from the policy alone, see tlspolicy.h). format_request() reads one request and either answers
 * it outright (NOTFOUND, PERM) or says which recipient to route;
 * format_route() turns the route into the reply. Pure: no I/O, no
 * allocation; the caller supplies the reply buffer.
 */
#ifndef MXPATH_FORMAT_H
#define MXPATH_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/policy.h"
#include "mxpath/engine/route.h"

enum format_map { FORMAT_MAP_TRANSPORT, FORMAT_MAP_MAILERTABLE, FORMAT_MAP_TLS };
#define FORMAT_MAPS 3

/* The first four are route_action's, in its order (the stats rely on it). */
enum format_outcome {
	FORMAT_RELAY,
	FORMAT_LOCAL,
	FORMAT_REJECT,
	FORMAT_TEMPFAIL,
	FORMAT_NOTFOUND,
	FORMAT_PERM,		/* unknown map, malformed request */
};

/* Socketmap reply limit (Postfix), without the netstring framing. */
#define FORMAT_REPLY_MAX 100000
/* The smallest reply buffer format_*() accept. */
#define FORMAT_REPLY_MIN 1024
/* Longest key routed; longer ones cannot be a valid recipient: NOTFOUND. */
#define FORMAT_KEY_MAX MX_ADDRESS_MAX

/* One request, kept while its route is being decided. */
struct format_query {
	enum format_map map;		/* valid when format_request() said FORMAT_ROUTE */
	char key[FORMAT_KEY_MAX + 1];	/* as sent, cut at FORMAT_KEY_MAX */
	char recipient[FORMAT_KEY_MAX + 1];	/* what to route */
};

struct format_reply {
	char *buf;			/* the caller's, >= FORMAT_REPLY_MIN bytes */
	size_t cap;
	size_t len;			/* reply text in buf, NUL-terminated */
	enum format_outcome outcome;
	const char *reason;		/* static; why NOTFOUND/PERM/TEMP (for the log) */
	unsigned hosts;			/* relay: next hops written */
	bool truncated;			/* relay: the list was cut to fit */
};

enum format_step {
	FORMAT_ANSWERED,		/* the reply is ready */
	FORMAT_ROUTE,			/* route q->recipient, then call format_route() */
};

/*
 * Reads "NAME KEY" (len bytes, no NUL inside) against the policy: an
 * unknown map or a request without a space is PERM; "*" (transport),
 * "." and ".parent" keys without a static ".suffix" route (mailertable),
 * an unparsable key, and with socketmap.default = "notfound" a domain the
 * policy does not name are NOTFOUND. An unparsable key with 8-bit bytes
 * (a UTF-8 domain) is routed, for the engine's 501 5.1.3 reject.
 */
enum format_step format_request(const struct policy *policy, const char *request, size_t len,
				struct format_query *q, struct format_reply *reply);

/* The reply for a decided route, in the query's map syntax. */
void format_route(const struct policy *policy, const struct format_query *q,
		  const struct route *route, struct format_reply *reply);

const char *format_map_name(enum format_map map);		/* "transport", ... */
const char *format_outcome_name(enum format_outcome outcome);	/* "relay", ..., "perm" */

#endif
