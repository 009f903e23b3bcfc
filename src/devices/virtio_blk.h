/* virtio-blk device model over a raw image file (or host block device). */
#ifndef MMVM_DEVICES_VIRTIO_BLK_H
#define MMVM_DEVICES_VIRTIO_BLK_H

#include "vmm/config.h"
#include "vmm/vm.h"

#define VIRTIO_ID_BLOCK		2

#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_MQ		12

#define VIRTIO_BLK_QUEUE_SIZE	256

/* Opens dc->path (read-only with dc->read_only, O_DIRECT with dc->direct)
 * and attaches disk number index (serial "mmvm-blk<index>"). Returns 0, or
 * -1 after printing a one-line error such as
 * "mmvm: --disk PATH: No such file or directory". */
int virtio_blk_create(struct vm *vm, const struct disk_config *dc,
		      unsigned int index);

#endif
