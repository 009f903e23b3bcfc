/* Fuzzes virtio-console: the guest owns both rings and every buffer; the
 * host side sends up to 4 KiB of input (from the fuzz input) and takes the
 * output (/dev/null, counted). Whatever the rings hold, the model must
 * neither write outside guest memory nor report more input delivered than
 * was sent. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_console.h"
#include "fuzz/fuzz_device_harness.h"

static int in_r = -1, in_w = -1, out_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct virtio_console_stats *st;
	struct virtio_console *c;
	uint8_t buf[4096];
	uint16_t in_len;
	size_t sent = 0;
	int p[2];

	if (in_r < 0) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			abort();
		in_r = p[0];
		in_w = p[1];
		out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out_fd < 0)
			abort();
	}
	while (read(in_r, buf, sizeof(buf)) > 0)	/* last input's rest */
		;
	c = virtio_console_new(in_r, out_fd, false);
	if (!c)
		abort();
	fz_bring_up(&virtio_console_ops, c, 2, &data, &size);
	fz_take(&data, &size, &in_len, sizeof(in_len));
	in_len %= sizeof(buf);
	if (in_len) {
		fz_take(&data, &size, buf, in_len);
		if (write(in_w, buf, in_len) == (ssize_t)in_len)
			sent = in_len;
	}
	virtio_console_ops.queue_notify(c, VIRTIO_CONSOLE_TXQ);
	virtio_console_ops.queue_notify(c, VIRTIO_CONSOLE_RXQ);
	/* The guest "moves" its rings (the rest of the input patches the rx
	 * and tx avail indexes) and kicks again. */
	if (size >= 4) {
		memcpy(fz_ram + FZ_RING(VIRTIO_CONSOLE_RXQ) + 0x102, data, 2);
		memcpy(fz_ram + FZ_RING(VIRTIO_CONSOLE_TXQ) + 0x102, data + 2, 2);
		virtio_console_ops.queue_notify(c, VIRTIO_CONSOLE_RXQ);
		virtio_console_ops.queue_notify(c, VIRTIO_CONSOLE_TXQ);
	}
	st = virtio_console_get_stats(c);
	if (st->in_bytes > sent)
		abort();
	/* A reset in the middle of it all, then the model goes. */
	fz_wr32(VIRTIO_MMIO_STATUS, 0);
	virtio_mmio_destroy(&fz_t);
	virtio_console_free(c);
	return 0;
}
