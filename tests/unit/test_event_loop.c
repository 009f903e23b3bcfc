#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "unit.h"
#include "vmm/event_loop.h"

struct counter {
	int fd;
	int hits;		/* atomic */
	uint64_t total;
};

static void on_ready(void *opaque, uint32_t events)
{
	struct counter *c = opaque;
	uint64_t v;

	if ((events & EPOLLIN) && read(c->fd, &v, sizeof(v)) == sizeof(v))
		c->total += v;
	__atomic_add_fetch(&c->hits, 1, __ATOMIC_SEQ_CST);
}

static void wait_hits(struct counter *c, int want)
{
	for (int i = 0; i < 2000 &&
	     __atomic_load_n(&c->hits, __ATOMIC_SEQ_CST) < want; i++)
		usleep(1000);
}

static void test_loop(void)
{
	struct event_loop *loop = event_loop_create("test-loop");
	struct counter a = { .fd = eventfd(0, EFD_NONBLOCK) };
	struct counter b = { .fd = eventfd(0, EFD_NONBLOCK) };
	uint64_t one = 1;

	CHECK(loop != NULL);
	CHECK_EQ(event_loop_add(loop, a.fd, EPOLLIN, on_ready, &a), 0);
	CHECK(event_loop_add(loop, a.fd, EPOLLIN, on_ready, &a) < 0);
	CHECK(event_loop_add(loop, -1, EPOLLIN, on_ready, &a) < 0);
	CHECK_EQ(event_loop_start(loop), 0);
	CHECK_EQ(write(a.fd, &one, 8), 8);
	wait_hits(&a, 1);
	CHECK_EQ(a.hits, 1);
	CHECK_EQ(a.total, 1);
	/* added while running */
	CHECK_EQ(event_loop_add(loop, b.fd, EPOLLIN, on_ready, &b), 0);
	CHECK_EQ(write(b.fd, &one, 8), 8);
	wait_hits(&b, 1);
	CHECK_EQ(b.hits, 1);
	/* removed: no more callbacks */
	CHECK_EQ(event_loop_del(loop, a.fd), 0);
	CHECK(event_loop_del(loop, a.fd) < 0);
	CHECK_EQ(write(a.fd, &one, 8), 8);
	usleep(20000);
	CHECK_EQ(a.hits, 1);
	event_loop_stop(loop);
	/* stopped: nothing runs */
	CHECK_EQ(write(b.fd, &one, 8), 8);
	usleep(20000);
	CHECK_EQ(b.hits, 1);
	event_loop_stop(loop);		/* idempotent */
	event_loop_destroy(loop);
	event_loop_destroy(NULL);
	close(a.fd);
	close(b.fd);
}

/* Paused (the API's PATCH /vm): no callback until resumed; a stop
 * while paused still ends the thread. */
static void test_pause(void)
{
	struct event_loop *loop = event_loop_create("test-pause");
	struct counter a = { .fd = eventfd(0, EFD_NONBLOCK) };
	uint64_t one = 1;

	CHECK(event_loop_pause(loop, true));	/* not started: nothing */
	CHECK_EQ(event_loop_add(loop, a.fd, EPOLLIN, on_ready, &a), 0);
	CHECK_EQ(event_loop_start(loop), 0);
	CHECK(event_loop_pause(loop, true));
	CHECK_EQ(write(a.fd, &one, 8), 8);
	usleep(30000);
	CHECK_EQ(a.hits, 0);
	CHECK(event_loop_pause(loop, false));
	wait_hits(&a, 1);
	CHECK_EQ(a.hits, 1);
	CHECK(event_loop_pause(loop, true));
	CHECK(event_loop_pause(loop, true));	/* again: still parked */
	CHECK(event_loop_stop(loop));
	event_loop_destroy(loop);
	close(a.fd);
}

static void test_stop_unstarted(void)
{
	struct event_loop *loop = event_loop_create("test-loop");

	event_loop_stop(loop);
	event_loop_destroy(loop);
	CHECK(1);
}

int main(void)
{
	RUN(test_loop);
	RUN(test_pause);
	RUN(test_stop_unstarted);
	return unit_finish("event_loop");
}
