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
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/blk_engine.h"
#include "devices/virtio_blk_req.h"
#include "virtio/queue_async.h"
#include "virtio/queue_run.h"
#include "vmm/event_loop.h"
#include "vmm/seccomp.h"

/* Each queue has its own worker, and each worker its own request state
 * (the backend's bounce buffer and iovec scratch, the chain): queues run
 * in parallel on one image fd with positioned I/O. */
struct blk_queue_state {
	struct blk_backend be;
	struct virtq_chain chain;
	struct virtio_queue_poll poll;	/* --disk poll=auto|US */
	/* engine=io_uring: requests in flight, through the submit/complete
	 * queue engine (NULL: sync, virtio_queue_run_polled()). */
	struct blk_engine *engine;
	struct virtio_async_queue aq;
	bool aq_ready;
};

/* In-flight requests per queue with io_uring: QEMU's thread pool keeps
 * 64 going; the queue has 256 entries. */
#define BLK_URING_SLOTS	64

struct virtio_blk {
	struct virtio_device_ops ops;	/* per disk: features, queues */
	struct virtio_device_env env;
	struct virtio_blk_config config;
	int fd;
	bool read_only;
	unsigned int nr_queues;
	struct blk_queue_state *q;	/* [nr_queues] */
	struct blk_disk_state disk;	/* the queues' shared write-error latch */
	uint64_t driver_features;	/* at the last DRIVER_OK (for --stats) */
	uint64_t exit_flushes, exit_flush_errors;
	enum blk_engine_kind engine;	/* what runs: SYNC or IO_URING */
};

static uint32_t blk_chain(void *dev, unsigned int queue,
			  struct virtq_chain *chain)
{
	/* A request that did no work (malformed, unknown, empty) is
	 * answered but marked refused: it must not hold a poll window open
	 * (issue 26). */
	return blk_handle_request(&((struct virtio_blk *)dev)->q[queue].be,
				  chain);
}

static void blk_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_blk *b = dev;

	if (queue >= b->nr_queues || queue >= b->env.nr_queues)
		return;
	if (b->q[queue].aq_ready)
		virtio_async_run(&b->q[queue].aq);
	else
		virtio_queue_run_polled(b->env.queues[queue], b->env.irq,
					&b->q[queue].chain, blk_chain, b,
					&b->q[queue].poll);
}

/* The queue engine's side of the blk engine (io_uring). */
static int64_t aq_submit(void *dev, struct virtio_async_queue *aq,
			 unsigned int slot, struct virtq_chain *chain)
{
	struct blk_queue_state *qs = dev;

	(void)aq;
	return qs->engine->ops->submit(qs->engine, slot, chain);
}

static void aq_flush(void *dev, struct virtio_async_queue *aq)
{
	struct blk_queue_state *qs = dev;

	(void)aq;
	qs->engine->ops->flush(qs->engine);
}

static unsigned int aq_reap(void *dev, struct virtio_async_queue *aq)
{
	struct blk_queue_state *qs = dev;

	(void)aq;
	return qs->engine->ops->reap(qs->engine);
}

static bool aq_ready(void *dev)
{
	struct blk_queue_state *qs = dev;

	return qs->engine->ops->ready(qs->engine);
}

static const struct virtio_async_ops blk_async_ops = {
	.submit = aq_submit,
	.flush = aq_flush,
	.reap = aq_reap,
	.ready = aq_ready,
};

/* The engine finished a request (on the worker, the queue's lock held). */
static void blk_engine_done(void *opaque, unsigned int slot, uint32_t len,
			    bool work)
{
	struct blk_queue_state *qs = opaque;

	(void)work;
	virtio_async_complete(&qs->aq, slot, len);
}

/* The queue's eventfd: the ring has completions. */
static void blk_completion_event(void *opaque, uint32_t events)
{
	struct blk_queue_state *qs = opaque;
	uint64_t n;

	(void)events;
	/* Read before reaping: a CQE posted after the reap signals again. */
	if (read(qs->engine->event_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already read; the reap finds what there is. */
	}
	if (!virtio_async_complete_begin(&qs->aq))
		return;	/* not live: a reset drained it */
	virtio_async_complete_end(&qs->aq);	/* reaps, then a round */
}

/* DRIVER_OK, on a vCPU with every queue's lock held: each queue's worker
 * sees the driver's features from its next request on, all queues the
 * same. */
static bool blk_activate(void *dev, const struct virtio_activation *act)
{
	struct virtio_blk *b = dev;

	b->driver_features = act->features;
	for (unsigned int i = 0; i < b->nr_queues; i++)
		blk_backend_set_features(&b->q[i].be, act->features);
	return true;
}

/* On a vCPU with every queue's lock held: the requests the host still
 * has are waited for (their data lands in the guest's memory before the
 * reset returns; their status bytes and used entries are never written),
 * then the slots are dropped. */
static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (b->q[i].aq_ready) {
			b->q[i].engine->ops->drain(b->q[i].engine, true, 0);
			virtio_async_reset(&b->q[i].aq);
		}
		blk_backend_set_features(&b->q[i].be, 0);
	}
}

/* At exit, workers stopped: the guest may have written without a flush
 * (or ended before its last one), so the image is synced whatever ended
 * the run. A write error latched during the run fails it too: the data
 * it lost is not coming back. */
static int blk_shutdown(void *dev, const char *name)
{
	struct virtio_blk *b = dev;
	int ret;

	/* Workers stopped: what the host still has is waited for before
	 * guest memory goes (and before the flush, which must cover it),
	 * under the queue's lock (a worker that did not stop may still
	 * reap), for at most 10 s a queue. */
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		struct virtio_queue *q = b->env.queues[i];

		if (!b->q[i].aq_ready)
			continue;
		virtio_queue_lock(q);
		if (!b->q[i].engine->ops->drain(b->q[i].engine, true, 10000))
			fprintf(stderr, "mmvm: --disk %s (%s): queue %u: %u requests still at the host after 10 s\n",
				b->disk.path, name, i, b->q[i].engine->in_host);
		virtio_queue_unlock(q);
	}
	if (b->read_only)
		return 0;
	b->exit_flushes++;
	ret = blk_backend_flush_at_exit(&b->q[0].be);
	if (!ret)
		return 0;
	b->exit_flush_errors++;
	if (blk_backend_write_error(&b->q[0].be) && ret == -EIO)
		fprintf(stderr, "mmvm: --disk %s (%s): not all of the guest's writes reached the image: a write error was latched\n",
			b->disk.path, name);
	else
		fprintf(stderr, "mmvm: --disk %s (%s): flush at exit failed: %s\n",
			b->disk.path, name, strerror(-ret));
	return -1;
}

static int blk_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_blk *b = dev;

	b->env = *env;
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		struct blk_queue_state *qs = &b->q[i];
		struct event_loop *w;
		int ret;

		if (!qs->engine || i >= env->nr_queues || !env->nr_workers)
			continue;
		w = env->workers[i % env->nr_workers];
		ret = virtio_async_init(&qs->aq, env->queues[i], env->irq,
					&blk_async_ops, qs, BLK_URING_SLOTS);
		if (!ret)
			ret = event_loop_add(w, qs->engine->event_fd, EPOLLIN,
					     blk_completion_event, qs);
		if (ret) {
			fprintf(stderr, "mmvm: --disk %s: cannot start queue %u's io_uring engine: %s\n",
				b->disk.path, i, strerror(-ret));
			return -1;
		}
		qs->aq.poll = &qs->poll;
		qs->aq_ready = true;
		/* Only this worker may enter its ring. */
		event_loop_set_sandbox(w, SANDBOX_IO_URING);
	}
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
		s.flush_errors += q->flush_errors;
		s.writes_through += q->writes_through;
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
	/* Durability: flushes failed (latched ones too), the latch, writes
	 * made stable one by one because the driver took no FLUSH, whether
	 * it did at its last DRIVER_OK, and the flush at exit. */
	fprintf(f, "%s.blk_flush_errors %" PRIu64 "\n", name, s.flush_errors);
	fprintf(f, "%s.blk_write_error_latched %d\n", name,
		blk_backend_write_error(&b->q[0].be) ? 1 : 0);
	fprintf(f, "%s.blk_writes_through %" PRIu64 "\n", name,
		s.writes_through);
	fprintf(f, "%s.blk_driver_flush %d\n", name,
		(b->driver_features >> VIRTIO_BLK_F_FLUSH) & 1 ? 1 : 0);
	fprintf(f, "%s.blk_exit_flushes %" PRIu64 "\n", name,
		b->exit_flushes);
	fprintf(f, "%s.blk_exit_flush_errors %" PRIu64 "\n", name,
		b->exit_flush_errors);
	fprintf(f, "%s.blk_block_size %u\n", name, b->config.blk_size);
	/* The engine: which, and with io_uring how deep and how batched. */
	fprintf(f, "%s.blk_engine %s\n", name,
		b->q[0].engine && b->q[0].engine->retired ? "sync" :
		blk_engine_kind_name(b->engine));
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (!b->q[i].aq_ready)
			continue;
		virtio_async_print(&b->q[i].aq, name, "blk", i, f);
		fprintf(f, "%s.blk_uring_enters_%u %" PRIu64 "\n", name, i,
			b->q[i].engine->enters);
		fprintf(f, "%s.blk_drained_at_reset_%u %" PRIu64 "\n", name,
			i, b->q[i].engine->drained);
	}
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
	.activate = blk_activate,
	.reset = blk_reset,
	.queue_notify = blk_queue_notify,
	.bind = blk_bind,
	.print_stats = blk_print_stats,
	.shutdown = blk_shutdown,
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

/* An OFD lock over the whole image, as QEMU takes: a write lock for a
 * writable disk, a read lock for ,ro, so that a second mmvm (or anything
 * else that locks: qemu-img, QEMU) cannot write it under a running guest,
 * while read-only users share it. It lives with the open file, whichever
 * thread or process holds the fd, and goes with the last close. Returns
 * 0, or -1 after printing a one-line error. */
static int lock_image(int fd, const struct disk_config *dc)
{
	struct flock fl = { .l_type = dc->read_only ? F_RDLCK : F_WRLCK,
			    .l_whence = SEEK_SET };
	struct flock who = fl;
	int err;

	if (dc->no_lock || fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	err = errno;
	if (err != EAGAIN && err != EACCES) {
		/* A file system without locks (some network ones): run,
		 * but say that nothing guards the image. */
		fprintf(stderr, "mmvm: --disk %s: warning: cannot lock it (%s): nothing stops another process writing it meanwhile\n",
			dc->path, strerror(err));
		return 0;
	}
	/* Who: a classic POSIX lock has a pid, an OFD lock (another mmvm,
	 * QEMU) has -1. */
	if (fcntl(fd, F_OFD_GETLK, &who) < 0 || who.l_type == F_UNLCK)
		who = (struct flock){ .l_type = F_WRLCK, .l_pid = -1 };
	if (who.l_pid > 0)
		fprintf(stderr, "mmvm: --disk %s: in use: process %d holds a %s lock on it (,lock=off to share it anyway)\n",
			dc->path, (int)who.l_pid,
			who.l_type == F_WRLCK ? "write" : "read");
	else
		fprintf(stderr, "mmvm: --disk %s: in use: another process holds a %s lock on it (another VM?; ,lock=off to share it anyway)\n",
			dc->path, who.l_type == F_RDLCK ? "read" : "write");
	return -1;
}

/* With ,direct: the logical block size the host takes O_DIRECT I/O in
 * (4096 on a 4Kn disk or a loop device with --sector-size 4096). A block
 * device says; a file says through statx where the kernel knows
 * (STATX_DIOALIGN, Linux 6.1); otherwise the smallest read that works. */
static uint32_t direct_block_size(int fd)
{
	struct stat st;
	void *buf = NULL;
	uint32_t sz = VIRTIO_BLK_SECTOR_SIZE;

	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		int lbs = 0;

		if (ioctl(fd, BLKSSZGET, &lbs) == 0 && lbs > 0)
			return (uint32_t)lbs;
	}
#ifdef STATX_DIOALIGN
	{
		struct statx stx;

		if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
		    (stx.stx_mask & STATX_DIOALIGN) &&
		    stx.stx_dio_offset_align)
			return stx.stx_dio_offset_align;
	}
#endif
	if (posix_memalign(&buf, BLK_DIRECT_ALIGN, BLK_DIRECT_ALIGN))
		return sz;
	for (; sz < BLK_DIRECT_ALIGN; sz *= 2)
		if (pread(fd, buf, sz, 0) >= 0 || errno != EINVAL)
			break;
	free(buf);
	return sz;
}

static void blk_free(struct virtio_blk *b);

/* engine=: io_uring unless asked for sync; where the host cannot (no
 * io_uring, or none that takes restrictions: Linux < 5.10), sync, with
 * one line saying why (engine=io_uring asked for explicitly: the same
 * line, the same fallback). Before the sandbox: ring setup is in no
 * filter. */
static int blk_pick_engine(struct virtio_blk *b, const struct disk_config *dc)
{
	const char *why = NULL;

	b->engine = BLK_ENGINE_SYNC;
	if (dc->engine == BLK_ENGINE_SYNC)
		return 0;
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		b->q[i].engine = blk_engine_uring_new(&b->q[i].be,
						      BLK_URING_SLOTS,
						      blk_engine_done,
						      &b->q[i], &why);
		if (!b->q[i].engine)
			break;
	}
	if (!why) {
		b->engine = BLK_ENGINE_IO_URING;
		return 0;
	}
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (b->q[i].engine)
			b->q[i].engine->ops->destroy(b->q[i].engine);
		b->q[i].engine = NULL;
	}
	fprintf(stderr, "mmvm: --disk %s: engine=sync: io_uring unavailable (%s)\n",
		dc->path, why);
	return 0;
}

static void blk_free(struct virtio_blk *b)
{
	for (unsigned int i = 0; b->q && i < b->nr_queues; i++) {
		if (b->q[i].engine)
			b->q[i].engine->ops->destroy(b->q[i].engine);
		virtio_async_destroy(&b->q[i].aq);
		blk_backend_destroy(&b->q[i].be);
	}
	free(b->q);
	free(b);
}

int virtio_blk_new(const struct disk_config *dc, unsigned int index,
		   unsigned int default_queues, struct virtio_device_spec *spec)
{
	int flags = (dc->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct virtio_blk *b;
	uint64_t size = 0;
	uint32_t lbs;
	unsigned int i;
	int fd, ret;

	if (dc->direct)
		flags |= O_DIRECT;
	fd = open(dc->path, flags);
	if (fd < 0)
		return disk_error(dc, errno);
	if (lock_image(fd, dc)) {
		close(fd);
		return -1;
	}
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
	b->read_only = dc->read_only;
	blk_disk_init(&b->disk, dc->path);
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
	/* A trailing partial sector (or, with direct, block) is not
	 * addressable and stays unused. */
	lbs = dc->direct ? direct_block_size(fd) : VIRTIO_BLK_SECTOR_SIZE;
	for (i = 0; i < b->nr_queues; i++) {
		ret = blk_backend_init(&b->q[i].be, fd,
				       size / VIRTIO_BLK_SECTOR_SIZE,
				       dc->read_only, dc->direct, index);
		if (!ret)
			ret = blk_backend_set_block_size(&b->q[i].be, lbs);
		if (ret) {
			b->nr_queues = i + 1;
			blk_free(b);
			close(fd);
			if (ret == -EINVAL) {
				fprintf(stderr, "mmvm: --disk %s: ,direct: the host's logical block size %u is not one mmvm can serve (512..%u)\n",
					dc->path, lbs, BLK_DIRECT_ALIGN);
				return -1;
			}
			return disk_error(dc, -ret);
		}
		blk_backend_share(&b->q[i].be, &b->disk);
		virtio_queue_poll_init(&b->q[i].poll, dc->poll_us,
				       dc->poll_adaptive);
	}

	if (blk_pick_engine(b, dc)) {
		blk_free(b);
		close(fd);
		return -1;
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

/* PATCH /drives/{id} (the API): the image under the disk replaced by
 * another, as Firecracker does. The new image is opened and locked the
 * same way (ro, direct as before); then, with every queue's lock held in
 * index order (a synchronous request runs under its queue's lock; the
 * io_uring engine's requests in flight are finished and completed, and
 * the engine retired: sync from now on), each queue's backend moves to
 * the new fd and capacity; the old
 * image is synced and closed, and the capacity goes into config space
 * with a config interrupt, on which the guest's driver re-reads it. */
int virtio_blk_swap(void *dev, const char *path, char *err, size_t errlen)
{
	struct virtio_blk *b = dev;
	struct disk_config dc = { .path = path, .read_only = b->read_only,
				  .direct = b->q[0].be.direct };
	int flags = (b->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	uint64_t size = 0;
	struct stat st;
	int fd, old, ret;

	if (dc.direct)
		flags |= O_DIRECT;
	fd = open(path, flags);
	if (fd < 0) {
		snprintf(err, errlen, "drives: %s: %s", path, strerror(errno));
		return -1;
	}
	if (lock_image(fd, &dc)) {
		snprintf(err, errlen, "drives: %s: in use by another process (locked)",
			 path);
		close(fd);
		return -1;
	}
	ret = image_size(fd, &size);
	if (!ret && fstat(fd, &st) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "drives: %s: %s", path, strerror(-ret));
		close(fd);
		return -1;
	}
	for (unsigned int i = 0; i < b->env.nr_queues; i++)
		pthread_mutex_lock(&b->env.queues[i]->lock);
	old = b->fd;
	b->fd = fd;
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		/* io_uring: the requests in flight finish on the old image
		 * (and are completed), then the queue goes on synchronously:
		 * the ring's registered file cannot be changed (its
		 * restrictions allow no register call). */
		if (b->q[i].engine && b->q[i].engine->ops->retire) {
			b->q[i].engine->ops->retire(b->q[i].engine);
			if (b->q[i].aq_ready)
				virtio_async_signal(&b->q[i].aq);
		}
		b->q[i].be.fd = fd;
		b->q[i].be.blockdev = S_ISBLK(st.st_mode);
		b->q[i].be.capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	}
	b->config.capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	for (unsigned int i = b->env.nr_queues; i-- > 0;)
		pthread_mutex_unlock(&b->env.queues[i]->lock);
	if (!b->read_only)
		fdatasync(old);
	close(old);
	if (b->env.irq)
		virtio_config_update(b->env.irq,
				     offsetof(struct virtio_blk_config, capacity),
				     &b->config.capacity,
				     sizeof(b->config.capacity));
	return 0;
}
