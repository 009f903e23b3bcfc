#include <string.h>

#include "boot/le.h"
#include "boot/longmode.h"
#include "boot/layout.h"
#include "boot/mptable.h"
#include "boot/reset_stub.h"
#include "unit.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void test_tables(void)
{
	static uint8_t buf[0x10000];
	const uint64_t gpa = 0xf0000;

	for (unsigned int cpus = 1; cpus <= MPTABLE_MAX_CPUS; cpus *= 2) {
		long n = mptable_build(buf, sizeof(buf), gpa, cpus, 0xffffe0);
		const uint8_t *mpc = buf + 16, *p;
		unsigned int procs = 0, ints = 0, ioapics = 0, level = 0;
		uint16_t count;

		CHECK_EQ(n, (long)mptable_size(cpus));
		CHECK(!memcmp(buf, "_MP_", 4));
		CHECK_EQ(sum(buf, 16), 0);
		CHECK_EQ(le32_at(buf + 4), gpa + 16);
		CHECK(!memcmp(mpc, "PCMP", 4));
		CHECK_EQ(le16_at(mpc + 4), n - 16);
		CHECK_EQ(sum(mpc, (size_t)n - 16), 0);
		CHECK_EQ(le32_at(mpc + 36), BOOT_LAPIC_ADDR);
		count = le16_at(mpc + 34);
		p = mpc + 44;
		for (unsigned int i = 0; i < count; i++) {
			switch (p[0]) {
			case 0:
				CHECK_EQ(p[1], procs);	/* APIC id */
				CHECK_EQ(!!(p[3] & 2), procs == 0);
				procs++;
				p += 20;
				continue;
			case 2:
				ioapics++;
				CHECK_EQ(p[1], cpus);	/* id after CPUs */
				CHECK_EQ(le32_at(p + 4), BOOT_IOAPIC_ADDR);
				break;
			case 3:
				CHECK_EQ(p[5], ints);	/* src irq */
				CHECK_EQ(p[7], ints);	/* pin */
				if (le16_at(p + 2) == 0xd)
					level++;
				ints++;
				break;
			}
			p += 8;
		}
		CHECK_EQ(p - buf, n);
		CHECK_EQ(procs, cpus);
		CHECK_EQ(ioapics, 1);
		CHECK_EQ(ints, 24);
		CHECK_EQ(level, 19);	/* GSIs 5..23 */
	}
	CHECK_EQ(mptable_build(buf, sizeof(buf), gpa, 0, 0), -1);
	CHECK_EQ(mptable_build(buf, sizeof(buf), gpa, 65, 0), -1);
	CHECK_EQ(mptable_build(buf, 100, gpa, 1, 0), -1);
	CHECK(mptable_size(64) <= 0x10000);
}

static void test_longmode(void)
{
	static uint8_t pml4[4096], pdpt[4096], pd[4096 * BOOT_PD_PAGES];
	uint64_t gdt[BOOT_GDT_ENTRIES];

	boot_build_page_tables(pml4, pdpt, pd);
	CHECK_EQ(le64_at(pml4) & ~0xfffULL, BOOT_PDPT_ADDR);
	CHECK_EQ(le64_at(pdpt + 8) & ~0xfffULL, BOOT_PD_ADDR + 4096);
	/* 2 MiB identity pages up to 4 GiB */
	CHECK_EQ(le64_at(pd + 8 * 1), (2ULL << 20) | 0x83);
	CHECK_EQ(le64_at(pd + 8 * 2047) & ~0xfffULL, 4095ULL << 20 & ~0x1fffffULL);
	boot_build_gdt(gdt);
	CHECK_EQ(gdt[2], 0x00af9b000000ffffULL);
	CHECK_EQ(gdt[3], 0x00cf93000000ffffULL);
}

/* F000:FFF0: mov al,0xfe; out 0x64,al (the i8042's reset line), then
 * halt for good; it ends the 64 KiB BIOS area, above the MP table's room. */
static void test_reset_stub(void)
{
	static const uint8_t want[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xfa, 0xf4,
					0xeb, 0xfd };
	uint8_t s[BOOT_RESET_STUB_SIZE];

	memset(s, 0, sizeof(s));
	boot_build_reset_stub(s);
	CHECK(!memcmp(s, want, sizeof(want)));
	for (size_t i = sizeof(want); i < sizeof(s); i++)
		CHECK_EQ(s[i], 0xf4);
	CHECK_EQ(BOOT_RESET_STUB_ADDR + BOOT_RESET_STUB_SIZE,
		 BOOT_BIOS_ADDR + BOOT_BIOS_SIZE);
	CHECK(mptable_size(64) <= BOOT_RESET_STUB_ADDR - BOOT_BIOS_ADDR);
}

int main(void)
{
	RUN(test_tables);
	RUN(test_longmode);
	RUN(test_reset_stub);
	return unit_finish("boot_mptable");
}
