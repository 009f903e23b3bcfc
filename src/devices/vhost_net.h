/* vhost-net backend of virtio-net (--net tap=NAME,vhost=on): one
 * /dev/vhost-net instance carries one queue pair (vhost's vq 0 is the
 * pair's receive queue, vq 1 its transmit queue) between the guest's
 * rings and a tap fd, in the host kernel. The guest's kicks reach vhost
 * through the queues' kick eventfds (KVM ioeventfds), its interrupts
 * leave through call eventfds (KVM irqfds with MSI), so no packet and no
 * notification passes through mmvm. Without MSI (the legacy line) the
 * call fds are relays of this file, watched on the device's worker: a
 * wake-up sets InterruptStatus through virtio_interrupt_queue().
 *
 * The net device (virtio_net.c) drives it:
 *  construction (privileged, before seccomp):
 *    vhost_net_open(tap)           VHOST_SET_OWNER, VHOST_GET_FEATURES
 *    vhost_net_features()          mask its offered feature bits with it
 *  bind (before the guest runs):
 *    vhost_net_set_mem(mem)        VHOST_SET_MEM_TABLE (vq.mem: fixed)
 *    vhost_net_bind_relay(...)     the relay eventfds, on a worker
 *  activate() (vCPU, queue locks held):
 *    virtio_interrupt_queue_fds()  per queue: kick fd, call fd or -1
 *    vhost_net_start(...)          rings, fds, then the tap as backend
 *  reset() (vCPU, queue locks held):
 *    vhost_net_stop(...)           backend off, ring bases read back
 *  teardown: vhost_net_close().
 * While started, the tap fd is vhost's: the device must neither read nor
 * write it, nor serve the pair's queues in queue_notify (they are in
 * ops->backend_queues, so it is not called for them).
 *
 * The vnet header on the tap is 12 bytes (tap.c). VHOST_NET_F_VIRTIO_NET_HDR
 * is never acked: vhost hands the guest's headers to the tap unchanged,
 * and the tap's offload setting (TUNSETOFFLOAD, the device's business)
 * decides what the host kernel may send the guest.
 *
 * Errors: one "mmvm: --net tap=NAME,vhost=on: ..." line each.
 */
#ifndef MMVM_DEVICES_VHOST_NET_H
#define MMVM_DEVICES_VHOST_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtio/virtio_device.h"
#include "vmm/guest_mem.h"

#define VHOST_NET_DEV_PATH	"/dev/vhost-net"

/* Index of a pair's queues in the arrays below (vhost's own numbering). */
#define VHOST_NET_RX	0
#define VHOST_NET_TX	1

struct event_loop;
struct vhost_memory;	/* linux/vhost.h, kept out of the device's namespace */
struct vhost_net;

/* Opens VHOST_NET_DEV_PATH for the tap named tap_name (for messages) and
 * makes this process its owner. NULL after printing one line, e.g.
 * "mmvm: --net tap=tap0,vhost=on: cannot open /dev/vhost-net: No such
 * file or directory". */
struct vhost_net *vhost_net_open(const char *tap_name);
/* The same with another device node (unit tests). */
struct vhost_net *vhost_net_open_path(const char *path, const char *tap_name);
void vhost_net_close(struct vhost_net *vn);

/* Mask of the feature bits a virtio-net device backed by vn may offer:
 * every device-specific bit (0-23; the offloads are the tap's business,
 * the control queue mmvm's) except MRG_RXBUF if vhost lacks it, and of
 * the ring and transport bits (24 and up) only the ring features vhost
 * implements (EVENT_IDX, INDIRECT_DESC, VERSION_1). */
uint64_t vhost_net_features(const struct vhost_net *vn);
/* The same for a VHOST_GET_FEATURES value (pure; unit tests). */
uint64_t vhost_net_mask_features(uint64_t vhost_features);
/* What VHOST_SET_FEATURES gets for the driver's accepted features: the
 * bits vhost knows, never VHOST_NET_F_VIRTIO_NET_HDR nor VHOST_F_LOG_ALL. */
uint64_t vhost_net_ack_features(uint64_t vhost_features, uint64_t acked);

/* VHOST_SET_MEM_TABLE with mem's regions (guest RAM never moves). 0 or
 * -errno after one line. */
int vhost_net_set_mem(struct vhost_net *vn, const struct guest_mem *mem);
/* The table it sets, malloc'd (free()), NULL if out of memory. */
struct vhost_memory *vhost_net_mem_table(const struct guest_mem *mem);

/* The relays for queues rx and tx, whose call fds are -1 at activate:
 * two eventfds watched on loop (the worker serving the pair); a wake-up
 * signals the queue through irq under its lock, if it is still usable.
 * Once, at bind. 0 or -1 after one line. */
int vhost_net_bind_relay(struct vhost_net *vn, struct event_loop *loop,
			 struct virtio_interrupt *irq, struct virtio_queue *rx,
			 struct virtio_queue *tx);

/* DRIVER_OK: VHOST_SET_FEATURES (vhost_net_ack_features(acked)), then per
 * ready queue (index VHOST_NET_RX, VHOST_NET_TX) VHOST_SET_VRING_NUM,
 * _BASE (last_avail_idx), _ADDR (the host views virtq_activate() made),
 * _KICK (kick_fd[i]), _CALL (call_fd[i], or the relay when -1) and last
 * VHOST_NET_SET_BACKEND with tap_fd. A queue that is not ready is left
 * without backend. 0, or -errno after one line (whatever was started is
 * stopped again). */
int vhost_net_start(struct vhost_net *vn, uint64_t acked,
		    struct virtqueue *rx, struct virtqueue *tx,
		    const int kick_fd[2], const int call_fd[2], int tap_fd);

/* Reset: VHOST_NET_SET_BACKEND -1 for the started queues (vhost no
 * longer touches their rings when it returns), then VHOST_GET_VRING_BASE
 * back into their last_avail_idx, used_idx from the ring. Idempotent. */
void vhost_net_stop(struct vhost_net *vn, struct virtqueue *rx,
		    struct virtqueue *tx);

/* The transport changed what queue idx's (VHOST_NET_RX/_TX) interrupt
 * may be: VHOST_SET_VRING_CALL with call_fd, the MSI irqfd vhost may
 * write directly, or with the relay when -1 (the vector is masked or
 * unprogrammed, and its events must stay pending in the table). Nothing
 * to do for a queue vhost does not serve. 0, or -errno after one line. */
int vhost_net_set_call(struct vhost_net *vn, unsigned int idx, int call_fd);

bool vhost_net_running(const struct vhost_net *vn);

/* "<name>.vhost_* value" lines for --stats: starts, stops, relayed
 * interrupts and call fd switches per queue (what vhost moved is not
 * known to mmvm). */
void vhost_net_print_stats(const struct vhost_net *vn, const char *name,
			   FILE *f);

#endif
