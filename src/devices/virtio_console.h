/* virtio-console device model: one port (no MULTIPORT), host input -> guest
 * on queue 0, guest output -> host on queue 1. With --console virtio the
 * host side is the VMM's stdin and stdout. */
#ifndef MMVM_DEVICES_VIRTIO_CONSOLE_H
#define MMVM_DEVICES_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_device.h"

/* Creates the virtio console on stdin/stdout and attaches it to the VM.
 * stdin is watched by the I/O thread from here on: the caller must not
 * give it to anything else (the serial port). Returns 0, or -1 after
 * printing a one-line error. */
int virtio_console_make(struct virtio_device_spec *spec);

/* ---- Below: for unit tests, which use pipes and their own transport. */

#define VIRTIO_CONSOLE_ID	3
#define VIRTIO_CONSOLE_RXQ	0	/* host -> guest */
#define VIRTIO_CONSOLE_TXQ	1	/* guest -> host */
#define VIRTIO_CONSOLE_QUEUE_SIZE 64

struct virtio_console_stats {
	uint64_t in_bytes;	/* host input given to the guest */
	uint64_t out_bytes;	/* guest output written to the host */
	uint64_t out_errors;	/* output lost: host fd write failed */
	uint64_t bad_chains;
};

struct virtio_console;

extern const struct virtio_device_ops virtio_console_ops;

/* The device model alone on in_fd/out_fd. in_fd may be anything read(2)
 * takes: pipe, tty, socket, regular file. in_polled: someone calls
 * virtio_console_input_ready() when in_fd gets input (else it is read on
 * the guest's kicks alone, and no input waiting means end of input).
 * NULL if out of memory. */
struct virtio_console *virtio_console_new(int in_fd, int out_fd,
					  bool in_polled);
/* Binds c to its transport's handles (as the device manager does; unit
 * tests pass an env without workers). */
int virtio_console_bind(struct virtio_console *c,
			const struct virtio_device_env *env);
/* Its config space bytes, for the transport. */
const void *virtio_console_config(const struct virtio_console *c);
/* in_fd's epoll callback (edge-triggered EPOLLIN). */
void virtio_console_input_ready(void *opaque, uint32_t events);
const struct virtio_console_stats *
virtio_console_get_stats(const struct virtio_console *c);
void virtio_console_free(struct virtio_console *c);

#endif
