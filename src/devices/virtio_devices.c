/* virtio_devices_setup(): the devices the user asked for, in a fixed order. */
#include "devices/virtio_devices.h"

#include <inttypes.h>

#include "devices/virtio_attached.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "irq/gsi_routing.h"

int virtio_devices_setup(struct vm *vm)
{
	const struct mmvm_config *cfg = vm->cfg;
	unsigned int i, wanted;

	wanted = cfg->nr_disks + cfg->nr_nets + (cfg->virtio_console ? 1 : 0) +
		 (cfg->virtio_rng ? 1 : 0);
	if (wanted > VM_MMIO_MAX_DEVICES) {
		fprintf(stderr, "mmvm: too many virtio devices: %u requested, "
			"at most %u\n", wanted, VM_MMIO_MAX_DEVICES);
		return -1;
	}

	for (i = 0; i < cfg->nr_disks; i++)
		if (virtio_blk_create(vm, &cfg->disks[i], i))
			return -1;
	for (i = 0; i < cfg->nr_nets; i++)
		if (virtio_net_create(vm, &cfg->nets[i], i))
			return -1;
	if (cfg->virtio_console && virtio_console_create(vm))
		return -1;
	if (cfg->virtio_rng && virtio_rng_create(vm))
		return -1;
	return 0;
}

unsigned int virtio_devices_slots(const struct vm *vm, struct virtio_slot *out,
				  unsigned int max)
{
	const struct virtio_attached *a;
	unsigned int n = 0;

	for (a = vm->virtio_devs; a; a = a->next, n++)
		if (n < max)
			out[n] = (struct virtio_slot){
				.base = a->base, .window = a->window,
				.gsi = a->gsi,
			};
	return n;
}

void virtio_devices_print_stats(struct vm *vm, FILE *f)
{
	struct virtio_attached *a;

	for (a = vm->virtio_devs; a; a = a->next) {
		virtio_mmio_print_stats(&a->t, f);
		virtio_irq_print_stats(&a->irq, f);
		if (a->print_stats)
			a->print_stats(a->t.dev, a->name, f);
	}
	if (vm->gsi_routing)
		gsi_routing_print_stats(vm->gsi_routing, f);
}
