/* Joining a thread that may be blocked in a system call: kick, wait a
 * little, repeat, give up after a bounded time. */
#include <signal.h>
#include <time.h>

#include "vmm/thread_join.h"

bool thread_join_kicking(pthread_t thread, bool kick, unsigned int tries,
			 unsigned int wait_ms)
{
	for (unsigned int i = 0; i < tries; i++) {
		struct timespec ts;

		if (kick)
			pthread_kill(thread, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(thread, NULL, &ts) == 0)
			return true;
	}
	return false;
}
