/* virtio-mmio transport driven register by register, as a good driver does
 * (v2 and v3 init, negotiation, queues, interrupts, reset) and as a buggy
 * or hostile one does (wrong widths, late queue writes, torn MSI updates,
 * out-of-range vectors, reset mid-flight). Host and device are mocks that
 * record every call. */
#include <string.h>

#include "unit.h"
#include "mock_transport.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x10000ULL
#define NQ		2
#define QMAX		64

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;

/* The mock host (mt_host: counts calls, remembers the last route) is
 * mock_transport.h's; the device and the driver here are this file's. */

/* Mock device: 12 bytes of config, counts activate/reset. */
static struct {
	uint8_t config[12];
	unsigned int activates, resets, config_writes;
	bool refuse;
} dev;

static void d_config_write(void *d, uint32_t off, const void *data,
			   uint32_t len)
{
	memcpy(dev.config + off, data, len);
	dev.config_writes++;
}

static bool d_activate(void *d, const struct virtio_activation *act)
{
	dev.activates++;
	return !dev.refuse;
}

static void d_reset(void *d)
{
	dev.resets++;
}

#define DEV_FEATURE_BIT 5
static const struct virtio_device_ops dops = {
	.name = "blk", .device_id = 2, .features = 1ULL << DEV_FEATURE_BIT,
	.num_queues = NQ, .queue_max = QMAX, .config_len = sizeof(dev.config),
	.config_write = d_config_write,
	.activate = d_activate, .reset = d_reset,
};

static struct virtio_mmio_dev t;

static bool no_doorbells;	/* setup(): --no-doorbells */

/* setup(2, ...) is plain virtio 1.2 (neither MSI nor doorbell feature
 * bit: what these tests check of Version 2); the feature-bit layout has
 * its own file, test_mmio_msi_features.c. */
static void setup(unsigned int version, bool msi)
{
	struct virtio_mmio_config cfg = {
		.version = version, .msi = version == 3 && msi,
		.no_doorbells = version == 2 || no_doorbells,
	};

	memset(&mt_host, 0, sizeof(mt_host));
	memset(&dev, 0, sizeof(dev));
	for (unsigned int i = 0; i < sizeof(dev.config); i++)
		dev.config[i] = 0x10 + i;
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	virtio_mmio_init(&t, &cfg, &dops, &dev, &mt_host_ops, &mt_host, &mem);
	virtio_mmio_set_config(&t, dev.config);
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(&t, off, &v, 4);
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&t, off, &v, 4);
}

static uint16_t rd16(uint64_t off)
{
	uint16_t v;

	virtio_mmio_read(&t, off, &v, 2);
	return v;
}

static void wr16(uint64_t off, uint16_t v)
{
	virtio_mmio_write(&t, off, &v, 2);
}

static void set_status(uint32_t bits)
{
	wr32(VIRTIO_MMIO_STATUS, rd32(VIRTIO_MMIO_STATUS) | bits);
}

static void negotiate(uint64_t features)
{
	wr32(VIRTIO_MMIO_STATUS, 0);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(VIRTIO_STATUS_DRIVER);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	set_status(VIRTIO_STATUS_FEATURES_OK);
}

/* Queue q's rings at RAM_GPA + q * 0x2000: desc, avail +0x800, used
 * +0x1000. */
static void setup_queue(unsigned int q, uint32_t num)
{
	uint64_t base = RAM_GPA + q * 0x2000ULL;

	wr32(VIRTIO_MMIO_QUEUE_SEL, q);
	wr32(VIRTIO_MMIO_QUEUE_NUM, num);
	wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
	wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(base >> 32));
	wr32(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x800));
	wr32(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr32(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x1000));
	wr32(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
}

static const uint64_t good_features = (1ULL << VIRTIO_F_VERSION_1) |
	(1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
	(1ULL << DEV_FEATURE_BIT);

/* The whole init of a good driver, up to DRIVER_OK. */
static void bring_up(void)
{
	negotiate(good_features);
	for (unsigned int q = 0; q < NQ; q++)
		setup_queue(q, 16);
	set_status(VIRTIO_STATUS_DRIVER_OK);
}

static void test_v2_identity(void)
{
	setup(2, true);		/* plain v2: no MSI block */
	CHECK_EQ(rd32(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	CHECK_EQ(rd32(VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_ID), 2);
	CHECK_EQ(rd32(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	CHECK_EQ(virtio_mmio_window_size(&t), 0x1000);
	CHECK_EQ(t.stats.invalid, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NOTIFY), 0);	/* write-only in v2 */
	CHECK_EQ(t.stats.invalid, 1);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), 0);	/* no MSI block */
	CHECK_EQ(rd32(VIRTIO_MMIO_MSI_ADDRESS_LOW), 0);
	wr32(VIRTIO_MMIO_MSI_DATA, 5);
	CHECK_EQ(t.stats.invalid, 4);
	CHECK_EQ(rd32(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	CHECK_EQ(rd32(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_mmio_destroy(&t);
}

static void test_v2_good_driver(void)
{
	setup(2, false);
	wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(dev.resets, 1);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(VIRTIO_STATUS_DRIVER);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 3);

	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_FEATURES),
		 (1u << VIRTIO_F_INDIRECT_DESC) | (1u << VIRTIO_F_EVENT_IDX) |
		 (1u << DEV_FEATURE_BIT));
	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_FEATURES), 1);	/* VERSION_1 */
	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_FEATURES), 0);

	negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX));
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	CHECK(t.queues[1].vq.event_idx);	/* visible from FEATURES_OK on */

	wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	wr32(VIRTIO_MMIO_QUEUE_SEL, NQ);	/* no such queue */
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	setup_queue(0, 16);
	setup_queue(1, QMAX);
	wr32(VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(t.queues[1].vq.size, QMAX);
	CHECK_EQ(t.queues[1].vq.avail_gpa, RAM_GPA + 0x2800);
	CHECK_EQ(t.stats.invalid, 0);

	set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xf);
	CHECK_EQ(dev.activates, 1);
	CHECK(t.queues[0].vq.event_idx);
	CHECK(!t.queues[0].vq.indirect);
	CHECK(t.queues[0].vq.desc != NULL);
	CHECK(!t.queues[0].vq.broken);

	/* Notify, then a used-buffer interrupt and its ACK. */
	wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(mt_host.kicks, 1);
	CHECK_EQ(mt_host.last_kick, 1);
	wr32(VIRTIO_MMIO_QUEUE_NOTIFY, NQ);	/* no such queue */
	CHECK_EQ(mt_host.kicks, 1);
	CHECK_EQ(t.stats.queue_notify_exits, 2);
	CHECK_EQ(t.stats.invalid, 1);

	CHECK(!virtio_mmio_irq_pending(&t));
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK(virtio_mmio_irq_pending(&t));
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	virtio_mmio_signal_config(&t);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	CHECK_EQ(mt_host.legacy, 2);
	wr32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 2);
	CHECK(virtio_mmio_irq_pending(&t));
	wr32(VIRTIO_MMIO_INTERRUPT_ACK, 2);
	CHECK(!virtio_mmio_irq_pending(&t));
	CHECK_EQ(t.stats.isr_reads, 3);
	CHECK_EQ(t.stats.isr_acks, 2);
	CHECK_EQ(t.stats.irqs_legacy, 2);
	virtio_mmio_signal_queue(&t, NQ);	/* no such queue: nothing */
	CHECK_EQ(mt_host.legacy, 2);

	/* Reset: everything back, generation kept. */
	wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(dev.resets, 3); /* init, negotiate, now */
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(t.driver_features, 0);
	CHECK(!t.queues[0].vq.ready);
	CHECK_EQ(t.queues[1].vq.size, 0);
	CHECK_EQ(t.queues[1].vq.desc_gpa, 0);
	CHECK(t.queues[1].vq.mem == &mem);
	wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	virtio_mmio_destroy(&t);
}

static void test_feature_refusal(void)
{
	setup(2, false);
	/* No VERSION_1: FEATURES_OK reads back clear. */
	negotiate(1ULL << VIRTIO_F_EVENT_IDX);
	CHECK(!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
	CHECK_EQ(t.stats.invalid, 1);
	/* DRIVER_OK without FEATURES_OK is refused too. */
	set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 3);
	CHECK_EQ(dev.activates, 0);

	/* A feature that was not offered. */
	negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 7));
	CHECK(!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));
	negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 40));
	CHECK(!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK));

	/* Good features; then changing them after FEATURES_OK is ignored. */
	negotiate(good_features);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	CHECK_EQ(t.driver_features, good_features);

	/* Clearing a status bit without reset is invalid and ignored. */
	unsigned long long inv = t.stats.invalid;
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xb);
	CHECK_EQ(t.stats.invalid, inv + 1);
	/* The driver may not set NEEDS_RESET itself. */
	set_status(VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xb);
	/* Upper bits of Status do not exist. */
	wr32(VIRTIO_MMIO_STATUS, 0x10b);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xb);
	CHECK_EQ(t.stats.invalid, inv + 3);
	virtio_mmio_destroy(&t);
}

static void test_queue_reg_rules(void)
{
	setup(2, false);
	negotiate(good_features);

	/* Bad sizes: QueueReady stays 0. */
	uint32_t bad[] = { 0, 3, 48, QMAX * 2, 0x10000, 0xffffffff };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long long inv = t.stats.invalid;

		setup_queue(0, bad[i]);
		CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
		CHECK_EQ(t.stats.invalid, inv + 1);
	}
	setup_queue(0, 8);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 1);

	/* While ready, queue registers are frozen. */
	unsigned long long inv = t.stats.invalid;
	wr32(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234);
	CHECK_EQ(t.queues[0].vq.size, 8);
	CHECK_EQ(t.queues[0].vq.desc_gpa, RAM_GPA);
	CHECK_EQ(t.stats.invalid, inv + 2);
	/* QueueReady 0 before DRIVER_OK unfreezes it. */
	wr32(VIRTIO_MMIO_QUEUE_READY, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	wr32(VIRTIO_MMIO_QUEUE_NUM, 16);
	CHECK_EQ(t.queues[0].vq.size, 16);
	wr32(VIRTIO_MMIO_QUEUE_READY, 2);	/* not a boolean */
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);

	/* Queue registers of a queue that does not exist. */
	inv = t.stats.invalid;
	wr32(VIRTIO_MMIO_QUEUE_SEL, NQ + 5);
	wr32(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(t.stats.invalid, inv + 2);

	/* After DRIVER_OK, a not-ready queue is frozen too. */
	set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(dev.activates, 1);
	inv = t.stats.invalid;
	wr32(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr32(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr32(VIRTIO_MMIO_QUEUE_READY, 0);	/* cannot stop a live queue */
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(t.stats.invalid, inv + 3);
	virtio_mmio_destroy(&t);
}

static void test_activation_failures(void)
{
	setup(2, false);
	negotiate(good_features);
	setup_queue(0, 16);
	/* Ring outside guest RAM: NEEDS_RESET + config interrupt. */
	wr32(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr32(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x80000000);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(dev.activates, 0);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 2);
	CHECK_EQ(mt_host.legacy, 1);
	/* The driver echoing NEEDS_RESET back is not an error. */
	unsigned long long inv = t.stats.invalid;
	set_status(VIRTIO_STATUS_FAILED);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FAILED);
	CHECK_EQ(t.stats.invalid, inv);

	/* The device refusing to activate. */
	wr32(VIRTIO_MMIO_STATUS, 0);
	dev.refuse = true;
	bring_up();
	CHECK_EQ(dev.activates, 1);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	/* The device model finding the driver broken later. */
	dev.refuse = false;
	bring_up();
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xf);
	virtio_mmio_set_needs_reset(&t);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0x4f);
	virtio_mmio_destroy(&t);
}

static void test_bad_accesses(void)
{
	uint8_t b[8];
	uint64_t q = 0;

	setup(2, false);
	unsigned long long inv = t.stats.invalid;

	/* Registers are 32-bit only. */
	CHECK_EQ(rd16(VIRTIO_MMIO_MAGIC_VALUE), 0);
	virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC_VALUE, b, 1);
	CHECK_EQ(b[0], 0);
	virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC_VALUE, &q, 8);
	CHECK_EQ(q, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_MAGIC_VALUE + 2), 0);	/* unaligned */
	wr16(VIRTIO_MMIO_STATUS, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(t.stats.invalid, inv + 5);
	/* Odd lengths, unknown offsets, outside the window. */
	virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC_VALUE, b, 3);
	CHECK_EQ(rd32(0x0e0), 0);
	CHECK_EQ(rd32(0x1000), 0);
	CHECK_EQ(rd32(0xffe), 0);
	CHECK_EQ(rd32(UINT64_MAX - 1), 0);
	wr32(0x0e0, 1);
	wr32(0x2000, 1);
	CHECK_EQ(t.stats.invalid, inv + 12);
	/* Read-only registers are not writable, write-only not readable. */
	wr32(VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr32(VIRTIO_MMIO_INTERRUPT_STATUS, 1);
	wr32(VIRTIO_MMIO_CONFIG_GENERATION, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_SEL), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_ACK), 0);
	CHECK_EQ(t.stats.invalid, inv + 17);
	/* A write straddling registers and config. */
	q = ~0ULL;
	virtio_mmio_write(&t, 0xfc, &q, 8);
	CHECK_EQ(t.stats.invalid, inv + 18);
	CHECK_EQ(dev.config_writes, 0);
	virtio_mmio_destroy(&t);
}

static void test_config_space(void)
{
	uint8_t b;
	uint16_t w;
	uint64_t q;

	setup(2, false);
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 1, &b, 1);
	CHECK_EQ(b, 0x11);
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 2, &w, 2);
	CHECK_EQ(w, 0x1312);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG + 8), 0x1b1a1918);
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG, &q, 8);
	CHECK_EQ(q, 0x1716151413121110ULL);
	CHECK_EQ(t.stats.invalid, 0);
	/* Beyond config_len: 0, counted. */
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG + 10), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG + 0x100), 0);
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 4, &q, 8); /* unaligned 8 */
	CHECK_EQ(q, 0);
	CHECK_EQ(t.stats.invalid, 3);
	wr32(VIRTIO_MMIO_CONFIG + 4, 0xaabbccdd);
	CHECK_EQ(dev.config_writes, 1);
	CHECK_EQ(dev.config[4], 0xdd);
	wr32(VIRTIO_MMIO_CONFIG + 12, 1);
	CHECK_EQ(dev.config_writes, 1);
	CHECK_EQ(t.stats.config_reads, 7);
	CHECK_EQ(t.stats.config_writes, 2);
	/* The device changes its config through its interrupt object: the
	 * bytes read back, ConfigGeneration moves, the driver is told. */
	{
		uint32_t gen = rd32(VIRTIO_MMIO_CONFIG_GENERATION);
		uint16_t cols = 0x4321;
		unsigned int legacy = mt_host.legacy;

		virtio_config_update(virtio_mmio_interrupt(&t), 2, &cols, 2);
		CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG), 0x43211110);
		CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
		CHECK_EQ(mt_host.legacy, legacy + 1);
		CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS) & 2, 2);
		/* Out of range: nothing. */
		virtio_config_update(virtio_mmio_interrupt(&t), 255, &cols, 2);
		CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	}
	virtio_mmio_destroy(&t);
}

/* Programs vector v with the staged address/data protocol. */
static void program(unsigned int v, uint64_t addr, uint32_t data)
{
	wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, (uint32_t)addr);
	wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, (uint32_t)(addr >> 32));
	wr32(VIRTIO_MMIO_MSI_DATA, data);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
}

static void msi_bring_up(void)
{
	bring_up();
	for (unsigned int v = 0; v < NQ + 1; v++)
		program(v, 0xfee00000 + v, 0x40 + v);
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
}

static void test_v3_identity_and_doorbells(void)
{
	setup(3, true);
	CHECK_EQ(rd32(VIRTIO_MMIO_VERSION), 3);
	CHECK_EQ(virtio_mmio_window_size(&t), 0x2000);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NOTIFY), 0x41000);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), NQ + 1);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_COMMAND), 0);
	CHECK_EQ(virtio_mmio_doorbell_offset(&t, 1), 0x1004);
	CHECK_EQ(t.stats.invalid, 0);

	bring_up();
	wr32(virtio_mmio_doorbell_offset(&t, 1), 0);
	CHECK_EQ(mt_host.kicks, 1);
	CHECK_EQ(mt_host.last_kick, 1);
	CHECK_EQ(t.stats.doorbells[1], 1);
	wr32(virtio_mmio_doorbell_offset(&t, 0), 0x1234);	/* value ignored */
	CHECK_EQ(mt_host.kicks, 2);
	CHECK_EQ(mt_host.last_kick, 0);
	/* QueueNotify still works in v3. */
	wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(mt_host.kicks, 3);
	CHECK_EQ(t.stats.queue_notify_exits, 3);

	/* The rest of the doorbell page is ignored. */
	unsigned long long inv = t.stats.invalid;
	wr32(virtio_mmio_doorbell_offset(&t, NQ), 0);
	wr32(0x1ffc, 0);
	wr16(virtio_mmio_doorbell_offset(&t, 0), 0);
	wr32(virtio_mmio_doorbell_offset(&t, 0) + 2, 0);
	CHECK_EQ(rd32(virtio_mmio_doorbell_offset(&t, 0)), 0);
	CHECK_EQ(mt_host.kicks, 3);
	CHECK_EQ(t.stats.invalid, inv + 5);

	/* MSI registers are 16-bit only. */
	CHECK_EQ(rd32(VIRTIO_MMIO_MSI_STATUS), 0);
	wr32(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	CHECK(!t.msi.enabled);
	CHECK_EQ(t.stats.invalid, inv + 7);
	/* Bits 0-10 are read-only. */
	wr16(VIRTIO_MMIO_MSI_STATUS, 0x7ff);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), NQ + 1);
	virtio_mmio_destroy(&t);
}

static void test_v3_without_msi(void)
{
	setup(3, false);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), 0);
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), 0);
	CHECK_EQ(t.stats.invalid, 1);
	program(0, 0xfee00000, 0x41);	/* no vectors to program */
	CHECK_EQ(mt_host.routes, 0);
	CHECK_EQ(t.stats.invalid, 2);
	bring_up();
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK_EQ(mt_host.fires, 0);
	wr32(virtio_mmio_doorbell_offset(&t, 0), 0);
	CHECK_EQ(mt_host.kicks, 1);
	virtio_mmio_destroy(&t);
}

/* --no-doorbells: the driver sees layout 0 and must use QueueNotify; the
 * doorbell page is not there, so writes to it are invalid, not kicks. */
static void test_v3_without_doorbells(void)
{
	no_doorbells = true;
	setup(3, true);
	no_doorbells = false;
	CHECK_EQ(rd32(VIRTIO_MMIO_VERSION), 3);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS) & 0x7ff, NQ + 1);
	bring_up();
	wr32(virtio_mmio_doorbell_offset(&t, 1), 0);
	CHECK_EQ(mt_host.kicks, 0);
	CHECK_EQ(t.stats.doorbells[1], 0);
	CHECK_EQ(t.stats.invalid, 1);
	wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(mt_host.kicks, 1);
	CHECK_EQ(mt_host.last_kick, 1);
	virtio_mmio_destroy(&t);
}

static void test_msi_delivery(void)
{
	setup(3, true);
	msi_bring_up();
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), 0x8000 | (NQ + 1));
	CHECK_EQ(mt_host.routes, NQ + 1);
	CHECK_EQ(mt_host.last_vector, NQ);
	CHECK_EQ(mt_host.last_addr, 0xfee00000 + NQ);
	CHECK_EQ(mt_host.last_data, 0x40 + NQ);
	CHECK(t.msi.vectors[1].programmed);

	/* Queue q -> vector q+1, config -> vector 0, no ISR, no legacy. */
	virtio_mmio_signal_queue(&t, 1);
	CHECK_EQ(mt_host.fired[2], 1);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.fired[1], 1);
	virtio_mmio_signal_config(&t);
	CHECK_EQ(mt_host.fired[0], 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	CHECK_EQ(mt_host.legacy, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK(!virtio_mmio_irq_pending(&t));
	CHECK_EQ(t.msi.stats.irqs[2], 1);

	/* ISR reads 0 and ACK is ignored (and counted) while MSI is on. */
	unsigned long long inv = t.stats.invalid;
	t.interrupt_status = 1;		/* as if left over */
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	wr32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK_EQ(t.interrupt_status, 1);
	CHECK_EQ(t.stats.invalid, inv + 1);
	CHECK_EQ(t.stats.isr_acks, 1);

	/* Writing ENABLE again changes nothing; disabling forgets every
	 * vector (pending ones too) and drops the routes. */
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE | 0x7ff);
	CHECK_EQ(mt_host.unroutes, 0);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 0));
	virtio_mmio_signal_config(&t);
	CHECK(t.msi.vectors[0].pending);
	wr16(VIRTIO_MMIO_MSI_STATUS, 0);
	CHECK_EQ(mt_host.unroutes, NQ + 1);
	CHECK(!t.msi.vectors[0].pending && !t.msi.vectors[0].masked &&
	      !t.msi.vectors[0].programmed);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CHECK_EQ(mt_host.fired[0], 1);

	/* Back on the legacy line. */
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	CHECK(virtio_mmio_irq_pending(&t));

	/* Commands while MSI is off update state but send nothing. */
	program(1, 0xfee00000, 0x41);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UNMASK, 1));
	CHECK(t.msi.vectors[1].programmed);
	CHECK_EQ(mt_host.fires, 3);
	/* Enabling clears InterruptStatus and keeps the programmed vector. */
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	CHECK_EQ(t.interrupt_status, 0);
	CHECK(!virtio_mmio_irq_pending(&t));
	CHECK(t.msi.vectors[1].programmed);
	CHECK_EQ(mt_host.fires, 3);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.fired[1], 2);
	virtio_mmio_destroy(&t);
}

static void test_msi_mask_pending(void)
{
	unsigned int mask1 = VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 1);
	unsigned int unmask1 = VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UNMASK,
						   1);

	setup(3, true);
	msi_bring_up();
	wr16(VIRTIO_MMIO_MSI_COMMAND, mask1);
	virtio_mmio_signal_queue(&t, 0);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.fires, 0);
	CHECK(t.msi.vectors[1].pending);
	CHECK_EQ(t.msi.stats.masked_pending, 2);
	/* Unmask delivers exactly once. */
	wr16(VIRTIO_MMIO_MSI_COMMAND, unmask1);
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK(!t.msi.vectors[1].pending);
	wr16(VIRTIO_MMIO_MSI_COMMAND, unmask1);
	CHECK_EQ(mt_host.fired[1], 1);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.fired[1], 2);

	/* A masked vector's other vectors are unaffected. */
	wr16(VIRTIO_MMIO_MSI_COMMAND, mask1);
	virtio_mmio_signal_queue(&t, 1);
	CHECK_EQ(mt_host.fired[2], 1);
	/* Reprogramming a masked, pending vector does not deliver it... */
	virtio_mmio_signal_queue(&t, 0);
	program(1, 0xfee01000, 0x51);
	CHECK_EQ(mt_host.fired[1], 2);
	/* ...unmasking does, to the new route. */
	wr16(VIRTIO_MMIO_MSI_COMMAND, unmask1);
	CHECK_EQ(mt_host.fired[1], 3);
	CHECK_EQ(t.msi.vectors[1].addr, 0xfee01000);
	virtio_mmio_destroy(&t);
}

static void test_msi_unprogrammed_pending(void)
{
	setup(3, true);
	bring_up();
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	/* Signal before the vector has an address: held pending. */
	virtio_mmio_signal_queue(&t, 1);
	CHECK_EQ(mt_host.fires, 0);
	CHECK(t.msi.vectors[2].pending);
	CHECK_EQ(mt_host.legacy, 0);
	program(2, 0xfee00000, 0x42);
	CHECK_EQ(mt_host.fired[2], 1);
	CHECK(!t.msi.vectors[2].pending);

	/* A failed route leaves the vector unprogrammed. */
	mt_host.route_rc = -22;
	unsigned long long inv = t.stats.invalid;
	program(0, 0xfee00000, 0x40);
	CHECK(!t.msi.vectors[0].programmed);
	CHECK_EQ(t.stats.invalid, inv + 1);
	/* The driver is told (spec 12), and the config event that carries
	 * NEEDS_RESET waits on the unroutable vector 0. */
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(mt_host.fired[0], 0);
	CHECK(t.msi.vectors[0].pending);
	mt_host.route_rc = 0;
	program(0, 0xfee00000, 0x40);
	CHECK_EQ(mt_host.fired[0], 1);
	virtio_mmio_destroy(&t);
}

static void test_msi_torn_update(void)
{
	setup(3, true);
	program(1, 0x00000000fee00000ULL, 0x41);
	CHECK_EQ(t.msi.vectors[1].addr, 0xfee00000);
	/* The driver writes only the low address: the vector keeps its
	 * message until UPDATE. */
	wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, 0xfee0f000);
	CHECK_EQ(t.msi.vectors[1].addr, 0xfee00000);
	CHECK_EQ(mt_host.routes, 1);
	wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, 0x1);
	wr32(VIRTIO_MMIO_MSI_DATA, 0x99);
	/* Staged registers are write-only. */
	CHECK_EQ(rd32(VIRTIO_MMIO_MSI_ADDRESS_LOW), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_MSI_ADDRESS_HIGH), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_MSI_DATA), 0);
	CHECK_EQ(t.msi.staged_addr, 0x1fee0f000ULL);
	CHECK_EQ(t.msi.vectors[1].data, 0x41);
	/* (An UPDATE now would be refused: not an x86 MSI address, spec 7.6,
	 * test_msi_limits.) The high half is staged apart from the low. */
	wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, 0);
	CHECK_EQ(t.msi.staged_addr, 0xfee0f000ULL);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, 1));
	CHECK_EQ(t.msi.vectors[1].addr, 0xfee0f000ULL);
	CHECK_EQ(t.msi.vectors[1].data, 0x99);
	CHECK_EQ(mt_host.routes, 2);
	CHECK_EQ(mt_host.last_addr, 0xfee0f000ULL);
	/* Staged registers changing afterwards do not touch the vector. */
	wr32(VIRTIO_MMIO_MSI_DATA, 0x77);
	CHECK_EQ(t.msi.vectors[1].data, 0x99);

	/* Out-of-range vectors and unknown ops are ignored and counted. */
	unsigned long long inv = t.stats.invalid;
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, NQ + 1));
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 0xfff));
	wr16(VIRTIO_MMIO_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(0, 0));
	wr16(VIRTIO_MMIO_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(4, 0));
	wr16(VIRTIO_MMIO_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(0xf, 1));
	CHECK_EQ(mt_host.routes, 2);
	CHECK_EQ(t.stats.invalid, inv + 5);
	virtio_mmio_destroy(&t);
}

/* Spec 7.6: an UPDATE whose message asks for INIT (or any delivery mode
 * but fixed and lowest priority), or is not at 0xfee00000-0xfeefffff, is
 * refused: never routed, the vector left unprogrammed, its events
 * pending until a good UPDATE. (test_msi_limits has the counters and the
 * stderr line.) */
static void test_msi_refused_message(void)
{
	unsigned long long inv;

	setup(3, true);
	msi_bring_up();
	inv = t.stats.invalid;
	program(1, 0xfee00000, 0x541);		/* INIT, vector 0x41 */
	CHECK_EQ(mt_host.routes, NQ + 1);
	CHECK(!t.msi.vectors[1].programmed);
	CHECK_EQ(mt_host.unroutes, 1);		/* the old route went */
	CHECK_EQ(t.stats.invalid, inv + 1);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(mt_host.fired[1], 0);
	CHECK(t.msi.vectors[1].pending);
	/* Not a reason for NEEDS_RESET (spec 12). */
	CHECK(!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	program(1, 0xfee00000, 0x041);		/* fixed */
	CHECK_EQ(mt_host.routes, NQ + 2);
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK(!t.msi.vectors[1].pending);
	program(1, 0xfee00000, 0x141);		/* lowest priority */
	CHECK_EQ(mt_host.routes, NQ + 3);
	CHECK(t.msi.vectors[1].programmed);

	program(2, 0xfec00000, 0x42);		/* the IOAPIC, not the LAPIC */
	program(2, 0x1fee00000ULL, 0x42);	/* MSIAddressHigh set */
	program(2, 0xfee00000, 0x442);		/* NMI */
	CHECK_EQ(mt_host.routes, NQ + 3);
	CHECK(!t.msi.vectors[2].programmed);
	CHECK_EQ(t.stats.invalid, inv + 4);
	virtio_mmio_destroy(&t);
}

static void test_msi_reset_mid_flight(void)
{
	setup(3, true);
	msi_bring_up();
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 2));
	virtio_mmio_signal_queue(&t, 1);	/* pending on vector 2 */
	wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, 0xdead);	/* half staged */
	CHECK(t.msi.vectors[2].pending);

	wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(mt_host.unroutes, NQ + 1);
	CHECK(!t.msi.enabled);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), NQ + 1);
	CHECK_EQ(t.msi.staged_addr, 0);
	CHECK_EQ(t.msi.staged_data, 0);
	for (unsigned int v = 0; v < NQ + 1; v++) {
		CHECK(!t.msi.vectors[v].programmed);
		CHECK(!t.msi.vectors[v].masked);
		CHECK(!t.msi.vectors[v].pending);
	}
	/* Back on the legacy interrupt. */
	bring_up();
	virtio_mmio_signal_queue(&t, 1);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK_EQ(mt_host.fires, 0);
	/* A second reset drops nothing more. */
	wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(mt_host.unroutes, NQ + 1);
	virtio_mmio_destroy(&t);
}

static void test_print_stats(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	setup(3, true);
	virtio_mmio_set_name(&t, "blk0");
	msi_bring_up();
	virtio_mmio_signal_queue(&t, 0);
	wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	f = open_memstream(&buf, &len);
	virtio_mmio_print_stats(&t, f);
	fclose(f);
	CHECK(strstr(buf, "blk0.isr_reads 0\n") != NULL);
	CHECK(strstr(buf, "blk0.isr_acks 0\n") != NULL);
	CHECK(strstr(buf, "blk0.queue_notify_exits 1\n") != NULL);
	CHECK(strstr(buf, "blk0.irqs_legacy 0\n") != NULL);
	CHECK(strstr(buf, "blk0.irqs_msi_0 0\n") != NULL);
	CHECK(strstr(buf, "blk0.irqs_msi_1 1\n") != NULL);
	CHECK(strstr(buf, "blk0.irqs_msi_2 0\n") != NULL);
	CHECK(strstr(buf, "blk0.invalid 0\n") != NULL);
	CHECK(strstr(buf, "blk0.write.status 5\n") != NULL);
	CHECK(strstr(buf, "blk0.config_reads") == NULL);	/* zero */
	free(buf);
	virtio_mmio_destroy(&t);
}

/* --virtio-version 3-oasis: the virtio spec's Version 3 as a guest sees
 * it. Version reads 3, but the layout is version 2's (feature bits, page
 * 1): no 2019 MSI registers at 0x0c0, QueueNotify write-only. */
static void test_oasis_v3_identity(void)
{
	struct virtio_mmio_config cfg = {
		.version = 3, .oasis_v3 = true, .msi = true,
	};
	uint64_t f;

	memset(&mt_host, 0, sizeof(mt_host));
	memset(&dev, 0, sizeof(dev));
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	virtio_mmio_init(&t, &cfg, &dops, &dev, &mt_host_ops, &mt_host, &mem);
	virtio_mmio_set_config(&t, dev.config);
	CHECK_EQ(rd32(VIRTIO_MMIO_VERSION), 3);
	CHECK_EQ(t.cfg.version, 2);
	CHECK_EQ(virtio_mmio_window_size(&t), 0x2000);
	f = virtio_mmio_offered_features(&t);
	CHECK(f & (1ULL << VIRTIO_F_MMIO_MSI));
	CHECK(f & (1ULL << VIRTIO_F_MMIO_DOORBELLS));
	CHECK_EQ(t.stats.invalid, 0);
	CHECK_EQ(rd16(VIRTIO_MMIO_MSI_STATUS), 0);	/* no 2019 block */
	CHECK_EQ(t.stats.invalid, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NOTIFY), 0);	/* write-only */
	CHECK_EQ(t.stats.invalid, 2);
	virtio_mmio_destroy(&t);
}

int main(void)
{
	RUN(test_v2_identity);
	RUN(test_v2_good_driver);
	RUN(test_feature_refusal);
	RUN(test_queue_reg_rules);
	RUN(test_activation_failures);
	RUN(test_bad_accesses);
	RUN(test_config_space);
	RUN(test_v3_identity_and_doorbells);
	RUN(test_v3_without_msi);
	RUN(test_v3_without_doorbells);
	RUN(test_oasis_v3_identity);
	RUN(test_msi_delivery);
	RUN(test_msi_mask_pending);
	RUN(test_msi_unprogrammed_pending);
	RUN(test_msi_torn_update);
	RUN(test_msi_refused_message);
	RUN(test_msi_reset_mid_flight);
	RUN(test_print_stats);
	return unit_finish("mmio_transport");
}
