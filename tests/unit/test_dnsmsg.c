/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dnsmsg.c - dnsmsg_parse against hand-built DNS messages
 *
 * A tiny packet builder writes wire-format responses (with or without
 * compression, well formed or broken on purpose); each test checks the
 * answer dnsmsg_parse makes of one of them: parse_answer() its status,
 * record count and TTL (always all three), assert_cname() its CNAME end,
 * assert_status() the status alone.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mxpath/engine/dns.h"

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_MX = 15, T_TXT = 16, T_AAAA = 28 };
enum { C_IN = 1, C_CH = 3 };
enum { SEC_AN, SEC_NS, SEC_AR };
enum { RC_NOERROR = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_NOTIMP = 4,
       RC_REFUSED = 5 };

#define PKT_QNAME_AT 12		/* where the question's name starts */

struct pkt {
	unsigned char buf[65535];
	size_t len;
	int section;
	size_t rdlength_at;	/* rdlength of the record being written */
};

static void pkt_u8(struct pkt *p, unsigned v);
static void pkt_u16(struct pkt *p, unsigned v);
static void pkt_u32(struct pkt *p, uint32_t v);
static void pkt_name(struct pkt *p, const char *name);
static void pkt_pointer(struct pkt *p, size_t offset);
static void pkt_begin(struct pkt *p, unsigned rcode, const char *qname, unsigned qtype);
static void pkt_count(struct pkt *p);
static void pkt_rr_begin(struct pkt *p, const char *owner, unsigned type, uint32_t ttl);
static void pkt_rr_end(struct pkt *p);
static void pkt_mx(struct pkt *p, const char *owner, uint32_t ttl, unsigned pref,
		   const char *host);
static void pkt_a(struct pkt *p, const char *owner, uint32_t ttl, const char *addr);
static void pkt_aaaa(struct pkt *p, const char *owner, uint32_t ttl, const char *addr);
static void pkt_cname(struct pkt *p, const char *owner, uint32_t ttl, const char *target);
static void pkt_soa(struct pkt *p, const char *owner, uint32_t ttl, uint32_t minimum);
static void pkt_soa_authority(struct pkt *p, const char *zone, uint32_t ttl, uint32_t minimum);
static void pkt_mx_compressed(struct pkt *p, uint32_t ttl, unsigned pref, const char *label);
static struct dns_answer *pkt_parse(const struct pkt *p, const char *qname,
				    enum dns_type type);
static void assert_status(const struct pkt *p, const char *qname, enum dns_type type,
			  enum dns_status status);
static struct dns_answer *parse_answer(const struct pkt *p, const char *qname,
				       enum dns_type type, enum dns_status status, size_t n,
				       uint32_t ttl);
static void assert_cname(const struct dns_answer *a, const char *cname, bool pending);
static void assert_mx(const struct dns_answer *a, size_t i, unsigned pref, const char *host);
static void assert_addr(const struct dns_answer *a, size_t i, const char *text);

/* --- the builder ---------------------------------------------------------- */

static void pkt_u8(struct pkt *p, unsigned v)
{
	assert_true(p->len < sizeof(p->buf));
	p->buf[p->len++] = (unsigned char)v;
}

static void pkt_u16(struct pkt *p, unsigned v)
{
	pkt_u8(p, v >> 8 & 0xff);
	pkt_u8(p, v & 0xff);
}

static void pkt_u32(struct pkt *p, uint32_t v)
{
	pkt_u16(p, v >> 16);
	pkt_u16(p, v & 0xffff);
}

/* "a.b.c" as labels; "" or "." is the root. No compression. */
static void pkt_name(struct pkt *p, const char *name)
{
	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t len = dot != NULL ? (size_t)(dot - name) : strlen(name);

		pkt_u8(p, (unsigned)len);
		for (size_t i = 0; i < len; i++)
			pkt_u8(p, (unsigned char)name[i]);
		name += len + (dot != NULL);
	}
	pkt_u8(p, 0);
}

static void pkt_pointer(struct pkt *p, size_t offset)
{
	pkt_u16(p, 0xc000 | (unsigned)offset);
}

/* Header of a response (QR, RD, RA) with one question. */
static void pkt_begin(struct pkt *p, unsigned rcode, const char *qname, unsigned qtype)
{
	memset(p, 0, sizeof(*p));
	pkt_u16(p, 0x1234);
	pkt_u16(p, 0x8180 | rcode);
	pkt_u16(p, 1);
	pkt_u16(p, 0);
	pkt_u16(p, 0);
	pkt_u16(p, 0);
	pkt_name(p, qname);
	pkt_u16(p, qtype);
	pkt_u16(p, C_IN);
	p->section = SEC_AN;
}

/* One more record in the current section. */
static void pkt_count(struct pkt *p)
{
	size_t at = 6 + 2 * (size_t)p->section;
	unsigned n = (unsigned)(p->buf[at] << 8 | p->buf[at + 1]) + 1;

	p->buf[at] = (unsigned char)(n >> 8);
	p->buf[at + 1] = (unsigned char)n;
}

static void pkt_rr_begin(struct pkt *p, const char *owner, unsigned type, uint32_t ttl)
{
	pkt_count(p);
	pkt_name(p, owner);
	pkt_u16(p, type);
	pkt_u16(p, C_IN);
	pkt_u32(p, ttl);
	p->rdlength_at = p->len;
	pkt_u16(p, 0);
}

static void pkt_rr_end(struct pkt *p)
{
	size_t rdlength = p->len - p->rdlength_at - 2;

	p->buf[p->rdlength_at] = (unsigned char)(rdlength >> 8);
	p->buf[p->rdlength_at + 1] = (unsigned char)rdlength;
}

static void pkt_mx(struct pkt *p, const char *owner, uint32_t ttl, unsigned pref,
		   const char *host)
{
	pkt_rr_begin(p, owner, T_MX, ttl);
	pkt_u16(p, pref);
	pkt_name(p, host);
	pkt_rr_end(p);
}

static void pkt_a(struct pkt *p, const char *owner, uint32_t ttl, const char *addr)
{
	unsigned char raw[4];

	assert_int_equal(inet_pton(AF_INET, addr, raw), 1);
	pkt_rr_begin(p, owner, T_A, ttl);
	for (size_t i = 0; i < sizeof(raw); i++)
		pkt_u8(p, raw[i]);
	pkt_rr_end(p);
}

static void pkt_aaaa(struct pkt *p, const char *owner, uint32_t ttl, const char *addr)
{
	unsigned char raw[16];

	assert_int_equal(inet_pton(AF_INET6, addr, raw), 1);
	pkt_rr_begin(p, owner, T_AAAA, ttl);
	for (size_t i = 0; i < sizeof(raw); i++)
		pkt_u8(p, raw[i]);
	pkt_rr_end(p);
}

static void pkt_cname(struct pkt *p, const char *owner, uint32_t ttl, const char *target)
{
	pkt_rr_begin(p, owner, T_CNAME, ttl);
	pkt_name(p, target);
	pkt_rr_end(p);
}

static void pkt_soa(struct pkt *p, const char *owner, uint32_t ttl, uint32_t minimum)
{
	pkt_rr_begin(p, owner, T_SOA, ttl);
	pkt_name(p, "ns.example.org");
	pkt_name(p, "hostmaster.example.org");
	pkt_u32(p, 2024010101);
	pkt_u32(p, 7200);
	pkt_u32(p, 900);
	pkt_u32(p, 1209600);
	pkt_u32(p, minimum);
	pkt_rr_end(p);
}

/* The SOA of a negative answer, in the authority section. */
static void pkt_soa_authority(struct pkt *p, const char *zone, uint32_t ttl, uint32_t minimum)
{
	p->section = SEC_NS;
	pkt_soa(p, zone, ttl, minimum);
}

/* An MX record owned by the question's name, exchange "label.<qname>",
 * both names compressed to pointers at the question. */
static void pkt_mx_compressed(struct pkt *p, uint32_t ttl, unsigned pref, const char *label)
{
	size_t len = strlen(label);

	pkt_count(p);
	pkt_pointer(p, PKT_QNAME_AT);
	pkt_u16(p, T_MX);
	pkt_u16(p, C_IN);
	pkt_u32(p, ttl);
	p->rdlength_at = p->len;
	pkt_u16(p, 0);
	pkt_u16(p, pref);
	pkt_u8(p, (unsigned)len);
	for (size_t k = 0; k < len; k++)
		pkt_u8(p, (unsigned char)label[k]);
	pkt_pointer(p, PKT_QNAME_AT);
	pkt_rr_end(p);
}

static struct dns_answer *pkt_parse(const struct pkt *p, const char *qname,
				    enum dns_type type)
{
	struct dns_answer *a = dnsmsg_parse(p->buf, p->len, qname, type);

	assert_non_null(a);
	assert_int_equal(a->type, type);
	return a;
}

static void assert_status(const struct pkt *p, const char *qname, enum dns_type type,
			  enum dns_status status)
{
	struct dns_answer *a = pkt_parse(p, qname, type);

	assert_string_equal(dns_status_name(a->status), dns_status_name(status));
	if (status != DNS_OK && status != DNS_NODATA && status != DNS_NXDOMAIN)
		assert_int_equal(a->n, 0);
	dns_answer_free(&a);
	assert_null(a);
}

/* Parses and checks what every answer has: its status, record count and TTL. */
static struct dns_answer *parse_answer(const struct pkt *p, const char *qname,
				       enum dns_type type, enum dns_status status, size_t n,
				       uint32_t ttl)
{
	struct dns_answer *a = pkt_parse(p, qname, type);

	assert_string_equal(dns_status_name(a->status), dns_status_name(status));
	assert_int_equal(a->n, n);
	assert_int_equal(a->ttl, ttl);
	return a;
}

/* The name the CNAME chain ends on (NULL: none) and whether its records
 * are still to be asked for. */
static void assert_cname(const struct dns_answer *a, const char *cname, bool pending)
{
	if (cname == NULL)
		assert_null(a->cname);
	else
		assert_string_equal(a->cname, cname);
	assert_int_equal(a->cname_pending, pending);
}

static void assert_mx(const struct dns_answer *a, size_t i, unsigned pref, const char *host)
{
	assert_true(i < a->n);
	assert_int_equal(a->rr.mx[i].pref, pref);
	assert_string_equal(a->rr.mx[i].host, host);
}

static void assert_addr(const struct dns_answer *a, size_t i, const char *text)
{
	char buf[INET6_ADDRSTRLEN];
	const void *raw;

	assert_true(i < a->n);
	raw = a->rr.addr[i].family == AF_INET ? (const void *)&a->rr.addr[i].u.v4
					      : (const void *)&a->rr.addr[i].u.v6;
	assert_non_null(inet_ntop(a->rr.addr[i].family, raw, buf, sizeof(buf)));
	assert_string_equal(buf, text);
}

/* --- MX --------------------------------------------------------------------- */

static void test_mx_sorted_answer_keeps_order_and_min_ttl(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 300, 10, "mx1.example.org");
	pkt_mx(&p, "example.org", 200, 20, "mx2.example.org");
	pkt_mx(&p, "example.org", 400, 30, "mx3.example.org");
	a = parse_answer(&p, "example.org", DNS_TYPE_MX, DNS_OK, 3, 200);
	assert_cname(a, NULL, false);
	assert_mx(a, 0, 10, "mx1.example.org");
	assert_mx(a, 1, 20, "mx2.example.org");
	assert_mx(a, 2, 30, "mx3.example.org");
	assert_false(a->truncated);
	dns_answer_free(&a);
}

static void test_mx_unsorted_answer_is_sorted_stably_by_pref(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 300, 30, "c.example.org");
	pkt_mx(&p, "example.org", 300, 10, "a.example.org");
	pkt_mx(&p, "example.org", 300, 20, "b.example.org");
	pkt_mx(&p, "example.org", 300, 10, "d.example.org");
	a = parse_answer(&p, "example.org", DNS_TYPE_MX, DNS_OK, 4, 300);
	assert_mx(a, 0, 10, "a.example.org");
	assert_mx(a, 1, 10, "d.example.org");
	assert_mx(a, 2, 20, "b.example.org");
	assert_mx(a, 3, 30, "c.example.org");
	dns_answer_free(&a);
}

static void test_mx_names_are_lowercased_and_decompressed(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "Example.ORG", T_MX);
	pkt_mx_compressed(&p, 60, 5, "MX");
	a = parse_answer(&p, "example.org.", DNS_TYPE_MX, DNS_OK, 1, 60);
	assert_mx(a, 0, 5, "mx.example.org");
	dns_answer_free(&a);
}

static void test_mx_null_mx_has_empty_host(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "nullmx.example.org", T_MX);
	pkt_mx(&p, "nullmx.example.org", 3600, 0, ".");
	a = parse_answer(&p, "nullmx.example.org", DNS_TYPE_MX, DNS_OK, 1, 3600);
	assert_mx(a, 0, 0, "");
	dns_answer_free(&a);
}

static void test_mx_thousand_records_keep_best_64(void **state)
{
	struct pkt p;
	struct dns_answer *a;
	char host[32];

	(void)state;
	pkt_begin(&p, RC_NOERROR, "many.example.org", T_MX);
	for (unsigned i = 0; i < 1000; i++) {
		unsigned pref = (i * 7919) % 1000;	/* every value 0..999, shuffled */

		snprintf(host, sizeof(host), "mx%u", pref);
		pkt_mx_compressed(&p, 600, pref, host);
	}
	a = parse_answer(&p, "many.example.org", DNS_TYPE_MX, DNS_OK, DNS_MX_MAX, 600);
	assert_true(a->truncated);
	for (unsigned i = 0; i < DNS_MX_MAX; i++) {
		snprintf(host, sizeof(host), "mx%u.many.example.org", i);
		assert_mx(a, i, i, host);
	}
	dns_answer_free(&a);
}

static void test_mx_equal_prefs_over_cap_keep_first_seen(void **state)
{
	struct pkt p;
	struct dns_answer *a;
	char host[32];

	(void)state;
	pkt_begin(&p, RC_NOERROR, "many.example.org", T_MX);
	for (unsigned i = 0; i < DNS_MX_MAX + 6; i++) {
		snprintf(host, sizeof(host), "mx%u.example.org", i);
		pkt_mx(&p, "many.example.org", 600, 10, host);
	}
	a = parse_answer(&p, "many.example.org", DNS_TYPE_MX, DNS_OK, DNS_MX_MAX, 600);
	assert_true(a->truncated);
	for (unsigned i = 0; i < DNS_MX_MAX; i++) {
		snprintf(host, sizeof(host), "mx%u.example.org", i);
		assert_mx(a, i, 10, host);
	}
	dns_answer_free(&a);
}

static void test_mx_with_bad_rdata_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	/* rdlength 2: a preference and no exchange */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	/* rdlength one octet longer than the exchange */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	pkt_name(&p, "mx.example.org");
	pkt_u8(&p, 0);
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	/* rdlength one octet shorter: the exchange runs into the next record */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "mx.example.org");
	p.buf[p.rdlength_at + 1]--;
	pkt_a(&p, "other.example.org", 60, "192.0.2.1");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_mx_exchange_not_a_host_name_is_skipped(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "bad host.example.org");
	pkt_mx(&p, "example.org", 60, 20, "mx2.example.org");
	a = parse_answer(&p, "example.org", DNS_TYPE_MX, DNS_OK, 1, 60);
	assert_mx(a, 0, 20, "mx2.example.org");
	dns_answer_free(&a);

	/* nothing usable left: not NODATA (that would mean "use the A record") */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "bad/host.example.org");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

/* --- A and AAAA ------------------------------------------------------------ */

static void test_a_records_keep_dns_order(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "mx.example.org", T_A);
	pkt_a(&p, "mx.example.org", 120, "192.0.2.9");
	pkt_a(&p, "mx.example.org", 90, "192.0.2.1");
	a = parse_answer(&p, "mx.example.org", DNS_TYPE_A, DNS_OK, 2, 90);
	assert_int_equal(a->rr.addr[0].family, AF_INET);
	assert_addr(a, 0, "192.0.2.9");
	assert_addr(a, 1, "192.0.2.1");
	dns_answer_free(&a);
}

static void test_aaaa_records_are_parsed(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "mx.example.org", T_AAAA);
	pkt_aaaa(&p, "mx.example.org", 120, "2001:db8::25");
	a = parse_answer(&p, "mx.example.org", DNS_TYPE_AAAA, DNS_OK, 1, 120);
	assert_int_equal(a->rr.addr[0].family, AF_INET6);
	assert_addr(a, 0, "2001:db8::25");
	dns_answer_free(&a);
}

static void test_a_more_than_cap_keeps_first_32(void **state)
{
	struct pkt p;
	struct dns_answer *a;
	char text[32];

	(void)state;
	pkt_begin(&p, RC_NOERROR, "big.example.org", T_A);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(text, sizeof(text), "198.51.100.%u", 200 - i);
		pkt_a(&p, "big.example.org", 60, text);
	}
	a = parse_answer(&p, "big.example.org", DNS_TYPE_A, DNS_OK, DNS_ADDR_MAX, 60);
	assert_true(a->truncated);
	assert_addr(a, 0, "198.51.100.200");
	assert_addr(a, DNS_ADDR_MAX - 1, "198.51.100.169");
	dns_answer_free(&a);
}

static void test_address_with_wrong_rdlength_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "mx.example.org", T_A);
	pkt_rr_begin(&p, "mx.example.org", T_A, 60);
	pkt_u32(&p, 0xc0000201);
	pkt_u8(&p, 0);
	pkt_rr_end(&p);
	assert_status(&p, "mx.example.org", DNS_TYPE_A, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "mx.example.org", T_AAAA);
	pkt_rr_begin(&p, "mx.example.org", T_AAAA, 60);
	pkt_u32(&p, 0xc0000201);
	pkt_rr_end(&p);
	assert_status(&p, "mx.example.org", DNS_TYPE_AAAA, DNS_BADANSWER);
}

static void test_wrong_types_classes_and_owners_are_ignored(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_a(&p, "example.org", 60, "192.0.2.1");
	pkt_rr_begin(&p, "example.org", T_TXT, 60);
	pkt_u8(&p, 2);
	pkt_u8(&p, 'h');
	pkt_u8(&p, 'i');
	pkt_rr_end(&p);
	pkt_mx(&p, "other.example.org", 60, 5, "mx.other.example.org");
	pkt_mx(&p, "example.org", 60, 7, "chaos.example.org");
	p.buf[p.rdlength_at - 5] = C_CH;	/* the class of that last record */
	pkt_cname(&p, "example.org", 60, "chaos.example.org");
	p.buf[p.rdlength_at - 5] = C_CH;
	pkt_mx(&p, "example.org", 30, 10, "mx.example.org");
	a = parse_answer(&p, "example.org", DNS_TYPE_MX, DNS_OK, 1, 30);
	assert_mx(a, 0, 10, "mx.example.org");
	dns_answer_free(&a);

	/* only records of other types: the name exists, no MX */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_a(&p, "example.org", 60, "192.0.2.1");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_NODATA);
}

/* A TXT record of the given character-strings. */
static void pkt_txt(struct pkt *p, const char *owner, uint32_t ttl, const char *const *strings,
		    size_t n)
{
	pkt_rr_begin(p, owner, T_TXT, ttl);
	for (size_t i = 0; i < n; i++) {
		pkt_u8(p, (unsigned)strlen(strings[i]));
		for (const char *c = strings[i]; *c != '\0'; c++)
			pkt_u8(p, (unsigned char)*c);
	}
	pkt_rr_end(p);
}

/* RFC 8461 3.1: an MTA-STS record starts "v=STSv1", its strings joined. */
static void test_txt_counts_mta_sts_records_only(void **state)
{
	static const char *const sts[] = { "v=STSv1; id=20261204;" };
	static const char *const split[] = { "v=ST", "Sv1;id=1" };
	static const char *const bare[] = { "v=STSv1" };
	static const char *const spf[] = { "v=spf1 -all" };
	static const char *const longer[] = { "v=STSv10; id=1" };
	const char *name = "_mta-sts.example.org";
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, name, T_TXT);
	pkt_txt(&p, name, 120, spf, 1);
	pkt_txt(&p, name, 60, sts, 1);
	a = pkt_parse(&p, name, DNS_TYPE_TXT);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->ttl, 60);
	dns_answer_free(&a);

	pkt_begin(&p, RC_NOERROR, name, T_TXT);
	pkt_txt(&p, name, 60, split, 2);
	assert_status(&p, name, DNS_TYPE_TXT, DNS_OK);
	pkt_begin(&p, RC_NOERROR, name, T_TXT);
	pkt_txt(&p, name, 60, bare, 1);
	assert_status(&p, name, DNS_TYPE_TXT, DNS_OK);

	/* TXT records, none of them MTA-STS: as if there were none */
	pkt_begin(&p, RC_NOERROR, name, T_TXT);
	pkt_txt(&p, name, 60, spf, 1);
	pkt_txt(&p, name, 60, longer, 1);
	assert_status(&p, name, DNS_TYPE_TXT, DNS_NODATA);
	pkt_begin(&p, RC_NXDOMAIN, name, T_TXT);
	pkt_soa(&p, "example.org", 300, 60);
	assert_status(&p, name, DNS_TYPE_TXT, DNS_NXDOMAIN);
}

static void test_txt_string_longer_than_its_record_is_badanswer(void **state)
{
	const char *name = "_mta-sts.example.org";
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, name, T_TXT);
	pkt_rr_begin(&p, name, T_TXT, 60);
	pkt_u8(&p, 9);		/* says 9 octets, has 7 */
	for (const char *c = "v=STSv1"; *c != '\0'; c++)
		pkt_u8(&p, (unsigned char)*c);
	pkt_rr_end(&p);
	assert_status(&p, name, DNS_TYPE_TXT, DNS_BADANSWER);
}

/* The AD bit of the header (RFC 4035 3.2.3) is kept, for every status. */
static void test_ad_bit_is_kept_as_authenticated(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "mx.example.org");
	a = pkt_parse(&p, "example.org", DNS_TYPE_MX);
	assert_false(a->authenticated);
	dns_answer_free(&a);

	p.buf[3] |= 0x20;
	a = pkt_parse(&p, "example.org", DNS_TYPE_MX);
	assert_int_equal(a->status, DNS_OK);
	assert_true(a->authenticated);
	dns_answer_free(&a);

	pkt_begin(&p, RC_NXDOMAIN, "example.org", T_MX);
	pkt_soa(&p, "example.org", 300, 60);
	p.buf[3] |= 0x20;
	a = pkt_parse(&p, "example.org", DNS_TYPE_MX);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	assert_true(a->authenticated);
	dns_answer_free(&a);
}

static void test_ttl_with_top_bit_set_reads_as_zero(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "mx.example.org", T_A);
	pkt_a(&p, "mx.example.org", 0x80000000u, "192.0.2.1");
	a = parse_answer(&p, "mx.example.org", DNS_TYPE_A, DNS_OK, 1, 0);
	dns_answer_free(&a);
}

/* --- negative answers and failures ------------------------------------------- */

static void test_nxdomain_takes_negative_ttl_from_soa(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NXDOMAIN, "nope.example.org", T_MX);
	pkt_soa_authority(&p, "example.org", 3600, 300);
	a = parse_answer(&p, "nope.example.org", DNS_TYPE_MX, DNS_NXDOMAIN, 0, 300);
	assert_cname(a, NULL, false);
	dns_answer_free(&a);

	/* the SOA's own TTL when it is the smaller */
	pkt_begin(&p, RC_NXDOMAIN, "nope.example.org", T_MX);
	pkt_soa_authority(&p, "example.org", 120, 900);
	a = parse_answer(&p, "nope.example.org", DNS_TYPE_MX, DNS_NXDOMAIN, 0, 120);
	dns_answer_free(&a);
}

static void test_nodata_takes_negative_ttl_from_soa(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "aonly.example.org", T_MX);
	pkt_soa_authority(&p, "example.org", 3600, 240);
	a = parse_answer(&p, "aonly.example.org", DNS_TYPE_MX, DNS_NODATA, 0, 240);
	dns_answer_free(&a);
}

static void test_nodata_without_soa_gets_default_ttl(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "aonly.example.org", T_MX);
	a = parse_answer(&p, "aonly.example.org", DNS_TYPE_MX, DNS_NODATA, 0, 60);
	dns_answer_free(&a);

	/* an SOA of a zone that does not hold the name does not count */
	pkt_begin(&p, RC_NOERROR, "aonly.example.org", T_MX);
	pkt_soa_authority(&p, "elsewhere.test", 3600, 7);
	a = parse_answer(&p, "aonly.example.org", DNS_TYPE_MX, DNS_NODATA, 0, 60);
	dns_answer_free(&a);
}

static void test_referral_is_badanswer_not_nodata(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	p.buf[3] &= 0x7f;		/* RA clear: not a recursive server */
	p.section = SEC_NS;
	pkt_rr_begin(&p, "example.org", T_NS, 3600);
	pkt_name(&p, "ns1.example.org");
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	/* with the zone's SOA beside the NS records it is NODATA after all */
	pkt_soa(&p, "example.org", 3600, 300);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_NODATA);
}

static void test_malformed_soa_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NXDOMAIN, "nope.example.org", T_MX);
	p.section = SEC_NS;
	pkt_rr_begin(&p, "example.org", T_SOA, 60);
	pkt_name(&p, "ns.example.org");
	pkt_name(&p, "hostmaster.example.org");
	pkt_u32(&p, 1);
	pkt_rr_end(&p);
	assert_status(&p, "nope.example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_rcodes_map_to_statuses(void **state)
{
	static const struct {
		unsigned rcode;
		enum dns_status status;
	} cases[] = {
		{ RC_SERVFAIL, DNS_SERVFAIL },
		{ RC_REFUSED, DNS_REFUSED },
		{ RC_FORMERR, DNS_BADANSWER },
		{ RC_NOTIMP, DNS_BADANSWER },
		{ 9, DNS_BADANSWER },
	};
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < MX_ARRAY_LEN(cases); i++) {
		pkt_begin(&p, cases[i].rcode, "example.org", T_MX);
		assert_status(&p, "example.org", DNS_TYPE_MX, cases[i].status);
	}
}

static void test_records_with_nxdomain_are_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NXDOMAIN, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "mx.example.org");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_header_must_be_a_complete_query_response(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, "mx.example.org");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_OK);
	p.buf[2] &= 0x7f;		/* QR clear: a query, not a response */
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
	p.buf[2] |= 0x80 | 0x10;	/* OPCODE 2 (STATUS) */
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
	p.buf[2] = 0x80 | 0x02;		/* TC: the sections were cut */
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_empty_or_missing_message_is_badanswer(void **state)
{
	struct dns_answer *a;

	(void)state;
	a = dnsmsg_parse(NULL, 0, "example.org", DNS_TYPE_MX);
	assert_int_equal(a->status, DNS_BADANSWER);
	dns_answer_free(&a);
	a = dnsmsg_parse((const unsigned char *)"", 0, "example.org", DNS_TYPE_A);
	assert_int_equal(a->status, DNS_BADANSWER);
	dns_answer_free(&a);
}

/* --- the question ------------------------------------------------------------- */

static void test_wrong_question_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "other.example.org", T_MX);
	pkt_mx(&p, "other.example.org", 60, 10, "mx.example.org");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "example.org", T_A);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	p.buf[p.len - 1] = C_CH;
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	p.buf[5] = 0;			/* no question at all */
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	p.buf[5] = 2;			/* two questions */
	pkt_name(&p, "example.org");
	pkt_u16(&p, T_MX);
	pkt_u16(&p, C_IN);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_question_matches_case_insensitively(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "eXaMpLe.OrG", T_MX);
	pkt_mx(&p, "EXAMPLE.org", 60, 10, "mx.example.org");
	assert_status(&p, "Example.Org.", DNS_TYPE_MX, DNS_OK);
}

/* --- CNAME ---------------------------------------------------------------------- */

static void test_cname_chain_in_answer_is_followed(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "www.example.org", T_A);
	pkt_cname(&p, "www.example.org", 50, "web.example.org");
	pkt_cname(&p, "web.example.org", 500, "Host.Example.NET");
	pkt_a(&p, "host.example.net", 100, "192.0.2.80");
	pkt_a(&p, "web.example.org", 100, "192.0.2.99");	/* not at the end of the chain */
	a = parse_answer(&p, "www.example.org", DNS_TYPE_A, DNS_OK, 1, 50);
	assert_cname(a, "host.example.net", false);
	assert_addr(a, 0, "192.0.2.80");
	dns_answer_free(&a);
}

static void test_cname_records_out_of_order_are_followed(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "alias.example.org", T_MX);
	pkt_mx(&p, "real.example.org", 600, 10, "mx.example.org");
	pkt_cname(&p, "mid.example.org", 600, "real.example.org");
	pkt_cname(&p, "alias.example.org", 600, "mid.example.org");
	a = parse_answer(&p, "alias.example.org", DNS_TYPE_MX, DNS_OK, 1, 600);
	assert_cname(a, "real.example.org", false);
	assert_mx(a, 0, 10, "mx.example.org");
	dns_answer_free(&a);
}

static void test_cname_without_target_records_is_pending(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "alias.example.org", T_MX);
	pkt_cname(&p, "alias.example.org", 77, "target.example.net");
	a = parse_answer(&p, "alias.example.org", DNS_TYPE_MX, DNS_OK, 0, 77);
	assert_cname(a, "target.example.net", true);
	dns_answer_free(&a);
}

static void test_cname_to_nodata_with_soa_is_nodata(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "alias.example.org", T_MX);
	pkt_cname(&p, "alias.example.org", 900, "target.example.net");
	pkt_soa_authority(&p, "example.net", 3600, 300);
	a = parse_answer(&p, "alias.example.org", DNS_TYPE_MX, DNS_NODATA, 0, 300);
	assert_cname(a, "target.example.net", false);
	dns_answer_free(&a);

	/* an SOA of the alias's zone says nothing about the target */
	pkt_begin(&p, RC_NOERROR, "alias.example.org", T_MX);
	pkt_cname(&p, "alias.example.org", 900, "target.example.net");
	pkt_soa_authority(&p, "example.org", 3600, 300);
	pkt_rr_begin(&p, "example.org", T_NS, 3600);
	pkt_name(&p, "ns1.example.org");
	pkt_rr_end(&p);
	a = parse_answer(&p, "alias.example.org", DNS_TYPE_MX, DNS_OK, 0, 900);
	assert_cname(a, "target.example.net", true);
	dns_answer_free(&a);
}

static void test_cname_to_nxdomain_is_nxdomain_with_cname(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NXDOMAIN, "alias.example.org", T_A);
	pkt_cname(&p, "alias.example.org", 30, "gone.example.net");
	pkt_soa_authority(&p, "example.net", 3600, 300);
	a = parse_answer(&p, "alias.example.org", DNS_TYPE_A, DNS_NXDOMAIN, 0, 30);
	assert_cname(a, "gone.example.net", false);
	dns_answer_free(&a);
}

static void test_cname_loop_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "a.example.org", T_MX);
	pkt_cname(&p, "a.example.org", 60, "b.example.org");
	pkt_cname(&p, "b.example.org", 60, "A.example.org");
	assert_status(&p, "a.example.org", DNS_TYPE_MX, DNS_BADANSWER);

	pkt_begin(&p, RC_NOERROR, "a.example.org", T_MX);
	pkt_cname(&p, "a.example.org", 60, "a.example.org");
	assert_status(&p, "a.example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_cname_chain_longer_than_depth_is_badanswer(void **state)
{
	struct pkt p;
	char owner[32], target[32];

	(void)state;
	for (unsigned depth = DNS_CNAME_DEPTH; depth <= DNS_CNAME_DEPTH + 1; depth++) {
		pkt_begin(&p, RC_NOERROR, "c0.example.org", T_A);
		for (unsigned i = 0; i < depth; i++) {
			snprintf(owner, sizeof(owner), "c%u.example.org", i);
			snprintf(target, sizeof(target), "c%u.example.org", i + 1);
			pkt_cname(&p, owner, 60, target);
		}
		pkt_a(&p, target, 60, "192.0.2.1");
		assert_status(&p, "c0.example.org", DNS_TYPE_A,
			      depth <= DNS_CNAME_DEPTH ? DNS_OK : DNS_BADANSWER);
	}
}

static void test_cname_target_not_a_host_name_or_root_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "a.example.org", T_A);
	pkt_cname(&p, "a.example.org", 60, "b*c.example.org");
	assert_status(&p, "a.example.org", DNS_TYPE_A, DNS_BADANSWER);

	/* found by fuzz_dnsmsg: an alias of the root is nothing to ask for */
	pkt_begin(&p, RC_NOERROR, "a.example.org", T_A);
	pkt_cname(&p, "a.example.org", 60, ".");
	assert_status(&p, "a.example.org", DNS_TYPE_A, DNS_BADANSWER);
}

/* --- names and pointers --------------------------------------------------------- */

static void test_pointer_to_itself_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_count(&p);
	pkt_pointer(&p, p.len);
	pkt_u16(&p, T_MX);
	pkt_u16(&p, C_IN);
	pkt_u32(&p, 60);
	pkt_u16(&p, 3);
	pkt_u16(&p, 10);
	pkt_u8(&p, 0);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_compression_loop_is_badanswer(void **state)
{
	struct pkt p;
	size_t first;

	(void)state;
	/*
	 * Two pointers that point at each other: one inside a TXT record, one
	 * the MX exchange. Only a forward jump can close a cycle.
	 */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_TXT, 60);
	first = p.len;
	pkt_u16(&p, 0);			/* patched below: pointer to the exchange */
	pkt_rr_end(&p);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	p.buf[first] = (unsigned char)(0xc0 | p.len >> 8);
	p.buf[first + 1] = (unsigned char)p.len;
	pkt_pointer(&p, first);
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	/* a backward pointer to labels that run into the same pointer again */
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_count(&p);
	first = p.len;
	pkt_u8(&p, 1);
	pkt_u8(&p, 'x');
	pkt_pointer(&p, first);
	pkt_u16(&p, T_MX);
	pkt_u16(&p, C_IN);
	pkt_u32(&p, 60);
	pkt_u16(&p, 3);
	pkt_u16(&p, 10);
	pkt_u8(&p, 0);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_forward_pointer_is_badanswer(void **state)
{
	struct pkt p;
	size_t rdata;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	rdata = p.len;
	pkt_pointer(&p, rdata + 2);	/* points at the name just after it */
	pkt_rr_end(&p);
	p.section = SEC_AR;
	pkt_a(&p, "mx.example.org", 60, "192.0.2.1");
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_pointer_past_the_end_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	pkt_pointer(&p, 0x3fff);
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_label_of_64_octets_is_badanswer(void **state)
{
	struct pkt p;
	char host[80];

	(void)state;
	memset(host, 'a', 64);
	strcpy(host + 64, ".example.org");
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, host);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);

	host[63] = '.';			/* 63 octets, then ".example.org" */
	host[64] = '\0';
	strcat(host, "x.example.org");
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, host);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_OK);
}

static void test_name_over_253_octets_is_badanswer(void **state)
{
	struct pkt p;
	struct dns_answer *a;
	char host[300];

	(void)state;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253: the longest name there is */
	memset(host, 'a', sizeof(host));
	host[63] = host[127] = host[191] = '.';
	host[253] = '\0';
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, host);
	a = parse_answer(&p, "example.org", DNS_TYPE_MX, DNS_OK, 1, 60);
	assert_int_equal(strlen(a->rr.mx[0].host), 253);
	dns_answer_free(&a);

	host[253] = 'a';		/* 254 */
	host[254] = '\0';
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_mx(&p, "example.org", 60, 10, host);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

static void test_extended_label_type_is_badanswer(void **state)
{
	struct pkt p;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "example.org", T_MX);
	pkt_rr_begin(&p, "example.org", T_MX, 60);
	pkt_u16(&p, 10);
	pkt_u8(&p, 0x81);		/* 10xxxxxx: reserved */
	pkt_u8(&p, 'x');
	pkt_u8(&p, 0);
	pkt_rr_end(&p);
	assert_status(&p, "example.org", DNS_TYPE_MX, DNS_BADANSWER);
}

/* --- truncation -------------------------------------------------------------- */

static void test_every_prefix_of_a_message_is_badanswer(void **state)
{
	struct pkt p;
	struct dns_answer *a;

	(void)state;
	pkt_begin(&p, RC_NOERROR, "alias.example.org", T_MX);
	pkt_cname(&p, "alias.example.org", 60, "example.org");
	pkt_mx(&p, "example.org", 60, 10, "mx1.example.org");
	pkt_mx(&p, "example.org", 60, 20, "mx2.example.org");
	pkt_soa_authority(&p, "example.org", 60, 60);
	p.section = SEC_AR;
	pkt_a(&p, "mx1.example.org", 60, "192.0.2.1");
	assert_status(&p, "alias.example.org", DNS_TYPE_MX, DNS_OK);
	for (size_t len = 0; len < p.len; len++) {
		/* an exact-size heap copy, so SANITIZE=1 sees any read past it */
		unsigned char *copy = malloc(len > 0 ? len : 1);

		assert_non_null(copy);
		memcpy(copy, p.buf, len);
		a = dnsmsg_parse(copy, len, "alias.example.org", DNS_TYPE_MX);
		if (a->status != DNS_BADANSWER)
			fail_msg("prefix of %zu octets of %zu gave %s", len, p.len,
				 dns_status_name(a->status));
		dns_answer_free(&a);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_sorted_answer_keeps_order_and_min_ttl),
		cmocka_unit_test(test_mx_unsorted_answer_is_sorted_stably_by_pref),
		cmocka_unit_test(test_mx_names_are_lowercased_and_decompressed),
		cmocka_unit_test(test_mx_null_mx_has_empty_host),
		cmocka_unit_test(test_mx_thousand_records_keep_best_64),
		cmocka_unit_test(test_mx_equal_prefs_over_cap_keep_first_seen),
		cmocka_unit_test(test_mx_with_bad_rdata_is_badanswer),
		cmocka_unit_test(test_mx_exchange_not_a_host_name_is_skipped),
		cmocka_unit_test(test_a_records_keep_dns_order),
		cmocka_unit_test(test_aaaa_records_are_parsed),
		cmocka_unit_test(test_a_more_than_cap_keeps_first_32),
		cmocka_unit_test(test_address_with_wrong_rdlength_is_badanswer),
		cmocka_unit_test(test_wrong_types_classes_and_owners_are_ignored),
		cmocka_unit_test(test_ttl_with_top_bit_set_reads_as_zero),
		cmocka_unit_test(test_nxdomain_takes_negative_ttl_from_soa),
		cmocka_unit_test(test_nodata_takes_negative_ttl_from_soa),
		cmocka_unit_test(test_nodata_without_soa_gets_default_ttl),
		cmocka_unit_test(test_referral_is_badanswer_not_nodata),
		cmocka_unit_test(test_malformed_soa_is_badanswer),
		cmocka_unit_test(test_rcodes_map_to_statuses),
		cmocka_unit_test(test_txt_counts_mta_sts_records_only),
		cmocka_unit_test(test_txt_string_longer_than_its_record_is_badanswer),
		cmocka_unit_test(test_ad_bit_is_kept_as_authenticated),
		cmocka_unit_test(test_records_with_nxdomain_are_badanswer),
		cmocka_unit_test(test_header_must_be_a_complete_query_response),
		cmocka_unit_test(test_empty_or_missing_message_is_badanswer),
		cmocka_unit_test(test_wrong_question_is_badanswer),
		cmocka_unit_test(test_question_matches_case_insensitively),
		cmocka_unit_test(test_cname_chain_in_answer_is_followed),
		cmocka_unit_test(test_cname_records_out_of_order_are_followed),
		cmocka_unit_test(test_cname_without_target_records_is_pending),
		cmocka_unit_test(test_cname_to_nodata_with_soa_is_nodata),
		cmocka_unit_test(test_cname_to_nxdomain_is_nxdomain_with_cname),
		cmocka_unit_test(test_cname_loop_is_badanswer),
		cmocka_unit_test(test_cname_chain_longer_than_depth_is_badanswer),
		cmocka_unit_test(test_cname_target_not_a_host_name_or_root_is_badanswer),
		cmocka_unit_test(test_pointer_to_itself_is_badanswer),
		cmocka_unit_test(test_compression_loop_is_badanswer),
		cmocka_unit_test(test_forward_pointer_is_badanswer),
		cmocka_unit_test(test_pointer_past_the_end_is_badanswer),
		cmocka_unit_test(test_label_of_64_octets_is_badanswer),
		cmocka_unit_test(test_name_over_253_octets_is_badanswer),
		cmocka_unit_test(test_extended_label_type_is_badanswer),
		cmocka_unit_test(test_every_prefix_of_a_message_is_badanswer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
