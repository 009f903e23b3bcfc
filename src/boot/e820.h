/* The BIOS memory map handed to the kernel in boot_params. */
#ifndef MMVM_BOOT_E820_H
#define MMVM_BOOT_E820_H

#include <stdint.h>

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX_ENTRIES 128	/* what boot_params has room for */

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Where guest RAM of mem_bytes lives: [0, low_end) and, if mem_bytes does
 * not fit below the 3 GiB gap, [BOOT_RAM_HIGH_START, +high_size). */
struct ram_layout {
	uint64_t low_end;
	uint64_t high_size;
};

void ram_layout_for(uint64_t mem_bytes, struct ram_layout *l);

/* Fills out[] (room for max entries); returns the count, or -1 if max is
 * too small. mem_bytes must be at least 2 MiB. */
int e820_build(uint64_t mem_bytes, struct e820_entry *out, int max);

#endif
