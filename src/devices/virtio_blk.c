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

#include "devices/virtio_attach.h"
#include "devices/virtio_blk_req.h"
#include "devices/virtio_queue_run.h"

/* virtio 1.2 5.2.4, up to num_queues: the fields we offer (the topology
 * and writeback fields are there for num_queues' offset and read 0, their
 * features not being offered). Little-endian, the host's order on x86. */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;	/* with VIRTIO_BLK_F_MQ */
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_blk_config) == 36,
	       "num_queues is at offset 34 (virtio 1.2 5.2.4)");

struct virtio_blk {
	struct virtio_dev_ops ops;	/* per disk: features depend on ro */
	struct virtio_mmio_dev *t;
	struct virtio_blk_config config;
	struct blk_backend be;
	struct virtq_chain chain;	/* I/O thread scratch */
};

static void blk_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	const struct virtio_blk *b = dev;

	memset(data, 0, len);
	if (off < sizeof(b->config) && len <= sizeof(b->config) - off)
		memcpy(data, (const uint8_t *)&b->config + off, len);
}

/* Nothing in our config space is writable (no CONFIG_WCE). */
static void blk_config_write(void *dev, uint32_t off, const void *data,
			     uint32_t len)
{
}

static uint32_t blk_chain(void *dev, unsigned int queue,
			  struct virtq_chain *chain)
{
	struct virtio_blk *b = dev;

	return blk_handle_request(&b->be, chain);
}

static void blk_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_blk *b = dev;

	virtio_queue_run(b->t, queue, &b->chain, blk_chain, b);
}

static void blk_print_stats(void *dev, const char *name, FILE *f)
{
	const struct blk_stats *s = &((struct virtio_blk *)dev)->be.stats;

	fprintf(f, "%s.blk_reads %" PRIu64 "\n", name, s->reads);
	fprintf(f, "%s.blk_writes %" PRIu64 "\n", name, s->writes);
	fprintf(f, "%s.blk_flushes %" PRIu64 "\n", name, s->flushes);
	fprintf(f, "%s.blk_get_ids %" PRIu64 "\n", name, s->get_ids);
	fprintf(f, "%s.blk_unsupported %" PRIu64 "\n", name, s->unsupported);
	fprintf(f, "%s.blk_bad_requests %" PRIu64 "\n", name,
		s->bad_requests);
	fprintf(f, "%s.blk_io_errors %" PRIu64 "\n", name, s->io_errors);
	fprintf(f, "%s.blk_bytes_read %" PRIu64 "\n", name, s->bytes_read);
	fprintf(f, "%s.blk_bytes_written %" PRIu64 "\n", name,
		s->bytes_written);
}

static const struct virtio_dev_ops blk_ops_template = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		    (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH),
	.num_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_SIZE,
	.config_len = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_notify = blk_queue_notify,
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

int virtio_blk_create(struct vm *vm, const struct disk_config *dc,
		      unsigned int index)
{
	int flags = (dc->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct virtio_blk *b;
	uint64_t size = 0;
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
	/* A trailing partial sector is not addressable and stays unused. */
	ret = blk_backend_init(&b->be, fd, size / VIRTIO_BLK_SECTOR_SIZE,
			       dc->read_only, dc->direct, index);
	if (ret) {
		free(b);
		close(fd);
		return disk_error(dc, -ret);
	}

	b->ops = blk_ops_template;
	if (dc->read_only)
		b->ops.features |= 1ULL << VIRTIO_BLK_F_RO;
	/* Every queue is drained by the device's I/O thread (the chain
	 * scratch is shared: that thread is the only user). */
	b->ops.num_queues = dc->queues ? dc->queues : 1;
	if (b->ops.num_queues > 1) {
		b->ops.features |= 1ULL << VIRTIO_BLK_F_MQ;
		b->config.num_queues = (uint16_t)b->ops.num_queues;
	}
	b->config.capacity = b->be.capacity;
	/* Two descriptors of every chain are the header and the status. */
	b->config.seg_max = VIRTIO_BLK_QUEUE_SIZE - 2;
	b->config.blk_size = VIRTIO_BLK_SECTOR_SIZE;

	b->t = virtio_attach(vm, &b->ops, b);
	if (!b->t) {
		blk_backend_destroy(&b->be);
		free(b);
		close(fd);
		return -1;
	}
	virtio_attach_set_stats(b->t, blk_print_stats);
	return 0;
}
