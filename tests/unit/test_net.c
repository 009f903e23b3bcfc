/* virtio-net device model on a real transport and virtqueues, with a
 * SOCK_SEQPACKET socketpair in place of the tap (one frame per read/write,
 * like a tap) and a tiny driver written here that plays the guest. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_net.h"
#include "fake_driver.h"
#include "unit.h"

#define MEM_SIZE	(1 << 20)
#define QSIZE		16
#define BUF_BASE	0x10000

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_mmio_dev t;
static struct virtio_net *net;
static int peer;		/* the "host" end of the fake tap */
static int devfd;		/* the device's end */
static unsigned int irqs, kicks;
static uint64_t next_buf = BUF_BASE;	/* guest buffers, bump allocated */
static struct fake_driver drv;
static unsigned int setup_tx_irq_delay_us;	/* set before setup() binds */
static bool setup_tx_irq_auto;

static void mock_raise(void *host)
{
	irqs++;
}

static void mock_kick(void *host, unsigned int q)
{
	kicks++;	/* the test calls queue_notify itself, outside the lock */
}

static const struct virtio_mmio_host_ops host_ops = {
	.legacy_raise = mock_raise,
	.kick = mock_kick,
};

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&t, off, &v, 4);
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(&t, off, &v, 4);
	return v;
}

static uint64_t offered(void)
{
	uint64_t f;

	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd32(VIRTIO_MMIO_DEVICE_FEATURES);
	wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd32(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* The driver's side of initialisation (virtio 1.2 3.1.1): features (and
 * VERSION_1) accepted, queues 0..nq-1 set up, DRIVER_OK. */
static void drive_to_driver_ok(uint64_t features, unsigned int nq)
{
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER);
	features |= 1ULL << VIRTIO_F_VERSION_1;
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	fake_setup_queues(&drv, nq);
	wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	     VIRTIO_STATUS_DRIVER_OK);
}

/* Fresh device, memory and socketpair; the driver negotiates features. */
static void setup(uint64_t features)
{
	const struct virtio_mmio_config cfg = { .version = 2 };
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 7 };
	int sv[2];

	ram = calloc(1, MEM_SIZE);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, 0, MEM_SIZE, ram);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	peer = sv[1];
	devfd = sv[0];
	net = virtio_net_new(sv[0], mac);
	virtio_mmio_init(&t, &cfg, &virtio_net_ops, net, &host_ops, NULL, &mem);
	virtio_mmio_set_config(&t, virtio_net_config(net));
	virtio_net_set_tx_irq_delay(net, setup_tx_irq_delay_us,
				    setup_tx_irq_auto);
	virtio_net_bind(net, test_device_env(&t));
	irqs = kicks = 0;
	fake_driver_init(&drv, &t, ram, QSIZE);
	drive_to_driver_ok(features, 2);
}

static void teardown(void)
{
	virtio_mmio_destroy(&t);
	virtio_net_free(net);
	close(peer);
	close(devfd);
	free(ram);
	next_buf = BUF_BASE;
}

static uint64_t alloc_buf(uint32_t len)
{
	uint64_t gpa = next_buf;

	next_buf += (len + 15) & ~15u;
	return gpa;
}

static uint16_t post(unsigned int q, uint16_t first,
		     const struct fake_seg *s, unsigned int n)
{
	return fake_post(&drv, q, first, s, n);
}

static bool used(unsigned int q, uint32_t *id, uint32_t *len)
{
	return fake_used(&drv, q, id, len);
}

static void kick(unsigned int q)
{
	virtio_net_ops.queue_notify(net, q);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static const uint64_t all_features =
	(1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
	(1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
	(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
	(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |
	(1ULL << VIRTIO_NET_F_MRG_RXBUF);

static void test_config_and_features(void)
{
	uint8_t mac[6];
	uint16_t status;

	setup(all_features);
	CHECK_EQ(offered() & all_features, all_features);
	CHECK_EQ(rd32(VIRTIO_MMIO_DEVICE_ID), 1);
	CHECK_EQ(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK,
		 VIRTIO_STATUS_DRIVER_OK);
	for (unsigned int i = 0; i < 6; i++)
		virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + i, &mac[i], 1);
	CHECK_EQ(mac[0], 0x52);
	CHECK_EQ(mac[5], 7);
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 6, &status, 2);
	CHECK_EQ(status, VIRTIO_NET_S_LINK_UP);
	teardown();
}

/* A frame in one descriptor, header included, reaches the tap unchanged. */
static void test_tx_simple(void)
{
	uint64_t b = BUF_BASE;
	uint8_t out[2000];
	uint32_t id, len;
	ssize_t r;

	setup(all_features);
	memset(ram + b, 0, 12);
	fill(ram + b + 12, 100, 1);
	post(1, 0, &(struct fake_seg){ b, 112, false }, 1);
	kick(1);
	r = read(peer, out, sizeof(out));
	CHECK_EQ(r, 112);
	CHECK(memcmp(out, ram + b, 112) == 0);
	CHECK(used(1, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_bytes, 100);
	teardown();
}

/* Header alone in the first descriptor, frame split over two more; the
 * checksum-offload header fields pass through. */
static void test_tx_split_csum(void)
{
	uint64_t h = alloc_buf(12), p1 = alloc_buf(40), p2 = alloc_buf(60);
	struct virtio_net_hdr_v1 hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 34, .csum_offset = 16, .num_buffers = 99,
	};
	struct fake_seg s[3] = { { h, 12, false }, { p1, 40, false },
			    { p2, 60, false } };
	uint8_t out[200];
	struct virtio_net_hdr_v1 got;
	ssize_t r;

	setup(all_features);
	memcpy(ram + h, &hdr, 12);
	fill(ram + p1, 40, 3);
	fill(ram + p2, 60, 4);
	post(1, 0, s, 3);
	kick(1);
	r = read(peer, out, sizeof(out));
	CHECK_EQ(r, 112);
	memcpy(&got, out, 12);
	CHECK_EQ(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(got.csum_start, 34);
	CHECK_EQ(got.csum_offset, 16);
	CHECK_EQ(got.num_buffers, 0);	/* ours, not the guest's */
	CHECK(memcmp(out + 12, ram + p1, 40) == 0);
	CHECK(memcmp(out + 52, ram + p2, 60) == 0);
	teardown();
}

/* Headers the device must not pass on: each chain is completed with len 0
 * and nothing reaches the tap. */
static void test_tx_rejects(void)
{
	struct virtio_net_hdr_v1 bad[] = {
		/* checksum field beyond the frame */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 90,
		  .csum_offset = 16 },
		/* unknown flag */
		{ .flags = 0x80 },
		/* TSO without partial checksum */
		{ .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000 },
		/* UDP fragmentation offload: not offered */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		  .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1000 },
		/* ECN bit: not offered */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 14,
		  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | 0x80,
		  .gso_size = 1000 },
		/* TSO with gso_size 0 */
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 14,
		  .gso_type = VIRTIO_NET_HDR_GSO_TCPV6 },
	};
	unsigned int nbad = sizeof(bad) / sizeof(bad[0]);
	uint8_t out[200];
	uint32_t id, len;

	setup(all_features);
	for (unsigned int i = 0; i < nbad; i++) {
		uint64_t b = alloc_buf(112);

		memcpy(ram + b, &bad[i], 12);
		post(1, (uint16_t)i, &(struct fake_seg){ b, 112, false }, 1);
	}
	/* too short for a header, and a runt frame */
	post(1, (uint16_t)nbad, &(struct fake_seg){ alloc_buf(8), 8, false }, 1);
	post(1, (uint16_t)nbad + 1, &(struct fake_seg){ alloc_buf(20), 20, false },
	     1);
	kick(1);
	CHECK_EQ(read(peer, out, sizeof(out)), -1);
	for (unsigned int i = 0; i < nbad + 2; i++) {
		CHECK(used(1, &id, &len));
		CHECK_EQ(id, i);
		CHECK_EQ(len, 0);
	}
	CHECK_EQ(virtio_net_get_stats(net)->tx_dropped, nbad + 2);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 0);
	teardown();

	/* Checksum offload is refused when CSUM was not negotiated. */
	setup(1ULL << VIRTIO_NET_F_MRG_RXBUF);
	memcpy(ram + BUF_BASE, &(struct virtio_net_hdr_v1){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 14 }, 12);
	post(1, 0, &(struct fake_seg){ BUF_BASE, 112, false }, 1);
	kick(1);
	CHECK_EQ(read(peer, out, sizeof(out)), -1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_dropped, 1);
	teardown();
}

/* A TSO frame is passed on when HOST_TSO4 was negotiated. */
static void test_tx_tso(void)
{
	struct virtio_net_hdr_v1 hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
		.hdr_len = 54, .csum_start = 34, .csum_offset = 16,
	};
	uint64_t b = alloc_buf(12 + 60000);
	static uint8_t out[70000];

	setup(all_features);
	memcpy(ram + b, &hdr, 12);
	post(1, 0, &(struct fake_seg){ b, 12 + 60000, false }, 1);
	kick(1);
	CHECK_EQ(read(peer, out, sizeof(out)), 12 + 60000);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 1);
	teardown();
}

/* Fills the fake tap until it takes no more: the next write is EAGAIN. */
static unsigned int fill_tap(void)
{
	static const uint8_t junk[1000];
	unsigned int n = 0;

	while (write(devfd, junk, sizeof(junk)) == sizeof(junk))
		n++;
	return n;
}

static void drain_tap(unsigned int n)
{
	uint8_t out[1000];
	unsigned int got = 0;

	for (unsigned int i = 0; i < n; i++)
		got += read(peer, out, sizeof(out)) == sizeof(out);
	CHECK_EQ(got, n);
}

/* With the tap full, a small frame is copied out and completed (used entry
 * and interrupt) at once and written when the tap has room, exactly once;
 * a large frame stays in guest memory, its chain held until written. */
static void test_tx_copy_when_full(void)
{
	uint64_t small = alloc_buf(112), large = alloc_buf(12 + 3000);
	static uint8_t out[4000];
	unsigned int filler;
	uint32_t id, len;

	setup(all_features);
	memset(ram + small, 0, 12);
	fill(ram + small + 12, 100, 3);
	filler = fill_tap();
	CHECK(filler > 0);
	post(1, 0, &(struct fake_seg){ small, 112, false }, 1);
	kick(1);
	CHECK(used(1, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_copied, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_eagain, 1);
	/* The guest may reuse its buffer now: what is sent is the copy. */
	memset(ram + small, 0xee, 112);
	drain_tap(filler);
	virtio_net_fd_ready(net, EPOLLOUT);
	CHECK_EQ(read(peer, out, sizeof(out)), 112);
	CHECK(out[12] == 3 && out[13] == 10);
	CHECK(!used(1, &id, &len));	/* not pushed a second time */
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 1);

	memset(ram + large, 0, 12);
	fill(ram + large + 12, 3000, 5);
	filler = fill_tap();
	post(1, 1, &(struct fake_seg){ large, 12 + 3000, false }, 1);
	kick(1);
	CHECK(!used(1, &id, &len));	/* held while the tap is full */
	drain_tap(filler);
	virtio_net_fd_ready(net, EPOLLOUT);
	CHECK_EQ(read(peer, out, sizeof(out)), 12 + 3000);
	CHECK(used(1, &id, &len));
	CHECK_EQ(id, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_copied, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 2);
	teardown();
}

/* Mergeable rx buffers: one frame spread over three 100-byte buffers. */
static void test_rx_mergeable(void)
{
	uint8_t frame[12 + 250];
	uint64_t b[3];
	uint32_t id, len;
	uint16_t nb;

	setup(all_features);
	for (unsigned int i = 0; i < 3; i++) {
		b[i] = alloc_buf(100);
		post(0, (uint16_t)i, &(struct fake_seg){ b[i], 100, true }, 1);
	}
	memset(frame, 0, 12);
	fill(frame + 12, 250, 9);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);

	for (unsigned int i = 0; i < 3; i++) {
		CHECK(used(0, &id, &len));
		CHECK_EQ(id, i);
		CHECK_EQ(len, i < 2 ? 100 : 62);
	}
	memcpy(&nb, ram + b[0] + 10, 2);
	CHECK_EQ(nb, 3);
	CHECK(memcmp(ram + b[0] + 12, frame + 12, 88) == 0);
	CHECK(memcmp(ram + b[1], frame + 100, 100) == 0);
	CHECK(memcmp(ram + b[2], frame + 200, 62) == 0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->rx_packets, 1);
	CHECK_EQ(virtio_net_get_stats(net)->rx_bytes, 250);
	teardown();
}

/* No buffers: the frame waits (in the device, then the socket) until the
 * guest posts some and kicks the rx queue. */
static void test_rx_stall_and_kick(void)
{
	uint8_t frame[12 + 60] = { 0 };
	uint32_t id, len;
	uint64_t b;

	setup(all_features);
	fill(frame + 12, 60, 2);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	frame[20] ^= 0xff;
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);
	CHECK(!used(0, &id, &len));
	CHECK_EQ(virtio_net_get_stats(net)->rx_stalls, 1);
	CHECK_EQ(irqs, 0);

	b = alloc_buf(1526);
	post(0, 0, &(struct fake_seg){ b, 1526, true }, 1);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, sizeof(frame));
	CHECK(memcmp(ram + b + 12, frame + 12, 8) == 0);
	CHECK(!used(0, &id, &len));	/* second frame waits again */
	CHECK_EQ(virtio_net_get_stats(net)->rx_stalls, 2);

	b = alloc_buf(1526);
	post(0, 1, &(struct fake_seg){ b, 1526, true }, 1);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(id, 1);
	CHECK(memcmp(ram + b + 12, frame + 12, sizeof(frame) - 12) == 0);
	CHECK_EQ(virtio_net_get_stats(net)->rx_packets, 2);
	teardown();
}

/* Without MRG_RXBUF: one chain per frame, num_buffers 1, a frame too big
 * for the chain is dropped, offload flags are cleared without GUEST_CSUM. */
static void test_rx_single_buffer(void)
{
	uint8_t frame[12 + 200];
	struct virtio_net_hdr_v1 hdr;
	uint64_t small = alloc_buf(100), big = alloc_buf(400);
	uint32_t id, len;

	setup(0);
	memset(frame, 0, 12);
	frame[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	fill(frame + 12, 200, 5);
	post(0, 0, &(struct fake_seg){ small, 100, true }, 1);
	post(0, 1, &(struct fake_seg){ big, 400, true }, 1);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);
	CHECK(used(0, &id, &len));
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 0);		/* too small: dropped */
	CHECK(used(0, &id, &len));
	CHECK_EQ(id, 1);
	CHECK_EQ(len, sizeof(frame));
	memcpy(&hdr, ram + big, 12);
	CHECK_EQ(hdr.num_buffers, 1);
	CHECK_EQ(hdr.flags, 0);
	CHECK(memcmp(ram + big + 12, frame + 12, 200) == 0);
	CHECK_EQ(virtio_net_get_stats(net)->rx_dropped, 1);
	teardown();
}

/* Hostile rx chains: read-only, shorter than the header, a runt frame. */
static void test_rx_hostile(void)
{
	uint8_t frame[12 + 100] = { 0 };
	uint8_t runt[12 + 5] = { 0 };
	uint64_t b = alloc_buf(200);
	uint32_t id, len;
	struct fake_seg split[2];

	setup(all_features);
	post(0, 0, &(struct fake_seg){ alloc_buf(64), 64, false }, 1);
	post(0, 1, &(struct fake_seg){ alloc_buf(8), 8, true }, 1);
	/* header straddling two segments: 11 + 189 bytes */
	split[0] = (struct fake_seg){ b, 11, true };
	split[1] = (struct fake_seg){ b + 11, 189, true };
	post(0, 2, split, 2);
	CHECK_EQ(write(peer, runt, sizeof(runt)), (ssize_t)sizeof(runt));
	fill(frame + 12, 100, 8);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(id, 2);
	CHECK_EQ(len, sizeof(frame));
	CHECK_EQ(ram[b + 10], 1);
	CHECK_EQ(ram[b + 11], 0);
	CHECK(memcmp(ram + b + 12, frame + 12, 100) == 0);
	CHECK_EQ(virtio_net_get_stats(net)->bad_chains, 2);
	CHECK_EQ(virtio_net_get_stats(net)->rx_dropped, 1);
	teardown();
}

/* A reset between a stall and the kick forgets the frame in flight; a
 * reset device ignores kicks and drains the tap. */
static void test_reset(void)
{
	uint8_t frame[12 + 60] = { 0 };
	uint32_t id, len;

	setup(all_features);
	post(0, 0, &(struct fake_seg){ alloc_buf(30), 30, true }, 1);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);	/* 30 of 72 bytes placed */
	CHECK(!used(0, &id, &len));
	wr32(VIRTIO_MMIO_STATUS, 0);
	kick(0);
	kick(1);
	CHECK_EQ(write(peer, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	virtio_net_fd_ready(net, EPOLLIN);
	CHECK_EQ(read(devfd, frame, sizeof(frame)), -1);	/* drained */
	CHECK_EQ(irqs, 0);
	teardown();
}

/* A broken ring (avail index far ahead) asks the driver for a reset. */
static void test_broken_ring(void)
{
	uint16_t *avail;

	setup(all_features);
	avail = (void *)(ram + fake_avail_gpa(1));
	avail[1] = 1000;
	kick(1);
	CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	teardown();
}

/* ---- multi-queue: two pairs on two socketpairs, the control queue ---- */

static int mq_peer[2], mq_devfd[2];

/* A mock TUNSETQUEUE for the multi-queue tests that want one (setup_mq()
 * with mq_mock_attach set), on a clock the test moves. */
static bool mq_mock_attach;
static unsigned int mock_attach_calls;
static bool mock_attached[2];
static uint64_t mock_now;

static int mock_attach(int fd, bool on)
{
	mock_attach_calls++;
	for (unsigned int i = 0; i < 2; i++)
		if (mq_devfd[i] == fd)
			mock_attached[i] = on;
	return 0;
}

static uint64_t mock_clock(void)
{
	return mock_now;
}

static void setup_mq(void)
{
	const struct virtio_mmio_config cfg = { .version = 2 };
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 8 };
	uint64_t features = all_features | (1ULL << VIRTIO_NET_F_MQ) |
			    (1ULL << VIRTIO_NET_F_CTRL_VQ);
	int sv[2];

	ram = calloc(1, MEM_SIZE);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, 0, MEM_SIZE, ram);
	for (unsigned int i = 0; i < 2; i++) {
		socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		mq_devfd[i] = sv[0];
		mq_peer[i] = sv[1];
	}
	net = virtio_net_new_mq(mq_devfd, 2, mac);
	virtio_mmio_init(&t, &cfg, virtio_net_device_ops(net), net, &host_ops,
			 NULL, &mem);
	virtio_mmio_set_config(&t, virtio_net_config(net));
	if (mq_mock_attach) {
		mock_attach_calls = 0;
		mock_attached[0] = mock_attached[1] = true;
		mock_now = 1000000000ULL;
		virtio_net_set_attach_ops(net, mock_attach, mock_clock);
	}
	virtio_net_bind(net, test_device_env(&t));
	irqs = kicks = 0;
	next_buf = 0x80000;	/* above the five queues' rings */
	fake_driver_init(&drv, &t, ram, QSIZE);
	drive_to_driver_ok(features, 5);
}

static void teardown_mq(void)
{
	virtio_mmio_destroy(&t);
	virtio_net_free(net);
	for (unsigned int i = 0; i < 2; i++) {
		close(mq_peer[i]);
		close(mq_devfd[i]);
	}
	free(ram);
	next_buf = BUF_BASE;
}

/* Posts a control command (class, cmd, data out) without a kick;
 * returns where its ack goes (0xee until the device writes it). */
static uint64_t ctrl_post(uint8_t class, uint8_t cmd, const void *data,
			  uint32_t len, uint16_t slot)
{
	uint64_t out = alloc_buf(64), in = alloc_buf(16);

	ram[out] = class;
	ram[out + 1] = cmd;
	memcpy(ram + out + 2, data, len);
	ram[in] = 0xee;
	post(4, slot, (struct fake_seg[]){ { out, 2 + len, false },
					   { in, 1, true } }, 2);
	return in;
}

/* A control command: class, cmd, data out; returns the ack the device
 * wrote (0xee if it wrote none) and checks the used length. */
static uint8_t ctrl(uint8_t class, uint8_t cmd, const void *data,
		    uint32_t len, uint16_t slot)
{
	uint64_t in = ctrl_post(class, cmd, data, len, slot);
	uint32_t id, used_len;

	kick(4);
	if (!used(4, &id, &used_len))
		return 0xff;
	CHECK_EQ(id, slot);
	CHECK_EQ(used_len, 1);
	return ram[in];
}

/* One tx frame on queue q; true if it came out of peer fd. */
static bool tx_on(unsigned int q, uint16_t slot, int fd)
{
	uint8_t got[256];
	uint64_t b = alloc_buf(12 + 60);

	memset(ram + b, 0, 12);
	fill(ram + b + 12, 60, (uint8_t)q);
	post(q, slot, &(struct fake_seg){ b, 12 + 60, false }, 1);
	kick(q);
	return read(fd, got, sizeof(got)) == 60 + 12;
}

static void test_mq(void)
{
	uint16_t pairs, max_pairs;
	uint8_t frame[12 + 60] = { 0 };
	uint32_t id, len;
	uint64_t b;

	setup_mq();
	CHECK_EQ(virtio_net_device_ops(net)->num_queues, 5);
	CHECK_EQ(virtio_net_device_ops(net)->num_workers, 2);
	CHECK(offered() & (1ULL << VIRTIO_NET_F_MQ));
	CHECK(offered() & (1ULL << VIRTIO_NET_F_CTRL_VQ));
	virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 8, &max_pairs, 2);
	CHECK_EQ(max_pairs, 2);

	/* One pair until the driver asks for more (5.1.6.5.5). */
	CHECK(tx_on(1, 0, mq_peer[0]));
	CHECK(!tx_on(3, 0, mq_peer[1]));

	/* Refused: too many, too few, a class not offered, short data. */
	pairs = 3;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      &pairs, 2, 0), VIRTIO_NET_ERR);
	pairs = 0;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      &pairs, 2, 2), VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
		      "\1", 1, 4), VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      "\2", 1, 6), VIRTIO_NET_ERR);

	pairs = 2;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      &pairs, 2, 8), VIRTIO_NET_OK);
	/* The frame posted on queue 3 before goes out with the next one. */
	CHECK(tx_on(3, 1, mq_peer[1]));
	CHECK_EQ(read(mq_peer[1], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 3);

	/* rx on pair 1 fills queue 2, not queue 0. */
	b = alloc_buf(1526);
	post(2, 0, &(struct fake_seg){ b, 1526, true }, 1);
	post(0, 0, &(struct fake_seg){ alloc_buf(1526), 1526, true }, 1);
	fill(frame + 12, 60, 3);
	CHECK_EQ(write(mq_peer[1], frame, sizeof(frame)),
		 (ssize_t)sizeof(frame));
	virtio_net_pair_fd_ready(net, 1, EPOLLIN);
	CHECK(used(2, &id, &len));
	CHECK_EQ(len, sizeof(frame));
	CHECK(memcmp(ram + b + 12, frame + 12, 60) == 0);
	CHECK(!used(0, &id, &len));

	/* Back to one pair: queue 3 is not served again. */
	pairs = 1;
	CHECK_EQ(ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      &pairs, 2, 10), VIRTIO_NET_OK);
	CHECK(!tx_on(3, 2, mq_peer[1]));
	CHECK(tx_on(1, 1, mq_peer[0]));

	/* A command chain with no room for the ack is returned unused. */
	post(4, 12, &(struct fake_seg){ alloc_buf(4), 4, false }, 1);
	kick(4);
	CHECK(used(4, &id, &len));
	CHECK_EQ(len, 0);
	teardown_mq();
}

/* The host's side of one request/response: waits for the guest's frame
 * on the fake tap and answers it with the frame in arg. */
static void *rr_host(void *arg)
{
	const uint8_t *reply = arg;
	struct pollfd pfd = { .fd = peer, .events = POLLIN };
	uint8_t req[2000];

	if (poll(&pfd, 1, 10000) == 1 && read(peer, req, sizeof(req)) > 0)
		(void)!write(peer, reply, 12 + 60);
	return NULL;
}

/* --net poll=US: after the request goes out the worker stays on the pair,
 * takes the host's reply from the tap without a wakeup (no fd_ready, no
 * rx kick: this thread makes neither), and when the window has passed
 * with nothing more, turns tx kicks back on. */
static void test_poll_rr(void)
{
	uint8_t reply[12 + 60] = { 0 };
	const struct virtio_queue_poll *pl;
	uint32_t id, len;
	uint64_t tb, rb;
	pthread_t host;
	uint16_t flags;

	setup(all_features);
	virtio_net_set_poll(net, 200000, false);	/* 200 ms: room for a slow host */
	virtio_net_set_poll_budget(net, 10000000000ULL, 0);	/* not the point */
	fill(reply + 12, 60, 5);
	rb = alloc_buf(1526);
	post(0, 0, &(struct fake_seg){ rb, 1526, true }, 1);
	tb = alloc_buf(12 + 40);
	memset(ram + tb, 0, 12);
	fill(ram + tb + 12, 40, 3);
	post(1, 0, &(struct fake_seg){ tb, 12 + 40, false }, 1);
	CHECK_EQ(pthread_create(&host, NULL, rr_host, reply), 0);
	kick(1);
	pthread_join(host, NULL);
	CHECK(used(1, &id, &len));
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, sizeof(reply));
	CHECK(memcmp(ram + rb + 12, reply + 12, 60) == 0);
	CHECK_EQ(irqs, 2);
	pl = virtio_net_get_poll(net, 0);
	CHECK(pl != NULL);
	CHECK_EQ(pl->polls, 1);
	CHECK(pl->hits >= 1);
	CHECK(pl->spin_ns >= 200000000ull);
	memcpy(&flags, ram + fake_used_gpa(1), sizeof(flags));
	CHECK_EQ(flags & 1, 0);		/* VIRTQ_USED_F_NO_NOTIFY cleared */
	CHECK(virtio_net_get_poll(net, 1) == NULL);
	teardown();
}

/* Without poll= nothing polls: the reply waits for the tap's wakeup. */
static void test_no_poll(void)
{
	uint8_t reply[12 + 60] = { 0 };
	uint32_t id, len;
	uint64_t tb, rb;
	pthread_t host;

	setup(all_features);
	rb = alloc_buf(1526);
	post(0, 0, &(struct fake_seg){ rb, 1526, true }, 1);
	tb = alloc_buf(12 + 40);
	memset(ram + tb, 0, 12);
	post(1, 0, &(struct fake_seg){ tb, 12 + 40, false }, 1);
	CHECK_EQ(pthread_create(&host, NULL, rr_host, reply), 0);
	kick(1);
	pthread_join(host, NULL);
	CHECK(used(1, &id, &len));
	CHECK(!used(0, &id, &len));
	CHECK_EQ(virtio_net_get_poll(net, 0)->polls, 0);
	virtio_net_fd_ready(net, EPOLLIN);
	CHECK(used(0, &id, &len));
	teardown();
}

/* The driver's used_event of queue q (EVENT_IDX), after the avail ring. */
static void set_used_event(unsigned int q, uint16_t v)
{
	memcpy(ram + fake_avail_gpa(q) + 4 + 2 * QSIZE, &v, sizeof(v));
}

/* n frames of len bytes out, posted from descriptor slot on and kicked
 * once: completed and on the tap at once. */
static void send_frames(uint16_t slot, unsigned int n, uint32_t len)
{
	static uint8_t out[12000];
	uint32_t id, ulen;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t tb = alloc_buf(12 + len);

		memset(ram + tb, 0, 12);
		fill(ram + tb + 12, len, (uint8_t)(slot + i));
		post(1, (uint16_t)(slot + i),
		     &(struct fake_seg){ tb, 12 + len, false }, 1);
	}
	kick(1);
	for (unsigned int i = 0; i < n; i++) {
		CHECK_EQ(read(peer, out, sizeof(out)), 12 + len);
		CHECK(used(1, &id, &ulen));
		CHECK_EQ(id, slot + i);
	}
}

/* One small frame out, its interrupt check put off (tx-irq-delay). */
static void send_one(uint16_t slot)
{
	send_frames(slot, 1, 40);
}

/* --net tx-irq-delay=US: a sent frame's interrupt is not sent with its
 * completion; the timer asks later, against the driver's used_event then:
 * due when the driver still waits for that entry (late), not sent when
 * the driver has reclaimed it and moved used_event past it meanwhile
 * (saved), as Linux's receive poll does. */
static void test_tx_irq_delay(void)
{
	const struct virtio_net_stats *st;

	/* Without the option the check is made with the completion. */
	setup(all_features | (1ULL << VIRTIO_F_EVENT_IDX));
	send_one(0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 0);
	teardown();

	setup_tx_irq_delay_us = 1000;
	setup(all_features | (1ULL << VIRTIO_F_EVENT_IDX));
	setup_tx_irq_delay_us = 0;

	/* First frame: the driver wants entry 0's interrupt (used_event 0). */
	send_one(0);
	CHECK_EQ(irqs, 0);
	st = virtio_net_get_stats(net);
	CHECK_EQ(st->tx_irq_deferred, 1);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 1);
	st = virtio_net_get_stats(net);
	CHECK_EQ(st->tx_irq_late, 1);

	/* Second frame, used_event 1: due; but the driver reclaims it before
	 * the timer and asks for the next one (used_event 2): none sent. */
	set_used_event(1, 1);
	send_one(1);
	CHECK_EQ(irqs, 1);
	set_used_event(1, 2);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 1);
	st = virtio_net_get_stats(net);
	CHECK_EQ(st->tx_irq_deferred, 2);
	CHECK_EQ(st->tx_irq_saved, 1);
	CHECK_EQ(st->tx_irq_late, 1);

	/* A timer with nothing armed (a stale expiry) sends nothing. */
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_saved, 1);

	/* Third frame while the driver waits for it: sent when the timer
	 * runs, once. */
	send_one(2);
	CHECK_EQ(irqs, 1);
	virtio_net_tx_irq_timer(net, 0);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 2);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_late, 2);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 3);

	/* A reset while a check is armed: the timer finds the queue gone. */
	set_used_event(1, 3);
	send_one(3);
	wr32(VIRTIO_MMIO_STATUS, 0);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 2);
	teardown();
}

/* tx-irq-delay=auto: the check waits only while the driver's backlog is
 * small: at most NET_TX_IRQ_AUTO_BACKLOG chains ahead of used_event and
 * NET_TX_IRQ_AUTO_BYTES completed since the last check. A stream's
 * frames (many chains, or large ones) get their interrupt at once, and a
 * check put off is made at once when the backlog grows past either. */
static void test_tx_irq_delay_auto(void)
{
	const struct virtio_net_stats *st;

	setup_tx_irq_delay_us = 5000;
	setup_tx_irq_auto = true;
	setup(all_features | (1ULL << VIRTIO_F_EVENT_IDX));
	setup_tx_irq_delay_us = 0;
	setup_tx_irq_auto = false;

	/* A lone small frame (a request): put off, as with a fixed delay. */
	send_one(0);
	CHECK_EQ(irqs, 0);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 1);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_late, 1);

	/* Three frames in one kick, used_event 1: avail->idx runs 3 ahead
	 * of it, a stream: checked at once, nothing put off. */
	set_used_event(1, 1);
	send_frames(1, 3, 40);
	CHECK_EQ(irqs, 2);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 1);

	/* One large frame (over 8 KiB): at once as well. */
	set_used_event(1, 4);
	send_frames(4, 1, 9000);
	CHECK_EQ(irqs, 3);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 1);

	/* A small frame put off, then a large one: the armed check is made
	 * at once (early) and the timer that still fires finds nothing. */
	set_used_event(1, 5);
	send_one(5);
	CHECK_EQ(irqs, 3);
	send_frames(6, 1, 9000);
	CHECK_EQ(irqs, 4);
	st = virtio_net_get_stats(net);
	CHECK_EQ(st->tx_irq_deferred, 2);
	CHECK_EQ(st->tx_irq_early, 1);
	virtio_net_tx_irq_timer(net, 0);
	CHECK_EQ(irqs, 4);
	st = virtio_net_get_stats(net);
	CHECK_EQ(st->tx_irq_late + st->tx_irq_saved + st->tx_irq_early,
		 st->tx_irq_deferred);
	teardown();

	/* Without EVENT_IDX there is no used_event to judge by: at once. */
	setup_tx_irq_delay_us = 5000;
	setup_tx_irq_auto = true;
	setup(all_features);
	setup_tx_irq_delay_us = 0;
	setup_tx_irq_auto = false;
	send_one(0);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_net_get_stats(net)->tx_irq_deferred, 0);
	teardown();
}

/* Would the driver kick queue q for its next buffer (EVENT_IDX, 2.7.10)?
 * Only if the index it moves to passes avail_event, i.e. if avail_event
 * names the entry it writes. */
static bool driver_must_kick(unsigned int q)
{
	uint16_t event;

	memcpy(&event, ram + fake_used_gpa(q) + 4 + 8 * QSIZE, sizeof(event));
	return event == drv.avail_idx[q];
}

static bool late_frame_kick;

/* The guest's next request, 2 ms into the worker's poll window: posted
 * without a kick, after looking whether the driver would have kicked. */
static const struct virtio_queue_poll *late_frame_poll;

/* The driver adding a frame while the window is open: it waits (2 s at
 * most) for the window to open rather than a fixed time, which a loaded
 * machine can overrun, then a little more for the device to turn kicks
 * off, and looks whether it would have to kick. */
static void *late_frame(void *arg)
{
	uint64_t tb = (uint64_t)(uintptr_t)arg;

	for (int i = 0; i < 20000 &&
	     !__atomic_load_n(&late_frame_poll->polls, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
	late_frame_kick = driver_must_kick(1);
	post(1, 2, &(struct fake_seg){ tb, 12 + 40, false }, 1);
	return NULL;
}

/* --net poll=auto: no window until a tx doorbell shows how long one would
 * have had to be (the time since the pair last moved a frame); then the
 * window is that long, and a frame the driver adds inside it needs no
 * kick, even straight after one (EVENT_IDX: avail_event is pointed at an
 * entry already consumed). A doorbell later than the bound halves it. */
static void test_poll_auto(void)
{
	const struct virtio_queue_poll *pl;
	uint8_t out[200];
	uint64_t tb, ns;
	uint32_t id, len;
	pthread_t thr;

	setup(all_features | (1ULL << VIRTIO_F_EVENT_IDX));
	virtio_net_set_poll(net, 50000, true);	/* learnt, up to 50 ms */
	pl = virtio_net_get_poll(net, 0);
	send_one(0);
	CHECK_EQ(pl->polls, 0);		/* nothing learnt: no window */
	CHECK_EQ(pl->ns, 0);
	CHECK(pl->last_work_ns != 0);
	/* 10 ms: a window that long outlasts the frame thread's wake-up on a
	 * loaded machine, and stays within the poll budget (20 ms). */
	nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	late_frame_poll = pl;

	tb = alloc_buf(12 + 40);
	memset(ram + tb, 0, 12);
	fill(ram + tb + 12, 40, 9);
	CHECK_EQ(pthread_create(&thr, NULL, late_frame,
				(void *)(uintptr_t)tb), 0);
	send_one(1);		/* 10 ms later: a window of that, at once */
	pthread_join(thr, NULL);
	CHECK_EQ(pl->grows, 1);
	CHECK(pl->ns >= 10000000 && pl->ns < 50000000);
	CHECK_EQ(pl->polls, 1);
	CHECK(!late_frame_kick);	/* kicks were off in the window */
	CHECK_EQ(pl->hits, 1);		/* ... and it took the frame */
	CHECK_EQ(read(peer, out, sizeof(out)), 12 + 40);
	CHECK(used(1, &id, &len));
	CHECK_EQ(id, 2);
	CHECK(driver_must_kick(1));	/* back on after the window */

	ns = pl->ns;
	nanosleep(&(struct timespec){ .tv_nsec = 80000000 }, NULL);
	send_one(3);		/* later than the bound: halved */
	CHECK_EQ(pl->shrinks, 1);
	CHECK_EQ(pl->ns, ns / 2);
	CHECK_EQ(pl->polls, 2);
	teardown();
}

/* ---- the poll budget, on a simulated clock: each reading advances it
 * by 1 us and the "guest" sends a frame every 900 us (a valid one, or
 * junk: a header with no frame), ringing only when the device asks ---- */

static uint64_t nsim_ns, nsim_due, nsim_buf;
static bool nsim_junk, nsim_rings, nsim_doorbell;
static unsigned int nsim_posts;

static uint64_t net_sim_clock(void)
{
	uint8_t sink[256];
	uint32_t id, len;
	uint16_t flags;

	nsim_ns += 1000;
	if (nsim_ns < nsim_due)
		return nsim_ns;
	nsim_due += 900000;
	while (used(1, &id, &len))
		;
	while (read(peer, sink, sizeof(sink)) > 0)
		;
	if ((uint16_t)(drv.avail_idx[1] - drv.used_seen[1]) >= QSIZE)
		return nsim_ns;
	post(1, drv.avail_idx[1] % QSIZE,
	     &(struct fake_seg){ nsim_buf, nsim_junk ? 12 : 12 + 40, false }, 1);
	nsim_posts++;
	memcpy(&flags, ram + fake_used_gpa(1), sizeof(flags));
	if (nsim_rings && !(flags & 1))
		nsim_doorbell = true;
	return nsim_ns;
}

/* One valid frame and its kick open a window; then the guest trickles
 * for span ns. */
static void net_sim(bool junk, bool rings, uint64_t span)
{
	uint64_t end;

	nsim_buf = alloc_buf(12 + 40);
	memset(ram + nsim_buf, 0, 12);
	fill(ram + nsim_buf + 12, 40, 4);
	nsim_ns = 1000000000ULL;
	nsim_due = nsim_ns + 900000;
	end = nsim_ns + span;
	nsim_junk = junk;
	nsim_rings = rings;
	nsim_doorbell = false;
	nsim_posts = 0;
	virtio_poll_set_clock(net_sim_clock);
	post(1, 0, &(struct fake_seg){ nsim_buf, 12 + 40, false }, 1);
	drv.avail_idx[1] = 1;
	kick(1);
	while (nsim_ns < end) {
		if (nsim_doorbell) {
			nsim_doorbell = false;
			kick(1);
		} else {
			net_sim_clock();
		}
	}
	virtio_poll_set_clock(NULL);
}

/* Frames every 900 us for 10 s, kicked whenever the device asks: the
 * windows catch them until the period's budget is spent; the pair spins
 * at most 20 % of the time and every frame goes out. */
static void test_poll_budget(void)
{
	const struct virtio_queue_poll *pl;
	const uint64_t span = 10000000000ULL;

	setup(all_features);
	virtio_net_set_poll(net, 1000, false);
	pl = virtio_net_get_poll(net, 0);
	net_sim(false, true, span);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, nsim_posts + 1);
	CHECK(pl->spin_ns <= span / 5 + VIRTIO_POLL_BUDGET_NS);
	CHECK(pl->spin_ns >= span / 10);
	CHECK(pl->capped >= 90);
	fprintf(stderr, "  net: %u frames over 10 s, %llu hits, %llu ms spun "
		"(cap %llu ms), %llu periods capped\n", nsim_posts + 1,
		(unsigned long long)pl->hits,
		(unsigned long long)(pl->spin_ns / 1000000),
		(unsigned long long)(span / 5 / 1000000),
		(unsigned long long)pl->capped);
	teardown();
}

/* After one frame, junk every 900 us and no doorbell: junk is no frame
 * moved, so it never restarts the window; the window ends at its bound
 * and the junk waits for a kick that does not come. */
static void test_poll_junk_trickle(void)
{
	const struct virtio_queue_poll *pl;

	setup(all_features);
	virtio_net_set_poll(net, 1000, true);
	pl = virtio_net_get_poll(net, 0);
	((struct virtio_queue_poll *)pl)->ns = 1000000;	/* learnt already */
	net_sim(true, false, 10000000000ULL);
	CHECK_EQ(pl->polls, 1);
	CHECK_EQ(pl->hits, 0);
	CHECK(pl->spin_ns <= 1000000);
	CHECK_EQ(virtio_net_get_stats(net)->tx_packets, 1);
	CHECK(virtio_net_get_stats(net)->tx_dropped >= 1);
	fprintf(stderr, "  net junk trickle: %u chains, %llu us spun\n",
		nsim_posts, (unsigned long long)(pl->spin_ns / 1000));
	teardown();
}

/* ---- PAIRS_SET storms (issue 26, defect 6) ---- */

static uint8_t pairs_set(uint16_t pairs, uint16_t slot)
{
	return ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		    &pairs, 2, slot);
}

/* 1000 PAIRS_SET changes in 1 s (2, 1, 2, ...), each its own kick, the
 * attach timer run every 10 ms: every one answered OK and every one
 * obeyed at once by the data path, but the tap queue attach/detach calls
 * stay within the limit (16 at once, then 10/s), and once the storm ends
 * the tap is attached as the driver last asked. Then, the limit
 * recovered, a change is made at once. */
static void test_pairs_set_storm(void)
{
	struct virtio_net_ctrl_stats st;
	unsigned int base, ok = 0, served_right = 0;

	mq_mock_attach = true;
	setup_mq();
	mq_mock_attach = false;
	base = mock_attach_calls;	/* DRIVER_OK: pair 1 detached */
	CHECK_EQ(base, 1);
	CHECK(!mock_attached[1]);
	for (unsigned int i = 0; i < 1000; i++) {
		uint16_t want = i % 2 ? 1 : 2;

		mock_now += 1000000;
		ok += pairs_set(want, (uint16_t)(2 * i % QSIZE)) ==
		      VIRTIO_NET_OK;
		virtio_net_get_ctrl_stats(net, &st);
		served_right += st.curr_pairs == want;
		if (i % 10 == 9)
			virtio_net_attach_timer(net);
	}
	CHECK_EQ(ok, 1000);
	CHECK_EQ(served_right, 1000);
	virtio_net_get_ctrl_stats(net, &st);
	CHECK(mock_attach_calls - base <= 16 + 10 + 1);
	CHECK_EQ(st.attach_calls, mock_attach_calls);
	CHECK(st.attach_deferred > 0);
	fprintf(stderr, "  storm: 1000 PAIRS_SET in 1 s, %u attach/detach "
		"calls, %llu syncs held back\n", mock_attach_calls - base,
		(unsigned long long)st.attach_deferred);
	/* The last command asked for 1 pair: after the timer, detached. */
	mock_now += 2000000000ULL;
	virtio_net_attach_timer(net);
	CHECK(!mock_attached[1]);
	CHECK_EQ(st.curr_pairs, 1);
	CHECK(!tx_on(3, 0, mq_peer[1]));	/* pair 1 not served */
	/* The limit recovered: a change goes to the tap at once. */
	base = mock_attach_calls;
	mock_now += 2000000000ULL;
	CHECK_EQ(pairs_set(2, 0), VIRTIO_NET_OK);
	CHECK(mock_attached[1]);
	CHECK_EQ(mock_attach_calls - base, 1);
	CHECK(tx_on(3, 1, mq_peer[1]));		/* served again */
	teardown_mq();
}

/* Three PAIRS_SET (2, 1, 2) in one batch: all answered OK, the last
 * applied, the two before it superseded: one attach in all. */
static void test_pairs_set_coalesced(void)
{
	struct virtio_net_ctrl_stats st;
	uint64_t in[3];
	uint16_t p[3] = { 2, 1, 2 };
	unsigned int base;
	uint32_t id, len;

	mq_mock_attach = true;
	setup_mq();
	mq_mock_attach = false;
	base = mock_attach_calls;
	for (unsigned int i = 0; i < 3; i++)
		in[i] = ctrl_post(VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &p[i], 2,
				  (uint16_t)(2 * i));
	kick(4);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(used(4, &id, &len));
		CHECK_EQ(ram[in[i]], VIRTIO_NET_OK);
	}
	virtio_net_get_ctrl_stats(net, &st);
	CHECK_EQ(st.pairs_coalesced, 2);
	CHECK_EQ(st.curr_pairs, 2);
	CHECK_EQ(mock_attach_calls - base, 1);
	CHECK(mock_attached[1]);
	CHECK(tx_on(3, 0, mq_peer[1]));
	teardown_mq();
}

/* Runs f with stderr going to a pipe; returns how many lines of it
 * contain what. */
static unsigned int stderr_lines(void (*f)(void), const char *what)
{
	static char buf[65536];
	unsigned int count = 0;
	int pfd[2], saved;
	ssize_t got;

	fflush(stderr);
	if (pipe(pfd) < 0)
		return 0;
	saved = dup(2);
	dup2(pfd[1], 2);
	f();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(pfd[1]);
	got = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	buf[got > 0 ? got : 0] = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
		count += strstr(l, what) != NULL;
	return count;
}

/* Break the control ring, reset, set the device up again: 6 rounds. */
static void break_ctrl_six_times(void)
{
	const uint64_t features = all_features | (1ULL << VIRTIO_NET_F_MQ) |
				  (1ULL << VIRTIO_NET_F_CTRL_VQ);

	for (unsigned int i = 0; i < 6; i++) {
		uint16_t *avail = (void *)(ram + fake_avail_gpa(4));

		avail[1] = 1000;
		kick(4);
		CHECK(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
		wr32(VIRTIO_MMIO_STATUS, 0);
		memset(ram + fake_avail_gpa(4), 0, 0x1000);
		memset(ram + fake_used_gpa(4), 0, 0x1000);
		drv.avail_idx[4] = drv.used_seen[4] = 0;
		drive_to_driver_ok(features, 5);
	}
}

/* The control queue's breakage is reported 3 times, then once that
 * further breakage is not: as for the data queues (defect 7). */
static void test_ctrl_broken_log_capped(void)
{
	struct virtio_net_ctrl_stats st;

	setup_mq();
	CHECK_EQ(stderr_lines(break_ctrl_six_times, "control queue unusable"),
		 3);
	virtio_net_get_ctrl_stats(net, &st);
	CHECK_EQ(st.ctrl_broken, 6);
	teardown_mq();
	setup_mq();
	CHECK_EQ(stderr_lines(break_ctrl_six_times, "not reported"), 1);
	teardown_mq();
}

int main(void)
{
	RUN(test_config_and_features);
	RUN(test_tx_simple);
	RUN(test_tx_split_csum);
	RUN(test_tx_rejects);
	RUN(test_tx_tso);
	RUN(test_tx_copy_when_full);
	RUN(test_rx_mergeable);
	RUN(test_rx_stall_and_kick);
	RUN(test_rx_single_buffer);
	RUN(test_rx_hostile);
	RUN(test_reset);
	RUN(test_broken_ring);
	RUN(test_mq);
	RUN(test_pairs_set_storm);
	RUN(test_pairs_set_coalesced);
	RUN(test_ctrl_broken_log_capped);
	RUN(test_poll_rr);
	RUN(test_no_poll);
	RUN(test_poll_auto);
	RUN(test_poll_budget);
	RUN(test_poll_junk_trickle);
	RUN(test_tx_irq_delay);
	RUN(test_tx_irq_delay_auto);
	return unit_finish("test_net");
}
