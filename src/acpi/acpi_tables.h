/* The ACPI tables mmvm gives a guest: RSDP, XSDT, FADT (hardware-reduced),
 * MADT and a DSDT in AML (aml.h) describing the virtio-mmio devices, COM1,
 * the pvpanic device and the \_S5 sleep state. Built from a plain
 * description of the platform, with no KVM or VM state, so unit tests and
 * the iasl decode test drive it directly.
 *
 * Everything is written into one buffer that the VMM copies to guest
 * memory at BOOT_ACPI_ADDR (0xe0000, inside the area Linux scans for the
 * RSDP on a PC); the RSDP comes first, at the start of the buffer, and
 * every table is 8-byte aligned after it. */
#ifndef MMVM_ACPI_ACPI_TABLES_H
#define MMVM_ACPI_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_VIRTIO		16

/* One virtio-mmio device: an LNRO0005 device in the DSDT whose _CRS is
 * Memory32Fixed(base, size) plus one level-triggered, active-high
 * interrupt on gsi. */
struct acpi_virtio_dev {
	uint64_t base;
	uint32_t size;		/* 0x2000 with MSI/doorbells (either layout), 0x1000 plain */
	uint32_t gsi;
};

struct acpi_platform {
	unsigned int nr_cpus;		/* local APIC ids 0..nr_cpus-1 */
	uint64_t lapic_addr;		/* 0xfee00000 */
	uint64_t ioapic_addr;		/* 0xfec00000, id 0, GSI base 0 */
	unsigned int ioapic_pins;	/* 24 */

	unsigned int nr_virtio;
	struct acpi_virtio_dev virtio[ACPI_MAX_VIRTIO];

	bool com1;			/* PNP0501 at 0x3f8-0x3ff, IRQ 4 */
	bool i8042;			/* PNP0303 at 0x60 and 0x64, IRQ 1,
					 * and the FADT's 8042 flag */
	uint16_t pvpanic_port;		/* QEMU0001, one I/O port; 0 = none */

	/* FADT hardware-reduced sleep control and status registers and the
	 * reset register: one byte each, in port I/O space. */
	uint16_t sleep_control_port;
	uint16_t sleep_status_port;
	uint16_t reset_port;
	uint8_t reset_value;
};

/* The \_S5 package's SLP_TYP value: a write of
 * (ACPI_S5_SLP_TYP << 2) | ACPI_SLEEP_ENABLE to the sleep control register
 * is the guest asking to power off. */
#define ACPI_S5_SLP_TYP		5
#define ACPI_SLEEP_TYPE_SHIFT	2
#define ACPI_SLEEP_TYPE_MASK	0x1c
#define ACPI_SLEEP_ENABLE	0x20

/* Builds all tables into buf (len bytes), as they will appear at
 * guest-physical address gpa (table pointers are gpa-based). Returns the
 * number of bytes used, or 0 if they do not fit or p is invalid
 * (nr_cpus 0 or > 255, nr_virtio > ACPI_MAX_VIRTIO). The RSDP is at
 * buf[0]. */
size_t acpi_build_tables(const struct acpi_platform *p, uint8_t *buf,
			 size_t len, uint64_t gpa);

#endif
