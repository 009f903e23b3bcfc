/* The minimal 64-bit environment the boot protocol's 64-bit entry needs:
 * identity-mapped page tables and a flat GDT. */
#ifndef MMVM_BOOT_LONGMODE_H
#define MMVM_BOOT_LONGMODE_H

#include <stdint.h>

#define BOOT_GDT_ENTRIES	4
#define BOOT_CS_SELECTOR	0x10	/* __BOOT_CS */
#define BOOT_DS_SELECTOR	0x18	/* __BOOT_DS */

/* Identity-maps 0..4 GiB with 2 MiB pages. pml4 and pdpt are one page each,
 * pd is BOOT_PD_PAGES pages; all at the BOOT_*_ADDR addresses. */
void boot_build_page_tables(uint8_t *pml4, uint8_t *pdpt, uint8_t *pd);

/* GDT entries: null, null, 64-bit code (0x10), data (0x18). */
void boot_build_gdt(uint64_t gdt[BOOT_GDT_ENTRIES]);

#endif
