/* libFuzzer target: the virtio-mmio register file under arbitrary accesses.
 *
 * The input is a sequence of 7-byte records applied in turn to a v3 with
 * MSI, a v3 without MSI, a v2 offering the MSI and doorbell feature bits
 * (the default layout) and a plain v2 transport, with mock host ops and a
 * small fake device:
 *   byte 0    bits 0-1: width 1/2/4/8; bit 2: write; bits 4-7: action
 *             (0-11 register access, 12 signal queue, 13 signal config,
 *             14 set needs reset, 15 query irq pending)
 *   bytes 1-2 offset in the window (LE; may run past it)
 *   bytes 3-6 value written (LE; zero-extended to 8 bytes)
 * The mocks abort on anything the transport must never do: fire a vector
 * that is masked/unprogrammed/out of range, kick a queue that does not exist,
 * touch config space out of bounds, or leave its state inconsistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/mmio_transport.h"

#define NQ		3
#define CONFIG_LEN	10
#define RAM_GPA		0x1000ULL
#define RAM_SIZE	0x10000ULL
#define RECORD		7

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtio_mmio_dev v3, v3n, v2, v2p;
static uint8_t config[CONFIG_LEN];

#define must(cond) do { if (!(cond)) abort(); } while (0)

static void h_legacy(void *host)
{
	struct virtio_mmio_dev *t = host;

	must(!t->msi.enabled);
	must(t->interrupt_status != 0);
}

static int h_route(void *host, unsigned int v, bool valid, uint64_t addr,
		   uint32_t data)
{
	struct virtio_mmio_dev *t = host;

	must(v < virtio_mmio_num_vectors(t));
	/* Let some routes fail, as KVM may (a fixed-delivery data word:
	 * other delivery modes are refused before they get here). */
	return valid && data == 0xdead00ef ? -22 : 0;
}

static void h_fire(void *host, unsigned int v)
{
	struct virtio_mmio_dev *t = host;

	must(v < virtio_mmio_num_vectors(t));
	must(t->msi.enabled);
	must(t->msi.vectors[v].programmed && !t->msi.vectors[v].masked);
}

static void h_kick(void *host, unsigned int q)
{
	struct virtio_mmio_dev *t = host;

	must(q < virtio_mmio_num_queues(t));
}

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route,
	.msi_fire = h_fire, .kick = h_kick,
};

static void d_config_write(void *d, uint32_t off, const void *data,
			   uint32_t len)
{
	must(off < CONFIG_LEN && len <= CONFIG_LEN - off);
	memcpy(config + off, data, len);
}

/* The device checks what the transport promises at DRIVER_OK. */
static bool d_activate(void *d, const struct virtio_activation *act)
{
	struct virtio_mmio_dev *t = d;

	must(t->status & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int i = 0; i < NQ; i++) {
		const struct virtqueue *vq = &t->queues[i].vq;

		if (!vq->ready)
			continue;
		must(vq->size && !(vq->size & (vq->size - 1)));
		must(vq->broken == 0 && vq->desc && vq->avail && vq->used_hdr);
	}
	must(act->features == t->driver_features);
	return !(t->driver_features & 1);	/* feature bit 0: refuse */
}

static void d_reset(void *d)
{
}

static const struct virtio_device_ops dops = {
	.name = "fuzz", .device_id = 4, .features = 3, .num_queues = NQ,
	.queue_max = 256, .config_len = CONFIG_LEN,
	.config_write = d_config_write,
	.activate = d_activate, .reset = d_reset,
};

static void check_state(struct virtio_mmio_dev *t)
{
	unsigned int nvec = virtio_mmio_num_vectors(t);

	must(!(t->interrupt_status & ~3u));
	must(!(t->status & ~0xffu));
	must(!t->msi.enabled || nvec);
	/* MSI on: no ISR bits. MSI off: nothing pending (spec 7.3, 7.5). */
	must(!t->msi.enabled || t->interrupt_status == 0);
	for (unsigned int v = 0; v < VIRTIO_MMIO_MAX_VECTORS; v++)
		must(t->msi.enabled || !t->msi.vectors[v].pending);
	for (unsigned int v = nvec; v < VIRTIO_MMIO_MAX_VECTORS; v++)
		must(!t->msi.vectors[v].programmed && !t->msi.vectors[v].pending);
	/* Page 1 answers only once its feature bit was accepted. */
	if (t->cfg.version == 2 && t->msi.enabled)
		must((t->status & VIRTIO_STATUS_FEATURES_OK) &&
		     (t->driver_features & (1ULL << VIRTIO_F_MMIO_MSI)));
	/* Without a doorbell page no write may count as a doorbell. */
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		must(!t->cfg.no_doorbells || !t->stats.doorbells[q]);
	if (t->status & VIRTIO_STATUS_FEATURES_OK)
		must(!(t->driver_features & ~virtio_mmio_offered_features(t)));
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		const struct virtqueue *vq = &t->queues[i].vq;

		if (i >= NQ)
			must(!vq->ready && !vq->size);
		if (vq->ready)
			must(vq->size && vq->size <= 256 &&
			     !(vq->size & (vq->size - 1)));
	}
}

static void apply(struct virtio_mmio_dev *t, const uint8_t *r)
{
	static const uint32_t widths[4] = { 1, 2, 4, 8 };
	uint32_t len = widths[r[0] & 3];
	unsigned int action = r[0] >> 4;
	uint64_t off = r[1] | (uint64_t)r[2] << 8;
	uint64_t val = 0, out = 0x5a5a5a5a5a5a5a5aULL;

	memcpy(&val, r + 3, 4);
	switch (action) {
	case 12:
		virtio_mmio_signal_queue(t, (unsigned int)(val % (NQ + 1)));
		break;
	case 13:
		virtio_mmio_signal_config(t);
		break;
	case 14:
		virtio_mmio_set_needs_reset(t);
		break;
	case 15:
		if (virtio_mmio_irq_pending(t))
			must(t->interrupt_status && !t->msi.enabled);
		break;
	default:
		if (r[0] & 4) {
			virtio_mmio_write(t, off, &val, len);
		} else {
			virtio_mmio_read(t, off, &out, len);
			/* Bytes past len are the caller's: untouched. */
			if (len < 8)
				must((out >> (8 * len)) ==
				     (0x5a5a5a5a5a5a5a5aULL >> (8 * len)));
			if (off >= virtio_mmio_window_size(t))
				must((out & (~0ULL >> (64 - 8 * len))) == 0);
		}
		break;
	}
	check_state(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_mmio_config c3 = { .version = 3,
						      .msi = true };
	/* v3 with neither MSI nor doorbells: the v2 register file
	 * behind a v3 identity. */
	static const struct virtio_mmio_config c3n = { .version = 3,
						       .no_doorbells = true };
	static const struct virtio_mmio_config c2 = { .version = 2,
						      .msi = true };
	static const struct virtio_mmio_config c2p = { .version = 2,
						       .no_doorbells = true };

	if (!mem.nr_regions)
		guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	memset(config, 0, sizeof(config));
	virtio_mmio_init(&v3, &c3, &dops, &v3, &hops, &v3, &mem);
	virtio_mmio_init(&v3n, &c3n, &dops, &v3n, &hops, &v3n, &mem);
	virtio_mmio_init(&v2, &c2, &dops, &v2, &hops, &v2, &mem);
	virtio_mmio_init(&v2p, &c2p, &dops, &v2p, &hops, &v2p, &mem);
	for (size_t i = 0; i + RECORD <= size; i += RECORD) {
		apply(&v3, data + i);
		apply(&v3n, data + i);
		apply(&v2, data + i);
		apply(&v2p, data + i);
	}
	/* The stats printer must cope with whatever state is left. */
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		virtio_mmio_print_stats(&v3, null);
		virtio_mmio_print_stats(&v3n, null);
		virtio_mmio_print_stats(&v2, null);
		virtio_mmio_print_stats(&v2p, null);
		fclose(null);
	}
	virtio_mmio_destroy(&v3);
	virtio_mmio_destroy(&v3n);
	virtio_mmio_destroy(&v2);
	virtio_mmio_destroy(&v2p);
	return 0;
}
