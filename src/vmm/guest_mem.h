/* Guest physical memory as seen from the host.
 *
 * Every address the guest hands us (descriptor addresses, ring addresses,
 * boot structures) goes through guest_mem_ptr(), which refuses any range that
 * is not entirely inside one RAM region. That single check is what keeps a
 * hostile guest from making the VMM touch host memory it does not own.
 */
#ifndef MMVM_VMM_GUEST_MEM_H
#define MMVM_VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;  /* first guest-physical address */
	uint64_t size; /* bytes */
	uint8_t *hva;  /* host mapping of gpa */
};

struct guest_mem {
	unsigned int nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Host pointer for [gpa, gpa+len) or NULL if any byte of it is outside
 * guest RAM or the range wraps. len == 0 is valid inside RAM. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Adds a region; returns false if the table is full or it overlaps. */
bool guest_mem_add_region(struct guest_mem *mem, uint64_t gpa, uint64_t size,
			  void *hva);

/* Total bytes of RAM across regions. */
uint64_t guest_mem_total(const struct guest_mem *mem);

#endif
