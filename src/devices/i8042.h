/* The i8042 keyboard controller with one PS/2 keyboard, as much of them
 * as Linux's i8042 and atkbd drivers need to bind, and no more: the
 * controller's self-test, command byte and reset line (command 0xfe:
 * reboot=k, and the fallback of every x86 reboot), the keyboard's reset,
 * identify, LED, typematic and enable commands. No mouse (the DSDT names
 * only the keyboard, PNP0303, so Linux does not probe an AUX port).
 *
 * It exists for one host-side action: i8042_send_ctrl_alt_del() types
 * Ctrl+Alt+Del, as Firecracker's SendCtrlAltDel does, and the guest
 * reboots (the kernel at once, or systemd through ctrl-alt-del.target),
 * which ends the run. Ports 0x60 (data) and 0x64 (status, command) are
 * written by vCPU threads, the key presses come from the API thread: one
 * lock covers the state. */
#ifndef MMVM_DEVICES_I8042_H
#define MMVM_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/platform_events.h"
#include "vmm/mmio_bus.h"

#define PIO_I8042_DATA		0x60
#define PIO_I8042_CMD		0x64
#define I8042_KBD_IRQ		1	/* ISA IRQ 1, edge */

/* Bytes the guest has not read yet: a key sequence is 10, a command's
 * answer at most 3; more is dropped (and counted), as a real keyboard's
 * buffer overflows. */
#define I8042_QUEUE		16

struct i8042_host_ops {
	/* Pulse the keyboard interrupt line (IRQ 1, edge-triggered). */
	void (*kbd_irq)(void *host);
};

struct i8042 {
	pthread_mutex_t lock;
	const struct platform_events *ev;	/* reset */
	const struct i8042_host_ops *ops;
	void *host;
	/* The byte, | 0x100 when the keyboard sent it (it interrupts; the
	 * controller's own answers are polled for). */
	uint16_t queue[I8042_QUEUE];
	unsigned int head, count;
	uint8_t last_read;	/* read again when the queue is empty */
	uint8_t ctr;		/* the controller's command byte */
	uint8_t status_cmd;	/* status bit 3: the last write was a command */
	uint8_t ctl_pending;	/* controller command waiting for its data */
	uint8_t kbd_pending;	/* keyboard command waiting for its argument */
	bool kbd_scanning;	/* the driver enabled the keyboard (0xf4) */
	uint8_t scancode_set;
	uint64_t dropped;	/* bytes lost to a full queue */
	uint64_t ctrl_alt_dels;
};

void i8042_init(struct i8042 *k, const struct platform_events *ev,
		const struct i8042_host_ops *ops, void *host);
void i8042_destroy(struct i8042 *k);

/* Claims ports 0x60 and 0x64 on the port bus. */
bool i8042_register(struct i8042 *k, struct mmio_bus *pio);

/* One byte at port 0x60 or 0x64 (exposed for the unit test and fuzzer). */
uint8_t i8042_port_read(struct i8042 *k, uint16_t port);
void i8042_port_write(struct i8042 *k, uint16_t port, uint8_t val);

/* Types Ctrl+Alt+Del (press, then release). Fails (false, with why in
 * err) when the guest has not enabled the keyboard: no driver would see
 * the keys. */
bool i8042_send_ctrl_alt_del(struct i8042 *k, char *err, size_t errlen);

#endif
