/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.c - a minimal HTTP/1.x request reader and response head
 *
 * The control socket's scrape endpoint (GET /metrics) reads requests
 * from anyone who can reach the port, so this reader assumes the worst:
 * every byte is checked against RFC 9110/9112 grammar (tokens, visible
 * ASCII, single spaces), everything is bounded (HTTP_REQUEST_MAX in all,
 * HTTP_TARGET_MAX for the target, HTTP_HEADERS_MAX fields), nothing is
 * allocated, and an error is a status code, never a crash. It does not
 * read bodies, keep connections alive, or know which paths exist: the
 * caller answers 404 / 405 (control.c).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mxpath/doors/http.h"

/* One line of the request: [start, end) without its CR LF / LF. */
struct line {
	const char *start;
	size_t len;
};

static bool line_next(const char *buf, size_t len, size_t *pos, struct line *out);
static int request_line_check(const struct line *l, struct http_request *req);
static int header_line_check(const struct line *l, unsigned *hosts);
static bool is_tchar(unsigned char c);
static bool is_vchar(unsigned char c);
static size_t token_len(const char *s, size_t len);
static bool header_end_find(const char *buf, size_t len);

bool http_is_request(const char *buf, size_t len)
{
	size_t method = 0;

	/* Methods are upper case (RFC 9110 9.1 registers no other); the control
	 * socket's own commands are lower case. */
	while (method < len && buf[method] >= 'A' && buf[method] <= 'Z')
		method++;
	return method >= 3 && method < len && buf[method] == ' ';
}

enum http_parse http_request_parse(const char *buf, size_t len, bool at_eof,
				   struct http_request *req)
{
	struct line l;
	size_t pos = 0;
	unsigned n_headers = 0, hosts = 0;
	bool is_http11;

	memset(req, 0, sizeof(*req));
	if (memchr(buf, '\0', len) != NULL) {
		req->status = 400;
		return HTTP_PARSE_DONE;
	}
	if (!header_end_find(buf, len)) {
		if (len < HTTP_REQUEST_MAX && !at_eof)
			return HTTP_PARSE_INCOMPLETE;
		/* A request line that never ended is too long a target. */
		req->status = at_eof ? 400 : memchr(buf, '\n', len) == NULL ? 414 : 431;
		return HTTP_PARSE_DONE;
	}
	if (len > HTTP_REQUEST_MAX) {
		req->status = 431;
		return HTTP_PARSE_DONE;
	}
	line_next(buf, len, &pos, &l);
	req->status = request_line_check(&l, req);
	if (req->status != 200)
		return HTTP_PARSE_DONE;
	is_http11 = l.start[l.len - 1] == '1';
	while (line_next(buf, len, &pos, &l) && l.len > 0) {
		int status = header_line_check(&l, &hosts);

		if (status == 200 && ++n_headers > HTTP_HEADERS_MAX)
			status = 431;
		if (status != 200) {
			req->status = status;
			return HTTP_PARSE_DONE;
		}
	}
	if ((is_http11 && hosts != 1) || hosts > 1)
		req->status = 400;
	return HTTP_PARSE_DONE;
}

/* False when no complete line is left. */
static bool line_next(const char *buf, size_t len, size_t *pos, struct line *out)
{
	const char *nl;

	if (*pos >= len)
		return false;
	nl = memchr(buf + *pos, '\n', len - *pos);
	if (nl == NULL)
		return false;
	out->start = buf + *pos;
	out->len = (size_t)(nl - out->start);
	if (out->len > 0 && out->start[out->len - 1] == '\r')
		out->len--;
	*pos = (size_t)(nl - buf) + 1;
	return true;
}

/* "METHOD SP /target SP HTTP/1.x": 200 or the error status. */
static int request_line_check(const struct line *l, struct http_request *req)
{
	static const char version[] = "HTTP/1.";
	const char *p = l->start, *end = l->start + l->len;
	size_t method = token_len(p, l->len), target = 0;
	const char *query;

	if (method == 0 || method >= HTTP_METHOD_MAX || p + method >= end || p[method] != ' ')
		return 400;
	memcpy(req->method, p, method);
	p += method + 1;
	while (p + target < end && is_vchar((unsigned char)p[target]))
		target++;
	if (target == 0 || p[0] != '/' || p + target >= end || p[target] != ' ')
		return 400;
	if (target >= HTTP_TARGET_MAX)
		return 414;
	query = memchr(p, '?', target);
	memcpy(req->path, p, query != NULL ? (size_t)(query - p) : target);
	p += target + 1;
	if ((size_t)(end - p) != sizeof(version) || memcmp(p, "HTTP/", 5) != 0)
		return 400;
	if (p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
		return 400;
	if (memcmp(p, version, sizeof(version) - 1) != 0 || (p[7] != '0' && p[7] != '1'))
		return 505;
	return 200;
}

/* "Name: value" with a token name and a visible value; counts Host fields. */
static int header_line_check(const struct line *l, unsigned *hosts)
{
	size_t name = token_len(l->start, l->len);

	if (name == 0 || name >= l->len || l->start[name] != ':')
		return 400;	/* no name, a space before the colon, or folding */
	for (size_t i = name + 1; i < l->len; i++) {
		unsigned char c = (unsigned char)l->start[i];

		if (!is_vchar(c) && c != ' ' && c != '\t')
			return 400;
	}
	if (name == 4 && strncasecmp(l->start, "host", 4) == 0)
		(*hosts)++;
	return 200;
}

/* The blank line that ends the headers: "\n\n" or "\n\r\n". */
static bool header_end_find(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n' || (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n'))
			return true;
	}
	return false;
}

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static size_t token_len(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_tchar((unsigned char)s[n]))
		n++;
	return n;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

size_t http_response_head(char *buf, size_t cap, int status, const char *content_type,
			  size_t body_len)
{
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "Connection: close\r\n"
			 "\r\n",
			 status, http_reason(status), content_type, body_len,
			 status == 405 ? "Allow: GET, HEAD\r\n" : "");

	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}
