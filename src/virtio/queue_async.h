/* The submit/complete queue engine: a device takes chains, submits them
 * to the host, and completes them later, in any order, from its worker.
 *
 * Each queue has a bounded number of in-flight slots. A round
 * (virtio_async_run(), on a doorbell, or virtio_async_complete_end()
 * after completions) takes every available chain while a slot is free,
 * hands each to the device's submit, then calls the device's flush once
 * for the batch (io_uring: one io_uring_enter for all of them). A
 * request the device finishes on the spot (a malformed chain, a
 * synchronous engine, a GET_ID) is completed at once, in the same batch.
 * Completions push used entries; the interrupt is decided once per batch
 * (virtq_should_notify(): EVENT_IDX or NO_INTERRUPT), on completions as
 * on submissions.
 *
 * Polling (poll set, virtio/queue_run.h, the same window, budget and
 * adaptive rule as the synchronous engine): after a round that did work
 * the worker watches the avail ring, and the device's completions
 * (ops->ready), for the window: a chain the driver adds is taken without
 * a doorbell, a request the host finishes is completed without the
 * eventfd's wake-up. Work is a chain submitted, one answered at submit
 * with data and not refused, or a completion; junk opens no window.
 *
 * With every slot taken, the round stops with the driver's notifications
 * left off: the completion that frees a slot takes the next chains, so
 * the driver's doorbells would only cost exits. Once the ring is empty
 * and a slot free, notifications go back on (and the ring is looked at
 * once more, so a chain added meanwhile is not missed).
 *
 * Locking: everything here runs with the queue's lock held (the worker
 * between virtio_queue_begin() and _end(); a reset on a vCPU, which holds
 * every queue's lock). The engine keeps only the head of each chain it
 * submitted: the device keeps, per slot, copies of whatever it needs at
 * completion (host pointers translated at submit), and never reads the
 * descriptor table again. A reset must first wait for (or cancel) every
 * request the host still has (the device's business: it owns the host
 * side), then call virtio_async_reset(): the slots are dropped without
 * touching the used ring, which belongs to the next driver.
 */
#ifndef MMVM_VIRTIO_QUEUE_ASYNC_H
#define MMVM_VIRTIO_QUEUE_ASYNC_H

#include <stdint.h>
#include <stdio.h>

#include "virtio/queue_run.h"
#include "virtio/virtio_device.h"

#define VIRTIO_ASYNC_MAX_SLOTS	256

/* submit's answer for a request it handed to the host. */
#define VIRTIO_ASYNC_PENDING	(-1)

struct virtio_async_queue;

struct virtio_async_ops {
	/* Starts chain in slot (0..nr_slots). Returns the used length if
	 * the request is finished (the engine completes it now), or
	 * VIRTIO_ASYNC_PENDING: the device completes it later with
	 * virtio_async_complete(). chain is the engine's scratch, valid
	 * during the call only. Sets chain->refused as for
	 * virtio_chain_fn. */
	int64_t (*submit)(void *dev, struct virtio_async_queue *aq,
			  unsigned int slot, struct virtq_chain *chain);
	/* The chains of a round are submitted: hand the batch to the host
	 * (optional). */
	void (*flush)(void *dev, struct virtio_async_queue *aq);
	/* Optional: completes (virtio_async_complete()) whatever the host
	 * has finished, without blocking; returns how many. A round calls
	 * it first, and a poll window stops early when ready() says there
	 * is something (optional too). */
	unsigned int (*reap)(void *dev, struct virtio_async_queue *aq);
	bool (*ready)(void *dev);
};

struct virtio_async_stats {
	uint64_t submissions;	/* chains submitted (answered later) */
	uint64_t immediate;	/* chains answered at submit */
	uint64_t completions;	/* completed after submit */
	uint64_t batches;	/* flushes of one or more submissions */
	uint64_t full;		/* rounds stopped by every slot in use */
	uint64_t dropped;	/* in flight at a reset: never completed */
	uint64_t interrupts;	/* interrupts sent */
	unsigned int inflight_max;
};

struct virtio_async_queue {
	struct virtio_queue *q;
	struct virtio_interrupt *irq;
	const struct virtio_async_ops *ops;
	void *dev;
	unsigned int nr_slots;
	unsigned int inflight;		/* slots in use */
	unsigned int nr_free;
	uint16_t *free;			/* [nr_slots]: free slots, a stack */
	uint16_t *head;			/* [nr_slots]: the chain in each */
	uint8_t *busy;			/* [nr_slots] */
	bool pushed;			/* used entries not yet signalled */
	struct virtq_chain *chain;	/* scratch for virtq_pop() */
	struct virtio_queue_poll *poll;	/* NULL: no polling */
	struct virtio_async_stats stats;
};

/* nr_slots in 1..VIRTIO_ASYNC_MAX_SLOTS. Returns 0 or -ENOMEM/-EINVAL. */
int virtio_async_init(struct virtio_async_queue *aq, struct virtio_queue *q,
		      struct virtio_interrupt *irq,
		      const struct virtio_async_ops *ops, void *dev,
		      unsigned int nr_slots);
void virtio_async_destroy(struct virtio_async_queue *aq);

/* On the queue's worker, no lock held (queue_notify): takes the lock and
 * runs a round. */
void virtio_async_run(struct virtio_async_queue *aq);

/* Completions, on the worker: begin() takes the lock (false: the queue
 * is not live, nothing may be completed; the reset that made it so has
 * dropped the slots); complete() pushes slot's used entry and frees the
 * slot; end() runs a round (the freed slots take new chains), sends the
 * batch's interrupt if the driver wants one, and drops the lock. */
bool virtio_async_complete_begin(struct virtio_async_queue *aq);
void virtio_async_complete(struct virtio_async_queue *aq, unsigned int slot,
			   uint32_t len);
void virtio_async_complete_end(struct virtio_async_queue *aq);

/* With the lock held: the interrupt for used entries pushed outside a
 * round (virtio_async_complete() called by a device on its own), if the
 * driver wants one. */
void virtio_async_signal(struct virtio_async_queue *aq);

/* A round with the lock already held (what run and complete_end do). */
void virtio_async_round(struct virtio_async_queue *aq);

/* The queue is being reset (its lock held) and the device has made sure
 * the host no longer touches any slot's buffers: every slot is freed,
 * the used ring left alone. */
void virtio_async_reset(struct virtio_async_queue *aq);

/* --stats lines "<name>.<kind>_<counter>_<i>". */
void virtio_async_print(const struct virtio_async_queue *aq,
			const char *name, const char *kind, unsigned int i,
			FILE *f);

#endif
