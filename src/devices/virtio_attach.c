/* virtio_attach(): slot, transport, MMIO window, KVM wiring, command line. */
#include "devices/virtio_attach.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_attached.h"

static void window_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	virtio_mmio_read(opaque, off, data, len);
}

static void window_write(void *opaque, uint64_t off, const void *data,
			 uint32_t len)
{
	virtio_mmio_write(opaque, off, data, len);
}

/* Devices are numbered per type in attach order: blk0, blk1, net0... */
static unsigned int type_index(const struct vm *vm, const char *type)
{
	const struct virtio_attached *a;
	unsigned int n = 0;

	for (a = vm->virtio_devs; a; a = a->next)
		if (a->t.ops->name && !strcmp(a->t.ops->name, type))
			n++;
	return n;
}

static void append(struct vm *vm, struct virtio_attached *a)
{
	struct virtio_attached **p = &vm->virtio_devs;

	while (*p)
		p = &(*p)->next;
	*p = a;
}

struct virtio_mmio_dev *virtio_attach(struct vm *vm,
				      const struct virtio_dev_ops *ops,
				      void *dev)
{
	const char *type = ops->name ? ops->name : "virtio";
	struct virtio_mmio_config cfg = {
		.version = vm->cfg->virtio_version,
		.msi = vm->cfg->virtio_msi,
		.no_doorbells = !vm->cfg->virtio_doorbells,
	};
	struct virtio_attached *a;
	char entry[80];

	a = calloc(1, sizeof(*a));
	if (!a) {
		fprintf(stderr, "mmvm: %s: out of memory\n", type);
		return NULL;
	}
	snprintf(a->name, sizeof(a->name), "%s%u", type, type_index(vm, type));
	if (!vm_alloc_mmio_slot(vm, &a->base, &a->gsi)) {
		fprintf(stderr, "mmvm: %s: too many virtio devices (at most "
			"%u)\n", a->name, VM_MMIO_MAX_DEVICES);
		goto fail;
	}

	virtio_irq_init(&a->irq, vm, &a->t, a->name, a->base, a->gsi);
	virtio_mmio_init(&a->t, &cfg, ops, dev, &virtio_irq_host_ops, &a->irq,
			 &vm->mem);
	virtio_mmio_set_name(&a->t, a->name);
	a->window = virtio_mmio_window_size(&a->t);

	if (!mmio_bus_register(&vm->mmio, a->base, a->window, window_read,
			       window_write, &a->t)) {
		fprintf(stderr, "mmvm: %s: cannot map its MMIO window at "
			"0x%" PRIx64 "\n", a->name, a->base);
		goto fail_transport;
	}
	if (virtio_irq_wire(&a->irq))
		goto fail_transport;	/* KVM objects die with the VM */

	/* With ACPI the DSDT describes the device (src/vmm/platform.c);
	 * without, the kernel's virtio_mmio.device= parameter does. */
	snprintf(entry, sizeof(entry), "virtio_mmio.device=%" PRIu64
		 "K@0x%" PRIx64 ":%u", a->window >> 10, a->base, a->gsi);
	if (!vm->cfg->acpi && !vm_cmdline_append(vm, entry)) {
		fprintf(stderr, "mmvm: %s: kernel command line too long\n",
			a->name);
		goto fail_transport;
	}
	append(vm, a);
	return &a->t;

fail_transport:
	/* The window may stay registered on the bus; the VM is about to be
	 * torn down on this error, so keep the memory rather than leave a
	 * dangling pointer in the bus. */
	return NULL;
fail:
	free(a);
	return NULL;
}

void virtio_attach_set_stats(struct virtio_mmio_dev *t, virtio_stats_fn fn)
{
	struct virtio_attached *a = (struct virtio_attached *)
		((char *)t - offsetof(struct virtio_attached, t));

	a->print_stats = fn;
}
