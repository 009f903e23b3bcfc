/* virtio-net device model backed by a host tap interface.
 *
 * One queue pair (0 = receive, 1 = transmit) by default; with N > 1 pairs
 * (VIRTIO_NET_F_MQ) queues 2i and 2i+1 are pair i, on queue i of a
 * multi-queue tap, and queue 2N is the control queue. Every packet on
 * either ring starts with the 12-byte virtio 1.x header; the tap fd speaks
 * the same header (see tap.h), so checksum and TSO offloads pass through.
 */
#ifndef MMVM_DEVICES_VIRTIO_NET_H
#define MMVM_DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue_run.h"
#include "virtio/virtio_device.h"
#include "vmm/config.h"

/* Creates virtio-net device number index (0-based, also the last byte of
 * the default MAC 52:54:00:12:34:<index>) on tap nc->tap and attaches it to
 * the VM. Returns 0, or -1 after printing a one-line error. */
int virtio_net_make(const struct net_config *nc, unsigned int index,
		    struct virtio_device_spec *spec);

/* ---- Below: for unit tests and fuzzers, which run the device model on
 * a socketpair and a transport of their own instead of a tap and a VM. */

#define VIRTIO_NET_ID		1
#define VIRTIO_NET_RXQ		0
#define VIRTIO_NET_TXQ		1
#define VIRTIO_NET_QUEUE_SIZE	256
/* 2N data queues and the control queue fit the transport's 16. */
#define VIRTIO_NET_MAX_PAIRS	((VIRTIO_MAX_QUEUES - 1) / 2)
#define VIRTIO_NET_HDR_LEN	12
/* Largest frame either way: a 64 KiB TSO packet plus link headers. */
#define VIRTIO_NET_MAX_FRAME	(65536 + 256)

struct virtio_net_stats {
	uint64_t tx_packets, tx_bytes;	/* frames written to the tap */
	uint64_t tx_dropped;	/* malformed by the guest or refused by tap */
	uint64_t tx_eagain;	/* tap full: waited for EPOLLOUT */
	uint64_t tx_copied;	/* small frames completed before the write */
	uint64_t tx_irq_deferred;	/* tx-irq-delay: checks put off */
	uint64_t tx_irq_late;	/* ... that found the interrupt still due */
	uint64_t tx_irq_saved;	/* ... that found the driver had reclaimed */
	uint64_t tx_irq_early;	/* ... made at once: auto's backlog grew */
	uint64_t rx_packets, rx_bytes;	/* frames given to the guest */
	uint64_t rx_dropped;	/* did not fit the guest's buffers, runts */
	uint64_t rx_stalls;	/* waited for the guest to post buffers */
	uint64_t bad_chains;	/* chains returned unused (len 0) */
	uint64_t broken_rings;	/* rings found unusable: NEEDS_RESET */
};

struct virtio_net;

/* The ops of a one-pair device (virtio_net_new()). */
extern const struct virtio_device_ops virtio_net_ops;

/* The device model alone, on fd (a tap, or a SOCK_SEQPACKET socket in
 * tests; non-blocking). NULL if out of memory. */
struct virtio_net *virtio_net_new(int fd, const uint8_t mac[6]);
/* ... with nr_pairs queue pairs on fds[0..nr_pairs-1] (1 to
 * VIRTIO_NET_MAX_PAIRS; NULL otherwise). Its ops are its own. */
struct virtio_net *virtio_net_new_mq(const int *fds, unsigned int nr_pairs,
				     const uint8_t mac[6]);
const struct virtio_device_ops *virtio_net_device_ops(const struct virtio_net *n);
/* Binds n to its transport's handles (as the device manager does; unit
 * tests pass an env without workers). */
int virtio_net_bind(struct virtio_net *n, const struct virtio_device_env *env);
/* Its config space bytes, for the transport. */
const void *virtio_net_config(const struct virtio_net *n);
/* A pair's fd is ready (what its edge-triggered EPOLLIN|EPOLLOUT watch
 * calls); virtio_net_fd_ready() is pair 0's, with the device as opaque. */
void virtio_net_pair_fd_ready(struct virtio_net *n, unsigned int pair,
			      uint32_t events);
void virtio_net_fd_ready(void *opaque, uint32_t events);
/* The pairs' counters summed (not while the workers run). */
const struct virtio_net_stats *virtio_net_get_stats(struct virtio_net *n);
/* --net poll=US|auto: each pair's bounded polling (0: off; see
 * pair_poll()); adaptive (auto): the window is learnt from the tx
 * doorbells' gaps, poll_us bounds it (net_queue_notify()). Before
 * binding. */
void virtio_net_set_poll(struct virtio_net *n, unsigned int poll_us,
			 bool adaptive);
/* Tests: each pair's poll budget, budget_ns of spinning per period_ns
 * (0: VIRTIO_POLL_BUDGET_NS, VIRTIO_POLL_PERIOD_NS). After
 * virtio_net_set_poll(). */
void virtio_net_set_poll_budget(struct virtio_net *n, uint64_t budget_ns,
				uint64_t period_ns);
/* --net tx-irq-delay=US|auto: each pair's tx interrupt check put off by
 * up to US microseconds (0: off; see tx_irq_due()); adaptive (auto):
 * only while the driver's backlog of sent frames is small
 * (tx_irq_may_wait()). Before binding. */
void virtio_net_set_tx_irq_delay(struct virtio_net *n, unsigned int delay_us,
				 bool adaptive);
/* Tests: the tap queue attach/detach call (TUNSETQUEUE, tap.h's
 * tap_attach_queue() for a multi-queue tap; NULL: nothing to attach) and
 * the clock its rate limit reads (NULL: CLOCK_MONOTONIC). Before
 * binding. */
void virtio_net_set_attach_ops(struct virtio_net *n,
			       int (*attach_queue)(int fd, bool on),
			       uint64_t (*now_ns)(void));
/* Runs the attach timer's handler now: the tap queue changes the rate
 * limit held back, as far as it allows (tests). */
void virtio_net_attach_timer(struct virtio_net *n);
/* Its control queue counters (tests): TUNSETQUEUE calls made, syncs the
 * limit held back, PAIRS_SET commands superseded in their batch, pairs
 * enabled now. */
struct virtio_net_ctrl_stats {
	uint64_t attach_calls, attach_deferred, pairs_coalesced, ctrl_broken;
	unsigned int curr_pairs;
};
void virtio_net_get_ctrl_stats(const struct virtio_net *n,
			       struct virtio_net_ctrl_stats *st);
/* Runs pair's tx-irq-delay timer handler now (tests). */
void virtio_net_tx_irq_timer(struct virtio_net *n, unsigned int pair);
/* Pair i's polling counters (tests; not thread-safe while it runs). */
const struct virtio_queue_poll *virtio_net_get_poll(const struct virtio_net *n,
						    unsigned int pair);
void virtio_net_free(struct virtio_net *n);

#endif
