#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/tap.h"

int tap_open(const char *name, bool multi_queue)
{
	struct ifreq ifr;
	int hdr_len = TAP_VNET_HDR_LEN;
	int fd, err;

	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ)
		return -EINVAL;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	/* No packet-info prefix: the vnet header is the only thing before
	 * each frame, exactly the layout of a virtio-net buffer. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (multi_queue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* The kernel default is the 10-byte legacy header; virtio 1.x always
	 * has num_buffers, and matching it lets tx chains go out as they are. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		goto fail;
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int tap_set_offloads(int fd, const struct tap_offloads *o)
{
	unsigned long flags = 0;

	if (o->csum) {
		flags |= TUN_F_CSUM;
		/* Segmentation offload implies partial checksums. */
		if (o->tso4)
			flags |= TUN_F_TSO4;
		if (o->tso6)
			flags |= TUN_F_TSO6;
	}
	if (ioctl(fd, TUNSETOFFLOAD, flags) < 0)
		return -errno;
	return 0;
}

int tap_attach_queue(int fd, bool on)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(fd, TUNSETQUEUE, &ifr) < 0)
		return -errno;
	return 0;
}
