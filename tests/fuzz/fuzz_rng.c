/* Fuzzes virtio-rng: its one queue of device-writable buffers, described
 * however the guest likes, drained the way the device does it
 * (virtio_queue_run() with virtio_rng_fill()). No buffer may receive more
 * than its writable length, nor one request more than
 * VIRTIO_RNG_MAX_REQUEST bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "virtio/queue_run.h"
#include "devices/virtio_rng.h"
#include "fuzz/fuzz_device_harness.h"

static struct virtq_chain chain;

static uint32_t fill(void *dev, unsigned int queue, struct virtq_chain *c)
{
	uint64_t writable = 0;
	uint32_t n;

	for (unsigned int i = c->nr_out;
	     i < c->nr_out + c->nr_in && i < VIRTQ_MAX_SEGS; i++)
		writable += c->iov[i].iov_len;
	n = virtio_rng_fill(c);
	if (n > writable || n > VIRTIO_RNG_MAX_REQUEST)
		abort();
	return n;
}

static void notify(void *dev, unsigned int queue)
{
	if (queue < virtio_mmio_num_queues(&fz_t))
		virtio_queue_run(&fz_t.queues[queue],
				 virtio_mmio_interrupt(&fz_t), &chain, fill,
				 dev);
}

static const struct virtio_device_ops rng_ops = {
	.name = "rng", .device_id = VIRTIO_ID_RNG, .num_queues = 1,
	.queue_max = 64, .queue_notify = notify,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_bring_up(&rng_ops, NULL, 1, &data, &size);
	rng_ops.queue_notify(NULL, 0);
	if (size >= 2) {
		memcpy(fz_ram + FZ_RING(0) + 0x102, data, 2);
		rng_ops.queue_notify(NULL, 0);
	}
	virtio_mmio_destroy(&fz_t);
	return 0;
}
