/* Shared by the virtio-net fuzz targets: a virtio-net device on a
 * SOCK_SEQPACKET socketpair behind fuzz_device_harness.h's transport. */
#ifndef MMVM_TESTS_FUZZ_NET_HARNESS_H
#define MMVM_TESTS_FUZZ_NET_HARNESS_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_net.h"
#include "fuzz/fuzz_device_harness.h"

#define FZ_QSIZE	16

static struct virtio_net *fz_net;
static int fz_peer = -1, fz_devfd = -1;
static uint8_t fz_frame[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 64];

/* The socketpair, made once, emptied before each input. */
static void fz_setup_fds(void)
{
	int sv[2];

	if (fz_peer < 0) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
			abort();
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		fz_devfd = sv[0];
		fz_peer = sv[1];
	}
	/* Nothing left over from the last input on either side. */
	while (read(fz_peer, fz_frame, sizeof(fz_frame)) >= 0)
		;
	while (read(fz_devfd, fz_frame, sizeof(fz_frame)) >= 0)
		;
}

static inline void fz_setup(const uint8_t **data, size_t *size)
{
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0 };

	fz_setup_fds();
	fz_net = virtio_net_new(fz_devfd, mac);
	if (!fz_net)
		abort();
	/* fz_bring_up() binds it before DRIVER_OK activates it. */
	fz_bring_up(&virtio_net_ops, fz_net, 2, data, size);
}

/* Whatever reached the "tap" must be one header plus a bounded frame. */
static inline void fz_check_tap_frames(void)
{
	ssize_t r;

	while ((r = read(fz_peer, fz_frame, sizeof(fz_frame))) >= 0)
		if (r < VIRTIO_NET_HDR_LEN + 14 ||
		    r > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)
			abort();
}

static void fz_teardown(void)
{
	virtio_mmio_destroy(&fz_t);
	virtio_net_free(fz_net);
	fz_net = NULL;
}

#endif
