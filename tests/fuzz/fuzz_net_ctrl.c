/* Fuzzes virtio-net's control queue and the multi-queue pairs it enables:
 * the guest owns the control ring, its commands (class, command, data,
 * where the ack goes) and the rings of a second pair. Whatever the
 * commands say, the device may only ever enable 1..max pairs, and what
 * reaches the "tap" stays one header plus a bounded frame. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "fuzz/fuzz_net_harness.h"

#define PAIRS	2
#define CTRLQ	(2 * PAIRS)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 1 };
	const struct virtio_device_ops *ops;
	int fds[PAIRS];

	fz_setup_fds();
	fds[0] = fds[1] = fz_devfd;	/* both pairs on the one "tap" */
	fz_net = virtio_net_new_mq(fds, PAIRS, mac);
	if (!fz_net)
		abort();
	ops = virtio_net_device_ops(fz_net);
	fz_bring_up(ops, fz_net, 2 * PAIRS + 1, &data, &size);
	ops->queue_notify(fz_net, CTRLQ);
	/* The rest of the input moves the control avail index, then the
	 * second pair's tx index, between kicks. */
	if (size >= 2) {
		memcpy(fz_ram + FZ_RING(CTRLQ) + 0x102, data, 2);
		ops->queue_notify(fz_net, CTRLQ);
	}
	if (size >= 4) {
		memcpy(fz_ram + FZ_RING(3) + 0x102, data + 2, 2);
		ops->queue_notify(fz_net, 3);
	}
	virtio_net_pair_fd_ready(fz_net, 1, EPOLLIN);
	fz_check_tap_frames();
	fz_teardown();
	return 0;
}
