#include "unit.h"
#include "vmm/guest_mem.h"

static uint8_t low[4096], high[8192];

static void test_bounds(void)
{
	struct guest_mem m = { 0 };

	CHECK(guest_mem_add_region(&m, 0, sizeof(low), low));
	CHECK(guest_mem_add_region(&m, 0x100000, sizeof(high), high));
	CHECK(!guest_mem_add_region(&m, 0x100800, 16, high)); /* overlap */
	CHECK(guest_mem_ptr(&m, 0, 4096) == low);
	CHECK(guest_mem_ptr(&m, 4095, 1) == low + 4095);
	CHECK(guest_mem_ptr(&m, 4095, 2) == NULL);     /* crosses the end */
	CHECK(guest_mem_ptr(&m, 4096, 0) == low + 4096); /* empty at end */
	CHECK(guest_mem_ptr(&m, 0x100000 + 8, 16) == high + 8);
	CHECK(guest_mem_ptr(&m, 0x200000, 1) == NULL);
	CHECK(guest_mem_ptr(&m, UINT64_MAX, 2) == NULL); /* wraps */
	CHECK(guest_mem_ptr(&m, 0x100000, UINT64_MAX) == NULL);
	CHECK_EQ(guest_mem_total(&m), 4096 + 8192);
}

int main(void)
{
	RUN(test_bounds);
	return unit_finish("guest_mem");
}
