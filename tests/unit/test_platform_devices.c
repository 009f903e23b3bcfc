/* The platform's port devices driven as a guest would, through the port
 * bus: ACPI sleep control (S5 powers off, other states do not), the ACPI
 * reset register, pvpanic (panicked, crash kernel loaded), the CMOS and
 * the claimed-but-absent ports. The i8042 is test_i8042.c. */
#include <string.h>

#include "acpi/acpi_tables.h"
#include "devices/acpi_pm.h"
#include "devices/pc_legacy.h"
#include "devices/pvpanic.h"
#include "unit.h"

static int power_offs, resets, panics, crash_loads;
static char last_how[64];

static void on_power_off(void *host, const char *how)
{
	power_offs++;
	snprintf(last_how, sizeof(last_how), "%s", how);
}

static void on_reset(void *host, const char *how)
{
	resets++;
	snprintf(last_how, sizeof(last_how), "%s", how);
}

static void on_panic(void *host, bool crash_loaded)
{
	if (crash_loaded)
		crash_loads++;
	else
		panics++;
}

static const struct platform_events ev = {
	.power_off = on_power_off, .reset = on_reset, .panic = on_panic,
};

static void reset_counts(void)
{
	power_offs = resets = panics = crash_loads = 0;
	last_how[0] = '\0';
}

static uint8_t in8(struct mmio_bus *bus, uint16_t port)
{
	uint8_t v = 0x5a;

	mmio_bus_access(bus, port, &v, 1, false);
	return v;
}

static bool out8(struct mmio_bus *bus, uint16_t port, uint8_t v)
{
	return mmio_bus_access(bus, port, &v, 1, true);
}

static void test_acpi_sleep_and_reset(void)
{
	struct mmio_bus bus = { 0 };
	struct acpi_pm pm = { 0 };
	uint16_t ctl = ACPI_PM_PORT_BASE + ACPI_PM_SLEEP_CONTROL;
	uint16_t rst = ACPI_PM_PORT_BASE + ACPI_PM_RESET;

	reset_counts();
	CHECK(acpi_pm_register(&pm, &bus, &ev));
	/* What Linux's acpi_hw_extended_sleep() writes for S5. */
	CHECK(out8(&bus, ctl, (ACPI_S5_SLP_TYP << ACPI_SLEEP_TYPE_SHIFT) |
			      ACPI_SLEEP_ENABLE));
	CHECK_EQ(power_offs, 1);
	CHECK(!strcmp(last_how, "ACPI S5"));
	/* S5's type without SLP_EN, and other sleep states, do nothing. */
	out8(&bus, ctl, ACPI_S5_SLP_TYP << ACPI_SLEEP_TYPE_SHIFT);
	for (uint8_t t = 0; t < 8; t++)
		if (t != ACPI_S5_SLP_TYP)
			out8(&bus, ctl, (uint8_t)((t << ACPI_SLEEP_TYPE_SHIFT) |
						  ACPI_SLEEP_ENABLE));
	CHECK_EQ(power_offs, 1);
	CHECK_EQ(pm.ignored_writes, 8);
	/* The sleep status register never reports a wake. */
	CHECK_EQ(in8(&bus, ACPI_PM_PORT_BASE + ACPI_PM_SLEEP_STATUS), 0);
	/* Reset: only the FADT's reset value. */
	out8(&bus, rst, 0x06);
	CHECK_EQ(resets, 0);
	out8(&bus, rst, ACPI_PM_RESET_VALUE);
	CHECK_EQ(resets, 1);
	CHECK(!strcmp(last_how, "ACPI reset register"));
	CHECK_EQ(panics + crash_loads, 0);
	/* Ports next to the block are not ours. */
	CHECK(!out8(&bus, ACPI_PM_PORT_BASE + ACPI_PM_NR_PORTS, 0));
}

static void test_pvpanic(void)
{
	struct mmio_bus bus = { 0 };
	struct pvpanic p = { 0 };

	reset_counts();
	CHECK(pvpanic_register(&p, &bus, &ev));
	/* The guest driver reads which events the device supports. */
	CHECK_EQ(in8(&bus, PVPANIC_PORT),
		 PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	out8(&bus, PVPANIC_PORT, 0);
	out8(&bus, PVPANIC_PORT, 0xfc);		/* undefined events */
	CHECK_EQ(panics + crash_loads, 0);
	out8(&bus, PVPANIC_PORT, PVPANIC_CRASH_LOADED);
	CHECK_EQ(crash_loads, 1);
	CHECK_EQ(panics, 0);
	out8(&bus, PVPANIC_PORT, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	CHECK_EQ(panics, 1);
	CHECK_EQ(crash_loads, 1);
	CHECK_EQ(power_offs + resets, 0);
}

static void test_pc_legacy(void)
{
	struct mmio_bus bus = { 0 };
	struct pc_legacy pc = { 0 };

	reset_counts();
	CHECK(pc_legacy_register(&pc, &bus));
	/* CMOS: select register 0x0b, read back 24-hour BCD mode. */
	out8(&bus, PIO_CMOS_INDEX, 0x0b);
	CHECK_EQ(in8(&bus, PIO_CMOS_DATA), 0x02);
	out8(&bus, PIO_CMOS_INDEX, 0x0d);
	CHECK_EQ(in8(&bus, PIO_CMOS_DATA), 0x80);
	CHECK_EQ(in8(&bus, PIO_POST), 0);
	/* COM2 is absent but claimed: reads all-ones, not unhandled. */
	CHECK(mmio_bus_access(&bus, 0x2f8 + 5, &(uint8_t){ 0 }, 1, false));
	CHECK_EQ(in8(&bus, 0x2f8 + 5), 0xff);
	CHECK_EQ(bus.unhandled, 0);
	/* And a port nobody has is unhandled. */
	CHECK(!out8(&bus, 0x1234, 1));
	CHECK_EQ(bus.unhandled, 1);
	CHECK_EQ(power_offs + panics + resets, 0);
}

int main(void)
{
	RUN(test_acpi_sleep_and_reset);
	RUN(test_pvpanic);
	RUN(test_pc_legacy);
	return unit_finish("platform_devices");
}
