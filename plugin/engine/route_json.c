/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_json.c - a route as one line of JSON
 *
 * The machine-readable form of a decision, for `mxpath route --json` and
 * for anything that logs decisions. The field set is fixed (route_json.h);
 * strings come from recipients and DNS, so every one is escaped, and
 * invalid UTF-8 is replaced rather than passed on.
 */
#include <stdint.h>
#include <stdio.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/route_json.h"

static void json_write_reply(FILE *fp, const struct route *route);
static void json_write_hops(FILE *fp, const struct route *route);
static void json_write_pruned(FILE *fp, const struct route *route);
static void json_write_pref(FILE *fp, uint32_t pref);
static size_t utf8_sequence_length(const unsigned char *s);

int route_json_write(FILE *fp, const char *address, const struct route *route)
{
	fputs("{\"address\":", fp);
	json_write_string(fp, address);
	fputs(",\"domain\":", fp);
	json_write_string(fp, route->domain);
	fputs(",\"action\":", fp);
	json_write_string(fp, route_action_name(route->action));
	fputs(",\"rule\":", fp);
	json_write_string(fp, route_rule_name(route->rule));
	fputs(",\"reply\":", fp);
	json_write_reply(fp, route);
	fputs(",\"hops\":", fp);
	json_write_hops(fp, route);
	fputs(",\"pruned\":", fp);
	json_write_pruned(fp, route);
	fprintf(fp, ",\"ttl\":%u,\"cache\":", (unsigned)route->ttl);
	json_write_string(fp, cache_state_name(route->cache));
	if (route->mta_keeps != TLS_KEEP_NONE) {
		fputs(",\"mta_keeps\":", fp);
		json_write_string(fp, tls_keep_name(route->mta_keeps));
	}
	fputs("}\n", fp);
	return ferror(fp) ? -1 : 0;
}

static void json_write_reply(FILE *fp, const struct route *route)
{
	if (route->action != ROUTE_REJECT && route->action != ROUTE_TEMPFAIL) {
		fputs("null", fp);
		return;
	}
	fprintf(fp, "{\"code\":%d,\"status\":", route->reply.code);
	json_write_string(fp, route->reply.status);
	fputs(",\"text\":", fp);
	json_write_string(fp, route->reply.text);
	fputc('}', fp);
}

static void json_write_hops(FILE *fp, const struct route *route)
{
	fputc('[', fp);
	for (unsigned i = 0; i < route->n_hops && i < ROUTE_HOPS_MAX; i++) {
		const struct hop *hop = &route->hops[i];

		fputs(i ? ",{\"host\":" : "{\"host\":", fp);
		json_write_string(fp, hop->host);
		fputs(",\"pref\":", fp);
		json_write_pref(fp, hop->pref);
		fputs(",\"addresses\":[", fp);
		for (unsigned j = 0; j < hop->addr_count; j++) {
			unsigned k = (unsigned)hop->addr_first + j;
			char text[MX_ADDR_TEXT_MAX];

			if (k >= route->n_addrs || k >= ROUTE_ADDRS_MAX)
				break;
			if (j > 0)
				fputc(',', fp);
			json_write_string(fp, addr_format(&route->addrs[k], text, sizeof(text)));
		}
		fputs("],\"via\":", fp);
		json_write_string(fp, hop_via_name(hop->via));
		if (hop->tls != TLS_LEVEL_NONE) {
			fputs(",\"tls\":", fp);
			json_write_string(fp, tls_level_name(hop->tls));
		}
		fputc('}', fp);
	}
	fputc(']', fp);
}

static void json_write_pruned(FILE *fp, const struct route *route)
{
	fputc('[', fp);
	for (unsigned i = 0; i < route->n_pruned && i < ROUTE_PRUNED_MAX; i++) {
		const struct pruned *p = &route->pruned[i];

		fputs(i ? ",{\"host\":" : "{\"host\":", fp);
		json_write_string(fp, p->host);
		fputs(",\"pref\":", fp);
		json_write_pref(fp, p->pref);
		fputs(",\"reason\":", fp);
		json_write_string(fp, prune_reason_name(p->reason));
		fputc('}', fp);
	}
	fputc(']', fp);
}

static void json_write_pref(FILE *fp, uint32_t pref)
{
	if (pref == HOP_PREF_NONE)
		fputs("null", fp);
	else
		fprintf(fp, "%u", (unsigned)pref);
}

void json_write_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', fp);
	while (*p != '\0') {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fputc('\\', fp);
			fputc(*p++, fp);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, fp);
		} else if ((n = utf8_sequence_length(p)) > 0) {
			fwrite(p, 1, n, fp);
			p += n;
		} else {
			fputs("\\ufffd", fp);
			p++;
		}
	}
	fputc('"', fp);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if none. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}
