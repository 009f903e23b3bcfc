/* Puts a virtio device model on the VM: a virtio-mmio window on the MMIO
 * bus, its worker threads, its legacy GSI or MSI vectors wired through
 * KVM irqfds, its queue notifications wired through KVM ioeventfds to the
 * queues' workers, and its `virtio_mmio.device=` entry on the guest
 * command line. The device model itself (src/devices/) sees only
 * virtio/virtio_device.h. */
#ifndef MMVM_DEVMGR_VIRTIO_ATTACH_H
#define MMVM_DEVMGR_VIRTIO_ATTACH_H

#include "virtio/virtio_device.h"
#include "vmm/vm.h"

/* Attaches spec's device and binds it (spec->ops->bind). The device name
 * for logs and stats is "<ops->name><index>". Returns 0, or -1 after
 * printing a one-line error (what was attached stays with the VM, which
 * is about to be torn down). */
int virtio_attach(struct vm *vm, const struct virtio_device_spec *spec);

#endif
