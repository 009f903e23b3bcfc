/* The on-disk log of device-mapper's log-writes target
 * (Documentation/admin-guide/device-mapper/log-writes.rst), read with every
 * field checked. Header-only so that tools/logreplay.c (built by its test
 * script, outside src/) and the libFuzzer target tests/fuzz/fuzz_logwrites.c
 * share one parser.
 *
 * Layout, all little-endian, in blocks of the log's sector size S (the
 * logical block size of the logged device):
 *   block 0: super block  { u64 magic, u64 version, u64 nr_entries,
 *                           u32 sectorsize }
 *   then nr_entries entries, each a header block
 *            { u64 sector, u64 nr_sectors, u64 flags, u64 data_len }
 *   followed by nr_sectors blocks of data for a write; a discard, an empty
 *   flush and a mark have none. A mark's name (data_len bytes, no NUL)
 *   sits in its header block right after the 32 header bytes. sector and
 *   nr_sectors count S-byte sectors of the logged device.
 *
 * The target writes a write's entry only once a flush has covered it (or
 * at once for FUA), so the entries before a FLUSH entry are what the
 * device held when that flush completed. nr_entries is only rewritten on
 * FUA and mark entries (and the target logs a mark when it is removed), so
 * entries past it are ignored: they were never promised.
 *
 * Errors are one line (no newline) in the caller's buffer; nothing here
 * allocates, and every size is checked before it is added or multiplied. */
#ifndef MMVM_TOOLS_LOGWRITES_H
#define MMVM_TOOLS_LOGWRITES_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LW_MAGIC 0x6a736677736872ULL
#define LW_VERSION 1
#define LW_FLUSH 1u
#define LW_FUA 2u
#define LW_DISCARD 4u
#define LW_MARK 8u
/* REQ_META: newer kernels (5.x on) tag metadata writes; replay ignores it. */
#define LW_METADATA 16u
#define LW_KNOWN_FLAGS (LW_FLUSH | LW_FUA | LW_DISCARD | LW_MARK | LW_METADATA)
#define LW_SUPER_BYTES 28	/* what the super block's fields occupy */
#define LW_ENTRY_BYTES 32	/* what an entry header's fields occupy */
#define LW_MIN_SECTOR 512
/* Linux caps a logical block size at the page size; 64 KiB covers every
 * architecture's pages and bounds the header buffer a reader needs. */
#define LW_MAX_SECTOR 65536

struct lw_log {
	uint64_t size;		/* bytes of the log file or device */
	uint64_t nr_entries;
	uint32_t sectorsize;
};

struct lw_entry {
	uint64_t index;		/* 0-based, in log order */
	uint64_t offset;	/* byte offset of its header in the log */
	uint64_t sector, nr_sectors, flags, data_len;
	uint64_t data_offset;	/* byte offset of its data in the log */
	uint64_t data_bytes;	/* write data that follows the header */
	uint64_t next_offset;	/* where the next entry's header starts */
	char mark[LW_MAX_SECTOR - LW_ENTRY_BYTES + 1];	/* NUL-ended */
};

/* Reads len bytes at off of the log; 0, or -1 with errno set (0 for a
 * short read: the log ended early). */
typedef int (*lw_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

static inline uint64_t lw_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint32_t lw_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline int lw_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int lw_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Names of the flags set, "|"-separated, or "-" for none (a plain write). */
static inline const char *lw_flag_names(uint64_t flags, char *buf, size_t len)
{
	static const char *const names[] = { "FLUSH", "FUA", "DISCARD",
					     "MARK", "METADATA" };
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		int n = snprintf(buf + at, len - at, "%s%s", at ? "|" : "",
				 names[i]);
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
	}
	if (!at)
		snprintf(buf, len, "-");
	return buf;
}

/* Checks the super block (the first LW_SUPER_BYTES of the log, in sb)
 * against a log of log_size bytes. */
static inline int lw_parse_super(const uint8_t *sb, uint64_t log_size,
				 struct lw_log *log, char *err, size_t errlen)
{
	uint64_t magic = lw_le64(sb), version = lw_le64(sb + 8);
	uint64_t blocks;

	if (magic != LW_MAGIC)
		return lw_err(err, errlen,
			      "bad magic 0x%" PRIx64 " (want 0x%llx): not a log-writes log",
			      magic, LW_MAGIC);
	if (version != LW_VERSION)
		return lw_err(err, errlen, "unsupported log version %" PRIu64
			      " (want %d)", version, LW_VERSION);
	log->size = log_size;
	log->nr_entries = lw_le64(sb + 16);
	log->sectorsize = lw_le32(sb + 24);
	if (log->sectorsize < LW_MIN_SECTOR ||
	    log->sectorsize > LW_MAX_SECTOR ||
	    (log->sectorsize & (log->sectorsize - 1)))
		return lw_err(err, errlen, "bad sector size %" PRIu32
			      " (want a power of two, %d to %d)",
			      log->sectorsize, LW_MIN_SECTOR, LW_MAX_SECTOR);
	/* Every entry takes at least its header block: a count the log
	 * cannot hold is a lie (or a truncated copy), said up front. */
	blocks = log_size / log->sectorsize;
	if (blocks < 1 || log->nr_entries > blocks - 1)
		return lw_err(err, errlen, "super block claims %" PRIu64
			      " entries but a log of %" PRIu64
			      " bytes holds at most %" PRIu64 " (truncated?)",
			      log->nr_entries, log_size, blocks ? blocks - 1 : 0);
	return 0;
}

/* Checks the header block hdr (sectorsize bytes at e->offset) of entry
 * e->index and fills in the rest of e. */
static inline int lw_parse_entry(const struct lw_log *log, const uint8_t *hdr,
				 struct lw_entry *e, char *err, size_t errlen)
{
	uint64_t ss = log->sectorsize, left;
	uint64_t i = e->index;

	e->sector = lw_le64(hdr);
	e->nr_sectors = lw_le64(hdr + 8);
	e->flags = lw_le64(hdr + 16);
	e->data_len = lw_le64(hdr + 24);
	e->mark[0] = '\0';
	e->data_offset = e->offset + ss;
	e->data_bytes = 0;

	if (e->flags & ~(uint64_t)LW_KNOWN_FLAGS)
		return lw_err(err, errlen, "entry %" PRIu64 ": unknown flags 0x%"
			      PRIx64, i, e->flags);
	if (e->flags & LW_MARK) {
		if (e->flags != LW_MARK || e->nr_sectors || e->sector)
			return lw_err(err, errlen, "entry %" PRIu64
				      ": a mark with flags 0x%" PRIx64
				      ", sector %" PRIu64 ", %" PRIu64
				      " sectors (want 0x8, 0, 0)", i, e->flags,
				      e->sector, e->nr_sectors);
		if (e->data_len > ss - LW_ENTRY_BYTES)
			return lw_err(err, errlen, "entry %" PRIu64
				      ": mark of %" PRIu64 " bytes does not fit"
				      " its %" PRIu64 "-byte header block", i,
				      e->data_len, ss);
		memcpy(e->mark, hdr + LW_ENTRY_BYTES, (size_t)e->data_len);
		e->mark[e->data_len] = '\0';
		if (strlen(e->mark) != e->data_len)
			return lw_err(err, errlen, "entry %" PRIu64
				      ": mark name holds a NUL byte", i);
	} else if (e->data_len) {
		/* Only marks carry inline data (a DAX-era format had more). */
		return lw_err(err, errlen, "entry %" PRIu64 ": data_len %" PRIu64
			      " on a non-mark entry (inline data is not supported)",
			      i, e->data_len);
	} else if (e->flags & LW_DISCARD) {
		if (e->flags & (LW_FLUSH | LW_FUA) || !e->nr_sectors)
			return lw_err(err, errlen, "entry %" PRIu64
				      ": a discard with flags 0x%" PRIx64 " and %"
				      PRIu64 " sectors", i, e->flags,
				      e->nr_sectors);
	} else if (!e->nr_sectors && !(e->flags & LW_FLUSH)) {
		return lw_err(err, errlen, "entry %" PRIu64
			      ": a write of 0 sectors that is not a flush", i);
	} else {
		if (e->nr_sectors > (UINT64_MAX - e->offset - ss) / ss)
			return lw_err(err, errlen, "entry %" PRIu64 ": %" PRIu64
				      " sectors overflow", i, e->nr_sectors);
		e->data_bytes = e->nr_sectors * ss;
	}
	/* Written or discarded sectors must be addressable in bytes. */
	if (e->nr_sectors > UINT64_MAX / ss ||
	    e->sector > UINT64_MAX / ss - e->nr_sectors)
		return lw_err(err, errlen, "entry %" PRIu64 ": sectors %" PRIu64
			      "+%" PRIu64 " overflow", i, e->sector,
			      e->nr_sectors);
	left = log->size - e->data_offset;
	if (e->data_bytes > left)
		return lw_err(err, errlen, "entry %" PRIu64 ": its %" PRIu64
			      " data bytes at byte %" PRIu64 " run past the end"
			      " of the %" PRIu64 "-byte log (truncated?)", i,
			      e->data_bytes, e->data_offset, log->size);
	e->next_offset = e->data_offset + e->data_bytes;
	return 0;
}

/* Reads and checks the super block of a log of log_size bytes. */
static inline int lw_open(lw_read_fn rd, void *ctx, uint64_t log_size,
			  struct lw_log *log, char *err, size_t errlen)
{
	uint8_t sb[LW_SUPER_BYTES];

	if (log_size < LW_MIN_SECTOR)
		return lw_err(err, errlen, "%" PRIu64 " bytes: too short for a"
			      " log-writes super block", log_size);
	if (rd(ctx, 0, sb, sizeof(sb)))
		return lw_err(err, errlen, "cannot read the super block: %s",
			      errno ? strerror(errno) : "short read");
	return lw_parse_super(sb, log_size, log, err, errlen);
}

/* A position in the log: the next entry to read. */
struct lw_cursor {
	uint64_t index, offset;
	uint8_t hdr[LW_MAX_SECTOR];
};

static inline void lw_start(const struct lw_log *log, struct lw_cursor *c)
{
	c->index = 0;
	c->offset = log->sectorsize;	/* past the super block */
}

/* The next entry into e: 1, 0 at the end (nr_entries read), -1 on error. */
static inline int lw_next(const struct lw_log *log, lw_read_fn rd, void *ctx,
			  struct lw_cursor *c, struct lw_entry *e, char *err,
			  size_t errlen)
{
	if (c->index >= log->nr_entries)
		return 0;
	if (c->offset > log->size || log->size - c->offset < log->sectorsize)
		return lw_err(err, errlen, "entry %" PRIu64 ": its header at byte %"
			      PRIu64 " runs past the end of the %" PRIu64
			      "-byte log (truncated?)", c->index, c->offset,
			      log->size);
	if (rd(ctx, c->offset, c->hdr, log->sectorsize))
		return lw_err(err, errlen, "entry %" PRIu64
			      ": cannot read its header at byte %" PRIu64 ": %s",
			      c->index, c->offset,
			      errno ? strerror(errno) : "short read");
	e->index = c->index;
	e->offset = c->offset;
	if (lw_parse_entry(log, c->hdr, e, err, errlen))
		return -1;
	c->index++;
	c->offset = e->next_offset;
	return 1;
}

/* Does the write or discard of e fit a device of dev_bytes bytes? */
static inline int lw_fits(const struct lw_log *log, const struct lw_entry *e,
			  uint64_t dev_bytes, char *err, size_t errlen)
{
	uint64_t end = (e->sector + e->nr_sectors) * log->sectorsize;

	if (end > dev_bytes)
		return lw_err(err, errlen, "entry %" PRIu64 ": sectors %" PRIu64
			      "..%" PRIu64 " end at byte %" PRIu64
			      ", past the %" PRIu64 "-byte target", e->index,
			      e->sector, e->sector + e->nr_sectors, end,
			      dev_bytes);
	return 0;
}

#endif
