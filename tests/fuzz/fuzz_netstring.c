/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_netstring.c - libFuzzer harness for the socketmap netstring codec
 *
 * Input: two control bytes, then the byte stream a client would send.
 *   byte 0  payload limit: its value mod 8 picks one of limits[] ('0' is
 *           Postfix's 10,000), its bits 3-4 the output buffer's size;
 *   byte 1  how the stream is cut into reads: mod 4 picks one byte at a
 *           time, 1..16, 1..1024 or all the buffer takes; it also seeds
 *           the cutting.
 * So "00" followed by "5:hello," is one request read a byte at a time.
 *
 * The stream goes through struct netstring_in in those reads, the way the
 * socketmap server reads a connection, and the harness checks what the
 * contract promises, aborting on any difference:
 *   - the payloads and the final status (more or error) are those of
 *     netstring_parse() run over the whole stream at once, whatever the
 *     cutting: partial reads and pipelined requests come out the same;
 *   - each payload is NUL-terminated in place; the buffer never grows past
 *     one whole netstring of limit bytes, and a full buffer always decodes;
 *   - every payload re-encoded through struct netstring_out, drained in
 *     random writes, gives back exactly the bytes that were consumed (a
 *     valid netstring has one spelling: no leading zeros), and the output
 *     buffer never holds more than its max.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxpath/doors/netstring.h"

#define CONTROL_BYTES 2

struct cutter {
	uint32_t state;		/* xorshift32, never 0 */
	unsigned mode;		/* 0: 1 byte, 1: 1..16, 2: 1..1024, 3: all */
};

/* The whole-stream reference: where each netstring's payload is. */
struct frame {
	size_t off, len;
};

struct reference {
	struct frame *frames;
	size_t n_frames;
	size_t consumed;	/* bytes of the whole netstrings */
	enum netstring_status end;	/* NETSTRING_MORE or NETSTRING_ERROR */
};

/* The re-encoding side and what it has written so far. */
struct echo {
	struct netstring_out out;
	char *wire;
	size_t wire_len, wire_size;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok, const char *what);
static uint32_t cutter_next(struct cutter *c);
static size_t cutter_pick(struct cutter *c, size_t room);
static void reference_decode(const char *stream, size_t n, size_t limit, struct reference *ref);
static void stream_feed(const char *stream, size_t n, size_t limit, struct cutter *cut,
			const struct reference *ref, struct echo *echo);
static void frame_check(const char *stream, const struct reference *ref, size_t k,
			const char *payload, size_t len);
static void echo_put(struct echo *echo, struct cutter *cut, const char *payload, size_t len);
static void echo_drain(struct echo *echo, size_t max);

static const size_t limits[8] = { NETSTRING_QUERY_MAX, 0, 1, 9, 10, 100, 511, 1000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reference ref = { 0 };
	struct echo echo = { 0 };
	struct cutter cut;
	const char *stream;
	size_t n, limit, frame;

	if (size < CONTROL_BYTES)
		return 0;
	limit = limits[data[0] % 8];
	cut.mode = data[1] % 4;
	cut.state = 0x9e3779b9u ^ data[1];
	stream = (const char *)data + CONTROL_BYTES;
	n = size - CONTROL_BYTES;

	reference_decode(stream, n, limit, &ref);
	frame = netstring_frame_size(limit);
	netstring_out_init(&echo.out, limit, frame * ((data[0] >> 3) % 4));
	require(echo.out.max >= frame, "output max below one whole reply");
	echo.wire_size = n > 0 ? n : 1;
	echo.wire = malloc(echo.wire_size);
	require(echo.wire != NULL, "malloc");

	stream_feed(stream, n, limit, &cut, &ref, &echo);

	echo_drain(&echo, SIZE_MAX);
	require(echo.wire_len == ref.consumed, "re-encoded length differs from consumed bytes");
	require(memcmp(echo.wire, stream, ref.consumed) == 0,
		"re-encoded bytes differ from the input");
	netstring_out_release(&echo.out);
	require(echo.out.buf == NULL && echo.out.tail == 0, "netstring_out_release leaves state");
	free(echo.wire);
	free(ref.frames);
	return 0;
}

static void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_netstring: %s\n", what);
	abort();
}

static uint32_t cutter_next(struct cutter *c)
{
	uint32_t x = c->state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->state = x != 0 ? x : 1;
	return c->state;
}

/* How many bytes the next read (or write) moves, 1..room. */
static size_t cutter_pick(struct cutter *c, size_t room)
{
	size_t want;

	switch (c->mode) {
	case 0:
		want = 1;
		break;
	case 1:
		want = 1 + cutter_next(c) % 16;
		break;
	case 2:
		want = 1 + cutter_next(c) % 1024;
		break;
	default:
		want = room;
		break;
	}
	return want < room ? want : room;
}

static void reference_decode(const char *stream, size_t n, size_t limit, struct reference *ref)
{
	size_t pos = 0, off, len, cap = 0;
	const char *why = NULL;
	enum netstring_status st;

	for (;;) {
		st = netstring_parse(stream + pos, n - pos, limit, &off, &len, &why);
		if (st != NETSTRING_OK)
			break;
		require(len <= limit, "netstring_parse: payload over the limit");
		require(off + len + 1 <= n - pos, "netstring_parse: frame past the data");
		require(stream[pos + off + len] == ',', "netstring_parse: no ',' after payload");
		if (ref->n_frames == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ref->frames = realloc(ref->frames, cap * sizeof(*ref->frames));
			require(ref->frames != NULL, "realloc");
		}
		ref->frames[ref->n_frames].off = pos + off;
		ref->frames[ref->n_frames].len = len;
		ref->n_frames++;
		pos += off + len + 1;
	}
	if (st == NETSTRING_ERROR)
		require(why != NULL && why[0] != '\0', "netstring_parse: error without a reason");
	ref->consumed = pos;
	ref->end = st;
}

/* Reads the stream in cuts, decoding after each read, as the server does. */
static void stream_feed(const char *stream, size_t n, size_t limit, struct cutter *cut,
			const struct reference *ref, struct echo *echo)
{
	struct netstring_in in;
	enum netstring_status st;
	size_t fed = 0, k = 0, len, room, take;
	const char *why;
	char *payload, *space;

	netstring_in_init(&in, limit);
	for (;;) {
		why = NULL;
		while ((st = netstring_in_next(&in, &payload, &len, &why)) == NETSTRING_OK) {
			frame_check(stream, ref, k++, payload, len);
			echo_put(echo, cut, payload, len);
		}
		if (st == NETSTRING_ERROR) {
			require(why != NULL && why[0] != '\0', "error without a reason");
			break;
		}
		if (fed == n)
			break;
		space = netstring_in_space(&in, &room);
		require(in.size <= netstring_frame_size(limit), "input buffer past its cap");
		require(room > 0, "buffer full, yet the decoder wants more");
		take = cutter_pick(cut, room);
		if (take > n - fed)
			take = n - fed;
		memcpy(space, stream + fed, take);
		netstring_in_commit(&in, take);
		fed += take;
	}
	require(k == ref->n_frames, "chunked decoding found a different number of netstrings");
	require(st == ref->end, "chunked decoding ended with a different status");
	if (st == NETSTRING_MORE)
		require(netstring_in_buffered(&in) == n - ref->consumed,
			"buffered bytes differ from the unfinished tail");
	netstring_in_release(&in);
	require(in.buf == NULL && in.size == 0, "netstring_in_release leaves state");
}

static void frame_check(const char *stream, const struct reference *ref, size_t k,
			const char *payload, size_t len)
{
	require(k < ref->n_frames, "chunked decoding found an extra netstring");
	require(len == ref->frames[k].len, "payload length differs from the reference");
	require(memcmp(payload, stream + ref->frames[k].off, len) == 0,
		"payload differs from the reference");
	require(payload[len] == '\0', "payload not NUL-terminated");
}

/* Queues one reply; if it does not fit, writes out what is queued first. */
static void echo_put(struct echo *echo, struct cutter *cut, const char *payload, size_t len)
{
	bool fits = netstring_out_fits(&echo->out, len);
	int rc = netstring_out_put(&echo->out, payload, len);
	size_t pending;

	require(fits == (rc == 0), "netstring_out_fits disagrees with netstring_out_put");
	if (rc != 0) {
		echo_drain(echo, SIZE_MAX);
		require(netstring_out_fits(&echo->out, len), "a reply within limit does not fit");
		rc = netstring_out_put(&echo->out, payload, len);
		require(rc == 0, "netstring_out_put fails on an empty buffer");
	}
	require(echo->out.size <= echo->out.max, "output buffer past its max");
	netstring_out_pending(&echo->out, &pending);
	echo_drain(echo, cutter_pick(cut, pending > 0 ? pending : 1));
}

/* Writes up to max pending bytes to the wire, in one go. */
static void echo_drain(struct echo *echo, size_t max)
{
	size_t pending;
	const char *p = netstring_out_pending(&echo->out, &pending);

	if (pending > max)
		pending = max;
	require(echo->wire_len + pending <= echo->wire_size, "more output than input");
	memcpy(echo->wire + echo->wire_len, p, pending);
	echo->wire_len += pending;
	netstring_out_consume(&echo->out, pending);
}
