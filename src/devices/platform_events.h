/* What the platform devices (ACPI power management, pvpanic, the i8042
 * reset line) report about the guest's life. The devices only decode the
 * guest's register writes; what an event means for the run (exit status,
 * message) is the VMM's business, behind these callbacks. */
#ifndef MMVM_DEVICES_PLATFORM_EVENTS_H
#define MMVM_DEVICES_PLATFORM_EVENTS_H

#include <stdbool.h>

struct platform_events {
	void *host;
	/* The guest asked to power off; how names the register ("ACPI S5"). */
	void (*power_off)(void *host, const char *how);
	/* The guest asked for a reset ("ACPI reset register", "i8042"). */
	void (*reset)(void *host, const char *how);
	/* The guest kernel panicked (pvpanic). crash_loaded: a crash kernel
	 * (kdump) takes over, so the guest keeps running for now. */
	void (*panic)(void *host, bool crash_loaded);
};

#endif
