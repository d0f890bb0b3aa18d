/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h - a minimal HTTP/1.x request reader and response head
 *
 * Just enough HTTP for a Prometheus scrape of the control socket: one
 * request per connection, no body, the answer closes the connection.
 * The request (line and headers) is bounded by HTTP_REQUEST_MAX; the
 * reader never allocates and never reads past len. Pure: no I/O.
 */
#ifndef MXPATH_HTTP_H
#define MXPATH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_REQUEST_MAX 8192		/* request line and headers, blank line included */
#define HTTP_METHOD_MAX 16		/* bytes of a method, NUL included */
#define HTTP_TARGET_MAX 256		/* bytes of a request target, NUL included */
#define HTTP_HEADERS_MAX 64		/* header fields in one request */

enum http_parse {
	HTTP_PARSE_INCOMPLETE,		/* no end of the header block yet: read more */
	HTTP_PARSE_DONE,		/* req->status says what to answer */
};

struct http_request {
	int status;			/* 200 or an error status: 400, 414, 431, 505 */
	char method[HTTP_METHOD_MAX];	/* valid when status is 200 */
	char path[HTTP_TARGET_MAX];	/* the target without its query */
};

/* True if buf (complete or not) starts like an HTTP request line: an upper
 * case word of 3 letters or more and a space. */
bool http_is_request(const char *buf, size_t len);

/*
 * Reads the request in buf[0..len). INCOMPLETE while the blank line that
 * ends the headers has not come and len < HTTP_REQUEST_MAX; at_eof turns
 * that into a 400. Checks the request line (token method, origin-form
 * target of visible ASCII, HTTP/1.0 or HTTP/1.1), every header line
 * (token name, colon, visible value; no folding), their count, and the
 * Host header HTTP/1.1 requires (exactly one). CRLF or bare LF.
 */
enum http_parse http_request_parse(const char *buf, size_t len, bool at_eof,
				   struct http_request *req);

/*
 * The status line and headers of an answer whose body is body_len bytes:
 * Content-Type, Content-Length, Connection: close (and Allow for 405).
 * Returns the length written (NUL-terminated), or 0 if cap is too small.
 */
size_t http_response_head(char *buf, size_t cap, int status, const char *content_type,
			  size_t body_len);

const char *http_reason(int status);	/* "OK", "Not Found", ... */

#endif
