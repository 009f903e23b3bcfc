/* A driver reset racing a queue run that fails: nothing the old
 * incarnation's run decided (DEVICE_NEEDS_RESET, a queue interrupt) may land
 * on the fresh device.
 *
 * The I/O thread runs a queue whose ring breaks after one good chain: the
 * run completes that chain (an interrupt is due), then finds the ring
 * unusable (DEVICE_NEEDS_RESET is due). The test thread, playing a vCPU,
 * resets the device (Status 0) while the run is under way, then brings it up
 * again as a driver that writes back the Status bits it reads would, up to
 * DRIVER_OK, on the still-broken ring or on a fresh valid one. Once the old
 * run is over, and before the new incarnation's first run, it checks that no
 * Status read showed NEEDS_RESET and that the fresh device has no interrupt:
 * InterruptStatus clear, no MSI vector pending, nothing sent since the reset.
 *
 * The window is made certain instead of waited for. The queue lock the
 * reset will wait on (the run's queue for virtio_queue_run, queue 0 for
 * the console and net, which hold both of theirs) is replaced by a
 * priority-inheritance mutex, whose unlock hands the lock to
 * the thread sleeping on it (the kernel makes that waiter the owner), and the
 * run is held inside its critical section until the reset sleeps on the lock.
 * So the reset takes the lock at the run's first unlock, every round, and a
 * device path that drops the lock between deciding and delivering delivers
 * to the fresh device. The run is held by its chain handler
 * (virtio_queue_run), or by a full pipe its write blocks on (virtio-console
 * and virtio-net transmit) that is drained once the reset sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "fake_driver.h"
#include "unit.h"
#include "virtio/queue_run.h"

#define MEM_SIZE	(1 << 20)
#define QSIZE		8
#define BUF_GPA		0x10000
#define BUF_LEN		(VIRTIO_NET_HDR_LEN + 60)	/* a frame for net */
#define ROUNDS		150
#define BUDGET_NS	(500 * 1000000LL)	/* per device, at most */
#define HOLD_NS		(20 * 1000000LL)	/* a run waits for the reset */
#define STATUS_UP	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

enum kind { QUEUE_RUN, CONSOLE, NET };

struct variant {
	const char *name;
	enum kind kind;
	bool msi;		/* v3 with MSI, else v2 */
};

static const struct variant *var;
static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_mmio_dev t;
static struct fake_driver drv;
static struct virtio_device_ops ops;	/* the device's, reset wrapped */
static void (*dev_reset)(void *dev);
static void *dev;
static struct virtio_console *con;
static struct virtio_net *net;
static int sink_r = -1, sink_w = -1;	/* pipe the device writes into */
static unsigned int hq;			/* the queue run and broken */
static struct virtq_chain chain;
static pthread_mutex_t *hand;		/* the hand-off lock */

/* Changed with the queue locks held (ops.reset, the run's signals). */
static unsigned int gen;	/* incarnation: resets so far */
static unsigned int irqs;	/* interrupts sent since the last reset */
static uint32_t old_status;	/* Status and irqs just before the last */
static unsigned int old_irqs;	/* reset: what the old incarnation got */

static sem_t run_sem, done_sem, drain_sem, drained_sem;
static int run_finished, stop;
static unsigned int probe_gen;	/* gen seen by the first lock after a run */

static void h_legacy(void *h) { irqs++; }
static int h_route(void *h, unsigned int v, bool valid, uint64_t a,
		   uint32_t d) { return 0; }
static void h_fire(void *h, unsigned int v) { irqs++; }
static void h_kick(void *h, unsigned int q) { }

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route,
	.msi_fire = h_fire, .kick = h_kick,
};

/* ops.reset: called first thing in a Status 0 write, with every queue's
 * lock held. */
static void counted_reset(void *d)
{
	old_status = t.status;
	old_irqs = irqs;
	gen++;
	irqs = 0;
	if (dev_reset)
		dev_reset(d);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One poll step. A short sleep, not sched_yield(): on a loaded machine a
 * yield hands the CPU to whatever else runs for a whole time slice, while a
 * sleeper that wakes gets it back at once. */
static void poll_pause(void)
{
	const struct timespec ts = { 0, 10000 };

	nanosleep(&ts, NULL);
}

static void wait_sem(sem_t *s)
{
	while (sem_wait(s) && errno == EINTR)
		;
}

/* glibc keeps a PI mutex's futex word in __data.__lock: 0 when free, else
 * the owner's TID, with FUTEX_WAITERS once a thread sleeps waiting for it. */
static unsigned int lock_word(void)
{
	return (unsigned int)__atomic_load_n(&hand->__data.__lock,
					     __ATOMIC_ACQUIRE);
}

/* Until a thread sleeps on the hand-off lock; after HOLD_NS the round goes on without
 * (its reset then comes late, and the round counts as no hit). */
static void hold_until_reset_waits(void)
{
	long long end = now_ns() + HOLD_NS;

	while (!(lock_word() & FUTEX_WAITERS) && now_ns() < end)
		poll_pause();
}

/* virtio_queue_run's handler: called with the queue's lock held. */
static uint32_t held_chain(void *d, unsigned int q, struct virtq_chain *c)
{
	hold_until_reset_waits();
	return 0;
}

static void run_once(void)
{
	if (var->kind == QUEUE_RUN)
		virtio_queue_run(&t.queues[hq], virtio_mmio_interrupt(&t),
				 &chain, held_chain, NULL);
	else
		ops.queue_notify(dev, hq);
}

/* The I/O thread. */
static void *runner(void *arg)
{
	for (;;) {
		wait_sem(&run_sem);
		if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			return NULL;
		run_once();
		__atomic_store_n(&run_finished, 1, __ATOMIC_RELEASE);
		/* Had the run taken the lock again, would the reset have
		 * come first? (Yes whenever the hand-off worked.) */
		pthread_mutex_lock(hand);
		probe_gen = gen;
		pthread_mutex_unlock(hand);
		sem_post(&done_sem);
	}
}

/* Lets a run blocked on the full pipe go, once the reset sleeps. */
static void *drainer(void *arg)
{
	char buf[4096];

	for (;;) {
		wait_sem(&drain_sem);
		if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			return NULL;
		hold_until_reset_waits();
		while (read(sink_r, buf, sizeof(buf)) > 0)
			;
		sem_post(&drained_sem);
	}
}

/* Empties the pipe, then fills it, so that the run's write blocks. */
static void fill_sink(void)
{
	static char buf[4096];
	int fl = fcntl(sink_w, F_GETFL);

	while (read(sink_r, buf, sizeof(buf)) > 0)
		;
	fcntl(sink_w, F_SETFL, fl | O_NONBLOCK);
	while (write(sink_w, buf, sizeof(buf)) > 0)
		;
	while (write(sink_w, buf, 1) > 0)
		;
	fcntl(sink_w, F_SETFL, fl);
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(&t, off, &v, 4);
	return v;
}

static void wr32(uint64_t off, uint32_t v) { virtio_mmio_write(&t, off, &v, 4); }
static void wr16(uint64_t off, uint16_t v) { virtio_mmio_write(&t, off, &v, 2); }

/* Sets one Status bit the way a driver that writes back what it reads
 * does; counts reads that show NEEDS_RESET. */
static void status_add(uint32_t bit, unsigned int *stale)
{
	uint32_t s = rd32(VIRTIO_MMIO_STATUS);

	if (s & VIRTIO_STATUS_NEEDS_RESET)
		(*stale)++;
	wr32(VIRTIO_MMIO_STATUS, s | bit);
}

static void clear_ring(unsigned int q)
{
	memset(ram + fake_desc_gpa(q), 0, 0x1000);
	memset(ram + fake_avail_gpa(q), 0, 0x1000);
	memset(ram + fake_used_gpa(q), 0, 0x1000);
	drv.avail_idx[q] = 0;
	drv.used_seen[q] = 0;
}

/* One good chain, then an avail entry whose head is out of range: a run
 * completes the chain, then finds the ring broken. */
static void post_hostile(void)
{
	const struct fake_seg seg = { .gpa = BUF_GPA, .len = BUF_LEN,
				      .write = var->kind == QUEUE_RUN };
	uint16_t *avail = (void *)(ram + fake_avail_gpa(hq));

	clear_ring(hq);
	fake_post(&drv, hq, 0, &seg, 1);
	avail[2 + drv.avail_idx[hq] % QSIZE] = QSIZE;
	drv.avail_idx[hq]++;
	__atomic_store_n(&avail[1], drv.avail_idx[hq], __ATOMIC_RELEASE);
}

/* The driver's init from Status 0; fresh_ring: on zeroed rings (else the
 * rings keep what the guest left in them). */
static void driver_up(bool fresh_ring, unsigned int *stale)
{
	unsigned int nq = virtio_mmio_num_queues(&t);
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1;

	status_add(VIRTIO_STATUS_ACKNOWLEDGE, stale);
	status_add(VIRTIO_STATUS_DRIVER, stale);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	status_add(VIRTIO_STATUS_FEATURES_OK, stale);
	for (unsigned int q = 0; fresh_ring && q < nq; q++)
		clear_ring(q);
	fake_setup_queues(&drv, nq);
	if (var->msi) {
		for (unsigned int v = 0; v <= nq; v++) {
			wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, 0xfee00000);
			wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, 0);
			wr32(VIRTIO_MMIO_MSI_DATA, 0x40 + v);
			wr16(VIRTIO_MMIO_MSI_COMMAND,
			     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
		}
		wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	}
	status_add(VIRTIO_STATUS_DRIVER_OK, stale);
}

/* The fresh device, before its first run: true if it shows an interrupt. */
static bool irq_state_dirty(void)
{
	bool dirty = rd32(VIRTIO_MMIO_INTERRUPT_STATUS) != 0;

	pthread_mutex_lock(&t.irq_lock);
	dirty |= irqs != 0 || t.interrupt_status != 0;
	for (unsigned int v = 0; v < VIRTIO_MMIO_MAX_VECTORS; v++)
		dirty |= t.msi.vectors[v].pending;
	pthread_mutex_unlock(&t.irq_lock);
	return dirty;
}

static void setup(const struct variant *v)
{
	const struct virtio_mmio_config cfg = { .version = v->msi ? 3 : 2,
						.msi = v->msi };
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 9 };
	pthread_mutexattr_t a;
	unsigned int stale = 0;
	int p[2];

	var = v;
	ram = calloc(1, MEM_SIZE);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, 0, MEM_SIZE, ram);
	dev = NULL;
	if (v->kind == QUEUE_RUN) {
		ops = (struct virtio_device_ops){ .name = "race", .device_id = 0x42,
					       .num_queues = 1,
					       .queue_max = QSIZE };
		hq = 0;
	} else {
		CHECK(pipe(p) == 0);
		/* One page: filling it is one write. */
		fcntl(p[1], F_SETPIPE_SZ, 4096);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		sink_r = p[0];
		sink_w = p[1];
		if (v->kind == CONSOLE) {
			dev = con = virtio_console_new(-1, sink_w, false);
			ops = virtio_console_ops;
			hq = VIRTIO_CONSOLE_TXQ;
		} else {
			dev = net = virtio_net_new(sink_w, mac);
			ops = virtio_net_ops;
			hq = VIRTIO_NET_TXQ;
		}
	}
	dev_reset = ops.reset;
	ops.reset = counted_reset;
	virtio_mmio_init(&t, &cfg, &ops, dev, &hops, NULL, &mem);
	if (con) {
		virtio_mmio_set_config(&t, virtio_console_config(con));
		virtio_console_bind(con, test_device_env(&t));
	}
	if (net) {
		virtio_mmio_set_config(&t, virtio_net_config(net));
		virtio_net_bind(net, test_device_env(&t));
	}

	/* The hand-off lock (see the top of this file). */
	hand = &t.queues[v->kind == QUEUE_RUN ? hq : 0].lock;
	pthread_mutex_destroy(hand);
	pthread_mutexattr_init(&a);
	CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
	CHECK_EQ(pthread_mutex_init(hand, &a), 0);
	pthread_mutexattr_destroy(&a);

	gen = irqs = 0;
	stop = 0;
	fake_driver_init(&drv, &t, ram, QSIZE);
	driver_up(true, &stale);
	CHECK_EQ(stale, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), STATUS_UP);
	post_hostile();
	sem_init(&run_sem, 0, 0);
	sem_init(&done_sem, 0, 0);
	sem_init(&drain_sem, 0, 0);
	sem_init(&drained_sem, 0, 0);
}

static void teardown(void)
{
	virtio_mmio_destroy(&t);
	if (con)
		virtio_console_free(con);
	if (net)
		virtio_net_free(net);
	con = NULL;
	net = NULL;
	if (sink_r >= 0) {
		close(sink_r);
		close(sink_w);
	}
	sink_r = sink_w = -1;
	sem_destroy(&run_sem);
	sem_destroy(&done_sem);
	sem_destroy(&drain_sem);
	sem_destroy(&drained_sem);
	free(ram);
}

static void race(const struct variant *v)
{
	unsigned int rounds, hits = 0, bad_status = 0, bad_irq = 0, lost = 0;
	long long end = now_ns() + BUDGET_NS;
	bool pipe_held = v->kind != QUEUE_RUN;
	pthread_t io, dr;

	setup(v);
	CHECK(pthread_create(&io, NULL, runner, NULL) == 0);
	CHECK(pthread_create(&dr, NULL, drainer, NULL) == 0);
	for (rounds = 0; rounds < ROUNDS && now_ns() < end; rounds++) {
		bool fresh = rounds & 1, drain = false;
		unsigned int round_gen = gen, stale = 0;

		if (pipe_held)
			fill_sink();
		__atomic_store_n(&run_finished, 0, __ATOMIC_RELEASE);
		sem_post(&run_sem);
		/* Reset while the run is inside its critical section. */
		while (!lock_word() &&
		       !__atomic_load_n(&run_finished, __ATOMIC_ACQUIRE))
			poll_pause();
		if (pipe_held &&
		    !__atomic_load_n(&run_finished, __ATOMIC_ACQUIRE)) {
			sem_post(&drain_sem);
			drain = true;
		}
		wr32(VIRTIO_MMIO_STATUS, 0);
		driver_up(fresh, &stale);
		wait_sem(&done_sem);	/* the old run is over */
		if (drain)
			wait_sem(&drained_sem);
		if (probe_gen != round_gen) {
			hits++;
			/* Not lost either: the old incarnation had its queue
			 * interrupt and NEEDS_RESET (with its config
			 * interrupt) before the reset wiped them. */
			if (!(old_status & VIRTIO_STATUS_NEEDS_RESET) ||
			    old_irqs < 2)
				lost++;
		}
		if (stale || rd32(VIRTIO_MMIO_STATUS) != STATUS_UP)
			bad_status++;
		if (irq_state_dirty())
			bad_irq++;
		if (fresh)
			post_hostile();	/* what the next run is to find */
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	sem_post(&run_sem);
	sem_post(&drain_sem);
	pthread_join(io, NULL);
	pthread_join(dr, NULL);

	fprintf(stderr, "reset race, %s: %u rounds, %u with the reset at the "
		"run's unlock; the fresh device showed NEEDS_RESET or refused "
		"DRIVER_OK in %u, an interrupt in %u; the old one missed what "
		"its run decided in %u\n", v->name, rounds, hits, bad_status,
		bad_irq, lost);
	CHECK_EQ(bad_status, 0);
	CHECK_EQ(bad_irq, 0);
	CHECK_EQ(lost, 0);
	CHECK(rounds >= 20);
	CHECK(hits * 2 >= rounds);	/* the window was really there */
	teardown();
}

static const struct variant variants[] = {
	{ "virtio_queue_run, v2", QUEUE_RUN, false },
	{ "virtio_queue_run, v3 MSI", QUEUE_RUN, true },
	{ "virtio-console tx, v2", CONSOLE, false },
	{ "virtio-console tx, v3 MSI", CONSOLE, true },
	{ "virtio-net tx, v2", NET, false },
	{ "virtio-net tx, v3 MSI", NET, true },
};

static void test_queue_run_legacy(void) { race(&variants[0]); }
static void test_queue_run_msi(void) { race(&variants[1]); }
static void test_console_legacy(void) { race(&variants[2]); }
static void test_console_msi(void) { race(&variants[3]); }
static void test_net_legacy(void) { race(&variants[4]); }
static void test_net_msi(void) { race(&variants[5]); }

int main(void)
{
	alarm(60);	/* a lost hand-off would hang: fail instead */
	RUN(test_queue_run_legacy);
	RUN(test_queue_run_msi);
	RUN(test_console_legacy);
	RUN(test_console_msi);
	RUN(test_net_legacy);
	RUN(test_net_msi);
	return unit_finish("reset_race");
}
