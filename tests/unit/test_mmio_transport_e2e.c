/* Transport and virtqueue together, as a driver and device would use them:
 * the test plays a guest driver (rings in fake guest RAM, set up through
 * the registers) and a small echo device (pops a request, writes the
 * uppercased bytes back, pushes, signals). Checks what the guest would see:
 * used ring contents, interrupts by vector or InterruptStatus, suppression
 * with EVENT_IDX, and NEEDS_RESET when the driver breaks the ring. */
#include <ctype.h>
#include <string.h>

#include "unit.h"
#include "virtio/mmio_transport.h"

#define RAM_GPA		0x80000000ULL
#define RAM_SIZE	0x20000ULL
#define QSZ		8
#define DESC		(RAM_GPA + 0x0000)
#define AVAIL		(RAM_GPA + 0x1000)
#define USED		(RAM_GPA + 0x2000)
#define BUF		(RAM_GPA + 0x8000)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtio_mmio_dev t;

static struct {
	unsigned int legacy, kicks, fired[VIRTIO_MMIO_MAX_VECTORS];
	int last_kick;
} host;

static void h_legacy(void *h) { host.legacy++; }
static int h_route(void *h, unsigned int v, bool valid, uint64_t a,
		   uint32_t d) { return 0; }
static void h_fire(void *h, unsigned int v) { host.fired[v]++; }
static void h_kick(void *h, unsigned int q) { host.kicks++; host.last_kick = q; }

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route,
	.msi_fire = h_fire, .kick = h_kick,
};

/* Echo device: one queue; each request is "out" bytes, the reply goes to
 * the writable part, uppercased. */
static struct virtq_chain chain;
static unsigned int bad_chains;

static void echo_queue_notify(void *dev, unsigned int q)
{
	struct virtio_queue *vqh = &t.queues[q];
	struct virtqueue *vq = &vqh->vq;
	enum virtq_pop_result r;
	bool pushed = false, broken = false;

	/* Held like src/virtio/queue_run.c does. */
	if (!virtio_queue_begin(vqh))
		return;
	while ((r = virtq_pop(vq, &chain)) != VIRTQ_POP_EMPTY) {
		uint8_t buf[256];
		uint64_t n;

		if (r == VIRTQ_POP_BROKEN) {
			broken = true;
			break;
		}
		if (r == VIRTQ_POP_BAD_CHAIN) {
			bad_chains++;
			virtq_push(vq, chain.head, 0);
			pushed = true;
			continue;
		}
		n = virtq_chain_read(&chain, 0, buf, sizeof(buf));
		for (uint64_t i = 0; i < n; i++)
			buf[i] = (uint8_t)toupper(buf[i]);
		virtq_push(vq, chain.head,
			   (uint32_t)virtq_chain_write(&chain, 0, buf, n));
		pushed = true;
	}
	/* Delivered under the lock, as the devices do (virtio_device.h). */
	if (pushed && virtq_should_notify(vq))
		virtio_interrupt_queue(virtio_mmio_interrupt(&t), q);
	if (broken)
		virtio_interrupt_needs_reset(virtio_mmio_interrupt(&t));
	virtio_queue_end(vqh);
}

static const struct virtio_device_ops echo_ops = {
	.name = "echo", .device_id = 0x42, .num_queues = 1, .queue_max = QSZ,
	.queue_notify = echo_queue_notify,
};

static void *gpa(uint64_t a) { return ram + (a - RAM_GPA); }
static uint16_t *avail(void) { return gpa(AVAIL); }
static uint16_t *used(void) { return gpa(USED); }
static struct virtq_used_elem *used_elem(unsigned int i)
{
	return (struct virtq_used_elem *)gpa(USED + 4) + i;
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(&t, off, &v, 4);
	return v;
}

static void wr32(uint64_t off, uint32_t v) { virtio_mmio_write(&t, off, &v, 4); }
static void wr16(uint64_t off, uint16_t v) { virtio_mmio_write(&t, off, &v, 2); }

/* The guest driver's init; msi: program vectors and enable MSI. */
static void driver_init(unsigned int version, bool msi, uint64_t features)
{
	struct virtio_mmio_config cfg = { .version = version, .msi = msi };

	memset(ram, 0, sizeof(ram));
	memset(&host, 0, sizeof(host));
	bad_chains = 0;
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, RAM_GPA, RAM_SIZE, ram);
	virtio_mmio_init(&t, &cfg, &echo_ops, NULL, &hops, NULL, &mem);

	CHECK_EQ(rd32(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_ID), 0x42);
	wr32(VIRTIO_MMIO_STATUS, 0);
	wr32(VIRTIO_MMIO_STATUS, 1);
	wr32(VIRTIO_MMIO_STATUS, 3);
	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	features &= rd32(VIRTIO_MMIO_DEVICE_FEATURES) |
		    ((uint64_t)0xffffffff << 32);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr32(VIRTIO_MMIO_STATUS, 0xb);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xb);
	if (msi) {
		uint16_t st;

		virtio_mmio_read(&t, VIRTIO_MMIO_MSI_STATUS, &st, 2);
		CHECK_EQ(st & VIRTIO_MMIO_MSI_STATUS_NVEC, 2);
		for (unsigned int v = 0; v < 2; v++) {
			wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, 0xfee00000);
			wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, 0);
			wr32(VIRTIO_MMIO_MSI_DATA, 0x30 + v);
			wr16(VIRTIO_MMIO_MSI_COMMAND,
			     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
		}
	}
	wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_QUEUE_NUM_MAX), QSZ);
	wr32(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
	wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr32(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL);
	wr32(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr32(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED);
	wr32(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr32(VIRTIO_MMIO_QUEUE_READY, 1);
	if (msi) {
		uint16_t st;

		wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
		virtio_mmio_read(&t, VIRTIO_MMIO_MSI_STATUS, &st, 2);
		CHECK(st & VIRTIO_MMIO_MSI_STATUS_ENABLE);
	}
	wr32(VIRTIO_MMIO_STATUS, 0xf);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS), 0xf);
}

/* Posts "text" as a two-descriptor request in slot id and returns. */
static void post(unsigned int id, const char *text)
{
	struct virtq_desc *d = gpa(DESC);
	uint64_t out = BUF + id * 0x200, in = out + 0x100;
	uint16_t idx = avail()[1];

	memcpy(gpa(out), text, strlen(text));
	d[2 * id] = (struct virtq_desc){ out, (uint32_t)strlen(text),
					 VIRTQ_DESC_F_NEXT, 2 * id + 1 };
	d[2 * id + 1] = (struct virtq_desc){ in, 0x100, VIRTQ_DESC_F_WRITE, 0 };
	avail()[2 + idx % QSZ] = 2 * id;
	__atomic_store_n(&avail()[1], idx + 1, __ATOMIC_RELEASE);
}

/* The guest's notify: through the doorbell (v3) or QueueNotify. */
static void notify(bool doorbell)
{
	if (doorbell)
		wr32(virtio_mmio_doorbell_offset(&t, 0), 0);
	else
		wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* The host would wake the I/O thread; do its job here. */
	if (host.kicks) {
		host.kicks = 0;
		echo_queue_notify(NULL, (unsigned int)host.last_kick);
	}
}

static void test_v2_echo(void)
{
	driver_init(2, false, (1ULL << VIRTIO_F_VERSION_1));
	CHECK(!t.queues[0].vq.event_idx);
	post(0, "hello");
	notify(false);
	CHECK_EQ(used()[1], 1);
	CHECK_EQ(used_elem(0)->id, 0);
	CHECK_EQ(used_elem(0)->len, 5);
	CHECK(memcmp(gpa(BUF + 0x100), "HELLO", 5) == 0);
	CHECK_EQ(host.legacy, 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	wr32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CHECK(!virtio_mmio_irq_pending(&t));

	/* The driver asks for no interrupts: the device honours it. */
	avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	post(1, "quiet");
	notify(false);
	CHECK_EQ(used()[1], 2);
	CHECK_EQ(host.legacy, 1);
	CHECK_EQ(t.stats.queue_notify_exits, 2);
	virtio_mmio_destroy(&t);
}

static void test_v3_msi_echo_event_idx(void)
{
	uint16_t *used_event;

	driver_init(3, true, (1ULL << VIRTIO_F_VERSION_1) |
		    (1ULL << VIRTIO_F_EVENT_IDX));
	CHECK(t.queues[0].vq.event_idx);
	used_event = &avail()[2 + QSZ];

	post(0, "abc");
	notify(true);
	CHECK_EQ(used()[1], 1);
	CHECK(memcmp(gpa(BUF + 0x100), "ABC", 3) == 0);
	CHECK_EQ(host.fired[1], 1);	/* queue 0 -> vector 1 */
	CHECK_EQ(host.legacy, 0);
	CHECK_EQ(rd32(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(t.stats.doorbells[0], 1);
	/* The device asked to be kicked past what it consumed. */
	CHECK_EQ(*(uint16_t *)gpa(USED + 4 + 8 * QSZ), 1);

	/* Driver: interrupt me only after the 3rd completion from now. */
	*used_event = 3;
	post(1, "x");
	notify(true);
	post(2, "y");
	notify(true);
	CHECK_EQ(host.fired[1], 1);
	post(3, "z");
	notify(true);
	CHECK_EQ(used()[1], 4);
	CHECK_EQ(host.fired[1], 2);
	CHECK(memcmp(gpa(BUF + 3 * 0x200 + 0x100), "Z", 1) == 0);

	/* Masked: the completion is held, and delivered once on unmask. */
	*used_event = 4;
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 1));
	post(0, "m");
	notify(true);
	CHECK_EQ(host.fired[1], 2);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UNMASK, 1));
	CHECK_EQ(host.fired[1], 3);

	/* A config change goes to vector 0. */
	virtio_mmio_signal_config(&t);
	CHECK_EQ(host.fired[0], 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	virtio_mmio_destroy(&t);
}

static void test_broken_driver_needs_reset(void)
{
	driver_init(3, true, (1ULL << VIRTIO_F_VERSION_1));
	/* A loop is this request's problem only. */
	struct virtq_desc *d = gpa(DESC);
	d[0] = (struct virtq_desc){ BUF, 4, VIRTQ_DESC_F_NEXT, 0 };
	avail()[2] = 0;
	avail()[1] = 1;
	notify(true);
	CHECK_EQ(bad_chains, 1);
	CHECK_EQ(used()[1], 1);
	CHECK_EQ(used_elem(0)->len, 0);
	CHECK(!(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));

	/* avail idx jumping far ahead breaks the ring: NEEDS_RESET, and the
	 * driver hears of it on vector 0. */
	avail()[1] = 1 + QSZ + 1;
	notify(true);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(host.fired[0], 1);

	/* Reset brings it back to life. */
	virtio_mmio_destroy(&t);
	driver_init(3, true, (1ULL << VIRTIO_F_VERSION_1));
	post(0, "ok");
	notify(true);
	CHECK(memcmp(gpa(BUF + 0x100), "OK", 2) == 0);
	virtio_mmio_destroy(&t);
}

int main(void)
{
	RUN(test_v2_echo);
	RUN(test_v3_msi_echo_event_idx);
	RUN(test_broken_driver_needs_reset);
	return unit_finish("mmio_transport_e2e");
}
