#include "vmm/guest_mem.h"

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		/* Written as subtractions so that no sum can wrap. */
		if (off > r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

bool guest_mem_add_region(struct guest_mem *mem, uint64_t gpa, uint64_t size,
			  void *hva)
{
	if (mem->nr_regions >= GUEST_MEM_MAX_REGIONS || size == 0 ||
	    gpa + size < gpa)
		return false;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return false;
	}
	mem->regions[mem->nr_regions++] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .hva = hva,
	};
	return true;
}

uint64_t guest_mem_total(const struct guest_mem *mem)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < mem->nr_regions; i++)
		total += mem->regions[i].size;
	return total;
}
