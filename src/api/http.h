/* A small HTTP/1.1 request parser and response writer for the API socket:
 * requests with Content-Length bodies (no chunked encoding), bounded in
 * size and header count, several per connection (keep-alive). Pure
 * functions over a buffer, so the unit tests and the fuzzer drive them
 * without a socket. */
#ifndef MMVM_API_HTTP_H
#define MMVM_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD		8192	/* request line + headers */
#define HTTP_MAX_HEADERS	32
#define HTTP_MAX_BODY		(50 * 1024)
#define HTTP_MAX_PATH		256
#define HTTP_MAX_REQUEST	(HTTP_MAX_HEAD + HTTP_MAX_BODY)

enum http_method {
	HTTP_GET, HTTP_PUT, HTTP_PATCH, HTTP_OTHER,
};

struct http_request {
	enum http_method method;
	char method_name[16];
	char path[HTTP_MAX_PATH];
	const char *body;	/* into the parsed buffer; NULL if none */
	size_t body_len;
	bool keep_alive;	/* HTTP/1.1 without "Connection: close" */
	bool expect_continue;	/* "Expect: 100-continue" */
};

enum http_parse_result {
	HTTP_PARSE_DONE,	/* *used bytes hold a whole request */
	HTTP_PARSE_MORE,	/* incomplete; *headers_done if only the body
				 * is missing (time for 100 Continue) */
	HTTP_PARSE_ERROR,	/* err says why; answer 400 and close */
};

enum http_parse_result http_parse(const char *buf, size_t len,
				  struct http_request *req, size_t *used,
				  bool *headers_done, char *err,
				  size_t errlen);

/* Writes a whole response: status line, Server, Content-Length (and
 * Content-Type: application/json with a body), Connection, blank line,
 * body. Returns its length, or 0 if out is too small. */
size_t http_response(char *out, size_t outlen, int status, const char *body,
		     bool keep_alive);

const char *http_reason(int status);

#endif
