/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsmsg.c - turn a raw DNS response into a struct dns_answer
 *
 * A bounded reader of RFC 1035 wire format. Every offset is checked
 * against the message length; a compression pointer must point strictly
 * before the start of the run of labels it ends (so no pointer can ever be
 * followed twice) and at most DNSMSG_POINTER_HOPS are followed; labels are
 * at most 63 octets, names at most 253 in text form. Whatever the bytes,
 * the result is an answer: anything malformed, truncated, mismatched or
 * looping is DNS_BADANSWER. Nothing is allocated but the answer itself.
 *
 * Choices worth knowing:
 * - SERVFAIL and REFUSED are taken from the header alone; other RCODEs
 *   than NOERROR and NXDOMAIN are DNS_BADANSWER, and so is a message with
 *   the TC bit (a cut answer section must not read as NODATA);
 * - every record of every section must be present and well formed;
 * - MX records come back sorted by preference (stable); the best
 *   DNS_MX_MAX are kept. Addresses keep DNS order; the first DNS_ADDR_MAX
 *   are kept. Either way truncated says so;
 * - an MX whose exchange is a well-formed name but not a host name (octets
 *   other than letters, digits, '-' and '_') is skipped, as Postfix does;
 *   when nothing else remains the answer is DNS_BADANSWER, never NODATA;
 * - a CNAME target that is not a host name (or is the root) is DNS_BADANSWER;
 * - a CNAME chain ending without records is "pending" (ask again for the
 *   target) unless an SOA of a zone holding the target says NODATA;
 * - NOERROR without records, SOA or chain but with NS records is a
 *   referral (RFC 2308 2.2: the server did not recurse), DNS_BADANSWER:
 *   taking it for NODATA would send mail to the domain's A record;
 * - a negative answer without an SOA for its name lives DNSMSG_NEGATIVE_TTL_DEFAULT
 *   seconds: long enough to spare the servers, short enough to be wrong
 *   only briefly (RFC 2308 section 5 would not cache it at all; the cache
 *   clamps it to its min_ttl anyway);
 * - TXT is only asked for "_mta-sts.DOMAIN": the records that start with
 *   "v=STSv1" are counted, nothing is kept (RFC 8461 3.1);
 * - the header's AD bit is kept as answer->authenticated.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/dns.h"

#define DNSMSG_HEADER_LEN 12
#define DNSMSG_RR_FIXED_LEN 10		/* type, class, TTL, rdlength */
#define DNSMSG_SOA_FIXED_LEN 20		/* serial, refresh, retry, expire, minimum */
#define DNSMSG_POINTER_HOPS 127		/* a 253-octet name has at most 127 labels */
#define DNSMSG_NEGATIVE_TTL_DEFAULT 60

#define RR_CLASS_IN 1
#define RR_TYPE_A 1
#define RR_TYPE_NS 2
#define RR_TYPE_CNAME 5
#define RR_TYPE_SOA 6
#define RR_TYPE_MX 15
#define RR_TYPE_TXT 16
#define RR_TYPE_AAAA 28

#define HEADER_AD 0x20		/* byte 3: authentic data (RFC 4035 3.2.3) */
#define STS_VERSION "v=STSv1"	/* RFC 8461 3.1: how an MTA-STS record starts */

#define RCODE_NOERROR 0
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_REFUSED 5

/* One resource record as read from the message; rdata stays in place. */
struct dnsmsg_rr {
	char owner[MX_NAME_BUF];
	bool owner_is_host;
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	size_t rdata;			/* offset of the rdata in the message */
	uint16_t rdlength;
};

struct dnsmsg_mx {
	uint16_t pref;
	char host[MX_NAME_BUF];
};

/* Everything one parse needs; lives on the caller's stack. */
struct dnsmsg_state {
	const unsigned char *msg;
	size_t len;
	enum dns_type type;
	uint16_t rrtype;		/* the wire type asked for */
	unsigned rcode;
	unsigned qdcount, ancount, nscount, arcount;
	size_t answer_at;		/* offset of the answer section */
	size_t authority_at;		/* offset of the authority section */
	/* chain[0] is the question's name, then each CNAME target in turn. */
	char chain[DNS_CNAME_DEPTH + 1][MX_NAME_BUF];
	unsigned chain_len;
	uint32_t ttl;			/* min over the CNAMEs and records used */
	bool truncated;
	bool skipped_mx;		/* an MX exchange was not a host name */
	size_t n;
	union {
		struct dnsmsg_mx mx[DNS_MX_MAX];
		struct mx_addr addr[DNS_ADDR_MAX];
	} u;
	uint8_t mx_order[DNS_MX_MAX];	/* u.mx slots, best preference first */
};

/* What the authority section says about a name without records. */
struct dnsmsg_authority {
	uint32_t negative_ttl;		/* DNSMSG_NEGATIVE_TTL_DEFAULT without an SOA */
	bool has_soa;			/* of a zone holding the name */
	bool has_ns;			/* any NS record: without an SOA, a referral */
};

static uint16_t dnsmsg_get16(const unsigned char *p);
static uint32_t dnsmsg_get32(const unsigned char *p);
static uint32_t dnsmsg_get_ttl(const unsigned char *p);
static bool dnsmsg_is_host_octet(unsigned char c);
static int dnsmsg_read_name(const struct dnsmsg_state *p, size_t *off, char *out,
			    bool *is_host);
static int dnsmsg_follow_pointer(const struct dnsmsg_state *p, size_t *pos, size_t *segment,
				 unsigned *hops);
static int dnsmsg_copy_label(const struct dnsmsg_state *p, size_t pos, char *out,
			     size_t *text, bool *is_host);
static int dnsmsg_read_rdata_name(const struct dnsmsg_state *p, const struct dnsmsg_rr *rr,
				  size_t at, char *out, bool *is_host);
static int dnsmsg_read_rr(const struct dnsmsg_state *p, size_t *off, struct dnsmsg_rr *rr);
static bool dnsmsg_name_is_within(const char *name, const char *zone);
static int dnsmsg_set_qname(struct dnsmsg_state *p, const char *qname);
static int dnsmsg_check_header(struct dnsmsg_state *p);
static int dnsmsg_check_question(struct dnsmsg_state *p);
static int dnsmsg_check_sections(struct dnsmsg_state *p);
static int dnsmsg_follow_cnames(struct dnsmsg_state *p);
static int dnsmsg_find_cname(struct dnsmsg_state *p, const char *owner, bool *found);
static int dnsmsg_collect_records(struct dnsmsg_state *p);
static int dnsmsg_collect_mx(struct dnsmsg_state *p, const struct dnsmsg_rr *rr);
static int dnsmsg_collect_addr(struct dnsmsg_state *p, const struct dnsmsg_rr *rr);
static int dnsmsg_collect_txt(struct dnsmsg_state *p, const struct dnsmsg_rr *rr);
static void dnsmsg_keep_mx(struct dnsmsg_state *p, uint16_t pref, const char *host);
static int dnsmsg_read_authority(const struct dnsmsg_state *p, struct dnsmsg_authority *out);
static int dnsmsg_read_soa(const struct dnsmsg_state *p, const struct dnsmsg_rr *rr, uint32_t *ttl);
static struct dns_answer *dnsmsg_interpret(struct dnsmsg_state *p);
static struct dns_answer *dnsmsg_build(const struct dnsmsg_state *p, enum dns_status status,
				       uint32_t ttl);
static uint16_t dnsmsg_rrtype(enum dns_type type);
static uint32_t dnsmsg_min(uint32_t a, uint32_t b);

struct dns_answer *dnsmsg_parse(const unsigned char *msg, size_t len, const char *qname,
				enum dns_type type)
{
	struct dnsmsg_state p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.msg = msg;
	p.len = msg == NULL ? 0 : len;
	p.type = type;
	p.rrtype = dnsmsg_rrtype(type);
	p.ttl = UINT32_MAX;
	if (p.rrtype == 0 || dnsmsg_set_qname(&p, qname) < 0 || dnsmsg_check_header(&p) < 0)
		return dns_answer_new_status(type, DNS_BADANSWER, 0);
	if (p.rcode == RCODE_SERVFAIL)
		return dns_answer_new_status(type, DNS_SERVFAIL, 0);
	if (p.rcode == RCODE_REFUSED)
		return dns_answer_new_status(type, DNS_REFUSED, 0);
	rc = dnsmsg_check_question(&p);
	if (rc == 0)
		rc = dnsmsg_check_sections(&p);
	if (rc == 0)
		rc = dnsmsg_follow_cnames(&p);
	if (rc == 0)
		rc = dnsmsg_collect_records(&p);
	if (rc < 0)
		return dns_answer_new_status(type, DNS_BADANSWER, 0);
	return dnsmsg_interpret(&p);
}

/* --- wire primitives ---------------------------------------------------- */

static uint16_t dnsmsg_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t dnsmsg_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 2181 8: a TTL with the top bit set is read as zero. */
static uint32_t dnsmsg_get_ttl(const unsigned char *p)
{
	uint32_t ttl = dnsmsg_get32(p);

	return ttl > INT32_MAX ? 0 : ttl;
}

static bool dnsmsg_is_host_octet(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Reads the (possibly compressed) name at *off into out: lower case, no
 * trailing dot, "" for the root. *is_host tells whether every octet is a
 * host-name octet (otherwise they read as '?' and the text must not be
 * trusted). Advances *off past the name as stored at *off. -1 if the name
 * is malformed, too long, cut short or its pointers do not go backwards.
 */
static int dnsmsg_read_name(const struct dnsmsg_state *p, size_t *off, char *out,
			    bool *is_host)
{
	size_t pos = *off, end = 0, text = 0;
	size_t segment = pos;		/* where the current run of labels starts */
	unsigned hops = 0;

	*is_host = true;
	for (;;) {
		unsigned char c;

		if (pos >= p->len)
			return -1;
		c = p->msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (end == 0)
				end = pos + 2;	/* the name as stored ends with its first pointer */
			if (dnsmsg_follow_pointer(p, &pos, &segment, &hops) < 0)
				return -1;
			continue;
		}
		if (c & 0xc0)
			return -1;	/* 0x40 and 0x80: no extended label types */
		if (c == 0)
			break;
		if (dnsmsg_copy_label(p, pos, out, &text, is_host) < 0)
			return -1;
		pos += 1 + (size_t)c;
	}
	out[text] = '\0';
	*off = end != 0 ? end : pos + 1;
	return 0;
}

/* Jumps to a pointer's target, which must lie before the current run of labels. */
static int dnsmsg_follow_pointer(const struct dnsmsg_state *p, size_t *pos, size_t *segment,
				 unsigned *hops)
{
	size_t target;

	if (p->len - *pos < 2)
		return -1;
	target = (size_t)(p->msg[*pos] & 0x3f) << 8 | p->msg[*pos + 1];
	if (target >= *segment || ++*hops > DNSMSG_POINTER_HOPS)
		return -1;
	*pos = *segment = target;
	return 0;
}

/* Appends the label at pos (after a dot unless first) to out[*text]. */
static int dnsmsg_copy_label(const struct dnsmsg_state *p, size_t pos, char *out,
			     size_t *text, bool *is_host)
{
	size_t len = p->msg[pos];

	if (p->len - pos - 1 < len || *text + (*text > 0) + len > MX_NAME_MAX)
		return -1;
	if (*text > 0)
		out[(*text)++] = '.';
	for (size_t i = 1; i <= len; i++) {
		unsigned char octet = p->msg[pos + i];

		if (!dnsmsg_is_host_octet(octet)) {
			*is_host = false;
			octet = '?';
		}
		out[(*text)++] = (char)(octet >= 'A' && octet <= 'Z' ? octet + 32 : octet);
	}
	return 0;
}

/* A name in rdata at offset at that must end exactly where the rdata ends. */
static int dnsmsg_read_rdata_name(const struct dnsmsg_state *p, const struct dnsmsg_rr *rr,
				  size_t at, char *out, bool *is_host)
{
	if (dnsmsg_read_name(p, &at, out, is_host) < 0)
		return -1;
	return at == rr->rdata + rr->rdlength ? 0 : -1;
}

static int dnsmsg_read_rr(const struct dnsmsg_state *p, size_t *off, struct dnsmsg_rr *rr)
{
	const unsigned char *fixed;

	if (dnsmsg_read_name(p, off, rr->owner, &rr->owner_is_host) < 0)
		return -1;
	if (p->len - *off < DNSMSG_RR_FIXED_LEN)
		return -1;
	fixed = p->msg + *off;
	rr->type = dnsmsg_get16(fixed);
	rr->class = dnsmsg_get16(fixed + 2);
	rr->ttl = dnsmsg_get_ttl(fixed + 4);
	rr->rdlength = dnsmsg_get16(fixed + 8);
	*off += DNSMSG_RR_FIXED_LEN;
	if (p->len - *off < rr->rdlength)
		return -1;
	rr->rdata = *off;
	*off += rr->rdlength;
	return 0;
}

/* True if name is zone or below it ("" is the root, above everything). */
static bool dnsmsg_name_is_within(const char *name, const char *zone)
{
	size_t name_len = strlen(name), zone_len = strlen(zone);

	if (zone_len == 0 || strcmp(name, zone) == 0)
		return true;
	return name_len > zone_len && name[name_len - zone_len - 1] == '.' &&
	       strcmp(name + name_len - zone_len, zone) == 0;
}

/* --- header, question, structure ----------------------------------------- */

/* The caller's name, lower case, one trailing dot dropped. */
static int dnsmsg_set_qname(struct dnsmsg_state *p, const char *qname)
{
	size_t len;

	if (qname == NULL)
		return -1;
	len = strlen(qname);
	if (len > 0 && qname[len - 1] == '.')
		len--;
	if (len > MX_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = qname[i];

		p->chain[0][i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	p->chain[0][len] = '\0';
	p->chain_len = 1;
	return 0;
}

static int dnsmsg_check_header(struct dnsmsg_state *p)
{
	const unsigned char *h = p->msg;

	if (p->len < DNSMSG_HEADER_LEN)
		return -1;
	if (!(h[2] & 0x80) || (h[2] & 0x78) != 0)	/* QR set, OPCODE 0 (QUERY) */
		return -1;
	if (h[2] & 0x02)				/* TC: the sections are cut */
		return -1;
	p->rcode = h[3] & 0x0f;
	switch (p->rcode) {
	case RCODE_NOERROR:
	case RCODE_NXDOMAIN:
	case RCODE_SERVFAIL:
	case RCODE_REFUSED:
		break;
	default:
		return -1;
	}
	p->qdcount = dnsmsg_get16(h + 4);
	p->ancount = dnsmsg_get16(h + 6);
	p->nscount = dnsmsg_get16(h + 8);
	p->arcount = dnsmsg_get16(h + 10);
	return 0;
}

/* Exactly one question, and it is ours: (qname, type, IN). */
static int dnsmsg_check_question(struct dnsmsg_state *p)
{
	char name[MX_NAME_BUF];
	size_t off = DNSMSG_HEADER_LEN;
	bool is_host;

	if (p->qdcount != 1)
		return -1;
	if (dnsmsg_read_name(p, &off, name, &is_host) < 0 || p->len - off < 4)
		return -1;
	if (!is_host || strcmp(name, p->chain[0]) != 0)
		return -1;
	if (dnsmsg_get16(p->msg + off) != p->rrtype ||
	    dnsmsg_get16(p->msg + off + 2) != RR_CLASS_IN)
		return -1;
	p->answer_at = off + 4;
	return 0;
}

/* Every record the header announces is there and well formed. */
static int dnsmsg_check_sections(struct dnsmsg_state *p)
{
	struct dnsmsg_rr rr;
	size_t off = p->answer_at;
	unsigned i;

	for (i = 0; i < p->ancount; i++)
		if (dnsmsg_read_rr(p, &off, &rr) < 0)
			return -1;
	p->authority_at = off;
	for (i = 0; i < p->nscount + p->arcount; i++)
		if (dnsmsg_read_rr(p, &off, &rr) < 0)
			return -1;
	return 0;
}

/* --- the answer section -------------------------------------------------- */

/* Extends the chain while its last name is an alias; a loop or a chain
 * longer than DNS_CNAME_DEPTH is an error. */
static int dnsmsg_follow_cnames(struct dnsmsg_state *p)
{
	for (;;) {
		bool found;

		if (dnsmsg_find_cname(p, p->chain[p->chain_len - 1], &found) < 0)
			return -1;
		if (!found)
			return 0;
	}
}

/* Looks for a CNAME owned by owner; if there is one, appends its target. */
static int dnsmsg_find_cname(struct dnsmsg_state *p, const char *owner, bool *found)
{
	struct dnsmsg_rr rr;
	size_t off = p->answer_at;
	char *target;
	bool is_host;

	*found = false;
	for (unsigned i = 0; i < p->ancount && !*found; i++) {
		if (dnsmsg_read_rr(p, &off, &rr) < 0)
			return -1;
		*found = rr.type == RR_TYPE_CNAME && rr.class == RR_CLASS_IN &&
			 rr.owner_is_host && strcmp(rr.owner, owner) == 0;
	}
	if (!*found)
		return 0;
	if (p->chain_len > DNS_CNAME_DEPTH)
		return -1;
	target = p->chain[p->chain_len];
	if (dnsmsg_read_rdata_name(p, &rr, rr.rdata, target, &is_host) < 0 || !is_host ||
	    target[0] == '\0')		/* an alias of the root: nothing to ask */
		return -1;
	for (unsigned i = 0; i < p->chain_len; i++)
		if (strcmp(p->chain[i], target) == 0)
			return -1;
	p->chain_len++;
	p->ttl = dnsmsg_min(p->ttl, rr.ttl);
	return 0;
}

/* Takes the records of the asked type owned by the end of the chain. */
static int dnsmsg_collect_records(struct dnsmsg_state *p)
{
	const char *owner = p->chain[p->chain_len - 1];
	struct dnsmsg_rr rr;
	size_t off = p->answer_at;

	for (unsigned i = 0; i < p->ancount; i++) {
		int rc;

		if (dnsmsg_read_rr(p, &off, &rr) < 0)
			return -1;
		if (rr.type != p->rrtype || rr.class != RR_CLASS_IN || !rr.owner_is_host ||
		    strcmp(rr.owner, owner) != 0)
			continue;
		if (p->type == DNS_TYPE_MX)
			rc = dnsmsg_collect_mx(p, &rr);
		else if (p->type == DNS_TYPE_TXT)
			rc = dnsmsg_collect_txt(p, &rr);
		else
			rc = dnsmsg_collect_addr(p, &rr);
		if (rc < 0)
			return -1;
		p->ttl = dnsmsg_min(p->ttl, rr.ttl);
	}
	return 0;
}

static int dnsmsg_collect_mx(struct dnsmsg_state *p, const struct dnsmsg_rr *rr)
{
	char host[MX_NAME_BUF];
	bool is_host;

	if (rr->rdlength < 3)		/* preference and at least the root */
		return -1;
	if (dnsmsg_read_rdata_name(p, rr, rr->rdata + 2, host, &is_host) < 0)
		return -1;
	if (!is_host) {
		p->skipped_mx = true;
		return 0;
	}
	dnsmsg_keep_mx(p, dnsmsg_get16(p->msg + rr->rdata), host);
	return 0;
}

/*
 * Keeps the best DNS_MX_MAX by preference, in a stable order: mx_order
 * lists the slots sorted, and when full a better record takes the slot of
 * the last (worst, latest) one.
 */
static void dnsmsg_keep_mx(struct dnsmsg_state *p, uint16_t pref, const char *host)
{
	size_t slot, at;

	if (p->n == DNS_MX_MAX) {
		p->truncated = true;
		slot = p->mx_order[DNS_MX_MAX - 1];
		if (pref >= p->u.mx[slot].pref)
			return;
		p->n--;
	} else {
		slot = p->n;
	}
	for (at = p->n; at > 0 && p->u.mx[p->mx_order[at - 1]].pref > pref; at--)
		p->mx_order[at] = p->mx_order[at - 1];
	p->mx_order[at] = (uint8_t)slot;
	p->n++;
	p->u.mx[slot].pref = pref;
	memcpy(p->u.mx[slot].host, host, strlen(host) + 1);
}

static int dnsmsg_collect_addr(struct dnsmsg_state *p, const struct dnsmsg_rr *rr)
{
	struct mx_addr *addr;

	if (rr->rdlength != (p->type == DNS_TYPE_A ? 4 : 16))
		return -1;
	if (p->n == DNS_ADDR_MAX) {
		p->truncated = true;
		return 0;
	}
	addr = &p->u.addr[p->n++];
	memset(addr, 0, sizeof(*addr));
	if (p->type == DNS_TYPE_A) {
		addr->family = AF_INET;
		memcpy(&addr->u.v4, p->msg + rr->rdata, 4);
	} else {
		addr->family = AF_INET6;
		memcpy(&addr->u.v6, p->msg + rr->rdata, 16);
	}
	return 0;
}

/*
 * A TXT record is character-strings, each a length octet and its bytes;
 * an MTA-STS record is one whose text (the strings joined) starts with
 * "v=STSv1" followed by ';', a space or its end. Only counted.
 */
static int dnsmsg_collect_txt(struct dnsmsg_state *p, const struct dnsmsg_rr *rr)
{
	char head[sizeof(STS_VERSION) + 1];
	size_t off = rr->rdata, end = rr->rdata + rr->rdlength, n = 0;

	while (off < end) {
		size_t len = p->msg[off++];

		if (len > end - off)
			return -1;
		for (size_t i = 0; i < len && n < sizeof(head) - 1; i++)
			head[n++] = (char)p->msg[off + i];
		off += len;
	}
	head[n] = '\0';
	if (strncmp(head, STS_VERSION, strlen(STS_VERSION)) != 0)
		return 0;
	if (head[strlen(STS_VERSION)] != '\0' && head[strlen(STS_VERSION)] != ';' &&
	    head[strlen(STS_VERSION)] != ' ')
		return 0;
	if (p->n < DNS_ADDR_MAX)
		p->n++;
	return 0;
}

/* --- the authority section ----------------------------------------------- */

/*
 * RFC 2308 5: the negative TTL is min(SOA TTL, SOA MINIMUM), from an SOA
 * of a zone that holds the end of the chain (the lowest if several).
 * RFC 2308 2.2: NS records and no SOA make a referral, not NODATA.
 */
static int dnsmsg_read_authority(const struct dnsmsg_state *p, struct dnsmsg_authority *out)
{
	const char *name = p->chain[p->chain_len - 1];
	struct dnsmsg_rr rr;
	size_t off = p->authority_at;

	memset(out, 0, sizeof(*out));
	out->negative_ttl = UINT32_MAX;
	for (unsigned i = 0; i < p->nscount; i++) {
		uint32_t soa_ttl;

		if (dnsmsg_read_rr(p, &off, &rr) < 0)
			return -1;
		if (rr.class != RR_CLASS_IN)
			continue;
		if (rr.type == RR_TYPE_NS)
			out->has_ns = true;
		if (rr.type != RR_TYPE_SOA)
			continue;
		if (dnsmsg_read_soa(p, &rr, &soa_ttl) < 0)
			return -1;
		if (!rr.owner_is_host || !dnsmsg_name_is_within(name, rr.owner))
			continue;
		out->has_soa = true;
		out->negative_ttl = dnsmsg_min(out->negative_ttl, soa_ttl);
	}
	if (!out->has_soa)
		out->negative_ttl = DNSMSG_NEGATIVE_TTL_DEFAULT;
	return 0;
}

/* Checks the SOA rdata (MNAME, RNAME, five numbers) and gives its negative TTL. */
static int dnsmsg_read_soa(const struct dnsmsg_state *p, const struct dnsmsg_rr *rr, uint32_t *ttl)
{
	char name[MX_NAME_BUF];
	size_t off = rr->rdata, end = rr->rdata + rr->rdlength;
	bool is_host;

	if (dnsmsg_read_name(p, &off, name, &is_host) < 0 || off > end ||
	    dnsmsg_read_name(p, &off, name, &is_host) < 0 || off > end ||
	    end - off != DNSMSG_SOA_FIXED_LEN)
		return -1;
	*ttl = dnsmsg_min(rr->ttl, dnsmsg_get_ttl(p->msg + off + 16));
	return 0;
}

/* --- the result ------------------------------------------------------------ */

static struct dns_answer *dnsmsg_interpret(struct dnsmsg_state *p)
{
	struct dnsmsg_authority authority;
	struct dns_answer *answer;
	uint32_t negative_ttl;

	if (p->n > 0) {
		if (p->rcode == RCODE_NXDOMAIN)	/* records for a name that is not */
			return dns_answer_new_status(p->type, DNS_BADANSWER, 0);
		return dnsmsg_build(p, DNS_OK, p->ttl);
	}
	if (p->skipped_mx)
		return dns_answer_new_status(p->type, DNS_BADANSWER, 0);
	if (dnsmsg_read_authority(p, &authority) < 0)
		return dns_answer_new_status(p->type, DNS_BADANSWER, 0);
	negative_ttl = dnsmsg_min(p->ttl, authority.negative_ttl);
	if (p->rcode == RCODE_NXDOMAIN)
		return dnsmsg_build(p, DNS_NXDOMAIN, negative_ttl);
	if (authority.has_soa)
		return dnsmsg_build(p, DNS_NODATA, negative_ttl);
	if (p->chain_len > 1) {
		answer = dnsmsg_build(p, DNS_OK, p->ttl);
		answer->cname_pending = true;
		return answer;
	}
	if (authority.has_ns)	/* the server did not recurse: no answer at all */
		return dns_answer_new_status(p->type, DNS_BADANSWER, 0);
	return dnsmsg_build(p, DNS_NODATA, negative_ttl);
}

/* Builds the answer from what was collected, then sets what the builders do not. */
static struct dns_answer *dnsmsg_build(const struct dnsmsg_state *p, enum dns_status status,
				       uint32_t ttl)
{
	const char *cname = p->chain_len > 1 ? p->chain[p->chain_len - 1] : NULL;
	struct dns_answer *answer;

	if (p->type == DNS_TYPE_MX) {
		struct dns_mx mx[DNS_MX_MAX];

		for (size_t i = 0; i < p->n; i++) {
			mx[i].pref = p->u.mx[p->mx_order[i]].pref;
			mx[i].host = p->u.mx[p->mx_order[i]].host;
		}
		answer = dns_answer_new_mx(mx, p->n, ttl, cname);
	} else if (p->type == DNS_TYPE_TXT) {
		answer = dns_answer_new_addr(p->type, NULL, 0, ttl, cname);
	} else {
		answer = dns_answer_new_addr(p->type, p->u.addr, p->n, ttl, cname);
	}
	answer->status = status;
	answer->truncated = p->truncated;
	answer->authenticated = (p->msg[3] & HEADER_AD) != 0;
	return answer;
}

static uint16_t dnsmsg_rrtype(enum dns_type type)
{
	switch (type) {
	case DNS_TYPE_MX:
		return RR_TYPE_MX;
	case DNS_TYPE_A:
		return RR_TYPE_A;
	case DNS_TYPE_AAAA:
		return RR_TYPE_AAAA;
	case DNS_TYPE_TXT:
		return RR_TYPE_TXT;
	}
	return 0;
}

static uint32_t dnsmsg_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}
