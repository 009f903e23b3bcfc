/* Ending a VMM thread that may be blocked in a system call. */
#ifndef MMVM_VMM_THREAD_JOIN_H
#define MMVM_VMM_THREAD_JOIN_H

#include <pthread.h>
#include <stdbool.h>

/* Joins thread, first sending it SIGUSR1 if kick (a handler without
 * SA_RESTART must be installed: the signal only interrupts KVM_RUN or a
 * blocked write), then waiting wait_ms, up to tries times. A kick can land
 * just before the thread blocks, hence more than one. True if joined;
 * false if the thread still runs. */
bool thread_join_kicking(pthread_t thread, bool kick, unsigned int tries,
			 unsigned int wait_ms);

/* How long mmvm waits for one of its threads at exit: 3 s in all. */
#define THREAD_STOP_WAIT_MS	50
#define THREAD_STOP_TRIES	60

#endif
