/* crashrec: the records of the crash-consistency test (guest test
 * blk_crash.sh, host test tests/integration/test_blk_crash.sh). One
 * source for both ends so that the writer and the checker cannot
 * disagree on the format.
 *
 *   crashrec append FILE K   (guest) writes record K at (K-1) * 4096 of
 *                            FILE (created if need be), fsync()s it (and
 *                            FILE's directory for K = 1, which holds its
 *                            name), then prints "MMVM-CRASH acked K"; that
 *                            line means the kernel said K is durable.
 *   crashrec check FILE      (host) prints "intact=K1,K2,... records=N"
 *                            for the N 4096-byte blocks of a copy of FILE:
 *                            the record numbers whose block is whole.
 *
 * A record: "MMVM-REC", le32 K, le32 ~K, then bytes that depend on K and
 * their offset, then the le64 FNV-1a hash of all that: a block of zeroes,
 * another record, a stale block or a torn write never passes as K.
 * Built static by the host test and put in the guest's initramfs with
 * build-initramfs.sh --add. Exit 0, or 1 after a one-line message. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC_SIZE 4096
#define REC_MAGIC "MMVM-REC"
#define REC_MAX 1000000u

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void make_record(uint32_t k, uint8_t *rec)
{
	memcpy(rec, REC_MAGIC, 8);
	put_le(rec + 8, k, 4);
	put_le(rec + 12, ~k, 4);
	for (size_t i = 16; i < REC_SIZE - 8; i++)
		rec[i] = (uint8_t)(k * 131u + i * 7u + (i >> 8));
	put_le(rec + REC_SIZE - 8, fnv1a(rec, REC_SIZE - 8), 8);
}

static int fsync_path_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static int append(const char *path, uint32_t k)
{
	static uint8_t rec[REC_SIZE];
	off_t at = (off_t)(k - 1) * REC_SIZE;
	int fd;

	make_record(k, rec);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		fprintf(stderr, "crashrec: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (pwrite(fd, rec, REC_SIZE, at) != REC_SIZE) {
		fprintf(stderr, "crashrec: %s: writing record %u: %s\n", path,
			k, strerror(errno));
		close(fd);
		return 1;
	}
	/* fsync, not fdatasync: the size that makes the record part of
	 * the file is metadata. */
	if (fsync(fd) || (k == 1 && fsync_path_dir(path))) {
		fprintf(stderr, "crashrec: %s: fsync after record %u: %s\n",
			path, k, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("MMVM-CRASH acked %u\n", k);
	fflush(stdout);
	return 0;
}

static int check(const char *path)
{
	static uint8_t blk[REC_SIZE], want[REC_SIZE];
	uint32_t n = 0;
	bool first = true;
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f) {
		fprintf(stderr, "crashrec: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("intact=");
	/* A short last block (a torn extension of the size) is counted, and
	 * never intact. */
	while ((got = fread(blk, 1, REC_SIZE, f)) > 0 && n < REC_MAX) {
		n++;
		make_record(n, want);
		if (got == REC_SIZE && !memcmp(blk, want, REC_SIZE)) {
			printf("%s%u", first ? "" : ",", n);
			first = false;
		}
	}
	printf(" records=%u\n", n);
	if (ferror(f)) {
		fprintf(stderr, "crashrec: %s: read error\n", path);
		fclose(f);
		return 1;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long k;

	if (argc == 4 && !strcmp(argv[1], "append")) {
		errno = 0;
		k = strtoul(argv[3], &end, 10);
		if (errno || *end || k < 1 || k > REC_MAX) {
			fprintf(stderr, "crashrec: record number 1..%u, not '%s'\n",
				REC_MAX, argv[3]);
			return 1;
		}
		return append(argv[2], (uint32_t)k);
	}
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	fprintf(stderr, "usage: crashrec append FILE K | crashrec check FILE\n");
	return 1;
}
