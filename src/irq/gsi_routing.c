/* GSI routing table: see gsi_routing.h for why it is kept whole. */
#include "irq/gsi_routing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vm.h"

static int kvm_commit(struct gsi_routing *r, const struct kvm_irq_routing *tbl)
{
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, tbl) < 0)
		return -errno;
	return 0;
}

static void add_irqchip(struct gsi_routing *r, unsigned int gsi,
			unsigned int chip, unsigned int pin)
{
	struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

void gsi_routing_init(struct gsi_routing *r, int vm_fd, unsigned int max_gsi)
{
	unsigned int gsi;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->max_gsi = max_gsi;
	r->next_msi_gsi = GSI_ROUTING_FIRST_MSI_GSI;
	r->commit = kvm_commit;

	/* The same table KVM_CREATE_IRQCHIP installs on x86: legacy GSIs
	 * reach both the IOAPIC pin and the PIC pin, the rest only the
	 * IOAPIC. Dropping one of these would silently cut a line. */
	for (gsi = 0; gsi < GSI_ROUTING_IRQCHIP_GSIS; gsi++) {
		add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16)
			add_irqchip(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
				    KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	}
}

void gsi_routing_destroy(struct gsi_routing *r)
{
	pthread_mutex_destroy(&r->lock);
}

struct gsi_routing *gsi_routing_get(struct vm *vm)
{
	struct gsi_routing *r;
	int max;

	if (vm->gsi_routing)
		return vm->gsi_routing;
	max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (max <= GSI_ROUTING_FIRST_MSI_GSI) {
		fprintf(stderr, "mmvm: KVM has no usable GSI routing "
			"(KVM_CAP_IRQ_ROUTING = %d)\n", max);
		return NULL;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		fprintf(stderr, "mmvm: out of memory for the GSI routing table\n");
		return NULL;
	}
	gsi_routing_init(r, vm->vm_fd, (unsigned int)max);
	vm->gsi_routing = r;
	return r;
}

int gsi_routing_alloc_msi_gsi(struct gsi_routing *r)
{
	int gsi = -1;

	pthread_mutex_lock(&r->lock);
	if (r->next_msi_gsi < r->max_gsi)
		gsi = (int)r->next_msi_gsi++;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

/* Sends the whole table; the caller holds r->lock. */
static int commit_locked(struct gsi_routing *r)
{
	size_t sz = sizeof(struct kvm_irq_routing) +
		    r->nr * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing *tbl = malloc(sz);
	int ret;

	if (!tbl)
		return -ENOMEM;
	memset(tbl, 0, sizeof(*tbl));
	tbl->nr = r->nr;
	memcpy(tbl->entries, r->entries,
	       r->nr * sizeof(struct kvm_irq_routing_entry));
	ret = r->commit(r, tbl);
	free(tbl);
	if (ret == 0)
		r->commits++;
	return ret;
}

static struct kvm_irq_routing_entry *find_msi(struct gsi_routing *r,
					      unsigned int gsi)
{
	unsigned int i;

	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi &&
		    r->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->entries[i];
	return NULL;
}

int gsi_routing_set_msi(struct gsi_routing *r, unsigned int gsi,
			uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e, saved;
	bool added = false;
	int ret;

	/* An MSI route on an irqchip GSI would shadow a legacy line. */
	if (gsi < GSI_ROUTING_FIRST_MSI_GSI || gsi >= r->max_gsi)
		return -EINVAL;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		if (r->nr == GSI_ROUTING_MAX_ENTRIES) {
			pthread_mutex_unlock(&r->lock);
			return -ENOSPC;
		}
		e = &r->entries[r->nr++];
		added = true;
	}
	saved = *e;
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;

	ret = commit_locked(r);
	if (ret) {
		if (added)
			r->nr--;
		else
			*e = saved;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int gsi_routing_remove(struct gsi_routing *r, unsigned int gsi)
{
	struct kvm_irq_routing_entry *e, saved;
	unsigned int idx;
	int ret;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	idx = (unsigned int)(e - r->entries);
	saved = *e;
	/* Order does not matter to KVM: move the last entry into the hole. */
	r->entries[idx] = r->entries[--r->nr];
	ret = commit_locked(r);
	if (ret) {
		r->entries[r->nr++] = r->entries[idx];
		r->entries[idx] = saved;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}
