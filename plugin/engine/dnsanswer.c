/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsanswer.c - build, copy, measure and free DNS answers
 *
 * A struct dns_answer lives in one allocation: the header, then the record
 * array, then every string it points to (MX targets, the CNAME target).
 * One malloc, one free, no pointer into foreign memory, and an exact byte
 * count for the cache's accounting. Parsing wire data is dnsmsg.c's job.
 */
#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/engine/dns.h"

/* The most records answer->n (8 bits) holds. */
#define DNS_ANSWER_N_MAX 255u

static_assert(DNS_MX_MAX <= DNS_ANSWER_N_MAX && DNS_ADDR_MAX <= DNS_ANSWER_N_MAX,
	      "answer->n is too narrow for the caps");
static_assert(sizeof(struct dns_answer) <= 24 || sizeof(void *) > 8,
	      "struct dns_answer grew: the cache holds hundreds of thousands");
/* dns_answer_head_size (dns.h) counts on the records right after the header. */
static_assert(sizeof(struct dns_answer) % alignof(struct dns_mx) == 0 &&
		      sizeof(struct dns_answer) % alignof(struct mx_addr) == 0,
	      "records would not start right after the answer's header");

struct answer_layout {
	size_t records;		/* offset of the record array */
	size_t strings;		/* offset of the string area */
	size_t total;		/* bytes of the whole allocation */
};

static size_t size_add(size_t a, size_t b);
static size_t size_align(size_t n, size_t alignment);
static size_t answer_record_size(enum dns_type type);
static size_t answer_record_align(enum dns_type type);
static void answer_plan(enum dns_type type, size_t n, const struct dns_mx *mx,
			const char *cname, struct answer_layout *out);
static struct dns_answer *answer_build(enum dns_type type, enum dns_status status,
				       uint32_t ttl, const void *records, size_t n,
				       const char *cname);
static char *answer_put_string(char **cursor, const char *s);

static const char *const type_names[] = {
	[DNS_TYPE_MX] = "MX",
	[DNS_TYPE_A] = "A",
	[DNS_TYPE_AAAA] = "AAAA",
	[DNS_TYPE_TXT] = "TXT",
};

static const char *const status_names[] = {
	[DNS_OK] = "ok",
	[DNS_NODATA] = "nodata",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_SERVFAIL] = "servfail",
	[DNS_REFUSED] = "refused",
	[DNS_TIMEOUT] = "timeout",
	[DNS_BADANSWER] = "badanswer",
};

const char *dns_type_name(enum dns_type type)
{
	if ((size_t)type >= MX_ARRAY_LEN(type_names))
		return "?";
	return type_names[type];
}

const char *dns_status_name(enum dns_status status)
{
	if ((size_t)status >= MX_ARRAY_LEN(status_names))
		return "?";
	return status_names[status];
}

bool dns_status_is_temporary(enum dns_status status)
{
	switch (status) {
	case DNS_SERVFAIL:
	case DNS_REFUSED:
	case DNS_TIMEOUT:
	case DNS_BADANSWER:
		return true;
	case DNS_OK:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		break;
	}
	return false;
}

struct dns_answer *dns_answer_new_status(enum dns_type type, enum dns_status status,
					 uint32_t ttl)
{
	return answer_build(type, status, ttl, NULL, 0, NULL);
}

struct dns_answer *dns_answer_new_mx(const struct dns_mx *mx, size_t n, uint32_t ttl,
				     const char *cname)
{
	return answer_build(DNS_TYPE_MX, DNS_OK, ttl, mx, n, cname);
}

struct dns_answer *dns_answer_new_addr(enum dns_type type, const struct mx_addr *addr,
				       size_t n, uint32_t ttl, const char *cname)
{
	return answer_build(type, DNS_OK, ttl, addr, n, cname);
}

struct dns_answer *dns_answer_copy(const struct dns_answer *answer)
{
	struct dns_answer *copy;
	const void *records;

	if (answer == NULL)
		return NULL;
	records = answer->type == DNS_TYPE_MX ? (const void *)answer->rr.mx
					      : (const void *)answer->rr.addr;
	copy = answer_build(answer->type, answer->status, answer->ttl, records, answer->n,
			    answer->cname);
	copy->cname_pending = answer->cname_pending;
	copy->truncated = answer->truncated;
	copy->authenticated = answer->authenticated;
	return copy;
}

void dns_answer_free(struct dns_answer **answer)
{
	if (answer == NULL)
		return;
	free(*answer);
	*answer = NULL;
}

size_t dns_answer_size(const struct dns_answer *answer)
{
	struct answer_layout layout;

	if (answer == NULL)
		return 0;
	answer_plan(answer->type, answer->n, answer->type == DNS_TYPE_MX ? answer->rr.mx : NULL,
		    answer->cname, &layout);
	return layout.total;
}

/* Overflow-checked size arithmetic: a wrap here would be a heap overflow. */
static size_t size_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		fatal("dns answer size overflows (%zu + %zu)", a, b);
	return a + b;
}

static size_t size_align(size_t n, size_t alignment)
{
	return size_add(n, alignment - 1) & ~(alignment - 1);
}

static size_t answer_record_size(enum dns_type type)
{
	return type == DNS_TYPE_MX ? sizeof(struct dns_mx) : sizeof(struct mx_addr);
}

static size_t answer_record_align(enum dns_type type)
{
	return type == DNS_TYPE_MX ? alignof(struct dns_mx) : alignof(struct mx_addr);
}

/* Where everything goes; the same plan serves building and measuring. */
static void answer_plan(enum dns_type type, size_t n, const struct dns_mx *mx,
			const char *cname, struct answer_layout *out)
{
	size_t record_size = answer_record_size(type);
	size_t total;

	/* Callers cap at DNS_MX_MAX / DNS_ADDR_MAX; n must fit answer->n. */
	if (n > DNS_ANSWER_N_MAX || (n != 0 && n > SIZE_MAX / record_size))
		fatal("dns answer with %zu records is too large", n);
	out->records = size_align(sizeof(struct dns_answer), answer_record_align(type));
	out->strings = size_add(out->records, n * record_size);
	total = out->strings;
	for (size_t i = 0; mx != NULL && i < n; i++)
		total = size_add(total, strlen(mx[i].host != NULL ? mx[i].host : "") + 1);
	if (cname != NULL)
		total = size_add(total, strlen(cname) + 1);
	out->total = total;
}

static struct dns_answer *answer_build(enum dns_type type, enum dns_status status,
				       uint32_t ttl, const void *records, size_t n,
				       const char *cname)
{
	const struct dns_mx *mx = type == DNS_TYPE_MX ? records : NULL;
	struct answer_layout layout;
	struct dns_answer *answer;
	char *base, *cursor;

	if (records == NULL)
		n = 0;
	answer_plan(type, n, mx, cname, &layout);
	base = xmalloc(layout.total);
	answer = (struct dns_answer *)(void *)base;
	memset(answer, 0, sizeof(*answer));
	answer->type = type;
	answer->status = status;
	answer->ttl = ttl;
	answer->n = (unsigned)n;
	cursor = base + layout.strings;
	if (type == DNS_TYPE_MX) {
		answer->rr.mx = (struct dns_mx *)(void *)(base + layout.records);
		for (size_t i = 0; i < n; i++) {
			answer->rr.mx[i].pref = mx[i].pref;
			answer->rr.mx[i].host = answer_put_string(
				&cursor, mx[i].host != NULL ? mx[i].host : "");
		}
	} else {
		answer->rr.addr = (struct mx_addr *)(void *)(base + layout.records);
		if (n != 0)
			memcpy(answer->rr.addr, records, n * sizeof(struct mx_addr));
	}
	if (cname != NULL)
		answer->cname = answer_put_string(&cursor, cname);
	return answer;
}

static char *answer_put_string(char **cursor, const char *s)
{
	size_t len = strlen(s) + 1;
	char *at = *cursor;

	memcpy(at, s, len);
	*cursor += len;
	return at;
}
