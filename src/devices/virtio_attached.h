/* One virtio-mmio device attached to the VM: its transport, its KVM
 * interrupt/notification wiring and its place on the guest bus. The VM
 * keeps them in a list (vm->virtio_devs) in attach order for the exit
 * statistics. Private to src/devices/virtio_attach.c and virtio_devices.c.
 */
#ifndef MMVM_DEVICES_VIRTIO_ATTACHED_H
#define MMVM_DEVICES_VIRTIO_ATTACHED_H

#include "devices/virtio_attach.h"
#include "irq/virtio_irq.h"
#include "virtio/mmio_transport.h"

struct virtio_attached {
	struct virtio_attached *next;
	char name[24];		/* "blk0" */
	uint64_t base;
	uint64_t window;
	unsigned int gsi;
	struct virtio_mmio_dev t;
	struct virtio_irq irq;
	virtio_stats_fn print_stats;	/* device model's own counters */
};

#endif
