/* The synchronous blk engine: the codec does the I/O at submit. */
#include "devices/blk_engine.h"

#include <stdlib.h>

const char *blk_engine_kind_name(enum blk_engine_kind k)
{
	return k == BLK_ENGINE_IO_URING ? "io_uring" :
	       k == BLK_ENGINE_SYNC ? "sync" : "default";
}

static int64_t sync_submit(struct blk_engine *e, unsigned int slot,
			   struct virtq_chain *c)
{
	(void)slot;
	return blk_handle_request(e->be, c);
}

static void sync_flush(struct blk_engine *e)
{
	(void)e;
}

static unsigned int sync_reap(struct blk_engine *e)
{
	(void)e;
	return 0;
}

static bool sync_ready(const struct blk_engine *e)
{
	(void)e;
	return false;
}

static bool sync_drain(struct blk_engine *e, bool discard,
		       unsigned int max_ms)
{
	(void)e;
	(void)discard;
	(void)max_ms;
	return true;
}

static void sync_destroy(struct blk_engine *e)
{
	free(e);
}

static const struct blk_engine_ops sync_ops = {
	.name = "sync",
	.submit = sync_submit,
	.flush = sync_flush,
	.reap = sync_reap,
	.ready = sync_ready,
	.drain = sync_drain,
	.destroy = sync_destroy,
};

struct blk_engine *blk_engine_sync_new(struct blk_backend *be)
{
	struct blk_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->ops = &sync_ops;
	e->be = be;
	e->event_fd = -1;
	return e;
}
