#include "devices/pvpanic.h"

void pvpanic_write(struct pvpanic *p, uint8_t val)
{
	/* Linux sends one event; if both bits came, "panicked" wins: the
	 * run ends rather than wait for a crash kernel. */
	if (val & PVPANIC_PANICKED)
		p->ev->panic(p->ev->host, false);
	else if (val & PVPANIC_CRASH_LOADED)
		p->ev->panic(p->ev->host, true);
}

static void port_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	uint8_t *b = data;

	for (uint32_t i = 0; i < len; i++)
		b[i] = i == 0 ? PVPANIC_PANICKED | PVPANIC_CRASH_LOADED : 0;
}

static void port_write(void *opaque, uint64_t off, const void *data,
		       uint32_t len)
{
	if (len >= 1)
		pvpanic_write(opaque, *(const uint8_t *)data);
}

bool pvpanic_register(struct pvpanic *p, struct mmio_bus *pio,
		      const struct platform_events *ev)
{
	p->ev = ev;
	return mmio_bus_register(pio, PVPANIC_PORT, 1, port_read, port_write,
				 p);
}
