/* Bounded polling in virtio_queue_run_polled() (virtio/queue_run.h): a
 * window opens only after a round that served chains, the completions are
 * interrupted for before it, notifications stay off while it is open, a
 * chain added within it is served without a kick, and it closes at its
 * bound with notifications back on. */
#include <pthread.h>
#include <time.h>

#include "device_env.h"
#include "mock_transport.h"
#include "unit.h"
#include "virtio/queue_run.h"

#define QSIZE	16
#define BUF_GPA	(MT_RAM_GPA + 0x8000)

static const struct virtio_device_env *env;
static unsigned int handled;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint32_t handle(void *dev, unsigned int queue, struct virtq_chain *c)
{
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Queue 0's rings as mt_setup_queue() placed them. */
static struct virtq_desc *desc(void)
{
	return (void *)(mt_ram + 0);
}

static uint16_t *avail(void)
{
	return (void *)(mt_ram + 0x800);
}

static uint16_t *used(void)
{
	return (void *)(mt_ram + 0x1000);
}

static uint16_t posted;

/* One 16-byte device-readable chain in descriptor posted % QSIZE. */
static void post(void)
{
	uint16_t slot = posted % QSIZE;

	desc()[slot] = (struct virtq_desc){ .addr = BUF_GPA, .len = 16 };
	avail()[2 + slot] = slot;
	posted++;
	__atomic_store_n(&avail()[1], posted, __ATOMIC_RELEASE);
}

static unsigned int irqs(void)
{
	return __atomic_load_n(&mt_host.legacy, __ATOMIC_ACQUIRE);
}

static void setup(void)
{
	struct virtio_mmio_config cfg = { .version = 2 };

	mt_setup(&cfg);
	CHECK(mt_negotiate(1ULL << VIRTIO_F_VERSION_1));
	mt_setup_queue(0, QSIZE);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
	env = test_device_env(&mt);
	memset(mt_ram, 0, 0x2000);
	posted = 0;
	handled = 0;
}

static struct virtq_chain chain;

static void run(struct virtio_queue_poll *p)
{
	virtio_queue_run_polled(env->queues[0], env->irq, &chain, handle, NULL,
				p);
}

/* ns 0 behaves as virtio_queue_run: no window. */
static void test_no_poll(void)
{
	struct virtio_queue_poll p = { 0 };

	setup();
	post();
	run(&p);
	CHECK_EQ(handled, 1);
	CHECK_EQ(irqs(), 1);
	CHECK_EQ(p.polls, 0);
	CHECK_EQ(used()[0], 0);		/* notifications back on */
	virtio_mmio_destroy(&mt);
}

/* Nothing follows: the window closes at its bound, the completion was
 * interrupted for before it, and notifications are back on. */
static void test_window_closes(void)
{
	struct virtio_queue_poll p = { .ns = 2000000 };
	uint64_t t0;

	setup();
	post();
	t0 = now_ns();
	run(&p);
	CHECK(now_ns() - t0 >= p.ns);
	CHECK(now_ns() - t0 < 1000000000ULL);
	CHECK_EQ(handled, 1);
	CHECK_EQ(irqs(), 1);
	CHECK_EQ(p.polls, 1);
	CHECK_EQ(p.hits, 0);
	CHECK(p.spin_ns >= p.ns);
	CHECK_EQ(used()[0], 0);
	virtio_mmio_destroy(&mt);
}

/* A kick with nothing to serve (spurious) opens no window: an idle queue
 * costs nothing. */
static void test_no_window_without_work(void)
{
	struct virtio_queue_poll p = { .ns = 500000000 };
	uint64_t t0 = now_ns();

	setup();
	run(&p);
	CHECK(now_ns() - t0 < 100000000ULL);
	CHECK_EQ(handled, 0);
	CHECK_EQ(p.polls, 0);
	CHECK_EQ(irqs(), 0);
	virtio_mmio_destroy(&mt);
}

static uint16_t flags_when_posted;

/* The driver: once the first completion's interrupt arrived, it adds the
 * next request, as a guest doing back-to-back I/O does. */
static void *second_request(void *arg)
{
	uint64_t t0 = now_ns();

	while (irqs() < 1 && now_ns() - t0 < 5000000000ULL)
		;
	flags_when_posted = __atomic_load_n(&used()[0], __ATOMIC_ACQUIRE);
	post();
	return NULL;
}

static void test_window_takes_next_request(void)
{
	struct virtio_queue_poll p = { .ns = 200000000 };	/* 200 ms */
	pthread_t th;

	setup();
	post();
	CHECK_EQ(pthread_create(&th, NULL, second_request, NULL), 0);
	run(&p);
	pthread_join(th, NULL);
	CHECK_EQ(handled, 2);
	CHECK_EQ(irqs(), 2);		/* one per completion, none held */
	CHECK_EQ(flags_when_posted, VIRTQ_USED_F_NO_NOTIFY);
	CHECK_EQ(p.polls, 2);		/* the hit, then one that closed */
	CHECK_EQ(p.hits, 1);
	CHECK_EQ(used()[0], 0);
	CHECK_EQ(used()[1], 2);		/* both completed */
	virtio_mmio_destroy(&mt);
}

/* The adaptive rule alone: a gap within the bound grows the window to it
 * (or doubles it, whichever is more, never past the bound); a longer one
 * halves it, to 0 below VIRTIO_POLL_MIN_NS. */
static void test_adapt_rule(void)
{
	struct virtio_queue_poll p = { .max_ns = 1000000 };

	virtio_queue_poll_adapt(&p, 2000000);	/* too far apart: stays off */
	CHECK_EQ(p.ns, 0);
	CHECK_EQ(p.shrinks, 0);
	virtio_queue_poll_adapt(&p, 300000);	/* fits: grows to the gap */
	CHECK_EQ(p.ns, 300000);
	virtio_queue_poll_adapt(&p, 350000);	/* doubles: 600 us */
	CHECK_EQ(p.ns, 600000);
	virtio_queue_poll_adapt(&p, 700000);	/* doubles past the bound */
	CHECK_EQ(p.ns, 1000000);
	CHECK_EQ(p.grows, 3);
	virtio_queue_poll_adapt(&p, 1000001);	/* past the bound: halves */
	CHECK_EQ(p.ns, 500000);
	for (int i = 0; i < 7; i++)
		virtio_queue_poll_adapt(&p, 5000000);
	CHECK_EQ(p.ns, 3906 < VIRTIO_POLL_MIN_NS ? 0 : 3906);
	CHECK_EQ(p.ns, 0);
	CHECK_EQ(p.shrinks, 8);
	virtio_queue_poll_adapt(&p, 100);	/* a tiny gap: the floor */
	CHECK_EQ(p.ns, VIRTIO_POLL_MIN_NS);
}

/* Adaptive in the run: the first request opens no window (nothing learnt
 * yet); a doorbell soon after it grows the window, and the next round
 * polls; a long pause then shrinks it again. */
static void test_adaptive_run(void)
{
	struct virtio_queue_poll p = { .max_ns = 1000000000ULL };	/* 1 s */
	struct timespec pause = { .tv_nsec = 20000000 };	/* 20 ms */

	setup();
	post();
	run(&p);
	CHECK_EQ(handled, 1);
	CHECK_EQ(p.polls, 0);
	CHECK(p.last_work_ns != 0);
	nanosleep(&pause, NULL);
	post();
	run(&p);			/* learns the 20 ms gap, then polls */
	CHECK_EQ(handled, 2);
	CHECK_EQ(p.grows, 1);
	CHECK(p.ns >= 20000000 && p.ns < 1000000000ULL);
	CHECK_EQ(p.polls, 1);		/* the window closed empty */
	CHECK_EQ(p.hits, 0);
	CHECK_EQ(irqs(), 2);
	CHECK_EQ(used()[0], 0);		/* notifications back on */
	p.max_ns = 10000000;		/* 10 ms: the next gap is longer */
	p.ns = 8000000;
	nanosleep(&pause, NULL);
	post();
	run(&p);
	CHECK_EQ(p.shrinks, 1);
	CHECK_EQ(p.ns, 4000000);
	CHECK_EQ(handled, 3);
	virtio_mmio_destroy(&mt);
}

int main(void)
{
	RUN(test_no_poll);
	RUN(test_window_closes);
	RUN(test_no_window_without_work);
	RUN(test_window_takes_next_request);
	RUN(test_adapt_rule);
	RUN(test_adaptive_run);
	return unit_finish("queue_poll");
}
