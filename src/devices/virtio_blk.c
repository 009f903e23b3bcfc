/* virtio-blk: config space, feature bits and the I/O-thread queue handler
 * around the request code in virtio_blk_req.c. */
#include "devices/virtio_blk.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio_blk_req.h"
#include "virtio/queue_run.h"

/* Each queue has its own worker, and each worker its own request state
 * (the backend's bounce buffer and iovec scratch, the chain): queues run
 * in parallel on one image fd with positioned I/O. */
struct blk_queue_state {
	struct blk_backend be;
	struct virtq_chain chain;
	struct virtio_queue_poll poll;	/* --disk poll=auto|US */
};

struct virtio_blk {
	struct virtio_device_ops ops;	/* per disk: features, queues */
	struct virtio_device_env env;
	struct virtio_blk_config config;
	int fd;
	unsigned int nr_queues;
	struct blk_queue_state *q;	/* [nr_queues] */
};

static uint32_t blk_chain(void *dev, unsigned int queue,
			  struct virtq_chain *chain)
{
	struct virtio_blk *b = dev;

	return blk_handle_request(&b->q[queue].be, chain);
}

static void blk_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_blk *b = dev;

	if (queue < b->nr_queues && queue < b->env.nr_queues)
		virtio_queue_run_polled(b->env.queues[queue], b->env.irq,
					&b->q[queue].chain, blk_chain, b,
					&b->q[queue].poll);
}

static int blk_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_blk *b = dev;

	b->env = *env;
	return 0;
}

/* --stats: the queues' counters summed (read at exit, workers stopped). */
static void blk_print_stats(void *dev, const char *name, FILE *f)
{
	const struct virtio_blk *b = dev;
	struct blk_stats s = { 0 };

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		const struct blk_stats *q = &b->q[i].be.stats;

		s.reads += q->reads;
		s.writes += q->writes;
		s.flushes += q->flushes;
		s.get_ids += q->get_ids;
		s.unsupported += q->unsupported;
		s.discards += q->discards;
		s.write_zeroes += q->write_zeroes;
		s.bad_requests += q->bad_requests;
		s.io_errors += q->io_errors;
		s.bytes_read += q->bytes_read;
		s.bytes_written += q->bytes_written;
	}
	fprintf(f, "%s.blk_queues %u\n", name, b->nr_queues);
	fprintf(f, "%s.blk_reads %" PRIu64 "\n", name, s.reads);
	fprintf(f, "%s.blk_writes %" PRIu64 "\n", name, s.writes);
	fprintf(f, "%s.blk_flushes %" PRIu64 "\n", name, s.flushes);
	fprintf(f, "%s.blk_get_ids %" PRIu64 "\n", name, s.get_ids);
	fprintf(f, "%s.blk_discards %" PRIu64 "\n", name, s.discards);
	fprintf(f, "%s.blk_write_zeroes %" PRIu64 "\n", name, s.write_zeroes);
	fprintf(f, "%s.blk_unsupported %" PRIu64 "\n", name, s.unsupported);
	fprintf(f, "%s.blk_bad_requests %" PRIu64 "\n", name,
		s.bad_requests);
	fprintf(f, "%s.blk_io_errors %" PRIu64 "\n", name, s.io_errors);
	fprintf(f, "%s.blk_bytes_read %" PRIu64 "\n", name, s.bytes_read);
	fprintf(f, "%s.blk_bytes_written %" PRIu64 "\n", name,
		s.bytes_written);
	for (unsigned int i = 0; b->nr_queues > 1 && i < b->nr_queues; i++)
		fprintf(f, "%s.blk_requests_%u %" PRIu64 "\n", name, i,
			b->q[i].be.stats.reads + b->q[i].be.stats.writes +
			b->q[i].be.stats.flushes);
	/* Polling: windows opened, requests found without a doorbell, and
	 * the CPU time it cost, per queue. */
	for (unsigned int i = 0; virtio_queue_poll_on(&b->q[0].poll) &&
	     i < b->nr_queues; i++)
		virtio_queue_poll_print(&b->q[i].poll, name, "blk", i, f);
}

static const struct virtio_device_ops blk_ops_template = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		    (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH),
	.num_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.config_len = sizeof(struct virtio_blk_config),
	.queue_notify = blk_queue_notify,
	.bind = blk_bind,
	.print_stats = blk_print_stats,
};

/* Size in bytes of a regular file or a block device. */
static int image_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int disk_error(const struct disk_config *dc, int err)
{
	fprintf(stderr, "mmvm: --disk %s: %s\n", dc->path, strerror(err));
	return -1;
}

static void blk_free(struct virtio_blk *b)
{
	for (unsigned int i = 0; b->q && i < b->nr_queues; i++)
		blk_backend_destroy(&b->q[i].be);
	free(b->q);
	free(b);
}

int virtio_blk_new(const struct disk_config *dc, unsigned int index,
		   unsigned int default_queues, struct virtio_device_spec *spec)
{
	int flags = (dc->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct virtio_blk *b;
	uint64_t size = 0;
	unsigned int i;
	int fd, ret;

	if (dc->direct)
		flags |= O_DIRECT;
	fd = open(dc->path, flags);
	if (fd < 0)
		return disk_error(dc, errno);
	ret = image_size(fd, &size);
	if (ret) {
		close(fd);
		return disk_error(dc, -ret);
	}

	b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		return disk_error(dc, ENOMEM);
	}
	b->fd = fd;
	/* One queue per vCPU unless asked (queues=N), at most 8 (cli.c). */
	b->nr_queues = dc->queues ? dc->queues : default_queues;
	if (b->nr_queues < 1)
		b->nr_queues = 1;
	if (b->nr_queues > VIRTIO_BLK_MAX_QUEUES)
		b->nr_queues = VIRTIO_BLK_MAX_QUEUES;
	b->q = calloc(b->nr_queues, sizeof(*b->q));
	if (!b->q) {
		free(b);
		close(fd);
		return disk_error(dc, ENOMEM);
	}
	/* A trailing partial sector is not addressable and stays unused. */
	for (i = 0; i < b->nr_queues; i++) {
		ret = blk_backend_init(&b->q[i].be, fd,
				       size / VIRTIO_BLK_SECTOR_SIZE,
				       dc->read_only, dc->direct, index);
		if (ret) {
			b->nr_queues = i;
			blk_free(b);
			close(fd);
			return disk_error(dc, -ret);
		}
		virtio_queue_poll_init(&b->q[i].poll, dc->poll_us,
				       dc->poll_adaptive);
	}

	b->ops = blk_ops_template;
	if (dc->read_only)
		b->ops.features |= 1ULL << VIRTIO_BLK_F_RO;
	b->ops.features |= blk_backend_features(&b->q[0].be);
	/* A worker per queue: each has its own request state. */
	b->ops.num_queues = b->nr_queues;
	b->ops.num_workers = b->nr_queues;
	if (b->nr_queues > 1) {
		b->ops.features |= 1ULL << VIRTIO_BLK_F_MQ;
		b->config.num_queues = (uint16_t)b->nr_queues;
	}
	blk_backend_fill_config(&b->q[0].be, &b->config);
	*spec = (struct virtio_device_spec){
		.ops = &b->ops, .dev = b, .config = &b->config,
	};
	return 0;
}
