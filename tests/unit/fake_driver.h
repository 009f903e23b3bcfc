/* The driver half of a device-model test: split virtqueues laid out in the
 * test's fake guest RAM, set up through the transport's registers, chains
 * posted to the avail ring and used elements reaped, as a guest would. */
#ifndef MMVM_TESTS_FAKE_DRIVER_H
#define MMVM_TESTS_FAKE_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtio/mmio_transport.h"
#include "virtio/virtqueue.h"

#define FAKE_MAX_QUEUES	8

/* Queue q's desc, avail and used areas, one page each, 16 KiB apart. */
static inline uint64_t fake_desc_gpa(unsigned int q) { return 0x1000 + q * 0x4000; }
static inline uint64_t fake_avail_gpa(unsigned int q) { return 0x2000 + q * 0x4000; }
static inline uint64_t fake_used_gpa(unsigned int q) { return 0x3000 + q * 0x4000; }

struct fake_driver {
	struct virtio_mmio_dev *t;
	uint8_t *ram;		/* guest RAM from gpa 0 */
	unsigned int qsize;
	uint16_t avail_idx[FAKE_MAX_QUEUES], used_seen[FAKE_MAX_QUEUES];
};

/* One descriptor of a chain. */
struct fake_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

static inline void fake_driver_init(struct fake_driver *d,
				    struct virtio_mmio_dev *t, uint8_t *ram,
				    unsigned int qsize)
{
	memset(d, 0, sizeof(*d));
	d->t = t;
	d->ram = ram;
	d->qsize = qsize;
}

static inline void fake_wr32(struct fake_driver *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(d->t, off, &v, 4);
}

/* Sizes, places and readies queues 0..nq-1 (between FEATURES_OK and
 * DRIVER_OK). */
static inline void fake_setup_queues(struct fake_driver *d, unsigned int nq)
{
	for (unsigned int q = 0; q < nq && q < FAKE_MAX_QUEUES; q++) {
		fake_wr32(d, VIRTIO_MMIO_QUEUE_SEL, q);
		fake_wr32(d, VIRTIO_MMIO_QUEUE_NUM, d->qsize);
		fake_wr32(d, VIRTIO_MMIO_QUEUE_DESC_LOW,
			  (uint32_t)fake_desc_gpa(q));
		fake_wr32(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
			  (uint32_t)fake_avail_gpa(q));
		fake_wr32(d, VIRTIO_MMIO_QUEUE_USED_LOW,
			  (uint32_t)fake_used_gpa(q));
		fake_wr32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
}

/* Puts a chain of n segments on queue q's avail ring, in descriptors from
 * slot `first` on (wrapping); returns its head. */
static inline uint16_t fake_post(struct fake_driver *d, unsigned int q,
				 uint16_t first, const struct fake_seg *s,
				 unsigned int n)
{
	struct virtq_desc *desc = (void *)(d->ram + fake_desc_gpa(q));
	uint16_t *avail = (void *)(d->ram + fake_avail_gpa(q));

	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)((first + i) % d->qsize);

		desc[slot].addr = s[i].gpa;
		desc[slot].len = s[i].len;
		desc[slot].flags = (s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		desc[slot].next = (uint16_t)((slot + 1) % d->qsize);
	}
	avail[2 + d->avail_idx[q] % d->qsize] = first;
	d->avail_idx[q]++;
	__atomic_store_n(&avail[1], d->avail_idx[q], __ATOMIC_RELEASE);
	return first;
}

/* Next used element of queue q; false if there is none. */
static inline bool fake_used(struct fake_driver *d, unsigned int q,
			     uint32_t *id, uint32_t *len)
{
	uint16_t *hdr = (void *)(d->ram + fake_used_gpa(q));
	struct virtq_used_elem *ring =
		(void *)(d->ram + fake_used_gpa(q) + 4);
	uint16_t seen = d->used_seen[q];

	if (__atomic_load_n(&hdr[1], __ATOMIC_ACQUIRE) == seen)
		return false;
	*id = ring[seen % d->qsize].id;
	*len = ring[seen % d->qsize].len;
	d->used_seen[q]++;
	return true;
}

#endif
