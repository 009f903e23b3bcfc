/* blkzero DEV OFFSET LEN [unmap]: zeroes LEN bytes at OFFSET of a block
 * device, for the guest test blk_discard.sh (busybox has blkdiscard but
 * no way to write zeroes). Without "unmap": the BLKZEROOUT ioctl, which
 * Linux sends as REQ_OP_WRITE_ZEROES with REQ_NOUNMAP (virtio-blk
 * VIRTIO_BLK_T_WRITE_ZEROES, flags 0). With "unmap":
 * fallocate(PUNCH_HOLE | KEEP_SIZE) on the device, a write zeroes that
 * may unmap (flags VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) and never falls
 * back to writing. Built static by tests/integration/test_blk_discard.sh
 * and put in its initramfs with --add. Exit 0, or 1 after a message. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t range[2];
	bool unmap;
	int fd, ret;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "unmap"))) {
		fprintf(stderr, "usage: blkzero DEV OFFSET LEN [unmap]\n");
		return 1;
	}
	unmap = argc == 5;
	range[0] = strtoull(argv[2], NULL, 0);
	range[1] = strtoull(argv[3], NULL, 0);
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "blkzero: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (unmap)
		ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)range[0], (off_t)range[1]);
	else
		ret = ioctl(fd, BLKZEROOUT, range);
	if (ret < 0) {
		fprintf(stderr, "blkzero: %s: %s\n",
			unmap ? "fallocate(PUNCH_HOLE)" : "BLKZEROOUT",
			strerror(errno));
		return 1;
	}
	return close(fd) < 0;
}
