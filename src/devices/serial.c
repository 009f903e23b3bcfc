/* 16550A emulation. Transmission is instant, so THR and the shift register
 * are always empty; the only interrupt state that matters is the THRE
 * interrupt (armed when IER enables it or after a THR write, cleared by
 * reading IIR or writing THR) and the receive-data interrupt. The IRQ line
 * follows "IIR has something pending", which is what the 8250 driver's
 * interrupt loop expects. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "devices/serial.h"

#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_IER	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO_BITS	0xc0	/* 16550A with FIFO enabled */
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_IDLE	0xb0	/* DCD, DSR, CTS */


struct serial {
	pthread_mutex_t lock;
	int out_fd;
	const struct serial_host_ops *ops;
	void *host;

	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_pending;
	int irq_level;

	uint8_t rx[SERIAL_RX_FIFO];
	unsigned int rx_head, rx_count;
};

struct serial *serial_create(int out_fd, const struct serial_host_ops *ops,
			     void *host)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->ops = ops;
	s->host = host;
	s->dll = 12;		/* 9600 baud, what a BIOS leaves */
	s->lcr = 0x03;		/* 8n1 */
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static uint8_t iir_locked(struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_BITS : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

/* Called with the lock held; the line only moves on a change. */
static void update_irq_locked(struct serial *s)
{
	int level = !(iir_locked(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		s->ops->set_irq(s->host, level);
	}
}

static void transmit_locked(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		/* Loopback: what is sent comes back in. */
		if (s->rx_count < SERIAL_RX_FIFO) {
			s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = c;
			s->rx_count++;
		}
		return;
	}
	/* The guest console is worth more than a full pipe: retry EINTR,
	 * drop on any other error rather than stall the vCPU. Once the VM is
	 * ending, the EINTR is the vCPU's kick: a reader that left the pipe
	 * full must not keep mmvm from exiting. */
	while (write(s->out_fd, &c, 1) < 0 && errno == EINTR)
		if (s->ops->stopping && s->ops->stopping(s->host))
			break;
	if (s->ops->output)
		s->ops->output(s->host, &c, 1);
}

static uint8_t msr_locked(struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_IDLE;
	/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	return (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) |
			 ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
}

uint8_t serial_read(struct serial *s, unsigned int off)
{
	uint8_t val = 0;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB) {
			val = s->dll;
		} else if (s->rx_count) {
			val = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
			s->rx_count--;
		}
		break;
	case UART_IER:
		val = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR:
		val = iir_locked(s);
		/* Reading IIR acknowledges a THRE interrupt it reports. */
		if ((val & 0x0f) == IIR_THRI)
			s->thre_pending = false;
		break;
	case UART_LCR:
		val = s->lcr;
		break;
	case UART_MCR:
		val = s->mcr;
		break;
	case UART_LSR:
		val = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		val = msr_locked(s);
		break;
	case UART_SCR:
		val = s->scr;
		break;
	}
	update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	return val;
}

void serial_write(struct serial *s, unsigned int off, uint8_t val)
{
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = val;
			break;
		}
		transmit_locked(s, val);
		/* Sent at once: the holding register is empty again. */
		s->thre_pending = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
			break;
		}
		/* Enabling THRI with an empty THR raises it at once. */
		if (!(s->ier & IER_THRI) && (val & IER_THRI))
			s->thre_pending = true;
		s->ier = val & 0x0f;
		break;
	case UART_FCR:
		s->fcr = val;
		if (val & FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	default:		/* LSR, MSR: read-only */
		break;
	}
	update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < SERIAL_RX_FIFO) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = buf[n++];
		s->rx_count++;
	}
	update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_room(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = SERIAL_RX_FIFO - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}

static void port_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	*(uint8_t *)data = serial_read(opaque, (unsigned int)off);
}

static void port_write(void *opaque, uint64_t off, const void *data,
		       uint32_t len)
{
	serial_write(opaque, (unsigned int)off, *(const uint8_t *)data);
}

bool serial_register(struct serial *s, struct mmio_bus *pio, uint16_t base)
{
	return mmio_bus_register(pio, base, SERIAL_NR_PORTS, port_read,
				 port_write, s);
}
