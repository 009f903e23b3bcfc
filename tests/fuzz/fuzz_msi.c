/* libFuzzer target: the MSI block on its own, in both layouts (the
 * default feature-bit layout's page-1 registers, and the 2019 layout's
 * 0x0c0 block), against the promises of docs/virtio-mmio-msi.md 7:
 *   - a message is sent only for a programmed, unmasked, routed vector
 *     while MSI is enabled (the mock host aborts otherwise);
 *   - no event is lost: right after an event the vector was either sent
 *     or is pending; a pending vector is sent exactly once when it becomes
 *     sendable (UNMASK, UPDATE, the host's retry): pending and sendable
 *     never hold together after a step;
 *   - feature-bit layout: disabling MSI turns pending vectors into
 *     InterruptStatus bits, enabling turns InterruptStatus into pending
 *     vectors; the 2019 layout drops them (its rule).
 * Input: 3-byte records: op, vector/queue, value. The host's answer to a
 * route request (routed, deferred, refused) is chosen by the input too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/mmio_transport.h"

#define NQ	3
#define must(c)	do { if (!(c)) abort(); } while (0)

static uint8_t ram[0x1000] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtio_mmio_dev tv2, tv3;
static int route_answer;		/* 0, DEFERRED or -22 */
static unsigned int fired[2][NQ + 1];

static unsigned int which(const struct virtio_mmio_dev *t)
{
	return t == &tv3;
}

static void h_legacy(void *h)
{
	must(!((struct virtio_mmio_dev *)h)->msi.enabled);
}

static int h_route(void *h, unsigned int v, bool valid, uint64_t addr,
		   uint32_t data)
{
	must(v < virtio_mmio_num_vectors(h));
	if (valid)
		must((addr >> 20) == 0xfee && ((data >> 8) & 7) <= 1);
	return valid ? route_answer : 0;
}

static void h_fire(void *h, unsigned int v)
{
	struct virtio_mmio_dev *t = h;

	must(v < virtio_mmio_num_vectors(t) && t->msi.enabled);
	must(t->msi.vectors[v].programmed && !t->msi.vectors[v].masked &&
	     !t->msi.vectors[v].route_wait);
	fired[which(t)][v]++;
}

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route, .msi_fire = h_fire,
};

static const struct virtio_device_ops dops = {
	.name = "msi", .device_id = 4, .num_queues = NQ, .queue_max = 16,
};

static void wr(struct virtio_mmio_dev *t, uint64_t off, uint32_t v,
	       uint32_t len)
{
	virtio_mmio_write(t, off, &v, len);
}

/* Register offsets and widths of one layout's MSI block. */
struct layout {
	uint64_t status, cmd, lo, hi, data;
	uint32_t width16;	/* width of status and cmd */
};
static const struct layout lv2 = {
	VIRTIO_MMIO_EXT_MSI_STATUS, VIRTIO_MMIO_EXT_MSI_COMMAND,
	VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW, VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH,
	VIRTIO_MMIO_EXT_MSI_DATA, 4,
};
static const struct layout lv3 = {
	VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_COMMAND,
	VIRTIO_MMIO_MSI_ADDRESS_LOW, VIRTIO_MMIO_MSI_ADDRESS_HIGH,
	VIRTIO_MMIO_MSI_DATA, 2,
};

static void negotiate(struct virtio_mmio_dev *t)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (t == &tv2 ? 1ULL << VIRTIO_F_MMIO_MSI : 0);

	wr(t, VIRTIO_MMIO_STATUS, 0, 4);
	wr(t, VIRTIO_MMIO_STATUS, 3, 4);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32), 4);
	wr(t, VIRTIO_MMIO_STATUS, 11, 4);
	must(t->status & VIRTIO_STATUS_FEATURES_OK);
}

/* After an event for vector v: sent, or pending (or MSI off: the line). */
static void event(struct virtio_mmio_dev *t, unsigned int v, bool config)
{
	unsigned int before = fired[which(t)][v];

	if (config)
		virtio_mmio_signal_config(t);
	else
		virtio_mmio_signal_queue(t, v - 1);
	if (t->msi.enabled)
		must(fired[which(t)][v] == before + 1 || t->msi.vectors[v].pending);
	else
		must(t->interrupt_status & (config ? 2 : 1));
}

static void apply(struct virtio_mmio_dev *t, const struct layout *l,
		  const uint8_t *r)
{
	unsigned int v = r[1] % (NQ + 2);	/* one past the last, too */
	unsigned int n = virtio_mmio_num_vectors(t);
	unsigned int before[NQ + 1];
	bool pending[NQ + 1];
	uint32_t isr = t->interrupt_status;
	bool v2 = t == &tv2, was = t->msi.enabled;

	memcpy(before, fired[which(t)], sizeof(before));
	for (unsigned int i = 0; i < n; i++)
		pending[i] = t->msi.vectors[i].pending;
	switch (r[0] % 12) {
	case 0:
		wr(t, l->lo, r[2] & 1 ? 0xfee00000u | (uint32_t)r[2] << 12 :
			     (uint32_t)r[2] << 24, 4);
		wr(t, l->hi, r[2] == 0xff, 4);
		break;
	case 1:
		wr(t, l->data, (uint32_t)(r[2] & 7) << 8 | 0x40 | r[1], 4);
		break;
	case 2: case 3: case 4: case 5:
		wr(t, l->cmd, VIRTIO_MMIO_MSI_CMD(r[0] % 12 - 1, v), l->width16);
		break;
	case 6:
		wr(t, l->status, r[2] & 1 ? VIRTIO_MMIO_MSI_STATUS_ENABLE : 0,
		   l->width16);
		break;
	case 7:
		if (v >= 1 && v <= NQ)
			event(t, v, false);
		break;
	case 8:
		event(t, 0, true);
		break;
	case 9:
		route_answer = r[2] % 3 == 0 ? 0 : r[2] % 3 == 1 ?
			       VIRTIO_MMIO_MSI_ROUTE_DEFERRED : -22;
		break;
	case 10:
		route_answer = 0;
		virtio_mmio_msi_retry(t);
		break;
	default:
		negotiate(t);
		break;
	}
	/* Sent at most once per step per vector, and only from pending or
	 * by the event itself. */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int d = fired[which(t)][i] - before[i];

		must(d <= 1);
		if (d && (r[0] % 12 != 7 && r[0] % 12 != 8))
			must(pending[i] || (v2 && !was && (isr & (i ? 1 : 2))));
		if (!t->msi.enabled)
			must(!t->msi.vectors[i].pending);
		/* Pending and sendable cannot last: it would never go. */
		if (t->msi.enabled && t->msi.vectors[i].programmed &&
		    !t->msi.vectors[i].masked && !t->msi.vectors[i].route_wait)
			must(!t->msi.vectors[i].pending);
	}
	/* The feature-bit layout's carrying rules (msi.md 4.3). */
	if (v2 && was && !t->msi.enabled && (r[0] % 12) == 6)
		for (unsigned int i = 0; i < n; i++)
			if (pending[i])
				must(t->interrupt_status & (i ? 1 : 2));
	if (t->msi.enabled)
		must(t->interrupt_status == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_mmio_config c2 = { .version = 2, .msi = true };
	static const struct virtio_mmio_config c3 = { .version = 3, .msi = true };

	if (!mem.nr_regions)
		guest_mem_add_region(&mem, 0x10000, sizeof(ram), ram);
	memset(fired, 0, sizeof(fired));
	route_answer = 0;
	virtio_mmio_init(&tv2, &c2, &dops, NULL, &hops, &tv2, &mem);
	virtio_mmio_init(&tv3, &c3, &dops, NULL, &hops, &tv3, &mem);
	negotiate(&tv2);
	negotiate(&tv3);
	for (size_t i = 0; i + 3 <= size; i += 3) {
		apply(&tv2, &lv2, data + i);
		apply(&tv3, &lv3, data + i);
	}
	virtio_mmio_destroy(&tv2);
	virtio_mmio_destroy(&tv3);
	return 0;
}
