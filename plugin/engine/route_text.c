/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * route_text.c - a route explained for people
 *
 *   user@software.com: relay (rule mx, domain software.com)
 *       pref  host                  addresses    via
 *         10  mail.software.com     127.0.0.61   mx
 *         20  fallback.software.com 127.0.0.62   mx
 *     pruned:
 *         90  mail.othercorp.com    worse_than_self
 *     ttl 300 s, cache miss
 *
 * A host with a TLS level gets "tls=LEVEL" after its via; a domain the MTA
 * keeps (tlspolicy.h) gets a line saying so and why.
 *
 * Columns are as wide as their widest cell, so a block reads at a glance.
 * Names come from DNS: control characters are shown as '?'.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mxpath/engine/address.h"
#include "mxpath/engine/route_text.h"

#define ADDRS_TEXT_MAX (ROUTE_ADDRS_MAX * (MX_ADDR_TEXT_MAX + 2))
#define PREF_WIDTH 5

static void text_write_decision(FILE *fp, const char *address, const struct route *route);
static int text_host_width(const struct route *route);
static void text_write_hops(FILE *fp, const struct route *route, int host_width);
static void text_write_pruned(FILE *fp, const struct route *route, int host_width);
static size_t hop_format_addresses(const struct route *route, const struct hop *hop, char *buf,
				   size_t len);
static void text_write_pref(FILE *fp, uint32_t pref);
static void text_write_safe(FILE *fp, const char *s, int width);

int route_text_write(FILE *fp, const char *address, const struct route *route)
{
	int host_width = text_host_width(route);

	text_write_decision(fp, address, route);
	if (route->mta_keeps != TLS_KEEP_NONE)
		fprintf(fp, "    the MTA keeps this domain (%s): the socketmap answers NOTFOUND\n",
			tls_keep_name(route->mta_keeps));
	if (route->n_hops > 0)
		text_write_hops(fp, route, host_width);
	if (route->n_pruned > 0)
		text_write_pruned(fp, route, host_width);
	if (route->cache == CACHE_NONE)
		fputs("    no DNS lookups\n", fp);
	else
		fprintf(fp, "    ttl %u s, cache %s\n", (unsigned)route->ttl,
			cache_state_name(route->cache));
	return ferror(fp) ? -1 : 0;
}

static void text_write_decision(FILE *fp, const char *address, const struct route *route)
{
	text_write_safe(fp, address, 0);
	fprintf(fp, ": %s (rule %s", route_action_name(route->action),
		route_rule_name(route->rule));
	if (route->matched[0] != '\0') {
		fputs(", matched ", fp);
		text_write_safe(fp, route->matched, 0);
	} else if (route->domain[0] != '\0') {
		fputs(", domain ", fp);
		text_write_safe(fp, route->domain, 0);
	}
	fputc(')', fp);
	if (route->action == ROUTE_REJECT || route->action == ROUTE_TEMPFAIL) {
		fprintf(fp, ": %d %s ", route->reply.code, route->reply.status);
		text_write_safe(fp, route->reply.text, 0);
	}
	if (route->self_listed)
		fputs(" [self is an MX]", fp);
	fputc('\n', fp);
}

/* Hops and pruned hosts share the host column, so both tables line up. */
static int text_host_width(const struct route *route)
{
	int width = (int)strlen("host");

	for (unsigned i = 0; i < route->n_hops && i < ROUTE_HOPS_MAX; i++) {
		int w = (int)strlen(route->hops[i].host);

		if (w > width)
			width = w;
	}
	for (unsigned i = 0; i < route->n_pruned && i < ROUTE_PRUNED_MAX; i++) {
		int w = (int)strlen(route->pruned[i].host);

		if (w > width)
			width = w;
	}
	return width;
}

static void text_write_hops(FILE *fp, const struct route *route, int host_width)
{
	char addrs[ADDRS_TEXT_MAX];
	int addr_width = (int)strlen("addresses");
	unsigned n = route->n_hops < ROUTE_HOPS_MAX ? route->n_hops : ROUTE_HOPS_MAX;

	for (unsigned i = 0; i < n; i++) {
		int w = (int)hop_format_addresses(route, &route->hops[i], addrs, sizeof(addrs));

		if (w > addr_width)
			addr_width = w;
	}
	fprintf(fp, "    %*s  %-*s  %-*s  via\n", PREF_WIDTH, "pref", host_width, "host",
		addr_width, "addresses");
	for (unsigned i = 0; i < n; i++) {
		const struct hop *hop = &route->hops[i];

		hop_format_addresses(route, hop, addrs, sizeof(addrs));
		fputs("    ", fp);
		text_write_pref(fp, hop->pref);
		fputs("  ", fp);
		text_write_safe(fp, hop->host, host_width);
		fprintf(fp, "  %-*s  %s", addr_width, addrs, hop_via_name(hop->via));
		if (hop->tls != TLS_LEVEL_NONE)
			fprintf(fp, "  tls=%s", tls_level_name(hop->tls));
		fputc('\n', fp);
	}
}

static void text_write_pruned(FILE *fp, const struct route *route, int host_width)
{
	unsigned n = route->n_pruned < ROUTE_PRUNED_MAX ? route->n_pruned : ROUTE_PRUNED_MAX;

	fputs("  pruned:\n", fp);
	for (unsigned i = 0; i < n; i++) {
		const struct pruned *p = &route->pruned[i];

		fputs("    ", fp);
		text_write_pref(fp, p->pref);
		fputs("  ", fp);
		text_write_safe(fp, p->host, host_width);
		fprintf(fp, "  %s\n", prune_reason_name(p->reason));
	}
}

/* "192.0.2.1, 2001:db8::1", or "-" for none; returns the length. */
static size_t hop_format_addresses(const struct route *route, const struct hop *hop, char *buf,
				   size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned j = 0; j < hop->addr_count; j++) {
		unsigned k = (unsigned)hop->addr_first + j;
		char text[MX_ADDR_TEXT_MAX];
		int w;

		if (k >= route->n_addrs || k >= ROUTE_ADDRS_MAX)
			break;
		w = snprintf(buf + used, len - used, "%s%s", j ? ", " : "",
			     addr_format(&route->addrs[k], text, sizeof(text)));
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	if (used == 0)
		used = (size_t)snprintf(buf, len, "-");
	return used;
}

static void text_write_pref(FILE *fp, uint32_t pref)
{
	if (pref == HOP_PREF_NONE)
		fprintf(fp, "%*s", PREF_WIDTH, "-");
	else
		fprintf(fp, "%*u", PREF_WIDTH, (unsigned)pref);
}

/* s padded to width on the right (0: no padding), control characters as '?'. */
static void text_write_safe(FILE *fp, const char *s, int width)
{
	int n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++, n++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, fp);
	for (; n < width; n++)
		fputc(' ', fp);
}
