/* One virtual machine: the KVM VM fd, its memory and the buses and threads
 * that devices hang off. Created by vm_create(), run by vm_run(). */
#ifndef MMVM_VMM_VM_H
#define MMVM_VMM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/event_loop.h"
#include "vmm/guest_mem.h"
#include "vmm/mmio_bus.h"

/* Guest-physical layout (see docs/memory-map.md). Virtio-mmio windows
 * sit below the IOAPIC hole; legacy IRQs for them start at GSI 5. */
#define VM_MMIO_DEVICES_BASE	0xd0000000ULL
#define VM_MMIO_DEVICE_STRIDE	0x2000ULL	/* fits a v3 window */
#define VM_MMIO_FIRST_IRQ	5
#define VM_MMIO_MAX_DEVICES	16

struct vcpu;
struct gsi_routing;
struct virtio_attached;

struct vm {
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	const struct mmvm_config *cfg;
	struct guest_mem mem;
	struct mmio_bus mmio;
	struct event_loop *io;		/* the I/O thread */
	unsigned int nr_vcpus;
	struct vcpu **vcpus;

	/* Kernel command line being built: user's, then device entries. */
	char cmdline[4096];

	/* Next free virtio-mmio slot (window base and IRQ). */
	unsigned int nr_mmio_devices;

	/* src/irq and src/devices (virtio_attach): the VM's full GSI routing
	 * table and the list of attached virtio devices, both created on
	 * first use and owned by the VM until exit. */
	struct gsi_routing *gsi_routing;
	struct virtio_attached *virtio_devs;
};

/* Appends " str" to the guest command line; false if it would not fit. */
bool vm_cmdline_append(struct vm *vm, const char *str);

/* Reserves the next virtio-mmio slot: window base address and legacy GSI. */
bool vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, unsigned int *gsi);

#endif
