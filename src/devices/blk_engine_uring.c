/* The io_uring blk engine, on the raw system calls (no liburing): one
 * ring per queue, set up disabled, given the image as its only
 * registered file and the queue's eventfd, restricted to READV and
 * WRITEV with IOSQE_FIXED_FILE required, then enabled. After that no
 * io_uring_register call is allowed on it (none was listed), so even
 * the thread that owns it cannot widen what the ring may do. */
#include "devices/blk_engine.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct uring {
	struct blk_engine e;
	int ring_fd;
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned int sq_pending;	/* in the SQ ring, not yet entered */
	unsigned int nr_slots;
	struct blk_rw *rw;		/* [nr_slots] */
};

static int sys_setup(unsigned int entries, struct io_uring_params *p)
{
	return (int)syscall(SYS_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned int submit, unsigned int min,
		     unsigned int flags)
{
	return (int)syscall(SYS_io_uring_enter, fd, submit, min, flags,
			    NULL, 0);
}

static int sys_register(int fd, unsigned int op, const void *arg,
			unsigned int n)
{
	return (int)syscall(SYS_io_uring_register, fd, op, arg, n);
}

/* Unmaps the ring and closes it (its reference to the image goes with
 * it); safe on a ring that was half set up or already released. */
static void uring_release_ring(struct uring *u)
{
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map && u->cq_map != MAP_FAILED && u->cq_map != u->sq_map)
		munmap(u->cq_map, u->cq_map_len);
	if (u->sq_map && u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_map_len);
	u->sqes = NULL;
	u->sq_map = u->cq_map = NULL;
	if (u->ring_fd >= 0)
		close(u->ring_fd);
	u->ring_fd = -1;
}

static void uring_free(struct uring *u)
{
	uring_release_ring(u);
	if (u->e.event_fd >= 0)
		close(u->e.event_fd);
	free(u->rw);
	free(u);
}

/* Sets the ring up; 0, or -errno with *why saying which step failed. */
static int ring_setup(struct uring *u, int image_fd, const char **why)
{
	struct io_uring_params p;
	struct io_uring_restriction res[4];
	int files[1] = { image_fd };
	uint8_t *sq, *cq;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	u->ring_fd = sys_setup(u->nr_slots, &p);
	if (u->ring_fd < 0) {
		*why = "io_uring_setup failed";
		return -errno;
	}
	if (p.sq_entries < u->nr_slots) {
		*why = "the ring is smaller than asked";
		return -EINVAL;
	}
	u->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	u->cq_map_len = p.cq_off.cqes +
			p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_map_len > u->sq_map_len)
			u->sq_map_len = u->cq_map_len;
		u->cq_map_len = u->sq_map_len;
	}
	u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, u->ring_fd,
			 IORING_OFF_SQ_RING);
	if (u->sq_map == MAP_FAILED) {
		*why = "cannot map the ring";
		return -errno;
	}
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		u->cq_map = u->sq_map;
	else
		u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, u->ring_fd,
				 IORING_OFF_CQ_RING);
	if (u->cq_map == MAP_FAILED) {
		*why = "cannot map the ring";
		return -errno;
	}
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->ring_fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		*why = "cannot map the ring";
		return -errno;
	}
	sq = u->sq_map;
	cq = u->cq_map;
	u->sq_head = (unsigned int *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	if (sys_register(u->ring_fd, IORING_REGISTER_FILES, files, 1) < 0) {
		*why = "cannot register the image";
		return -errno;
	}
	if (sys_register(u->ring_fd, IORING_REGISTER_EVENTFD, &u->e.event_fd,
			 1) < 0) {
		*why = "cannot register the eventfd";
		return -errno;
	}
	memset(res, 0, sizeof(res));
	res[0].opcode = IORING_RESTRICTION_SQE_OP;
	res[0].sqe_op = IORING_OP_READV;
	res[1].opcode = IORING_RESTRICTION_SQE_OP;
	res[1].sqe_op = IORING_OP_WRITEV;
	res[2].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[2].sqe_flags = IOSQE_FIXED_FILE;
	res[3].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[3].sqe_flags = IOSQE_FIXED_FILE;
	if (sys_register(u->ring_fd, IORING_REGISTER_RESTRICTIONS, res, 4) < 0) {
		*why = "cannot restrict the ring";
		return -errno;
	}
	if (sys_register(u->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0) {
		*why = "cannot enable the ring";
		return -errno;
	}
	return 0;
}

static bool uring_ready(const struct blk_engine *e)
{
	const struct uring *u = (const struct uring *)e;

	if (e->retired)
		return false;
	return __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) != *u->cq_head;
}

/* Takes the CQEs there are; done() for each unless discard. */
static unsigned int reap_cqes(struct uring *u, bool discard)
{
	unsigned int head = *u->cq_head, n = 0;
	unsigned int tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);

	while (head != tail) {
		const struct io_uring_cqe *cqe = &u->cqes[head & *u->cq_mask];
		uint64_t slot = cqe->user_data;
		int64_t res = cqe->res;

		head++;
		/* The kernel's CQE may be released before it is used. */
		__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
		n++;
		if (u->e.in_host)
			u->e.in_host--;
		if (slot >= u->nr_slots)
			continue;	/* not ours: cannot be */
		if (discard)
			continue;
		{
			bool work;
			uint32_t len;

			/* Interrupted or refused for now: the rest (all of
			 * it) the synchronous way. */
			if (res == -EAGAIN || res == -EINTR)
				res = 0;
			len = blk_rw_finish(u->e.be, &u->rw[slot], res, &work);
			u->e.done(u->e.opaque, (unsigned int)slot, len, work);
		}
	}
	return n;
}

static unsigned int uring_reap(struct blk_engine *e)
{
	return e->retired ? 0 : reap_cqes((struct uring *)e, false);
}

/* The SQEs written and not yet entered are withdrawn (the kernel has not
 * looked at them: it reads the tail only in io_uring_enter) and failed. */
static void fail_pending(struct uring *u)
{
	unsigned int tail = *u->sq_tail;

	while (u->sq_pending) {
		unsigned int idx = (tail - 1) & *u->sq_mask;
		uint64_t slot = u->sqes[idx].user_data;
		bool work;
		uint32_t len;

		tail--;
		u->sq_pending--;
		u->e.in_host--;
		__atomic_store_n(u->sq_tail, tail, __ATOMIC_RELEASE);
		if (slot >= u->nr_slots)
			continue;
		/* 0 bytes moved: done the synchronous way instead. */
		len = blk_rw_finish(u->e.be, &u->rw[slot], 0, &work);
		u->e.done(u->e.opaque, (unsigned int)slot, len, work);
	}
}

static void uring_flush(struct blk_engine *e)
{
	struct uring *u = (struct uring *)e;

	if (e->retired)
		return;
	while (u->sq_pending) {
		int r = sys_enter(u->ring_fd, u->sq_pending, 0, 0);

		if (r < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EBUSY))
			continue;
		if (r <= 0) {
			fail_pending(u);
			return;
		}
		e->enters++;
		u->sq_pending -= (unsigned int)r < u->sq_pending ?
				 (unsigned int)r : u->sq_pending;
	}
}

/* Sleeps about us microseconds on a futex nobody wakes (futex is in every
 * thread's filter; clock_nanosleep is not in the vCPU's). */
static void nap(long us)
{
	static int never;
	struct timespec ts = { 0, us * 1000 };

	syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
}

static bool uring_drain(struct blk_engine *e, bool discard,
			unsigned int max_ms)
{
	struct uring *u = (struct uring *)e;
	long us = 20;
	uint64_t waited_us = 0;

	if (e->retired)
		return true;
	/* Nothing is left unentered: the worker enters each round's SQEs
	 * before it drops the queue's lock, which the caller holds. Should
	 * some be (a failed enter), they are withdrawn. */
	if (u->sq_pending)
		fail_pending(u);
	/* The kernel posts the CQEs without us: from its workers, or as
	 * task work the submitting worker runs even while it sleeps. */
	while (e->in_host) {
		unsigned int before = e->in_host;

		reap_cqes(u, discard);
		e->drained += before - e->in_host;
		if (!e->in_host)
			break;
		if (max_ms && waited_us >= (uint64_t)max_ms * 1000)
			return false;
		nap(us);
		waited_us += (uint64_t)us;
		us = us < 1000 ? us * 2 : 1000;
	}
	return true;
}

/* The worker itself waiting for its requests (a flush orders after
 * them): io_uring_enter with GETEVENTS, its filter allows it. */
static void wait_all(struct uring *u)
{
	uring_flush(&u->e);
	while (u->e.in_host) {
		reap_cqes(u, false);
		if (!u->e.in_host)
			break;
		if (sys_enter(u->ring_fd, 0, 1, IORING_ENTER_GETEVENTS) < 0 &&
		    errno != EINTR && errno != EAGAIN && errno != EBUSY) {
			uring_drain(&u->e, false, 0);
			return;
		}
	}
}

static bool is_flush(const struct virtq_chain *c)
{
	uint32_t type;

	return c->out_len >= sizeof(type) &&
	       virtq_chain_read(c, 0, &type, sizeof(type)) == sizeof(type) &&
	       type == VIRTIO_BLK_T_FLUSH;
}

static int64_t uring_submit(struct blk_engine *e, unsigned int slot,
			    struct virtq_chain *c)
{
	struct uring *u = (struct uring *)e;
	struct blk_rw *rw = &u->rw[slot];
	struct io_uring_sqe *sqe;
	unsigned int tail, idx;
	uint32_t len = 0;

	if (e->retired)
		return blk_handle_request(e->be, c);
	/* A flush covers the writes before it: those still in flight are
	 * finished (and completed) first. */
	if (e->in_host && is_flush(c))
		wait_all(u);
	if (slot >= u->nr_slots || !blk_request_prepare(e->be, c, rw, &len))
		return len;
	tail = *u->sq_tail;
	idx = tail & *u->sq_mask;
	sqe = &u->sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = rw->write ? IORING_OP_WRITEV : IORING_OP_READV;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;		/* the registered image */
	sqe->addr = (uint64_t)(uintptr_t)rw->iov;
	sqe->len = rw->cnt;
	sqe->off = rw->pos;
	sqe->user_data = slot;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	u->sq_pending++;
	e->in_host++;
	return VIRTIO_ASYNC_PENDING;
}

static void uring_destroy(struct blk_engine *e)
{
	uring_free((struct uring *)e);
}

/* The ring goes (closing it drops its reference to the old image, and
 * with it the old image's lock); the eventfd stays open, since the
 * worker may be about to read it, and rings no more. */
static void uring_retire(struct blk_engine *e)
{
	struct uring *u = (struct uring *)e;

	if (e->retired)
		return;
	/* On the API thread: no io_uring call (its filter has none). */
	uring_drain(e, false, 0);
	e->retired = true;
	uring_release_ring(u);
}

static const struct blk_engine_ops uring_ops = {
	.name = "io_uring",
	.submit = uring_submit,
	.flush = uring_flush,
	.reap = uring_reap,
	.ready = uring_ready,
	.drain = uring_drain,
	.retire = uring_retire,
	.destroy = uring_destroy,
};

static bool test_no_uring(void)
{
	const char *v = getenv("MMVM_TEST_NO_IO_URING");

	return v && *v && strcmp(v, "0");
}

struct blk_engine *blk_engine_uring_new(struct blk_backend *be,
					unsigned int nr_slots,
					blk_done_fn done, void *opaque,
					const char **why)
{
	struct uring *u;
	int ret;

	if (test_no_uring()) {
		*why = "io_uring_setup failed: Function not implemented (MMVM_TEST_NO_IO_URING)";
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		*why = "out of memory";
		return NULL;
	}
	u->ring_fd = -1;
	u->e.ops = &uring_ops;
	u->e.be = be;
	u->e.done = done;
	u->e.opaque = opaque;
	u->nr_slots = nr_slots;
	u->e.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->rw = calloc(nr_slots, sizeof(*u->rw));
	if (u->e.event_fd < 0 || !u->rw) {
		*why = "out of memory";
		uring_free(u);
		return NULL;
	}
	ret = ring_setup(u, be->fd, why);
	if (ret) {
		static char buf[160];

		snprintf(buf, sizeof(buf), "%s: %s", *why, strerror(-ret));
		*why = buf;
		uring_free(u);
		return NULL;
	}
	return &u->e;
}

static void probe_done(void *opaque, unsigned int slot, uint32_t len,
		       bool work)
{
	(void)opaque;
	(void)slot;
	(void)len;
	(void)work;
}

const char *blk_engine_uring_probe(void)
{
	struct blk_backend be;
	struct blk_engine *e;
	const char *why = NULL;

	memset(&be, 0, sizeof(be));
	be.fd = STDERR_FILENO;	/* any open fd registers */
	e = blk_engine_uring_new(&be, 4, probe_done, NULL, &why);
	if (!e)
		return why;
	e->ops->destroy(e);
	return NULL;
}
