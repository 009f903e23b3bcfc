#include "acpi/acpi_tables.h"
#include "devices/acpi_pm.h"

void acpi_pm_write(struct acpi_pm *pm, unsigned int off, uint8_t val)
{
	switch (off) {
	case ACPI_PM_SLEEP_CONTROL:
		/* Only S5 is offered (the DSDT has \_S5 and nothing else):
		 * any other sleep type is a guest bug, and ignored. */
		if ((val & ACPI_SLEEP_ENABLE) &&
		    ((val & ACPI_SLEEP_TYPE_MASK) >> ACPI_SLEEP_TYPE_SHIFT) ==
		    ACPI_S5_SLP_TYP) {
			pm->ev->power_off(pm->ev->host, "ACPI S5");
			return;
		}
		break;
	case ACPI_PM_RESET:
		if (val == ACPI_PM_RESET_VALUE) {
			pm->ev->reset(pm->ev->host, "ACPI reset register");
			return;
		}
		break;
	}
	__atomic_add_fetch(&pm->ignored_writes, 1, __ATOMIC_RELAXED);
}

static void pm_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	/* Sleep status: never asleep, so WAK_STS is never set; the other
	 * registers are write-only and read as 0. */
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)data)[i] = 0;
}

static void pm_write(void *opaque, uint64_t off, const void *data,
		     uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		acpi_pm_write(opaque, (unsigned int)off + i,
			      ((const uint8_t *)data)[i]);
}

bool acpi_pm_register(struct acpi_pm *pm, struct mmio_bus *pio,
		      const struct platform_events *ev)
{
	pm->ev = ev;
	return mmio_bus_register(pio, ACPI_PM_PORT_BASE, ACPI_PM_NR_PORTS,
				 pm_read, pm_write, pm);
}
