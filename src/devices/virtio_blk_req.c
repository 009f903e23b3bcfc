/* virtio-blk request parsing and execution; see virtio_blk_req.h. */
#include "devices/virtio_blk_req.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

int blk_backend_init(struct blk_backend *b, int fd, uint64_t capacity,
		     bool read_only, bool direct, unsigned int index)
{
	void *p = NULL;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->capacity = capacity;
	b->read_only = read_only;
	b->direct = direct;
	b->block_size = VIRTIO_BLK_SECTOR_SIZE;
	blk_disk_init(&b->own_disk, NULL);
	b->disk = &b->own_disk;
	b->features = blk_backend_features(b) | (1ULL << VIRTIO_BLK_F_FLUSH);
	{
		struct stat st;

		b->blockdev = fstat(fd, &st) == 0 && S_ISBLK(st.st_mode);
	}
	/* The ID is NUL-padded to 20 bytes and need not be terminated. */
	{
		char id[VIRTIO_BLK_ID_BYTES + 1];
		int len = snprintf(id, sizeof(id), "mmvm-blk%u", index);

		memcpy(b->serial, id, (size_t)len < sizeof(b->serial) ?
		       (size_t)len : sizeof(b->serial));
	}
	if (direct) {
		int ret = posix_memalign(&p, BLK_DIRECT_ALIGN,
					 BLK_BOUNCE_BYTES);
		if (ret)
			return -ret;
		b->bounce = p;
	}
	return 0;
}

void blk_backend_destroy(struct blk_backend *b)
{
	free(b->bounce);
	b->bounce = NULL;
}

void blk_disk_init(struct blk_disk_state *d, const char *path)
{
	d->write_error = false;
	d->path = path;
	pthread_mutex_init(&d->sync_lock, NULL);
}

void blk_backend_share(struct blk_backend *b, struct blk_disk_state *d)
{
	b->disk = d;
}

void blk_backend_set_features(struct blk_backend *b, uint64_t features)
{
	b->features = features;
}

static bool accepted(const struct blk_backend *b, unsigned int bit)
{
	return b->features & (1ULL << bit);
}

/* No FLUSH: the driver has no way to make a write stable later, so it
 * must be stable when it completes (virtio 1.2 5.2.6.1). */
static bool write_through(const struct blk_backend *b)
{
	return !accepted(b, VIRTIO_BLK_F_FLUSH);
}

int blk_backend_set_block_size(struct blk_backend *b, uint32_t bytes)
{
	uint32_t per = bytes / VIRTIO_BLK_SECTOR_SIZE;

	if (bytes < VIRTIO_BLK_SECTOR_SIZE || bytes > BLK_DIRECT_ALIGN ||
	    (bytes & (bytes - 1)))
		return -EINVAL;
	b->block_size = bytes;
	/* A trailing partial block cannot be read or written directly. */
	b->capacity -= b->capacity % per;
	return 0;
}

bool blk_backend_write_error(const struct blk_backend *b)
{
	return __atomic_load_n(&b->disk->write_error, __ATOMIC_ACQUIRE);
}

/* A flush or a write-through write failed with err: from now on every
 * flush of the disk fails. Says so once, whichever queue gets there. */
static void latch_write_error(struct blk_backend *b, int err)
{
	if (__atomic_exchange_n(&b->disk->write_error, true,
				__ATOMIC_ACQ_REL))
		return;
	fprintf(stderr, "mmvm: --disk %s: write error (%s): data the guest "
		"wrote may be lost; every later flush fails\n",
		b->disk->path ? b->disk->path : "(image)", strerror(-err));
}

/* fdatasync(), -errno on failure (a signal is not a failure). */
static int datasync(const struct blk_backend *b)
{
	while (fdatasync(b->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Under the disk's sync_lock (struct blk_disk_state): an error a call
 * made meanwhile on another queue took is latched before this one looks
 * at the latch. */
static void sync_lock(struct blk_backend *b)
{
	pthread_mutex_lock(&b->disk->sync_lock);
}

static void sync_unlock(struct blk_backend *b)
{
	pthread_mutex_unlock(&b->disk->sync_lock);
}

/* A flush: -EIO at once if an error was latched, since a later
 * fdatasync() would say OK over pages Linux already gave up on; else
 * fdatasync(), latching its failure. */
/* fdatasync() under the sync_lock held by the caller, latching a
 * failure (latch_write_error() says so once, whoever gets there). */
static int datasync_latching(struct blk_backend *b)
{
	int ret = datasync(b);

	if (ret)
		latch_write_error(b, ret);
	return ret;
}

static int flush_latched(struct blk_backend *b)
{
	int ret;

	sync_lock(b);
	ret = blk_backend_write_error(b) ? -EIO : datasync_latching(b);
	sync_unlock(b);
	return ret;
}

int blk_backend_flush_at_exit(struct blk_backend *b)
{
	return flush_latched(b);
}

/* VIRTIO_BLK_T_FLUSH: fails for good once an error was latched. */
static uint8_t do_flush(struct blk_backend *b)
{
	int ret;

	b->stats.flushes++;
	ret = flush_latched(b);
	if (ret) {
		b->stats.flush_errors++;
		b->stats.io_errors++;
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

uint64_t blk_backend_features(const struct blk_backend *b)
{
	/* fallocate() or the block device ioctls do both on any image
	 * mmvm opens (image_size() takes regular files and block devices
	 * only); where the host cannot, dwz_segment() falls back. */
	if (b->read_only)
		return 0;
	return (1ULL << VIRTIO_BLK_F_DISCARD) |
	       (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
}

void blk_backend_fill_config(const struct blk_backend *b,
			     struct virtio_blk_config *c)
{
	uint64_t f = blk_backend_features(b);

	c->capacity = b->capacity;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = b->block_size;
	c->max_discard_sectors = 0;
	c->max_discard_seg = 0;
	c->discard_sector_alignment = 0;
	if (f & (1ULL << VIRTIO_BLK_F_DISCARD)) {
		c->max_discard_sectors = BLK_DWZ_MAX_SECTORS;
		c->max_discard_seg = BLK_DWZ_MAX_SEGS;
		c->discard_sector_alignment = BLK_DISCARD_ALIGN;
	}
	c->max_write_zeroes_sectors = 0;
	c->max_write_zeroes_seg = 0;
	c->write_zeroes_may_unmap = 0;
	if (f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)) {
		c->max_write_zeroes_sectors = BLK_DWZ_MAX_SECTORS;
		c->max_write_zeroes_seg = BLK_DWZ_MAX_SEGS;
		/* The unmap flag punches a hole, which reads zeroes. */
		c->write_zeroes_may_unmap = 1;
	}
}

/* Describes bytes [off, off+len) of iov[0..n) in b->slice; returns the
 * number of slice entries, or -1 if iov holds fewer than off+len bytes. */
static int slice_iov(struct blk_backend *b, const struct iovec *iov,
		     unsigned int n, uint64_t off, uint64_t len)
{
	unsigned int i, out = 0;

	for (i = 0; i < n && len; i++) {
		uint64_t seg = iov[i].iov_len;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		seg -= off;
		if (seg > len)
			seg = len;
		b->slice[out].iov_base = (uint8_t *)iov[i].iov_base + off;
		b->slice[out].iov_len = seg;
		out++;
		len -= seg;
		off = 0;
	}
	return len ? -1 : (int)out;
}

/* Copies between a flat buffer and bytes [off, off+len) of an iovec array;
 * returns false if the array is too short. */
static bool iov_copy(const struct iovec *iov, unsigned int n, uint64_t off,
		     void *buf, uint64_t len, bool to_iov)
{
	uint8_t *p = buf;
	unsigned int i;

	for (i = 0; i < n && len; i++) {
		uint64_t seg = iov[i].iov_len;
		uint8_t *base = iov[i].iov_base;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		seg -= off;
		if (seg > len)
			seg = len;
		if (to_iov)
			memcpy(base + off, p, seg);
		else
			memcpy(p, base + off, seg);
		p += seg;
		len -= seg;
		off = 0;
	}
	return len == 0;
}

/* One pwritev(); write-through, stable when it returns: RWF_DSYNC, or
 * fdatasync() after it where the host's kernel predates RWF_DSYNC. The
 * sync may report a write-back error of any earlier write: latched under
 * the disk's sync_lock, as a flush's (EINVAL, a request the host refused
 * as it is, and EINTR, retried, write nothing). */
static ssize_t write_at(struct blk_backend *b, const struct iovec *iov,
			int cnt, uint64_t pos)
{
	ssize_t n;
	int err;

	if (!write_through(b))
		return pwritev(b->fd, iov, cnt, (off_t)pos);
	sync_lock(b);
	n = pwritev2(b->fd, iov, cnt, (off_t)pos, RWF_DSYNC);
	if (n < 0 && errno == EOPNOTSUPP) {
		n = pwritev(b->fd, iov, cnt, (off_t)pos);
		if (n > 0 && fdatasync(b->fd) < 0)
			n = -1;
	}
	err = errno;
	if (n < 0 && err != EINTR && err != EINVAL)
		latch_write_error(b, -err);
	sync_unlock(b);
	errno = err;
	return n;
}

/* preadv/pwritev the whole slice at file offset pos, resuming after short
 * transfers. A read hitting end of file is an error: the capacity check
 * said those sectors exist. */
static int rw_slice(struct blk_backend *b, unsigned int cnt, uint64_t pos,
		    bool write)
{
	struct iovec *iov = b->slice;

	while (cnt) {
		ssize_t n = write ? write_at(b, iov, (int)cnt, pos) :
				    preadv(b->fd, iov, (int)cnt, (off_t)pos);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		pos += (uint64_t)n;
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* O_DIRECT: the guest's buffers have no useful alignment, so every
 * transfer goes through the aligned bounce buffer. File offsets and
 * lengths must be multiples of the host's logical block size: the driver
 * keeps to the blk_size we advertise, and a request that does not fails
 * here (EINVAL) rather than in the host kernel. BLK_BOUNCE_BYTES is a
 * multiple of any block size we take, so every chunk stays aligned. */
static int rw_bounced(struct blk_backend *b, const struct iovec *iov,
		      unsigned int n, uint64_t iov_off, uint64_t len,
		      uint64_t pos, bool write)
{
	while (len) {
		uint64_t chunk = len < BLK_BOUNCE_BYTES ? len : BLK_BOUNCE_BYTES;
		uint64_t done = 0;

		if (write)
			iov_copy(iov, n, iov_off, b->bounce, chunk, false);
		while (done < chunk) {
			struct iovec v = { b->bounce + done, chunk - done };
			ssize_t r = write ? write_at(b, &v, 1, pos + done) :
				pread(b->fd, b->bounce + done, chunk - done,
				      (off_t)(pos + done));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (r == 0)
				return -EIO;
			done += (uint64_t)r;
		}
		if (!write)
			iov_copy(iov, n, iov_off, b->bounce, chunk, true);
		iov_off += chunk;
		pos += chunk;
		len -= chunk;
	}
	return 0;
}

/* Moves data between the file and bytes [iov_off, iov_off+len) of iov. */
static int do_io(struct blk_backend *b, const struct iovec *iov,
		 unsigned int n, uint64_t iov_off, uint64_t len,
		 uint64_t sector, bool write)
{
	uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
	int cnt;

	if (!len)
		return 0;
	if (b->direct) {
		if ((pos | len) & (b->block_size - 1))
			return -EINVAL;
		return rw_bounced(b, iov, n, iov_off, len, pos, write);
	}
	cnt = slice_iov(b, iov, n, iov_off, len);
	if (cnt < 0)
		return -EINVAL;
	return rw_slice(b, (unsigned int)cnt, pos, write);
}

/* Is [sector, sector + len/512) inside the disk, len a sector multiple?
 * Written so that no sum can wrap. */
static bool range_ok(const struct blk_backend *b, uint64_t sector,
		     uint64_t len)
{
	uint64_t nsec = len / VIRTIO_BLK_SECTOR_SIZE;

	if (len % VIRTIO_BLK_SECTOR_SIZE)
		return false;
	return sector <= b->capacity && nsec <= b->capacity - sector;
}

/* Writes zeroes over [pos, pos + len) the slow way, for a file system
 * that has no zero-range allocation (tmpfs). Aligned so that an O_DIRECT
 * fd takes it as it is: pos and len are whole sectors. */
static int write_zeroes_by_hand(struct blk_backend *b, uint64_t pos,
				uint64_t len)
{
	static const uint8_t zeroes[64 * 1024]
		__attribute__((aligned(BLK_DIRECT_ALIGN)));

	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		ssize_t w = pwrite(b->fd, zeroes, n, (off_t)pos);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		pos += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Did the host refuse the operation itself (not the range, which was
 * checked)? EINVAL is what a block device says to a range that is not
 * a multiple of its logical block size, and what some file systems say
 * to a mode they lack. */
static bool dwz_refused(int err)
{
	return err == -EOPNOTSUPP || err == -EINVAL || err == -ENOSYS ||
	       err == -ENOTTY;
}

/* fallocate() on the image, -errno on failure; a signal (the kick that
 * stops the worker) does not turn into an error for the guest. */
static int falloc(const struct blk_backend *b, int mode, uint64_t pos,
		  uint64_t len)
{
	mode |= FALLOC_FL_KEEP_SIZE;
	while (fallocate(b->fd, mode, (off_t)pos, (off_t)len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* One checked segment on the host. A discard is a hint: where the host
 * cannot drop the blocks (no hole punching, a block device without
 * discard, a range the device will not take) the data simply stays, which
 * the driver allows for. Write zeroes must leave zeroes: a refusal falls
 * back to the next way, in the end to writing them. */
static int dwz_segment(struct blk_backend *b, bool discard, uint64_t sector,
		       uint32_t nsec, bool unmap)
{
	uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
	uint64_t len = (uint64_t)nsec * VIRTIO_BLK_SECTOR_SIZE;
	uint64_t range[2] = { pos, len };
	int ret = 0;

	if (!len)
		return 0;
	if (b->blockdev) {
		/* BLKZEROOUT unmaps where the device reads zeroes after,
		 * and writes the zeroes itself otherwise. */
		ret = ioctl(b->fd, discard ? BLKDISCARD : BLKZEROOUT, range);
		ret = ret < 0 ? -errno : 0;
	} else {
		if (discard || unmap)
			ret = falloc(b, FALLOC_FL_PUNCH_HOLE, pos, len);
		/* Without unmap, or with no hole punching, a write zeroes
		 * gets its zeroes allocated. */
		if (!discard && (!unmap || dwz_refused(ret)))
			ret = falloc(b, FALLOC_FL_ZERO_RANGE, pos, len);
	}
	if (!dwz_refused(ret))
		return ret;
	return discard ? 0 : write_zeroes_by_hand(b, pos, len);
}

/* VIRTIO_BLK_T_DISCARD and _WRITE_ZEROES: every segment is checked before
 * any is carried out, so a bad request changes nothing. */
static uint8_t do_dwz(struct blk_backend *b, const struct virtq_chain *c,
		      bool discard)
{
	struct virtio_blk_dwz_seg seg[BLK_DWZ_MAX_SEGS];
	uint64_t len = c->out_len - VIRTIO_BLK_HDR_BYTES;
	unsigned int n = (unsigned int)(len / sizeof(seg[0]));
	int ret;

	/* A driver that did not accept the feature gets what a device
	 * without it would say. */
	if (!accepted(b, discard ? VIRTIO_BLK_F_DISCARD :
		      VIRTIO_BLK_F_WRITE_ZEROES)) {
		b->stats.unsupported++;
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (b->read_only || len % sizeof(seg[0]) || n == 0 ||
	    len > sizeof(seg) ||
	    !iov_copy(c->iov, c->nr_out, VIRTIO_BLK_HDR_BYTES, seg, len,
		      false)) {
		b->stats.bad_requests++;
		return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned int i = 0; i < n; i++) {
		/* 5.2.6.2: unknown flags, or unmap on a discard: UNSUPP. */
		if ((seg[i].flags & ~VIRTIO_BLK_DWZ_F_UNMAP) ||
		    (discard && seg[i].flags)) {
			b->stats.unsupported++;
			return VIRTIO_BLK_S_UNSUPP;
		}
		if (seg[i].num_sectors > BLK_DWZ_MAX_SECTORS ||
		    !range_ok(b, seg[i].sector, (uint64_t)seg[i].num_sectors *
			      VIRTIO_BLK_SECTOR_SIZE)) {
			b->stats.bad_requests++;
			return VIRTIO_BLK_S_IOERR;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		if (dwz_segment(b, discard, seg[i].sector, seg[i].num_sectors,
				seg[i].flags & VIRTIO_BLK_DWZ_F_UNMAP)) {
			b->stats.io_errors++;
			return VIRTIO_BLK_S_IOERR;
		}
	}
	/* Write-through: the zeroes are data written, stable on completion
	 * like any write. (A discard only says the data is not wanted.) */
	if (!discard && write_through(b)) {
		sync_lock(b);
		ret = datasync_latching(b);
		sync_unlock(b);
		if (ret) {
			b->stats.io_errors++;
			return VIRTIO_BLK_S_IOERR;
		}
	}
	if (discard)
		b->stats.discards++;
	else
		b->stats.write_zeroes++;
	return VIRTIO_BLK_S_OK;
}

uint32_t blk_handle_request(struct blk_backend *b, struct virtq_chain *c)
{
	const struct iovec *out = c->iov, *in = c->iov + c->nr_out;
	struct blk_req_hdr hdr;
	uint64_t data_len, written = 0;
	uint8_t status;
	bool work = false;
	int ret;

	/* No work until the request has moved data, synced or dropped
	 * blocks: see blk_handle_request() in the header. */
	c->refused = true;
	if (c->nr_out + c->nr_in > VIRTQ_MAX_SEGS || c->in_len == 0) {
		/* Nowhere to report: complete with nothing written. */
		b->stats.bad_requests++;
		return 0;
	}
	/* One byte is the status; the rest of the writable part is data. */
	data_len = c->in_len - 1;

	if (c->out_len < VIRTIO_BLK_HDR_BYTES || c->in_len > UINT32_MAX ||
	    !iov_copy(out, c->nr_out, 0, &hdr, sizeof(hdr), false)) {
		b->stats.bad_requests++;
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		if (!range_ok(b, hdr.sector, data_len)) {
			b->stats.bad_requests++;
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		ret = do_io(b, in, c->nr_in, 0, data_len, hdr.sector, false);
		if (ret) {
			b->stats.io_errors++;
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		b->stats.reads++;
		b->stats.bytes_read += data_len;
		written = data_len;
		work = data_len > 0;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_OUT:
		data_len = c->out_len - VIRTIO_BLK_HDR_BYTES;
		if (b->read_only || !range_ok(b, hdr.sector, data_len)) {
			b->stats.bad_requests++;
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		ret = do_io(b, out, c->nr_out, VIRTIO_BLK_HDR_BYTES, data_len,
			    hdr.sector, true);
		if (ret) {
			/* Write-through: what failed may be the write-back
			 * of earlier writes, reported to this one. */
			if (write_through(b) && ret != -EINVAL)
				latch_write_error(b, ret);
			b->stats.io_errors++;
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (write_through(b) && data_len)
			b->stats.writes_through++;
		b->stats.writes++;
		b->stats.bytes_written += data_len;
		work = data_len > 0;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = do_flush(b);
		work = status == VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = data_len < VIRTIO_BLK_ID_BYTES ? data_len :
			  VIRTIO_BLK_ID_BYTES;
		iov_copy(in, c->nr_in, 0, b->serial, written, true);
		b->stats.get_ids++;
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = do_dwz(b, c, hdr.type == VIRTIO_BLK_T_DISCARD);
		work = status == VIRTIO_BLK_S_OK;
		break;
	default:
		b->stats.unsupported++;
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	c->refused = !work;
	iov_copy(in, c->nr_in, c->in_len - 1, &status, 1, true);
	return (uint32_t)(written + 1);
}

/* Is every segment of iov[0..n) on the direct grid (address and
 * length)? */
static bool iov_aligned(const struct iovec *iov, unsigned int n,
			uint32_t align)
{
	for (unsigned int i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) &
		    (align - 1))
			return false;
	return true;
}

/* The last writable byte of c: its status (in_len > 0). */
static uint8_t *status_byte(const struct virtq_chain *c)
{
	const struct iovec *in = c->iov + c->nr_out;

	for (unsigned int i = c->nr_in; i-- > 0;)
		if (in[i].iov_len)
			return (uint8_t *)in[i].iov_base + in[i].iov_len - 1;
	return NULL;
}

bool blk_request_prepare(struct blk_backend *b, struct virtq_chain *c,
			 struct blk_rw *rw, uint32_t *len)
{
	struct blk_req_hdr hdr;
	uint64_t data_len;
	int cnt;

	if (c->nr_out + c->nr_in > VIRTQ_MAX_SEGS || c->in_len == 0 ||
	    c->in_len > UINT32_MAX || c->out_len < VIRTIO_BLK_HDR_BYTES ||
	    !iov_copy(c->iov, c->nr_out, 0, &hdr, sizeof(hdr), false) ||
	    (hdr.type != VIRTIO_BLK_T_IN && hdr.type != VIRTIO_BLK_T_OUT) ||
	    write_through(b))
		goto now;
	rw->write = hdr.type == VIRTIO_BLK_T_OUT;
	if (rw->write) {
		data_len = c->out_len - VIRTIO_BLK_HDR_BYTES;
		if (b->read_only)
			goto now;
	} else {
		data_len = c->in_len - 1;
	}
	if (!data_len || !range_ok(b, hdr.sector, data_len))
		goto now;
	rw->pos = hdr.sector * VIRTIO_BLK_SECTOR_SIZE;
	rw->len = data_len;
	if (b->direct && ((rw->pos | rw->len) & (b->block_size - 1)))
		goto now;
	cnt = rw->write ?
	      slice_iov(b, c->iov, c->nr_out, VIRTIO_BLK_HDR_BYTES, data_len) :
	      slice_iov(b, c->iov + c->nr_out, c->nr_in, 0, data_len);
	if (cnt <= 0 || cnt > BLK_RW_MAX_SEGS)
		goto now;
	if (b->direct && !iov_aligned(b->slice, (unsigned int)cnt,
				      b->block_size))
		goto now;	/* through the bounce buffer */
	rw->status = status_byte(c);
	if (!rw->status)
		goto now;
	memcpy(rw->iov, b->slice, (size_t)cnt * sizeof(rw->iov[0]));
	rw->cnt = (unsigned int)cnt;
	return true;
now:
	*len = blk_handle_request(b, c);
	return false;
}

uint32_t blk_rw_finish(struct blk_backend *b, struct blk_rw *rw,
		       int64_t res, bool *work)
{
	uint8_t status = VIRTIO_BLK_S_OK;
	int ret = 0;

	*work = false;
	if (res >= 0 && (uint64_t)res < rw->len) {
		/* Short (or nothing: the engine gave it back): the rest
		 * the synchronous way (a read that meets the end of the
		 * file fails there, in rw_slice()). */
		int cnt = slice_iov(b, rw->iov, rw->cnt, (uint64_t)res,
				    rw->len - (uint64_t)res);

		ret = cnt < 0 ? -EINVAL :
		      rw_slice(b, (unsigned int)cnt, rw->pos + (uint64_t)res,
			       rw->write);
	} else if (res < 0) {
		ret = (int)res;
	}
	if (ret) {
		b->stats.io_errors++;
		status = VIRTIO_BLK_S_IOERR;
	} else if (rw->write) {
		b->stats.writes++;
		b->stats.bytes_written += rw->len;
		*work = true;
	} else {
		b->stats.reads++;
		b->stats.bytes_read += rw->len;
		*work = true;
	}
	*rw->status = status;
	return (uint32_t)((rw->write || ret ? 0 : rw->len) + 1);
}
