/* Draining a virtqueue on the I/O thread; see virtio_queue_run.h. */
#include "devices/virtio_queue_run.h"

void virtio_queue_run(struct virtio_mmio_dev *t, unsigned int queue,
		      struct virtq_chain *chain, virtio_chain_fn handle,
		      void *dev)
{
	bool pushed = false, broken = false, notify = false;
	struct virtqueue *vq;
	int r;

	pthread_mutex_lock(&t->lock);
	if (queue >= virtio_mmio_num_queues(t) ||
	    !(t->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (t->status & VIRTIO_STATUS_NEEDS_RESET))
		goto out;
	vq = &t->vqs[queue];
	if (!vq->ready || vq->broken)
		goto out;

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
				   handle(dev, queue, chain) : 0);
			pushed = true;
		}
	} while (!broken && virtq_enable_notify(vq));
	notify = pushed && virtq_should_notify(vq);
	/* Delivered before unlocking: a reset in between would get them. */
	if (notify)
		virtio_mmio_signal_queue_locked(t, queue);
	if (broken)
		virtio_mmio_set_needs_reset_locked(t);
out:
	pthread_mutex_unlock(&t->lock);
}
