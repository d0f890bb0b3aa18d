/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * present.c - text for people: sanitized strings, key=value log lines,
 * host lists (see present.h)
 *
 * One log line per decision on the socketmap's hot path: built by copies,
 * not printf. Lists stop at the buffer with "..." rather than overrun.
 */
#include <stdbool.h>
#include <string.h>

#include "mxpath/doors/present.h"

/* A comma-separated list being written into buf. */
struct present_list {
	char *buf;
	size_t cap;
	size_t len;
	bool cut;
};

static void list_start(struct present_list *list, char *buf, size_t cap);
static void list_append(struct present_list *list, const char *item, const char *tag);
static void list_finish(struct present_list *list);
static void list_put(struct present_list *list, const char *text);
static void line_put_uint(struct present_line *line, unsigned long long value);

size_t present_sanitize(char *dst, size_t cap, const char *src, size_t len, unsigned flags)
{
	size_t i, n = 0;

	if (cap == 0)
		return 0;
	for (i = 0; i < len && n < cap - 1; i++) {
		unsigned char c = (unsigned char)src[i];
		bool keep = c >= '!' && c <= '~';

		if (c == ' ')
			keep = (flags & PRESENT_KEEP_SPACE) != 0;
		else if (c >= 0x80)
			keep = (flags & PRESENT_KEEP_8BIT) != 0;
		else if (c == '%')
			keep = (flags & PRESENT_NO_PERCENT) == 0;
		if (keep)
			dst[n++] = src[i];
		else
			dst[n++] = '?';
	}
	dst[n] = '\0';
	return n;
}

/* ---- log lines ---- */

void present_line_start(struct present_line *line, const char *text)
{
	line->len = 0;
	line->buf[0] = '\0';
	present_line_put(line, text);
}

void present_line_put(struct present_line *line, const char *text)
{
	size_t room = sizeof(line->buf) - 1 - line->len;
	size_t n = strlen(text);

	if (n > room)
		n = room;
	memcpy(line->buf + line->len, text, n);
	line->len += n;
	line->buf[line->len] = '\0';
}

static void line_put_uint(struct present_line *line, unsigned long long value)
{
	char digits[24], *p = digits + sizeof(digits) - 1;

	*p = '\0';
	do
		*--p = (char)('0' + value % 10);
	while ((value /= 10) != 0);
	present_line_put(line, p);
}

/* " name=value" */
void present_line_field(struct present_line *line, const char *name, const char *value)
{
	present_line_put(line, " ");
	present_line_put(line, name);
	present_line_put(line, "=");
	present_line_put(line, value);
}

void present_line_field_uint(struct present_line *line, const char *name,
			     unsigned long long value)
{
	present_line_put(line, " ");
	present_line_put(line, name);
	present_line_put(line, "=");
	line_put_uint(line, value);
}

void present_line_field_quoted(struct present_line *line, const char *name, const char *value)
{
	present_line_put(line, " ");
	present_line_put(line, name);
	present_line_put(line, "=\"");
	present_line_put(line, value);
	present_line_put(line, "\"");
}

/* ---- host lists ---- */

void present_hops(const struct route *route, char *buf, size_t len)
{
	struct present_list list;

	list_start(&list, buf, len);
	for (unsigned i = 0; i < route->n_hops && i < ROUTE_HOPS_MAX; i++)
		list_append(&list, route->hops[i].host, NULL);
	list_finish(&list);
}

void present_pruned(const struct route *route, char *buf, size_t len)
{
	struct present_list list;

	list_start(&list, buf, len);
	for (unsigned i = 0; i < route->n_pruned && i < ROUTE_PRUNED_MAX; i++)
		list_append(&list, route->pruned[i].host,
			    prune_reason_name(route->pruned[i].reason));
	list_finish(&list);
}

static void list_start(struct present_list *list, char *buf, size_t cap)
{
	list->buf = buf;
	list->cap = cap;
	list->len = 0;
	list->cut = false;
	buf[0] = '\0';
}

/* Appends ",item:tag" (tag may be NULL) while it fits; "..." marks the cut. */
static void list_append(struct present_list *list, const char *item, const char *tag)
{
	size_t need = (list->len > 0) + strlen(item) + (tag != NULL ? 1 + strlen(tag) : 0);

	if (list->cut || list->len + 4 > list->cap)
		return;
	if (list->len + need + 4 > list->cap) {
		list_put(list, "...");
		list->cut = true;
		return;
	}
	if (list->len > 0)
		list_put(list, ",");
	list_put(list, item);
	if (tag != NULL) {
		list_put(list, ":");
		list_put(list, tag);
	}
}

static void list_finish(struct present_list *list)
{
	if (list->len == 0 && list->cap >= 2)
		list_put(list, "-");
}

/* The callers checked the room. */
static void list_put(struct present_list *list, const char *text)
{
	size_t n = strlen(text);

	memcpy(list->buf + list->len, text, n + 1);
	list->len += n;
}
