/* Where mmvm puts things in guest-physical memory at boot. Everything below
 * 1 MiB is scratch that the kernel reclaims (or reserves) itself; the MP
 * table sits in the BIOS area (0xf0000), one of the places Linux scans and
 * big enough for 64 CPUs, which the 1 KiB EBDA is not. */
#ifndef MMVM_BOOT_LAYOUT_H
#define MMVM_BOOT_LAYOUT_H

#define BOOT_GDT_ADDR		0x0500ULL
#define BOOT_ZERO_PAGE_ADDR	0x7000ULL	/* struct boot_params */
#define BOOT_PML4_ADDR		0x9000ULL
#define BOOT_PDPT_ADDR		0xa000ULL
#define BOOT_PD_ADDR		0xb000ULL	/* 4 pages: maps 0..4 GiB */
#define BOOT_PD_PAGES		4
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL	/* room reserved for it */
#define BOOT_EBDA_ADDR		0x9fc00ULL	/* reserved, as on a PC */
#define BOOT_EBDA_SIZE		0x400ULL
#define BOOT_ACPI_ADDR		0xe0000ULL	/* RSDP + ACPI tables: Linux */
#define BOOT_ACPI_SIZE		0x10000ULL	/* scans 0xe0000.. for the RSDP */
#define BOOT_BIOS_ADDR		0xf0000ULL	/* MP table lives here */
#define BOOT_BIOS_SIZE		0x10000ULL
#define BOOT_LOW_RAM_END	0xa0000ULL	/* legacy VGA hole starts */
#define BOOT_HIGH_MEM_START	0x100000ULL	/* 1 MiB */
#define BOOT_KERNEL_ADDR	0x100000ULL	/* protected-mode kernel */

/* RAM above this goes above 4 GiB: the 3..4 GiB gap holds the virtio-mmio
 * windows, the IOAPIC and the LAPIC. */
#define BOOT_RAM_32BIT_END	0xc0000000ULL
#define BOOT_RAM_HIGH_START	0x100000000ULL

#define BOOT_IOAPIC_ADDR	0xfec00000ULL
#define BOOT_LAPIC_ADDR		0xfee00000ULL

#endif
