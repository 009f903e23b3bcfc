/* The i8042 and its keyboard: see i8042.h for what is there and why. */
#include "devices/i8042.h"

#include <stdio.h>
#include <string.h>

/* Status register (port 0x64 read). */
#define STS_OBF		0x01	/* output buffer full: a byte at 0x60 */
#define STS_SYS		0x04	/* system flag, from the command byte */
#define STS_CMD		0x08	/* the last write went to port 0x64 */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */

/* Command byte ("CTR"). */
#define CTR_KBDINT	0x01	/* interrupt on keyboard bytes */
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10	/* keyboard interface disabled */
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40	/* translate set 2 to set 1 */

/* Controller commands (port 0x64 write). */
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_WRITE_OUT	0xd1	/* output port: bit 0 is the reset line */
#define CMD_KBD_LOOP	0xd2	/* the next byte as if the keyboard sent it */
#define CMD_AUX_LOOP	0xd3
#define CMD_AUX_SEND	0xd4
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse the lines whose bit is 0 */

/* Keyboard commands (port 0x60 write) and answers. */
#define KBD_SET_LEDS	0xed
#define KBD_ECHO	0xee
#define KBD_SCANSET	0xf0
#define KBD_GET_ID	0xf2
#define KBD_TYPEMATIC	0xf3
#define KBD_ENABLE	0xf4
#define KBD_DISABLE	0xf5
#define KBD_DEFAULTS	0xf6
#define KBD_RESEND	0xfe
#define KBD_RESET	0xff
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa

#define SELF_TEST_OK	0x55
#define PORT_TEST_OK	0x00
#define PORT_CLOCK_LOW	0x01	/* the AUX port test's "no device" */

/* Queue entries: the byte, and whether it came from the keyboard (it
 * raises IRQ 1) or is the controller's answer (the driver polls). */
#define FROM_KBD	0x100

void i8042_init(struct i8042 *k, const struct platform_events *ev,
		const struct i8042_host_ops *ops, void *host)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ev = ev;
	k->ops = ops;
	k->host = host;
	/* As a BIOS leaves it: keyboard interrupt on, POST passed, no
	 * translation (the driver then talks set 2 to the keyboard). */
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS;
	k->scancode_set = 2;
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static bool kbd_irq_enabled(const struct i8042 *k)
{
	return (k->ctr & CTR_KBDINT) && !(k->ctr & CTR_KBDDIS);
}

/* The byte at the head of the queue is new: a keyboard byte interrupts. */
static void head_arrived(struct i8042 *k, uint16_t entry)
{
	if ((entry & FROM_KBD) && kbd_irq_enabled(k) && k->ops &&
	    k->ops->kbd_irq)
		k->ops->kbd_irq(k->host);
}

static void push(struct i8042 *k, uint16_t entry)
{
	if (k->count == I8042_QUEUE) {
		k->dropped++;
		return;
	}
	k->queue[(k->head + k->count) % I8042_QUEUE] = entry;
	if (k->count++ == 0)
		head_arrived(k, entry);
}

static void ctl_answer(struct i8042 *k, uint8_t b)
{
	push(k, b);
}

static void kbd_answer(struct i8042 *k, uint8_t b)
{
	push(k, FROM_KBD | b);
}

static void reset_line(struct i8042 *k)
{
	if (k->ev && k->ev->reset)
		k->ev->reset(k->ev->host, "i8042");
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		ctl_answer(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUT:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->ctl_pending = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		ctl_answer(k, PORT_CLOCK_LOW);
		break;
	case CMD_SELF_TEST:
		ctl_answer(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		ctl_answer(k, PORT_TEST_OK);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	default:
		if ((cmd & 0xf0) == CMD_PULSE && !(cmd & 1))
			reset_line(k);
		/* Anything else (read input/output port, passwords, the
		 * vendor commands) has no effect and no answer. */
		break;
	}
}

/* The data byte a controller command was waiting for. */
static void controller_data(struct i8042 *k, uint8_t cmd, uint8_t val)
{
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = val;
		break;
	case CMD_WRITE_OUT:
		if (!(val & 1))
			reset_line(k);
		break;
	case CMD_KBD_LOOP:
		kbd_answer(k, val);
		break;
	default:	/* the AUX port: no device behind it */
		break;
	}
}

/* The argument byte a keyboard command was waiting for. */
static void keyboard_argument(struct i8042 *k, uint8_t cmd, uint8_t val)
{
	if (cmd == KBD_SCANSET && val == 0) {
		kbd_answer(k, KBD_ACK);
		kbd_answer(k, k->scancode_set);
		return;
	}
	if (cmd == KBD_SCANSET && val <= 3)
		k->scancode_set = val;
	kbd_answer(k, KBD_ACK);	/* LEDs, typematic rate: nothing to do */
}

static void keyboard_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case KBD_SET_LEDS:
	case KBD_TYPEMATIC:
	case KBD_SCANSET:
		k->kbd_pending = cmd;
		kbd_answer(k, KBD_ACK);
		break;
	case KBD_ECHO:
		kbd_answer(k, KBD_ECHO);
		break;
	case KBD_GET_ID:	/* an MF2 keyboard */
		kbd_answer(k, KBD_ACK);
		kbd_answer(k, 0xab);
		kbd_answer(k, 0x83);
		break;
	case KBD_ENABLE:
		k->kbd_scanning = true;
		kbd_answer(k, KBD_ACK);
		break;
	case KBD_DISABLE:
		k->kbd_scanning = false;
		k->scancode_set = 2;
		kbd_answer(k, KBD_ACK);
		break;
	case KBD_DEFAULTS:
		k->scancode_set = 2;
		kbd_answer(k, KBD_ACK);
		break;
	case KBD_RESET:		/* self-test passed; scanning after it */
		k->scancode_set = 2;
		k->kbd_scanning = true;
		kbd_answer(k, KBD_ACK);
		kbd_answer(k, KBD_BAT_OK);
		break;
	default:
		/* 0xf7-0xfd set key types: accepted and ignored. */
		kbd_answer(k, cmd >= 0xf7 && cmd <= 0xfd ? KBD_ACK
							 : KBD_RESEND);
		break;
	}
}

uint8_t i8042_port_read(struct i8042 *k, uint16_t port)
{
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (port == PIO_I8042_CMD) {
		v = (uint8_t)((k->count ? STS_OBF : 0) | (k->ctr & CTR_SYS) |
			      k->status_cmd | STS_UNLOCKED);
	} else if (k->count) {
		v = (uint8_t)k->queue[k->head];
		k->last_read = v;
		k->head = (k->head + 1) % I8042_QUEUE;
		if (--k->count)
			head_arrived(k, k->queue[k->head]);
	} else {
		v = k->last_read;
	}
	pthread_mutex_unlock(&k->lock);
	return v;
}

void i8042_port_write(struct i8042 *k, uint16_t port, uint8_t val)
{
	pthread_mutex_lock(&k->lock);
	if (port == PIO_I8042_CMD) {
		k->status_cmd = STS_CMD;
		k->ctl_pending = 0;
		controller_command(k, val);
	} else {
		uint8_t ctl = k->ctl_pending, kbd = k->kbd_pending;

		k->status_cmd = 0;
		k->ctl_pending = 0;
		k->kbd_pending = 0;
		if (ctl)
			controller_data(k, ctl, val);
		else if (kbd)
			keyboard_argument(k, kbd, val);
		else
			keyboard_command(k, val);
	}
	pthread_mutex_unlock(&k->lock);
}

bool i8042_send_ctrl_alt_del(struct i8042 *k, char *err, size_t errlen)
{
	/* Left Ctrl, left Alt, Delete (an E0 key): pressed in that order,
	 * released in reverse. */
	static const uint8_t set2[] = {
		0x14, 0x11, 0xe0, 0x71,
		0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14,
	};
	static const uint8_t set1[] = {
		0x1d, 0x38, 0xe0, 0x53,
		0xe0, 0xd3, 0xb8, 0x9d,
	};
	const uint8_t *keys;
	size_t n;
	bool ok = false;

	pthread_mutex_lock(&k->lock);
	if (k->scancode_set == 1 || (k->ctr & CTR_XLATE)) {
		keys = set1;
		n = sizeof(set1);
	} else {
		keys = set2;
		n = sizeof(set2);
	}
	if (!k->kbd_scanning || !kbd_irq_enabled(k))
		snprintf(err, errlen, "the guest has not enabled its keyboard: no i8042/AT keyboard driver (CONFIG_SERIO_I8042, CONFIG_KEYBOARD_ATKBD) has bound it, or it has switched it off");
	else if (k->scancode_set == 3 && !(k->ctr & CTR_XLATE))
		snprintf(err, errlen, "the guest's keyboard driver uses scan code set 3, which mmvm does not type");
	else if (I8042_QUEUE - k->count < n)
		snprintf(err, errlen, "the guest has not read the keyboard's last %u bytes yet",
			 k->count);
	else
		ok = true;
	if (ok) {
		for (size_t i = 0; i < n; i++)
			kbd_answer(k, keys[i]);
		k->ctrl_alt_dels++;
	}
	pthread_mutex_unlock(&k->lock);
	return ok;
}

/* Ports 0x61-0x63 fall inside the claimed range and are not the
 * i8042's (KVM handles 0x61 itself): they read as an empty slot. */
static void pio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (off == 0 || off == PIO_I8042_CMD - PIO_I8042_DATA)
		*(uint8_t *)data = i8042_port_read(opaque,
				(uint16_t)(PIO_I8042_DATA + off));
}

static void pio_write(void *opaque, uint64_t off, const void *data,
		      uint32_t len)
{
	if (off == 0 || off == PIO_I8042_CMD - PIO_I8042_DATA)
		i8042_port_write(opaque, (uint16_t)(PIO_I8042_DATA + off),
				 *(const uint8_t *)data);
}

bool i8042_register(struct i8042 *k, struct mmio_bus *pio)
{
	return mmio_bus_register(pio, PIO_I8042_DATA,
				 PIO_I8042_CMD - PIO_I8042_DATA + 1,
				 pio_read, pio_write, k);
}
