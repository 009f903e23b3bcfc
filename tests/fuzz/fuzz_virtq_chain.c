/* libFuzzer target: the split virtqueue against an arbitrary guest.
 *
 * Input layout (little-endian):
 *   byte 0      queue size = 1 << (b & 15) (sizes over what fits fail to
 *               activate, which is a case too)
 *   byte 1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 put the rings
 *               at hostile addresses built from bytes 8-15
 *   bytes 2-7   desc, avail, used offsets (u16 each) into guest RAM
 *   bytes 8-15  a raw 64-bit address for the hostile mode
 *   bytes 16-   guest RAM image (the rings, descriptors, tables, buffers)
 * Guest RAM is two regions: 64 KiB at RAM_GPA and 4 KiB high up, so chains
 * can straddle them. The target pops until the ring is empty or broken,
 * checks every chain against guest memory, copies the data in and out and
 * pushes it back, exercising the notification paths on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define RAM_GPA		0x10000ULL
#define RAM_SIZE	0x10000ULL
#define HIGH_GPA	0xfffffffff000ULL
#define HIGH_SIZE	0x1000ULL
#define HEADER		16

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static uint8_t high[HIGH_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtq_chain chain;
static uint8_t scratch[1 << 16];

#define must(cond) do { if (!(cond)) abort(); } while (0)

static bool inside(const void *p, uint64_t len, const uint8_t *base,
		   uint64_t size)
{
	const uint8_t *b = p;

	return b >= base && b <= base + size && len <= size - (b - base);
}

static void check_chain(const struct virtq_chain *c, uint16_t qsize)
{
	uint64_t out = 0, in = 0;

	must(c->head < qsize);
	must(c->nr_out + c->nr_in <= VIRTQ_MAX_SEGS);
	for (unsigned int i = 0; i < c->nr_out + c->nr_in; i++) {
		const struct iovec *v = &c->iov[i];

		must(v->iov_len > 0);
		must(inside(v->iov_base, v->iov_len, ram, RAM_SIZE) ||
		     inside(v->iov_base, v->iov_len, high, HIGH_SIZE));
		if (i < c->nr_out)
			out += v->iov_len;
		else
			in += v->iov_len;
	}
	must(out == c->out_len && in == c->in_len);
	must(out + in <= VIRTQ_MAX_CHAIN_BYTES);
}

static uint64_t ring_addr(const uint8_t *p)
{
	return RAM_GPA + (uint64_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtqueue vq;
	size_t img;

	if (size < HEADER)
		return 0;
	if (!mem.nr_regions) {
		guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
		guest_mem_add_region(&mem, HIGH_GPA, HIGH_SIZE, high);
	}
	memset(ram, 0, sizeof(ram));
	memset(high, 0, sizeof(high));
	img = size - HEADER < RAM_SIZE ? size - HEADER : RAM_SIZE;
	memcpy(ram, data + HEADER, img);
	if (size - HEADER > RAM_SIZE)
		memcpy(high, data + HEADER + RAM_SIZE,
		       size - HEADER - RAM_SIZE < HIGH_SIZE ?
		       size - HEADER - RAM_SIZE : HIGH_SIZE);

	memset(&vq, 0, sizeof(vq));
	virtq_reset(&vq);
	vq.size = (uint16_t)(1u << (data[0] & 15));
	vq.event_idx = data[1] & 1;
	vq.indirect = data[1] & 2;
	vq.desc_gpa = ring_addr(data + 2);
	vq.avail_gpa = ring_addr(data + 4);
	vq.used_gpa = ring_addr(data + 6);
	if (data[1] & 4) {
		uint64_t raw;

		memcpy(&raw, data + 8, 8);
		switch (data[1] >> 3 & 3) {
		case 0: vq.desc_gpa = raw; break;
		case 1: vq.avail_gpa = raw; break;
		default: vq.used_gpa = raw; break;
		}
	}
	vq.ready = true;
	if (!virtq_activate(&vq, &mem)) {
		must(vq.broken);
		must(virtq_pop(&vq, &chain) == VIRTQ_POP_BROKEN);
		return 0;
	}

	/* Each pop consumes one avail entry, and the ring can hold at most
	 * size of them, so this ends; the bound only guards the guard. */
	for (unsigned int n = 0; n <= vq.size; n++) {
		enum virtq_pop_result r = virtq_pop(&vq, &chain);

		if (r == VIRTQ_POP_EMPTY || r == VIRTQ_POP_BROKEN) {
			must(r != VIRTQ_POP_BROKEN || vq.broken);
			break;
		}
		must(n < vq.size);
		must(chain.head < vq.size);
		if (r == VIRTQ_POP_BAD_CHAIN) {
			must(chain.nr_out == 0 && chain.nr_in == 0);
			virtq_push(&vq, chain.head, 0);
		} else {
			uint64_t got, put;

			check_chain(&chain, vq.size);
			got = virtq_chain_read(&chain, n, scratch,
					       sizeof(scratch));
			must(got <= chain.out_len);
			put = virtq_chain_write(&chain, 1, scratch, got);
			must(put <= chain.in_len);
			virtq_push(&vq, chain.head, (uint32_t)put);
		}
		if (n & 1)
			virtq_disable_notify(&vq);
		else
			(void)virtq_enable_notify(&vq);
		(void)virtq_should_notify(&vq);
	}
	(void)virtq_enable_notify(&vq);
	(void)virtq_should_notify(&vq);
	return 0;
}
