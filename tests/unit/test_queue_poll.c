/* Bounded polling in virtio_queue_run_polled() (virtio/queue_run.h): a
 * window opens only after a round that served chains, the completions are
 * interrupted for before it, notifications stay off while it is open, a
 * chain added within it is served without a kick, and it closes at its
 * bound with notifications back on. Junk (malformed or empty chains)
 * neither opens nor keeps a window open, and a poll spins at most its
 * budget per period whatever the driver does (on a simulated clock). */
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

/* Answers like virtio-blk: a status byte when there is room for one,
 * nothing (length 0) when the chain has no device-writable byte. */
static bool refuse;	/* the device finds every request malformed */

static uint32_t handle(void *dev, unsigned int queue, struct virtq_chain *c)
{
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
	c->refused = refuse;
	return c->in_len ? 1 : 0;
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

/* One chain in descriptor posted % QSIZE. */
static void post_desc(struct virtq_desc d)
{
	uint16_t slot = posted % QSIZE;

	desc()[slot] = d;
	avail()[2 + slot] = slot;
	posted++;
	__atomic_store_n(&avail()[1], posted, __ATOMIC_RELEASE);
}

/* A request: 16 bytes to read, a status byte to write. */
static void post(void)
{
	post_desc((struct virtq_desc){ .addr = BUF_GPA, .len = 16,
				       .flags = VIRTQ_DESC_F_WRITE });
}

/* Junk, alternately: an empty chain (a zero-length buffer: nothing to
 * answer into) and a malformed one (its buffer outside guest RAM). */
static void post_junk(void)
{
	if (posted % 2)
		post_desc((struct virtq_desc){ .addr = BUF_GPA, .len = 0 });
	else
		post_desc((struct virtq_desc){ .addr = 0x40000000, .len = 16,
					       .flags = VIRTQ_DESC_F_WRITE });
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
	/* 200 ms, and the budget out of the way: this is about the ring. */
	struct virtio_queue_poll p = { .ns = 200000000,
				       .budget_ns = 10000000000ULL };
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
	struct virtio_queue_poll p = { .max_ns = 1000000000ULL,	/* 1 s */
				       .budget_ns = 10000000000ULL };
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

/* ---- on a simulated clock: each reading advances it by SIM_STEP_NS, and
 * the "guest" acts whenever it passes its next due time ---- */

#define SIM_STEP_NS	1000ULL		/* 1 us per clock reading */
#define TRICKLE_NS	900000ULL	/* one chain every 900 us */

static uint64_t sim_ns, sim_due;
static bool sim_junk, sim_doorbell;
static unsigned int sim_posts;

static uint16_t used_idx(void)
{
	return __atomic_load_n(&used()[1], __ATOMIC_ACQUIRE);
}

/* The guest: every TRICKLE_NS one chain (junk or a request), as long as
 * the ring has room; it rings only when the device asks for kicks (no
 * EVENT_IDX: the used ring's NO_NOTIFY flag) and ring_ok says it may. */
static bool sim_rings;

static uint64_t sim_clock(void)
{
	sim_ns += SIM_STEP_NS;
	if (sim_ns >= sim_due) {
		sim_due += TRICKLE_NS;
		if ((uint16_t)(posted - used_idx()) < QSIZE) {
			if (sim_junk)
				post_junk();
			else
				post();
			sim_posts++;
			if (sim_rings && !(used()[0] & VIRTQ_USED_F_NO_NOTIFY))
				sim_doorbell = true;
		}
	}
	return sim_ns;
}

static void sim_start(bool junk, bool rings)
{
	setup();
	sim_ns = 1000000000ULL;
	sim_due = sim_ns + TRICKLE_NS;
	sim_junk = junk;
	sim_rings = rings;
	sim_doorbell = false;
	sim_posts = 0;
	virtio_poll_set_clock(sim_clock);
}

static void sim_end(void)
{
	virtio_poll_set_clock(NULL);
	virtio_mmio_destroy(&mt);
}

/* A request the device answers but refuses as malformed (virtio-blk: a
 * bad header, type or range, answered IOERR) is no work: after it no
 * window opens and nothing is learnt, even with a learnt window; the
 * same request accepted opens one. */
static void test_refused_is_no_work(void)
{
	struct virtio_queue_poll p;

	setup();
	virtio_queue_poll_init(&p, 1000, true);
	p.ns = 100000;
	refuse = true;
	post();
	run(&p);
	refuse = false;
	CHECK_EQ(handled, 1);
	CHECK_EQ(used()[1], 1);		/* answered all the same */
	CHECK_EQ(p.polls, 0);
	CHECK_EQ(p.last_work_ns, 0);
	post();
	run(&p);
	CHECK_EQ(p.polls, 1);
	CHECK(p.last_work_ns != 0);
	virtio_mmio_destroy(&mt);
}

/* The attack of issue 26: one request and its doorbell teach a window,
 * then one empty or malformed chain every 900 us, no doorbell, for 10 s.
 * The first junk chain ends the window (notifications back on); the rest
 * wait for a doorbell that never comes: about one window of spinning in
 * all, not 10 s. Junk teaches nothing either. */
static void test_junk_trickle(void)
{
	struct virtio_queue_poll p;
	uint64_t last_work;

	sim_start(true, false);
	virtio_queue_poll_init(&p, 1000, true);
	p.ns = 1000000;			/* learnt already: the full 1000 us */
	post();
	run(&p);
	last_work = p.last_work_ns;
	CHECK_EQ(handled, 2);		/* the request and one junk chain */
	CHECK_EQ(p.junk, 1);
	CHECK_EQ(p.polls, 1);
	CHECK_EQ(p.hits, 0);		/* junk is no hit */
	CHECK(p.spin_ns <= 1000000);
	CHECK_EQ(used()[0], 0);		/* notifications back on */
	while (sim_ns < 11000000000ULL)	/* the guest goes on for 10 s */
		sim_clock();
	CHECK(sim_posts >= QSIZE);	/* it filled the ring */
	CHECK_EQ(p.polls, 1);
	CHECK(p.spin_ns <= 1000000);
	CHECK_EQ(p.last_work_ns, last_work);	/* junk is no work */
	/* Even a doorbell then: the junk is completed and no window opens;
	 * the doorbell, 10 s after the last work, halves the window, and the
	 * junk records no work to learn from. */
	run(&p);
	CHECK_EQ(p.polls, 1);
	CHECK_EQ(p.last_work_ns, 0);
	CHECK_EQ(p.ns, 500000);
	CHECK(p.junk >= QSIZE);
	fprintf(stderr, "  junk trickle: %u chains over 10 s, %llu us spun\n",
		sim_posts, (unsigned long long)(p.spin_ns / 1000));
	sim_end();
}

/* Valid requests every 900 us without a doorbell while the window is
 * open (and with one whenever the device asks), for 10 simulated
 * seconds: the window keeps catching them until the period's budget is
 * spent, then notifications are on until the next period. Spinning stays
 * at or below budget/period of the time (20 %: 2 s of 10 s), and every
 * request is served. */
static void sim_budget(struct virtio_queue_poll *p, const char *label)
{
	const uint64_t span = 10000000000ULL;
	uint64_t end;

	sim_start(false, true);
	end = sim_ns + span;
	post();
	run(p);
	while (sim_ns < end) {
		if (sim_doorbell) {
			sim_doorbell = false;
			run(p);
		} else {
			sim_clock();
		}
	}
	run(p);				/* the last ones */
	CHECK_EQ(handled, sim_posts + 1);
	CHECK(p->spin_ns <= span / 5 + VIRTIO_POLL_BUDGET_NS);
	CHECK(p->spin_ns >= span / 10);	/* the budget was used, too */
	CHECK(p->capped >= 90);		/* ~ every one of the 100 periods */
	CHECK(p->hits >= 1000);
	fprintf(stderr, "  %s: %u requests over 10 s, %llu windows, %llu hits,"
		" %llu ms spun (cap %llu ms), %llu periods capped\n", label,
		sim_posts + 1, (unsigned long long)p->polls,
		(unsigned long long)p->hits,
		(unsigned long long)(p->spin_ns / 1000000),
		(unsigned long long)(span / 5 / 1000000),
		(unsigned long long)p->capped);
	sim_end();
}

static void test_budget_fixed(void)
{
	struct virtio_queue_poll p;

	virtio_queue_poll_init(&p, 1000, false);
	sim_budget(&p, "fixed 1000 us");
}

static void test_budget_adaptive(void)
{
	struct virtio_queue_poll p;

	virtio_queue_poll_init(&p, 1000, true);
	sim_budget(&p, "auto");
	CHECK(p.grows >= 1);
}

/* The budget alone: a window is cut to what is left of the period's
 * budget, none opens once it is spent (counted once per period), and the
 * next period starts afresh. */
static void test_budget_rule(void)
{
	struct virtio_queue_poll p = { .ns = 1000000 };
	const uint64_t t0 = 5000000000ULL;

	CHECK_EQ(virtio_queue_poll_window(&p, t0), 1000000);
	virtio_queue_poll_spent(&p, VIRTIO_POLL_BUDGET_NS - 300000,
				VIRTIO_POLL_BUDGET_NS - 300000, 1);
	CHECK_EQ(virtio_queue_poll_window(&p, t0 + 1000), 300000);
	virtio_queue_poll_spent(&p, 300000, 300000, 0);
	CHECK_EQ(virtio_queue_poll_window(&p, t0 + 2000), 0);
	CHECK_EQ(virtio_queue_poll_window(&p, t0 + 3000), 0);
	CHECK_EQ(p.capped, 1);
	CHECK_EQ(virtio_queue_poll_window(&p, t0 + VIRTIO_POLL_PERIOD_NS),
		 1000000);
	CHECK_EQ(p.capped, 1);
	CHECK_EQ(p.spin_ns, VIRTIO_POLL_BUDGET_NS);
	CHECK_EQ(p.hits, 1);
	CHECK_EQ(p.ns, 1000000);	/* fixed: never judged */
}

/* Adaptive (bound 1000 us): a period that spun more than 2 ms per hit
 * (and at least 4 ms) halves the window when the next one begins; one
 * with hits enough, or too short to judge, does not. */
static void test_budget_judges_hits(void)
{
	struct virtio_queue_poll p = { .max_ns = 1000000, .ns = 1000000 };
	uint64_t t = 5000000000ULL;

	virtio_queue_poll_window(&p, t);
	virtio_queue_poll_spent(&p, 10000000, 10000000, 5);	/* 2 ms per hit */
	t += VIRTIO_POLL_PERIOD_NS;
	CHECK_EQ(virtio_queue_poll_window(&p, t), 1000000);
	CHECK_EQ(p.shrinks, 0);
	virtio_queue_poll_spent(&p, 10000000, 10000000, 4);	/* 2.5 ms per hit */
	t += VIRTIO_POLL_PERIOD_NS;
	CHECK_EQ(virtio_queue_poll_window(&p, t), 500000);
	CHECK_EQ(p.shrinks, 1);
	virtio_queue_poll_spent(&p, 4000000 - 1, 4000000 - 1, 0);
	t += VIRTIO_POLL_PERIOD_NS;
	CHECK_EQ(virtio_queue_poll_window(&p, t), 500000);
	CHECK_EQ(p.shrinks, 1);
}

/* The budget counts CPU time: a window whose thread ran half the time
 * (preempted the other half) is charged half its wall-clock time. */
static uint64_t half_wall_ns, half_cpu_ns;

static uint64_t half_wall(void)
{
	return half_wall_ns += 10000;
}

static uint64_t half_cpu(void)
{
	return half_cpu_ns += 5000;
}

static void test_cpu_share(void)
{
	struct virtio_poll_stamp from;
	uint64_t share;

	virtio_poll_set_clock(half_wall);
	virtio_poll_set_cpu_clock(half_cpu);
	from = virtio_poll_stamp();
	share = virtio_poll_cpu_share(&from, 10000);	/* all of it */
	CHECK_EQ(share, 5000);
	virtio_poll_set_clock(NULL);
	from = virtio_poll_stamp();
	CHECK(virtio_poll_cpu_share(&from, 1000) <= 1000);
}

int main(void)
{
	RUN(test_no_poll);
	RUN(test_window_closes);
	RUN(test_no_window_without_work);
	RUN(test_window_takes_next_request);
	RUN(test_adapt_rule);
	RUN(test_adaptive_run);
	RUN(test_budget_rule);
	RUN(test_cpu_share);
	RUN(test_budget_judges_hits);
	RUN(test_refused_is_no_work);
	RUN(test_junk_trickle);
	RUN(test_budget_fixed);
	RUN(test_budget_adaptive);
	return unit_finish("queue_poll");
}
