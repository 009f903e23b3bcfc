/* ACPI hardware-reduced power management: the FADT's sleep control and
 * sleep status registers and its reset register, three byte-wide I/O
 * ports. Linux writes SLP_TYP (from \_S5) and SLP_EN to the control
 * register to power off, and the reset value to the reset register to
 * reboot (ACPI 6.5 sections 4.8.3.7 and 4.8.3.6). */
#ifndef MMVM_DEVICES_ACPI_PM_H
#define MMVM_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/platform_events.h"
#include "vmm/mmio_bus.h"

#define ACPI_PM_PORT_BASE	0x600
#define ACPI_PM_SLEEP_CONTROL	0	/* offsets from the base */
#define ACPI_PM_SLEEP_STATUS	1
#define ACPI_PM_RESET		2
#define ACPI_PM_NR_PORTS	3
#define ACPI_PM_RESET_VALUE	0x01

struct acpi_pm {
	const struct platform_events *ev;
	uint32_t ignored_writes;	/* other sleep states, other values */
};

/* Claims the three ports on the port bus. */
bool acpi_pm_register(struct acpi_pm *pm, struct mmio_bus *pio,
		      const struct platform_events *ev);

/* One byte written at offset off (exposed for the unit test). */
void acpi_pm_write(struct acpi_pm *pm, unsigned int off, uint8_t val);

#endif
