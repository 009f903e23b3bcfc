#include <stdio.h>
#include <stdlib.h>

#include "acpi/acpi_tables.h"
#include "boot/layout.h"
#include "boot/mptable.h"
#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/pc_legacy.h"
#include "devices/pvpanic.h"
#include "devices/serial.h"
#include "devmgr/virtio_devices.h"
#include "vmm/lifecycle.h"
#include "devmgr/platform.h"

struct platform {
	struct platform_events ev;
	struct pc_legacy legacy;
	struct i8042 i8042;
	struct acpi_pm pm;
	struct pvpanic pvpanic;
};

static void on_power_off(void *host, const char *how)
{
	vm_guest_power_off(host, how);
}

static void on_reset(void *host, const char *how)
{
	vm_guest_reset(host, how);
}

static void on_panic(void *host, bool crash_loaded)
{
	vm_guest_panic(host, crash_loaded);
}

/* IRQ 1 is an ISA edge: one pulse a byte. */
static void on_kbd_irq(void *host)
{
	vm_irq_line(host, I8042_KBD_IRQ, 1);
	vm_irq_line(host, I8042_KBD_IRQ, 0);
}

static const struct i8042_host_ops i8042_ops = { .kbd_irq = on_kbd_irq };

int platform_setup(struct vm *vm, char *err, size_t errlen)
{
	struct platform *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vm->platform = p;
	p->ev = (struct platform_events){
		.host = vm, .power_off = on_power_off, .reset = on_reset,
		.panic = on_panic,
	};
	i8042_init(&p->i8042, &p->ev, &i8042_ops, vm);
	if (!serial_register(vm->serial, &vm->pio, SERIAL_COM1_BASE) ||
	    !pc_legacy_register(&p->legacy, &vm->pio) ||
	    !i8042_register(&p->i8042, &vm->pio) ||
	    (vm->cfg->acpi &&
	     (!acpi_pm_register(&p->pm, &vm->pio, &p->ev) ||
	      !pvpanic_register(&p->pvpanic, &vm->pio, &p->ev)))) {
		snprintf(err, errlen, "cannot register the platform's I/O ports");
		return -1;
	}
	return 0;
}

int platform_write_acpi(struct vm *vm, uint64_t *rsdp, char *err,
			size_t errlen)
{
	struct acpi_platform ap = {
		.nr_cpus = vm->cfg->cpus,
		.lapic_addr = BOOT_LAPIC_ADDR,
		.ioapic_addr = BOOT_IOAPIC_ADDR,
		.ioapic_pins = MPTABLE_IOAPIC_PINS,
		.com1 = true,
		.i8042 = true,
		.pvpanic_port = PVPANIC_PORT,
		.sleep_control_port = ACPI_PM_PORT_BASE + ACPI_PM_SLEEP_CONTROL,
		.sleep_status_port = ACPI_PM_PORT_BASE + ACPI_PM_SLEEP_STATUS,
		.reset_port = ACPI_PM_PORT_BASE + ACPI_PM_RESET,
		.reset_value = ACPI_PM_RESET_VALUE,
	};
	struct virtio_slot slots[ACPI_MAX_VIRTIO];
	uint8_t *buf;

	*rsdp = 0;
	if (!vm->cfg->acpi)
		return 0;
	ap.nr_virtio = virtio_devices_slots(vm, slots, ACPI_MAX_VIRTIO);
	if (ap.nr_virtio > ACPI_MAX_VIRTIO) {
		snprintf(err, errlen, "ACPI: more than %d virtio devices",
			 ACPI_MAX_VIRTIO);
		return -1;
	}
	for (unsigned int i = 0; i < ap.nr_virtio; i++)
		ap.virtio[i] = (struct acpi_virtio_dev){
			.base = slots[i].base,
			.size = (uint32_t)slots[i].window,
			.gsi = slots[i].gsi,
		};
	buf = guest_mem_ptr(&vm->mem, BOOT_ACPI_ADDR, BOOT_ACPI_SIZE);
	if (!buf || !acpi_build_tables(&ap, buf, BOOT_ACPI_SIZE,
				       BOOT_ACPI_ADDR)) {
		snprintf(err, errlen, "cannot build the ACPI tables for this VM (they must fit in %u KiB at %#llx)",
			 (unsigned int)(BOOT_ACPI_SIZE >> 10),
			 (unsigned long long)BOOT_ACPI_ADDR);
		return -1;
	}
	*rsdp = BOOT_ACPI_ADDR;
	return 0;
}

bool platform_send_ctrl_alt_del(struct vm *vm, char *err, size_t errlen)
{
	struct platform *p = vm->platform;

	if (!p) {
		snprintf(err, errlen, "the VM has no platform devices yet");
		return false;
	}
	return i8042_send_ctrl_alt_del(&p->i8042, err, errlen);
}

void platform_destroy(struct vm *vm)
{
	if (vm->platform)
		i8042_destroy(&((struct platform *)vm->platform)->i8042);
	free(vm->platform);
	vm->platform = NULL;
}
