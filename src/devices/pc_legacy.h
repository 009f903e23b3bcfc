/* The legacy PC ports Linux probes, as little of them as it needs: the
 * i8042 (absent, except that command 0xfe resets the machine: reboot=k),
 * a read-only CMOS RTC showing host UTC, the POST port, and the absent
 * COM2-COM4 (claimed so that probing them is not counted as unhandled).
 * The PIC, PIT and port 0x61 are KVM's (in-kernel irqchip and PIT). */
#ifndef MMVM_DEVICES_PC_LEGACY_H
#define MMVM_DEVICES_PC_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/platform_events.h"
#include "vmm/mmio_bus.h"

#define PIO_I8042_DATA		0x60
#define PIO_I8042_CMD		0x64
#define PIO_I8042_RESET		0xfe	/* pulse the CPU reset line */
#define PIO_CMOS_INDEX		0x70
#define PIO_CMOS_DATA		0x71
#define PIO_POST		0x80

struct pc_legacy {
	const struct platform_events *ev;
	uint8_t cmos_index;
};

bool pc_legacy_register(struct pc_legacy *pc, struct mmio_bus *pio,
			const struct platform_events *ev);

#endif
