/* Fuzzes the log-writes log parser of the crash-consistency replay tool
 * (tests/integration/tools/logwrites.h, used by tools/logreplay.c): the
 * input is a whole log. Every entry is walked and replayed onto a small
 * in-memory device as logreplay does it; no read may leave the input, no
 * write the device, and the walk must end (each entry moves forward by
 * at least one block). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "integration/tools/logwrites.h"

#define DEV_BYTES (256u << 10)

struct mem_log {
	const uint8_t *data;
	size_t size;
};

static struct lw_cursor cursor;
static struct lw_entry entry;
static uint8_t dev[DEV_BYTES];

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct mem_log *m = ctx;

	if (off > m->size || len > m->size - off) {
		errno = 0;
		return -1;
	}
	memcpy(buf, m->data + off, len);
	return 0;
}

static void replay_one(const struct lw_log *log, const struct mem_log *m,
		       char *err, size_t errlen)
{
	uint64_t at = entry.sector * log->sectorsize;

	if (entry.flags & LW_MARK || lw_fits(log, &entry, DEV_BYTES, err,
					     errlen))
		return;
	if (at + entry.nr_sectors * log->sectorsize > DEV_BYTES)
		abort();
	if (entry.flags & LW_DISCARD) {
		memset(dev + at, 0, entry.nr_sectors * log->sectorsize);
		return;
	}
	if (entry.data_offset + entry.data_bytes > m->size ||
	    entry.data_bytes != entry.nr_sectors * log->sectorsize)
		abort();
	memcpy(dev + at, m->data + entry.data_offset, entry.data_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_log m = { data, size };
	struct lw_log log;
	char err[512];
	uint64_t last;
	int r;

	if (lw_open(mem_read, &m, size, &log, err, sizeof(err)))
		return 0;
	lw_start(&log, &cursor);
	last = cursor.offset;
	while ((r = lw_next(&log, mem_read, &m, &cursor, &entry, err,
			    sizeof(err))) > 0) {
		if (cursor.offset < last + log.sectorsize ||
		    cursor.offset > size)
			abort();
		last = cursor.offset;
		replay_one(&log, &m, err, sizeof(err));
	}
	if (r < 0 && !memchr(err, '\0', sizeof(err)))
		abort();
	return 0;
}
