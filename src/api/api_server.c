/* The API thread (api_server.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api_server.h"
#include "vmm/privileges.h"
#include "vmm/seccomp.h"
#include "vmm/thread_join.h"

#define CONN_BUF	(HTTP_MAX_REQUEST + 4)
#define RESP_MAX	(API_MAX_RESPONSE + 512)

struct api_conn {
	int fd;			/* -1: free */
	uint64_t active_ns;	/* accepted or last read */
	size_t len;
	bool continue_sent;
	char buf[CONN_BUF];
};

struct api_server {
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	bool started;
	bool sandboxed;
	struct api_router router;
	void (*log)(void *opaque, const char *method, const char *path,
		    int status, const char *fault);
	void *log_opaque;
	struct api_conn conns[API_MAX_CONNS];
};

/* ---- one connection's bytes: parse, route, answer ---- */

typedef bool (*emit_fn)(void *opaque, const char *data, size_t len);

struct serve_ctx {
	struct api_router *r;
	emit_fn emit;
	void *opaque;
	void (*log)(void *opaque, const char *method, const char *path,
		    int status, const char *fault);
	void *log_opaque;
	void (*after)(void *opaque);	/* after each request */
	void *after_opaque;
};

static bool answer(struct serve_ctx *c, int status, const char *body,
		   bool keep_alive)
{
	char out[RESP_MAX];
	size_t n = http_response(out, sizeof(out), status, body, keep_alive);

	return n && c->emit(c->opaque, out, n);
}

/* Serves every whole request at the front of buf; keeps the rest.
 * Returns false when the connection is to be closed. */
static bool serve(struct serve_ctx *c, char *buf, size_t *len,
		  bool *continue_sent)
{
	static __thread struct api_response resp;

	for (;;) {
		struct http_request req;
		char err[160];
		size_t used = 0;
		bool headers_done;
		enum http_parse_result pr;

		pr = http_parse(buf, *len, &req, &used, &headers_done, err,
				sizeof(err));
		if (pr == HTTP_PARSE_ERROR) {
			api_fault(&resp, err);
			if (c->log)
				c->log(c->log_opaque, "-", "-", 400, err);
			answer(c, resp.status, resp.body, false);
			return false;
		}
		if (pr == HTTP_PARSE_MORE) {
			if (headers_done && req.expect_continue &&
			    !*continue_sent) {
				static const char cont[] =
					"HTTP/1.1 100 Continue\r\n\r\n";

				*continue_sent = true;
				return c->emit(c->opaque, cont,
					       sizeof(cont) - 1);
			}
			return true;
		}
		*continue_sent = false;
		api_route(c->r, &req, &resp);
		if (c->log)
			c->log(c->log_opaque, req.method_name, req.path,
			       resp.status,
			       resp.status >= 400 ? resp.body : NULL);
		if (c->after)
			c->after(c->after_opaque);
		if (!answer(c, resp.status, resp.status == 204 ? NULL :
			    resp.body, req.keep_alive) || !req.keep_alive)
			return false;
		memmove(buf, buf + used, *len - used);
		*len -= used;
	}
}

struct buf_out {
	char *out;
	size_t len, max;
};

static bool emit_buf(void *opaque, const char *data, size_t len)
{
	struct buf_out *b = opaque;
	size_t n = len < b->max - b->len ? len : b->max - b->len;

	memcpy(b->out + b->len, data, n);
	b->len += n;
	return true;
}

size_t api_serve_buffer(struct api_router *r, const char *in, size_t inlen,
			char *out, size_t outlen, bool *close_conn)
{
	static __thread struct api_conn c;
	struct buf_out b = { .out = out, .max = outlen };
	struct serve_ctx ctx = { .r = r, .emit = emit_buf, .opaque = &b };

	c.len = 0;
	c.continue_sent = false;
	*close_conn = false;
	/* As the server reads: at most the room left in the buffer. */
	while (inlen) {
		size_t n = inlen < CONN_BUF - c.len ? inlen : CONN_BUF - c.len;

		if (n == 0) {	/* (cannot happen: a full buffer parses) */
			*close_conn = true;
			break;
		}
		memcpy(c.buf + c.len, in, n);
		c.len += n;
		in += n;
		inlen -= n;
		if (!serve(&ctx, c.buf, &c.len, &c.continue_sent)) {
			*close_conn = true;
			break;
		}
	}
	return b.len;
}

/* ---- the socket side ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool emit_fd(void *opaque, const char *data, size_t len)
{
	int fd = *(int *)opaque;

	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;	/* EAGAIN too: a client not reading */
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static void conn_close(struct api_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->continue_sent = false;
}

/* Once the VM runs: least privilege, before anything else is served. */
static void maybe_sandbox(void *opaque)
{
	struct api_server *s = opaque;

	if (s->sandboxed || s->router.state == API_NOT_STARTED)
		return;
	if (privileges_drop_thread() < 0)
		fprintf(stderr, "mmvm: api: cannot drop the thread's capabilities: %s\n",
			strerror(errno));
	sandbox_enter(SANDBOX_API);
	s->sandboxed = true;
}

static void conn_read(struct api_server *s, struct api_conn *c)
{
	struct serve_ctx ctx = { .r = &s->router, .emit = emit_fd,
				 .opaque = &c->fd, .log = s->log,
				 .log_opaque = s->log_opaque,
				 .after = maybe_sandbox, .after_opaque = s };
	ssize_t n = read(c->fd, c->buf + c->len, CONN_BUF - c->len);

	c->active_ns = now_ns();
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (!serve(&ctx, c->buf, &c->len, &c->continue_sent))
		conn_close(c);
}

/* A new client always gets a slot: with all of them taken, the one
 * quiet the longest (an idle keep-alive, a half-sent request) goes. */
static void accept_one(struct api_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct api_conn *slot = NULL;

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
		struct api_conn *c = &s->conns[i];

		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (!slot || c->active_ns < slot->active_ns)
			slot = c;
	}
	conn_close(slot);
	slot->fd = fd;
	slot->active_ns = now_ns();
}

static void *api_thread(void *arg)
{
	struct api_server *s = arg;

	pthread_setname_np(pthread_self(), "api");
	for (;;) {
		struct pollfd pfd[2 + API_MAX_CONNS];
		struct api_conn *who[2 + API_MAX_CONNS];
		unsigned int n = 0;

		maybe_sandbox(s);
		pfd[n++] = (struct pollfd){ .fd = s->stop_pipe[0],
					    .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->listen_fd,
					    .events = POLLIN };
		for (unsigned int i = 0; i < API_MAX_CONNS; i++) {
			if (s->conns[i].fd < 0)
				continue;
			who[n] = &s->conns[i];
			pfd[n++] = (struct pollfd){ .fd = s->conns[i].fd,
						    .events = POLLIN };
		}
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (unsigned int i = 2; i < n; i++)
			if (pfd[i].revents)
				conn_read(s, who[i]);
		if (pfd[1].revents & POLLIN)
			accept_one(s);
	}
	return NULL;
}

struct api_server *api_server_create(const char *path, char *err,
				     size_t errlen)
{
	struct api_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;

	if (!s) {
		snprintf(err, errlen, "--api-sock: out of memory");
		return NULL;
	}
	s->listen_fd = -1;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--api-sock %s: path too long (max %zu)",
			 path, sizeof(sa.sun_path) - 1);
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--api-sock %s: exists and is not a socket",
				 path);
			goto fail;
		}
		unlink(path);	/* a stale socket of an earlier run */
	}
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "--api-sock %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	/* 0600 from the start: no window where others could connect. */
	old = umask(0177);
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		snprintf(err, errlen, "--api-sock %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	umask(old);
	if (listen(s->listen_fd, API_MAX_CONNS) < 0) {
		snprintf(err, errlen, "--api-sock %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	return s;
fail:
	api_server_destroy(s);
	return NULL;
}

struct api_router *api_server_router(struct api_server *s)
{
	return &s->router;
}

void api_server_set_log(struct api_server *s,
			void (*log)(void *opaque, const char *method,
				    const char *path, int status,
				    const char *fault),
			void *opaque)
{
	s->log = log;
	s->log_opaque = opaque;
}

int api_server_start(struct api_server *s)
{
	int err = pthread_create(&s->thread, NULL, api_thread, s);

	if (err)
		return -err;
	s->started = true;
	return 0;
}

bool api_server_stop(struct api_server *s)
{
	if (!s || !s->started)
		return true;
	if (write(s->stop_pipe[1], "x", 1) < 0)
		return false;
	if (!thread_join_kicking(s->thread, false, THREAD_STOP_TRIES,
				 THREAD_STOP_WAIT_MS))
		return false;
	s->started = false;
	return true;
}

bool api_server_stopped(const struct api_server *s)
{
	return !s->started;
}

void api_server_destroy(struct api_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < API_MAX_CONNS; i++)
		conn_close(&s->conns[i]);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	free(s);
}
