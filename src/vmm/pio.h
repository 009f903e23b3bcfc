/* Port I/O exits, dispatched to the devices on vm->pio. */
#ifndef MMVM_VMM_PIO_H
#define MMVM_VMM_PIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

/* One access of size 1, 2 or 4 bytes; data is little-endian. */
void pio_access(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size,
		bool is_write);

/* "mmvm.pio_unhandled.0xPORT count" for every unclaimed port touched. */
void pio_print_stats(FILE *f);

#endif
