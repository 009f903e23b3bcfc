/* The i8042 under any sequence of guest port accesses, with the host's
 * Ctrl+Alt+Del mixed in: each input byte pair is an operation (read or
 * write port 0x60 or 0x64, or type the keys) and its value. Invariants:
 * the queue never holds more than I8042_QUEUE bytes, and the keyboard
 * interrupt fires only for a byte that is there to read. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "devices/i8042.h"

static struct i8042 *cur;

static void on_reset(void *host, const char *how)
{
}

static void on_kbd_irq(void *host)
{
	if (cur->count == 0)
		abort();
}

static const struct platform_events ev = { .reset = on_reset };
static const struct i8042_host_ops ops = { .kbd_irq = on_kbd_irq };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct i8042 k;
	char err[256];

	i8042_init(&k, &ev, &ops, NULL);
	cur = &k;
	for (size_t i = 0; i + 1 < size; i += 2) {
		uint8_t v = data[i + 1];

		switch (data[i] % 5) {
		case 0: i8042_port_read(&k, PIO_I8042_DATA); break;
		case 1: i8042_port_read(&k, PIO_I8042_CMD); break;
		case 2: i8042_port_write(&k, PIO_I8042_DATA, v); break;
		case 3: i8042_port_write(&k, PIO_I8042_CMD, v); break;
		default: i8042_send_ctrl_alt_del(&k, err, sizeof(err)); break;
		}
		if (k.count > I8042_QUEUE || k.head >= I8042_QUEUE)
			abort();
	}
	i8042_destroy(&k);
	return 0;
}
