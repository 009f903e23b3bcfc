/* The I/O thread: one epoll loop that owns every host file descriptor a
 * device waits on (ioeventfds, tap, stdin, resample fds). vCPU threads never
 * block on host I/O; they only signal eventfds that this loop watches. */
#ifndef MMVM_VMM_EVENT_LOOP_H
#define MMVM_VMM_EVENT_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *opaque, uint32_t epoll_events);

struct event_loop;

/* name: the thread's name (at most 15 characters are kept), e.g.
 * "blk0-w1"; NULL or "" leaves the process's. */
struct event_loop *event_loop_create(const char *name);
/* Watch fd for epoll events (EPOLLIN, ...); fn runs on the loop thread. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events,
		   event_fn fn, void *opaque);
int event_loop_del(struct event_loop *loop, int fd);
/* The seccomp filter the loop's thread enters (default SANDBOX_IO, an
 * enum sandbox_kind); before event_loop_start(). */
void event_loop_set_sandbox(struct event_loop *loop, int kind);
/* Starts the loop thread. */
int event_loop_start(struct event_loop *loop);
/* pause: the loop thread finishes the callback it runs (if any) and
 * waits, handling no event, until called again with false. Returns once
 * it waits (true), or false if it did not within a second (it then
 * parks when it can). From any thread but the loop's. */
bool event_loop_pause(struct event_loop *loop, bool pause);
/* Stops and joins the thread; safe to call once from any other thread.
 * A callback blocked in a write is kicked with SIGUSR1 when a handler for
 * it is installed (mmvm's vCPU kick). False if the thread did not leave
 * within a few seconds: it still runs, so the loop must not be freed. */
bool event_loop_stop(struct event_loop *loop);
/* True once event_loop_stop() has begun: a callback waiting for an fd to
 * drain should give up. */
bool event_loop_stopping(const struct event_loop *loop);
void event_loop_destroy(struct event_loop *loop);

#endif
