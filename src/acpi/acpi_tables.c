/* The guest's ACPI tables (acpi_tables.h), laid out as
 *
 *	RSDP | XSDT | FADT | MADT | DSDT
 *
 * each 8-byte aligned, the RSDP at offset 0. Section numbers are ACPI 6.5.
 * The sizes of everything before the DSDT are known from the platform, so
 * the offsets are fixed first, the DSDT's AML is built in place (the one
 * part whose size is only known by building it), and the fixed tables,
 * which point at each other, are filled in after. No FACS: a
 * hardware-reduced platform may have none (5.2.9, FIRMWARE_CTRL). */
#include <string.h>

#include "acpi/acpi_tables.h"
#include "acpi/aml.h"
#include "boot/le.h"

/* System description table header, 5.2.6 */
#define HDR_LEN			36
#define HDR_LENGTH		4
#define HDR_CHECKSUM		9
#define OEM_ID			"MMVM  "	/* 6 bytes */
#define OEM_TABLE_ID		"MMVMVM  "	/* 8 bytes */
#define OEM_REVISION		1
#define CREATOR_ID		"MMVM"
#define CREATOR_REVISION	1

/* RSDP, 5.2.5.3: revision 2 is the ACPI 2.0+ form with the XSDT. */
#define RSDP_LEN		36
#define RSDP_V1_LEN		20	/* what the first checksum covers */
#define RSDP_REVISION		2

#define XSDT_ENTRIES		2	/* FADT, MADT */
#define XSDT_LEN		(HDR_LEN + 8 * XSDT_ENTRIES)
#define XSDT_REVISION		1

/* FADT, 5.2.9, Table 5.9: revision 6 with minor version 5 is ACPI 6.5's
 * layout, 276 bytes up to the Hypervisor Vendor Identity. */
#define FADT_LEN		276
#define FADT_REVISION		6
#define FADT_MINOR		5
#define FADT_DSDT		40
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL_REG	244
#define FADT_SLEEP_STATUS_REG	256
#define FADT_HYPERVISOR_ID	268

/* FADT Flags, Table 5.10 */
#define FADT_F_PWR_BUTTON	(1u << 4)	/* set: no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* set: no fixed sleep button */
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

/* IA-PC Boot Architecture Flags, 5.2.9.3, Table 5.11. "VGA Not Present"
 * is set, and 8042 when the platform has the i8042 (its keyboard is also
 * the DSDT's PNP0303). LEGACY_DEVICES (bit 0) stays clear: there are no
 * legacy (LPC/ISA) devices the OS should probe for beyond the ones the
 * DSDT describes. "MSI Not Supported" (bit 3) stays clear: virtio-mmio v3
 * uses MSIs. "CMOS RTC Not Present" (bit 5) stays clear: mmvm emulates
 * the RTC at 0x70/0x71. */
#define IAPC_8042		(1u << 1)
#define IAPC_VGA_NOT_PRESENT	(1u << 2)

/* Generic Address Structure, 5.2.3.2 */
#define GAS_LEN			12
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

/* MADT, 5.2.12: revision 5 (ACPI 6.3/6.4); the structures used here are
 * unchanged since ACPI 1.0/2.0. */
#define MADT_REVISION		5
#define MADT_HDR_LEN		(HDR_LEN + 8)	/* LAPIC address, flags */
#define MADT_PCAT_COMPAT	1		/* 8259s present (KVM irqchip) */
#define MADT_LAPIC		0		/* 5.2.12.2 */
#define MADT_LAPIC_LEN		8
#define MADT_LAPIC_ENABLED	1
#define MADT_IOAPIC		1		/* 5.2.12.3 */
#define MADT_IOAPIC_LEN		12
#define MADT_ISO		2		/* 5.2.12.5 */
#define MADT_ISO_LEN		10
#define MADT_LAPIC_NMI		4		/* 5.2.12.7 */
#define MADT_LAPIC_NMI_LEN	6
#define MADT_ALL_PROCESSORS	0xff
/* MPS INTI flags, Table 5.26: polarity bits 1:0, trigger mode bits 3:2 */
#define MPS_INTI_CONFORMS	0x0
#define MPS_INTI_ACTIVE_HIGH	0x1
#define MPS_INTI_LEVEL		0xc

#define DSDT_REVISION		2	/* 2 and up: 64-bit AML integers */

#define VIRTIO_HID		"LNRO0005"	/* Linux's virtio_mmio ACPI id */
#define PVPANIC_HID		"QEMU0001"	/* pvpanic-mmio's ACPI id */
#define COM1_HID		"PNP0501"	/* 16550A, 8250_pnp */
#define COM1_PORT		0x3f8
#define COM1_PORTS		8
#define COM1_IRQ		4
#define KBD_HID			"PNP0303"	/* IBM Enhanced (101/102-key) */
#define KBD_DATA_PORT		0x60
#define KBD_CMD_PORT		0x64
#define KBD_IRQ			1
#define TIMER_IRQ		0
#define TIMER_GSI		2	/* the PIT's pin on the I/O APIC */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The byte at p[at] that makes p[0..n) sum to 0 mod 256. */
static void set_checksum(uint8_t *p, size_t n, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)(0u - sum(p, n));
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + HDR_LENGTH, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put_le32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le32(t + 32, CREATOR_REVISION);
}

/* A one-byte register in port I/O space. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;		/* register bit width */
	g[2] = 0;		/* bit offset */
	g[3] = GAS_ACCESS_BYTE;
	put_le64(g + 4, port);
}

/* An ISA IRQ that needs an Interrupt Source Override: a virtio device's
 * gsi below 16, once per distinct gsi. */
static bool virtio_override(const struct acpi_platform *p, unsigned int i)
{
	if (p->virtio[i].gsi >= 16)
		return false;
	for (unsigned int j = 0; j < i; j++)
		if (p->virtio[j].gsi == p->virtio[i].gsi)
			return false;
	return true;
}

static size_t madt_size(const struct acpi_platform *p)
{
	size_t n = MADT_HDR_LEN + p->nr_cpus * MADT_LAPIC_LEN +
		   MADT_IOAPIC_LEN + MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;

	for (unsigned int i = 0; i < p->nr_virtio; i++)
		if (virtio_override(p, i))
			n += MADT_ISO_LEN;
	return n;
}

/* Beyond what acpi_tables.h names: the APIC addresses must fit the MADT,
 * a virtio window the 32-bit Memory32Fixed descriptor, and a virtio gsi
 * must be a real I/O APIC pin other than the timer's IRQ 0 / GSI 2, which
 * have their own override. */
static bool valid(const struct acpi_platform *p)
{
	if (p->nr_cpus == 0 || p->nr_cpus > 255 ||
	    p->nr_virtio > ACPI_MAX_VIRTIO)
		return false;
	/* the MADT's address fields are 32-bit */
	if (p->lapic_addr > UINT32_MAX || p->ioapic_addr > UINT32_MAX)
		return false;
	for (unsigned int i = 0; i < p->nr_virtio; i++) {
		const struct acpi_virtio_dev *v = &p->virtio[i];

		if (!v->size || v->base > UINT32_MAX ||
		    v->size - 1 > UINT32_MAX - v->base)
			return false;
		if (v->gsi >= p->ioapic_pins || v->gsi == TIMER_IRQ ||
		    v->gsi == TIMER_GSI)
			return false;
	}
	return true;
}

static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = RSDP_REVISION;
	put_le32(t + 16, 0);		/* RsdtAddress: no RSDT */
	put_le32(t + 20, RSDP_LEN);
	put_le64(t + 24, xsdt);
	set_checksum(t, RSDP_V1_LEN, 8);
	set_checksum(t, RSDP_LEN, 32);	/* extended, over all 36 */
}

static void build_xsdt(uint8_t *t, uint64_t fadt, uint64_t madt)
{
	header(t, "XSDT", XSDT_LEN, XSDT_REVISION);
	put_le64(t + HDR_LEN, fadt);
	put_le64(t + HDR_LEN + 8, madt);
	set_checksum(t, XSDT_LEN, HDR_CHECKSUM);
}

/* Hardware-reduced (4.1): no SCI, SMI command port, PM1/PM2/PM timer or
 * GPE blocks, so all of those stay 0; sleep and power-off go through the
 * sleep control/status registers (4.8.3.7), reset through RESET_REG. */
static void build_fadt(uint8_t *t, const struct acpi_platform *p,
		       uint64_t dsdt)
{
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	/* The 32-bit DSDT pointer too, equal to X_DSDT, when it fits. */
	if (dsdt <= UINT32_MAX)
		put_le32(t + FADT_DSDT, (uint32_t)dsdt);
	put_le16(t + FADT_IAPC_BOOT_ARCH,
		 IAPC_VGA_NOT_PRESENT | (p->i8042 ? IAPC_8042 : 0));
	put_le32(t + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI |
		 FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON);
	gas_io8(t + FADT_RESET_REG, p->reset_port);
	t[FADT_RESET_VALUE] = p->reset_value;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put_le64(t + FADT_X_DSDT, dsdt);
	gas_io8(t + FADT_SLEEP_CONTROL_REG, p->sleep_control_port);
	gas_io8(t + FADT_SLEEP_STATUS_REG, p->sleep_status_port);
	/* 8 bytes, all of them the identity (5.2.9 Table 5.9) */
	memcpy(t + FADT_HYPERVISOR_ID, "MMVM    ", 8);
	set_checksum(t, FADT_LEN, HDR_CHECKSUM);
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi,
			 uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = 0;		/* bus: ISA */
	e[3] = irq;
	put_le32(e + 4, gsi);
	put_le16(e + 8, flags);
	return e + MADT_ISO_LEN;
}

static void build_madt(uint8_t *t, const struct acpi_platform *p,
		       size_t len)
{
	uint8_t *e = t + MADT_HDR_LEN;

	header(t, "APIC", (uint32_t)len, MADT_REVISION);
	put_le32(t + HDR_LEN, (uint32_t)p->lapic_addr);
	put_le32(t + HDR_LEN + 4, MADT_PCAT_COMPAT);
	for (unsigned int i = 0; i < p->nr_cpus; i++) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC ID */
		put_le32(e + 4, MADT_LAPIC_ENABLED);
		e += MADT_LAPIC_LEN;
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = 0;			/* I/O APIC ID */
	put_le32(e + 4, (uint32_t)p->ioapic_addr);
	put_le32(e + 8, 0);		/* GSI base */
	e += MADT_IOAPIC_LEN;
	/* The PIT's IRQ 0 is wired to pin 2, the usual PC routing. */
	e = madt_iso(e, TIMER_IRQ, TIMER_GSI, MPS_INTI_CONFORMS);
	/* ISA IRQs default to edge/active high; a virtio device's line is
	 * level-triggered, active high, so its IRQ needs an override. */
	for (unsigned int i = 0; i < p->nr_virtio; i++)
		if (virtio_override(p, i))
			e = madt_iso(e, (uint8_t)p->virtio[i].gsi,
				     p->virtio[i].gsi,
				     MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL);
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = MADT_ALL_PROCESSORS;
	put_le16(e + 3, 0);		/* flags: conforms to the bus */
	e[5] = 1;			/* LINT1 */
	set_checksum(t, len, HDR_CHECKSUM);
}

/* An ISA device with a PNP id: _HID EisaId, _UID when uid >= 0, and
 * _CRS { IO (Decode16, port, port, align, len) for each of io,
 * IRQNoFlags () { irq } }. */
struct isa_io {
	uint16_t port;
	uint8_t align, len;
};

static const struct isa_io com1_io[] = { { COM1_PORT, 0, COM1_PORTS } };
static const struct isa_io kbd_io[] = {
	{ KBD_DATA_PORT, 1, 1 }, { KBD_CMD_PORT, 1, 1 },
};

static void isa_device(struct aml_buf *a, const char *name,
		       const char *eisaid, int uid, const struct isa_io *io,
		       size_t nio, unsigned int irq)
{
	struct aml_mark dev = aml_device_begin(a, name), crs;

	aml_name(a, "_HID");
	aml_eisaid(a, eisaid);
	if (uid >= 0) {
		aml_name(a, "_UID");
		aml_integer(a, (uint64_t)uid);
	}
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	for (size_t i = 0; i < nio; i++)
		aml_res_io16(a, io[i].port, io[i].port, io[i].align,
			     io[i].len);
	aml_res_irq_noflags(a, irq);
	aml_restemplate_end(a, crs);
	aml_end(a, dev);
}

/* The DSDT's definition block:
 *
 *	Scope (\_SB) {
 *		Device (VRnn) { _HID "LNRO0005", _UID n,
 *			_CRS { Memory32Fixed (ReadWrite, base, size)
 *			       Interrupt (ResourceConsumer, Level,
 *					  ActiveHigh, Exclusive) { gsi } } }
 *		Device (COM1) { _HID EisaId ("PNP0501"), _UID 1,
 *			_CRS { IO (Decode16, 0x3f8, 0x3f8, 0, 8)
 *			       IRQNoFlags () { 4 } } }
 *		Device (KBD0) { _HID EisaId ("PNP0303"),
 *			_CRS { IO (Decode16, 0x60, 0x60, 1, 1)
 *			       IO (Decode16, 0x64, 0x64, 1, 1)
 *			       IRQNoFlags () { 1 } } }
 *		Device (PEVT) { _HID "QEMU0001",
 *			_CRS { IO (Decode16, port, port, 1, 1) } }
 *	}
 *	Name (\_S5, Package (4) { ACPI_S5_SLP_TYP, 0, 0, 0 })
 *
 * The \_S5 package's first element is the SLP_TYP a hardware-reduced OS
 * writes to the sleep control register to power off (7.4.2). */
static void build_dsdt_aml(struct aml_buf *a, const struct acpi_platform *p)
{
	static const char hex[] = "0123456789ABCDEF";
	struct aml_mark sb, dev, crs, pkg;

	sb = aml_scope_begin(a, "\\_SB_");
	for (unsigned int i = 0; i < p->nr_virtio; i++) {
		const struct acpi_virtio_dev *v = &p->virtio[i];
		char name[5] = { 'V', 'R', hex[i >> 4 & 0xf], hex[i & 0xf] };

		dev = aml_device_begin(a, name);
		aml_name(a, "_HID");
		aml_string(a, VIRTIO_HID);
		aml_name(a, "_UID");
		aml_integer(a, i);
		aml_name(a, "_CRS");
		crs = aml_restemplate_begin(a);
		aml_res_memory32_fixed(a, true, (uint32_t)v->base, v->size);
		aml_res_interrupt(a, AML_IRQ_CONSUMER, v->gsi);
		aml_restemplate_end(a, crs);
		aml_end(a, dev);
	}
	if (p->com1)
		isa_device(a, "COM1", COM1_HID, 1, com1_io, 1, COM1_IRQ);
	if (p->i8042)
		isa_device(a, "KBD0", KBD_HID, -1, kbd_io, 2, KBD_IRQ);
	if (p->pvpanic_port) {
		dev = aml_device_begin(a, "PEVT");
		aml_name(a, "_HID");
		aml_string(a, PVPANIC_HID);
		aml_name(a, "_CRS");
		crs = aml_restemplate_begin(a);
		aml_res_io16(a, p->pvpanic_port, p->pvpanic_port, 1, 1);
		aml_restemplate_end(a, crs);
		aml_end(a, dev);
	}
	aml_end(a, sb);

	aml_name(a, "\\_S5_");
	pkg = aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);	/* SLP_TYP */
	aml_integer(a, 0);			/* SLP_TYPb: unused */
	aml_integer(a, 0);			/* reserved */
	aml_integer(a, 0);
	aml_end(a, pkg);
}

size_t acpi_build_tables(const struct acpi_platform *p, uint8_t *buf,
			 size_t len, uint64_t gpa)
{
	size_t xsdt, fadt, madt, madt_len, dsdt, dsdt_len;
	struct aml_buf a;

	if (!p || !buf || !valid(p) || gpa > UINT64_MAX - len)
		return 0;
	xsdt = align8(RSDP_LEN);
	fadt = align8(xsdt + XSDT_LEN);
	madt = align8(fadt + FADT_LEN);
	madt_len = madt_size(p);
	dsdt = align8(madt + madt_len);
	if (len < dsdt + HDR_LEN)
		return 0;
	memset(buf, 0, dsdt + HDR_LEN);	/* reserved fields and padding */

	aml_init(&a, buf + dsdt + HDR_LEN, len - dsdt - HDR_LEN);
	build_dsdt_aml(&a, p);
	if (!aml_ok(&a) || a.len > UINT32_MAX - HDR_LEN)
		return 0;
	dsdt_len = HDR_LEN + a.len;
	header(buf + dsdt, "DSDT", (uint32_t)dsdt_len, DSDT_REVISION);
	set_checksum(buf + dsdt, dsdt_len, HDR_CHECKSUM);

	build_madt(buf + madt, p, madt_len);
	build_fadt(buf + fadt, p, gpa + dsdt);
	build_xsdt(buf + xsdt, gpa + fadt, gpa + madt);
	build_rsdp(buf, gpa + xsdt);
	return dsdt + dsdt_len;
}
