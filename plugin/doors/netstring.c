/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netstring.c - netstring framing ("LEN:payload,") for the socketmap door
 *
 * The decoder is a pure function over the bytes buffered so far; the
 * per-connection buffers around it survive partial reads and pipelined
 * requests, and are allocated once per connection, growing to a fixed cap.
 * Nothing here does I/O: the caller reads into netstring_in_space() and
 * writes out what netstring_out_pending() hands it.
 */
#include <stdlib.h>
#include <string.h>

#include "mxpath/base/common.h"
#include "mxpath/doors/netstring.h"

#define NETSTRING_IN_INITIAL 512
#define NETSTRING_OUT_INITIAL 1024

static size_t decimal_digits(size_t n);
static size_t decimal_put(char *dst, size_t n);
static void in_make_room(struct netstring_in *in);
static void out_make_room(struct netstring_out *out, size_t frame);

enum netstring_status netstring_parse(const char *data, size_t len, size_t limit,
				      size_t *payload_off, size_t *payload_len,
				      const char **why)
{
	size_t value = 0, i;

	for (i = 0; i < len && data[i] >= '0' && data[i] <= '9'; i++) {
		if (i == 1 && data[0] == '0') {
			*why = "length has a leading zero";
			return NETSTRING_ERROR;
		}
		value = value * 10 + (size_t)(data[i] - '0');
		if (value > limit) {
			*why = "length over the limit";
			return NETSTRING_ERROR;
		}
	}
	if (i == len)
		return NETSTRING_MORE;	/* only digits so far (bounded by limit) */
	if (i == 0) {
		*why = "length is not a number";
		return NETSTRING_ERROR;
	}
	if (data[i] != ':') {
		*why = "length not followed by ':'";
		return NETSTRING_ERROR;
	}
	i++;
	if (len - i < value + 1)
		return NETSTRING_MORE;
	if (data[i + value] != ',') {
		*why = "missing ',' terminator";
		return NETSTRING_ERROR;
	}
	*payload_off = i;
	*payload_len = value;
	return NETSTRING_OK;
}

size_t netstring_frame_size(size_t len)
{
	return decimal_digits(len) + 1 + len + 1;
}

static size_t decimal_digits(size_t n)
{
	size_t digits = 1;

	while (n >= 10) {
		n /= 10;
		digits++;
	}
	return digits;
}

/* Writes n in decimal, no NUL; returns the number of bytes. */
static size_t decimal_put(char *dst, size_t n)
{
	size_t digits = decimal_digits(n), i;

	for (i = digits; i > 0; i--) {
		dst[i - 1] = (char)('0' + n % 10);
		n /= 10;
	}
	return digits;
}

void netstring_in_init(struct netstring_in *in, size_t limit)
{
	memset(in, 0, sizeof(*in));
	in->limit = limit;
}

void netstring_in_release(struct netstring_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

char *netstring_in_space(struct netstring_in *in, size_t *room)
{
	if (in->head == in->tail)
		in->head = in->tail = 0;
	if (in->tail == in->size)
		in_make_room(in);
	*room = in->size - in->tail;
	return in->buf + in->tail;
}

/*
 * Full: slide the unconsumed bytes to the front, or else grow toward one
 * whole netstring of limit bytes. Past that the buffer holds a complete
 * (or already invalid) netstring, so the caller must decode, not read.
 */
static void in_make_room(struct netstring_in *in)
{
	size_t max = netstring_frame_size(in->limit), size;

	if (in->head > 0) {
		memmove(in->buf, in->buf + in->head, in->tail - in->head);
		in->tail -= in->head;
		in->head = 0;
		return;
	}
	if (in->size >= max)
		return;
	size = in->size == 0 ? NETSTRING_IN_INITIAL : in->size * 2;
	if (size > max)
		size = max;
	in->buf = xrealloc(in->buf, size);
	in->size = size;
}

void netstring_in_commit(struct netstring_in *in, size_t n)
{
	in->tail += n;
}

enum netstring_status netstring_in_next(struct netstring_in *in, char **payload, size_t *len,
					const char **why)
{
	enum netstring_status status;
	size_t off = 0, plen = 0;
	char *p;

	if (in->head == in->tail)
		return NETSTRING_MORE;
	status = netstring_parse(in->buf + in->head, in->tail - in->head, in->limit, &off, &plen,
				 why);
	if (status != NETSTRING_OK)
		return status;
	p = in->buf + in->head + off;
	p[plen] = '\0';		/* over the ',' */
	in->head += off + plen + 1;
	*payload = p;
	*len = plen;
	return NETSTRING_OK;
}

size_t netstring_in_buffered(const struct netstring_in *in)
{
	return in->tail - in->head;
}

void netstring_out_init(struct netstring_out *out, size_t limit, size_t max)
{
	memset(out, 0, sizeof(*out));
	out->limit = limit;
	out->max = max < netstring_frame_size(limit) ? netstring_frame_size(limit) : max;
}

void netstring_out_release(struct netstring_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

bool netstring_out_fits(const struct netstring_out *out, size_t len)
{
	return len <= out->limit && out->tail - out->head + netstring_frame_size(len) <= out->max;
}

int netstring_out_put(struct netstring_out *out, const char *payload, size_t len)
{
	size_t frame;
	char *p;

	if (!netstring_out_fits(out, len))
		return -1;
	frame = netstring_frame_size(len);
	if (out->size - out->tail < frame)
		out_make_room(out, frame);
	p = out->buf + out->tail;
	p += decimal_put(p, len);
	*p++ = ':';
	memcpy(p, payload, len);
	p[len] = ',';
	out->tail += frame;
	return 0;
}

/* Makes frame bytes free at the tail; the caller checked it fits in max. */
static void out_make_room(struct netstring_out *out, size_t frame)
{
	size_t need, size;

	if (out->head > 0) {
		memmove(out->buf, out->buf + out->head, out->tail - out->head);
		out->tail -= out->head;
		out->head = 0;
		if (out->size - out->tail >= frame)
			return;
	}
	need = out->tail + frame;
	size = out->size == 0 ? NETSTRING_OUT_INITIAL : out->size;
	while (size < need)
		size *= 2;
	if (size > out->max)
		size = out->max;
	out->buf = xrealloc(out->buf, size);
	out->size = size;
}

const char *netstring_out_pending(const struct netstring_out *out, size_t *len)
{
	*len = out->tail - out->head;
	return *len == 0 ? "" : out->buf + out->head;
}

void netstring_out_consume(struct netstring_out *out, size_t n)
{
	out->head += n;
	if (out->head >= out->tail)
		out->head = out->tail = 0;
}
