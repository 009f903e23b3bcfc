/* Draining a virtqueue on its worker; see queue_run.h. */
#include "virtio/queue_run.h"

void virtio_queue_run(struct virtio_queue *q, struct virtio_interrupt *irq,
		      struct virtq_chain *chain, virtio_chain_fn handle,
		      void *dev)
{
	struct virtqueue *vq = &q->vq;
	bool pushed = false, broken = false;
	int r;

	if (!virtio_queue_begin(q))
		return;
	/* Kicks are off while we drain; re-enabling them re-checks the ring
	 * so a buffer added in between is not missed. */
	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, chain)) != VIRTQ_POP_EMPTY) {
			if (r == VIRTQ_POP_BROKEN) {
				broken = true;
				break;
			}
			virtq_push(vq, chain->head, r == VIRTQ_POP_OK ?
				   handle(dev, q->index, chain) : 0);
			pushed = true;
		}
	} while (!broken && virtq_enable_notify(vq));
	/* Delivered before unlocking: a reset in between would get them. */
	if (pushed && virtq_should_notify(vq))
		virtio_interrupt_queue(irq, q->index);
	if (broken)
		virtio_interrupt_needs_reset(irq);
	virtio_queue_end(q);
}
