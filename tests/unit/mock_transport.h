/* The surroundings of one virtio-mmio transport under test: a host that
 * records every interrupt, route and kick, a device model with a few
 * bytes of config space, guest RAM, and the driver's register accesses.
 * One instance per test binary (file-scope statics); mt_setup() starts
 * afresh. New transport tests should use this rather than their own
 * copies of the same mocks. */
#ifndef MMVM_TESTS_MOCK_TRANSPORT_H
#define MMVM_TESTS_MOCK_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtio/mmio_transport.h"

#define MT_RAM_GPA	0x100000ULL
#define MT_RAM_SIZE	0x10000ULL
#define MT_NQ		2
#define MT_QMAX		64
#define MT_DEV_FEATURE	5

/* A test may use only the host mock: what it leaves unused is fine. */
#define MT_UNUSED __attribute__((unused))

static uint8_t mt_ram[MT_RAM_SIZE] MT_UNUSED __attribute__((aligned(4096)));
static struct guest_mem mt_mem MT_UNUSED;
static struct virtio_mmio_dev mt MT_UNUSED;

static struct {
	unsigned int legacy, fires, kicks, routes, unroutes;
	unsigned int fired[VIRTIO_MMIO_MAX_VECTORS];
	unsigned int last_kick, last_vector;
	uint64_t last_addr;
	uint32_t last_data;
	int route_rc;
} mt_host;

static void mt_h_legacy(void *h)
{
	mt_host.legacy++;
}

static int mt_h_route(void *h, unsigned int v, bool valid, uint64_t addr,
		      uint32_t data)
{
	if (!valid) {
		mt_host.unroutes++;
		return 0;
	}
	mt_host.routes++;
	mt_host.last_vector = v;
	mt_host.last_addr = addr;
	mt_host.last_data = data;
	return mt_host.route_rc;
}

static void mt_h_fire(void *h, unsigned int v)
{
	mt_host.fires++;
	mt_host.fired[v]++;
}

static void mt_h_kick(void *h, unsigned int q)
{
	mt_host.kicks++;
	mt_host.last_kick = q;
}

static const struct virtio_mmio_host_ops mt_host_ops = {
	.legacy_raise = mt_h_legacy, .msi_route = mt_h_route,
	.msi_fire = mt_h_fire, .kick = mt_h_kick,
};

static uint8_t mt_config[8] MT_UNUSED;

static const struct virtio_device_ops mt_dev_ops MT_UNUSED = {
	.name = "blk", .device_id = 2, .features = 1ULL << MT_DEV_FEATURE,
	.num_queues = MT_NQ, .queue_max = MT_QMAX,
	.config_len = sizeof(mt_config),
};

static inline void mt_setup(const struct virtio_mmio_config *cfg)
{
	memset(&mt_host, 0, sizeof(mt_host));
	memset(&mt_mem, 0, sizeof(mt_mem));
	guest_mem_add_region(&mt_mem, MT_RAM_GPA, MT_RAM_SIZE, mt_ram);
	virtio_mmio_init(&mt, cfg, &mt_dev_ops, NULL, &mt_host_ops, &mt_host,
			 &mt_mem);
	virtio_mmio_set_config(&mt, mt_config);
}

/* One register access of len bytes (1, 2, 4 or 8), as a vCPU makes it. */
static inline uint64_t mt_rd(uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_mmio_read(&mt, off, &v, len);
	return v;
}

static inline void mt_wr(uint64_t off, uint64_t v, uint32_t len)
{
	virtio_mmio_write(&mt, off, &v, len);
}

#define mt_rd32(off)	((uint32_t)mt_rd((off), 4))
#define mt_rd16(off)	((uint16_t)mt_rd((off), 2))
#define mt_wr32(off, v)	mt_wr((off), (uint32_t)(v), 4)
#define mt_wr16(off, v)	mt_wr((off), (uint16_t)(v), 2)

static inline void mt_set_status(uint32_t bits)
{
	mt_wr32(VIRTIO_MMIO_STATUS, mt_rd32(VIRTIO_MMIO_STATUS) | bits);
}

static inline uint64_t mt_device_features(void)
{
	uint64_t lo, hi;

	mt_wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = mt_rd32(VIRTIO_MMIO_DEVICE_FEATURES);
	mt_wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = mt_rd32(VIRTIO_MMIO_DEVICE_FEATURES);
	return lo | hi << 32;
}

/* Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns whether
 * the device kept FEATURES_OK. */
static inline bool mt_negotiate(uint64_t features)
{
	mt_wr32(VIRTIO_MMIO_STATUS, 0);
	mt_set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	mt_set_status(VIRTIO_STATUS_DRIVER);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mt_set_status(VIRTIO_STATUS_FEATURES_OK);
	return mt_rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

/* Queue q's rings at MT_RAM_GPA + q * 0x2000: desc, avail +0x800, used
 * +0x1000; then QueueReady. */
static inline void mt_setup_queue(unsigned int q, uint32_t num)
{
	uint64_t base = MT_RAM_GPA + q * 0x2000ULL;

	mt_wr32(VIRTIO_MMIO_QUEUE_SEL, q);
	mt_wr32(VIRTIO_MMIO_QUEUE_NUM, num);
	mt_wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	mt_wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	mt_wr32(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x800));
	mt_wr32(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	mt_wr32(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x1000));
	mt_wr32(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	mt_wr32(VIRTIO_MMIO_QUEUE_READY, 1);
}

#endif
