/* libFuzzer target: the register file with real device models behind it.
 * Three transports in the default layout (Version 2 with the MSI and
 * doorbell feature bits) front the real request code of virtio-blk (on a
 * 64-sector memfd), virtio-rng and virtio-console (input from a pipe,
 * output to /dev/null); a kick runs the model's queue at once, as the I/O
 * thread would. The input is a sequence of 7-byte records:
 *   byte 0    bits 0-1: width 1/2/4/8; bit 2: write; bits 4-7: action
 *             (0-11 register access on device (offset bits 13-14), 12
 *             guest RAM write, 13 signal config, 14 reset all, 15 kick
 *             every queue of every device)
 *   bytes 1-2 offset (LE): bits 0-12 in the window, 13-14 the device
 *   bytes 3-6 value
 * Guest RAM is 64 KiB at 0 whose bytes the records write, rings included.
 * Sanitizers and the models' own bounds are what is checked: no access
 * outside guest RAM, the image or the buffers, whatever the guest does. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_blk_req.h"
#include "devices/virtio_console.h"
#include "devices/virtio_rng.h"
#include "virtio/mmio_transport.h"
#include "virtio/queue_run.h"

#define RAM_SIZE	0x10000
#define RECORD		7
#define NDEV		3

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct virtio_mmio_dev t[NDEV];
static struct blk_backend be;
static struct virtio_console *con;
static struct virtq_chain blk_chain_buf, rng_chain_buf;
static int image_fd = -1, in_r = -1, in_w = -1, out_fd = -1;

static uint32_t blk_chain(void *dev, unsigned int q, struct virtq_chain *c)
{
	return blk_handle_request(&be, c);
}

static void blk_notify(void *dev, unsigned int q)
{
	virtio_queue_run(&t[0].queues[q], virtio_mmio_interrupt(&t[0]),
			 &blk_chain_buf, blk_chain, dev);
}

static uint32_t rng_chain(void *dev, unsigned int q, struct virtq_chain *c)
{
	return virtio_rng_fill(c);
}

static void rng_notify(void *dev, unsigned int q)
{
	virtio_queue_run(&t[1].queues[q], virtio_mmio_interrupt(&t[1]),
			 &rng_chain_buf, rng_chain, dev);
}

static const struct virtio_device_ops blk_ops = {
	.name = "blk", .device_id = 2, .num_queues = 2, .queue_max = 64,
	.features = (1ULL << 9) | (1ULL << 12),	/* FLUSH, MQ */
	.queue_notify = blk_notify,
};
static const struct virtio_device_ops rng_ops = {
	.name = "rng", .device_id = 4, .num_queues = 1, .queue_max = 64,
	.queue_notify = rng_notify,
};

static void h_legacy(void *h) { }
static int h_route(void *h, unsigned int v, bool valid, uint64_t a,
		   uint32_t d) { return 0; }
static void h_fire(void *h, unsigned int v) { }

static uint32_t kicked[NDEV];	/* queues to run, per device */

/* A kick that came through the registers, with the transport's lock held
 * (as on a vCPU): remembered, and run after the access, as the I/O thread
 * would. */
static void h_kick(void *h, unsigned int q)
{
	struct virtio_mmio_dev *d = h;

	if (q >= virtio_mmio_num_queues(d))
		abort();
	kicked[d - t] |= 1u << q;
}

static void run_kicks(void)
{
	for (unsigned int k = 0; k < NDEV; k++) {
		uint32_t m = kicked[k];

		kicked[k] = 0;
		for (unsigned int q = 0; m; q++, m >>= 1)
			if (m & 1)
				t[k].ops->queue_notify(t[k].dev, q);
	}
}

static const struct virtio_mmio_host_ops hops = {
	.legacy_raise = h_legacy, .msi_route = h_route, .msi_fire = h_fire,
	.kick = h_kick,
};

static void setup_once(void)
{
	int p[2];

	guest_mem_add_region(&mem, 0, RAM_SIZE, ram);
	image_fd = memfd_create("fuzz-devices", 0);
	if (image_fd < 0 || ftruncate(image_fd, 64 * 512) ||
	    pipe2(p, O_NONBLOCK | O_CLOEXEC))
		abort();
	in_r = p[0];
	in_w = p[1];
	out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out_fd < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_mmio_config cfg = { .version = 2,
						       .msi = true };
	static const uint32_t widths[4] = { 1, 2, 4, 8 };
	uint8_t junk[256];

	if (image_fd < 0)
		setup_once();
	memset(ram, 0, sizeof(ram));
	memset(kicked, 0, sizeof(kicked));
	while (read(in_r, junk, sizeof(junk)) > 0)
		;
	if (write(in_w, "input", 5) != 5)
		abort();
	if (blk_backend_init(&be, image_fd, 64, false, false, 0))
		abort();
	con = virtio_console_new(in_r, out_fd, false);
	if (!con)
		abort();
	virtio_mmio_init(&t[0], &cfg, &blk_ops, NULL, &hops, &t[0], &mem);
	virtio_mmio_init(&t[1], &cfg, &rng_ops, NULL, &hops, &t[1], &mem);
	virtio_mmio_init(&t[2], &cfg, &virtio_console_ops, con, &hops, &t[2],
			 &mem);
	virtio_mmio_set_config(&t[2], virtio_console_config(con));
	virtio_console_bind(con, test_device_env(&t[2]));

	for (size_t i = 0; i + RECORD <= size; i += RECORD) {
		const uint8_t *r = data + i;
		uint32_t len = widths[r[0] & 3];
		unsigned int action = r[0] >> 4;
		uint16_t raw = (uint16_t)(r[1] | r[2] << 8);
		uint64_t off = raw & 0x1fff, val = 0, out;
		struct virtio_mmio_dev *d = &t[(raw >> 13) % NDEV];

		memcpy(&val, r + 3, 4);
		switch (action) {
		case 12:
			memcpy(ram + (raw % (RAM_SIZE - 4)), r + 3, 4);
			break;
		case 13:
			virtio_mmio_signal_config(d);
			break;
		case 14:
			for (unsigned int k = 0; k < NDEV; k++)
				virtio_mmio_write(&t[k], VIRTIO_MMIO_STATUS,
						  &(uint32_t){ 0 }, 4);
			break;
		case 15:
			for (unsigned int k = 0; k < NDEV; k++)
				for (unsigned int q = 0;
				     q < virtio_mmio_num_queues(&t[k]); q++)
					t[k].ops->queue_notify(t[k].dev, q);
			break;
		default:
			if (r[0] & 4)
				virtio_mmio_write(d, off, &val, len);
			else
				virtio_mmio_read(d, off, &out, len);
			break;
		}
		run_kicks();
	}
	for (unsigned int k = 0; k < NDEV; k++)
		virtio_mmio_destroy(&t[k]);
	virtio_console_free(con);
	blk_backend_destroy(&be);
	return 0;
}
