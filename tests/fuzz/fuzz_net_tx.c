/* Fuzzes virtio-net transmit: the guest owns the tx ring and every buffer
 * (descriptor addresses, lengths, flags, chains, headers). Whatever reaches
 * the "tap" must be one header plus a bounded frame. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_net_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_setup(&data, &size);
	virtio_net_ops.queue_notify(fz_net, VIRTIO_NET_TXQ);
	/* A second kick after the guest "moved" avail: the rest of the
	 * input patches the avail index. */
	if (size >= 2) {
		memcpy(fz_ram + FZ_RING(VIRTIO_NET_TXQ) + 0x102, data, 2);
		virtio_net_ops.queue_notify(fz_net, VIRTIO_NET_TXQ);
	}
	fz_check_tap_frames();
	fz_teardown();
	return 0;
}
