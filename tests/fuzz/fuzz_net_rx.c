/* Fuzzes virtio-net receive: frames from the "tap" (any length and header)
 * go into rx buffers the guest described however it liked. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "fuzz/fuzz_net_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t lens[4];

	fz_setup(&data, &size);
	fz_take(&data, &size, lens, sizeof(lens));
	/* Up to four frames, their bytes from the rest of the input. */
	for (unsigned int i = 0; i < 4; i++) {
		size_t len = lens[i] % sizeof(fz_frame);

		memset(fz_frame, 0, len);
		memcpy(fz_frame, data, len < size ? len : size);
		if (len && write(fz_peer, fz_frame, len) < 0)
			break;
	}
	virtio_net_fd_ready(fz_net, EPOLLIN | EPOLLOUT);
	virtio_net_ops.queue_notify(fz_net, VIRTIO_NET_RXQ);
	fz_teardown();
	return 0;
}
