/* logreplay: lists and replays a device-mapper log-writes log, for the
 * crash-consistency test tests/integration/test_blk_crash.sh.
 *
 *   logreplay --list LOG
 *       one line per entry: INDEX SECTOR NR_SECTORS FLAGS [MARK], FLAGS
 *       being FLUSH, FUA, DISCARD, MARK, METADATA joined by "|", or "-";
 *       first a comment line "# N entries, sector size S, B bytes"
 *   logreplay [--from M] --replay-to N LOG TARGET
 *   logreplay [--from M] --replay-to-flush K LOG TARGET
 *   logreplay [--from M] --replay-to-mark NAME LOG TARGET
 *       writes entries M (default 0) to N (both included; or to the K-th
 *       FLUSH entry, counting from 1; or to the first mark NAME) onto
 *       TARGET, a file or block device at least as large as the logged
 *       device, which must hold what entries 0..M-1 left (zeroes for
 *       M = 0): --from lets a test step from one flush to the next
 *       without starting over. A discard zeroes its range. Prints
 *       "replayed entries M..N: W writes (B bytes), D discards, N is FLAGS".
 *
 * The log format and its checks are tools/logwrites.h: a hostile or
 * truncated log ends the run with one line on stderr
 * ("logreplay: LOG: entry 12: ..."), exit status 1; usage errors exit 2.
 * Built with cc by its test script, like tools/tcpxfer.c; written for
 * mmvm, not derived from xfstests' replay-log. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* fallocate() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logwrites.h"

#define COPY_CHUNK (1u << 20)

enum stop_kind { STOP_NONE, STOP_ENTRY, STOP_FLUSH, STOP_MARK };

struct opts {
	bool list;
	enum stop_kind stop;
	uint64_t stop_n;	/* entry index or flush ordinal */
	const char *stop_mark;
	uint64_t from;
	const char *log_path, *target_path;
};

static const char *log_name = "logreplay";
static char err[512];
static struct lw_cursor cursor;
static struct lw_entry entry;
static uint8_t chunk[COPY_CHUNK];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "logreplay: %s: ", log_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int usage(const char *why)
{
	fprintf(stderr, "logreplay: %s\n"
		"usage: logreplay --list LOG\n"
		"       logreplay [--from M] --replay-to N | --replay-to-flush K |"
		" --replay-to-mark NAME  LOG TARGET\n", why);
	return 2;
}

/* A whole decimal number, or false. */
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static int read_at(void *ctx, uint64_t off, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int write_at(int fd, uint64_t off, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Bytes of a regular file or block device; -1 with errno otherwise. */
static int size_of(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -1 : 0;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static int open_sized(const char *path, int flags, uint64_t *size)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "logreplay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (size_of(fd, size)) {
		fprintf(stderr, "logreplay: %s: %s\n", path,
			errno == EINVAL ? "not a file or block device" :
					  strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void print_entry(const struct lw_entry *e)
{
	char flags[64];

	printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %s", e->index, e->sector,
	       e->nr_sectors, lw_flag_names(e->flags, flags, sizeof(flags)));
	if (e->flags & LW_MARK) {
		/* Escaped so that a name is one field of one line. */
		putchar(' ');
		for (const unsigned char *p = (const unsigned char *)e->mark;
		     *p; p++) {
			if (*p > ' ' && *p < 0x7f && *p != '\\')
				putchar(*p);
			else
				printf("\\x%02x", *p);
		}
	}
	putchar('\n');
}

static int list(int log_fd, const struct lw_log *log)
{
	int r;

	printf("# %" PRIu64 " entries, sector size %" PRIu32 ", %" PRIu64
	       " bytes\n", log->nr_entries, log->sectorsize, log->size);
	lw_start(log, &cursor);
	while ((r = lw_next(log, read_at, &log_fd, &cursor, &entry, err,
			    sizeof(err))) > 0)
		print_entry(&entry);
	fflush(stdout);
	return r < 0 ? fail("%s", err) : 0;
}

/* Zeroes len bytes at off: a hole in a file, BLKZEROOUT on a device, and
 * written zeroes where neither works. A discarded range reads back as
 * anything; zeroes are the replay that hides nothing a file system
 * wrongly kept relying on. */
static int zero_range(int fd, uint64_t off, uint64_t len)
{
	uint64_t range[2] = { off, len };

	if (!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	if (!ioctl(fd, BLKZEROOUT, range))
		return 0;
	memset(chunk, 0, sizeof(chunk));
	while (len) {
		size_t n = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);

		if (write_at(fd, off, chunk, n))
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static int copy_data(int log_fd, const struct lw_entry *e, int tgt_fd,
		     uint64_t to)
{
	uint64_t from = e->data_offset, left = e->data_bytes;

	while (left) {
		size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);

		if (read_at(&log_fd, from, chunk, n))
			return fail("entry %" PRIu64 ": reading its data: %s",
				    e->index, errno ? strerror(errno) :
						      "short read");
		if (write_at(tgt_fd, to, chunk, n))
			return fail("entry %" PRIu64 ": writing the target: %s",
				    e->index, strerror(errno));
		from += n;
		to += n;
		left -= n;
	}
	return 0;
}

struct tally {
	uint64_t writes, bytes, discards, flushes;
};

static int apply(int log_fd, const struct lw_log *log, const struct lw_entry *e,
		 int tgt_fd, uint64_t tgt_size, struct tally *t)
{
	uint64_t at = e->sector * log->sectorsize;

	if (e->flags & LW_MARK)
		return 0;
	if (lw_fits(log, e, tgt_size, err, sizeof(err)))
		return fail("%s", err);
	if (e->flags & LW_DISCARD) {
		t->discards++;
		if (zero_range(tgt_fd, at, e->nr_sectors * log->sectorsize))
			return fail("entry %" PRIu64 ": zeroing a discard: %s",
				    e->index, strerror(errno));
		return 0;
	}
	if (e->flags & LW_FLUSH)
		t->flushes++;
	if (!e->data_bytes)
		return 0;
	t->writes++;
	t->bytes += e->data_bytes;
	return copy_data(log_fd, e, tgt_fd, at);
}

/* Is e where the replay stops? flushes counts the FLUSH entries so far. */
static bool is_stop(const struct opts *o, const struct lw_entry *e,
		    uint64_t flushes)
{
	switch (o->stop) {
	case STOP_ENTRY:
		return e->index == o->stop_n;
	case STOP_FLUSH:
		return (e->flags & LW_FLUSH) && flushes == o->stop_n;
	case STOP_MARK:
		return (e->flags & LW_MARK) && !strcmp(e->mark, o->stop_mark);
	default:
		return false;
	}
}

static int replay(int log_fd, const struct lw_log *log, const struct opts *o)
{
	struct tally t = { 0 };
	uint64_t tgt_size, flushes = 0;
	char flags[64];
	int tgt_fd, r, rc = 1;

	if (o->stop == STOP_ENTRY && o->stop_n >= log->nr_entries)
		return fail("no entry %" PRIu64 ": the log has %" PRIu64
			    " entries", o->stop_n, log->nr_entries);
	tgt_fd = open_sized(o->target_path, O_RDWR, &tgt_size);
	if (tgt_fd < 0)
		return 1;
	lw_start(log, &cursor);
	while ((r = lw_next(log, read_at, &log_fd, &cursor, &entry, err,
			    sizeof(err))) > 0) {
		flushes += !!(entry.flags & LW_FLUSH);
		/* Entries before --from are checked, not written again. */
		if (entry.index >= o->from &&
		    apply(log_fd, log, &entry, tgt_fd, tgt_size, &t))
			goto out;
		if (is_stop(o, &entry, flushes))
			break;
	}
	if (r < 0) {
		fail("%s", err);
		goto out;
	}
	if (r == 0) {
		if (o->stop == STOP_FLUSH)
			fail("no flush %" PRIu64 ": the log has %" PRIu64
			     " FLUSH entries", o->stop_n, flushes);
		else
			fail("no mark '%s' in the log", o->stop_mark);
		goto out;
	}
	if (entry.index < o->from) {
		fail("--from %" PRIu64 " is past the stop, entry %" PRIu64,
		     o->from, entry.index);
		goto out;
	}
	if (fdatasync(tgt_fd) && errno != EINVAL) {
		fprintf(stderr, "logreplay: %s: %s\n", o->target_path,
			strerror(errno));
		goto out;
	}
	printf("replayed entries %" PRIu64 "..%" PRIu64 ": %" PRIu64
	       " writes (%" PRIu64 " bytes), %" PRIu64 " discards, %" PRIu64
	       " is %s\n", o->from, entry.index, t.writes, t.bytes, t.discards,
	       entry.index, lw_flag_names(entry.flags, flags, sizeof(flags)));
	rc = 0;
out:
	close(tgt_fd);
	return rc;
}

static int set_stop(struct opts *o, enum stop_kind kind, const char *arg)
{
	if (o->stop != STOP_NONE)
		return usage("give one --replay-to* option");
	o->stop = kind;
	if (kind == STOP_MARK) {
		o->stop_mark = arg;
		return 0;
	}
	if (!parse_u64(arg, &o->stop_n) || (kind == STOP_FLUSH && !o->stop_n))
		return usage(kind == STOP_FLUSH ?
			     "--replay-to-flush wants a number from 1" :
			     "--replay-to wants an entry number from 0");
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "replay-to", required_argument, NULL, 'n' },
		{ "replay-to-flush", required_argument, NULL, 'f' },
		{ "replay-to-mark", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->list = true;
			break;
		case 'n':
		case 'f':
		case 'm':
			r = set_stop(o, c == 'n' ? STOP_ENTRY :
					c == 'f' ? STOP_FLUSH : STOP_MARK,
				     optarg);
			if (r)
				return r;
			break;
		case 's':
			if (!parse_u64(optarg, &o->from))
				return usage("--from wants an entry number");
			break;
		default:
			return usage("unknown option");
		}
	}
	if (o->list == (o->stop != STOP_NONE))
		return usage("give --list or one --replay-to* option");
	if (argc - optind != (o->list ? 1 : 2))
		return usage(o->list ? "--list takes LOG" :
				       "a replay takes LOG and TARGET");
	o->log_path = argv[optind];
	o->target_path = o->list ? NULL : argv[optind + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct lw_log log;
	uint64_t size;
	int fd, r;

	r = parse_args(argc, argv, &o);
	if (r)
		return r;
	log_name = o.log_path;
	fd = open_sized(o.log_path, O_RDONLY, &size);
	if (fd < 0)
		return 1;
	if (lw_open(read_at, &fd, size, &log, err, sizeof(err))) {
		close(fd);
		return fail("%s", err);
	}
	r = o.list ? list(fd, &log) : replay(fd, &log, &o);
	close(fd);
	return r;
}
