/* virtio-net device model backed by a host tap interface. */
#ifndef MMVM_DEVICES_VIRTIO_NET_H
#define MMVM_DEVICES_VIRTIO_NET_H

#include "vmm/config.h"
#include "vmm/vm.h"

/* Creates virtio-net device number index (0-based, also the last byte of
 * the default MAC) on tap nc->tap and attaches it to the VM. Returns 0, or
 * -1 after printing a one-line error. */
int virtio_net_create(struct vm *vm, const struct net_config *nc,
		      unsigned int index);

#endif
