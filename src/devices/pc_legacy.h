/* The legacy PC ports Linux probes, as little of them as it needs: a
 * read-only CMOS RTC showing host UTC, the POST port, and the absent
 * COM2-COM4 (claimed so that probing them is not counted as unhandled).
 * The PIC, PIT and port 0x61 are KVM's (in-kernel irqchip and PIT); the
 * i8042 is devices/i8042.c. */
#ifndef MMVM_DEVICES_PC_LEGACY_H
#define MMVM_DEVICES_PC_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/mmio_bus.h"

#define PIO_CMOS_INDEX		0x70
#define PIO_CMOS_DATA		0x71
#define PIO_POST		0x80

struct pc_legacy {
	uint8_t cmos_index;
};

bool pc_legacy_register(struct pc_legacy *pc, struct mmio_bus *pio);

#endif
