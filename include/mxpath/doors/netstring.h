/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netstring.h - netstring framing ("LEN:payload,") for the socketmap door
 *
 * A connection owns one input and one output buffer, allocated once and
 * reused for every request (they grow to their cap, never past it). The
 * decoder keeps no state of its own beyond the buffer: it looks at the
 * bytes it has, so partial reads and several pipelined netstrings in one
 * read come out the same. It refuses early what can never become valid
 * (a non-digit, a leading zero, a length over the limit) instead of
 * waiting for more bytes.
 *
 * See http://cr.yp.to/proto/netstrings.txt and socketmap_table(5).
 */
#ifndef MXPATH_NETSTRING_H
#define MXPATH_NETSTRING_H

#include <stdbool.h>
#include <stddef.h>

/* Postfix's socketmap limits: queries <= 10,000, replies <= 100,000 bytes. */
#define NETSTRING_QUERY_MAX 10000
#define NETSTRING_REPLY_MAX 100000

enum netstring_status {
	NETSTRING_OK,		/* one whole netstring */
	NETSTRING_MORE,		/* valid so far, incomplete */
	NETSTRING_ERROR,	/* malformed or over the limit: give up on the stream */
};

/*
 * Looks at the start of data[0..len): on NETSTRING_OK the payload is
 * data[*payload_off .. *payload_off + *payload_len) and the netstring takes
 * *payload_off + *payload_len + 1 bytes. On NETSTRING_ERROR *why is a
 * static text ("missing ',' terminator", ...). Pure.
 */
enum netstring_status netstring_parse(const char *data, size_t len, size_t limit,
				      size_t *payload_off, size_t *payload_len,
				      const char **why);

/* Bytes of "LEN:" + payload + "," for a payload of len bytes. */
size_t netstring_frame_size(size_t len);

/* The input side of one connection. */
struct netstring_in {
	char *buf;
	size_t size;		/* allocated, <= netstring_frame_size(limit) */
	size_t head;		/* first byte not yet consumed */
	size_t tail;		/* end of the bytes read */
	size_t limit;		/* payload limit */
};

void netstring_in_init(struct netstring_in *in, size_t limit);
void netstring_in_release(struct netstring_in *in);
/*
 * Where the next read() goes and how much it may take (*room). *room is 0
 * when the buffer holds a whole netstring's worth: decode before reading on.
 * May move the buffered bytes: payloads handed out before are invalid.
 */
char *netstring_in_space(struct netstring_in *in, size_t *room);
void netstring_in_commit(struct netstring_in *in, size_t n);
/*
 * The next whole netstring, consumed. Its payload is NUL-terminated in
 * place (over the ',') and stays valid until the next netstring_in_space().
 * The payload may contain NUL bytes of its own: check *len.
 */
enum netstring_status netstring_in_next(struct netstring_in *in, char **payload, size_t *len,
					const char **why);
/* Bytes read but not consumed (the start of a netstring still coming). */
size_t netstring_in_buffered(const struct netstring_in *in);

/* The output side of one connection: replies queued for write(). */
struct netstring_out {
	char *buf;
	size_t size;
	size_t head;		/* first byte not yet written */
	size_t tail;
	size_t limit;		/* payload limit */
	size_t max;		/* most bytes ever buffered */
};

/* Buffers up to max bytes (at least one whole reply of limit bytes). */
void netstring_out_init(struct netstring_out *out, size_t limit, size_t max);
void netstring_out_release(struct netstring_out *out);
/* Appends one netstring; -1 if the payload is over the limit or would
 * not fit in max (nothing is appended). */
int netstring_out_put(struct netstring_out *out, const char *payload, size_t len);
/* Whether a reply of len payload bytes fits now. */
bool netstring_out_fits(const struct netstring_out *out, size_t len);
/* What is waiting to be written, and how much of it went out. */
const char *netstring_out_pending(const struct netstring_out *out, size_t *len);
void netstring_out_consume(struct netstring_out *out, size_t n);

#endif
