/*
 * rr: a TCP request/response benchmark (what netperf TCP_RR measures).
 *
 *   rr server PORT [STATEDIR]  answer each 32-byte request with 1024 bytes
 *   rr client HOST PORT SECS   one outstanding transaction at a time, for
 *                              SECS seconds; prints transactions/s
 *   rr mark HOST PORT TAG      ask the server to snapshot the KVM counters
 *                              (kvm_snapshot.c, STATEDIR), wait until done
 *
 * netperf is not packaged in Debian, hence this tool. Both sides set
 * TCP_NODELAY, so every request and every response is one segment train
 * sent at once: the rate measures the round trip through the guest's
 * virtio-net device, not Nagle's algorithm.
 *
 * "mark" lets the benchmark snapshot the host's KVM counters exactly at the
 * edges of a guest workload: the guest runs "rr mark ... net-begin", the
 * server reads the counters while the guest waits, and only then replies.
 * A mark is an ordinary 32-byte request starting with "MMVM-MARK ", so it
 * costs one short connection. Without STATEDIR marks are only answered.
 *
 * Machine-readable result line of the client:
 *   RR trans=<n> secs=<s> rate=<trans/s> lat_us=<mean latency>
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kvm_snapshot.h"

#define REQ_SIZE	32
#define RESP_SIZE	1024
#define MARK_PREFIX	"MMVM-MARK "

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("rr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads exactly len bytes. Returns len, 0 on EOF before any byte, -1 on
 * error or EOF in the middle of a message. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got ? -1 : 0;
		got += n;
	}
	return got;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += n;
	}
	return 0;
}

static void set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY: %s", strerror(errno));
}

static unsigned int parse_uint(const char *s, const char *what,
			       unsigned int max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		die("bad %s '%s' (1..%u)", what, s, max);
	return v;
}

/* Mark tags become file names: keep them to a harmless alphabet. */
static void extract_tag(const char *req, char *tag, size_t taglen)
{
	size_t i, n = 0;

	for (i = strlen(MARK_PREFIX); i < REQ_SIZE && n + 1 < taglen; i++) {
		char c = req[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			break;
		tag[n++] = c;
	}
	tag[n] = '\0';
	if (n == 0)
		snprintf(tag, taglen, "unnamed");
}

static void serve_connection(int fd, const char *state)
{
	char req[REQ_SIZE], resp[RESP_SIZE];
	unsigned long long trans = 0;
	double t0 = now_s();
	ssize_t n;

	memset(resp, 'r', sizeof(resp));
	set_nodelay(fd);
	for (;;) {
		n = read_full(fd, req, sizeof(req));
		if (n <= 0)
			break;
		if (trans == 0 &&
		    !memcmp(req, MARK_PREFIX, strlen(MARK_PREFIX))) {
			char tag[REQ_SIZE];

			extract_tag(req, tag, sizeof(tag));
			if (state)
				kvm_snapshot(state, tag);
			write_full(fd, resp, sizeof(resp));
			return;
		}
		if (write_full(fd, resp, sizeof(resp)) < 0) {
			n = -1;
			break;
		}
		trans++;
	}
	if (n < 0)
		fprintf(stderr, "rr: connection error: %s\n", strerror(errno));
	if (trans)
		fprintf(stderr, "rr: server: %llu transactions in %.2f s\n",
			trans, now_s() - t0);
}

static void __attribute__((noreturn)) cmd_server(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	const char *state;
	int lfd, one = 1;

	if (argc < 1 || argc > 2)
		die("usage: rr server PORT [STATEDIR]");
	addr.sin_port = htons(parse_uint(argv[0], "port", 65535));
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	state = argc == 2 ? argv[1] : NULL;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind port %s: %s", argv[0], strerror(errno));
	if (listen(lfd, 8) < 0)
		die("listen: %s", strerror(errno));
	fprintf(stderr, "rr: server listening on port %s\n", argv[0]);

	/* One connection at a time: the benchmark has one client. */
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		serve_connection(fd, state);
		close(fd);
	}
}

/* HOST is a numeric IPv4 address: no resolver in a static binary. */
static int connect_to(const char *host, const char *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int fd;

	addr.sin_port = htons(parse_uint(port, "port", 65535));
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		die("bad host '%s' (want an IPv4 address)", host);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect %s:%s: %s", host, port, strerror(errno));
	set_nodelay(fd);
	return fd;
}

static int cmd_client(int argc, char **argv)
{
	char req[REQ_SIZE], resp[RESP_SIZE];
	unsigned long long trans = 0;
	unsigned int secs;
	double t0, t;
	ssize_t n;
	int fd;

	if (argc != 3)
		die("usage: rr client HOST PORT SECONDS");
	secs = parse_uint(argv[2], "seconds", 86400);
	fd = connect_to(argv[0], argv[1]);
	memset(req, 'q', sizeof(req));

	t0 = now_s();
	do {
		if (write_full(fd, req, sizeof(req)) < 0)
			die("send: %s", strerror(errno));
		n = read_full(fd, resp, sizeof(resp));
		if (n != sizeof(resp))
			die("receive: %s", n < 0 ? strerror(errno) :
			    "connection closed");
		trans++;
		t = now_s() - t0;
	} while (t < secs);
	close(fd);

	printf("RR trans=%llu secs=%.3f rate=%.1f lat_us=%.1f\n",
	       trans, t, trans / t, t * 1e6 / trans);
	return 0;
}

static int cmd_mark(int argc, char **argv)
{
	char req[REQ_SIZE], resp[RESP_SIZE];
	int fd;

	if (argc != 3)
		die("usage: rr mark HOST PORT TAG");
	if (strlen(MARK_PREFIX) + strlen(argv[2]) > sizeof(req))
		die("tag '%s' too long", argv[2]);
	memset(req, 0, sizeof(req));
	memcpy(req, MARK_PREFIX, strlen(MARK_PREFIX));
	memcpy(req + strlen(MARK_PREFIX), argv[2], strlen(argv[2]));

	fd = connect_to(argv[0], argv[1]);
	if (write_full(fd, req, sizeof(req)) < 0)
		die("send: %s", strerror(errno));
	if (read_full(fd, resp, sizeof(resp)) != sizeof(resp))
		die("mark %s: no reply from server", argv[2]);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "server"))
		cmd_server(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "mark"))
		return cmd_mark(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: rr server PORT [STATEDIR]\n"
		"       rr client HOST PORT SECONDS\n"
		"       rr mark HOST PORT TAG\n");
	return 2;
}
