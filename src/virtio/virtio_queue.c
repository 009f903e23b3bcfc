/* A device's hold on one of its queues; see virtio_device.h. */
#include "virtio/virtio_device.h"

/* From virtio/mmio_transport.h, which a device does not include. */
#define STATUS_NEEDS_RESET	64

bool virtio_queue_usable(const struct virtio_queue *q)
{
	return q->live &&
	       !(__atomic_load_n(q->device_status, __ATOMIC_ACQUIRE) &
		 STATUS_NEEDS_RESET) &&
	       !q->vq.broken;
}

bool virtio_queue_begin(struct virtio_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (virtio_queue_usable(q))
		return true;
	pthread_mutex_unlock(&q->lock);
	return false;
}

void virtio_queue_end(struct virtio_queue *q)
{
	pthread_mutex_unlock(&q->lock);
}
