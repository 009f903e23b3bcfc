/* Creates every virtio device the command line asked for, and reports
 * their counters at exit. */
#ifndef MMVM_DEVICES_VIRTIO_DEVICES_H
#define MMVM_DEVICES_VIRTIO_DEVICES_H

#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

/* Creates, in this order (which fixes their MMIO slots, GSIs and names):
 * every --disk (blk0..), every --net (net0..), the virtio console, the
 * rng. Call after the VM, its memory, MMIO bus and I/O loop exist and
 * before the kernel command line is written into the guest. Returns 0, or
 * -1 after printing a one-line error. */
int virtio_devices_setup(struct vm *vm);

/* One attached device's place on the guest bus, for the platform's
 * description of it (ACPI tables). */
struct virtio_slot {
	uint64_t base, window;
	unsigned int gsi;
};

/* The attached devices' slots in attach order; returns how many (at most
 * max are written). */
unsigned int virtio_devices_slots(const struct vm *vm, struct virtio_slot *out,
				  unsigned int max);

/* Prints each device's transport and interrupt/notification counters as
 * "<dev>.<key> <value>" lines. Call at exit, after the vCPUs and the I/O
 * thread have stopped. */
void virtio_devices_print_stats(struct vm *vm, FILE *f);

#endif
