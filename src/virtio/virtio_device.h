/* What a virtio device model sees of the world (src/devices/virtio_*.c):
 * the only header of the transport side a device includes.
 *
 * A device model's constructor returns a struct virtio_device_spec: its
 * ops and its initial config space as bytes. The device manager
 * (src/devmgr/) attaches it and binds it (ops->bind) to a struct
 * virtio_device_env: handles on its queues, an interrupt object and the
 * worker threads' event loops that serve its queues. The queues are the
 * device's to use between activate() and reset(): each one only under
 * its handle's lock (virtio_queue_begin()/_end()), which the transport
 * also takes to start, stop and reset the queue, so a reset can never
 * take a ring away in the middle of a request. Interrupts and
 * DEVICE_NEEDS_RESET go through the interrupt object, while the queue's
 * lock is still held: a reset cannot come between deciding and
 * delivering (the race of issue 12). The device touches nothing else of
 * the transport, and nothing of KVM.
 *
 * Threads: queue_notify(q) runs on the worker that serves q
 * (ops->num_workers threads per device, queue q on worker
 * ops->queue_worker(q), or q % num_workers). Different queues may be
 * served at the same time on different workers; a device whose queues
 * share state serves them on one worker or takes the handles' locks in
 * index order. activate() and reset() run on a vCPU thread with every
 * queue's lock held, config_write() on a vCPU thread with the register
 * lock held.
 */
#ifndef MMVM_VIRTIO_VIRTIO_DEVICE_H
#define MMVM_VIRTIO_VIRTIO_DEVICE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtio/virtqueue.h"

#define VIRTIO_MAX_QUEUES	16
#define VIRTIO_MAX_WORKERS	VIRTIO_MAX_QUEUES
#define VIRTIO_CONFIG_MAX	256	/* bytes of device config space */

struct event_loop;

/* One queue as its device sees it. The storage belongs to the transport
 * and lives as long as the device. */
struct virtio_queue {
	pthread_mutex_t lock;	/* the ring and live; order: after the
				 * transport's register lock, before its
				 * interrupt lock */
	struct virtqueue vq;	/* the split ring, under lock */
	bool live;		/* DRIVER_OK with this queue ready and its
				 * rings valid; set and cleared by the
				 * transport under lock */
	unsigned int index;
	const uint32_t *device_status;	/* atomic; NEEDS_RESET stops it */
};

/* The eventfds of a queue served by a backend outside mmvm (vhost):
 * see virtio_interrupt_queue_fds(). */
struct virtio_queue_fds {
	int kick_fd;	/* signalled for each driver notification */
	int call_fd;	/* a write interrupts the driver for this queue
			 * (its MSI irqfd), or -1: relay it yourself */
};

/* Device -> driver, implemented by the transport. */
struct virtio_interrupt_ops {
	void (*queue)(void *opaque, unsigned int q);	/* used buffers */
	void (*config)(void *opaque);	/* config space changed */
	void (*needs_reset)(void *opaque);	/* the driver broke the
						 * device: NEEDS_RESET */
	void (*config_update)(void *opaque, uint32_t off, const void *data,
			      uint32_t len);
	/* Optional: a backend queue's eventfds (virtio_interrupt_queue_fds) */
	int (*queue_fds)(void *opaque, unsigned int q,
			 struct virtio_queue_fds *fds);
};

struct virtio_interrupt {
	const struct virtio_interrupt_ops *ops;
	void *opaque;
};

/* Used buffers were added to queue q (the caller has consulted
 * virtq_should_notify() and holds q's lock). */
static inline void virtio_interrupt_queue(struct virtio_interrupt *irq,
					  unsigned int q)
{
	irq->ops->queue(irq->opaque, q);
}

/* The driver broke a ring or a request: DEVICE_NEEDS_RESET, and a config
 * interrupt once DRIVER_OK. Call it with the lock of the queue at fault. */
static inline void virtio_interrupt_needs_reset(struct virtio_interrupt *irq)
{
	irq->ops->needs_reset(irq->opaque);
}

/* New bytes in config space: ConfigGeneration moves and, once DRIVER_OK,
 * the driver gets a config interrupt. Any thread, any time after attach. */
static inline void virtio_config_update(struct virtio_interrupt *irq,
					uint32_t off, const void *data,
					uint32_t len)
{
	irq->ops->config_update(irq->opaque, off, data, len);
}

/* For a queue in ops->backend_queues, at activate() (on the vCPU, every
 * queue's lock held), where a backend in the host kernel (vhost) is to
 * serve it without mmvm in the path:
 *  - kick_fd: the eventfd KVM signals for the driver's notifications of
 *    q (its QueueNotify ioeventfd with datamatch q and, with doorbells,
 *    its doorbell ioeventfd: one eventfd on both, so no kick wakes mmvm).
 *    It lives as long as the device; it counts kicks from before the
 *    backend started, which the backend then sees at once.
 *  - call_fd: when MSI is on and the driver has programmed and unmasked
 *    q's vector by DRIVER_OK, the irqfd of that vector: a write becomes
 *    the MSI in the kernel. Otherwise -1: the device relays (an eventfd
 *    of its own, watched on its worker, which on a wake-up calls
 *    virtio_interrupt_queue() under q's lock: InterruptStatus and the
 *    line, or the vector once it is programmed, as for any interrupt).
 *    The choice holds until reset: the vector's later MASK commands and
 *    MSI being switched off while DRIVER_OK are not seen by a backend
 *    writing the irqfd (a guest that masks gets a spurious interrupt at
 *    most; one that switches MSI off while running loses interrupts).
 *    A vector whose route the host deferred (rate limit, gsi_routing.h)
 *    drops what the backend sends until the route is committed; the
 *    host then fires the vector once, so nothing stays unseen.
 * Returns 0, or -errno (q is not a backend queue, or the host cannot
 * serve it so; the device should refuse to activate). */
static inline int virtio_interrupt_queue_fds(struct virtio_interrupt *irq,
					     unsigned int q,
					     struct virtio_queue_fds *fds)
{
	if (!irq->ops->queue_fds)
		return -EOPNOTSUPP;
	return irq->ops->queue_fds(irq->opaque, q, fds);
}

/* What attaching gives a device model (kept for its lifetime). */
struct virtio_device_env {
	struct virtio_interrupt *irq;
	unsigned int nr_queues;
	struct virtio_queue *queues[VIRTIO_MAX_QUEUES];
	/* The loops its queue_notify runs on; a device watches its own
	 * host fds (tap, stdin) on workers[0]. NULL in unit tests. */
	unsigned int nr_workers;
	struct event_loop *workers[VIRTIO_MAX_WORKERS];
};

/* Handed to activate(): what was negotiated. */
struct virtio_activation {
	uint64_t features;	/* accepted by the driver */
	const struct virtio_device_env *env;
};

struct virtio_device_ops {
	const char *name;		/* "blk", "net", ... for logs */
	uint32_t device_id;		/* virtio device type */
	uint64_t features;		/* device-specific feature bits offered */
	unsigned int num_queues;
	uint16_t queue_max;		/* QueueNumMax for every queue */
	uint32_t config_len;		/* bytes of config space (<= 256) */
	unsigned int num_workers;	/* threads serving the queues (0: 1) */
	/* Bit q: queue q is served by a backend outside mmvm (vhost-net):
	 * nothing watches its notifications in userspace, queue_notify is
	 * never called for it, and the device gets its eventfds at
	 * activate() with virtio_interrupt_queue_fds(). Set per instance
	 * (the ops of a device with vhost=on), before attach. */
	uint32_t backend_queues;
	/* Which worker serves queue q (NULL: q % num_workers). */
	unsigned int (*queue_worker)(unsigned int q);
	/* Optional: the driver wrote config space (the transport has
	 * bounded off+len by config_len). */
	void (*config_write)(void *dev, uint32_t off, const void *data,
			     uint32_t len);
	/* DRIVER_OK: the ready queues are live. Return false to refuse (the
	 * transport sets DEVICE_NEEDS_RESET). */
	bool (*activate)(void *dev, const struct virtio_activation *act);
	/* Status 0: stop using the queues (they are no longer live). */
	void (*reset)(void *dev);
	/* Optional, for backend queues: queue q's vector became one the
	 * backend may signal directly (MSI on, programmed, unmasked) or
	 * stopped being one, while the device runs; the device fetches the
	 * queue's fds again (virtio_interrupt_queue_fds()) and hands the
	 * backend the new call fd. On the vCPU thread, register lock held. */
	void (*backend_irq_changed)(void *dev, unsigned int q);
	/* Queue q was kicked; on q's worker thread, no lock held. */
	void (*queue_notify)(void *dev, unsigned int q);
	/* Once, at attach, before the guest runs: the device keeps env and
	 * watches its own host fds on env->workers[0] (when there are
	 * workers). Returns 0, or -1 after printing a one-line error. */
	int (*bind)(void *dev, const struct virtio_device_env *env);
	/* Optional: the device's own counters for --stats, printed after
	 * the transport's as "<name>.<key> <value>" lines, at exit. */
	void (*print_stats)(void *dev, const char *name, FILE *f);
	/* Optional: mmvm is ending (whatever the reason: power-off, reboot,
	 * panic, timeout, signal), the vCPUs and workers have been stopped
	 * (one that did not stop in time may still run: the device guards
	 * its own state against it); on the main thread, once, before
	 * print_stats. The device makes what
	 * the guest wrote durable (blk: fdatasync). Returns 0, or -1 after
	 * printing a one-line error (mmvm then exits non-zero). */
	int (*shutdown)(void *dev, const char *name);
};

/* What a device model's constructor hands the device manager
 * (src/devmgr/): the ops (per instance where features or queue counts
 * differ), the device, its initial config space. */
struct virtio_device_spec {
	const struct virtio_device_ops *ops;
	void *dev;
	const void *config;	/* ops->config_len bytes */
};

/* Takes q's lock; true if q is live and the device not broken (then the
 * ring may be used until virtio_queue_end()), false with the lock
 * dropped again otherwise. */
bool virtio_queue_begin(struct virtio_queue *q);
void virtio_queue_end(struct virtio_queue *q);
/* With q's lock held: may q's ring be used? */
bool virtio_queue_usable(const struct virtio_queue *q);

/* q's lock whatever its state, for a device whose own state sits beside
 * its queues (several of them: in index order). */
static inline void virtio_queue_lock(struct virtio_queue *q)
{
	pthread_mutex_lock(&q->lock);
}

static inline void virtio_queue_unlock(struct virtio_queue *q)
{
	pthread_mutex_unlock(&q->lock);
}

/* Two queues served together (a pair whose state sits beside both
 * rings): lower index first, as the lock order asks. */
static inline void virtio_queue_lock_pair(struct virtio_queue *a,
					  struct virtio_queue *b)
{
	if (a->index > b->index) {
		struct virtio_queue *t = a;

		a = b;
		b = t;
	}
	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&b->lock);
}

static inline void virtio_queue_unlock_pair(struct virtio_queue *a,
					    struct virtio_queue *b)
{
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&b->lock);
}

#endif
