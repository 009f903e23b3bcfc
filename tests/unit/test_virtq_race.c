/* A driver that rewrites the ring while the device reads it: one thread
 * scribbles random values over the descriptor table, an indirect table and
 * the avail ring while the main thread pops and pushes. Because virtq_pop
 * reads every guest field once and checks the copy, every chain it hands
 * out must still lie inside guest memory (ASan would also catch a stray
 * access). The races on guest memory are deliberate: that is the guest. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "virtio/virtqueue.h"

#define RAM_GPA		0x40000ULL
#define RAM_SIZE	0x10000ULL
#define QSZ		16
#define AVAIL_OFF	0x1000
#define AVAIL_IDX_WORD	((AVAIL_OFF + 2) / 2)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static volatile int stop;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Writes plausible-but-hostile descriptors and avail entries, word by word,
 * so that fields change between any two reads the device might make. */
static void *scribbler(void *arg)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	volatile uint16_t *w = (volatile uint16_t *)ram;

	while (!stop) {
		uint64_t r = rng(&s);
		unsigned int slot = (r >> 8) % (0x3800 / 2);	/* rings+table */
		uint16_t v;

		/* Biased so that many descriptors point into RAM (addr words
		 * 0x0004 and 0) and chain, and some do not. */
		switch (r & 7) {
		case 0: v = (uint16_t)(r >> 32); break;		/* anything */
		case 1: v = (r >> 32) % (QSZ + 2); break;	/* index-ish */
		case 2: v = (r >> 32) & 7; break;		/* flags */
		case 3: v = RAM_GPA >> 16; break;
		case 4: case 5: v = 0; break;
		default: v = (uint16_t)((r >> 32) % 0x400); break;
		}
		if (slot == AVAIL_IDX_WORD)
			continue;	/* the main thread publishes idx */
		w[slot] = v;
	}
	return NULL;
}

static bool inside(const struct iovec *v)
{
	const uint8_t *p = v->iov_base;

	return p >= ram && p <= ram + RAM_SIZE &&
	       v->iov_len <= (uint64_t)(ram + RAM_SIZE - p);
}

static void test_concurrent_driver(void)
{
	static struct virtq_chain chain;
	struct guest_mem mem = { 0 };
	struct virtqueue vq;
	pthread_t th;
	struct timespec t0, now;
	unsigned long pops = 0, ok = 0, bad = 0, broken = 0, escapes = 0;

	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	CHECK(pthread_create(&th, NULL, scribbler, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		virtq_reset(&vq);
		vq.size = QSZ;
		vq.desc_gpa = RAM_GPA;
		vq.avail_gpa = RAM_GPA + AVAIL_OFF;
		vq.used_gpa = RAM_GPA + 0x4000;	/* out of the scribbler's way */
		vq.ready = true;
		vq.event_idx = true;
		vq.indirect = true;
		if (!virtq_activate(&vq, &mem))
			break;
		for (int i = 0; i < 64; i++) {
			enum virtq_pop_result r;

			/* Publish one more entry, as a driver would. */
			__atomic_store_n((uint16_t *)(ram + AVAIL_OFF + 2),
					 (uint16_t)(vq.last_avail_idx + 1),
					 __ATOMIC_RELEASE);
			r = virtq_pop(&vq, &chain);

			pops++;
			if (r == VIRTQ_POP_BROKEN) {
				broken++;
				break;
			}
			if (r == VIRTQ_POP_EMPTY)
				continue;
			if (r == VIRTQ_POP_BAD_CHAIN) {
				bad++;
			} else {
				ok++;
				for (unsigned int j = 0;
				     j < chain.nr_out + chain.nr_in; j++)
					escapes += !inside(&chain.iov[j]);
			}
			virtq_push(&vq, chain.head, 0);
			virtq_should_notify(&vq);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000000000L +
		 (now.tv_nsec - t0.tv_nsec) < 300000000L);
	stop = 1;
	pthread_join(th, NULL);
	CHECK_EQ(escapes, 0);
	CHECK(pops > 0);
	fprintf(stderr, "race: %lu pops: %lu ok, %lu bad chains, %lu broken\n",
		pops, ok, bad, broken);
}

int main(void)
{
	RUN(test_concurrent_driver);
	return unit_finish("virtq_race");
}
