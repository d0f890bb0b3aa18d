/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * present.h - text for people: sanitized strings, key=value log lines,
 * host lists
 *
 * What the doors show of a decision, in one place: the socketmap's and the
 * milter's log lines, the milter's replies and trace header, the
 * socketmap's answers. Text from the network goes through
 * present_sanitize() first, so no line break or control byte reaches a
 * log, a reply or a header. No printf on the hot path.
 */
#ifndef MXPATH_PRESENT_H
#define MXPATH_PRESENT_H

#include <stdbool.h>
#include <stddef.h>

#include "mxpath/engine/route.h"

/* present_sanitize() flags; by default only printable ASCII but ' ' stays. */
#define PRESENT_KEEP_SPACE 0x1u		/* ' ' stays */
#define PRESENT_KEEP_8BIT 0x2u		/* bytes 0x80..0xff stay (only controls go) */
#define PRESENT_NO_PERCENT 0x4u		/* '%' goes too (sendmail reads it as a format) */

/*
 * Copies len bytes of src for a log line, a reply or a header: what
 * flags do not keep becomes '?' (a NUL too). At most cap - 1 bytes,
 * NUL-terminated; returns the length written.
 */
size_t present_sanitize(char *dst, size_t cap, const char *src, size_t len, unsigned flags);

#define PRESENT_LINE_MAX 2048	/* key, lists, reason and the fixed fields fit */

/* A log line built by appending; what does not fit is cut. */
struct present_line {
	char buf[PRESENT_LINE_MAX];
	size_t len;
};

void present_line_start(struct present_line *line, const char *text);
void present_line_put(struct present_line *line, const char *text);
void present_line_field(struct present_line *line, const char *name, const char *value);
void present_line_field_uint(struct present_line *line, const char *name,
			     unsigned long long value);
/* " name=\"value\"" */
void present_line_field_quoted(struct present_line *line, const char *name, const char *value);

/* "a.example,b.example" in the route's order, "..." where cut; "-" if none. */
void present_hops(const struct route *route, char *buf, size_t len);
/* "mx1.example:self,mx2.example:worse_than_self", "..." where cut; "-" if none. */
void present_pruned(const struct route *route, char *buf, size_t len);

#endif
