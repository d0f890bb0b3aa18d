/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns.h - DNS answers as the route engine sees them
 *
 * A struct dns_answer is what one question (name, type) got from the DNS:
 * its status, the records (MX or addresses) at the end of any CNAME chain,
 * and a TTL. dnsmsg.c builds one from a raw DNS message, with every bound
 * checked; the cache keeps them; the engine reads them.
 */
#ifndef MXPATH_DNS_H
#define MXPATH_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxpath/engine/address.h"

/* TXT is asked for "_mta-sts.DOMAIN" only: its answer is DNS_OK (no records
 * kept) when a record starts "v=STSv1" (RFC 8461 3.1), else NODATA. */
enum dns_type { DNS_TYPE_MX, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_TXT };

enum dns_status {
	DNS_OK,			/* records below (possibly after a CNAME chain) */
	DNS_NODATA,		/* the name exists, no record of this type */
	DNS_NXDOMAIN,		/* the name (or the end of its CNAME chain) does not exist */
	DNS_SERVFAIL,
	DNS_REFUSED,
	DNS_TIMEOUT,
	DNS_BADANSWER,		/* malformed, mismatched or looping answer */
};

/* Caps applied where the data enters (dnsmsg.c). */
#define DNS_MX_MAX 64		/* the best 64 by preference are kept */
#define DNS_ADDR_MAX 32
#define DNS_CNAME_DEPTH 8

struct dns_mx {
	uint16_t pref;
	const char *host;	/* normalised; "" for the null MX target "." */
};

/* One allocation: the header, the record array and the strings. The
 * header is 24 octets (pointers first, the small fields packed after the
 * TTL): the cache holds hundreds of thousands of these. */
struct dns_answer {
	const char *cname;	/* final target if the name is an alias, else NULL */
	union {
		struct dns_mx *mx;
		struct mx_addr *addr;
	} rr;
	uint32_t ttl;		/* positive: min TTL of the records and the CNAME
				 * chain; negative: min(SOA TTL, SOA minimum) */
	enum dns_type type : 8;
	enum dns_status status : 8;
	unsigned n : 8;		/* records in rr, at most DNS_MX_MAX / DNS_ADDR_MAX */
	bool cname_pending : 1;	/* the chain ends in a CNAME whose target records
				 * were not in the answer: ask again for cname */
	bool truncated : 1;	/* more records than the caps; the best were kept */
	bool authenticated : 1;	/* the server set AD: DNSSEC-validated (RFC 4035 3.2.3) */
};

/*
 * An answer as a lookup hands it out (the cache to the router, the
 * router to the engine's lookup callback) for one (channel, type, name).
 */
struct dns_lookup_result {
	const struct dns_answer *answer;	/* valid until route_decide returns */
	uint32_t ttl_left;			/* seconds this answer is still fresh */
	bool stale;				/* served stale (RFC 8767) */
};

const char *dns_type_name(enum dns_type type);		/* "MX", "A", "AAAA", "TXT" */
const char *dns_status_name(enum dns_status status);	/* "ok", "nodata", "nxdomain", ... */
/* True for the statuses that are temporary (servfail, refused, timeout, badanswer). */
bool dns_status_is_temporary(enum dns_status status);

/* Builders (dnsmsg.c and the tests' fake resolver use them). */
struct dns_answer *dns_answer_new_status(enum dns_type type, enum dns_status status,
					 uint32_t ttl);
struct dns_answer *dns_answer_new_mx(const struct dns_mx *mx, size_t n, uint32_t ttl,
				     const char *cname);
struct dns_answer *dns_answer_new_addr(enum dns_type type, const struct mx_addr *addr,
				       size_t n, uint32_t ttl, const char *cname);
struct dns_answer *dns_answer_copy(const struct dns_answer *answer);
void dns_answer_free(struct dns_answer **answer);
/* Bytes owned by the answer (for the cache's memory accounting). */
size_t dns_answer_size(const struct dns_answer *answer);
/* Bytes of its header and record array, which come first (the records right
 * after the header: dnsanswer.c asserts it); the strings follow. Inline: the
 * cache finds its own fields of an entry with it on every lookup. */
static inline size_t dns_answer_head_size(const struct dns_answer *answer)
{
	size_t record = answer->type == DNS_TYPE_MX ? sizeof(struct dns_mx)
						    : sizeof(struct mx_addr);

	return sizeof(struct dns_answer) + answer->n * record;
}

/*
 * Parses a raw DNS response to the question (qname, type): checks the
 * header and question, maps the RCODE, follows a CNAME chain inside the
 * answer section (depth <= DNS_CNAME_DEPTH, loops -> DNS_BADANSWER), takes
 * the negative TTL from the SOA in the authority section, bounds every
 * pointer (compression loops, truncation). Never fails: a bad message
 * gives a DNS_BADANSWER answer. The caller owns the result.
 */
struct dns_answer *dnsmsg_parse(const unsigned char *msg, size_t len, const char *qname,
				enum dns_type type);

#endif
