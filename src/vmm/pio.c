/* Legacy port I/O. Anything nobody claims reads as all-ones, as an empty
 * ISA bus does, so probes for absent hardware fail fast. The PIC, PIT and
 * port 0x61 are KVM's (in-kernel irqchip and PIT). */
#include <string.h>
#include <time.h>

#include "devices/serial.h"
#include "vmm/lifecycle.h"
#include "vmm/pio.h"

/* i8042: absent, except that a 0xfe command resets the machine. Status
 * reads as "output full, input empty, no controller answers": the driver's
 * probe gives up at once and the reboot path does not wait for IBF. */
#define I8042_STATUS_ABSENT	0xfd

static uint8_t cmos_index;
/* Which absent ports the guest keeps poking: printed with --stats. */
static uint32_t unhandled_by_port[65536];

void pio_print_stats(FILE *f)
{
	for (unsigned int p = 0; p < 65536; p++)
		if (unhandled_by_port[p])
			fprintf(f, "mmvm.pio_unhandled.0x%04x %u\n", p,
				unhandled_by_port[p]);
}

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

static bool is_absent_uart(uint16_t port)
{
	static const uint16_t bases[] = { 0x2f8, 0x3e8, 0x2e8 };

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (port >= bases[i] && port < bases[i] + SERIAL_NR_PORTS)
			return true;
	return false;
}

static void pio_byte(struct vm *vm, uint16_t port, uint8_t *val,
		     bool is_write)
{
	if (port >= SERIAL_COM1_BASE &&
	    port < SERIAL_COM1_BASE + SERIAL_NR_PORTS) {
		if (is_write)
			serial_write(vm->serial, port - SERIAL_COM1_BASE, *val);
		else
			*val = serial_read(vm->serial, port - SERIAL_COM1_BASE);
		return;
	}
	switch (port) {
	case PIO_POST:
		if (!is_write)
			*val = 0;
		return;
	case PIO_I8042_CMD:
		if (is_write && *val == PIO_I8042_RESET)
			vm_request_exit(vm, MMVM_EXIT_OK, "guest rebooted");
		if (!is_write)
			*val = I8042_STATUS_ABSENT;
		return;
	case PIO_I8042_DATA:
		if (!is_write)
			*val = 0xff;
		return;
	case PIO_CMOS_INDEX:
		if (is_write)
			cmos_index = *val;
		else
			*val = 0xff;
		return;
	case PIO_CMOS_DATA:
		if (!is_write)
			*val = cmos_read(cmos_index);
		return;
	}
	if (!is_absent_uart(port)) {
		__atomic_add_fetch(&vm->pio_unhandled, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&unhandled_by_port[port], 1,
				   __ATOMIC_RELAXED);
	}
	if (!is_write)
		*val = 0xff;
}

void pio_access(struct vm *vm, uint16_t port, uint8_t *data, unsigned int size,
		bool is_write)
{
	/* Wider accesses to 8-bit devices: split into bytes at consecutive
	 * ports, which is what the ISA bus would do. */
	for (unsigned int i = 0; i < size && i < 4; i++)
		pio_byte(vm, (uint16_t)(port + i), &data[i], is_write);
}
