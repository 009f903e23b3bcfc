/*
 * stamp: run a VMM, timestamp each line of its output, stop it on cue.
 *
 *   stamp [-t SECS] [-p PIDFILE] [-k PATTERN]... [-f PATTERN]... -- CMD...
 *
 * CMD runs with stdin from /dev/null and stdout+stderr into a pipe; each
 * line is copied to our stdout as "[<seconds since CMD started>] line", so
 * the benchmark can read boot-to-/init off any VMM (QEMU has no such
 * report of its own) with one clock for every configuration.
 *
 *   -p PIDFILE   write CMD's pid there (the stats hook reads it)
 *   -k PATTERN   a line containing PATTERN means the guest is done (e.g.
 *                "reboot: Power down": a guest without ACPI cannot turn
 *                QEMU off): stop CMD, exit 0
 *   -f PATTERN   same, but it is a failure (e.g. "Kernel panic"): exit 3
 *   -t SECS      stop CMD after SECS seconds, exit 124
 * Otherwise the exit status is CMD's (128+signal if it was killed).
 * "Stop" is SIGTERM, then SIGKILL two seconds later.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATTERNS	8
#define LINE_MAX_LEN	4096

static double t_start;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: stamp [-t SECS] [-p PIDFILE] [-k PATTERN]..."
		" [-f PATTERN]... -- CMD [ARGS...]\n");
	exit(2);
}

static void emit(const char *line, size_t len)
{
	printf("[%9.3f] %.*s\n", now_s() - t_start, (int)len, line);
	fflush(stdout);
}

static bool matches(const char *line, char **pats, int n)
{
	for (int i = 0; i < n; i++)
		if (strstr(line, pats[i]))
			return true;
	return false;
}

/* SIGTERM, then SIGKILL if CMD is still there after two seconds. */
static int stop_child(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

int main(int argc, char **argv)
{
	char *done_pats[MAX_PATTERNS], *fail_pats[MAX_PATTERNS];
	int ndone = 0, nfail = 0, pipefd[2], status, opt, outcome = -1;
	const char *pidfile = NULL;
	double timeout = 0;
	char line[LINE_MAX_LEN];
	size_t used = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:p:k:f:")) != -1) {
		switch (opt) {
		case 't':
			timeout = atof(optarg);
			if (timeout <= 0)
				usage();
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'k':
			if (ndone == MAX_PATTERNS)
				usage();
			done_pats[ndone++] = optarg;
			break;
		case 'f':
			if (nfail == MAX_PATTERNS)
				usage();
			fail_pats[nfail++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		perror("stamp: pipe");
		return 1;
	}
	t_start = now_s();
	pid = fork();
	if (pid < 0) {
		perror("stamp: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "stamp: exec %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
			fprintf(stderr, "stamp: %s: %s\n", pidfile,
				strerror(errno));
			kill(pid, SIGKILL);
			return 1;
		}
	}

	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int wait_ms = -1;
		ssize_t n;

		if (timeout > 0) {
			double left = t_start + timeout - now_s();

			if (left <= 0) {
				fprintf(stderr, "stamp: timeout after %.0f s\n",
					timeout);
				stop_child(pid);
				return 124;
			}
			wait_ms = (int)(left * 1000) + 1;
		}
		if (poll(&pfd, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			perror("stamp: poll");
			break;
		}
		if (!pfd.revents)
			continue;
		n = read(pipefd[0], line + used, sizeof(line) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += n;

		/* Emit complete lines; a line longer than the buffer is
		 * emitted in pieces. Carriage returns are dropped. */
		for (;;) {
			char *nl = memchr(line, '\n', used);
			size_t len, consumed;

			if (nl) {
				len = nl - line;
				consumed = len + 1;
			} else if (used == sizeof(line) - 1) {
				len = consumed = used;
			} else {
				break;
			}
			line[len] = '\0';
			if (len && line[len - 1] == '\r')
				line[--len] = '\0';
			emit(line, len);
			if (matches(line, fail_pats, nfail))
				outcome = 3;
			else if (matches(line, done_pats, ndone))
				outcome = 0;
			memmove(line, line + consumed, used - consumed);
			used -= consumed;
			if (outcome >= 0)
				break;
		}
		if (outcome >= 0) {
			fprintf(stderr, "stamp: stopping %s (%s)\n",
				argv[optind], outcome ? "failure" : "done");
			stop_child(pid);
			return outcome;
		}
	}
	if (used)
		emit(line, used);
	if (waitpid(pid, &status, 0) < 0) {
		perror("stamp: waitpid");
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
