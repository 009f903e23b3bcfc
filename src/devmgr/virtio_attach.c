/* virtio_attach(): slot, transport, workers, MMIO window, KVM wiring,
 * command line, and the device bound to what it was given. */
#include "devmgr/virtio_attach.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmgr/virtio_attached.h"

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

/* The device's worker threads (event loops, started with the VM by
 * virtio_devices_start()) and which one serves each queue. */
static int make_workers(struct virtio_attached *a,
			struct event_loop *queue_loop[])
{
	const struct virtio_device_ops *ops = a->t.ops;
	unsigned int nq = virtio_mmio_num_queues(&a->t);
	unsigned int n = ops->num_workers ? ops->num_workers : 1;

	if (n > nq && nq)
		n = nq;
	if (n > VIRTIO_MAX_WORKERS)
		n = VIRTIO_MAX_WORKERS;
	for (unsigned int i = 0; i < n; i++) {
		char name[32];	/* event_loop keeps 15 */

		snprintf(name, sizeof(name), "%s-w%u", a->name, i);
		a->env.workers[i] = event_loop_create(name);
		if (!a->env.workers[i]) {
			fprintf(stderr, "mmvm: %s: cannot create worker %u\n",
				a->name, i);
			return -1;
		}
		a->env.nr_workers = i + 1;
	}
	for (unsigned int q = 0; q < nq; q++) {
		unsigned int w = ops->queue_worker ? ops->queue_worker(q) :
			       q % n;

		queue_loop[q] = a->env.workers[w < n ? w : 0];
	}
	return 0;
}

int virtio_attach(struct vm *vm, const struct virtio_device_spec *spec)
{
	const struct virtio_device_ops *ops = spec->ops;
	const char *type = ops->name ? ops->name : "virtio";
	struct virtio_mmio_config cfg = {
		.version = vm->cfg->virtio_version,
		.oasis_v3 = vm->cfg->virtio_oasis_v3,
		.msi = vm->cfg->virtio_msi,
		.no_doorbells = !vm->cfg->virtio_doorbells,
	};
	struct event_loop *queue_loop[VIRTIO_MMIO_MAX_QUEUES] = { 0 };
	struct virtio_attached *a;
	char entry[80];

	if (ops->num_queues > VIRTIO_MMIO_MAX_QUEUES ||
	    ops->config_len > VIRTIO_CONFIG_MAX) {
		fprintf(stderr, "mmvm: %s: %u queues and %u config bytes, at "
			"most %u and %u supported\n", type, ops->num_queues,
			ops->config_len, VIRTIO_MMIO_MAX_QUEUES,
			VIRTIO_CONFIG_MAX);
		return -1;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		fprintf(stderr, "mmvm: %s: out of memory\n", type);
		return -1;
	}
	snprintf(a->name, sizeof(a->name), "%s%u", type, type_index(vm, type));
	if (!vm_alloc_mmio_slot(vm, &a->base, &a->gsi)) {
		fprintf(stderr, "mmvm: %s: too many virtio devices (at most "
			"%u)\n", a->name, VM_MMIO_MAX_DEVICES);
		free(a);
		return -1;
	}

	virtio_irq_init(&a->irq, vm, &a->t, a->name, a->base, a->gsi);
	virtio_mmio_init(&a->t, &cfg, ops, spec->dev, &virtio_irq_host_ops,
			 &a->irq, &vm->mem);
	virtio_mmio_set_name(&a->t, a->name);
	virtio_mmio_set_config(&a->t, spec->config);
	virtio_mmio_device_env(&a->t, &a->env);
	a->window = virtio_mmio_window_size(&a->t);
	/* From here on the VM's list owns a: its threads and KVM objects go
	 * with the VM, also on the error paths below. */
	append(vm, a);

	if (make_workers(a, queue_loop))
		return -1;
	if (!mmio_bus_register(&vm->mmio, a->base, a->window, window_read,
			       window_write, &a->t)) {
		fprintf(stderr, "mmvm: %s: cannot map its MMIO window at "
			"0x%" PRIx64 "\n", a->name, a->base);
		return -1;
	}
	if (virtio_irq_wire(&a->irq, queue_loop))
		return -1;

	/* With ACPI the DSDT describes the device (src/devmgr/platform.c);
	 * without, the kernel's virtio_mmio.device= parameter does. */
	snprintf(entry, sizeof(entry), "virtio_mmio.device=%" PRIu64
		 "K@0x%" PRIx64 ":%u", a->window >> 10, a->base, a->gsi);
	if (!vm->cfg->acpi && !vm_cmdline_append(vm, entry)) {
		fprintf(stderr, "mmvm: %s: kernel command line too long\n",
			a->name);
		return -1;
	}
	if (ops->bind && ops->bind(spec->dev, &a->env))
		return -1;
	return 0;
}
