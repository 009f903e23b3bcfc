#include <string.h>

#include "boot/layout.h"
#include "boot/le.h"
#include "boot/longmode.h"

#define PTE_PRESENT	0x1ULL
#define PTE_RW		0x2ULL
#define PTE_PS		0x80ULL		/* 2 MiB page in a PD entry */

void boot_build_page_tables(uint8_t *pml4, uint8_t *pdpt, uint8_t *pd)
{
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	memset(pd, 0, 4096 * BOOT_PD_PAGES);
	put_le64(pml4, BOOT_PDPT_ADDR | PTE_PRESENT | PTE_RW);
	for (unsigned int i = 0; i < BOOT_PD_PAGES; i++)
		put_le64(pdpt + 8 * i, (BOOT_PD_ADDR + 4096ULL * i) |
				       PTE_PRESENT | PTE_RW);
	for (uint64_t i = 0; i < 512ULL * BOOT_PD_PAGES; i++)
		put_le64(pd + 8 * i, (i << 21) | PTE_PRESENT | PTE_RW | PTE_PS);
}

/* Descriptor from base/limit/flags as the CPU packs it. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) |
	       ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) |
	       ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

void boot_build_gdt(uint64_t gdt[BOOT_GDT_ENTRIES])
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = gdt_entry(0xa09b, 0, 0xfffff);	/* code: L, P, exec/read */
	gdt[3] = gdt_entry(0xc093, 0, 0xfffff);	/* data: P, read/write */
}
