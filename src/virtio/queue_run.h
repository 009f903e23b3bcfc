/* The worker loop shared by virtio device models: drain one queue,
 * complete every chain, and interrupt the driver if it asked for it. */
#ifndef MMVM_VIRTIO_QUEUE_RUN_H
#define MMVM_VIRTIO_QUEUE_RUN_H

#include <stdio.h>

#include "virtio/virtio_device.h"

/* Handles one well-formed chain; returns the used length (bytes written
 * into the chain's device-writable buffers). */
typedef uint32_t (*virtio_chain_fn)(void *dev, unsigned int queue,
				    struct virtq_chain *chain);

/* Bounded polling of one queue (owned by the device, one per queue).
 * After a round that served chains, the worker keeps notifications off
 * and watches the avail ring for up to ns: a request the driver adds
 * meanwhile is taken without a doorbell (and without its VM exit or
 * wake-up). Polling starts only after work, so an idle queue costs
 * nothing. */
struct virtio_queue_poll {
	uint64_t ns;		/* the bound; 0: no polling */
	uint64_t polls;		/* poll windows opened */
	uint64_t hits;		/* ... that found a chain */
	uint64_t spin_ns;	/* time spent watching the ring */
};

/* The clock poll windows are measured on (CLOCK_MONOTONIC, ns). */
uint64_t virtio_poll_now_ns(void);

/* --stats lines of one poll's counters: "<name>.<kind>_polls_<i>",
 * "_poll_hits_<i>", "_poll_us_<i>" (kind: "blk", "net"). */
void virtio_queue_poll_print(const struct virtio_queue_poll *p,
			     const char *name, const char *kind,
			     unsigned int i, FILE *f);

/* Call from the device's queue_notify (q's worker). Holds q's lock while
 * it touches the ring, so a reset from a vCPU cannot take the ring away in
 * the middle of a request, and still holds it while it sends the
 * interrupt and sets DEVICE_NEEDS_RESET, so a reset cannot come between
 * deciding and delivering; handle is called with q's lock held. A
 * malformed chain is completed with length 0; a broken ring sets
 * DEVICE_NEEDS_RESET. chain is the caller's scratch space (it is large:
 * one per worker). */
void virtio_queue_run(struct virtio_queue *q, struct virtio_interrupt *irq,
		      struct virtq_chain *chain, virtio_chain_fn handle,
		      void *dev);

/* The same, polling as poll says (NULL or ns 0: as virtio_queue_run).
 * The chains served before a poll window are completed and interrupted
 * for first, so polling never delays a completion. q's lock is held
 * through the window: a reset waits at most poll->ns. */
void virtio_queue_run_polled(struct virtio_queue *q,
			     struct virtio_interrupt *irq,
			     struct virtq_chain *chain, virtio_chain_fn handle,
			     void *dev, struct virtio_queue_poll *poll);

#endif
