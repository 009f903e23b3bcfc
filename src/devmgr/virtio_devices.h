/* The device manager: creates every virtio device the command line asked
 * for from one table of device kinds, runs their workers, and reports
 * their counters at exit. */
#ifndef MMVM_DEVMGR_VIRTIO_DEVICES_H
#define MMVM_DEVMGR_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

/* Creates, in table order (which fixes their MMIO slots, GSIs and names):
 * every --disk (blk0..), every --net (net0..), the virtio console, the
 * rng. Call after the VM, its memory, MMIO bus and I/O loop exist and
 * before the kernel command line is written into the guest. Returns 0, or
 * -1 after printing a one-line error. */
int virtio_devices_setup(struct vm *vm);

/* Starts / stops (and joins) every device's worker threads. Start once
 * the guest may run; stop before the counters are read. stop returns
 * false if a worker would not leave (the VM must then not be freed). */
int virtio_devices_start(struct vm *vm);
bool virtio_devices_stop(struct vm *vm);

/* Every device's ops->shutdown (blk: fdatasync of writable images), at
 * exit after virtio_devices_stop(), before the stats. Returns false if
 * one failed (each said why on stderr). */
bool virtio_devices_shutdown(struct vm *vm);

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

/* Prints each device's transport, interrupt/notification and own
 * counters as "<dev>.<key> <value>" lines. Call at exit, after the vCPUs
 * and the workers have stopped. */
void virtio_devices_print_stats(struct vm *vm, FILE *f);

/* The API's pause: every device worker finishes the callback it runs and
 * waits (event_loop_pause); false with pause: not all did within a
 * second. Resume with pause false. */
bool virtio_devices_pause(struct vm *vm, bool pause);

/* The API's PATCH /drives/{id}: disk index (blkN) moves to the image at
 * path (virtio_blk_swap()). 0, or -1 with one line in err. */
int virtio_devices_blk_swap(struct vm *vm, unsigned int index,
			    const char *path, char *err, size_t errlen);

#endif
