/* A virtio-blk I/O engine: how a queue's reads and writes reach the
 * host. The request codec (virtio_blk_req.c) parses a chain into a
 * struct blk_rw (or answers it on the spot); an engine moves the data,
 * now (sync) or later (io_uring), and reports each request's end through
 * the done callback, on the queue's worker with the queue's lock held
 * (virtio/queue_async.h).
 *
 * sync: blk_handle_request() on the spot, one request in flight.
 * io_uring: one ring per queue (blk_engine_uring.c): submissions batched
 * per round, completions through an eventfd the queue's worker watches,
 * the image a registered file, the ring restricted to READV and WRITEV
 * on it (docs/security.md). */
#ifndef MMVM_DEVICES_BLK_ENGINE_H
#define MMVM_DEVICES_BLK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio_blk_req.h"
#include "virtio/queue_async.h"

/* The values of struct disk_config's engine (vmm/config.h). */
enum blk_engine_kind {
	BLK_ENGINE_DEFAULT = 0,	/* io_uring where the host has it */
	BLK_ENGINE_SYNC = 1,
	BLK_ENGINE_IO_URING = 2,
};

const char *blk_engine_kind_name(enum blk_engine_kind k);

/* slot's request ended with used length len; work as for
 * virtq_chain.refused (inverted). */
typedef void (*blk_done_fn)(void *opaque, unsigned int slot, uint32_t len,
			    bool work);

struct blk_engine;

struct blk_engine_ops {
	const char *name;
	/* Starts c in slot: VIRTIO_ASYNC_PENDING (done() comes later), or
	 * the used length of a request answered now. */
	int64_t (*submit)(struct blk_engine *e, unsigned int slot,
			  struct virtq_chain *c);
	/* Hands the round's submissions to the host at once. */
	void (*flush)(struct blk_engine *e);
	/* Calls done() for every request the host has finished; does not
	 * block. Returns how many. */
	unsigned int (*reap)(struct blk_engine *e);
	/* True if reap() would find something (a look, no system call). */
	bool (*ready)(const struct blk_engine *e);
	/* Waits until the host has finished every request, reaping them;
	 * with discard, done() is not called and nothing is written to the
	 * requests' buffers (a reset: their memory is the next driver's).
	 * Makes no io_uring system call: it runs on a vCPU or the main
	 * thread, whose filters have none. max_ms: give up after that long
	 * (0: never), returning false (the exit drain: what the host still
	 * has then ends with the process). */
	bool (*drain)(struct blk_engine *e, bool discard, unsigned int max_ms);
	/* The image under the disk is being replaced (PATCH /drives): the
	 * requests in flight are finished (done() called), then the engine
	 * lets go of the old image (io_uring: the ring, whose registered
	 * file cannot be changed, is torn down) and from then on answers
	 * every request at submit, synchronously, on be->fd. Called with the
	 * queue's lock held, as every op is. Optional. */
	void (*retire)(struct blk_engine *e);
	void (*destroy)(struct blk_engine *e);
};

struct blk_engine {
	const struct blk_engine_ops *ops;
	struct blk_backend *be;
	blk_done_fn done;
	void *opaque;
	int event_fd;		/* readable when reap() has work; -1: none */
	unsigned int in_host;	/* submitted and not reaped */
	uint64_t enters;	/* io_uring_enter calls that submitted */
	uint64_t drained;	/* requests waited for by drain() */
	bool retired;		/* retire(): sync from now on */
};

/* The io_uring engine over be's fd, nr_slots requests in flight at most.
 * NULL (with *why set to a short reason) if the host cannot: the caller
 * falls back to sync. Runs before the sandbox (io_uring_setup and
 * io_uring_register are in no thread's filter). Test hook:
 * MMVM_TEST_NO_IO_URING=1 makes it fail as a kernel without io_uring
 * would. */
struct blk_engine *blk_engine_uring_new(struct blk_backend *be,
					unsigned int nr_slots,
					blk_done_fn done, void *opaque,
					const char **why);

/* The synchronous engine (every request answered at submit). */
struct blk_engine *blk_engine_sync_new(struct blk_backend *be);

/* Is io_uring usable here (a ring with restrictions can be set up)? NULL,
 * or why not. */
const char *blk_engine_uring_probe(void);

#endif
