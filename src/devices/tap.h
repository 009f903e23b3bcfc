/* Host tap interface for virtio-net: an fd that reads and writes one
 * Ethernet frame per call, each preceded by a 12-byte virtio-net header
 * (IFF_VNET_HDR with TUNSETVNETHDRSZ), so that checksum and segmentation
 * offload metadata passes between guest and host kernel untouched. */
#ifndef MMVM_DEVICES_TAP_H
#define MMVM_DEVICES_TAP_H

#include <stdbool.h>

/* Length of the virtio 1.x net header (with num_buffers) on the tap fd. */
#define TAP_VNET_HDR_LEN 12

/* Attaches to tap interface name (created if it does not exist and we may),
 * non-blocking, close-on-exec, with the vnet header set up and all offloads
 * off. With multi_queue, as one more queue of a multi-queue tap
 * (IFF_MULTI_QUEUE; -EINVAL if the interface exists without it). Returns
 * the fd or -errno. */
int tap_open(const char *name, bool multi_queue);

/* Attaches (on) or detaches queue fd of a multi-queue tap: the kernel
 * steers received flows only to attached queues. Returns 0 or -errno. */
int tap_attach_queue(int fd, bool on);

/* Offloads the reader (the guest) accepts on packets from the host. */
struct tap_offloads {
	bool csum;	/* partial checksums */
	bool tso4;	/* TCPv4 segmentation (needs csum) */
	bool tso6;	/* TCPv6 segmentation (needs csum) */
};

/* Tells the tap which offloaded packets it may hand us. Returns 0 or -errno. */
int tap_set_offloads(int fd, const struct tap_offloads *o);

#endif
