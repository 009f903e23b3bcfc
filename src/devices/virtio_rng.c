/* virtio-rng: one queue of device-writable buffers to fill. */
#include "devices/virtio_rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio/queue_run.h"

struct virtio_rng {
	struct virtio_device_env env;
	struct virtq_chain chain;	/* its one worker's scratch */
};

uint32_t virtio_rng_fill(struct virtq_chain *chain)
{
	uint64_t budget = VIRTIO_RNG_MAX_REQUEST, done = 0;
	unsigned int i;

	for (i = chain->nr_out; i < chain->nr_out + chain->nr_in &&
	     i < VIRTQ_MAX_SEGS && budget; i++) {
		uint8_t *p = chain->iov[i].iov_base;
		uint64_t want = chain->iov[i].iov_len, got = 0;

		if (want > budget)
			want = budget;
		while (got < want) {
			ssize_t n = getrandom(p + got, want - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				/* Report only what is really random. */
				return (uint32_t)(done + got);
			}
			got += (uint64_t)n;
		}
		done += got;
		budget -= got;
	}
	return (uint32_t)done;
}

static uint32_t rng_chain(void *dev, unsigned int queue,
			  struct virtq_chain *chain)
{
	return virtio_rng_fill(chain);
}

static void rng_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_rng *r = dev;

	if (queue < r->env.nr_queues)
		virtio_queue_run(r->env.queues[queue], r->env.irq, &r->chain,
				 rng_chain, r);
}

static int rng_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_rng *r = dev;

	r->env = *env;
	return 0;
}

static const struct virtio_device_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = 64,
	.queue_notify = rng_queue_notify,
	.bind = rng_bind,
};

int virtio_rng_new(struct virtio_device_spec *spec)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r) {
		fprintf(stderr, "mmvm: rng: out of memory\n");
		return -1;
	}
	*spec = (struct virtio_device_spec){ .ops = &rng_ops, .dev = r };
	return 0;
}
