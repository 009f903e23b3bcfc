/* HTTP/1.1 requests over the API socket (http.h). Strict where being lax
 * would be ambiguous: one Content-Length, no Transfer-Encoding, CRLF line
 * ends, a bounded head. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"

static enum http_parse_result fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return HTTP_PARSE_ERROR;
}

/* The end of the head ("\r\n\r\n"), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' &&
		    buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

static bool token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

static int parse_request_line(const char *p, size_t n,
			      struct http_request *req, int *minor, char *err,
			      size_t errlen)
{
	const char *sp1 = memchr(p, ' ', n), *sp2;
	size_t mlen, plen;

	if (!sp1)
		return fail(err, errlen, "malformed request line"), -1;
	mlen = (size_t)(sp1 - p);
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2)
		return fail(err, errlen, "malformed request line"), -1;
	plen = (size_t)(sp2 - sp1 - 1);
	if (mlen == 0 || mlen >= sizeof(req->method_name))
		return fail(err, errlen, "bad method"), -1;
	for (size_t i = 0; i < mlen; i++)
		if (!token_char(p[i]))
			return fail(err, errlen, "bad method"), -1;
	memcpy(req->method_name, p, mlen);
	req->method_name[mlen] = '\0';
	if (plen == 0 || plen >= sizeof(req->path) || sp1[1] != '/')
		return fail(err, errlen, "bad or too long request path"), -1;
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];

		if (c <= ' ' || c >= 0x7f)
			return fail(err, errlen, "bad character in the request path"), -1;
	}
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = '\0';
	n -= (size_t)(sp2 + 1 - p);
	p = sp2 + 1;
	if (n != 8 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1'))
		return fail(err, errlen, "want HTTP/1.0 or HTTP/1.1"), -1;
	*minor = p[7] - '0';
	if (!strcmp(req->method_name, "GET"))
		req->method = HTTP_GET;
	else if (!strcmp(req->method_name, "PUT"))
		req->method = HTTP_PUT;
	else if (!strcmp(req->method_name, "PATCH"))
		req->method = HTTP_PATCH;
	else
		req->method = HTTP_OTHER;
	return 0;
}

/* Header value without surrounding blanks. */
static bool value_is(const char *v, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(v, want, n);
}

enum http_parse_result http_parse(const char *buf, size_t len,
				  struct http_request *req, size_t *used,
				  bool *headers_done, char *err,
				  size_t errlen)
{
	const char *end = head_end(buf, len < HTTP_MAX_HEAD + 4 ?
					len : HTTP_MAX_HEAD + 4);
	const char *p = buf, *eol;
	size_t head_len, body_len = 0;
	bool have_length = false;
	int minor = 1, headers = 0;

	*headers_done = false;
	memset(req, 0, sizeof(*req));
	if (!end) {
		/* A stray CRLF between requests is allowed (RFC 9112 2.2)
		 * only before the first line; keep it simple: none. */
		if (len > HTTP_MAX_HEAD)
			return fail(err, errlen, "request head too large");
		return HTTP_PARSE_MORE;
	}
	head_len = (size_t)(end - buf) + 4;
	eol = memchr(p, '\r', (size_t)(end - p) + 1);
	if (!eol || eol[1] != '\n')
		return fail(err, errlen, "malformed request line");
	if (parse_request_line(p, (size_t)(eol - p), req, &minor, err,
			       errlen))
		return HTTP_PARSE_ERROR;
	req->keep_alive = minor == 1;
	for (p = eol + 2; p < end + 2; p = eol + 2) {
		const char *colon, *v, *ve;
		size_t nlen;

		eol = memchr(p, '\r', (size_t)(end + 2 - p));
		if (!eol || eol[1] != '\n')
			return fail(err, errlen, "bare CR or LF in the head");
		if (memchr(p, '\n', (size_t)(eol - p)))
			return fail(err, errlen, "bare LF in the head");
		if (++headers > HTTP_MAX_HEADERS)
			return fail(err, errlen, "too many headers");
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return fail(err, errlen, "malformed header");
		nlen = (size_t)(colon - p);
		for (size_t i = 0; i < nlen; i++)
			if (!token_char(p[i]))
				return fail(err, errlen, "malformed header name");
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		for (const char *q = v; q < ve; q++)
			if ((unsigned char)*q < ' ' && *q != '\t')
				return fail(err, errlen, "control character in a header");
		if (nlen == 14 && !strncasecmp(p, "Content-Length", 14)) {
			char num[24];
			char *e;
			unsigned long long cl;

			if (have_length)
				return fail(err, errlen, "more than one Content-Length");
			if (ve == v || (size_t)(ve - v) >= sizeof(num))
				return fail(err, errlen, "bad Content-Length");
			memcpy(num, v, (size_t)(ve - v));
			num[ve - v] = '\0';
			for (size_t i = 0; num[i]; i++)
				if (!isdigit((unsigned char)num[i]))
					return fail(err, errlen, "bad Content-Length");
			cl = strtoull(num, &e, 10);
			if (cl > HTTP_MAX_BODY)
				return fail(err, errlen, "request body too large (max 51200 bytes)");
			body_len = (size_t)cl;
			have_length = true;
		} else if (nlen == 17 &&
			   !strncasecmp(p, "Transfer-Encoding", 17)) {
			return fail(err, errlen, "Transfer-Encoding is not supported (send Content-Length)");
		} else if (nlen == 10 && !strncasecmp(p, "Connection", 10)) {
			if (value_is(v, (size_t)(ve - v), "close"))
				req->keep_alive = false;
			else if (value_is(v, (size_t)(ve - v), "keep-alive"))
				req->keep_alive = true;
		} else if (nlen == 6 && !strncasecmp(p, "Expect", 6)) {
			if (!value_is(v, (size_t)(ve - v), "100-continue"))
				return fail(err, errlen, "unsupported Expect");
			req->expect_continue = true;
		}
	}
	*headers_done = true;
	if (len - head_len < body_len)
		return HTTP_PARSE_MORE;
	req->body = body_len ? buf + head_len : NULL;
	req->body_len = body_len;
	*used = head_len + body_len;
	return HTTP_PARSE_DONE;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	default: return "Unknown";
	}
}

size_t http_response(char *out, size_t outlen, int status, const char *body,
		     bool keep_alive)
{
	size_t blen = body ? strlen(body) : 0;
	int n;

	n = snprintf(out, outlen,
		     "HTTP/1.1 %d %s\r\n"
		     "Server: mmvm API\r\n"
		     "%s"
		     "Content-Length: %zu\r\n"
		     "Connection: %s\r\n"
		     "\r\n%s",
		     status, http_reason(status),
		     blen ? "Content-Type: application/json\r\n" : "",
		     blen, keep_alive ? "keep-alive" : "close",
		     body ? body : "");
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return (size_t)n;
}
