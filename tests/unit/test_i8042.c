/* The i8042 and its keyboard driven as Linux's i8042 and atkbd drivers
 * drive them (self-test, command byte, keyboard reset and identify,
 * LEDs, enable), through the port bus; the reset line; Ctrl+Alt+Del in
 * scan code sets 2 and 1, refused while no driver listens; a full queue
 * drops and counts, never overruns. */
#include <string.h>

#include "devices/i8042.h"
#include "unit.h"

static int resets, irqs;

static void on_reset(void *host, const char *how)
{
	resets++;
	CHECK(!strcmp(how, "i8042"));
}

static void on_kbd_irq(void *host)
{
	irqs++;
}

static const struct platform_events ev = { .reset = on_reset };
static const struct i8042_host_ops ops = { .kbd_irq = on_kbd_irq };

static uint8_t in8(struct mmio_bus *bus, uint16_t port)
{
	uint8_t v = 0x5a;

	CHECK(mmio_bus_access(bus, port, &v, 1, false));
	return v;
}

static void out8(struct mmio_bus *bus, uint16_t port, uint8_t v)
{
	CHECK(mmio_bus_access(bus, port, &v, 1, true));
}

/* What a driver polling for a controller answer reads: status OBF, then
 * the byte. -1 when nothing is there. */
static int poll_byte(struct mmio_bus *bus)
{
	if (!(in8(bus, PIO_I8042_CMD) & 0x01))
		return -1;
	return in8(bus, PIO_I8042_DATA);
}

static void setup(struct i8042 *k, struct mmio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	resets = irqs = 0;
	i8042_init(k, &ev, &ops, NULL);
	CHECK(i8042_register(k, bus));
}

/* Linux's probe, then atkbd's: the keyboard ends up scanning. */
static void probe_like_linux(struct mmio_bus *bus)
{
	int ctr;

	CHECK_EQ(poll_byte(bus), -1);			/* i8042_flush */
	out8(bus, PIO_I8042_CMD, 0xaa);			/* self-test */
	CHECK_EQ(in8(bus, PIO_I8042_CMD) & 0x08, 0x08);	/* last: command */
	CHECK_EQ(poll_byte(bus), 0x55);
	out8(bus, PIO_I8042_CMD, 0x20);			/* read CTR */
	ctr = poll_byte(bus);
	CHECK_EQ(ctr & 0x40, 0);			/* no translation */
	CHECK_EQ(ctr & 0x04, 0x04);			/* POST passed */
	out8(bus, PIO_I8042_CMD, 0x60);			/* write CTR */
	out8(bus, PIO_I8042_DATA, (uint8_t)((ctr & ~0x10) | 0x01));
	out8(bus, PIO_I8042_CMD, 0x20);
	CHECK_EQ(poll_byte(bus), (ctr & ~0x10) | 0x01);
	CHECK_EQ(irqs, 0);		/* controller answers do not interrupt */

	/* atkbd: reset-disable, identify (an interrupt a byte), LEDs, rate,
	 * enable. */
	out8(bus, PIO_I8042_DATA, 0xf5);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	out8(bus, PIO_I8042_DATA, 0xf2);
	CHECK_EQ(irqs, 2);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	CHECK_EQ(irqs, 3);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xab);
	CHECK_EQ(irqs, 4);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0x83);
	CHECK_EQ(irqs, 4);
	CHECK_EQ(in8(bus, PIO_I8042_CMD) & 0x01, 0);
	out8(bus, PIO_I8042_DATA, 0xed);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	out8(bus, PIO_I8042_DATA, 0x00);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	out8(bus, PIO_I8042_DATA, 0xf3);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	out8(bus, PIO_I8042_DATA, 0x00);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	out8(bus, PIO_I8042_DATA, 0xf4);
	CHECK_EQ(in8(bus, PIO_I8042_DATA), 0xfa);
	CHECK_EQ(poll_byte(bus), -1);
}

static void test_probe_and_keys(void)
{
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
					0x71, 0xf0, 0x11, 0xf0, 0x14 };
	struct mmio_bus bus;
	struct i8042 k;
	char err[256];

	setup(&k, &bus);
	/* Before any driver: refused, with the reason. */
	CHECK(!i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	CHECK(strstr(err, "not enabled its keyboard") != NULL);
	probe_like_linux(&bus);

	irqs = 0;
	CHECK(i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	CHECK_EQ(irqs, 1);	/* the first byte; then one per byte read */
	for (size_t i = 0; i < sizeof(set2); i++)
		CHECK_EQ(in8(&bus, PIO_I8042_DATA), set2[i]);
	CHECK_EQ(irqs, (int)sizeof(set2));
	CHECK_EQ(poll_byte(&bus), -1);
	/* An empty buffer reads the last byte again. */
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0x14);
	CHECK_EQ(k.ctrl_alt_dels, 1);
	CHECK_EQ(resets, 0);

	/* The driver switches the keyboard off: refused again. */
	out8(&bus, PIO_I8042_DATA, 0xf5);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xfa);
	CHECK(!i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	i8042_destroy(&k);
}

static void test_translated_set1(void)
{
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53,
					0xe0, 0xd3, 0xb8, 0x9d };
	struct mmio_bus bus;
	struct i8042 k;
	char err[256];

	setup(&k, &bus);
	probe_like_linux(&bus);
	out8(&bus, PIO_I8042_CMD, 0x20);
	int ctr = poll_byte(&bus);
	out8(&bus, PIO_I8042_CMD, 0x60);
	out8(&bus, PIO_I8042_DATA, (uint8_t)(ctr | 0x40));
	CHECK(i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	for (size_t i = 0; i < sizeof(set1); i++)
		CHECK_EQ(in8(&bus, PIO_I8042_DATA), set1[i]);
	/* Scan code set query and set 3: answered, and set 3 refused. */
	out8(&bus, PIO_I8042_CMD, 0x60);
	out8(&bus, PIO_I8042_DATA, (uint8_t)ctr);
	out8(&bus, PIO_I8042_DATA, 0xf0);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xfa);
	out8(&bus, PIO_I8042_DATA, 0x00);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xfa);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0x02);
	out8(&bus, PIO_I8042_DATA, 0xf0);
	out8(&bus, PIO_I8042_DATA, 0x03);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xfa);
	CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xfa);
	CHECK(!i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	CHECK(strstr(err, "set 3") != NULL);
	i8042_destroy(&k);
}

static void test_reset_line(void)
{
	struct mmio_bus bus;
	struct i8042 k;

	setup(&k, &bus);
	/* 0xfe at the data port is a keyboard command (resend), not a
	 * reset; 0xad disables the keyboard. */
	out8(&bus, PIO_I8042_DATA, 0xfe);
	out8(&bus, PIO_I8042_CMD, 0xad);
	out8(&bus, PIO_I8042_CMD, 0xff);	/* pulse nothing */
	CHECK_EQ(resets, 0);
	out8(&bus, PIO_I8042_CMD, 0xfe);	/* reboot=k */
	CHECK_EQ(resets, 1);
	out8(&bus, PIO_I8042_CMD, 0xd1);	/* output port, reset low */
	out8(&bus, PIO_I8042_DATA, 0xfe);
	CHECK_EQ(resets, 2);
	out8(&bus, PIO_I8042_CMD, 0xd1);
	out8(&bus, PIO_I8042_DATA, 0xdf);	/* A20 on, reset high */
	CHECK_EQ(resets, 2);
	/* Ports 0x61-0x63 are claimed but not the controller's. */
	CHECK_EQ(in8(&bus, 0x62), 0xff);
	out8(&bus, 0x62, 0xfe);
	CHECK_EQ(resets, 2);
	i8042_destroy(&k);
}

static void test_full_queue(void)
{
	struct mmio_bus bus;
	struct i8042 k;
	char err[256];

	setup(&k, &bus);
	probe_like_linux(&bus);
	/* A guest that never reads: the queue fills and then drops. */
	for (int i = 0; i < 3 * I8042_QUEUE; i++)
		out8(&bus, PIO_I8042_DATA, 0xee);
	CHECK_EQ(k.count, I8042_QUEUE);
	CHECK_EQ(k.dropped, 2 * I8042_QUEUE);
	CHECK(!i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	CHECK(strstr(err, "not read") != NULL);
	for (int i = 0; i < I8042_QUEUE; i++)
		CHECK_EQ(in8(&bus, PIO_I8042_DATA), 0xee);
	CHECK(i8042_send_ctrl_alt_del(&k, err, sizeof(err)));
	i8042_destroy(&k);
}

int main(void)
{
	RUN(test_probe_and_keys);
	RUN(test_translated_set1);
	RUN(test_reset_line);
	RUN(test_full_queue);
	return unit_finish("i8042");
}
