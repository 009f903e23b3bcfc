/* The PC platform every VM gets around its virtio devices, and how it is
 * described to the guest:
 *  - port devices: COM1, the i8042 and its keyboard, the legacy PC ports
 *    (CMOS RTC, POST) and, with ACPI, the power-management registers and
 *    pvpanic;
 *  - with ACPI (the default), tables at BOOT_ACPI_ADDR describing the
 *    CPUs, the IOAPIC, every virtio-mmio device, COM1, the keyboard and
 *    the above; the
 *    MP table is always there too, for kernels without ACPI.
 * The devices' events (power-off, reset, panic) go to lifecycle.h. */
#ifndef MMVM_DEVMGR_PLATFORM_H
#define MMVM_DEVMGR_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/vm.h"

/* Registers the port devices on vm->pio. vm->serial must exist. */
int platform_setup(struct vm *vm, char *err, size_t errlen);

/* With ACPI: builds the tables for the devices attached so far into guest
 * memory and returns the RSDP's guest-physical address in *rsdp (0
 * without ACPI). Call once every device is attached. */
int platform_write_acpi(struct vm *vm, uint64_t *rsdp, char *err,
			size_t errlen);

/* Types Ctrl+Alt+Del on the i8042's keyboard (the API's SendCtrlAltDel;
 * any thread). False, with why in err, if the guest is not listening. */
bool platform_send_ctrl_alt_del(struct vm *vm, char *err, size_t errlen);

void platform_destroy(struct vm *vm);

#endif
