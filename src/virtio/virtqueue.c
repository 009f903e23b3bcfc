/* Split virtqueue, device side (virtio 1.2 section 2.7).
 *
 * The driver runs concurrently on other vCPUs and may rewrite any ring field
 * at any time, so every guest field is read exactly once into a local and
 * only the local is checked and used. Ring indices are read and written with
 * __atomic builtins; descriptors are copied out whole (see read_desc()).
 */
#include <string.h>

#include "virtio/virtqueue.h"

/* Offsets, in uint16_t units, inside the avail area. */
#define AVAIL_FLAGS	0
#define AVAIL_IDX	1
#define AVAIL_RING	2

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* used_event sits right after the avail ring, avail_event after the used
 * ring (virtio 1.2 2.7.6 and 2.7.8). */
static uint16_t *used_event_ptr(const struct virtqueue *vq)
{
	return &vq->avail[AVAIL_RING + vq->size];
}

static uint16_t *avail_event_ptr(const struct virtqueue *vq)
{
	return (uint16_t *)&vq->used_ring[vq->size];
}

/* Copies one descriptor out of guest memory. The compiler barrier after the
 * copy forbids the compiler from re-reading guest memory instead of using the
 * copy, so what we check is what we use. memcpy also copes with an indirect
 * table at an odd address, which the spec does not forbid. */
static void read_desc(const uint8_t *src, struct virtq_desc *dst)
{
	memcpy(dst, src, sizeof(*dst));
	__asm__ __volatile__("" ::: "memory");
}

static bool aligned_ptr(const void *p, uintptr_t align)
{
	return ((uintptr_t)p & (align - 1)) == 0;
}

static bool fail_activate(struct virtqueue *vq, const char *why)
{
	vq->broken = true;
	vq->last_error = why;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used_hdr = NULL;
	vq->used_ring = NULL;
	return false;
}

bool virtq_activate(struct virtqueue *vq, const struct guest_mem *mem)
{
	unsigned int n = vq->size;
	void *desc, *avail, *used;

	vq->mem = mem;
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->notify_disabled = false;
	vq->broken = false;
	vq->last_error = NULL;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return fail_activate(vq, "queue size is not a power of two");
	if (vq->desc_gpa % 16 || vq->avail_gpa % 2 || vq->used_gpa % 4)
		return fail_activate(vq, "ring address misaligned");
	desc = guest_mem_ptr(mem, vq->desc_gpa, virtq_desc_bytes(n));
	avail = guest_mem_ptr(mem, vq->avail_gpa, virtq_avail_bytes(n));
	used = guest_mem_ptr(mem, vq->used_gpa, virtq_used_bytes(n));
	if (!desc || !avail || !used)
		return fail_activate(vq, "ring outside guest memory");
	/* Host mappings are page aligned, but check rather than assume: the
	 * atomics below need naturally aligned host addresses. */
	if (!aligned_ptr(desc, 16) || !aligned_ptr(avail, 2) ||
	    !aligned_ptr(used, 4))
		return fail_activate(vq, "ring host mapping misaligned");
	vq->desc = desc;
	vq->avail = avail;
	vq->used_hdr = used;
	vq->used_ring = (struct virtq_used_elem *)((uint8_t *)used + 4);
	return true;
}

void virtq_reset(struct virtqueue *vq)
{
	const struct guest_mem *mem = vq->mem;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
}

static enum virtq_pop_result bad_chain(struct virtqueue *vq,
				       struct virtq_chain *chain,
				       const char *why)
{
	vq->last_error = why;
	chain->nr_out = 0;
	chain->nr_in = 0;
	chain->out_len = 0;
	chain->in_len = 0;
	return VIRTQ_POP_BAD_CHAIN;
}

static enum virtq_pop_result broken_ring(struct virtqueue *vq, const char *why)
{
	vq->broken = true;
	vq->last_error = why;
	return VIRTQ_POP_BROKEN;
}

/* Adds one buffer to the chain, in the direction its flags say. */
static enum virtq_pop_result add_segment(struct virtqueue *vq,
					 struct virtq_chain *chain,
					 const struct virtq_desc *d,
					 uint64_t *total)
{
	void *p;
	struct iovec *iov;

	if (d->len == 0)
		return VIRTQ_POP_OK;	/* legal, and carries nothing */
	*total += d->len;
	if (*total > VIRTQ_MAX_CHAIN_BYTES)
		return bad_chain(vq, chain, "chain longer than 4 GiB");
	if (chain->nr_out + chain->nr_in >= VIRTQ_MAX_SEGS)
		return bad_chain(vq, chain, "chain has too many segments");
	p = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return bad_chain(vq, chain, "buffer outside guest memory");
	iov = &chain->iov[chain->nr_out + chain->nr_in];
	iov->iov_base = p;
	iov->iov_len = d->len;
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		chain->nr_in++;
		chain->in_len += d->len;
	} else {
		chain->nr_out++;
		chain->out_len += d->len;
	}
	return VIRTQ_POP_OK;
}

/* Walks the chain starting at head (already checked < size). The walk is
 * bounded by the size of the table it is in, so a loop ends as an error. */
static enum virtq_pop_result walk_chain(struct virtqueue *vq,
					struct virtq_chain *chain,
					uint16_t head)
{
	/* Bytes, not struct pointers: an indirect table may be misaligned. */
	const uint8_t *table = (const uint8_t *)vq->desc;
	unsigned int table_len = vq->size, budget = vq->size;
	unsigned int idx = head;
	bool in_indirect = false, seen_write = false;
	uint64_t total = 0;

	for (;;) {
		struct virtq_desc d;
		enum virtq_pop_result r;

		if (budget-- == 0)
			return bad_chain(vq, chain, "descriptor chain loops");
		read_desc(table + idx * sizeof(struct virtq_desc), &d);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return bad_chain(vq, chain,
					"indirect descriptor not negotiated");
			if (in_indirect)
				return bad_chain(vq, chain,
					"indirect descriptor in indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return bad_chain(vq, chain,
					"indirect descriptor with NEXT");
			if (d.len == 0 || d.len % sizeof(struct virtq_desc) ||
			    d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE)
				return bad_chain(vq, chain,
					"indirect table has a bad length");
			table = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return bad_chain(vq, chain,
					"indirect table outside guest memory");
			table_len = d.len / sizeof(struct virtq_desc);
			budget = table_len;
			idx = 0;
			in_indirect = true;
			continue;
		}

		/* 2.7.4.2: readable buffers all come before writable ones. */
		if (d.flags & VIRTQ_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return bad_chain(vq, chain,
					 "readable descriptor after writable");
		r = add_segment(vq, chain, &d, &total);
		if (r != VIRTQ_POP_OK)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VIRTQ_POP_OK;
		if (d.next >= table_len)
			return bad_chain(vq, chain, "next index out of range");
		idx = d.next;
	}
}

enum virtq_pop_result virtq_pop(struct virtqueue *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx, pending, head;

	chain->head = 0;
	chain->nr_out = 0;
	chain->nr_in = 0;
	chain->out_len = 0;
	chain->in_len = 0;
	if (vq->broken)
		return VIRTQ_POP_BROKEN;
	if (!vq->ready || !vq->avail)
		return VIRTQ_POP_EMPTY;

	/* Acquire: ring entries are read only after the idx that covers
	 * them (pairs with the driver's write barrier before avail->idx). */
	avail_idx = __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (pending == 0)
		return VIRTQ_POP_EMPTY;
	if (pending > vq->size)
		return broken_ring(vq, "avail index ran ahead by more than "
				   "the queue size");

	head = load16(&vq->avail[AVAIL_RING +
				 (vq->last_avail_idx & (vq->size - 1))]);
	/* A head we could not hand back in the used ring breaks the ring,
	 * not just this request. */
	if (head >= vq->size)
		return broken_ring(vq, "avail ring head out of range");
	vq->last_avail_idx++;
	/* With EVENT_IDX, ask for a kick only once the driver goes past what
	 * we have consumed. */
	if (vq->event_idx && !vq->notify_disabled)
		store16(avail_event_ptr(vq), vq->last_avail_idx);

	chain->head = head;
	return walk_chain(vq, chain, head);
}

void virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;

	if (!vq->ready || vq->broken || !vq->used_hdr || head >= vq->size)
		return;
	e = &vq->used_ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	__atomic_store_n(&vq->used_hdr[1], vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtqueue *vq)
{
	uint16_t old, new, event;
	bool valid;

	if (!vq->ready || !vq->avail)
		return false;
	/* Full barrier: our used->idx store must be visible before we read
	 * the driver's flags/used_event, or we race with a driver that is
	 * re-enabling interrupts and checking used->idx (lost wakeup). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	old = vq->signalled_used;
	new = vq->used_idx;
	valid = vq->signalled_used_valid;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (valid && old == new)
		return false;	/* nothing new since the last interrupt */

	if (!vq->event_idx)
		return !(load16(&vq->avail[AVAIL_FLAGS]) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = load16(used_event_ptr(vq));
	/* vring_need_event(): did used idx step over event in (old, new]? */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool virtq_enable_notify(struct virtqueue *vq)
{
	uint16_t avail_idx;

	vq->notify_disabled = false;
	if (!vq->ready || !vq->avail || vq->broken)
		return false;
	if (vq->event_idx)
		store16(avail_event_ptr(vq), vq->last_avail_idx);
	else
		store16(&vq->used_hdr[0], 0);
	/* Full barrier: the driver must see notifications on before we look
	 * at avail->idx again, or a buffer added in between is never kicked. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx = __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	return avail_idx != vq->last_avail_idx;
}

uint16_t virtq_driver_backlog(const struct virtqueue *vq)
{
	uint16_t avail_idx;

	if (!vq->ready || !vq->avail || vq->broken || !vq->event_idx)
		return UINT16_MAX;
	avail_idx = __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
	return (uint16_t)(avail_idx - load16(used_event_ptr(vq)));
}

bool virtq_has_avail(const struct virtqueue *vq)
{
	if (!vq->ready || !vq->avail || vq->broken)
		return false;
	return __atomic_load_n(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE) !=
	       vq->last_avail_idx;
}

void virtq_disable_notify(struct virtqueue *vq)
{
	vq->notify_disabled = true;
	if (!vq->ready || !vq->used_hdr || vq->broken)
		return;
	/* With EVENT_IDX the driver kicks when its avail index passes
	 * avail_event (2.7.10): point it at an entry already consumed, so no
	 * index the driver writes next passes it. Merely not advancing it is
	 * not enough: after virtq_enable_notify() it names the very next
	 * entry, and the driver's next buffer would still kick. */
	if (vq->event_idx)
		store16(avail_event_ptr(vq), (uint16_t)(vq->last_avail_idx - 1));
	else
		store16(&vq->used_hdr[0], VIRTQ_USED_F_NO_NOTIFY);
}

/* Copies between a flat buffer and iov[first..first+count), starting off
 * bytes into those segments. */
static uint64_t iov_copy(const struct iovec *iov, unsigned int count,
			 uint64_t off, void *buf, uint64_t len, bool to_iov)
{
	uint64_t done = 0;

	for (unsigned int i = 0; i < count && done < len; i++) {
		uint64_t seg = iov[i].iov_len, n;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		n = seg - off;
		if (n > len - done)
			n = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off,
			       (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done,
			       (uint8_t *)iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst,
			  uint64_t len)
{
	return iov_copy(c->iov, c->nr_out, off, dst, len, false);
}

uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t off,
			   const void *src, uint64_t len)
{
	return iov_copy(c->iov + c->nr_out, c->nr_in, off, (void *)src, len,
			true);
}
