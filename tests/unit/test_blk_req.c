/* virtio-blk request handling over a temp file, with hand-built chains:
 * good requests, odd framing, and every malformed case the device must
 * refuse without touching the image. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio_blk_req.h"
#include "devices/virtio_rng.h"
#include "unit.h"

#define CAP_SECTORS 2048	/* 1 MiB image */

static struct blk_backend be;
static struct virtq_chain chain;
static int img_fd = -1;

struct hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static void open_image(bool ro, bool direct)
{
	char path[] = "/tmp/mmvm-test-blk-XXXXXX";

	if (img_fd >= 0) {
		blk_backend_destroy(&be);
		close(img_fd);
	}
	img_fd = mkstemp(path);
	CHECK(img_fd >= 0);
	unlink(path);
	CHECK(ftruncate(img_fd, CAP_SECTORS * 512) == 0);
	CHECK(blk_backend_init(&be, img_fd, CAP_SECTORS, ro, direct, 3) == 0);
}

static void chain_reset(void)
{
	memset(&chain, 0, sizeof(chain));
}

static void add(void *p, size_t len, bool writable)
{
	struct iovec *v = &chain.iov[chain.nr_out + chain.nr_in];

	v->iov_base = p;
	v->iov_len = len;
	if (writable) {
		chain.nr_in++;
		chain.in_len += len;
	} else {
		chain.nr_out++;
		chain.out_len += len;
	}
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_write_then_read(void)
{
	static uint8_t data[1024], back[1024], file[1024];
	struct hdr h = { VIRTIO_BLK_T_OUT, 0, 10 };
	uint8_t status = 0xff;

	open_image(false, false);
	fill(data, sizeof(data), 1);
	chain_reset();
	add(&h, sizeof(h), false);
	add(data, sizeof(data), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	CHECK_EQ(pread(img_fd, file, sizeof(file), 10 * 512), sizeof(file));
	CHECK(!memcmp(file, data, sizeof(data)));
	CHECK_EQ(be.stats.bytes_written, 1024);

	h.type = VIRTIO_BLK_T_IN;
	status = 0xff;
	chain_reset();
	add(&h, sizeof(h), false);
	add(back, sizeof(back), true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1025);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	CHECK(!memcmp(back, data, sizeof(data)));
}

/* Header split over two segments, data and status sharing one buffer. */
static void test_odd_framing(void)
{
	static uint8_t data[512 * 3], buf[512 * 3 + 1];
	struct hdr h = { VIRTIO_BLK_T_OUT, 0, 100 };
	uint8_t status = 0xff;

	open_image(false, false);
	fill(data, sizeof(data), 9);
	chain_reset();
	add(&h, 5, false);
	add((uint8_t *)&h + 5, sizeof(h) - 5, false);
	add(data, 100, false);
	add(data + 100, sizeof(data) - 100, false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);

	h.type = VIRTIO_BLK_T_IN;
	memset(buf, 0xee, sizeof(buf));
	chain_reset();
	add(&h, sizeof(h), false);
	add(buf, 700, true);
	add(buf + 700, sizeof(buf) - 700, true);
	CHECK_EQ(blk_handle_request(&be, &chain), sizeof(buf));
	CHECK_EQ(buf[sizeof(buf) - 1], VIRTIO_BLK_S_OK);
	CHECK(!memcmp(buf, data, sizeof(data)));
}

/* The O_DIRECT bounce path (here over a plain fd, same code). */
static void test_bounced(void)
{
	static uint8_t data[BLK_BOUNCE_BYTES + 1024], back[sizeof(data)];
	struct hdr h = { VIRTIO_BLK_T_OUT, 0, 7 };
	uint8_t status = 0xff;

	open_image(false, true);
	CHECK(be.bounce != NULL);
	fill(data, sizeof(data), 3);
	chain_reset();
	add(&h, sizeof(h), false);
	add(data, 1000, false);
	add(data + 1000, sizeof(data) - 1000, false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);

	h.type = VIRTIO_BLK_T_IN;
	chain_reset();
	add(&h, sizeof(h), false);
	add(back, 3000, true);
	add(back + 3000, sizeof(back) - 3000, true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), sizeof(back) + 1);
	CHECK(!memcmp(back, data, sizeof(data)));
}

static void test_flush_and_id(void)
{
	struct hdr h = { VIRTIO_BLK_T_FLUSH, 0, 0 };
	char id[VIRTIO_BLK_ID_BYTES], small[8];
	uint8_t status = 0xff;

	open_image(false, false);
	chain_reset();
	add(&h, sizeof(h), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	CHECK_EQ(be.stats.flushes, 1);

	h.type = VIRTIO_BLK_T_GET_ID;
	memset(id, 'x', sizeof(id));
	chain_reset();
	add(&h, sizeof(h), false);
	add(id, sizeof(id), true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 21);
	CHECK(!memcmp(id, "mmvm-blk3\0\0\0\0\0\0\0\0\0\0\0", 20));

	chain_reset();
	add(&h, sizeof(h), false);
	add(small, sizeof(small), true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 9);
	CHECK(!memcmp(small, "mmvm-blk", 8));

	h.type = 42;
	status = 0xff;
	chain_reset();
	add(&h, sizeof(h), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_UNSUPP);
}

/* Sends a request for [sector, +len) and returns its status. */
static uint8_t rw(uint32_t type, uint64_t sector, size_t len)
{
	static uint8_t buf[4096];
	struct hdr h = { type, 0, sector };
	uint8_t status = 0xff;

	chain_reset();
	add(&h, sizeof(h), false);
	if (type == VIRTIO_BLK_T_OUT)
		add(buf, len, false);
	else
		add(buf, len, true);
	add(&status, 1, true);
	blk_handle_request(&be, &chain);
	return status;
}

static void test_bad_requests(void)
{
	struct hdr h = { VIRTIO_BLK_T_IN, 0, 0 };
	uint8_t status = 0xff, buf[512];

	open_image(false, false);
	/* Short header. */
	chain_reset();
	add(&h, 8, false);
	add(buf, sizeof(buf), true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_IOERR);
	/* No status byte at all: nothing may be written. */
	chain_reset();
	add(&h, sizeof(h), false);
	add(buf, sizeof(buf), false);
	CHECK_EQ(blk_handle_request(&be, &chain), 0);
	/* No header and no status. */
	chain_reset();
	CHECK_EQ(blk_handle_request(&be, &chain), 0);

	CHECK_EQ(rw(VIRTIO_BLK_T_IN, CAP_SECTORS - 1, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, CAP_SECTORS - 1, 1024),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, CAP_SECTORS, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, CAP_SECTORS, 512), VIRTIO_BLK_S_IOERR);
	/* sector + len and sector * 512 would both wrap. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, UINT64_MAX, 1024), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, UINT64_MAX - 1, 1024),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 1ULL << 55, 512), VIRTIO_BLK_S_IOERR);
	/* Not a whole number of sectors. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 100), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, 513), VIRTIO_BLK_S_IOERR);
	/* Zero-length read is harmless. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 5, 0), VIRTIO_BLK_S_OK);
	CHECK(be.stats.bad_requests >= 10);
}

static void test_read_only(void)
{
	uint8_t file[512], zero[512] = { 0 };

	open_image(true, false);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(pread(img_fd, file, sizeof(file), 0), 512);
	CHECK(!memcmp(file, zero, sizeof(zero)));
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.stats.writes, 0);
}

static void test_rng_fill(void)
{
	static uint8_t big[VIRTIO_RNG_MAX_REQUEST + 4096];
	uint8_t ro[16], small[64];

	chain_reset();
	add(ro, sizeof(ro), false);
	add(small, sizeof(small), true);
	CHECK_EQ(virtio_rng_fill(&chain), sizeof(small));

	chain_reset();
	add(small, sizeof(small), true);
	add(big, sizeof(big), true);
	CHECK_EQ(virtio_rng_fill(&chain), VIRTIO_RNG_MAX_REQUEST);

	chain_reset();
	add(ro, sizeof(ro), false);
	CHECK_EQ(virtio_rng_fill(&chain), 0);
}

/* Sends one discard or write-zeroes request of n segments; returns the
 * status byte. */
static uint8_t dwz(uint32_t type, const struct virtio_blk_dwz_seg *seg,
		   unsigned int n)
{
	struct hdr h = { type, 0, 0 };
	uint8_t status = 0xff;

	chain_reset();
	add(&h, sizeof(h), false);
	if (n)
		add((void *)seg, n * sizeof(*seg), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	return status;
}

static bool all(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* The image: 1 MiB of 0xaa, so zeroes and holes show. */
static void fill_image(void)
{
	static uint8_t aa[CAP_SECTORS * 512];

	memset(aa, 0xaa, sizeof(aa));
	CHECK_EQ(pwrite(img_fd, aa, sizeof(aa), 0), sizeof(aa));
}

static void test_discard_write_zeroes(void)
{
	static uint8_t buf[CAP_SECTORS * 512];
	struct virtio_blk_dwz_seg seg[BLK_DWZ_MAX_SEGS + 1];

	open_image(false, false);
	fill_image();
	/* Write zeroes: two segments, one with unmap. */
	seg[0] = (struct virtio_blk_dwz_seg){ 8, 8, 0 };
	seg[1] = (struct virtio_blk_dwz_seg){ 64, 16, VIRTIO_BLK_DWZ_F_UNMAP };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_OK);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, 8 * 512, 0xaa));
	CHECK(all(buf + 8 * 512, 8 * 512, 0));
	CHECK(all(buf + 16 * 512, 48 * 512, 0xaa));
	CHECK(all(buf + 64 * 512, 16 * 512, 0));
	CHECK(all(buf + 80 * 512, sizeof(buf) - 80 * 512, 0xaa));
	CHECK_EQ(be.stats.write_zeroes, 1);

	/* Discard of the whole disk: tmpfs/ext4 punch the holes, the file
	 * keeps its size and reads zeroes. */
	seg[0] = (struct virtio_blk_dwz_seg){ 0, CAP_SECTORS, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_OK);
	CHECK_EQ(lseek(img_fd, 0, SEEK_END), CAP_SECTORS * 512);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0));
	CHECK_EQ(be.stats.discards, 1);

	/* Refused, and nothing changed: unmap on a discard and unknown flags
	 * (UNSUPP), past the end, wrapping, too long, too many segments, no
	 * segment, a torn segment (IOERR). */
	fill_image();
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, VIRTIO_BLK_DWZ_F_UNMAP };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_UNSUPP);
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 2 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_UNSUPP);
	seg[0] = (struct virtio_blk_dwz_seg){ CAP_SECTORS - 4, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
	seg[0] = (struct virtio_blk_dwz_seg){ UINT64_MAX - 2, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	seg[0] = (struct virtio_blk_dwz_seg){ 0, BLK_DWZ_MAX_SECTORS + 1, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	for (unsigned int i = 0; i <= BLK_DWZ_MAX_SEGS; i++)
		seg[i] = (struct virtio_blk_dwz_seg){ i * 8, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, BLK_DWZ_MAX_SEGS + 1),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 0), VIRTIO_BLK_S_IOERR);
	/* A bad segment after a good one: the good one is not done either. */
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 0 };
	seg[1] = (struct virtio_blk_dwz_seg){ CAP_SECTORS, 1, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_IOERR);
	{
		struct hdr h = { VIRTIO_BLK_T_DISCARD, 0, 0 };
		uint8_t status = 0xff;

		chain_reset();
		add(&h, sizeof(h), false);
		add(seg, sizeof(seg[0]) - 4, false);
		add(&status, 1, true);
		CHECK_EQ(blk_handle_request(&be, &chain), 1);
		CHECK_EQ(status, VIRTIO_BLK_S_IOERR);
	}
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0xaa));
	CHECK_EQ(be.stats.discards, 1);
	CHECK_EQ(be.stats.write_zeroes, 1);

	/* Read-only: refused. */
	open_image(true, false);
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
}

int main(void)
{
	RUN(test_write_then_read);
	RUN(test_odd_framing);
	RUN(test_bounced);
	RUN(test_flush_and_id);
	RUN(test_bad_requests);
	RUN(test_read_only);
	RUN(test_discard_write_zeroes);
	RUN(test_rng_fill);
	blk_backend_destroy(&be);
	return unit_finish("test_blk_req");
}
