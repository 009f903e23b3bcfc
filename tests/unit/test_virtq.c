/* Split virtqueue against crafted rings in a fake guest memory: good chains,
 * indirect tables, notification suppression math, and every way a hostile
 * driver can break a chain or the ring. */
#include <string.h>
#include <sys/mman.h>

#include "unit.h"
#include "virtio/virtqueue.h"

#define RAM_GPA		0x10000ULL
#define RAM_SIZE	0x20000ULL
#define QSZ		8
#define DESC_GPA	(RAM_GPA + 0x0000)
#define AVAIL_GPA	(RAM_GPA + 0x1000)
#define USED_GPA	(RAM_GPA + 0x2000)
#define TABLE_GPA	(RAM_GPA + 0x3000)	/* indirect tables */
#define BUF_GPA		(RAM_GPA + 0x8000)	/* data buffers */

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtqueue vq;
static struct virtq_chain chain;

static void *gpa(uint64_t a)
{
	return ram + (a - RAM_GPA);
}

static struct virtq_desc *desc(unsigned int i)
{
	return (struct virtq_desc *)gpa(DESC_GPA) + i;
}

static struct virtq_desc *table(unsigned int i)
{
	return (struct virtq_desc *)gpa(TABLE_GPA) + i;
}

static uint16_t *avail(void)
{
	return gpa(AVAIL_GPA);	/* flags, idx, ring[QSZ], used_event */
}

static uint16_t *used_hdr(void)
{
	return gpa(USED_GPA);
}

static struct virtq_used_elem *used_elem(unsigned int i)
{
	return (struct virtq_used_elem *)((uint8_t *)gpa(USED_GPA) + 4) + i;
}

static uint16_t avail_event(void)
{
	return *(uint16_t *)((uint8_t *)gpa(USED_GPA) + 4 + 8 * QSZ);
}

static void set_desc(struct virtq_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Driver side: put head in the avail ring and publish it. */
static void offer(uint16_t head)
{
	uint16_t idx = avail()[1];

	avail()[2 + idx % QSZ] = head;
	avail()[1] = idx + 1;
}

static void setup(bool event_idx, bool indirect)
{
	memset(ram, 0, sizeof(ram));
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	virtq_reset(&vq);
	vq.size = QSZ;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = USED_GPA;
	vq.ready = true;
	vq.event_idx = event_idx;
	vq.indirect = indirect;
	CHECK(virtq_activate(&vq, &mem));
}

static void test_activate_checks(void)
{
	setup(false, false);
	CHECK(!vq.broken);

	vq.size = 6;			/* not a power of two */
	CHECK(!virtq_activate(&vq, &mem));
	CHECK(vq.broken);
	vq.size = 0;
	CHECK(!virtq_activate(&vq, &mem));
	vq.size = QSZ;
	CHECK(virtq_activate(&vq, &mem));
	CHECK(!vq.broken);

	vq.desc_gpa = DESC_GPA + 8;	/* desc must be 16-aligned */
	CHECK(!virtq_activate(&vq, &mem));
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA + 1;	/* avail 2-aligned */
	CHECK(!virtq_activate(&vq, &mem));
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = USED_GPA + 2;	/* used 4-aligned */
	CHECK(!virtq_activate(&vq, &mem));
	vq.used_gpa = USED_GPA;

	/* Rings that end past RAM, by the event field's two bytes. */
	vq.avail_gpa = RAM_GPA + RAM_SIZE - (6 + 2 * QSZ) + 2;
	CHECK(!virtq_activate(&vq, &mem));
	vq.avail_gpa = RAM_GPA + RAM_SIZE - (6 + 2 * QSZ);
	CHECK(virtq_activate(&vq, &mem));
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = RAM_GPA + RAM_SIZE - (6 + 8 * QSZ) + 4;
	CHECK(!virtq_activate(&vq, &mem));
	vq.used_gpa = USED_GPA;

	/* Addresses that wrap at 2^64 or are nowhere near RAM. */
	vq.desc_gpa = 0xfffffffffffffff0ULL;
	CHECK(!virtq_activate(&vq, &mem));
	vq.desc_gpa = 0;
	CHECK(!virtq_activate(&vq, &mem));
	vq.desc_gpa = DESC_GPA;
	CHECK(virtq_activate(&vq, &mem));

	/* A broken queue pops nothing and pushes nothing. */
	vq.size = 3;
	CHECK(!virtq_activate(&vq, &mem));
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BROKEN);
	CHECK(vq.last_error != NULL);
}

static void test_simple_chain(void)
{
	setup(false, false);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_EMPTY);

	memcpy(gpa(BUF_GPA), "hello", 5);
	memcpy(gpa(BUF_GPA + 0x100), " world", 6);
	set_desc(desc(3), BUF_GPA, 5, VIRTQ_DESC_F_NEXT, 5);
	set_desc(desc(5), BUF_GPA + 0x100, 6, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(3);

	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.head, 3);
	CHECK_EQ(chain.nr_out, 2);
	CHECK_EQ(chain.nr_in, 1);
	CHECK_EQ(chain.out_len, 11);
	CHECK_EQ(chain.in_len, 64);
	CHECK(chain.iov[0].iov_base == gpa(BUF_GPA));
	CHECK(chain.iov[2].iov_base == gpa(BUF_GPA + 0x200));

	char buf[16] = { 0 };
	CHECK_EQ(virtq_chain_read(&chain, 0, buf, sizeof(buf)), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK_EQ(virtq_chain_read(&chain, 3, buf, 4), 4);
	CHECK(memcmp(buf, "lo w", 4) == 0);
	CHECK_EQ(virtq_chain_read(&chain, 20, buf, 4), 0);
	CHECK_EQ(virtq_chain_write(&chain, 60, "abcdef", 6), 4);
	CHECK(memcmp(gpa(BUF_GPA + 0x200 + 60), "abcd", 4) == 0);

	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_EMPTY);
	virtq_push(&vq, 3, 4);
	CHECK_EQ(used_hdr()[1], 1);
	CHECK_EQ(used_elem(0)->id, 3);
	CHECK_EQ(used_elem(0)->len, 4);

	/* Zero-length descriptors are legal and add no segment. */
	set_desc(desc(0), BUF_GPA, 0, VIRTQ_DESC_F_NEXT, 2);
	set_desc(desc(2), BUF_GPA, 8, 0, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.nr_out, 1);
	CHECK_EQ(chain.out_len, 8);

	/* Pushing an out-of-range head is ignored, not written. */
	virtq_push(&vq, QSZ, 1);
	CHECK_EQ(used_hdr()[1], 1);
}

static void test_bad_chains(void)
{
	setup(false, false);

	/* Loop: 0 -> 1 -> 0. */
	set_desc(desc(0), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	CHECK_EQ(chain.head, 0);
	CHECK_EQ(chain.nr_out + chain.nr_in, 0);
	virtq_push(&vq, chain.head, 0);	/* completing it is allowed */
	CHECK_EQ(used_hdr()[1], 1);

	/* Self loop. */
	set_desc(desc(2), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	offer(2);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* next >= size. */
	set_desc(desc(3), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, QSZ);
	offer(3);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Buffer outside RAM, and one whose end wraps at 2^64. */
	set_desc(desc(4), RAM_GPA + RAM_SIZE - 4, 8, 0, 0);
	offer(4);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	set_desc(desc(4), 0xfffffffffffffff8ULL, 0x10, 0, 0);
	offer(4);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Writable then readable. */
	set_desc(desc(5), BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 6);
	set_desc(desc(6), BUF_GPA, 8, 0, 0);
	offer(5);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Indirect while not negotiated. */
	set_desc(desc(7), TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(7);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* The ring is still fine after all those. */
	CHECK(!vq.broken);
	set_desc(desc(0), BUF_GPA, 8, 0, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
}

static void test_broken_ring(void)
{
	setup(false, false);
	/* Head index out of range: cannot even be returned. */
	offer(QSZ);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BROKEN);
	CHECK(vq.broken);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BROKEN);

	setup(false, false);
	/* avail idx jumps by more than the queue size. */
	avail()[1] = QSZ + 1;
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BROKEN);

	setup(false, false);
	/* Exactly size ahead is fine (a full ring). */
	for (unsigned int i = 0; i < QSZ; i++) {
		set_desc(desc(i), BUF_GPA, 8, 0, 0);
		offer(i);
	}
	for (unsigned int i = 0; i < QSZ; i++)
		CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_EMPTY);

	/* Running backwards (idx - last > size as u16) is broken too. */
	avail()[1] = QSZ - 1;
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BROKEN);
}

static void test_indirect(void)
{
	setup(false, true);
	set_desc(table(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc(table(2), BUF_GPA + 16, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table(1), BUF_GPA + 32, 100,
		 VIRTQ_DESC_F_WRITE, 0);
	/* The WRITE flag on the indirect descriptor itself is ignored. */
	set_desc(desc(4), TABLE_GPA, 3 * 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(4);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.head, 4);
	CHECK_EQ(chain.nr_out, 2);
	CHECK_EQ(chain.nr_in, 1);
	CHECK_EQ(chain.in_len, 100);

	/* A direct descriptor followed by an indirect one. */
	set_desc(desc(0), BUF_GPA + 0x400, 4, VIRTQ_DESC_F_NEXT, 4);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.nr_out, 3);

	/* A misaligned table is read correctly (byte copies). */
	memmove(gpa(TABLE_GPA + 0x404), gpa(TABLE_GPA), 3 * 16);
	set_desc(desc(5), TABLE_GPA + 0x404, 3 * 16, VIRTQ_DESC_F_INDIRECT,
		 0);
	offer(5);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.in_len, 100);
}

static void test_bad_indirect(void)
{
	setup(false, true);
	set_desc(table(0), BUF_GPA, 16, 0, 0);

	/* Zero length, not a multiple of 16, outside RAM, wrapping. */
	set_desc(desc(0), TABLE_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	set_desc(desc(0), TABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	set_desc(desc(0), RAM_GPA + RAM_SIZE - 16, 32,
		 VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	set_desc(desc(0), 0xfffffffffffffff0ULL, 32, VIRTQ_DESC_F_INDIRECT,
		 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	/* More entries than any queue may have. */
	set_desc(desc(0), TABLE_GPA, 16 * (VIRTQ_MAX_SIZE + 1),
		 VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* INDIRECT together with NEXT. */
	set_desc(desc(0), TABLE_GPA, 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA, 8, 0, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Indirect inside an indirect table. */
	set_desc(table(0), TABLE_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(desc(0), TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Loop inside the table, and next beyond the table. */
	set_desc(table(0), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table(1), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(desc(0), TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	set_desc(table(1), BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);

	/* Too many segments: a table of VIRTQ_MAX_SEGS + 1 one-byte buffers. */
	for (unsigned int i = 0; i <= VIRTQ_MAX_SEGS; i++)
		set_desc(table(i), BUF_GPA, 1,
			 i < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	set_desc(desc(0), TABLE_GPA, 16 * (VIRTQ_MAX_SEGS + 1),
		 VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	/* ...while exactly VIRTQ_MAX_SEGS is fine. */
	set_desc(table(VIRTQ_MAX_SEGS - 1), BUF_GPA, 1, 0, 0);
	set_desc(desc(0), TABLE_GPA, 16 * VIRTQ_MAX_SEGS,
		 VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.nr_out, VIRTQ_MAX_SEGS);
	CHECK(!vq.broken);
}

/* A chain of more than 4 GiB in total, over a big sparse mapping. */
static void test_oversize_chain(void)
{
	const uint64_t big = 3ULL << 30;
	struct guest_mem m2 = { 0 };
	void *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	setup(false, false);
	m2 = mem;
	CHECK(guest_mem_add_region(&m2, 1ULL << 32, big, p));
	CHECK(virtq_activate(&vq, &m2));
	set_desc(desc(0), 1ULL << 32, (uint32_t)(big - 1), VIRTQ_DESC_F_NEXT,
		 1);
	set_desc(desc(1), 1ULL << 32, (uint32_t)(big - 1), 0, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_BAD_CHAIN);
	/* One such buffer alone is fine. */
	offer(1);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(chain.out_len, big - 1);
	munmap(p, big);
}

static void push_n(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		virtq_push(&vq, 0, 0);
}

static void test_event_idx_notify(void)
{
	uint16_t *used_event;

	setup(true, false);
	used_event = &avail()[2 + QSZ];

	/* The first push always notifies (nothing signalled yet). */
	push_n(1);
	CHECK(virtq_should_notify(&vq));
	/* Nothing new: no interrupt. */
	CHECK(!virtq_should_notify(&vq));

	/* Driver wants an interrupt when used idx passes 3 (i.e. after
	 * the entry with index 3 is used, idx becomes 4). */
	*used_event = 3;
	push_n(1);			/* idx 2 */
	CHECK(!virtq_should_notify(&vq));
	push_n(1);			/* idx 3 */
	CHECK(!virtq_should_notify(&vq));
	push_n(1);			/* idx 4: crossed event 3 */
	CHECK(virtq_should_notify(&vq));
	push_n(3);			/* idx 7, event still 3 behind */
	CHECK(!virtq_should_notify(&vq));

	/* A batch that jumps over the event notifies once. */
	*used_event = 8;
	push_n(4);			/* 7 -> 11 covers 8 */
	CHECK(virtq_should_notify(&vq));

	/* Wraparound of the 16-bit index. */
	vq.used_idx = 0xfffe;
	vq.signalled_used = 0xfffe;
	*used_event = 0xffff;
	push_n(1);			/* 0xffff: not yet past 0xffff */
	CHECK(!virtq_should_notify(&vq));
	push_n(1);			/* 0x0000: passed 0xffff */
	CHECK(virtq_should_notify(&vq));
	*used_event = 0x0001;
	push_n(3);			/* 0 -> 3 covers 1 */
	CHECK(virtq_should_notify(&vq));
	CHECK_EQ(used_hdr()[1], 3);
}

static void test_no_interrupt_flag(void)
{
	setup(false, false);
	push_n(1);
	CHECK(virtq_should_notify(&vq));
	avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	push_n(1);
	CHECK(!virtq_should_notify(&vq));
	avail()[0] = 0;
	push_n(1);
	CHECK(virtq_should_notify(&vq));
}

/* The driver's side of 2.7.10 with EVENT_IDX (Linux's vring_need_event):
 * having moved the avail index from new_idx - 1 to new_idx, it kicks only
 * if that passed avail_event. */
static bool driver_must_kick(uint16_t new_idx)
{
	uint16_t old_idx = new_idx - 1, event = avail_event();

	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static void test_enable_disable_notify(void)
{
	setup(false, false);
	virtq_disable_notify(&vq);
	CHECK_EQ(used_hdr()[0], VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtq_enable_notify(&vq));
	CHECK_EQ(used_hdr()[0], 0);
	set_desc(desc(0), BUF_GPA, 8, 0, 0);
	offer(0);
	CHECK(virtq_enable_notify(&vq));	/* more arrived */

	setup(true, false);
	set_desc(desc(0), BUF_GPA, 8, 0, 0);
	offer(0);
	offer(0);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(avail_event(), 1);	/* kick me past what I consumed */
	virtq_disable_notify(&vq);
	CHECK_EQ(avail_event(), 0);	/* an entry already consumed */
	CHECK(!driver_must_kick(3));	/* the driver's next buffer: no kick */
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK_EQ(avail_event(), 0);	/* not advanced while disabled */
	CHECK(!driver_must_kick(3));
	CHECK(!virtq_enable_notify(&vq));
	CHECK_EQ(avail_event(), 2);
	CHECK(driver_must_kick(3));	/* on again: the next entry kicks */
	offer(0);
	CHECK(virtq_enable_notify(&vq));

	/* Disabled straight after an enable, as a poll window does: the
	 * next buffer must not kick either. */
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_OK);
	CHECK(!virtq_enable_notify(&vq));
	CHECK(driver_must_kick(4));
	virtq_disable_notify(&vq);
	CHECK(!driver_must_kick(4));
}

static void test_not_ready(void)
{
	setup(false, false);
	set_desc(desc(0), BUF_GPA, 8, 0, 0);
	offer(0);
	virtq_reset(&vq);
	CHECK_EQ(virtq_pop(&vq, &chain), VIRTQ_POP_EMPTY);
	virtq_push(&vq, 0, 0);
	CHECK(!virtq_should_notify(&vq));
	CHECK(!virtq_enable_notify(&vq));
	virtq_disable_notify(&vq);
	CHECK_EQ(used_hdr()[1], 0);
}

int main(void)
{
	RUN(test_activate_checks);
	RUN(test_simple_chain);
	RUN(test_bad_chains);
	RUN(test_broken_ring);
	RUN(test_indirect);
	RUN(test_bad_indirect);
	RUN(test_oversize_chain);
	RUN(test_event_idx_notify);
	RUN(test_no_interrupt_flag);
	RUN(test_enable_disable_notify);
	RUN(test_not_ready);
	return unit_finish("virtq");
}
