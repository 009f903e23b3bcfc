/* KVM side of one virtio-mmio device: implements the transport's
 * virtio_mmio_host_ops with eventfds bound into KVM.
 *
 *  - legacy line: an irqfd in resample mode on the device's GSI. The guest's
 *    EOI deasserts the line and signals the resample fd; the I/O thread then
 *    re-asserts it if InterruptStatus is still non-zero (level semantics).
 *  - MSI (v3): one irqfd per vector on its own MSI route (GSI >= 24),
 *    attached when the driver first programs the vector and kept for the
 *    VM's lifetime; invalidating the vector (reset, MSI off) drops only its
 *    route. An attached irqfd whose GSI has no route is inert, and the
 *    transport never fires an unprogrammed vector, so detaching would only
 *    cost two more ioctls per vector for every guest reset.
 *    Route changes go through the VM's GSI routing table, which skips the
 *    ones KVM already has and rate-limits commits (gsi_routing.h). When it
 *    defers one, msi_route says so (VIRTIO_MMIO_MSI_ROUTE_DEFERRED: the
 *    transport holds the vector's events pending) and arms the device's
 *    retry timer; on the I/O thread the timer commits what was held back
 *    and has the transport re-offer its waiting vectors
 *    (virtio_mmio_msi_retry()), which sends what they have pending.
 *  - notifications: per queue, a QueueNotify ioeventfd (datamatch = queue
 *    index) and, with doorbells, a doorbell ioeventfd with its own eventfd
 *    so doorbells and QueueNotify writes are counted apart. The worker
 *    that serves the queue drains them and calls the device's
 *    queue_notify.
 *    A queue a backend serves (ops->backend_queues, vhost-net) has one
 *    eventfd on both ioeventfds, watched by nobody here: it is the
 *    backend's kick fd, so a notification never wakes mmvm. Its
 *    notifications and doorbell rings cannot be counted (the stats omit
 *    them; notify_kicks, the writes that reached userspace, still
 *    count). The backend's call fd is the queue's vector irqfd
 *    (backend_fds host op); after a deferred route is committed the
 *    retry timer fires the backend queues' vectors once, since what the
 *    backend sent while the GSI had no route was dropped by KVM.
 */
#ifndef MMVM_IRQ_VIRTIO_IRQ_H
#define MMVM_IRQ_VIRTIO_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtio/mmio_transport.h"

struct vm;
struct virtio_irq;

struct virtio_irq_queue {
	struct virtio_irq *h;
	unsigned int index;
	int notify_fd;		/* QueueNotify ioeventfd, also host kicks */
	int doorbell_fd;	/* v3 doorbell ioeventfd; -1 on v2 and for
				 * a backend queue (notify_fd serves both) */
	bool backend;		/* served by a backend: nothing watches
				 * notify_fd here */
	uint64_t notifies;	/* QueueNotify writes seen (in kernel+kicks) */
	uint64_t kicks;		/* QueueNotify writes that reached userspace */
	uint64_t doorbells;	/* v3 doorbell writes */
	uint64_t wakeups;	/* queue_notify calls */
};

struct virtio_irq_vector {
	int fd;			/* eventfd bound to gsi while attached */
	int gsi;		/* -1 until first routed; kept afterwards */
	bool attached;
	uint64_t fires;
	uint64_t routes;	/* route programmings */
	uint64_t lost;		/* fired while not routed */
};

struct virtio_irq {
	struct vm *vm;
	struct virtio_mmio_dev *t;
	const char *name;
	uint64_t base;
	unsigned int gsi;
	unsigned int nr_queues;
	unsigned int nr_vectors;	/* 0 unless v3 with MSI */
	int irqfd, resamplefd;
	uint64_t legacy_raises;
	uint64_t resamples;		/* guest EOIs of the legacy line */
	uint64_t resample_reraises;	/* ...with the status still pending */
	uint64_t msi_route_errors;
	uint64_t msi_route_skipped;	/* route already in KVM: no commit */
	uint64_t msi_route_deferred;	/* commit held back by the limit */
	uint64_t msi_route_retries;	/* retry timer expiries */
	uint64_t backend_replays;	/* backend vectors fired after a
					 * deferred route's commit */
	int retry_fd;			/* timerfd: deferred routes; -1 if none */
	struct virtio_irq_vector vectors[VIRTIO_MMIO_MAX_VECTORS];
	struct virtio_irq_queue queues[VIRTIO_MMIO_MAX_QUEUES];
};

extern const struct virtio_mmio_host_ops virtio_irq_host_ops;

/* Prepares h (no KVM calls yet); pass h as the transport's host pointer. */
void virtio_irq_init(struct virtio_irq *h, struct vm *vm,
		     struct virtio_mmio_dev *t, const char *name,
		     uint64_t base, unsigned int gsi);

/* After virtio_mmio_init(t): creates the eventfds and binds them into KVM;
 * queue q's notifications are watched on queue_loop[q] (its worker; NULL
 * or a NULL entry: the I/O thread), the legacy resample and the route
 * retry timer on the I/O thread. Returns 0, or -1 after printing a
 * one-line error. */
struct event_loop;
int virtio_irq_wire(struct virtio_irq *h, struct event_loop *const *queue_loop);

/* Queue q's descriptors, for a backend that serves the queue itself
 * (vhost, or a worker of its own): the eventfds KVM signals for a
 * QueueNotify write and a doorbell write (-1 without doorbells), and the
 * eventfd whose write KVM turns into the queue's MSI (an irqfd on its
 * route once the driver programmed the vector; -1 without MSI). */
struct virtio_irq_fds {
	int notify_fd, doorbell_fd, call_fd;
};
/* For a backend queue the doorbell ioeventfd signals notify_fd too, and
 * doorbell_fd is -1. */
int virtio_irq_queue_fds(const struct virtio_irq *h, unsigned int q,
			 struct virtio_irq_fds *fds);

/* Prints the counters, "key value" per line. */
void virtio_irq_print_stats(const struct virtio_irq *h, FILE *f);

#endif
