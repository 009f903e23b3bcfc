/* The GSI routing table: default irqchip routes, MSI routes added, updated
 * and removed, limits, and rollback when KVM refuses a table. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "irq/gsi_routing.h"
#include "irq/kvm_fds.h"
#include "unit.h"

static struct gsi_routing r;
static unsigned int last_nr, commits;
static struct kvm_irq_routing_entry last[GSI_ROUTING_MAX_ENTRIES];
static int fail_next;

static int mock_commit(struct gsi_routing *rt,
		       const struct kvm_irq_routing *tbl)
{
	if (fail_next) {
		fail_next = 0;
		return -EINVAL;
	}
	commits++;
	last_nr = tbl->nr;
	memcpy(last, tbl->entries, tbl->nr * sizeof(last[0]));
	return 0;
}

static const struct kvm_irq_routing_entry *find(unsigned int gsi,
						unsigned int type,
						unsigned int chip)
{
	for (unsigned int i = 0; i < last_nr; i++)
		if (last[i].gsi == gsi && last[i].type == type &&
		    (type != KVM_IRQ_ROUTING_IRQCHIP ||
		     last[i].u.irqchip.irqchip == chip))
			return &last[i];
	return NULL;
}

static void setup(unsigned int max)
{
	gsi_routing_init(&r, -1, max);
	r.commit = mock_commit;
	commits = 0;
	last_nr = 0;
}

static void test_defaults_kept(void)
{
	const struct kvm_irq_routing_entry *e;

	setup(1024);
	CHECK_EQ(r.nr, 24 + 16);
	CHECK_EQ(commits, 0);	/* nothing sent until a change */
	CHECK_EQ(gsi_routing_alloc_msi_gsi(&r), 24);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee00000ULL, 0x4021), 0);
	CHECK_EQ(commits, 1);
	CHECK_EQ(last_nr, 24 + 16 + 1);
	/* Every irqchip route travels with each commit. */
	e = find(5, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC);
	CHECK(e && e->u.irqchip.pin == 5);
	e = find(5, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_PIC_MASTER);
	CHECK(e && e->u.irqchip.pin == 5);
	e = find(12, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_PIC_SLAVE);
	CHECK(e && e->u.irqchip.pin == 4);
	e = find(20, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_IOAPIC);
	CHECK(e && e->u.irqchip.pin == 20);
	CHECK(!find(20, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQCHIP_PIC_SLAVE));
	e = find(24, KVM_IRQ_ROUTING_MSI, 0);
	CHECK(e && e->u.msi.address_lo == 0xfee00000 &&
	      e->u.msi.address_hi == 0 && e->u.msi.data == 0x4021);
}

static void test_update_and_remove(void)
{
	const struct kvm_irq_routing_entry *e;

	setup(1024);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee00000ULL, 1), 0);
	CHECK_EQ(gsi_routing_set_msi(&r, 25, 0xfee00000ULL, 2), 0);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0x1fee01000ULL, 3), 0);
	CHECK_EQ(last_nr, 42);
	e = find(24, KVM_IRQ_ROUTING_MSI, 0);
	CHECK(e && e->u.msi.address_lo == 0xfee01000 &&
	      e->u.msi.address_hi == 1 && e->u.msi.data == 3);
	CHECK_EQ(gsi_routing_remove(&r, 24), 0);
	CHECK_EQ(last_nr, 41);
	CHECK(!find(24, KVM_IRQ_ROUTING_MSI, 0));
	CHECK(find(25, KVM_IRQ_ROUTING_MSI, 0) != NULL);
	/* Removing an absent route is a no-op, not a commit. */
	CHECK_EQ(gsi_routing_remove(&r, 24), 0);
	CHECK_EQ(commits, 4);
}

static void test_limits(void)
{
	setup(26);
	CHECK_EQ(gsi_routing_set_msi(&r, 5, 0xfee00000ULL, 1), -EINVAL);
	CHECK_EQ(gsi_routing_set_msi(&r, 26, 0xfee00000ULL, 1), -EINVAL);
	CHECK_EQ(gsi_routing_alloc_msi_gsi(&r), 24);
	CHECK_EQ(gsi_routing_alloc_msi_gsi(&r), 25);
	CHECK_EQ(gsi_routing_alloc_msi_gsi(&r), -1);
	CHECK_EQ(commits, 0);
}

static void test_rollback(void)
{
	setup(1024);
	CHECK_EQ(gsi_routing_set_msi(&r, 30, 0xfee00000ULL, 1), 0);
	fail_next = 1;
	CHECK_EQ(gsi_routing_set_msi(&r, 31, 0xfee00000ULL, 2), -EINVAL);
	CHECK_EQ(r.nr, 41);
	fail_next = 1;
	CHECK_EQ(gsi_routing_set_msi(&r, 30, 0xfee00000ULL, 9), -EINVAL);
	fail_next = 1;
	CHECK_EQ(gsi_routing_remove(&r, 30), -EINVAL);
	CHECK_EQ(r.nr, 41);
	/* The next good commit still carries the old route unchanged. */
	CHECK_EQ(gsi_routing_set_msi(&r, 32, 0xfee00000ULL, 3), 0);
	CHECK_EQ(last_nr, 42);
	CHECK(find(30, KVM_IRQ_ROUTING_MSI, 0) &&
	      find(30, KVM_IRQ_ROUTING_MSI, 0)->u.msi.data == 1);
	CHECK(!find(31, KVM_IRQ_ROUTING_MSI, 0));
}

/* The guest re-sending the message a route already has (an MSI UPDATE
 * storm) costs no KVM_SET_GSI_ROUTING; a real change still commits. */
static void test_unchanged_route_not_committed(void)
{
	const struct kvm_irq_routing_entry *e;

	setup(1024);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee00000ULL, 0x41), 0);
	for (unsigned int i = 0; i < 5000; i++)
		gsi_routing_set_msi(&r, 24, 0xfee00000ULL, 0x41);
	CHECK_EQ(commits, 1);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee01000ULL, 0x41), 0);
	CHECK_EQ(commits, 2);
	e = find(24, KVM_IRQ_ROUTING_MSI, 0);
	CHECK(e && e->u.msi.address_lo == 0xfee01000);
	/* A failed commit leaves KVM's route as it was: asking for that
	 * route again is free, asking for the failed one retries. */
	fail_next = 1;
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee02000ULL, 0x41), -EINVAL);
	gsi_routing_set_msi(&r, 24, 0xfee01000ULL, 0x41);
	CHECK_EQ(commits, 2);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, 0xfee02000ULL, 0x41), 0);
	CHECK_EQ(commits, 3);
}

static void test_eventfd_helpers(void)
{
	int fd = eventfd_new();

	CHECK(fd >= 0);
	CHECK_EQ(eventfd_drain(fd), 0);
	eventfd_kick(fd);
	eventfd_kick(fd);
	CHECK_EQ(eventfd_drain(fd), 2);
	CHECK_EQ(eventfd_drain(fd), 0);
	close(fd);
}

int main(void)
{
	RUN(test_defaults_kept);
	RUN(test_update_and_remove);
	RUN(test_limits);
	RUN(test_rollback);
	RUN(test_unchanged_route_not_committed);
	RUN(test_eventfd_helpers);
	gsi_routing_destroy(&r);
	return unit_finish("test_irq_routing");
}
