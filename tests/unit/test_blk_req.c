/* virtio-blk request handling over a temp file, with hand-built chains:
 * good requests, odd framing, and every malformed case the device must
 * refuse without touching the image. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices/virtio_blk.h"
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

/* fdatasync() as the device calls it: the real one, unless a test stands
 * in for the kernel (test_flush_race). */
static int (*fake_datasync)(int fd);

int fdatasync(int fd)
{
	if (fake_datasync)
		return fake_datasync(fd);
	return (int)syscall(SYS_fdatasync, fd);
}

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

	/* Read-only: not offered, so UNSUPP; refused all the same by a
	 * driver that claims the features anyway. */
	open_image(true, false);
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_UNSUPP);
	blk_backend_set_features(&be, (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
}

/* What the device offers and config space, from the request layer. */
static void test_dwz_features_config(void)
{
	const uint64_t both = (1ULL << VIRTIO_BLK_F_DISCARD) |
			      (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	struct virtio_blk_config c;

	open_image(false, false);
	CHECK_EQ(blk_backend_features(&be), both);
	memset(&c, 0xee, sizeof(c));
	c.num_queues = 7;
	blk_backend_fill_config(&be, &c);
	CHECK_EQ(c.capacity, CAP_SECTORS);
	CHECK_EQ(c.seg_max, BLK_SEG_MAX);
	CHECK_EQ(c.blk_size, 512);
	CHECK_EQ(c.max_discard_sectors, BLK_DWZ_MAX_SECTORS);
	CHECK_EQ(c.max_discard_seg, BLK_DWZ_MAX_SEGS);
	CHECK_EQ(c.discard_sector_alignment, BLK_DISCARD_ALIGN);
	CHECK_EQ(c.max_write_zeroes_sectors, BLK_DWZ_MAX_SECTORS);
	CHECK_EQ(c.max_write_zeroes_seg, BLK_DWZ_MAX_SEGS);
	CHECK_EQ(c.write_zeroes_may_unmap, 1);
	CHECK_EQ(c.num_queues, 7);	/* the device's, left alone */

	/* Read-only: nothing offered, and the limits read 0 even over a
	 * config that held them. */
	open_image(true, false);
	CHECK_EQ(blk_backend_features(&be), 0);
	blk_backend_fill_config(&be, &c);
	CHECK_EQ(c.capacity, CAP_SECTORS);
	CHECK_EQ(c.max_discard_sectors, 0);
	CHECK_EQ(c.max_discard_seg, 0);
	CHECK_EQ(c.discard_sector_alignment, 0);
	CHECK_EQ(c.max_write_zeroes_sectors, 0);
	CHECK_EQ(c.max_write_zeroes_seg, 0);
	CHECK_EQ(c.write_zeroes_may_unmap, 0);
	CHECK_EQ(c.num_queues, 7);
}

static uint64_t allocated_kib(int fd)
{
	struct stat st;

	CHECK_EQ(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks / 2;
}

/* Is [sector, sector + n) a hole in the file? (No data after pos at
 * all is ENXIO.) */
static bool is_hole(int fd, uint64_t sector, uint64_t n)
{
	off_t pos = (off_t)(sector * 512), data;

	if (lseek(fd, pos, SEEK_HOLE) != pos)
		return false;
	data = lseek(fd, pos, SEEK_DATA);
	return data < 0 ? errno == ENXIO : data >= (off_t)((sector + n) * 512);
}

/* On a file system that punches holes and allocates zero ranges (ext4
 * /tmp here): a discard and an unmapping write zeroes free the blocks, a
 * plain write zeroes keeps them, everything else is untouched. With
 * direct, the backend's fd is O_DIRECT (which fallocate does not mind);
 * the test fills and reads the image through a buffered fd. */
static void test_dwz_blocks(bool direct)
{
	static uint8_t buf[CAP_SECTORS * 512];
	struct virtio_blk_dwz_seg seg[BLK_DWZ_MAX_SEGS];
	char path[] = "/tmp/mmvm-test-blk-XXXXXX";
	int fd = mkstemp(path), dfd = -1;
	uint64_t kib0, kib1;

	CHECK(fd >= 0);
	if (direct) {
		dfd = open(path, O_RDWR | O_DIRECT);
		if (dfd < 0) {
			fprintf(stderr, "test_dwz_blocks: no O_DIRECT on "
				"/tmp (%s), skipped\n", strerror(errno));
			unlink(path);
			close(fd);
			return;
		}
	}
	unlink(path);
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(pwrite(fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK_EQ(fsync(fd), 0);
	if (img_fd >= 0) {
		blk_backend_destroy(&be);
		close(img_fd);
	}
	img_fd = direct ? dfd : fd;
	CHECK_EQ(blk_backend_init(&be, img_fd, CAP_SECTORS, false, direct, 0),
		 0);
	kib0 = allocated_kib(fd);
	CHECK(kib0 >= CAP_SECTORS / 2);

	/* A discard of three 4 KiB-aligned ranges: 64 + 128 + 8 sectors. */
	seg[0] = (struct virtio_blk_dwz_seg){ 64, 64, 0 };
	seg[1] = (struct virtio_blk_dwz_seg){ 512, 128, 0 };
	seg[2] = (struct virtio_blk_dwz_seg){ CAP_SECTORS - 8, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 3), VIRTIO_BLK_S_OK);
	/* st_blocks counts extent tree blocks too: a few KiB of slack. */
	kib1 = allocated_kib(fd);
	CHECK(kib0 - kib1 + 8 >= (64 + 128 + 8) / 2);
	CHECK(is_hole(fd, 64, 64));
	CHECK(is_hole(fd, 512, 128));
	CHECK(is_hole(fd, CAP_SECTORS - 8, 8));
	CHECK_EQ(lseek(fd, 0, SEEK_END), CAP_SECTORS * 512);

	/* Write zeroes: with unmap a hole, without it allocated zeroes
	 * (unwritten extents, which SEEK_HOLE calls holes too: only the
	 * block count tells them apart). */
	seg[0] = (struct virtio_blk_dwz_seg){ 1024, 32,
					      VIRTIO_BLK_DWZ_F_UNMAP };
	seg[1] = (struct virtio_blk_dwz_seg){ 1536, 32, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_OK);
	kib0 = kib1;
	kib1 = allocated_kib(fd);
	CHECK(kib0 - kib1 + 8 >= 32 / 2);
	CHECK(kib0 - kib1 <= 24);	/* the 16 KiB zero range stays */
	CHECK(is_hole(fd, 1024, 32));

	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, 64 * 512, 0xaa));
	CHECK(all(buf + 64 * 512, 64 * 512, 0));
	CHECK(all(buf + 128 * 512, 384 * 512, 0xaa));
	CHECK(all(buf + 512 * 512, 128 * 512, 0));
	CHECK(all(buf + 640 * 512, 384 * 512, 0xaa));
	CHECK(all(buf + 1024 * 512, 32 * 512, 0));
	CHECK(all(buf + 1056 * 512, 480 * 512, 0xaa));
	CHECK(all(buf + 1536 * 512, 32 * 512, 0));
	CHECK(all(buf + 1568 * 512, (CAP_SECTORS - 8 - 1568) * 512, 0xaa));
	CHECK(all(buf + (CAP_SECTORS - 8) * 512, 8 * 512, 0));
	CHECK_EQ(be.stats.discards, 1);
	CHECK_EQ(be.stats.write_zeroes, 1);
	CHECK_EQ(be.stats.io_errors, 0);
	if (direct)
		close(fd);
}

static void test_dwz_blocks_buffered(void)
{
	test_dwz_blocks(false);
}

static void test_dwz_blocks_direct(void)
{
	test_dwz_blocks(true);
}

/* tmpfs punches holes but has no zero range: write zeroes falls back to
 * writing them, from an aligned buffer an O_DIRECT fd takes. */
static void test_dwz_fallback(void)
{
	static uint8_t buf[CAP_SECTORS * 512];
	struct virtio_blk_dwz_seg seg[2];
	char path[] = "/dev/shm/mmvm-test-blk-XXXXXX";
	int fd = mkstemp(path), dfd;

	if (fd < 0) {
		fprintf(stderr, "test_dwz_fallback: no /dev/shm, skipped\n");
		return;
	}
	/* The by-hand path through an O_DIRECT fd where tmpfs has them
	 * (Linux 6.6 and later; buffered otherwise). tmpfs does not check
	 * alignment, so this does not prove the zeroes' alignment. */
	dfd = open(path, O_RDWR | O_DIRECT);
	unlink(path);
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(pwrite(fd, buf, sizeof(buf), 0), sizeof(buf));
	if (img_fd >= 0) {
		blk_backend_destroy(&be);
		close(img_fd);
	}
	img_fd = dfd >= 0 ? dfd : fd;
	CHECK_EQ(blk_backend_init(&be, img_fd, CAP_SECTORS, false, dfd >= 0,
				  0), 0);
	seg[0] = (struct virtio_blk_dwz_seg){ 1, 200, 0 };	/* by hand */
	seg[1] = (struct virtio_blk_dwz_seg){ 1000, 24,
					      VIRTIO_BLK_DWZ_F_UNMAP };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_OK);
	seg[0] = (struct virtio_blk_dwz_seg){ 1500, 3, 0 };	/* unaligned */
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_OK);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, 512, 0xaa));
	CHECK(all(buf + 512, 200 * 512, 0));
	CHECK(all(buf + 201 * 512, 799 * 512, 0xaa));
	CHECK(all(buf + 1000 * 512, 24 * 512, 0));
	CHECK(all(buf + 1024 * 512, 476 * 512, 0xaa));
	CHECK(all(buf + 1500 * 512, 3 * 512, 0));
	CHECK(all(buf + 1503 * 512, (CAP_SECTORS - 1503) * 512, 0xaa));
	CHECK_EQ(be.stats.io_errors, 0);
	if (dfd >= 0)
		close(fd);
}

/* Hostile segments beyond test_discard_write_zeroes: empty segments,
 * the last sector, sums that wrap, every reserved flag, the segment
 * limit exactly, segments split across descriptors. */
static void test_dwz_edges(void)
{
	static uint8_t buf[CAP_SECTORS * 512];
	struct virtio_blk_dwz_seg seg[BLK_DWZ_MAX_SEGS];
	uint64_t bad;

	open_image(false, false);
	fill_image();
	bad = be.stats.bad_requests;
	/* Empty segments, at the end too, are fine and do nothing. */
	seg[0] = (struct virtio_blk_dwz_seg){ 5, 0, 0 };
	seg[1] = (struct virtio_blk_dwz_seg){ CAP_SECTORS, 0, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_OK);
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 2), VIRTIO_BLK_S_OK);
	/* ... but not past the end. */
	seg[0] = (struct virtio_blk_dwz_seg){ CAP_SECTORS + 1, 0, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	/* sector * 512 and sector + n would wrap. */
	seg[0] = (struct virtio_blk_dwz_seg){ 1ULL << 55, 1, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
	seg[0] = (struct virtio_blk_dwz_seg){ UINT64_MAX, UINT32_MAX, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
	seg[0] = (struct virtio_blk_dwz_seg){ 1, CAP_SECTORS, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.stats.bad_requests - bad, 4);
	/* Every reserved flag bit, on both types, is UNSUPP. */
	for (unsigned int bit = 1; bit < 32; bit++) {
		seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 1u << bit };
		CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1),
			 VIRTIO_BLK_S_UNSUPP);
		seg[0].flags |= VIRTIO_BLK_DWZ_F_UNMAP;
		CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1),
			 VIRTIO_BLK_S_UNSUPP);
		seg[0].flags = 1u << bit;
		CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1),
			 VIRTIO_BLK_S_UNSUPP);
	}
	/* A reserved flag in the last segment: the first is not done. */
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 0 };
	seg[1] = (struct virtio_blk_dwz_seg){ 16, 8, 4 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0xaa));
	CHECK_EQ(be.stats.write_zeroes, 1);	/* the empty segments */
	CHECK_EQ(be.stats.discards, 1);

	/* Exactly max_write_zeroes_seg segments, of max sectors where the
	 * disk allows (it is smaller than one segment may be). */
	for (unsigned int i = 0; i < BLK_DWZ_MAX_SEGS; i++)
		seg[i] = (struct virtio_blk_dwz_seg){ i * 256, 128, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, BLK_DWZ_MAX_SEGS),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	for (unsigned int i = 0; i < BLK_DWZ_MAX_SEGS; i++) {
		CHECK(all(buf + i * 256 * 512, 128 * 512, 0));
		CHECK(all(buf + (i * 256 + 128) * 512, 128 * 512, 0xaa));
	}

	/* Segments torn across descriptors, the header sharing one with
	 * the first bytes, and spare writable bytes before the status:
	 * only the status is written. */
	fill_image();
	{
		uint8_t out[VIRTIO_BLK_HDR_BYTES + 2 * sizeof(seg[0])];
		struct hdr h = { VIRTIO_BLK_T_WRITE_ZEROES, 0, 12345 };
		uint8_t in[4] = { 0xee, 0xee, 0xee, 0xee };

		seg[0] = (struct virtio_blk_dwz_seg){ 8, 8, 0 };
		seg[1] = (struct virtio_blk_dwz_seg){ 2040, 8, 1 };
		memcpy(out, &h, sizeof(h));
		memcpy(out + sizeof(h), seg, 2 * sizeof(seg[0]));
		chain_reset();
		add(out, 20, false);
		add(out + 20, 7, false);
		add(out + 27, sizeof(out) - 27, false);
		add(in, 3, true);
		add(in + 3, 1, true);
		CHECK_EQ(blk_handle_request(&be, &chain), 1);
		CHECK_EQ(in[3], VIRTIO_BLK_S_OK);
		CHECK(all(in, 3, 0xee));
	}
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, 8 * 512, 0xaa));
	CHECK(all(buf + 8 * 512, 8 * 512, 0));
	CHECK(all(buf + 16 * 512, 2024 * 512, 0xaa));
	CHECK(all(buf + 2040 * 512, 8 * 512, 0));

	/* Read-only (with a driver claiming features it was not offered):
	 * IOERR for both, counted as bad requests, image untouched. */
	open_image(true, false);
	blk_backend_set_features(&be, (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	fill_image();
	seg[0] = (struct virtio_blk_dwz_seg){ 0, 8, 0 };
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, seg, 1), VIRTIO_BLK_S_IOERR);
	seg[0].flags = VIRTIO_BLK_DWZ_F_UNMAP;
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 1), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.stats.bad_requests, 2);
	CHECK_EQ(be.stats.discards + be.stats.write_zeroes, 0);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0xaa));
}

/* A flush whose fdatasync fails (here: the fd is a pipe, EINVAL) latches
 * the disk: every later flush fails, on this queue and on another that
 * shares the disk, though the fd is fine again; reads and writes go on.
 * The exit flush fails too. */
static void test_flush_error_latch(void)
{
	struct hdr h = { VIRTIO_BLK_T_FLUSH, 0, 0 };
	struct blk_disk_state disk;
	struct blk_backend other;
	uint8_t status;
	int pfd[2];

	open_image(false, false);
	blk_disk_init(&disk, "test.img");
	CHECK(blk_backend_init(&other, img_fd, CAP_SECTORS, false, false,
			       4) == 0);
	blk_backend_share(&be, &disk);
	blk_backend_share(&other, &disk);
	CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	CHECK(!blk_backend_write_error(&be));
	CHECK_EQ(pipe(pfd), 0);
	be.fd = pfd[0];
	CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_IOERR);
	be.fd = img_fd;
	CHECK(blk_backend_write_error(&be));
	CHECK(blk_backend_write_error(&other));
	for (int i = 0; i < 5; i++)
		CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.stats.flushes, 7);
	CHECK_EQ(be.stats.flush_errors, 6);
	/* The other queue. */
	status = 0xff;
	chain_reset();
	add(&h, sizeof(h), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&other, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(other.stats.flush_errors, 1);
	/* Data still moves. */
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_backend_flush_at_exit(&other), -EIO);
	blk_backend_destroy(&other);
	close(pfd[0]);
	close(pfd[1]);

	/* A disk without errors is synced at exit. */
	open_image(false, false);
	CHECK_EQ(blk_backend_flush_at_exit(&be), 0);
	CHECK(!blk_backend_write_error(&be));
}

/* Two queues flush at once and a write-back error is pending: Linux
 * reports it to one fdatasync() (queue A's), and the other's (B's),
 * finding it already reported, says OK. B's flush must not complete OK
 * before A has latched the error, or B acknowledges lost data. The
 * stand-in kernel holds A's fdatasync() until B's flush has completed (or
 * 300 ms), then fails it. */
static int race_calls, race_a_inside, race_b_done;
static uint8_t race_b_status;

static int racing_datasync(int fd)
{
	(void)fd;
	if (__atomic_fetch_add(&race_calls, 1, __ATOMIC_SEQ_CST) == 0) {
		__atomic_store_n(&race_a_inside, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 300 &&
		     !__atomic_load_n(&race_b_done, __ATOMIC_SEQ_CST); i++)
			usleep(1000);
		errno = EIO;
		return -1;
	}
	return 0;	/* the error went to A */
}

static void *race_queue_b(void *arg)
{
	static struct hdr h = { VIRTIO_BLK_T_FLUSH, 0, 0 };
	static struct virtq_chain c;

	while (!__atomic_load_n(&race_a_inside, __ATOMIC_SEQ_CST))
		usleep(100);
	c.iov[0] = (struct iovec){ &h, sizeof(h) };
	c.iov[1] = (struct iovec){ &race_b_status, 1 };
	c.nr_out = c.nr_in = 1;
	c.out_len = sizeof(h);
	c.in_len = 1;
	blk_handle_request(arg, &c);
	__atomic_store_n(&race_b_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_flush_race(void)
{
	struct blk_disk_state disk;
	struct blk_backend other;
	pthread_t t;

	open_image(false, false);
	blk_disk_init(&disk, "race.img");
	CHECK(blk_backend_init(&other, img_fd, CAP_SECTORS, false, false,
			       4) == 0);
	blk_backend_share(&be, &disk);
	blk_backend_share(&other, &disk);
	race_b_status = 0xff;
	fake_datasync = racing_datasync;
	CHECK_EQ(pthread_create(&t, NULL, race_queue_b, &other), 0);
	CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(pthread_join(t, NULL), 0);
	fake_datasync = NULL;
	CHECK_EQ(race_calls, 1);	/* B found the latch: no fdatasync */
	CHECK_EQ(race_b_status, VIRTIO_BLK_S_IOERR);
	CHECK(blk_backend_write_error(&other));
	blk_backend_destroy(&other);
	open_image(false, false);	/* be off the stack's disk */
}

/* No FLUSH accepted: writes are write-through (counted) and a failing
 * one latches the disk like a failed flush; with FLUSH, write-back. */
static void test_write_through(bool direct)
{
	static uint8_t file[4096];
	int pfd[2];

	open_image(false, direct);
	blk_backend_set_features(&be, (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 8, 4096), VIRTIO_BLK_S_OK);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 16, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.stats.writes, 2);
	CHECK_EQ(be.stats.writes_through, 2);
	CHECK_EQ(pread(img_fd, file, sizeof(file), 8 * 512), sizeof(file));
	CHECK(!blk_backend_write_error(&be));

	CHECK_EQ(pipe(pfd), 0);
	be.fd = pfd[1];	/* a write that fails (ESPIPE) */
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 8, 512), VIRTIO_BLK_S_IOERR);
	be.fd = img_fd;
	CHECK(blk_backend_write_error(&be));
	CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(be.stats.writes_through, 2);
	close(pfd[0]);
	close(pfd[1]);

	/* FLUSH accepted: write-back, nothing counted. */
	open_image(false, direct);
	blk_backend_set_features(&be, (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 8, 4096), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.stats.writes_through, 0);
	/* Reset: no features at all, so write-through again. */
	blk_backend_set_features(&be, 0);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 8, 4096), VIRTIO_BLK_S_OK);
	CHECK_EQ(be.stats.writes_through, 1);
}

static void test_write_through_buffered(void)
{
	test_write_through(false);
}

static void test_write_through_direct(void)
{
	test_write_through(true);
}

/* DISCARD / WRITE_ZEROES the driver did not accept: UNSUPP, counted as
 * unsupported, the image untouched. */
static void test_dwz_not_negotiated(void)
{
	static uint8_t buf[CAP_SECTORS * 512];
	struct virtio_blk_dwz_seg seg = { 0, 8, 0 };

	open_image(false, false);
	fill_image();
	blk_backend_set_features(&be, 1ULL << VIRTIO_BLK_F_FLUSH);
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(be.stats.unsupported, 2);
	CHECK_EQ(be.stats.discards + be.stats.write_zeroes, 0);
	CHECK_EQ(pread(img_fd, buf, sizeof(buf), 0), sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0xaa));
	/* One of the two accepted: that one served. */
	blk_backend_set_features(&be, (1ULL << VIRTIO_BLK_F_FLUSH) |
				 (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_OK);
	CHECK_EQ(dwz(VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(be.stats.write_zeroes, 1);
	/* Write-through write zeroes: made stable, counted as written. */
	blk_backend_set_features(&be, 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_OK);
	CHECK(!blk_backend_write_error(&be));
}

/* ,direct on 4 KiB logical blocks: blk_size 4096 in config space, the
 * capacity a whole number of blocks (in 512-byte sectors still), a
 * request off the blocks refused before it reaches the host. */
static void test_block_size(void)
{
	static uint8_t data[8192], back[8192];
	struct virtio_blk_config c;
	struct hdr h = { VIRTIO_BLK_T_OUT, 0, 8 };
	uint8_t status = 0xff;

	open_image(false, true);
	CHECK_EQ(blk_backend_set_block_size(&be, 1000), -EINVAL);
	CHECK_EQ(blk_backend_set_block_size(&be, 256), -EINVAL);
	CHECK_EQ(blk_backend_set_block_size(&be, 8192), -EINVAL);
	CHECK_EQ(be.block_size, 512);
	be.capacity = CAP_SECTORS - 3;	/* a partial last block */
	CHECK_EQ(blk_backend_set_block_size(&be, 4096), 0);
	CHECK_EQ(be.capacity, CAP_SECTORS - 8);
	memset(&c, 0, sizeof(c));
	blk_backend_fill_config(&be, &c);
	CHECK_EQ(c.blk_size, 4096);
	CHECK_EQ(c.capacity, CAP_SECTORS - 8);

	fill(data, sizeof(data), 5);
	chain_reset();
	add(&h, sizeof(h), false);
	add(data, 100, false);
	add(data + 100, sizeof(data) - 100, false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	h.type = VIRTIO_BLK_T_IN;
	chain_reset();
	add(&h, sizeof(h), false);
	add(back, 3, true);
	add(back + 3, sizeof(back) - 3, true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), sizeof(back) + 1);
	CHECK_EQ(status, VIRTIO_BLK_S_OK);
	CHECK(!memcmp(back, data, sizeof(data)));
	/* Off the 4 KiB grid: offset, then length. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 9, 4096), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 8, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 1, 512), VIRTIO_BLK_S_IOERR);
	CHECK(!blk_backend_write_error(&be));
}

/* What is work for polling (chain.refused clear): a read or write that
 * moved data, a flush, a discard or write zeroes done. A request that
 * costs the host nothing a window should wait for is refused, whatever
 * its status: else a guest trickling them holds a worker's window open
 * (issue 26) with an unknown type, a 0-byte read, GET_ID, a feature it
 * did not negotiate or a request off the ,direct block grid. */
static void test_work_for_polling(void)
{
	struct virtio_blk_dwz_seg seg = { .sector = 0, .num_sectors = 8 };
	struct hdr h = { 42, 0, 0 };
	uint8_t status = 0xff, id[20];

	open_image(false, false);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	CHECK(!chain.refused);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_OK);
	CHECK(!chain.refused);
	CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	CHECK(!chain.refused);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1), VIRTIO_BLK_S_OK);
	CHECK(!chain.refused);

	/* Unknown type: UNSUPP, no work. */
	chain_reset();
	add(&h, sizeof(h), false);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 1);
	CHECK_EQ(status, VIRTIO_BLK_S_UNSUPP);
	CHECK(chain.refused);
	/* 0 bytes read or written: OK, nothing moved. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 5, 0), VIRTIO_BLK_S_OK);
	CHECK(chain.refused);
	CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 5, 0), VIRTIO_BLK_S_OK);
	CHECK(chain.refused);
	/* GET_ID: 20 bytes of our own. */
	h.type = VIRTIO_BLK_T_GET_ID;
	chain_reset();
	add(&h, sizeof(h), false);
	add(id, sizeof(id), true);
	add(&status, 1, true);
	CHECK_EQ(blk_handle_request(&be, &chain), 21);
	CHECK(chain.refused);
	/* Malformed: out of range, no header. */
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, CAP_SECTORS, 512), VIRTIO_BLK_S_IOERR);
	CHECK(chain.refused);
	chain_reset();
	add(&status, 1, true);
	blk_handle_request(&be, &chain);
	CHECK(chain.refused);
	/* Write zeroes the driver did not accept: UNSUPP. */
	blk_backend_set_features(&be, 1ULL << VIRTIO_BLK_F_FLUSH);
	CHECK_EQ(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(chain.refused);

	/* ,direct on 4 KiB blocks: a request off the grid is refused
	 * before it reaches the host, and is no work either. */
	open_image(false, true);
	CHECK_EQ(blk_backend_set_block_size(&be, 4096), 0);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 8, 4096), VIRTIO_BLK_S_OK);
	CHECK(!chain.refused);
	CHECK_EQ(rw(VIRTIO_BLK_T_IN, 1, 512), VIRTIO_BLK_S_IOERR);
	CHECK(chain.refused);
}

/* The device over a file: kept reachable, never freed (there is no
 * destructor: a disk lives as long as mmvm). */
static struct virtio_device_spec specs[8];
static unsigned int nr_specs;

static int make_disk(const char *path, bool ro, bool no_lock)
{
	struct disk_config dc = { .path = path, .read_only = ro,
				  .no_lock = no_lock, .queues = 2 };

	if (nr_specs >= 8)
		return -1;
	if (virtio_blk_new(&dc, 0, 1, &specs[nr_specs]))
		return -1;
	nr_specs++;
	return 0;
}

/* OFD locks: one writer, or any number of readers; lock=off passes;
 * the exit flush of a writable disk succeeds and is counted. */
static void test_image_lock(void)
{
	char path[] = "/tmp/mmvm-test-blk-XXXXXX";
	char path2[] = "/tmp/mmvm-test-blk-XXXXXX";
	int fd = mkstemp(path), fd2 = mkstemp(path2);
	const struct virtio_device_spec *first;

	CHECK(fd >= 0 && fd2 >= 0);
	CHECK_EQ(ftruncate(fd, 1 << 20), 0);
	CHECK_EQ(ftruncate(fd2, 1 << 20), 0);
	CHECK_EQ(make_disk(path, false, false), 0);
	first = &specs[nr_specs - 1];
	CHECK_EQ(make_disk(path, false, false), -1);
	CHECK_EQ(make_disk(path, true, false), -1);
	CHECK_EQ(make_disk(path, false, true), 0);
	CHECK(first->ops->shutdown != NULL);
	CHECK_EQ(first->ops->shutdown(first->dev, "blk0"), 0);

	CHECK_EQ(make_disk(path2, true, false), 0);
	CHECK_EQ(make_disk(path2, true, false), 0);
	CHECK_EQ(make_disk(path2, false, false), -1);
	/* Read-only: nothing to flush at exit. */
	CHECK_EQ(specs[nr_specs - 1].ops->shutdown(specs[nr_specs - 1].dev,
						   "blk1"), 0);
	close(fd);
	close(fd2);
	unlink(path);
	unlink(path2);
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
	RUN(test_dwz_features_config);
	RUN(test_dwz_blocks_buffered);
	RUN(test_dwz_blocks_direct);
	RUN(test_dwz_fallback);
	RUN(test_dwz_edges);
	RUN(test_flush_error_latch);
	RUN(test_flush_race);
	RUN(test_write_through_buffered);
	RUN(test_write_through_direct);
	RUN(test_dwz_not_negotiated);
	RUN(test_block_size);
	RUN(test_work_for_polling);
	RUN(test_image_lock);
	RUN(test_rng_fill);
	blk_backend_destroy(&be);
	return unit_finish("test_blk_req");
}
