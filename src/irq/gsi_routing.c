/* GSI routing table: see gsi_routing.h for why it is kept whole. */
#include "irq/gsi_routing.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmm/vm.h"

static int kvm_commit(struct gsi_routing *r, const struct kvm_irq_routing *tbl)
{
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, tbl) < 0)
		return -errno;
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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
	r->now_ns = monotonic_ns;
	gsi_routing_set_limit(r, GSI_ROUTING_COMMIT_BURST,
			      GSI_ROUTING_COMMIT_RATE);

	/* The same table KVM_CREATE_IRQCHIP installs on x86: legacy GSIs
	 * reach both the IOAPIC pin and the PIC pin, the rest only the
	 * IOAPIC. Dropping one of these would silently cut a line. */
	for (gsi = 0; gsi < GSI_ROUTING_IRQCHIP_GSIS; gsi++) {
		add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16)
			add_irqchip(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
				    KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	}
	/* KVM_CREATE_IRQCHIP has installed exactly these. */
	r->committed_nr = r->nr;
	memcpy(r->committed, r->entries, r->nr * sizeof(r->entries[0]));
}

void gsi_routing_set_limit(struct gsi_routing *r, unsigned int burst,
			   unsigned int rate)
{
	pthread_mutex_lock(&r->lock);
	r->commit_burst = burst ? burst : 1;
	r->commit_interval_ns = rate ? 1000000000ULL / rate : 0;
	r->tat_ns = 0;
	pthread_mutex_unlock(&r->lock);
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
	if (ret == 0) {
		r->commits++;
		r->committed_nr = r->nr;
		memcpy(r->committed, r->entries,
		       r->nr * sizeof(r->entries[0]));
		r->dirty = false;
	} else {
		r->dirty = true;	/* the caller rolls back its change */
	}
	return ret;
}

static struct kvm_irq_routing_entry *
find_msi_in(struct kvm_irq_routing_entry *tab, unsigned int nr,
	    unsigned int gsi)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (tab[i].gsi == gsi && tab[i].type == KVM_IRQ_ROUTING_MSI)
			return &tab[i];
	return NULL;
}

static struct kvm_irq_routing_entry *find_msi(struct gsi_routing *r,
					      unsigned int gsi)
{
	return find_msi_in(r->entries, r->nr, gsi);
}

static bool msi_live_locked(struct gsi_routing *r, unsigned int gsi,
			    uint64_t addr, uint32_t data)
{
	const struct kvm_irq_routing_entry *c =
		find_msi_in(r->committed, r->committed_nr, gsi);

	return c && c->u.msi.address_lo == (uint32_t)addr &&
	       c->u.msi.address_hi == (uint32_t)(addr >> 32) &&
	       c->u.msi.data == data && c->flags == 0;
}

bool gsi_routing_msi_live(struct gsi_routing *r, unsigned int gsi,
			  uint64_t addr, uint32_t data)
{
	bool live;

	pthread_mutex_lock(&r->lock);
	live = msi_live_locked(r, gsi, addr, data);
	pthread_mutex_unlock(&r->lock);
	return live;
}

/* Does the table say what KVM holds? Changes are made in place or by
 * moving the last entry, so a table that came back to the committed one
 * after a deferred change usually compares equal byte for byte; when it
 * does not, the worst case is one needless commit. */
static bool table_is_committed(const struct gsi_routing *r)
{
	return r->nr == r->committed_nr &&
	       !memcmp(r->entries, r->committed,
		       r->nr * sizeof(r->entries[0]));
}

/* Takes a token if the limit allows a commit at now. */
static bool bucket_take(struct gsi_routing *r, uint64_t now)
{
	uint64_t slack = (uint64_t)(r->commit_burst - 1) * r->commit_interval_ns;

	if (!r->commit_interval_ns)
		return true;
	if (r->tat_ns > now + slack)
		return false;
	r->tat_ns = (r->tat_ns > now ? r->tat_ns : now) + r->commit_interval_ns;
	return true;
}

static uint64_t bucket_wait_ns(const struct gsi_routing *r, uint64_t now)
{
	uint64_t slack = (uint64_t)(r->commit_burst - 1) * r->commit_interval_ns;

	if (!r->commit_interval_ns || r->tat_ns <= now + slack)
		return 0;
	return r->tat_ns - slack - now;
}

/* The table changed: commit it if the limit allows, else leave it for the
 * next commit. The caller holds r->lock. */
static int commit_or_defer_locked(struct gsi_routing *r)
{
	int ret;

	if (table_is_committed(r)) {
		r->dirty = false;
		return GSI_ROUTING_UNCHANGED;
	}
	if (!bucket_take(r, r->now_ns())) {
		r->dirty = true;
		r->deferred++;
		return GSI_ROUTING_DEFERRED;
	}
	ret = commit_locked(r);
	return ret ? ret : GSI_ROUTING_COMMITTED;
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

	/* The guest re-sending the message the route already has (or going
	 * back to it before a deferred change reached KVM) costs nothing. */
	if (msi_live_locked(r, gsi, addr, data)) {
		if (r->dirty && table_is_committed(r))
			r->dirty = false;
		r->skipped++;
		pthread_mutex_unlock(&r->lock);
		return GSI_ROUTING_UNCHANGED;
	}
	ret = commit_or_defer_locked(r);
	if (ret < 0) {
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
	if (!find_msi_in(r->committed, r->committed_nr, gsi)) {
		/* Its addition never reached KVM: nothing to take back. */
		if (r->dirty && table_is_committed(r))
			r->dirty = false;
		pthread_mutex_unlock(&r->lock);
		return GSI_ROUTING_COMMITTED;
	}
	ret = commit_or_defer_locked(r);
	if (ret < 0) {
		r->entries[r->nr++] = r->entries[idx];
		r->entries[idx] = saved;
	}
	pthread_mutex_unlock(&r->lock);
	return ret == GSI_ROUTING_UNCHANGED ? GSI_ROUTING_COMMITTED : ret;
}

int gsi_routing_flush(struct gsi_routing *r)
{
	int ret = GSI_ROUTING_UNCHANGED;

	pthread_mutex_lock(&r->lock);
	if (r->dirty)
		ret = commit_or_defer_locked(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

uint64_t gsi_routing_retry_ns(struct gsi_routing *r)
{
	uint64_t ns;

	pthread_mutex_lock(&r->lock);
	ns = bucket_wait_ns(r, r->now_ns());
	pthread_mutex_unlock(&r->lock);
	return ns;
}

void gsi_routing_print_stats(struct gsi_routing *r, FILE *f)
{
	pthread_mutex_lock(&r->lock);
	fprintf(f, "irq.gsi_routing_commits %" PRIu64 "\n", r->commits);
	fprintf(f, "irq.gsi_routing_commits_skipped %" PRIu64 "\n",
		r->skipped);
	fprintf(f, "irq.gsi_routing_commits_deferred %" PRIu64 "\n",
		r->deferred);
	pthread_mutex_unlock(&r->lock);
}
