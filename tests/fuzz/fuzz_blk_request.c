/* libFuzzer target: virtio-blk request parsing and execution.
 *
 * Input layout: flags (bit 0 read-only, bit 1 O_DIRECT bounce path,
 *   bit 2 no FLUSH negotiated, bit 3 no discard / write zeroes, bit 4
 *   4 KiB logical blocks; bit 5 through the asynchronous engines' codec,
 *   blk_request_prepare() and blk_rw_finish(), with bits 6-7 choosing
 *   what the host did: all of it, half (finished synchronously), nothing,
 *   or an error),
 * readable segment count, writable segment count (each mod 9), then one
 * 16-bit length per segment (mod 4097), then bytes that fill the readable
 * segments (header first). Every segment is its own heap allocation of
 * exactly its length, so any read or write past a guest buffer is caught by
 * ASan. The image is a 64-sector memfd. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/virtio_blk_req.h"

#define IMAGE_SECTORS	64
#define MAX_FUZZ_SEGS	8
#define MAX_SEG_LEN	4096

static struct blk_backend be;
static struct virtq_chain chain;
static int image_fd = -1;
static struct blk_rw rw;

/* The codec path: what an engine does between prepare and finish, with
 * the host's answer chosen by the input. */
static uint32_t via_codec(uint8_t flags)
{
	uint32_t len = 0;
	int64_t res;
	bool work;

	if (!blk_request_prepare(&be, &chain, &rw, &len))
		return len;
	/* What prepare handed over lies inside the chain's buffers (ASan
	 * checks the bytes; the counts are checked here). */
	if (!rw.len || !rw.cnt || rw.cnt > BLK_RW_MAX_SEGS || !rw.status)
		abort();
	switch (flags >> 6) {
	case 0:
		res = rw.write ? pwritev(be.fd, rw.iov, (int)rw.cnt,
					 (off_t)rw.pos) :
				 preadv(be.fd, rw.iov, (int)rw.cnt,
					(off_t)rw.pos);
		if (res < 0)
			res = -errno;
		break;
	case 1:
		res = (int64_t)(rw.len / 2);
		break;
	case 2:
		res = 0;
		break;
	default:
		res = -EIO;
		break;
	}
	*rw.status = 0xee;
	len = blk_rw_finish(&be, &rw, res, &work);
	if (*rw.status == 0xee)
		abort();	/* a status byte is always written */
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int nr_out, nr_in, i, n;
	uint8_t flags;
	uint32_t used;

	if (size < 3)
		return 0;
	if (image_fd < 0) {
		image_fd = memfd_create("fuzz-blk", 0);
		if (image_fd < 0 ||
		    ftruncate(image_fd, IMAGE_SECTORS * 512) < 0)
			abort();
	}
	flags = data[0];
	nr_out = data[1] % (MAX_FUZZ_SEGS + 1);
	nr_in = data[2] % (MAX_FUZZ_SEGS + 1);
	data += 3;
	size -= 3;
	n = nr_out + nr_in;
	if (size < 2 * n)
		return 0;

	if (blk_backend_init(&be, image_fd, IMAGE_SECTORS, flags & 1,
			     flags & 2, 0))
		abort();
	/* What the driver negotiated: bit 2 no FLUSH (write-through), bit 3
	 * no discard / write zeroes; bit 4 4 KiB logical blocks. */
	if (flags & 0x0c) {
		uint64_t f = blk_backend_features(&be);

		if (flags & 8)
			f = 0;
		if (!(flags & 4))
			f |= 1ULL << VIRTIO_BLK_F_FLUSH;
		blk_backend_set_features(&be, f);
	}
	if ((flags & 0x10) && blk_backend_set_block_size(&be, 4096))
		abort();
	memset(&chain, 0, sizeof(chain));
	chain.nr_out = nr_out;
	chain.nr_in = nr_in;
	for (i = 0; i < n; i++) {
		size_t len = (size_t)(data[2 * i] | data[2 * i + 1] << 8) %
			     (MAX_SEG_LEN + 1);

		chain.iov[i].iov_base = malloc(len ? len : 1);
		chain.iov[i].iov_len = len;
		if (i < nr_out)
			chain.out_len += len;
		else
			chain.in_len += len;
	}
	data += 2 * n;
	size -= 2 * n;
	for (i = 0; i < nr_out; i++) {
		size_t len = chain.iov[i].iov_len < size ?
			     chain.iov[i].iov_len : size;

		memset(chain.iov[i].iov_base, 0, chain.iov[i].iov_len);
		memcpy(chain.iov[i].iov_base, data, len);
		data += len;
		size -= len;
	}

	used = flags & 0x20 ? via_codec(flags) :
			      blk_handle_request(&be, &chain);
	/* Used length never exceeds what the driver offered for writing. */
	if (used > chain.in_len)
		abort();

	for (i = 0; i < n; i++)
		free(chain.iov[i].iov_base);
	blk_backend_destroy(&be);
	return 0;
}
