/* The API thread: HTTP/1.1 over a Unix stream socket (created 0600), a
 * few connections at a time, each with its own request buffer; requests
 * go to the router (router.h) one at a time, in order. A new connection
 * when all API_MAX_CONNS are taken replaces the one quiet the longest. */
#ifndef MMVM_API_API_SERVER_H
#define MMVM_API_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/router.h"

#define API_MAX_CONNS	8

struct api_server;

/* Binds and listens on path (a stale socket there is replaced; anything
 * else there is an error). NULL with err filled in. */
struct api_server *api_server_create(const char *path, char *err,
				     size_t errlen);
/* The router it serves (its ops, cfg and state: set them before the
 * start). */
struct api_router *api_server_router(struct api_server *s);
/* Log hook: one line per request (method, path, status). */
void api_server_set_log(struct api_server *s,
			void (*log)(void *opaque, const char *method,
				    const char *path, int status,
				    const char *fault),
			void *opaque);
int api_server_start(struct api_server *s);
/* Once the router's state is no longer "Not started" (the VM runs) the
 * API thread drops its own capabilities and enters its seccomp filter
 * (SANDBOX_API), before its next request. */
/* Stops and joins the thread (false if it would not stop) and closes the
 * sockets. */
bool api_server_stop(struct api_server *s);
/* True if the thread is not running (never started, or stopped): only
 * then may the server be destroyed. */
bool api_server_stopped(const struct api_server *s);
void api_server_destroy(struct api_server *s);

/* One connection's bytes through the parser and router: what the server
 * does with each read, without a socket (the fuzzer and unit tests).
 * Appends the responses to out (up to outlen) and returns their length;
 * *close_conn tells whether the connection would be closed. */
size_t api_serve_buffer(struct api_router *r, const char *in, size_t inlen,
			char *out, size_t outlen, bool *close_conn);

#endif
