/* The e820 map mmvm reports. Only RAM, the EBDA, the ACPI tables and the
 * BIOS area (MP table) are listed: the 3..4 GiB
 * gap (virtio-mmio windows, IOAPIC, LAPIC) is simply absent, so the kernel
 * never treats it as memory. */
#include "boot/e820.h"
#include "boot/layout.h"

void ram_layout_for(uint64_t mem_bytes, struct ram_layout *l)
{
	if (mem_bytes <= BOOT_RAM_32BIT_END) {
		l->low_end = mem_bytes;
		l->high_size = 0;
	} else {
		l->low_end = BOOT_RAM_32BIT_END;
		l->high_size = mem_bytes - BOOT_RAM_32BIT_END;
	}
}

static int add(struct e820_entry *out, int n, int max, uint64_t addr,
	       uint64_t size, uint32_t type)
{
	if (n < 0 || n >= max)
		return -1;
	out[n] = (struct e820_entry){ .addr = addr, .size = size,
				      .type = type };
	return n + 1;
}

int e820_build(uint64_t mem_bytes, struct e820_entry *out, int max)
{
	struct ram_layout l;
	int n = 0;

	if (mem_bytes < 2 * BOOT_HIGH_MEM_START)
		return -1;
	ram_layout_for(mem_bytes, &l);
	n = add(out, n, max, 0, BOOT_EBDA_ADDR, E820_RAM);
	n = add(out, n, max, BOOT_EBDA_ADDR, BOOT_EBDA_SIZE, E820_RESERVED);
	n = add(out, n, max, BOOT_ACPI_ADDR, BOOT_ACPI_SIZE, E820_RESERVED);
	n = add(out, n, max, BOOT_BIOS_ADDR, BOOT_BIOS_SIZE, E820_RESERVED);
	n = add(out, n, max, BOOT_HIGH_MEM_START,
		l.low_end - BOOT_HIGH_MEM_START, E820_RAM);
	if (l.high_size)
		n = add(out, n, max, BOOT_RAM_HIGH_START, l.high_size,
			E820_RAM);
	return n;
}
