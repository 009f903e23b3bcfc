/* The device manager: one table of device kinds, in attach order. A new
 * device model goes in src/devices/ (it sees virtio/virtio_device.h and
 * nothing else of the VMM) and gets one row here. */
#include "devmgr/virtio_devices.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devmgr/virtio_attach.h"
#include "devmgr/virtio_attached.h"
#include "irq/gsi_routing.h"

struct device_kind {
	const char *name;
	/* How many the command line asked for. */
	unsigned int (*count)(const struct mmvm_config *cfg);
	/* Makes instance i: 0, or -1 after printing a one-line error. */
	int (*make)(const struct mmvm_config *cfg, unsigned int i,
		    struct virtio_device_spec *spec);
};

static unsigned int count_disks(const struct mmvm_config *cfg)
{
	return cfg->nr_disks;
}

/* Is disk i's image that of an earlier disk, one of them writable and
 * locked? Then the image lock would refuse it as held by "another
 * process"; say what really happened. (The lock still guards the rest.) */
static bool same_image_as_earlier(const struct mmvm_config *cfg,
				  unsigned int i)
{
	const struct disk_config *d = &cfg->disks[i];
	struct stat a, b;

	if (d->no_lock || stat(d->path, &a) < 0)
		return false;
	for (unsigned int j = 0; j < i; j++) {
		const struct disk_config *e = &cfg->disks[j];

		if (e->no_lock || (d->read_only && e->read_only) ||
		    stat(e->path, &b) < 0 ||
		    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			continue;
		fprintf(stderr, "mmvm: --disk %s: the same image as --disk %s: a writable image can back one disk only\n",
			d->path, e->path);
		return true;
	}
	return false;
}

static int make_disk(const struct mmvm_config *cfg, unsigned int i,
		     struct virtio_device_spec *spec)
{
	if (same_image_as_earlier(cfg, i))
		return -1;
	return virtio_blk_new(&cfg->disks[i], i, cfg->cpus, spec);
}

static unsigned int count_nets(const struct mmvm_config *cfg)
{
	return cfg->nr_nets;
}

static int make_net(const struct mmvm_config *cfg, unsigned int i,
		    struct virtio_device_spec *spec)
{
	return virtio_net_make(&cfg->nets[i], i, spec);
}

static unsigned int count_console(const struct mmvm_config *cfg)
{
	return cfg->virtio_console ? 1 : 0;
}

static int make_console(const struct mmvm_config *cfg, unsigned int i,
			struct virtio_device_spec *spec)
{
	return virtio_console_make(spec);
}

static unsigned int count_rng(const struct mmvm_config *cfg)
{
	return cfg->virtio_rng ? 1 : 0;
}

static int make_rng(const struct mmvm_config *cfg, unsigned int i,
		    struct virtio_device_spec *spec)
{
	return virtio_rng_new(spec);
}

static const struct device_kind kinds[] = {
	{ "blk", count_disks, make_disk },
	{ "net", count_nets, make_net },
	{ "console", count_console, make_console },
	{ "rng", count_rng, make_rng },
};

#define NR_KINDS (sizeof(kinds) / sizeof(kinds[0]))

int virtio_devices_setup(struct vm *vm)
{
	const struct mmvm_config *cfg = vm->cfg;
	unsigned int k, i, wanted = 0;

	for (k = 0; k < NR_KINDS; k++)
		wanted += kinds[k].count(cfg);
	if (wanted > VM_MMIO_MAX_DEVICES) {
		fprintf(stderr, "mmvm: too many virtio devices: %u requested, "
			"at most %u\n", wanted, VM_MMIO_MAX_DEVICES);
		return -1;
	}
	for (k = 0; k < NR_KINDS; k++) {
		for (i = 0; i < kinds[k].count(cfg); i++) {
			struct virtio_device_spec spec;

			if (kinds[k].make(cfg, i, &spec) ||
			    virtio_attach(vm, &spec))
				return -1;
		}
	}
	return 0;
}

int virtio_devices_start(struct vm *vm)
{
	struct virtio_attached *a;

	for (a = vm->virtio_devs; a; a = a->next) {
		for (unsigned int w = 0; w < a->env.nr_workers; w++) {
			if (event_loop_start(a->env.workers[w]) < 0) {
				fprintf(stderr, "mmvm: %s: cannot start worker "
					"%u\n", a->name, w);
				return -1;
			}
		}
		a->workers_started = true;
	}
	return 0;
}

bool virtio_devices_stop(struct vm *vm)
{
	struct virtio_attached *a;
	bool all = true;

	for (a = vm->virtio_devs; a; a = a->next) {
		if (!a->workers_started)
			continue;
		for (unsigned int w = 0; w < a->env.nr_workers; w++) {
			if (!event_loop_stop(a->env.workers[w])) {
				fprintf(stderr, "mmvm: %s: worker %u did not "
					"stop (blocked writing output?)\n",
					a->name, w);
				all = false;
			}
		}
		a->workers_started = false;
	}
	return all;
}

bool virtio_devices_shutdown(struct vm *vm)
{
	struct virtio_attached *a;
	bool ok = true;

	for (a = vm->virtio_devs; a; a = a->next)
		if (a->t.ops->shutdown &&
		    a->t.ops->shutdown(a->t.dev, a->name))
			ok = false;
	return ok;
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
		if (a->t.ops->print_stats)
			a->t.ops->print_stats(a->t.dev, a->name, f);
	}
	if (vm->gsi_routing)
		gsi_routing_print_stats(vm->gsi_routing, f);
}

int virtio_devices_blk_swap(struct vm *vm, unsigned int index,
			    const char *path, char *err, size_t errlen)
{
	struct virtio_attached *a;
	char name[24];

	snprintf(name, sizeof(name), "blk%u", index);
	for (a = vm->virtio_devs; a; a = a->next)
		if (!strcmp(a->name, name))
			return virtio_blk_swap(a->t.dev, path, err, errlen);
	snprintf(err, errlen, "drives: %s is not attached", name);
	return -1;
}

bool virtio_devices_pause(struct vm *vm, bool pause)
{
	struct virtio_attached *a;
	bool all = true;

	for (a = vm->virtio_devs; a; a = a->next) {
		if (!a->workers_started)
			continue;
		for (unsigned int w = 0; w < a->env.nr_workers; w++)
			if (!event_loop_pause(a->env.workers[w], pause))
				all = false;
	}
	return all;
}
