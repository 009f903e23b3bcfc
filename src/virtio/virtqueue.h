/* Split virtqueue, device side (virtio 1.2 section 2.7).
 *
 * The ring lives in guest memory and every field of it is hostile: each
 * descriptor's address and length is checked against guest RAM, each index
 * against the queue size, chains are bounded by the queue size (which also
 * catches loops), and an indirect table may not contain another indirect
 * descriptor. A bad chain fails that one request; it never crashes the VMM.
 *
 * Threading: a virtqueue is used by one thread at a time (the device's I/O
 * thread); the transport configures it under the device lock before
 * DRIVER_OK and after reset only.
 */
#ifndef MMVM_VIRTIO_VIRTQUEUE_H
#define MMVM_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

#define VIRTQ_MAX_SIZE 32768

/* Descriptor flags */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* Ring flags */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1	/* driver: don't interrupt me */
#define VIRTQ_USED_F_NO_NOTIFY     1	/* device: don't kick me */

/* Longest chain virtq_pop accepts, in bytes (used.len is 32 bits). */
#define VIRTQ_MAX_CHAIN_BYTES (1ULL << 32)

/* Guest-visible layout (virtio 1.2 2.7), little-endian on x86. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtqueue {
	/* Set by the transport from the driver's registers. */
	uint16_t size;		/* QueueNum, a power of two <= VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;
	bool event_idx;		/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */

	/* Device-private state. */
	const struct guest_mem *mem;
	uint16_t last_avail_idx;	/* next avail entry to consume */
	uint16_t used_idx;		/* shadow of used->idx */
	uint16_t signalled_used;	/* used idx at last interrupt */
	bool signalled_used_valid;
	bool broken;		/* ring itself unusable: bad addresses at
				 * activation, avail idx or a head out of
				 * range; stays set until reset/activate */
	bool notify_disabled;	/* virtq_disable_notify() in effect */
	const char *last_error;	/* why the last pop/activate failed, for
				 * the device's log line; static string */
	/* Host views of the three ring areas, set by virtq_activate(). The
	 * regions of guest RAM never move, so these stay valid. */
	struct virtq_desc *desc;
	uint16_t *avail;	/* flags, idx, ring[size], used_event */
	uint16_t *used_hdr;	/* flags, idx */
	struct virtq_used_elem *used_ring;	/* ring[size], avail_event */
};

/* Bytes of each ring area for a queue of n entries, event fields included. */
static inline uint64_t virtq_desc_bytes(unsigned int n)
{
	return 16ULL * n;
}

static inline uint64_t virtq_avail_bytes(unsigned int n)
{
	return 6ULL + 2ULL * n;
}

static inline uint64_t virtq_used_bytes(unsigned int n)
{
	return 6ULL + 8ULL * n;
}

/* One request: the chain's buffers as host iovecs, readable ones first
 * (the spec requires device-readable before device-writable). */
#define VIRTQ_MAX_SEGS 1024
struct virtq_chain {
	uint16_t head;		/* id to return in the used ring */
	unsigned int nr_out;	/* device-readable segments: iov[0..nr_out) */
	unsigned int nr_in;	/* device-writable: iov[nr_out..nr_out+nr_in) */
	uint64_t out_len, in_len;	/* byte totals */
	bool refused;		/* set by a device's handler: a request
				 * answered but no work done (malformed,
				 * unknown, empty; queue_run.c: it opens
				 * no poll window) */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

enum virtq_pop_result {
	VIRTQ_POP_EMPTY = 0,	/* nothing available */
	VIRTQ_POP_OK = 1,	/* chain filled in */
	VIRTQ_POP_BAD_CHAIN = -1, /* chain malformed (loop, index or buffer
				   * out of range, bad indirect table, too
				   * long, readable after writable): head
				   * consumed, complete it with len 0
				   * (chain->head is valid, no segments) */
	VIRTQ_POP_BROKEN = -2,	/* ring unusable (vq->broken): device should
				   * set DEVICE_NEEDS_RESET */
};

/* Checks the ring addresses against guest memory and resets indices.
 * Returns false (and marks the queue broken) if they do not fit. */
bool virtq_activate(struct virtqueue *vq, const struct guest_mem *mem);
void virtq_reset(struct virtqueue *vq);

/* Takes the next available chain. With EVENT_IDX and notifications on,
 * also advances avail_event past it. vq->last_error says why on failure. */
enum virtq_pop_result virtq_pop(struct virtqueue *vq, struct virtq_chain *chain);

/* Puts head on the used ring with len bytes written by the device and
 * publishes the new used idx (release). Ignored if head >= size or the
 * queue is not ready or broken. */
void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/* After one or more pushes: true if the driver wants an interrupt now
 * (honours VIRTQ_AVAIL_F_NO_INTERRUPT or used_event with EVENT_IDX).
 * False if nothing was pushed since the previous call. */
bool virtq_should_notify(struct virtqueue *vq);

/* Re-enables driver->device notifications (avail_event / used flags) and
 * returns true if more buffers arrived meanwhile; for poll-then-sleep loops. */
bool virtq_enable_notify(struct virtqueue *vq);
void virtq_disable_notify(struct virtqueue *vq);
/* Has the driver made a chain available that virtq_pop has not taken?
 * A plain look at avail->idx: notifications are left as they are. */
bool virtq_has_avail(const struct virtqueue *vq);
/* With EVENT_IDX: avail->idx minus used_event, how far the chains the
 * driver made available run ahead of the used entry it wants an
 * interrupt for. Both are the driver's and may change at any time: the
 * result is a hint for interrupt timing, never a bound on anything.
 * UINT16_MAX without EVENT_IDX or before the ring is usable. */
uint16_t virtq_driver_backlog(const struct virtqueue *vq);

/* Copies helpers over a chain's iovecs (bounded by what the chain holds). */
uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst,
			  uint64_t len);
uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t off,
			   const void *src, uint64_t len);

#endif
