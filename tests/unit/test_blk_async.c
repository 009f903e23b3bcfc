/* The submit/complete queue engine (virtio/queue_async.h) with a fake
 * backend: out-of-order completion, every slot taken, a reset with
 * requests in flight, a driver that scribbles on the used ring, batching
 * and interrupt suppression; then the io_uring blk engine on the host
 * (skipped where the host has no io_uring): reads and writes through
 * the codec, completions out of order, and a reset while a slow "disk"
 * (a pipe nothing has written yet) holds a read, after which nothing
 * lands in guest memory any more. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/blk_engine.h"
#include "devices/virtio_blk_req.h"
#include "unit.h"
#include "virtio/queue_async.h"

#define RAM_GPA		0x10000ULL
#define RAM_SIZE	0x40000ULL
#define QSZ		16
#define DESC_GPA	(RAM_GPA + 0x0000)
#define AVAIL_GPA	(RAM_GPA + 0x1000)
#define USED_GPA	(RAM_GPA + 0x2000)
#define BUF_GPA		(RAM_GPA + 0x8000)	/* 4 KiB per descriptor */

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtio_queue q;
static uint32_t dev_status;
static unsigned int irqs, needs_reset;

static void irq_queue(void *o, unsigned int i)
{
	(void)o;
	(void)i;
	irqs++;
}

static void irq_needs_reset(void *o)
{
	(void)o;
	needs_reset++;
}

static void irq_config(void *o)
{
	(void)o;
}

static const struct virtio_interrupt_ops irq_ops = {
	.queue = irq_queue, .config = irq_config,
	.needs_reset = irq_needs_reset,
};
static struct virtio_interrupt irq = { &irq_ops, NULL };

static void *gpa(uint64_t a)
{
	return ram + (a - RAM_GPA);
}

static uint16_t *avail(void)
{
	return gpa(AVAIL_GPA);
}

static uint16_t *used_hdr(void)
{
	return gpa(USED_GPA);
}

static struct virtq_used_elem *used_elem(unsigned int i)
{
	return (struct virtq_used_elem *)((uint8_t *)gpa(USED_GPA) + 4) + i;
}

static uint16_t *used_event(void)
{
	return &avail()[2 + QSZ];
}

static void setup(bool event_idx)
{
	memset(ram, 0, sizeof(ram));
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	memset(&q, 0, sizeof(q));
	pthread_mutex_init(&q.lock, NULL);
	virtq_reset(&q.vq);
	q.vq.size = QSZ;
	q.vq.desc_gpa = DESC_GPA;
	q.vq.avail_gpa = AVAIL_GPA;
	q.vq.used_gpa = USED_GPA;
	q.vq.ready = true;
	q.vq.event_idx = event_idx;
	CHECK(virtq_activate(&q.vq, &mem));
	q.live = true;
	q.device_status = &dev_status;
	dev_status = 0;
	irqs = needs_reset = 0;
}

/* A chain of two descriptors at d, d+1: a 16-byte readable header and
 * a writable buffer of len bytes; made available. */
static uint16_t post(uint16_t d, uint32_t type, uint64_t sector,
		     uint32_t len)
{
	struct virtq_desc *desc = gpa(DESC_GPA);
	uint32_t hdr[4] = { type, 0, (uint32_t)sector,
			    (uint32_t)(sector >> 32) };
	bool in = type == VIRTIO_BLK_T_IN;
	uint16_t idx = avail()[1];

	memcpy(gpa(BUF_GPA + 0x1000 * d), hdr, sizeof(hdr));
	desc[d] = (struct virtq_desc){ BUF_GPA + 0x1000 * d, 16,
				       VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1) };
	desc[d + 1] = (struct virtq_desc){ BUF_GPA + 0x1000 * (d + 1), len,
					   in ? VIRTQ_DESC_F_WRITE |
					   VIRTQ_DESC_F_NEXT :
					   VIRTQ_DESC_F_NEXT,
					   (uint16_t)(d + 2) };
	/* The status byte, a descriptor of its own. */
	desc[d + 2] = (struct virtq_desc){ BUF_GPA + 0x1000 * (d + 2), 1,
					   VIRTQ_DESC_F_WRITE, 0 };
	*(uint8_t *)gpa(BUF_GPA + 0x1000 * (d + 2)) = 0xff;
	avail()[2 + idx % QSZ] = d;
	__atomic_store_n(&avail()[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	return d;
}

/* ---- the fake backend: every chain pending until the test says ---- */

struct fake {
	unsigned int submitted, flushes;
	bool slot_used[VIRTIO_ASYNC_MAX_SLOTS];
	uint8_t *status[VIRTIO_ASYNC_MAX_SLOTS];	/* copied at submit */
	int64_t answer_now;	/* >= 0: answer at submit with this */
};
static struct fake fk;

static int64_t fake_submit(void *dev, struct virtio_async_queue *aq,
			   unsigned int slot, struct virtq_chain *c)
{
	(void)dev;
	(void)aq;
	if (fk.answer_now >= 0)
		return fk.answer_now;
	CHECK(!fk.slot_used[slot]);
	fk.slot_used[slot] = true;
	/* What completion needs, copied now: the status byte's host
	 * pointer (the descriptor table is never read again). */
	fk.status[slot] = (uint8_t *)c->iov[c->nr_out + c->nr_in - 1].iov_base;
	fk.submitted++;
	return VIRTIO_ASYNC_PENDING;
}

static void fake_flush(void *dev, struct virtio_async_queue *aq)
{
	(void)dev;
	(void)aq;
	fk.flushes++;
}

static const struct virtio_async_ops fake_ops = {
	.submit = fake_submit, .flush = fake_flush,
};

static struct virtio_async_queue aq;

/* The slot holding head (the engine's record). */
static int slot_of(uint16_t head)
{
	for (unsigned int s = 0; s < aq.nr_slots; s++)
		if (aq.busy[s] && aq.head[s] == head)
			return (int)s;
	return -1;
}

/* The worker completes head's request: status OK, len bytes. */
static void complete(uint16_t head, uint32_t len)
{
	int s = slot_of(head);

	CHECK(s >= 0);
	if (s < 0)
		return;
	*fk.status[s] = VIRTIO_BLK_S_OK;
	fk.slot_used[s] = false;
	virtio_async_complete(&aq, (unsigned int)s, len);
}

static void start(unsigned int slots, bool event_idx)
{
	setup(event_idx);
	memset(&fk, 0, sizeof(fk));
	fk.answer_now = -1;
	CHECK_EQ(virtio_async_init(&aq, &q, &irq, &fake_ops, NULL, slots), 0);
}

static void test_out_of_order(void)
{
	start(8, false);
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	post(3, VIRTIO_BLK_T_IN, 1, 512);
	post(6, VIRTIO_BLK_T_IN, 2, 512);
	virtio_async_run(&aq);
	/* All three submitted in one batch, nothing used yet. */
	CHECK_EQ(fk.submitted, 3);
	CHECK_EQ(fk.flushes, 1);
	CHECK_EQ(aq.stats.batches, 1);
	CHECK_EQ(aq.inflight, 3);
	CHECK_EQ(aq.stats.inflight_max, 3);
	CHECK_EQ(used_hdr()[1], 0);
	CHECK_EQ(irqs, 0);

	/* The last first, then the first, then the middle one, the last
	 * two in one batch: one interrupt for it. */
	CHECK(virtio_async_complete_begin(&aq));
	complete(6, 513);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 1);
	CHECK_EQ(used_elem(0)->id, 6);
	CHECK_EQ(used_elem(0)->len, 513);
	CHECK_EQ(irqs, 1);
	CHECK(virtio_async_complete_begin(&aq));
	complete(0, 513);
	complete(3, 513);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 3);
	CHECK_EQ(used_elem(1)->id, 0);
	CHECK_EQ(used_elem(2)->id, 3);
	CHECK_EQ(irqs, 2);
	CHECK_EQ(aq.inflight, 0);
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 8), VIRTIO_BLK_S_OK);
	/* The ring empty, a slot free: notifications back on. */
	CHECK_EQ(used_hdr()[0] & VIRTQ_USED_F_NO_NOTIFY, 0);
	/* Completing a slot twice (a device bug) is ignored. */
	CHECK(virtio_async_complete_begin(&aq));
	virtio_async_complete(&aq, 0, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 3);
	virtio_async_destroy(&aq);
}

static void test_full_slots(void)
{
	start(2, false);
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	post(3, VIRTIO_BLK_T_IN, 1, 512);
	post(6, VIRTIO_BLK_T_IN, 2, 512);
	post(9, VIRTIO_BLK_T_IN, 3, 512);
	virtio_async_run(&aq);
	CHECK_EQ(fk.submitted, 2);
	CHECK_EQ(aq.inflight, 2);
	CHECK_EQ(aq.stats.full, 1);
	/* The driver need not kick: the next completion comes back. */
	CHECK(used_hdr()[0] & VIRTQ_USED_F_NO_NOTIFY);
	/* A doorbell meanwhile changes nothing. */
	virtio_async_run(&aq);
	CHECK_EQ(fk.submitted, 2);

	CHECK(virtio_async_complete_begin(&aq));
	complete(3, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(fk.submitted, 3);	/* the freed slot took chain 6 */
	CHECK_EQ(aq.inflight, 2);
	CHECK(virtio_async_complete_begin(&aq));
	complete(0, 1);
	complete(6, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(fk.submitted, 4);
	CHECK(virtio_async_complete_begin(&aq));
	complete(9, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 4);
	CHECK_EQ(aq.inflight, 0);
	CHECK_EQ(used_hdr()[0] & VIRTQ_USED_F_NO_NOTIFY, 0);
	CHECK_EQ(aq.stats.inflight_max, 2);
	virtio_async_destroy(&aq);
}

/* A reset with requests in flight: the device drains its host side,
 * the engine drops the slots without touching the used ring; a late
 * completion attempt finds the queue not live. */
static void test_reset_in_flight(void)
{
	start(4, false);
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	post(3, VIRTIO_BLK_T_IN, 1, 512);
	virtio_async_run(&aq);
	CHECK_EQ(aq.inflight, 2);

	/* The transport's reset: every queue lock held, device reset op,
	 * then the queue is no longer live. */
	pthread_mutex_lock(&q.lock);
	virtio_async_reset(&aq);
	q.live = false;
	virtq_reset(&q.vq);
	pthread_mutex_unlock(&q.lock);
	CHECK_EQ(aq.inflight, 0);
	CHECK_EQ(aq.nr_free, 4);
	CHECK_EQ(aq.stats.dropped, 2);
	CHECK_EQ(used_hdr()[1], 0);
	CHECK(!virtio_async_complete_begin(&aq));
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 2), 0xff);

	/* The next driver starts afresh: slot numbers are reused. */
	memset(&fk, 0, sizeof(fk));
	fk.answer_now = -1;
	memset(gpa(USED_GPA), 0, 0x1000);
	memset(gpa(AVAIL_GPA), 0, 0x1000);
	q.vq.size = QSZ;
	q.vq.desc_gpa = DESC_GPA;
	q.vq.avail_gpa = AVAIL_GPA;
	q.vq.used_gpa = USED_GPA;
	q.vq.ready = true;
	CHECK(virtq_activate(&q.vq, &mem));
	q.live = true;
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	virtio_async_run(&aq);
	CHECK_EQ(aq.inflight, 1);
	CHECK(virtio_async_complete_begin(&aq));
	complete(0, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 1);
	virtio_async_destroy(&aq);
}

/* The driver writes over the used ring (idx and entries) while requests
 * are in flight: the device keeps its own shadow index and writes only
 * inside the ring; a bogus avail idx breaks the queue (NEEDS_RESET),
 * never the VMM. */
static void test_used_ring_scribbled(void)
{
	start(4, false);
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	post(3, VIRTIO_BLK_T_IN, 1, 512);
	virtio_async_run(&aq);
	memset(gpa(USED_GPA), 0xa5, 4 + 8 * QSZ + 2);
	CHECK(virtio_async_complete_begin(&aq));
	complete(3, 7);
	virtio_async_complete_end(&aq);
	CHECK_EQ(used_hdr()[1], 1);	/* the shadow index, not 0xa5a5 + 1 */
	CHECK_EQ(used_elem(0)->id, 3);
	CHECK_EQ(used_elem(0)->len, 7);
	/* Avail idx far ahead of what the ring holds: broken. */
	avail()[1] = (uint16_t)(avail()[1] + QSZ + 5);
	virtio_async_run(&aq);
	CHECK_EQ(needs_reset, 1);
	/* The request still in flight completes only after a reset; the
	 * queue is not usable, so the worker cannot push it. */
	CHECK(!virtio_async_complete_begin(&aq));
	pthread_mutex_lock(&q.lock);
	virtio_async_reset(&aq);
	pthread_mutex_unlock(&q.lock);
	CHECK_EQ(aq.stats.dropped, 1);
	virtio_async_destroy(&aq);
}

/* EVENT_IDX: completions the driver does not want to hear about yet
 * send no interrupt; the one it asked for does. A chain answered at
 * submit (a GET_ID, a malformed one) is in the same batch. */
static void test_event_idx_and_immediate(void)
{
	start(4, true);
	/* The first completion always interrupts (nothing signalled yet). */
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	virtio_async_run(&aq);
	CHECK(virtio_async_complete_begin(&aq));
	complete(0, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(irqs, 1);
	/* The driver wants to hear when used idx passes 2. */
	*used_event() = 2;
	post(3, VIRTIO_BLK_T_IN, 1, 512);
	post(6, VIRTIO_BLK_T_IN, 2, 512);
	virtio_async_run(&aq);
	CHECK(virtio_async_complete_begin(&aq));
	complete(3, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(irqs, 1);	/* used idx 2: not yet */
	CHECK(virtio_async_complete_begin(&aq));
	complete(6, 1);
	virtio_async_complete_end(&aq);
	CHECK_EQ(irqs, 2);	/* 3: passed it */
	fk.answer_now = 21;
	*used_event() = 3;
	post(9, VIRTIO_BLK_T_GET_ID, 0, 20);
	virtio_async_run(&aq);
	CHECK_EQ(used_hdr()[1], 4);
	CHECK_EQ(used_elem(3)->len, 21);
	CHECK_EQ(irqs, 3);
	CHECK_EQ(aq.stats.immediate, 1);
	CHECK_EQ(aq.stats.batches, 2);	/* none for the GET_ID */
	virtio_async_destroy(&aq);
}

/* ---- the io_uring blk engine on the host ---- */

struct glue {
	struct blk_backend be;
	struct blk_engine *e;
};
static struct glue g;

static int64_t g_submit(void *dev, struct virtio_async_queue *a,
			unsigned int slot, struct virtq_chain *c)
{
	(void)dev;
	(void)a;
	return g.e->ops->submit(g.e, slot, c);
}

static void g_flush(void *dev, struct virtio_async_queue *a)
{
	(void)dev;
	(void)a;
	g.e->ops->flush(g.e);
}

static unsigned int g_reap(void *dev, struct virtio_async_queue *a)
{
	(void)dev;
	(void)a;
	return g.e->ops->reap(g.e);
}

static bool g_ready(void *dev)
{
	(void)dev;
	return g.e->ops->ready(g.e);
}

static const struct virtio_async_ops g_ops = {
	.submit = g_submit, .flush = g_flush, .reap = g_reap,
	.ready = g_ready,
};

static void g_done(void *opaque, unsigned int slot, uint32_t len, bool work)
{
	(void)opaque;
	(void)work;
	virtio_async_complete(&aq, slot, len);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits (up to 5 s) for the engine's completions to be reaped. */
static void wait_used(uint16_t n)
{
	uint64_t t0 = now_ms();

	while (used_hdr()[1] != n && now_ms() - t0 < 5000) {
		if (g.e->ops->ready(g.e) && virtio_async_complete_begin(&aq))
			virtio_async_complete_end(&aq);
		usleep(200);
	}
}

static bool uring_start(int fd)
{
	const char *why = NULL;

	setup(false);
	CHECK_EQ(blk_backend_init(&g.be, fd, 1 << 20, false, false, 0), 0);
	g.e = blk_engine_uring_new(&g.be, 8, g_done, NULL, &why);
	if (!g.e) {
		fprintf(stderr, "  (no io_uring here: %s; skipped)\n", why);
		blk_backend_destroy(&g.be);
		return false;
	}
	CHECK_EQ(virtio_async_init(&aq, &q, &irq, &g_ops, NULL, 8), 0);
	return true;
}

static void uring_stop(void)
{
	g.e->ops->destroy(g.e);
	blk_backend_destroy(&g.be);
	virtio_async_destroy(&aq);
}

static void test_uring_rw(void)
{
	char path[] = "/tmp/mmvm-test-blk-async-XXXXXX";
	int fd = mkstemp(path);
	uint8_t pattern[4096];

	CHECK(fd >= 0);
	unlink(path);
	for (unsigned int i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7);
	CHECK_EQ(pwrite(fd, pattern, sizeof(pattern), 8192),
		 (ssize_t)sizeof(pattern));
	if (!uring_start(fd)) {
		close(fd);
		return;
	}
	/* Two reads and a write in one batch. */
	post(0, VIRTIO_BLK_T_IN, 16, 4096);
	post(3, VIRTIO_BLK_T_IN, 20, 512);
	post(6, VIRTIO_BLK_T_OUT, 40, 1024);
	memset(gpa(BUF_GPA + 0x1000 * 7), 0x5a, 1024);
	virtio_async_run(&aq);
	CHECK_EQ(aq.stats.submissions, 3);
	CHECK_EQ(aq.stats.batches, 1);
	CHECK_EQ(g.e->enters, 1);
	wait_used(3);
	CHECK_EQ(used_hdr()[1], 3);
	CHECK(!memcmp(gpa(BUF_GPA + 0x1000 * 1), pattern, 4096));
	CHECK(!memcmp(gpa(BUF_GPA + 0x1000 * 4), pattern + 2048, 512));
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 2), VIRTIO_BLK_S_OK);
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 5), VIRTIO_BLK_S_OK);
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 8), VIRTIO_BLK_S_OK);
	{
		uint8_t back[1024], want[1024];

		memset(want, 0x5a, sizeof(want));
		CHECK_EQ(pread(fd, back, sizeof(back), 40 * 512),
			 (ssize_t)sizeof(back));
		CHECK(!memcmp(back, want, sizeof(back)));
	}
	for (unsigned int i = 0; i < 3; i++) {
		uint32_t id = used_elem(i)->id;

		CHECK_EQ(used_elem(i)->len, id == 0 ? 4097 : id == 3 ? 513 : 1);
	}
	CHECK_EQ(g.be.stats.reads, 2);
	CHECK_EQ(g.be.stats.writes, 1);
	/* A read past the end of the disk: answered at submit (IOERR). */
	post(9, VIRTIO_BLK_T_IN, (1 << 20) - 1, 1024);
	virtio_async_run(&aq);
	CHECK_EQ(used_hdr()[1], 4);
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 11), VIRTIO_BLK_S_IOERR);
	/* A flush orders after the writes in flight: answered at once,
	 * after them. */
	post(0, VIRTIO_BLK_T_OUT, 48, 512);
	post(3, VIRTIO_BLK_T_FLUSH, 0, 0);
	virtio_async_run(&aq);
	CHECK_EQ(used_hdr()[1], 6);
	CHECK_EQ(used_elem(4)->id, 0);	/* the write, then the flush */
	CHECK_EQ(used_elem(5)->id, 3);
	CHECK_EQ(g.be.stats.flushes, 1);
	uring_stop();
	close(fd);
}

static int pipefd[2];

static void *slow_disk(void *arg)
{
	static uint8_t data[4096];

	(void)arg;
	usleep(150 * 1000);
	memset(data, 0xab, sizeof(data));
	if (write(pipefd[1], data, sizeof(data)) != (ssize_t)sizeof(data))
		abort();
	return NULL;
}

/* The slow disk: a pipe, which a read waits on until someone writes.
 * The reset must wait for the read in flight; once it has returned,
 * nothing more is written to guest memory (neither data nor status nor
 * used ring), even when the "disk" produces more data. */
static void test_uring_reset_slow_disk(void)
{
	pthread_t th;
	uint64_t t0, took;
	static uint8_t snap[RAM_SIZE];

	CHECK_EQ(pipe(pipefd), 0);
	if (!uring_start(pipefd[0])) {
		close(pipefd[0]);
		close(pipefd[1]);
		return;
	}
	post(0, VIRTIO_BLK_T_IN, 0, 4096);
	virtio_async_run(&aq);
	CHECK_EQ(aq.inflight, 1);
	CHECK_EQ(g.e->in_host, 1);
	CHECK_EQ(pthread_create(&th, NULL, slow_disk, NULL), 0);

	/* The reset, as blk_reset() does it under the queue's lock. */
	t0 = now_ms();
	pthread_mutex_lock(&q.lock);
	CHECK(g.e->ops->drain(g.e, true, 0));
	virtio_async_reset(&aq);
	q.live = false;
	pthread_mutex_unlock(&q.lock);
	took = now_ms() - t0;
	CHECK(took >= 100);	/* it waited for the slow read */
	CHECK_EQ(g.e->in_host, 0);
	CHECK_EQ(g.e->drained, 1);
	CHECK_EQ(aq.stats.dropped, 1);
	pthread_join(th, NULL);
	/* Nothing completed to the driver. */
	CHECK_EQ(used_hdr()[1], 0);
	CHECK_EQ(*(uint8_t *)gpa(BUF_GPA + 0x1000 * 2), 0xff);

	memcpy(snap, ram, sizeof(ram));
	slow_disk(NULL);	/* more data from the disk, 150 ms later */
	usleep(50 * 1000);
	CHECK(!virtio_async_complete_begin(&aq));
	CHECK(!memcmp(snap, ram, sizeof(ram)));
	uring_stop();
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The fallback: MMVM_TEST_NO_IO_URING makes setup fail with a reason. */
static void test_uring_fallback(void)
{
	const char *why = NULL;
	struct blk_backend be;

	memset(&be, 0, sizeof(be));
	be.fd = 2;
	setenv("MMVM_TEST_NO_IO_URING", "1", 1);
	CHECK(blk_engine_uring_new(&be, 4, g_done, NULL, &why) == NULL);
	CHECK(why && strstr(why, "io_uring"));
	CHECK(blk_engine_uring_probe() != NULL);
	unsetenv("MMVM_TEST_NO_IO_URING");
}

int main(void)
{
	RUN(test_out_of_order);
	RUN(test_full_slots);
	RUN(test_reset_in_flight);
	RUN(test_used_ring_scribbled);
	RUN(test_event_idx_and_immediate);
	RUN(test_uring_rw);
	RUN(test_uring_reset_slow_disk);
	RUN(test_uring_fallback);
	return unit_finish("test_blk_async");
}
