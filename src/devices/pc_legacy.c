#include <string.h>
#include <time.h>

#include "devices/pc_legacy.h"

#define UART_NR_PORTS		8

static uint8_t to_bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* A read-only RTC showing host UTC, so the guest's clock is sane without
 * kvm-clock's help for wall time. */
static uint8_t cmos_read(uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index & 0x7f) {
	case 0x00: return to_bcd(tm.tm_sec);
	case 0x02: return to_bcd(tm.tm_min);
	case 0x04: return to_bcd(tm.tm_hour);
	case 0x06: return to_bcd(tm.tm_wday + 1);
	case 0x07: return to_bcd(tm.tm_mday);
	case 0x08: return to_bcd(tm.tm_mon + 1);
	case 0x09: return to_bcd(tm.tm_year % 100);
	case 0x32: return to_bcd(19 + tm.tm_year / 100);	/* century */
	case 0x0a: return 0x26;		/* no update in progress */
	case 0x0b: return 0x02;		/* 24 hour, BCD */
	case 0x0d: return 0x80;		/* battery good */
	default: return 0;
	}
}

static void cmos_port_read(void *opaque, uint64_t off, void *data,
			   uint32_t len)
{
	struct pc_legacy *pc = opaque;

	*(uint8_t *)data = off ? cmos_read(__atomic_load_n(&pc->cmos_index,
							   __ATOMIC_RELAXED))
			       : 0xff;
}

static void cmos_port_write(void *opaque, uint64_t off, const void *data,
			    uint32_t len)
{
	struct pc_legacy *pc = opaque;

	if (off == 0)
		__atomic_store_n(&pc->cmos_index, *(const uint8_t *)data,
				 __ATOMIC_RELAXED);
}

static void post_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0, len);
}

bool pc_legacy_register(struct pc_legacy *pc, struct mmio_bus *pio)
{
	static const uint16_t absent_uarts[] = { 0x2f8, 0x3e8, 0x2e8 };
	bool ok;

	ok = mmio_bus_register(pio, PIO_CMOS_INDEX, 2, cmos_port_read,
			       cmos_port_write, pc) &&
	     mmio_bus_register(pio, PIO_POST, 1, post_read, NULL, pc);
	/* No read handler: reads give all-ones, an empty ISA slot. */
	for (size_t i = 0; ok && i < sizeof(absent_uarts) / sizeof(absent_uarts[0]); i++)
		ok = mmio_bus_register(pio, absent_uarts[i], UART_NR_PORTS,
				       NULL, NULL, pc);
	return ok;
}
