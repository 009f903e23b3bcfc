/*
 * blkread: 4 KiB random reads at queue depth 1 from a block device, with
 * O_DIRECT so that every read reaches the (virtio-blk) device instead of
 * the guest's page cache. This is fio's "randread, bs=4k, iodepth=1,
 * direct=1" without fio's shared libraries, which the guest initramfs does
 * not have.
 *
 *   blkread DEVICE SECONDS
 *
 * Machine-readable result line:
 *   BLK reads=<n> secs=<s> iops=<reads/s> lat_us=<mean latency>
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: the offsets only need to defeat any read-ahead or caching
 * in the VMM's backing file, not to be cryptographic. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int main(int argc, char **argv)
{
	uint64_t size, blocks, state = 0x9e3779b97f4a7c15ULL, reads = 0;
	unsigned long secs;
	double t0, t;
	char *end;
	void *buf;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: blkread DEVICE SECONDS\n");
		return 2;
	}
	secs = strtoul(argv[2], &end, 10);
	if (end == argv[2] || *end || secs == 0 || secs > 86400) {
		fprintf(stderr, "blkread: bad seconds '%s'\n", argv[2]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkread: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "blkread: %s: not a block device: %s\n",
			argv[1], strerror(errno));
		return 1;
	}
	blocks = size / BLOCK;
	if (blocks == 0) {
		fprintf(stderr, "blkread: %s: smaller than %d bytes\n",
			argv[1], BLOCK);
		return 1;
	}
	if (posix_memalign(&buf, BLOCK, BLOCK)) {
		fprintf(stderr, "blkread: out of memory\n");
		return 1;
	}

	t0 = now_s();
	do {
		off_t off = (off_t)(next_random(&state) % blocks) * BLOCK;
		ssize_t n = pread(fd, buf, BLOCK, off);

		if (n != BLOCK) {
			fprintf(stderr, "blkread: %s: read at %lld: %s\n",
				argv[1], (long long)off,
				n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		reads++;
		t = now_s() - t0;
	} while (t < secs);

	printf("BLK reads=%llu secs=%.3f iops=%.1f lat_us=%.1f\n",
	       (unsigned long long)reads, t, reads / t, t * 1e6 / reads);
	return 0;
}
