/* Shared by the virtio-net fuzz targets: a virtio-net device on a
 * SOCK_SEQPACKET socketpair, a transport brought up by register writes, and
 * 64 KiB of guest memory whose every byte (rings included) is the input's. */
#ifndef MMVM_TESTS_FUZZ_NET_HARNESS_H
#define MMVM_TESTS_FUZZ_NET_HARNESS_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio_net.h"

#define FZ_MEM_SIZE	0x10000
#define FZ_QSIZE	16
/* Rings of queue q: desc at q*0x400, avail at +0x100, used at +0x200. */
#define FZ_RING(q)	((uint64_t)(q) * 0x400)

static uint8_t fz_ram[FZ_MEM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem fz_mem;
static struct virtio_mmio_dev fz_t;
static struct virtio_net *fz_net;
static int fz_peer = -1, fz_devfd = -1;
static uint8_t fz_frame[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 64];

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

/* Brings the device up with the features (and queue size) at the head of
 * the input; the next bytes become guest memory. */
static void fz_setup(const uint8_t **data, size_t *size)
{
	const struct virtio_mmio_config cfg = { .version = 2 };
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0 };
	uint64_t features;
	uint8_t qshift;
	int sv[2];

	if (fz_peer < 0) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
			abort();
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		fz_devfd = sv[0];
		fz_peer = sv[1];
		guest_mem_add_region(&fz_mem, 0, FZ_MEM_SIZE, fz_ram);
	}
	/* Nothing left over from the last input on either side. */
	while (read(fz_peer, fz_frame, sizeof(fz_frame)) >= 0)
		;
	while (read(fz_devfd, fz_frame, sizeof(fz_frame)) >= 0)
		;

	fz_take(data, size, &features, sizeof(features));
	fz_take(data, size, &qshift, 1);
	fz_take(data, size, fz_ram, sizeof(fz_ram));
	features |= 1ULL << VIRTIO_F_VERSION_1;

	fz_net = virtio_net_new(fz_devfd, mac);
	if (!fz_net)
		abort();
	virtio_mmio_init(&fz_t, &cfg, &virtio_net_ops, fz_net, &fz_host_ops,
			 NULL, &fz_mem);
	virtio_net_bind(fz_net, &fz_t);
	fz_wr32(VIRTIO_MMIO_STATUS, 3);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fz_wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	fz_wr32(VIRTIO_MMIO_STATUS, 11);
	for (unsigned int q = 0; q < 2; q++) {
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

static void fz_teardown(void)
{
	virtio_mmio_destroy(&fz_t);
	virtio_net_free(fz_net);
	fz_net = NULL;
}

#endif
