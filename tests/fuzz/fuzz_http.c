/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_http.c - libFuzzer harness for the control socket's HTTP reader (http.h)
 *
 * Input: two control bytes, then the bytes a client sends to the control
 * socket ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").
 *   byte 0  bits 0-1 how the bytes arrive: one to 16 at a time, 1..1024
 *           at a time, or all at once; bit 2 whether the client then
 *           closes its side (at_eof on the last call);
 *   byte 1  seeds the cutting.
 * The bytes are fed to http_request_parse() the way control.c reads a
 * connection, on the growing buffer, and the harness checks http.h:
 *   - INCOMPLETE only while no blank line has come, below
 *     HTTP_REQUEST_MAX and before the end; once DONE, every longer
 *     buffer is DONE too; at the end of the stream, never INCOMPLETE;
 *   - the status of every DONE answer is what a reference reading of the
 *     documented grammar says (request line: token method, one space,
 *     origin-form target of visible ASCII, one space, HTTP/1.0 or 1.1;
 *     header lines: token name, colon, visible value; at most
 *     HTTP_HEADERS_MAX; exactly one Host for 1.1, at most one for 1.0;
 *     CRLF or bare LF; bounds give 414 and 431, another version 505);
 *     on 200 the method and the path (the target up to '?') are those
 *     of the request line, NUL-terminated within their arrays;
 *   - writing the request with CRLF where it had bare LF changes nothing
 *     (below HTTP_REQUEST_MAX), and a 200's method and path written as a
 *     minimal HTTP/1.1 request parse back to themselves;
 *   - http_is_request() says true exactly for three or more upper case
 *     letters and a space;
 *   - http_response_head() for the answer's status (and 404, 405, 200)
 *     is a well-formed head: status line with http_reason(), the
 *     Content-Length given, Allow on 405, the blank line at the end,
 *     the length returned; 0 exactly when it does not fit.
 * It aborts with "fuzz_http: what broke" on a broken promise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxpath/doors/http.h"

#define FUZZ_NAME "fuzz_http"
#include "fuzz.h"

#define CONTROL_BYTES 2
#define INPUT_MAX (HTTP_REQUEST_MAX + 2048)
#define SMALL_READS_MAX 2048	/* reads of 1..16 bytes only for requests this short */
#define HEAD_MAX 512

/* One line of the reference reading: [start, start + len), CR LF or LF dropped. */
struct ref_line {
	const char *start;
	size_t len;
};

struct cutter {
	uint32_t state;		/* xorshift32, never 0 */
	unsigned mode;		/* 0: 1..16, 1: 1..1024, 2: all */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stream(const char *buf, size_t len, struct cutter *cut, bool at_eof);
static void check_done(const char *buf, size_t len, bool at_eof, enum http_parse rc,
		       const struct http_request *req);
static int reference_status(const char *buf, size_t len, bool at_eof, char *method,
			    char *path);
static int reference_request_line(const struct ref_line *l, char *method, char *path,
				  bool *is_http11);
static int reference_header(const struct ref_line *l, unsigned *hosts);
static size_t reference_lines(const char *buf, size_t len, struct ref_line *lines, size_t max);
static bool ref_is_token_char(unsigned char c);
static void check_crlf(const char *buf, size_t len);
static void check_rebuilt(const struct http_request *req);
static void check_is_request(const char *buf, size_t len);
static void check_head(int status, size_t body_len, size_t cap);
static size_t cutter_next(struct cutter *cut, size_t room);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cutter cut;
	const char *buf;
	size_t len;

	if (size < CONTROL_BYTES || size > INPUT_MAX)
		return 0;
	buf = (const char *)data + CONTROL_BYTES;
	len = size - CONTROL_BYTES;
	cut.mode = (data[0] & 3) % 3;
	if (cut.mode == 0 && len > SMALL_READS_MAX)
		cut.mode = 1;
	cut.state = 0x9e3779b9u ^ data[1];
	check_stream(buf, len, &cut, (data[0] & 4) != 0);
	check_is_request(buf, len);
	return 0;
}

/* The buffer grows by reads as control.c's does; each call is checked. */
static void check_stream(const char *buf, size_t len, struct cutter *cut, bool at_eof)
{
	struct http_request req;
	enum http_parse rc = HTTP_PARSE_INCOMPLETE;
	size_t have = 0;

	while (have < len) {
		have += cutter_next(cut, len - have);
		rc = http_request_parse(buf, have, false, &req);
		check_done(buf, have, false, rc, &req);
		if (rc == HTTP_PARSE_DONE)
			break;
	}
	/* A door that goes on reading never sees INCOMPLETE again. */
	for (size_t more = have; rc == HTTP_PARSE_DONE && more < len;) {
		more += cutter_next(cut, len - more);
		require(http_request_parse(buf, more, false, &req) == HTTP_PARSE_DONE,
			"INCOMPLETE after DONE on a longer buffer");
	}
	rc = http_request_parse(buf, len, at_eof, &req);
	check_done(buf, len, at_eof, rc, &req);
	if (at_eof)
		require(rc == HTTP_PARSE_DONE, "INCOMPLETE at the end of the stream");
	if (rc == HTTP_PARSE_DONE) {
		check_head(req.status, len, HEAD_MAX);
		check_head(req.status, len, 1 + cut->state % HEAD_MAX);
		check_head(404, 0, HEAD_MAX);
		check_head(405, 1, HEAD_MAX);
		check_head(200, SIZE_MAX, HEAD_MAX);
		check_crlf(buf, len);
		if (req.status == 200)
			check_rebuilt(&req);
	}
}

static void check_done(const char *buf, size_t len, bool at_eof, enum http_parse rc,
		       const struct http_request *req)
{
	char method[HTTP_METHOD_MAX] = "", path[HTTP_TARGET_MAX] = "";
	int status = reference_status(buf, len, at_eof, method, path);

	if (rc == HTTP_PARSE_INCOMPLETE) {
		require(status == 0, "INCOMPLETE where the reference has an answer");
		return;
	}
	require(rc == HTTP_PARSE_DONE, "neither INCOMPLETE nor DONE");
	require(status != 0, "DONE where the reference waits for more");
	require(req->status == status, "status differs from the reference");
	if (status != 200)
		return;
	require(strnlen(req->method, sizeof(req->method)) < sizeof(req->method) &&
			strnlen(req->path, sizeof(req->path)) < sizeof(req->path),
		"method or path not NUL-terminated");
	require(strcmp(req->method, method) == 0, "method is not the request line's");
	require(strcmp(req->path, path) == 0, "path is not the request line's target up to '?'");
}

/* 0 while incomplete, else the status the grammar in http.h gives. */
static int reference_status(const char *buf, size_t len, bool at_eof, char *method,
			    char *path)
{
	static struct ref_line lines[HTTP_REQUEST_MAX + 1];
	const char *end_lf = memmem(buf, len, "\n\n", 2), *end_crlf = memmem(buf, len, "\n\r\n", 3);
	unsigned hosts = 0;
	size_t n;
	bool is_http11 = false;
	int status;

	if (memchr(buf, '\0', len) != NULL)
		return 400;
	if (end_lf == NULL && end_crlf == NULL) {
		if (!at_eof && len < HTTP_REQUEST_MAX)
			return 0;
		if (at_eof)
			return 400;
		return memchr(buf, '\n', len) == NULL ? 414 : 431;
	}
	if (len > HTTP_REQUEST_MAX)
		return 431;
	n = reference_lines(buf, len, lines, sizeof(lines) / sizeof(lines[0]));
	status = reference_request_line(&lines[0], method, path, &is_http11);
	for (size_t i = 1; status == 200 && i < n; i++) {
		status = reference_header(&lines[i], &hosts);
		if (status == 200 && i > HTTP_HEADERS_MAX)
			status = 431;
	}
	if (status == 200 && (hosts > 1 || (is_http11 && hosts == 0)))
		status = 400;
	return status;
}

/* The lines before the first empty one (the request line is lines[0], maybe empty). */
static size_t reference_lines(const char *buf, size_t len, struct ref_line *lines, size_t max)
{
	size_t n = 0, pos = 0;

	while (pos < len && n < max) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		struct ref_line l = { buf + pos, 0 };

		if (nl == NULL)
			break;
		l.len = (size_t)(nl - l.start);
		if (l.len > 0 && l.start[l.len - 1] == '\r')
			l.len--;
		pos = (size_t)(nl - buf) + 1;
		if (l.len == 0 && n > 0)
			break;
		lines[n++] = l;
		if (l.len == 0)
			break;
	}
	return n;
}

static int reference_request_line(const struct ref_line *l, char *method, char *path,
				  bool *is_http11)
{
	char line[HTTP_REQUEST_MAX + 1];
	char *sp1, *sp2, *version, *target;
	size_t target_len, path_len;

	memcpy(line, l->start, l->len);
	line[l->len] = '\0';
	sp1 = strchr(line, ' ');
	if (sp1 == NULL || sp1 == line || (size_t)(sp1 - line) >= HTTP_METHOD_MAX)
		return 400;
	for (const char *p = line; p < sp1; p++)
		if (!ref_is_token_char((unsigned char)*p))
			return 400;
	target = sp1 + 1;
	sp2 = strchr(target, ' ');
	if (sp2 == NULL || sp2 == target || target[0] != '/')
		return 400;
	for (const char *p = target; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 400;
	target_len = (size_t)(sp2 - target);
	if (target_len >= HTTP_TARGET_MAX)
		return 414;
	version = sp2 + 1;
	if (strlen(version) != 8 || strncmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return 400;
	if (strcmp(version, "HTTP/1.0") != 0 && strcmp(version, "HTTP/1.1") != 0)
		return 505;
	*is_http11 = version[7] == '1';
	memcpy(method, line, (size_t)(sp1 - line));
	method[sp1 - line] = '\0';
	path_len = strcspn(target, "? ");
	memcpy(path, target, path_len);
	path[path_len] = '\0';
	return 200;
}

static int reference_header(const struct ref_line *l, unsigned *hosts)
{
	size_t name = 0;

	while (name < l->len && l->start[name] != ':') {
		if (!ref_is_token_char((unsigned char)l->start[name]))
			return 400;
		name++;
	}
	if (name == 0 || name == l->len)
		return 400;
	for (size_t i = name + 1; i < l->len; i++) {
		unsigned char c = (unsigned char)l->start[i];

		if (c != '\t' && (c < 0x20 || c >= 0x7f))
			return 400;
	}
	if (name == 4 && strncasecmp(l->start, "Host", 4) == 0)
		(*hosts)++;
	return 200;
}

/* RFC 9110 5.6.2: ALPHA, DIGIT and !#$%&'*+-.^_`|~ */
static bool ref_is_token_char(unsigned char c)
{
	static const char specials[] = "!#$%&'*+-.^_`|~";

	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return (c >= '0' && c <= '9') || (c != 0 && memchr(specials, c, sizeof(specials) - 1));
}

/* Every bare LF written as CR LF: the same answer. */
static void check_crlf(const char *buf, size_t len)
{
	static char crlf[2 * INPUT_MAX];
	struct http_request lf, cr;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			crlf[n++] = '\r';
		crlf[n++] = buf[i];
	}
	if (n >= HTTP_REQUEST_MAX || n == len)
		return;
	require(http_request_parse(buf, len, true, &lf) == HTTP_PARSE_DONE &&
			http_request_parse(crlf, n, true, &cr) == HTTP_PARSE_DONE,
		"INCOMPLETE at the end of the stream");
	require(cr.status == lf.status &&
			(lf.status != 200 ||
			 (strcmp(cr.method, lf.method) == 0 && strcmp(cr.path, lf.path) == 0)),
		"CRLF and bare LF give different answers");
}

/* "METHOD PATH HTTP/1.1" with one Host: the same method and path. */
static void check_rebuilt(const struct http_request *req)
{
	char text[HTTP_METHOD_MAX + HTTP_TARGET_MAX + 64];
	struct http_request again;
	int n = snprintf(text, sizeof(text), "%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
			 req->method, req->path);

	require(http_request_parse(text, (size_t)n, false, &again) == HTTP_PARSE_DONE &&
			again.status == 200 && strcmp(again.method, req->method) == 0 &&
			strcmp(again.path, req->path) == 0,
		"a minimal request with the same method and path is not the same request");
}

static void check_is_request(const char *buf, size_t len)
{
	size_t upper = 0;

	while (upper < len && buf[upper] >= 'A' && buf[upper] <= 'Z')
		upper++;
	require(http_is_request(buf, len) == (upper >= 3 && upper < len && buf[upper] == ' '),
		"http_is_request: wrong verdict");
}

static void check_head(int status, size_t body_len, size_t cap)
{
	char head[HEAD_MAX], full[HEAD_MAX], expected[64];
	size_t n = http_response_head(head, cap, status, "text/plain", body_len);
	size_t whole = http_response_head(full, sizeof(full), status, "text/plain", body_len);

	require(whole > 0 && whole == strlen(full), "http_response_head: a head does not fit 512");
	require(n == (whole < cap ? whole : 0), "http_response_head: wrong length for its cap");
	snprintf(expected, sizeof(expected), "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	require(strncmp(full, expected, strlen(expected)) == 0, "http_response_head: status line");
	snprintf(expected, sizeof(expected), "\r\nContent-Length: %zu\r\n", body_len);
	require(strstr(full, expected) != NULL, "http_response_head: Content-Length");
	require((strstr(full, "\r\nAllow: ") != NULL) == (status == 405),
		"http_response_head: Allow present exactly on 405");
	require(whole >= 4 && strcmp(full + whole - 4, "\r\n\r\n") == 0 &&
			strstr(full, "\r\n\r\n") == full + whole - 4,
		"http_response_head: the head does not end at its first blank line");
}

/* The next read: 1..room bytes as the mode says. */
static size_t cutter_next(struct cutter *cut, size_t room)
{
	size_t n;

	cut->state ^= cut->state << 13;
	cut->state ^= cut->state >> 17;
	cut->state ^= cut->state << 5;
	switch (cut->mode) {
	case 0:
		n = 1 + cut->state % 16;
		break;
	case 1:
		n = 1 + cut->state % 1024;
		break;
	default:
		n = room;
	}
	return n < room ? n : room;
}
