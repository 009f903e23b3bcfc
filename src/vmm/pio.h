/* Port I/O exits: COM1 and the legacy ports Linux probes on a PC. */
#ifndef MMVM_VMM_PIO_H
#define MMVM_VMM_PIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

#define PIO_I8042_DATA		0x60
#define PIO_I8042_CMD		0x64
#define PIO_I8042_RESET		0xfe	/* pulse the CPU reset line */
#define PIO_CMOS_INDEX		0x70
#define PIO_CMOS_DATA		0x71
#define PIO_POST		0x80

/* One access of size 1, 2 or 4 bytes; data is little-endian. */
void pio_access(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size,
		bool is_write);

/* "mmvm.pio_unhandled.0xPORT count" for every unclaimed port touched. */
void pio_print_stats(FILE *f);

#endif
