/* The worker loop shared by virtio device models: drain one queue,
 * complete every chain, and interrupt the driver if it asked for it. */
#ifndef MMVM_VIRTIO_QUEUE_RUN_H
#define MMVM_VIRTIO_QUEUE_RUN_H

#include "virtio/virtio_device.h"

/* Handles one well-formed chain; returns the used length (bytes written
 * into the chain's device-writable buffers). */
typedef uint32_t (*virtio_chain_fn)(void *dev, unsigned int queue,
				    struct virtq_chain *chain);

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

#endif
