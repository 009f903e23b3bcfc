/* The default layout: a Version 2 device offering MSI and doorbells as
 * feature bits (docs/virtio-mmio-msi.md). Driven as a stock driver does
 * (bits not accepted: plain virtio 1.2 on the line, page 1 silent) and as
 * the patched driver does (bits accepted: MSI block and doorbells on page
 * 1), and across the transitions the layout adds: MSI switched on and off
 * at any time without losing an event, MSIVectorState, SELECT. */
#include "unit.h"
#include "mock_transport.h"

#define F_MSI	(1ULL << VIRTIO_F_MMIO_MSI)
#define F_DB	(1ULL << VIRTIO_F_MMIO_DOORBELLS)
#define F_BASE	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX))

#define MSI_ADDR	0xfee00000u
#define MSI_DATA(vec)	(0x4000u | (vec))	/* fixed delivery */

static void setup_default(void)
{
	struct virtio_mmio_config cfg = { .version = 2, .msi = true };

	mt_setup(&cfg);
}

static void program(unsigned int v, uint64_t addr, uint32_t data)
{
	mt_wr32(VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW, (uint32_t)addr);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH, (uint32_t)(addr >> 32));
	mt_wr32(VIRTIO_MMIO_EXT_MSI_DATA, data);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND,
		VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
}

static void cmd(unsigned int op, unsigned int v)
{
	mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(op, v));
}

/* The patched driver's init: both bits, every vector, queues, enable,
 * DRIVER_OK. */
static void patched_init(void)
{
	setup_default();
	CHECK(mt_negotiate(F_BASE | F_MSI | F_DB));
	for (unsigned int v = 0; v <= MT_NQ; v++)
		program(v, MSI_ADDR, MSI_DATA(0x30 + v));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
}

static void test_offered_bits_and_window(void)
{
	struct virtio_mmio_config cfg = { .version = 2, .msi = true };
	uint64_t f;

	mt_setup(&cfg);
	f = mt_device_features();
	CHECK((f & F_MSI) && (f & F_DB));
	CHECK(f & (1ULL << MT_DEV_FEATURE));
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(virtio_mmio_window_size(&mt), 0x2000);
	CHECK_EQ(virtio_mmio_num_vectors(&mt), MT_NQ + 1);
	CHECK(virtio_mmio_has_doorbells(&mt));
	CHECK_EQ(virtio_mmio_doorbell_offset(&mt, 1), 0x1104);

	cfg.no_doorbells = true;		/* --no-doorbells */
	mt_setup(&cfg);
	f = mt_device_features();
	CHECK((f & F_MSI) && !(f & F_DB));
	CHECK_EQ(virtio_mmio_window_size(&mt), 0x2000);

	cfg.msi = false;			/* and --no-msi: plain 1.2 */
	mt_setup(&cfg);
	f = mt_device_features();
	CHECK(!(f & F_MSI) && !(f & F_DB));
	CHECK_EQ(virtio_mmio_window_size(&mt), 0x1000);
	CHECK_EQ(virtio_mmio_num_vectors(&mt), 0);

	cfg.no_doorbells = false;		/* --no-msi alone */
	mt_setup(&cfg);
	f = mt_device_features();
	CHECK(!(f & F_MSI) && (f & F_DB));
	CHECK_EQ(virtio_mmio_window_size(&mt), 0x2000);
	/* MSI not offered: accepting it anyway fails FEATURES_OK. */
	CHECK(!mt_negotiate(F_BASE | F_MSI));
	CHECK(mt_negotiate(F_BASE | F_DB));

	/* The v3 layout offers neither bit: it has its own registers. */
	cfg = (struct virtio_mmio_config){ .version = 3, .msi = true };
	mt_setup(&cfg);
	f = mt_device_features();
	CHECK(!(f & F_MSI) && !(f & F_DB));
	CHECK_EQ(virtio_mmio_doorbell_offset(&mt, 1), 0x1004);
	virtio_mmio_destroy(&mt);
}

/* A driver that does not know the bits: virtio 1.2 on the line. */
static void test_stock_driver(void)
{
	uint64_t inv;

	setup_default();
	CHECK(mt_negotiate(F_BASE));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(mt.stats.invalid, 0);

	virtio_mmio_signal_queue(&mt, 1);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK_EQ(mt_host.fires, 0);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	mt_wr32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK(!virtio_mmio_irq_pending(&mt));
	virtio_mmio_signal_config(&mt);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 2);

	/* Page 1 is silent until the bits are accepted. */
	inv = mt.stats.invalid;
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_STATUS), 0);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_DOORBELL_LAYOUT), 0);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	program(1, MSI_ADDR, MSI_DATA(0x31));
	CHECK(!mt.msi.enabled);
	CHECK(!mt.msi.vectors[1].programmed);
	CHECK_EQ(mt_host.routes, 0);
	CHECK_EQ(mt.stats.invalid, inv + 7);
	/* Nothing of virtio 1.2 moved: 0x0c0 (QueueReset) is not MSI. */
	CHECK_EQ(mt_rd16(VIRTIO_MMIO_MSI_STATUS), 0);
	/* QueueNotify works; a doorbell write before negotiation may
	 * notify (spec 5): here it does. */
	mt_wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(mt_host.kicks, 1);
	mt_wr32(virtio_mmio_doorbell_offset(&mt, 0), 0);
	CHECK_EQ(mt_host.kicks, 2);
	CHECK_EQ(mt_host.last_kick, 0);
	virtio_mmio_destroy(&mt);
}

static void test_patched_driver(void)
{
	uint32_t vs;

	setup_default();
	/* Before FEATURES_OK the block is silent, even with the bits
	 * written. */
	mt_wr32(VIRTIO_MMIO_STATUS, 0);
	mt_set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mt_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)((F_BASE | F_MSI) >> 32));
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_STATUS), 0);

	patched_init();
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_STATUS),
		 VIRTIO_MMIO_MSI_STATUS_ENABLE | (MT_NQ + 1));
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_DOORBELL_LAYOUT), 0x00041100);
	CHECK_EQ(mt_host.routes, MT_NQ + 1);
	CHECK_EQ(mt_host.last_data, MSI_DATA(0x30 + MT_NQ));
	vs = mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE);
	CHECK_EQ(vs, VIRTIO_MMIO_MSI_VS_VALID | VIRTIO_MMIO_MSI_VS_PROGRAMMED |
		 (MT_NQ << VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT));
	CHECK_EQ(mt.stats.invalid, 0);

	virtio_mmio_signal_queue(&mt, 0);
	virtio_mmio_signal_queue(&mt, 1);
	virtio_mmio_signal_config(&mt);
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK_EQ(mt_host.fired[2], 1);
	CHECK_EQ(mt_host.fired[0], 1);
	CHECK_EQ(mt_host.legacy, 0);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* Doorbell i at 0x1100 + 4i notifies queue i, whatever the value. */
	mt_wr32(0x1104, 0xdead);
	CHECK_EQ(mt_host.kicks, 1);
	CHECK_EQ(mt_host.last_kick, 1);
	CHECK_EQ(mt.stats.doorbells[1], 1);
	virtio_mmio_destroy(&mt);
}

static void test_widths_and_reserved(void)
{
	uint64_t inv;

	patched_init();
	inv = mt.stats.invalid;
	CHECK_EQ(mt_rd16(VIRTIO_MMIO_EXT_MSI_STATUS), 0);	/* 32-bit only */
	mt_wr16(VIRTIO_MMIO_EXT_MSI_STATUS, 0);
	CHECK(mt.msi.enabled);
	/* MSICommand with bits 16-31 set: ignored. */
	mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND, 0x10000 |
		VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 1));
	CHECK(!mt.msi.vectors[1].masked);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_COMMAND), 0);	/* write-only */
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_DATA), 0);
	CHECK_EQ(mt_rd32(0x1020), 0);				/* no register */
	mt_wr32(0x10fc, 1);
	CHECK_EQ(mt.stats.invalid, inv + 7);

	/* SELECT names a vector and does nothing else; reserved op 5 is
	 * ignored and leaves MSIVectorState alone. */
	cmd(VIRTIO_MMIO_MSI_CMD_MASK, 2);
	cmd(VIRTIO_MMIO_MSI_CMD_SELECT, 0);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE),
		 VIRTIO_MMIO_MSI_VS_VALID | VIRTIO_MMIO_MSI_VS_PROGRAMMED);
	cmd(5, 2);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE) >>
		 VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT & 0xfff, 0);
	cmd(VIRTIO_MMIO_MSI_CMD_SELECT, 2);
	virtio_mmio_signal_queue(&mt, 1);		/* masked: pending */
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE),
		 VIRTIO_MMIO_MSI_VS_VALID | VIRTIO_MMIO_MSI_VS_PROGRAMMED |
		 VIRTIO_MMIO_MSI_VS_MASKED | VIRTIO_MMIO_MSI_VS_PENDING |
		 (2u << VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT));
	/* A vector beyond NVEC: ignored, state unchanged. */
	cmd(VIRTIO_MMIO_MSI_CMD_SELECT, MT_NQ + 1);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE) >>
		 VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT & 0xfff, 2);
	virtio_mmio_destroy(&mt);
}

/* MSIVectorState tells the driver its UPDATE was refused. */
static void test_refused_update_visible(void)
{
	patched_init();
	program(1, 0xfec00000, MSI_DATA(0x31));		/* the IOAPIC */
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE),
		 VIRTIO_MMIO_MSI_VS_VALID |
		 (1u << VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT));
	CHECK_EQ(mt.msi.stats.bad_address, 1);
	program(1, MSI_ADDR, 0x500 | 0x31);		/* INIT delivery */
	CHECK(!(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE) &
		VIRTIO_MMIO_MSI_VS_PROGRAMMED));
	CHECK_EQ(mt.msi.stats.bad_delivery_mode, 1);
	virtio_mmio_signal_queue(&mt, 0);		/* kept pending */
	CHECK_EQ(mt_host.fired[1], 0);
	program(1, MSI_ADDR, MSI_DATA(0x31));
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE) &
		 VIRTIO_MMIO_MSI_VS_PROGRAMMED, VIRTIO_MMIO_MSI_VS_PROGRAMMED);
	virtio_mmio_destroy(&mt);
}

/* Enabling MSI carries what InterruptStatus holds into the vectors. */
static void test_enable_carries_line(void)
{
	setup_default();
	CHECK(mt_negotiate(F_BASE | F_MSI));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);		/* on the line */
	virtio_mmio_signal_queue(&mt, 0);
	virtio_mmio_signal_config(&mt);
	CHECK_EQ(mt_host.legacy, 2);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 3);

	/* Vector 2 stays unprogrammed: its carried event waits. */
	program(0, MSI_ADDR, MSI_DATA(0x30));
	program(1, MSI_ADDR, MSI_DATA(0x31));
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	CHECK(mt.msi.enabled);				/* with DRIVER_OK */
	CHECK_EQ(mt_host.fired[0], 1);
	CHECK_EQ(mt_host.fired[1], 1);
	CHECK_EQ(mt_host.fired[2], 0);
	CHECK(mt.msi.vectors[2].pending);
	CHECK(!virtio_mmio_irq_pending(&mt));
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	program(2, MSI_ADDR, MSI_DATA(0x32));
	CHECK_EQ(mt_host.fired[2], 1);
	CHECK_EQ(mt.stats.invalid, 0);
	virtio_mmio_destroy(&mt);
}

/* Disabling MSI, also while DRIVER_OK, hands pending events to the line
 * and stops every message at once. */
static void test_disable_carries_pending(void)
{
	unsigned int fires;

	patched_init();
	cmd(VIRTIO_MMIO_MSI_CMD_MASK, 0);
	cmd(VIRTIO_MMIO_MSI_CMD_MASK, 2);
	virtio_mmio_signal_config(&mt);			/* vector 0 pending */
	virtio_mmio_signal_queue(&mt, 1);		/* vector 2 pending */
	fires = mt_host.fires;
	CHECK_EQ(fires, 0);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, 0);
	CHECK(!mt.msi.enabled);
	CHECK_EQ(mt_host.legacy, 1);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	CHECK_EQ(mt_host.unroutes, MT_NQ + 1);		/* every route gone */
	CHECK(!mt.msi.vectors[0].programmed && !mt.msi.vectors[0].pending);
	/* From now on the line, and no message ever. */
	virtio_mmio_signal_queue(&mt, 0);
	CHECK_EQ(mt_host.fires, 0);
	CHECK_EQ(mt_host.legacy, 2);
	cmd(VIRTIO_MMIO_MSI_CMD_UNMASK, 0);
	CHECK_EQ(mt_host.fires, 0);
	/* Disabling again is a no-op; nothing pending: no line. */
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, 0);
	CHECK_EQ(mt_host.legacy, 2);
	CHECK_EQ(mt.stats.invalid, 0);
	virtio_mmio_destroy(&mt);
}

/* Reset forgets the negotiation: page 1 is silent again. */
static void test_reset(void)
{
	patched_init();
	cmd(VIRTIO_MMIO_MSI_CMD_SELECT, 1);
	mt_wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK(!mt.msi.enabled);
	CHECK_EQ(mt_host.unroutes, MT_NQ + 1);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_STATUS), 0);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE), 0);
	CHECK(mt_negotiate(F_BASE | F_MSI));
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_STATUS), MT_NQ + 1);
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_MSI_VECTOR_STATE), 0);
	/* MSI accepted, doorbells not: no layout. */
	CHECK_EQ(mt_rd32(VIRTIO_MMIO_EXT_DOORBELL_LAYOUT), 0);
	virtio_mmio_destroy(&mt);
}

int main(void)
{
	RUN(test_offered_bits_and_window);
	RUN(test_stock_driver);
	RUN(test_patched_driver);
	RUN(test_widths_and_reserved);
	RUN(test_refused_update_visible);
	RUN(test_enable_carries_line);
	RUN(test_disable_carries_pending);
	RUN(test_reset);
	return unit_finish("test_mmio_msi_features");
}
