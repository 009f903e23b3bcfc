/* Fuzzes virtio-net transmit: the guest owns the tx ring and every buffer
 * (descriptor addresses, lengths, flags, chains, headers). Whatever reaches
 * the "tap" must be one header plus a bounded frame. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_net_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssize_t r;

	fz_setup(&data, &size);
	virtio_net_ops.queue_notify(fz_net, VIRTIO_NET_TXQ);
	/* A second kick after the guest "moved" avail: the rest of the
	 * input patches the avail index. */
	if (size >= 2) {
		memcpy(fz_ram + FZ_RING(VIRTIO_NET_TXQ) + 0x102, data, 2);
		virtio_net_ops.queue_notify(fz_net, VIRTIO_NET_TXQ);
	}
	while ((r = read(fz_peer, fz_frame, sizeof(fz_frame))) >= 0)
		if (r < VIRTIO_NET_HDR_LEN + 14 ||
		    r > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)
			abort();
	fz_teardown();
	return 0;
}
