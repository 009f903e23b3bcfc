/* virtio-blk request handling over a host file descriptor, independent of
 * KVM and of the virtqueue so that unit tests and the fuzzer can drive it
 * with hand-made chains (virtio 1.2 section 5.2.6).
 *
 * A request is a 16-byte header (type, reserved, sector) in the
 * device-readable part, data, and a status byte as the LAST device-writable
 * byte. Nothing about how the driver split that across descriptors is
 * assumed: the header may share a segment with data, the status may share
 * one with read data.
 */
#ifndef MMVM_DEVICES_VIRTIO_BLK_REQ_H
#define MMVM_DEVICES_VIRTIO_BLK_REQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtqueue.h"

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* The feature bits whose requests this layer carries out (virtio 1.2
 * 5.2.3); the device model offers what blk_backend_features() says, and
 * hands over what the driver accepted (blk_backend_set_features()). */
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Discard and write-zeroes requests: an array of these after the header
 * (virtio 1.2 5.2.6); flags bit 0 is "unmap" (write-zeroes only). */
struct virtio_blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

_Static_assert(sizeof(struct virtio_blk_dwz_seg) == 16,
	       "struct virtio_blk_discard_write_zeroes is 16 bytes");

#define VIRTIO_BLK_DWZ_F_UNMAP	1u
/* Our limits, offered in config space: segments per request, sectors per
 * segment, and the alignment (in sectors) discards are best given in. */
#define BLK_DWZ_MAX_SEGS	8
#define BLK_DWZ_MAX_SECTORS	(1u << 22)	/* 2 GiB */
#define BLK_DISCARD_ALIGN	8		/* 4 KiB */

/* seg_max: data segments per request, i.e. a chain of the 256-entry queue
 * less its header and status descriptors; a request within it always
 * fits the VIRTQ_MAX_SEGS segments blk_handle_request takes. */
#define BLK_SEG_MAX		254

_Static_assert(BLK_SEG_MAX + 2 <= VIRTQ_MAX_SEGS,
	       "a chain of seg_max data segments fits in b->slice");

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_SECTOR_SIZE	512
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_HDR_BYTES	16

/* O_DIRECT bounce buffer: alignment and size of one transfer through it. */
#define BLK_DIRECT_ALIGN	4096
#define BLK_BOUNCE_BYTES	(256 * 1024)

/* virtio 1.2 5.2.4, up to the write-zeroes limits: the fields we offer
 * (the geometry, topology and writeback fields are there for the later
 * offsets and read 0, their features not being offered). Little-endian,
 * the host's order on x86. */
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
	uint32_t max_discard_sectors;	/* with VIRTIO_BLK_F_DISCARD */
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;	/* with _F_WRITE_ZEROES */
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_blk_config) == 60,
	       "virtio 1.2 5.2.4: 60 bytes up to unused1");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34 &&
	       offsetof(struct virtio_blk_config, max_discard_sectors) == 36 &&
	       offsetof(struct virtio_blk_config, max_discard_seg) == 40 &&
	       offsetof(struct virtio_blk_config,
			discard_sector_alignment) == 44 &&
	       offsetof(struct virtio_blk_config,
			max_write_zeroes_sectors) == 48 &&
	       offsetof(struct virtio_blk_config, max_write_zeroes_seg) == 52 &&
	       offsetof(struct virtio_blk_config,
			write_zeroes_may_unmap) == 56,
	       "virtio 1.2 5.2.4 field offsets");

struct blk_stats {
	uint64_t reads, writes, flushes, get_ids, unsupported;
	uint64_t discards, write_zeroes;	/* requests done */
	uint64_t bad_requests;	/* malformed: refused with IOERR or len 0 */
	uint64_t io_errors;	/* host I/O failed */
	uint64_t bytes_read, bytes_written;
	uint64_t flush_errors;	/* flushes answered IOERR (failed or latched) */
	uint64_t writes_through;	/* writes made stable before completing
					 * (the driver took no FLUSH) */
};

/* What the queues of one disk share. They write one fd, and Linux reports
 * a write-back error to one fdatasync() per open file and has marked the
 * failed pages clean by then: a later fdatasync() succeeds over lost
 * data. So the first failed flush (or write-through write) latches the
 * disk, and every later flush on any queue fails, for the rest of the run
 * (QEMU's choice: nothing tells us the data got to the disk after all).
 * The latch alone is not enough while two queues sync at once: the error
 * goes to one of them, and the other's fdatasync() could return OK before
 * the first has latched. So every call that can take a write-back error
 * (a flush, a write-through write, the exit flush) runs under sync_lock
 * and latches before releasing it (QEMU serialises a device's flushes
 * too). */
struct blk_disk_state {
	bool write_error;	/* latched; atomic */
	const char *path;	/* the image, for the one log line */
	pthread_mutex_t sync_lock;	/* order: after the queues' locks */
};

struct blk_backend {
	int fd;
	bool read_only;
	bool direct;		/* fd is O_DIRECT: go through bounce */
	bool blockdev;		/* fd is a block device: BLKDISCARD and
				 * BLKZEROOUT instead of fallocate */
	uint32_t block_size;	/* bytes; with direct, the host's logical
				 * block size, which every file offset and
				 * length must be a multiple of (advertised
				 * as blk_size so the driver keeps to it) */
	uint64_t features;	/* the driver's (blk_backend_set_features) */
	struct blk_disk_state *disk;	/* shared by the disk's queues */
	struct blk_disk_state own_disk;	/* ... or this one, by default */
	uint64_t capacity;	/* in 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];	/* NUL-padded, not terminated */
	uint8_t *bounce;	/* BLK_BOUNCE_BYTES, BLK_DIRECT_ALIGN-aligned */
	struct iovec slice[VIRTQ_MAX_SEGS];	/* scratch for one request */
	struct blk_stats stats;
};

/* Fills in b around an open fd (the caller owns opening and closing it).
 * Until blk_backend_set_features() it serves as if the driver had
 * accepted every feature offered (FLUSH among them), with a latch of its
 * own. Returns 0, or -errno if the bounce buffer cannot be allocated. */
int blk_backend_init(struct blk_backend *b, int fd, uint64_t capacity,
		     bool read_only, bool direct, unsigned int index);
void blk_backend_destroy(struct blk_backend *b);

/* d's lock initialised, path the image's name for the log line. */
void blk_disk_init(struct blk_disk_state *d, const char *path);

/* The disk's queues share one latch (d, which outlives them). */
void blk_backend_share(struct blk_backend *b, struct blk_disk_state *d);

/* The features the driver accepted, at DRIVER_OK (0 at reset): without
 * VIRTIO_BLK_F_FLUSH every write is made stable before it completes
 * (virtio 1.2 5.2.6.1), and DISCARD / WRITE_ZEROES requests are served
 * only if accepted (UNSUPP otherwise). */
void blk_backend_set_features(struct blk_backend *b, uint64_t features);

/* With direct: the logical block size the fd's storage takes O_DIRECT
 * I/O in (512..BLK_DIRECT_ALIGN); b serves it as blk_size and keeps the
 * capacity a multiple of it. Returns 0, or -EINVAL if it is not a power
 * of two in that range. */
int blk_backend_set_block_size(struct blk_backend *b, uint32_t bytes);

/* Has a write error been latched on b's disk? */
bool blk_backend_write_error(const struct blk_backend *b);

/* fdatasync() of the disk's fd at exit, the latch included: 0, or -errno
 * (-EIO if an error was latched earlier: data may have been lost). */
int blk_backend_flush_at_exit(struct blk_backend *b);

/* The VIRTIO_BLK_F_DISCARD and _WRITE_ZEROES bits b can carry out, for
 * the device to offer: both on a writable disk, none on a read-only one
 * (whose requests of those types fail with IOERR anyway). */
uint64_t blk_backend_features(const struct blk_backend *b);

/* Fills the fields of c this layer decides: capacity, seg_max, blk_size
 * (b->block_size: VIRTIO_BLK_F_BLK_SIZE is always offered) and, when blk_backend_features() offers them, the discard and
 * write-zeroes limits (zero otherwise). Leaves num_queues and every other
 * field alone. */
void blk_backend_fill_config(const struct blk_backend *b,
			     struct virtio_blk_config *c);

/* Executes one request and writes its status byte. Returns the used
 * length: bytes written to the driver's buffers including the status, or 0
 * for a chain with no writable byte (there is nowhere to put a status).
 * Sets c->refused unless the request was work for polling
 * (virtio/queue_run.h): a read or write that moved at least one sector,
 * a flush, discard or write zeroes answered OK. Anything else is answered
 * without costing the host anything a poll window should wait for: a
 * malformed request, an unknown type or a feature not negotiated
 * (UNSUPP), a read or write of 0 bytes, GET_ID, a request the host
 * refused (IOERR: off the ,direct block grid, a latched flush). */
uint32_t blk_handle_request(struct blk_backend *b, struct virtq_chain *c);

/* The codec for an engine that carries reads and writes out itself
 * (devices/blk_engine.h): a read or write, parsed and checked, with
 * copies of everything needed to finish it, so that its completion never
 * looks at the chain (or the descriptor table) again. */
#define BLK_RW_MAX_SEGS	(BLK_SEG_MAX + 2)
struct blk_rw {
	bool write;
	uint64_t pos, len;	/* file offset and bytes, len > 0 */
	unsigned int cnt;	/* iov[0..cnt): the data, host pointers */
	uint8_t *status;	/* the status byte, a host pointer */
	struct iovec iov[BLK_RW_MAX_SEGS];
};

/* Parses c. A read or write of data on a disk that takes it as it is
 * (the driver accepted FLUSH, so no write-through; with direct, every
 * segment on the block grid; at most BLK_RW_MAX_SEGS data segments) is
 * described in *rw and true returned: the caller moves the data and
 * calls blk_rw_finish(). Anything else (a flush, GET_ID, discard,
 * write zeroes, a malformed or refused request, write-through) is carried
 * out on the spot by blk_handle_request(): false, with its used length in
 * *len and c->refused set as it says. */
bool blk_request_prepare(struct blk_backend *b, struct virtq_chain *c,
			 struct blk_rw *rw, uint32_t *len);

/* The read or write of rw transferred res bytes (or failed: -errno).
 * A short transfer is finished here synchronously. Writes the status
 * byte, counts, and returns the used length; *work: the request was work
 * for polling (see blk_handle_request()). */
uint32_t blk_rw_finish(struct blk_backend *b, struct blk_rw *rw,
		       int64_t res, bool *work);

#endif
