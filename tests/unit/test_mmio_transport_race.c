/* A vCPU masking and unmasking a vector while the I/O thread signals it:
 * no message may be sent while masked, none may be lost (the last signal is
 * always covered by a message once the vector ends unmasked), and nothing
 * deadlocks. A second vCPU hammers other registers meanwhile. */
#include <sched.h>
#include <string.h>

#include "unit.h"
#include "virtio/mmio_transport.h"

#define SIGNALS 200000

static struct virtio_mmio_dev t;
static struct guest_mem mem;
static unsigned long signals_done, fires, fired_while_masked;
static unsigned long last_fire_ord;
static volatile int stop;
static unsigned long mask_rounds;

static void h_legacy(void *h) { }
static int h_route(void *h, unsigned int v, bool valid, uint64_t a,
		   uint32_t d) { return 0; }

/* Called with t.lock held, so t's state is stable here. */
static void h_fire(void *h, unsigned int v)
{
	if (v != 1)
		return;
	fires++;
	if (t.msi.vectors[1].masked)
		fired_while_masked++;
	last_fire_ord = __atomic_load_n(&signals_done, __ATOMIC_SEQ_CST);
}

static void h_kick(void *h, unsigned int q) { }

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route,
	.msi_fire = h_fire, .kick = h_kick,
};

static const struct virtio_device_ops dops = {
	.name = "race", .device_id = 1, .num_queues = 2, .queue_max = 8,
};

static void wr16(uint64_t off, uint16_t v) { virtio_mmio_write(&t, off, &v, 2); }
static void wr32(uint64_t off, uint32_t v) { virtio_mmio_write(&t, off, &v, 4); }

static void *io_thread(void *arg)
{
	for (unsigned long i = 0; i < SIGNALS; i++) {
		virtio_mmio_signal_queue(&t, 0);
		__atomic_add_fetch(&signals_done, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *masker(void *arg)
{
	while (!stop) {
		wr16(VIRTIO_MMIO_MSI_COMMAND,
		     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 1));
		wr16(VIRTIO_MMIO_MSI_COMMAND,
		     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UNMASK, 1));
		__atomic_add_fetch(&mask_rounds, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *reader(void *arg)
{
	uint32_t v;

	while (!stop) {
		virtio_mmio_read(&t, VIRTIO_MMIO_INTERRUPT_STATUS, &v, 4);
		virtio_mmio_read(&t, VIRTIO_MMIO_QUEUE_NOTIFY, &v, 4);
		wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	}
	return NULL;
}

static void test_mask_vs_signal(void)
{
	struct virtio_mmio_config cfg = { .version = 3, .msi = true };
	pthread_t io, m, r;

	virtio_mmio_init(&t, &cfg, &dops, NULL, &hops, NULL, &mem);
	wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, 0xfee00000);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, 1));
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);

	CHECK(pthread_create(&m, NULL, masker, NULL) == 0);
	CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
	while (__atomic_load_n(&mask_rounds, __ATOMIC_RELAXED) < 1000)
		sched_yield();
	CHECK(pthread_create(&io, NULL, io_thread, NULL) == 0);
	pthread_join(io, NULL);
	stop = 1;
	pthread_join(m, NULL);
	pthread_join(r, NULL);
	/* End unmasked: whatever is pending goes out now. */
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UNMASK, 1));

	CHECK_EQ(fired_while_masked, 0);
	CHECK(!t.msi.vectors[1].pending);
	CHECK(fires >= 1 && fires <= SIGNALS);
	CHECK(last_fire_ord >= SIGNALS - 1);	/* the last one not lost */
	CHECK_EQ(t.msi.stats.irqs[1], fires);
	/* Each signal either went out or was held; held ones merge. */
	CHECK(t.msi.stats.masked_pending <= SIGNALS);
	fprintf(stderr, "race: %lu mask rounds, %d signals, %lu sent, "
		"%llu held pending\n", mask_rounds, SIGNALS, fires,
		(unsigned long long)t.msi.stats.masked_pending);
	virtio_mmio_destroy(&t);
}

int main(void)
{
	RUN(test_mask_vs_signal);
	return unit_finish("mmio_transport_race");
}
