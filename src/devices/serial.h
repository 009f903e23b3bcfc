/* 16550A UART (COM1): enough of it for Linux's 8250 driver and early
 * console. Output goes straight to a host fd; input arrives from the I/O
 * thread. Register accesses come from any vCPU; one mutex covers state. */
#ifndef MMVM_DEVICES_SERIAL_H
#define MMVM_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/mmio_bus.h"

#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_NR_PORTS		8
#define SERIAL_RX_FIFO		64

struct serial_host_ops {
	/* Set the interrupt line's level. */
	void (*set_irq)(void *host, int level);
	/* Bytes the guest transmitted (already written to out_fd). */
	void (*output)(void *host, const uint8_t *buf, size_t len);
	/* Optional: true once the VM is ending. A write to out_fd that a
	 * signal interrupts is then dropped instead of retried. */
	bool (*stopping)(void *host);
};

struct serial;

struct serial *serial_create(int out_fd, const struct serial_host_ops *ops,
			     void *host);
void serial_destroy(struct serial *s);

/* off is the register offset 0..7 from the base port. */
uint8_t serial_read(struct serial *s, unsigned int off);
void serial_write(struct serial *s, unsigned int off, uint8_t val);

/* Claims the UART's eight ports from base on the port bus (byte
 * accesses: the bus's users split wider ones). */
bool serial_register(struct serial *s, struct mmio_bus *pio, uint16_t base);

/* Queues host input for the guest; returns how many bytes were taken (the
 * rest must wait: the FIFO is full). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/* Room in the receive FIFO. */
size_t serial_rx_room(struct serial *s);

#endif
