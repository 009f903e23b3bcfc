/* epoll loop plus an eventfd that only exists to wake it (to stop, or to
 * pause). Watch records are never freed while the loop runs (a deleted record is
 * only unhooked from epoll), so a callback can never race with its own
 * removal into a use-after-free. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/event_loop.h"
#include "vmm/seccomp.h"
#include "vmm/thread_join.h"

struct watch {
	struct watch *next;
	int fd;
	bool active;
	event_fn fn;
	void *opaque;
};

struct event_loop {
	int epfd, wakefd;
	pthread_t thread;
	bool started;
	volatile bool stopping;
	pthread_mutex_t lock;	/* protects the watch list and pausing */
	struct watch *watches;
	pthread_cond_t cond;	/* pause: the loop parks, the caller waits */
	bool pause_req, parked;
	char name[16];		/* the thread's comm: TASK_COMM_LEN */
	int sandbox;		/* enum sandbox_kind */
};

struct event_loop *event_loop_create(const char *name)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!loop)
		return NULL;
	snprintf(loop->name, sizeof(loop->name), "%s", name ? name : "");
	loop->sandbox = SANDBOX_IO;
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->cond, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = NULL;	/* NULL marks the wakeup fd */
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
		event_loop_destroy(loop);
		return NULL;
	}
	return loop;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events,
		   event_fn fn, void *opaque)
{
	struct watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOMEM;
	*w = (struct watch){ .fd = fd, .active = true, .fn = fn,
			     .opaque = opaque };
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(w);
		return err;
	}
	pthread_mutex_lock(&loop->lock);
	w->next = loop->watches;
	loop->watches = w;
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

int event_loop_del(struct event_loop *loop, int fd)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&loop->lock);
	for (struct watch *w = loop->watches; w; w = w->next) {
		if (w->active && w->fd == fd) {
			w->active = false;
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

static void drain_wakefd(struct event_loop *loop)
{
	uint64_t v;

	if (read(loop->wakefd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake-up drained it */
	}
}

/* Paused (event_loop_pause): between events, no callback running. */
static void park(struct event_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->parked = true;
	pthread_cond_broadcast(&loop->cond);
	while (loop->pause_req && !loop->stopping)
		pthread_cond_wait(&loop->cond, &loop->lock);
	loop->parked = false;
	pthread_mutex_unlock(&loop->lock);
}

static void *loop_thread(void *arg)
{
	struct event_loop *loop = arg;
	struct epoll_event evs[32];

	/* Named so that top -H, /proc/PID/task/TID/comm and the tests can
	 * tell a device's workers from the vCPUs (prctl: before seccomp). */
	if (loop->name[0])
		prctl(PR_SET_NAME, loop->name, 0, 0, 0);
	/* seccomp: before the first event */
	sandbox_enter((enum sandbox_kind)loop->sandbox);
	while (!loop->stopping) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n && !loop->stopping; i++) {
			struct watch *w = evs[i].data.ptr;

			if (w && __atomic_load_n(&w->active, __ATOMIC_ACQUIRE))
				w->fn(w->opaque, evs[i].events);
			else if (!w)
				drain_wakefd(loop);
		}
		if (__atomic_load_n(&loop->pause_req, __ATOMIC_ACQUIRE))
			park(loop);
	}
	return NULL;
}

void event_loop_set_sandbox(struct event_loop *loop, int kind)
{
	loop->sandbox = kind;
}

int event_loop_start(struct event_loop *loop)
{
	int err = pthread_create(&loop->thread, NULL, loop_thread, loop);

	if (err)
		return -err;
	loop->started = true;
	return 0;
}

bool event_loop_stopping(const struct event_loop *loop)
{
	return loop && loop->stopping;
}

/* Only a signal with a handler may be sent: SIGUSR1's default action
 * would end the process. */
static bool kick_handled(void)
{
	struct sigaction sa;

	return sigaction(SIGUSR1, NULL, &sa) == 0 &&
	       sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

bool event_loop_pause(struct event_loop *loop, bool pause)
{
	uint64_t one = 1;
	bool ok = true;

	if (!loop || !loop->started)
		return true;
	pthread_mutex_lock(&loop->lock);
	__atomic_store_n(&loop->pause_req, pause, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&loop->cond);
	if (pause) {
		struct timespec ts;

		if (write(loop->wakefd, &one, sizeof(one)) < 0) {
			/* cannot overflow from one write */
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		while (!loop->parked && ok)
			ok = pthread_cond_timedwait(&loop->cond, &loop->lock,
						    &ts) == 0;
		ok = loop->parked;
	}
	pthread_mutex_unlock(&loop->lock);
	return ok;
}

bool event_loop_stop(struct event_loop *loop)
{
	uint64_t one = 1;
	bool kick;

	if (!loop || !loop->started)
		return true;
	loop->stopping = true;
	pthread_mutex_lock(&loop->lock);	/* a paused loop sees it */
	pthread_cond_broadcast(&loop->cond);
	pthread_mutex_unlock(&loop->lock);
	if (write(loop->wakefd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from one write; nothing to do. */
	}
	kick = kick_handled();
	if (!thread_join_kicking(loop->thread, kick, THREAD_STOP_TRIES,
				 THREAD_STOP_WAIT_MS))
		return false;
	loop->started = false;
	return true;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	if (!event_loop_stop(loop))
		return;		/* its thread still runs: leave it all */
	while (loop->watches) {
		struct watch *w = loop->watches;

		loop->watches = w->next;
		free(w);
	}
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	pthread_mutex_destroy(&loop->lock);
	pthread_cond_destroy(&loop->cond);
	free(loop);
}
