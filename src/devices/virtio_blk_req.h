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

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/virtqueue.h"

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Discard and write-zeroes requests: an array of these after the header
 * (virtio 1.2 5.2.6); flags bit 0 is "unmap" (write-zeroes only). */
struct virtio_blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

#define VIRTIO_BLK_DWZ_F_UNMAP	1u
/* Our limits, offered in config space: segments per request, sectors per
 * segment, and the alignment (in sectors) discards are best given in. */
#define BLK_DWZ_MAX_SEGS	8
#define BLK_DWZ_MAX_SECTORS	(1u << 22)	/* 2 GiB */
#define BLK_DISCARD_ALIGN	8		/* 4 KiB */

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define VIRTIO_BLK_SECTOR_SIZE	512
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_HDR_BYTES	16

/* O_DIRECT bounce buffer: alignment and size of one transfer through it. */
#define BLK_DIRECT_ALIGN	4096
#define BLK_BOUNCE_BYTES	(256 * 1024)

struct blk_stats {
	uint64_t reads, writes, flushes, get_ids, unsupported;
	uint64_t discards, write_zeroes;	/* requests done */
	uint64_t bad_requests;	/* malformed: refused with IOERR or len 0 */
	uint64_t io_errors;	/* host I/O failed */
	uint64_t bytes_read, bytes_written;
};

struct blk_backend {
	int fd;
	bool read_only;
	bool direct;		/* fd is O_DIRECT: go through bounce */
	bool blockdev;		/* fd is a block device: BLKDISCARD and
				 * BLKZEROOUT instead of fallocate */
	uint64_t capacity;	/* in 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];	/* NUL-padded, not terminated */
	uint8_t *bounce;	/* BLK_BOUNCE_BYTES, BLK_DIRECT_ALIGN-aligned */
	struct iovec slice[VIRTQ_MAX_SEGS];	/* scratch for one request */
	struct blk_stats stats;
};

/* Fills in b around an open fd (the caller owns opening and closing it).
 * Returns 0, or -errno if the bounce buffer cannot be allocated. */
int blk_backend_init(struct blk_backend *b, int fd, uint64_t capacity,
		     bool read_only, bool direct, unsigned int index);
void blk_backend_destroy(struct blk_backend *b);

/* Executes one request and writes its status byte. Returns the used
 * length: bytes written to the driver's buffers including the status, or 0
 * for a chain with no writable byte (there is nowhere to put a status). */
uint32_t blk_handle_request(struct blk_backend *b, const struct virtq_chain *c);

#endif
