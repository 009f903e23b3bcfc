/* One virtio-mmio device attached to the VM: its transport, its workers,
 * its KVM interrupt/notification wiring and its place on the guest bus.
 * The VM keeps them in a list (vm->virtio_devs) in attach order for the
 * exit statistics. Private to src/devmgr/. */
#ifndef MMVM_DEVMGR_VIRTIO_ATTACHED_H
#define MMVM_DEVMGR_VIRTIO_ATTACHED_H

#include "irq/virtio_irq.h"
#include "virtio/mmio_transport.h"
#include "vmm/event_loop.h"

struct virtio_attached {
	struct virtio_attached *next;
	char name[24];		/* "blk0" */
	uint64_t base;
	uint64_t window;
	unsigned int gsi;
	struct virtio_mmio_dev t;
	struct virtio_irq irq;
	struct virtio_device_env env;	/* what the device was given */
	bool workers_started;
};

#endif
