/* tcpxfer: the host end of the virtio-net integration test's transfers.
 *
 *   tcpxfer recv ADDR PORT [TIMEOUT_S]   accept one connection on ADDR:PORT,
 *                                        copy it to stdout until its EOF
 *   tcpxfer send ADDR PORT [TIMEOUT_S]   accept one connection, send stdin
 *                                        to it, then half-close and wait
 *                                        for the peer to close
 *
 * Built static by tests/integration/test_virtio_net.sh so that it needs
 * nothing from the machine it runs on. Each wait (accept, every read and
 * write) gives up after TIMEOUT_S seconds (default 300): a stuck guest
 * fails the test instead of hanging it. At the end one line goes to stderr:
 *   tcpxfer: recv|send N bytes in S s (R MiB/s)
 * Exit status 0 on success, 1 on any error or timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int timeout_ms = 300 * 1000;

static int die(const char *what)
{
	fprintf(stderr, "tcpxfer: %s: %s\n", what,
		errno ? strerror(errno) : "timed out");
	return 1;
}

/* Waits for events on fd; false on timeout (errno 0) or error. */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = 0;
	return r > 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copies from in to out until in's EOF; returns bytes or -1. */
static long long copy(int in, int out)
{
	static char buf[1 << 16];
	long long total = 0;

	for (;;) {
		ssize_t n, done = 0;

		if (!wait_fd(in, POLLIN))
			return -1;
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		while (done < n) {
			ssize_t w;

			if (!wait_fd(out, POLLOUT))
				return -1;
			w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			done += w;
		}
		total += n;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, ls, s, sending;
	long long bytes;
	double t0, t;
	char c;

	if (argc < 4 || argc > 5 || (strcmp(argv[1], "recv") &&
				     strcmp(argv[1], "send"))) {
		fprintf(stderr, "usage: tcpxfer recv|send ADDR PORT "
			"[TIMEOUT_S]\n");
		return 2;
	}
	sending = !strcmp(argv[1], "send");
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpxfer: bad address %s\n", argv[2]);
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[3]));
	if (argc == 5)
		timeout_ms = atoi(argv[4]) * 1000;

	errno = 0;
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("bind");
	if (listen(ls, 1) < 0)
		return die("listen");
	if (!wait_fd(ls, POLLIN))
		return die("accept");
	s = accept(ls, NULL, NULL);
	if (s < 0)
		return die("accept");
	close(ls);

	t0 = now();
	if (sending) {
		bytes = copy(STDIN_FILENO, s);
		if (bytes < 0)
			return die("send");
		shutdown(s, SHUT_WR);
		/* The peer closes once it has everything. */
		if (!wait_fd(s, POLLIN) || read(s, &c, 1) < 0)
			return die("waiting for the peer to close");
	} else {
		bytes = copy(s, STDOUT_FILENO);
		if (bytes < 0)
			return die("recv");
	}
	t = now() - t0;
	close(s);
	fprintf(stderr, "tcpxfer: %s %lld bytes in %.2f s (%.1f MiB/s)\n",
		argv[1], bytes, t, t > 0 ? bytes / t / (1 << 20) : 0.0);
	return 0;
}
