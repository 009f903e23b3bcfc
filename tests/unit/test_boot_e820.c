#include "boot/e820.h"
#include "boot/layout.h"
#include "unit.h"
#include "vmm/vm.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint64_t ram_total(const struct e820_entry *e, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			t += e[i].size;
	return t;
}

/* No RAM entry may cover [a, a+len). */
static int ram_overlaps(const struct e820_entry *e, int n, uint64_t a,
			uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM && a < e[i].addr + e[i].size &&
		    e[i].addr < a + len)
			return 1;
	return 0;
}

static void check_common(const struct e820_entry *e, int n, uint64_t mem)
{
	CHECK(n > 0);
	/* sorted and non-overlapping */
	for (int i = 1; i < n; i++)
		CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0x9fc00);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK(!ram_overlaps(e, n, 0x9fc00, 0x100000 - 0x9fc00));
	CHECK(!ram_overlaps(e, n, VM_MMIO_DEVICES_BASE,
			    VM_MMIO_MAX_DEVICES * VM_MMIO_DEVICE_STRIDE));
	CHECK(!ram_overlaps(e, n, BOOT_IOAPIC_ADDR, 0x1000));
	CHECK(!ram_overlaps(e, n, BOOT_LAPIC_ADDR, 0x1000));
	/* the ACPI tables' 64 KiB are reserved, where Linux scans for
	 * the RSDP */
	{
		int found = 0;

		for (int i = 0; i < n; i++)
			found |= e[i].addr == BOOT_ACPI_ADDR &&
				 e[i].size == BOOT_ACPI_SIZE &&
				 e[i].type == E820_RESERVED;
		CHECK(found);
	}
	/* all of mem is RAM except the 640K-1M hole */
	CHECK_EQ(ram_total(e, n), mem - (0x100000 - 0x9fc00));
}

static void test_small(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	int n = e820_build(256 * MiB, e, E820_MAX_ENTRIES);

	check_common(e, n, 256 * MiB);
	CHECK_EQ(e[n - 1].addr + e[n - 1].size, 256 * MiB);
	n = e820_build(32 * MiB, e, E820_MAX_ENTRIES);
	check_common(e, n, 32 * MiB);
}

static void test_exactly_3g(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	int n = e820_build(3 * GiB, e, E820_MAX_ENTRIES);

	check_common(e, n, 3 * GiB);
	CHECK_EQ(e[n - 1].addr + e[n - 1].size, 3 * GiB);
	CHECK(!ram_overlaps(e, n, 3 * GiB, GiB));
}

static void test_above_4g(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct ram_layout l;
	int n = e820_build(6 * GiB, e, E820_MAX_ENTRIES);

	check_common(e, n, 6 * GiB);
	CHECK(!ram_overlaps(e, n, 3 * GiB, GiB));	/* the gap */
	CHECK_EQ(e[n - 1].addr, 4 * GiB);
	CHECK_EQ(e[n - 1].size, 3 * GiB);
	ram_layout_for(6 * GiB, &l);
	CHECK_EQ(l.low_end, 3 * GiB);
	CHECK_EQ(l.high_size, 3 * GiB);
	n = e820_build(3 * GiB + 4096, e, E820_MAX_ENTRIES);
	check_common(e, n, 3 * GiB + 4096);
	CHECK_EQ(e[n - 1].size, 4096);
}

static void test_limits(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];

	CHECK_EQ(e820_build(1 * MiB, e, E820_MAX_ENTRIES), -1);
	CHECK_EQ(e820_build(256 * MiB, e, 2), -1);	/* no room */
	CHECK_EQ(e820_build(256 * MiB, e, 4), -1);
	CHECK(e820_build(256 * MiB, e, 5) > 0);
	CHECK_EQ(e820_build(8 * GiB, e, 5), -1);
	CHECK_EQ(sizeof(struct e820_entry), 20);
}

int main(void)
{
	RUN(test_small);
	RUN(test_exactly_3g);
	RUN(test_above_4g);
	RUN(test_limits);
	return unit_finish("boot_e820");
}
