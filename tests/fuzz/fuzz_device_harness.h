/* Shared by the device-model fuzz targets: a transport brought up by
 * register writes as a driver would (features and queue size from the
 * input), in front of a real device model, and 64 KiB of guest memory
 * whose every byte (rings included) is the input's. */
#ifndef MMVM_TESTS_FUZZ_DEVICE_HARNESS_H
#define MMVM_TESTS_FUZZ_DEVICE_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "device_env.h"
#include "virtio/mmio_transport.h"

#define FZ_MEM_SIZE	0x10000
/* Rings of queue q: desc at q*0x400, avail at +0x100, used at +0x200. */
#define FZ_RING(q)	((uint64_t)(q) * 0x400)

static uint8_t fz_ram[FZ_MEM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem fz_mem;
static struct virtio_mmio_dev fz_t;

static void fz_raise(void *host) { }
static void fz_kick(void *host, unsigned int q) { }

static const struct virtio_mmio_host_ops fz_host_ops = {
	.legacy_raise = fz_raise,
	.kick = fz_kick,
};

static void fz_wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&fz_t, off, &v, 4);
}

/* Consumes up to len bytes of input into dst (rest zero); returns bytes
 * used. */
static size_t fz_take(const uint8_t **data, size_t *size, void *dst,
		      size_t len)
{
	size_t n = *size < len ? *size : len;

	memset(dst, 0, len);
	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

/* The transport in front of (ops, dev), driven to DRIVER_OK with the
 * features and the queue size (a shift) at the head of the input, nq
 * queues at FZ_RING(q); the next bytes become guest memory. */
static void fz_bring_up(const struct virtio_device_ops *ops, void *dev,
			unsigned int nq, const uint8_t **data, size_t *size)
{
	const struct virtio_mmio_config cfg = { .version = 2 };
	uint64_t features;
	uint8_t qshift;

	if (!fz_mem.nr_regions)
		guest_mem_add_region(&fz_mem, 0, FZ_MEM_SIZE, fz_ram);
	fz_take(data, size, &features, sizeof(features));
	fz_take(data, size, &qshift, 1);
	fz_take(data, size, fz_ram, sizeof(fz_ram));
	features |= 1ULL << VIRTIO_F_VERSION_1;

	virtio_mmio_init(&fz_t, &cfg, ops, dev, &fz_host_ops, NULL, &fz_mem);
	/* Bound as the device manager does, before the driver starts. */
	if (ops->bind && dev)
		ops->bind(dev, test_device_env(&fz_t));
	fz_wr32(VIRTIO_MMIO_STATUS, 3);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	fz_wr32(VIRTIO_MMIO_STATUS, 11);
	for (unsigned int q = 0; q < nq; q++) {
		fz_wr32(VIRTIO_MMIO_QUEUE_SEL, q);
		fz_wr32(VIRTIO_MMIO_QUEUE_NUM, 1u << (qshift % 5));
		fz_wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)FZ_RING(q));
		fz_wr32(VIRTIO_MMIO_QUEUE_AVAIL_LOW,
			(uint32_t)FZ_RING(q) + 0x100);
		fz_wr32(VIRTIO_MMIO_QUEUE_USED_LOW,
			(uint32_t)FZ_RING(q) + 0x200);
		fz_wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	fz_wr32(VIRTIO_MMIO_STATUS, 15);
}

#endif
