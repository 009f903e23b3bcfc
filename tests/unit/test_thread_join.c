/* thread_join_kicking(): a thread blocked in read() leaves on a kick when
 * it chooses to, and a thread that will not leave is given up on in
 * bounded time rather than joined forever. */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "vmm/thread_join.h"

static int pipefd[2];
static volatile bool leave_on_eintr;

static void on_kick(int sig)
{
	(void)sig;
}

static void *reader(void *arg)
{
	char c;

	for (;;) {
		ssize_t r = read(pipefd[0], &c, 1);

		if (r >= 0 || (errno == EINTR && leave_on_eintr))
			return NULL;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_kick_ends_blocked_thread(void)
{
	pthread_t th;

	leave_on_eintr = true;
	CHECK_EQ(pthread_create(&th, NULL, reader, NULL), 0);
	usleep(50 * 1000);
	CHECK(thread_join_kicking(th, true, 40, 50));
}

static void test_gives_up_in_bounded_time(void)
{
	pthread_t th;
	double t0;

	leave_on_eintr = false;
	CHECK_EQ(pthread_create(&th, NULL, reader, NULL), 0);
	t0 = now();
	CHECK(!thread_join_kicking(th, true, 4, 50));
	CHECK(now() - t0 < 2.0);
	/* Now let it go: one byte ends the read. */
	CHECK_EQ(write(pipefd[1], "x", 1), 1);
	CHECK(thread_join_kicking(th, false, 40, 50));
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_kick };	/* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (pipe(pipefd))
		return 1;
	RUN(test_kick_ends_blocked_thread);
	RUN(test_gives_up_in_bounded_time);
	return unit_finish("thread_join");
}
