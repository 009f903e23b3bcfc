/* virtio-blk device model over a raw image file (or host block device). */
#ifndef MMVM_DEVICES_VIRTIO_BLK_H
#define MMVM_DEVICES_VIRTIO_BLK_H

#include <stddef.h>

#include "vmm/config.h"
#include "virtio/virtio_device.h"

#define VIRTIO_ID_BLOCK		2

/* (BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES: devices/virtio_blk_req.h) */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_MQ		12

#define VIRTIO_BLK_QUEUE_SIZE	256
#define VIRTIO_BLK_MAX_QUEUES	MMVM_MAX_DISK_QUEUES

/* Opens dc->path (read-only with dc->read_only, O_DIRECT with dc->direct)
 * and makes the device for the device manager: dc->queues queues (0: the
 * default_queues given, one per vCPU), each with its own worker. Returns
 * 0, or -1 after printing a one-line error. */
int virtio_blk_new(const struct disk_config *dc, unsigned int index,
		   unsigned int default_queues,
		   struct virtio_device_spec *spec);

/* The API's PATCH /drives/{id} on a running VM: dev (the spec's dev)
 * moves to the image at path; the guest gets a config interrupt and
 * re-reads the capacity. Returns 0, or -1 with one line in err. */
int virtio_blk_swap(void *dev, const char *path, char *err, size_t errlen);

#endif
