/* MP tables, built byte by byte (the layouts are fixed by the spec). The
 * IOAPIC gets the APIC id after the last CPU so that the two never clash. */
#include <string.h>

#include "boot/layout.h"
#include "boot/le.h"
#include "boot/mptable.h"

#define MPF_SIZE	16
#define MPC_HDR_SIZE	44
#define MPC_CPU_SIZE	20
#define MPC_SMALL_SIZE	8	/* bus, ioapic, io/local interrupt entries */
#define MP_SPEC_REV	4	/* 1.4 */
#define APIC_VERSION	0x14
#define IOAPIC_VERSION	0x11

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_IRQ_POLARITY_HIGH	0x1
#define MP_IRQ_TRIGGER_LEVEL	0xc
#define CPU_ENABLED		1
#define CPU_BSP			2

static unsigned int nr_entries(unsigned int ncpus)
{
	/* cpus, one bus, one ioapic, 24 pins, two local lines */
	return ncpus + 1 + 1 + MPTABLE_IOAPIC_PINS + 2;
}

size_t mptable_size(unsigned int ncpus)
{
	return MPF_SIZE + MPC_HDR_SIZE + ncpus * MPC_CPU_SIZE +
	       (nr_entries(ncpus) - ncpus) * MPC_SMALL_SIZE;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static uint8_t *put_small(uint8_t *p, uint8_t type, uint8_t a, uint16_t b,
			  uint8_t c, uint8_t d, uint8_t e, uint8_t f)
{
	p[0] = type;
	p[1] = a;
	put_le16(p + 2, b);
	p[4] = c;
	p[5] = d;
	p[6] = e;
	p[7] = f;
	return p + MPC_SMALL_SIZE;
}

long mptable_build(uint8_t *buf, size_t room, uint64_t gpa,
		   unsigned int ncpus, uint32_t level_gsis)
{
	size_t size = mptable_size(ncpus);
	uint8_t *mpf = buf, *mpc = buf + MPF_SIZE, *p;
	uint8_t ioapic_id = (uint8_t)ncpus;

	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS || room < size ||
	    gpa + size > 0x100000000ULL)
		return -1;
	memset(buf, 0, size);

	memcpy(mpf, "_MP_", 4);
	put_le32(mpf + 4, (uint32_t)(gpa + MPF_SIZE));
	mpf[8] = 1;			/* length in 16-byte units */
	mpf[9] = MP_SPEC_REV;
	/* feature bytes 0: a configuration table is present */
	mpf[10] = checksum(mpf, MPF_SIZE);

	memcpy(mpc, "PCMP", 4);
	put_le16(mpc + 4, (uint16_t)(size - MPF_SIZE));
	mpc[6] = MP_SPEC_REV;
	memcpy(mpc + 8, "MMVM    ", 8);
	memcpy(mpc + 16, "MICROVM     ", 12);
	put_le16(mpc + 34, (uint16_t)nr_entries(ncpus));
	put_le32(mpc + 36, (uint32_t)BOOT_LAPIC_ADDR);

	p = mpc + MPC_HDR_SIZE;
	for (unsigned int i = 0; i < ncpus; i++) {
		p[0] = MP_PROCESSOR;
		p[1] = (uint8_t)i;	/* APIC id == vCPU index */
		p[2] = APIC_VERSION;
		p[3] = CPU_ENABLED | (i == 0 ? CPU_BSP : 0);
		put_le32(p + 4, 0x600);		/* family 6 signature */
		put_le32(p + 8, 0x201);		/* FPU, APIC */
		p += MPC_CPU_SIZE;
	}
	p[0] = MP_BUS;
	p[1] = 0;
	memcpy(p + 2, "ISA   ", 6);
	p += MPC_SMALL_SIZE;
	p[0] = MP_IOAPIC;
	p[1] = ioapic_id;
	p[2] = IOAPIC_VERSION;
	p[3] = 1;			/* enabled */
	put_le32(p + 4, (uint32_t)BOOT_IOAPIC_ADDR);
	p += MPC_SMALL_SIZE;
	for (unsigned int gsi = 0; gsi < MPTABLE_IOAPIC_PINS; gsi++) {
		uint16_t flags = 0;	/* conforms to the bus: ISA edge */

		if (level_gsis & (1u << gsi))
			flags = MP_IRQ_POLARITY_HIGH | MP_IRQ_TRIGGER_LEVEL;
		p = put_small(p, MP_INTSRC, MP_INT, flags, 0, (uint8_t)gsi,
			      ioapic_id, (uint8_t)gsi);
	}
	/* The PIC behind LINT0 (virtual wire), NMI on LINT1, all CPUs. */
	p = put_small(p, MP_LINTSRC, MP_EXTINT, 0, 0, 0, 0xff, 0);
	p = put_small(p, MP_LINTSRC, MP_NMI, 0, 0, 0, 0xff, 1);

	mpc[7] = checksum(mpc, size - MPF_SIZE);
	return (long)size;
}
