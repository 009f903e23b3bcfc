/* Puts a virtio device model on the VM: a virtio-mmio window on the MMIO
 * bus, its legacy GSI or MSI vectors wired through KVM irqfds, its queue
 * notifications wired through KVM ioeventfds to the I/O thread, and its
 * `virtio_mmio.device=` entry on the guest command line. */
#ifndef MMVM_DEVICES_VIRTIO_ATTACH_H
#define MMVM_DEVICES_VIRTIO_ATTACH_H

#include "virtio/mmio_transport.h"
#include "vmm/vm.h"

/* Returns the transport (owned by the VM until exit) or NULL after printing
 * a one-line error. ops->queue_notify will run on the I/O thread. The
 * device name for logs and stats is "<ops->name><index>". */
struct virtio_mmio_dev *virtio_attach(struct vm *vm,
				      const struct virtio_dev_ops *ops,
				      void *dev);

/* Optional: extra device-model counters for the exit statistics, printed
 * after the transport's as "<name>.<key> <value>" lines; fn gets the
 * device name and the dev pointer given to virtio_attach(). */
#include <stdio.h>
typedef void (*virtio_stats_fn)(void *dev, const char *name, FILE *f);
void virtio_attach_set_stats(struct virtio_mmio_dev *t, virtio_stats_fn fn);

#endif
