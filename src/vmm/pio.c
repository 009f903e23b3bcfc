/* Port I/O exits. Devices claim their ports on vm->pio, the same range bus
 * that serves MMIO (addresses are port numbers); this file only splits
 * accesses and counts what nobody claimed. Anything unclaimed reads as
 * all-ones, as an empty ISA bus does, so probes for absent hardware fail
 * fast. */
#include "vmm/pio.h"

/* Which absent ports the guest keeps poking: printed with --stats. */
static uint32_t unhandled_by_port[65536];

void pio_print_stats(FILE *f)
{
	for (unsigned int p = 0; p < 65536; p++)
		if (unhandled_by_port[p])
			fprintf(f, "mmvm.pio_unhandled.0x%04x %u\n", p,
				unhandled_by_port[p]);
}

void pio_access(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size,
		bool is_write)
{
	/* Every port device is 8 bits wide: a wider access goes to
	 * consecutive ports a byte at a time, which is what the ISA bus
	 * would do. */
	for (unsigned int i = 0; i < size && i < 4; i++) {
		uint16_t p = (uint16_t)(port + i);

		if (mmio_bus_access(&vm->pio, p, &data[i], 1, is_write))
			continue;
		__atomic_add_fetch(&vm->pio_unhandled, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&unhandled_by_port[p], 1, __ATOMIC_RELAXED);
	}
}
