/* pvpanic: one I/O port through which a guest kernel says it panicked
 * (QEMU's device, ACPI id QEMU0001; Linux's pvpanic-mmio driver). Reading
 * the port gives the events the device supports; the guest writes the
 * event: bit 0 panicked, bit 1 a crash kernel was loaded and takes over. */
#ifndef MMVM_DEVICES_PVPANIC_H
#define MMVM_DEVICES_PVPANIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/platform_events.h"
#include "vmm/mmio_bus.h"

#define PVPANIC_PORT		0x505	/* QEMU's default */
#define PVPANIC_PANICKED	0x1
#define PVPANIC_CRASH_LOADED	0x2

struct pvpanic {
	const struct platform_events *ev;
};

bool pvpanic_register(struct pvpanic *p, struct mmio_bus *pio,
		      const struct platform_events *ev);

/* One byte written (exposed for the unit test). */
void pvpanic_write(struct pvpanic *p, uint8_t val);

#endif
