/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * address.h - IP addresses, CIDR blocks, domain names and recipients
 *
 * Everything that turns text from a configuration file, an MTA or a DNS
 * answer into a checked, normalised value. Pure functions, no I/O.
 */
#ifndef MXPATH_ADDRESS_H
#define MXPATH_ADDRESS_H

#include <netinet/in.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxpath/base/common.h"

struct mx_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

#define MX_ADDR_TEXT_MAX 46	/* INET6_ADDRSTRLEN */

struct mx_cidr {
	struct mx_addr net;
	unsigned prefix;	/* 0..32 or 0..128 */
};

/* "192.0.2.1" or "2001:db8::1" (no brackets). 0 on success, -1 if malformed. */
int addr_parse(const char *text, struct mx_addr *out);
/* Writes the canonical text form; buf must hold MX_ADDR_TEXT_MAX bytes. */
const char *addr_format(const struct mx_addr *addr, char *buf, size_t len);
/* Inline: the engine compares every answer address with self's. */
static inline bool addr_equal(const struct mx_addr *a, const struct mx_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/* ::ffff:192.0.2.1 is 192.0.2.1: returns buf holding the IPv4 address for a
 * v4-mapped one, else addr itself. Compare and filter addresses after this. */
const struct mx_addr *addr_unmap(const struct mx_addr *addr, struct mx_addr *buf);

/*
 * The one address-literal parser: "[192.0.2.1]" or "[IPv6:2001:db8::1]"
 * (len bytes of text); with tag_optional, "[2001:db8::1]" too (files).
 * canon (MX_NAME_BUF bytes), if not NULL, gets the canonical text,
 * "[IPv6:...]" for IPv6. 0, or -1 with *why set.
 */
int addr_literal_parse(const char *text, size_t len, bool tag_optional, struct mx_addr *addr,
		       char *canon, const char **why);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length prefix).
 * Host bits set below the prefix are an error. 0 / -1. */
int cidr_parse(const char *text, struct mx_cidr *out);
bool cidr_contains(const struct mx_cidr *cidr, const struct mx_addr *addr);

/*
 * Checks and normalises a domain name: lower case, one trailing dot
 * dropped, labels 1..63 octets of letters, digits, '-' and '_' (the
 * latter seen in the wild), name <= 253 octets. Writes MX_NAME_BUF bytes
 * at most into out. Returns 0, or -1 with *why set to a static text
 * ("label longer than 63 octets", ...).
 */
int domain_normalize(const char *in, size_t len, char *out, const char **why);

/*
 * A host name as a configuration or an option gives it: domain_normalize(),
 * then refused if the normalised name is an IP address ("192.0.2.1." is
 * one too). 0, or -1 with *why set.
 */
int host_name_normalize(const char *in, size_t len, char *out, const char **why);

enum recipient_kind {
	RECIPIENT_DOMAIN,	/* user@example.org or a bare domain */
	RECIPIENT_LITERAL,	/* user@[192.0.2.1] or user@[IPv6:2001:db8::1] */
};

struct recipient {
	enum recipient_kind kind;
	bool has_local;			/* false for a bare domain */
	char local[MX_LOCAL_MAX + 1];	/* as given (case kept) */
	char domain[MX_NAME_BUF];	/* normalised; for a literal its text "[...]" */
	struct mx_addr literal;		/* RECIPIENT_LITERAL only */
};

/*
 * Parses what an MTA hands over: "<user@domain>", "user@domain", a bare
 * "domain" or "[literal]". The domain part follows the last '@'; a UTF-8
 * domain (SMTPUTF8) is converted to its A-label form (IDNA2008, UTS #46
 * non-transitional; see idna.h) before it is checked. An empty
 * local part, an empty domain, a bad label, a malformed literal, control
 * characters or over-long parts are errors: returns -1 with *why set.
 */
int recipient_parse(const char *text, struct recipient *out, const char **why);

#endif
