/* One virtual machine: the KVM VM fd, its memory and the buses and threads
 * that devices hang off. Created by vm_create(), run by vm_run(). */
#ifndef MMVM_VMM_VM_H
#define MMVM_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/bzimage.h"
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
struct serial;

/* How the run ends: the first vm_request_exit() wins, the main thread
 * (vm_wait_exit) tears everything down. */
struct vm_exit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;
	int status;
	char msg[256];
	bool panicking;			/* pvpanic: panicked, let it print */
	bool crashed;			/* pvpanic: a crash kernel took over */
	uint64_t last_output_ns;	/* for the panic's quiet period */
};

/* Pause (the API's PATCH /vm): vCPUs park outside KVM_RUN until
 * resumed (vm_pause.h). */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;			/* atomic read in the vCPU loop */
	unsigned int parked;		/* vCPUs waiting in vcpu_pause_point */
};

/* The kernel and initrd as they will be loaded. */
struct vm_boot {
	const uint8_t *image;		/* whole bzImage file; NULL once loaded */
	size_t image_len;
	struct bzimage_info info;
	uint64_t initrd_addr, initrd_size;
};

struct gsi_routing;
struct platform;
struct virtio_attached;

struct vm {
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	const struct mmvm_config *cfg;
	struct guest_mem mem;
	struct mmio_bus mmio;
	/* Port I/O: the same range bus, with port numbers for addresses
	 * (serial, legacy PC ports, ACPI power management, pvpanic). */
	struct mmio_bus pio;
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

	/* VMM core (src/vmm, src/main.c). */
	struct vm_boot boot;
	struct serial *serial;
	struct platform *platform;	/* src/vmm/platform.c */
	struct vm_exit exit;
	struct vm_pause pause;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at mmvm start */
	uint64_t pio_unhandled;		/* port accesses nobody claimed */
	uint8_t *ram;			/* host mapping of all guest RAM */
	uint64_t ram_size;
};

/* Guest-physical layout of RAM: 0..min(mem, 3 GiB), the rest from 4 GiB.
 * The 3..4 GiB gap holds the virtio windows, IOAPIC and LAPIC. */
#define VM_RAM_32BIT_END	0xc0000000ULL
#define VM_RAM_HIGH_START	0x100000000ULL

/* Opens /dev/kvm, creates the VM, its memory, irqchip and PIT. On failure
 * writes a one-line reason into err and returns -1. */
int vm_create(struct vm *vm, const struct mmvm_config *cfg, char *err,
	      size_t errlen);
void vm_destroy(struct vm *vm);

/* Largest vCPU count KVM allows for this VM (KVM_CAP_MAX_VCPUS). */
unsigned int vm_max_vcpus(struct vm *vm);

/* Monotonic nanoseconds, the clock all mmvm timings use. */
uint64_t vm_now_ns(void);

/* Raises or lowers a GSI (KVM_IRQ_LINE). */
int vm_irq_line(struct vm *vm, unsigned int gsi, int level);

/* Adds str to the kernel's parameters in the guest command line: at the
 * end, or just before a "--" (after which the words are init's
 * arguments). False if it would not fit. */
bool vm_cmdline_append(struct vm *vm, const char *str);

/* Reserves the next virtio-mmio slot: window base address and legacy GSI. */
bool vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, unsigned int *gsi);

#endif
