/* KVM interrupt and notification wiring of one virtio-mmio device. */
#include "irq/virtio_irq.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "irq/gsi_routing.h"
#include "irq/kvm_fds.h"
#include "vmm/event_loop.h"
#include "vmm/vm.h"

/* Counters are bumped from vCPU threads and the I/O thread alike. */
#define COUNT(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

static void legacy_raise(void *host)
{
	struct virtio_irq *h = host;

	COUNT(h->legacy_raises, 1);
	eventfd_kick(h->irqfd);
}

/* A route change was deferred: come back when the limit allows a commit
 * (a later one by any device carries this change too). */
static void arm_retry(struct virtio_irq *h, struct gsi_routing *r)
{
	uint64_t ns = gsi_routing_retry_ns(r);
	struct itimerspec its;

	if (h->retry_fd < 0)
		return;
	if (ns < 100000)
		ns = 100000;	/* 0 would disarm the timer */
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	timerfd_settime(h->retry_fd, 0, &its, NULL);
}

/* gsi_routing's result for the transport: 0 when KVM has the route,
 * VIRTIO_MMIO_MSI_ROUTE_DEFERRED when it does not yet. */
static int route_result(struct virtio_irq *h, struct gsi_routing *r, int ret)
{
	if (ret == GSI_ROUTING_UNCHANGED)
		COUNT(h->msi_route_skipped, 1);
	if (ret != GSI_ROUTING_DEFERRED)
		return 0;
	COUNT(h->msi_route_deferred, 1);
	arm_retry(h, r);
	return VIRTIO_MMIO_MSI_ROUTE_DEFERRED;
}

/* The transport calls this under its device lock, which serialises all
 * changes to one device's vectors. */
static int msi_route(void *host, unsigned int vector, bool valid,
		     uint64_t addr, uint32_t data)
{
	struct virtio_irq *h = host;
	struct virtio_irq_vector *v;
	struct gsi_routing *r = h->vm->gsi_routing;
	int ret;

	if (vector >= h->nr_vectors || !r)
		return -EINVAL;
	v = &h->vectors[vector];

	if (!valid) {
		/* The irqfd stays attached (virtio_irq.h). */
		if (v->gsi >= 0)
			route_result(h, r, gsi_routing_remove(r,
						(unsigned int)v->gsi));
		return 0;
	}

	/* A vector keeps its GSI for the VM's lifetime, so reprogramming
	 * (the guest moving an IRQ between CPUs) never leaks routes. */
	if (v->gsi < 0) {
		v->gsi = gsi_routing_alloc_msi_gsi(r);
		if (v->gsi < 0) {
			COUNT(h->msi_route_errors, 1);
			return -ENOSPC;
		}
	}
	ret = gsi_routing_set_msi(r, (unsigned int)v->gsi, addr, data);
	if (ret < 0) {
		COUNT(h->msi_route_errors, 1);
		return ret;
	}
	if (!v->attached) {
		int err = kvm_irqfd_assign(h->vm->vm_fd, v->fd,
					   (unsigned int)v->gsi);

		if (err) {
			COUNT(h->msi_route_errors, 1);
			gsi_routing_remove(r, (unsigned int)v->gsi);
			return err;
		}
		v->attached = true;
	}
	COUNT(v->routes, 1);
	return route_result(h, r, ret);
}

static void msi_fire(void *host, unsigned int vector)
{
	struct virtio_irq *h = host;
	struct virtio_irq_vector *v;

	if (vector >= h->nr_vectors)
		return;
	v = &h->vectors[vector];
	if (!v->attached) {
		COUNT(v->lost, 1);
		return;
	}
	COUNT(v->fires, 1);
	eventfd_kick(v->fd);
}

static void kick(void *host, unsigned int queue)
{
	struct virtio_irq *h = host;
	struct virtio_irq_queue *q;

	if (queue >= h->nr_queues)
		return;
	q = &h->queues[queue];
	COUNT(q->kicks, 1);
	eventfd_kick(q->notify_fd);
}

/* The transport has checked that the queue is a backend queue and that
 * the vector is programmed; an irqfd not yet attached (no route ever
 * made) is no use to the backend, which then gets -1 and relays. */
static int backend_fds(void *host, unsigned int queue, int vector,
		       struct virtio_queue_fds *fds)
{
	struct virtio_irq *h = host;
	const struct virtio_irq_queue *q;

	if (queue >= h->nr_queues || !h->queues[queue].backend)
		return -EINVAL;
	q = &h->queues[queue];
	fds->kick_fd = q->notify_fd;
	fds->call_fd = -1;
	if (vector >= 0 && (unsigned int)vector < h->nr_vectors &&
	    h->vectors[vector].attached)
		fds->call_fd = h->vectors[vector].fd;
	return 0;
}

const struct virtio_mmio_host_ops virtio_irq_host_ops = {
	.legacy_raise = legacy_raise,
	.msi_route = msi_route,
	.msi_fire = msi_fire,
	.kick = kick,
	.backend_fds = backend_fds,
};

/* Fires the vectors of the backend queues (see virtio_irq.h): a spurious
 * interrupt is harmless to a virtio driver, a lost one stalls its queue. */
static void replay_backend_vectors(struct virtio_irq *h)
{
	for (unsigned int i = 0; i < h->nr_queues; i++) {
		struct virtio_irq_vector *v;

		if (!h->queues[i].backend || i + 1 >= h->nr_vectors)
			continue;
		v = &h->vectors[i + 1];
		if (v->attached) {
			COUNT(h->backend_replays, 1);
			eventfd_kick(v->fd);
		}
	}
}

/* I/O thread: the guest EOI'd the legacy line. If the device still has
 * something in InterruptStatus, the line must stay up: assert it again. */
static void on_resample(void *opaque, uint32_t events)
{
	struct virtio_irq *h = opaque;

	if (!eventfd_drain(h->resamplefd))
		return;
	COUNT(h->resamples, 1);
	if (virtio_mmio_irq_pending(h->t)) {
		COUNT(h->resample_reraises, 1);
		eventfd_kick(h->irqfd);
	}
}

/* I/O thread: the limit may allow the commit a route change waited for.
 * Commit what is held back, then let the transport re-offer each waiting
 * vector: msi_route finds it in KVM (or commits it, or defers it again and
 * re-arms this timer) and the transport sends what became pending. */
static void on_route_retry(void *opaque, uint32_t events)
{
	struct virtio_irq *h = opaque;
	struct gsi_routing *r = h->vm->gsi_routing;
	uint64_t expiries;

	if (read(h->retry_fd, &expiries, sizeof(expiries)) != sizeof(expiries)
	    || !r)
		return;
	COUNT(h->msi_route_retries, 1);
	if (gsi_routing_flush(r) == GSI_ROUTING_DEFERRED) {
		arm_retry(h, r);
		virtio_mmio_msi_retry(h->t);
		return;
	}
	virtio_mmio_msi_retry(h->t);
	replay_backend_vectors(h);
}

static void on_notify(void *opaque, uint32_t events)
{
	struct virtio_irq_queue *q = opaque;
	struct virtio_mmio_dev *t = q->h->t;
	uint64_t n = eventfd_drain(q->notify_fd);

	if (!n)
		return;
	COUNT(q->notifies, n);
	COUNT(q->wakeups, 1);
	t->ops->queue_notify(t->dev, q->index);
}

static void on_doorbell(void *opaque, uint32_t events)
{
	struct virtio_irq_queue *q = opaque;
	struct virtio_mmio_dev *t = q->h->t;
	uint64_t n = eventfd_drain(q->doorbell_fd);

	if (!n)
		return;
	COUNT(q->doorbells, n);
	COUNT(q->wakeups, 1);
	/* The transport's counter, shared with its own write_doorbell()
	 * (a vCPU): an atomic add, so the worker never waits for the
	 * register lock on the hot path. */
	COUNT(t->stats.doorbells[q->index], n);
	t->ops->queue_notify(t->dev, q->index);
}

void virtio_irq_init(struct virtio_irq *h, struct vm *vm,
		     struct virtio_mmio_dev *t, const char *name,
		     uint64_t base, unsigned int gsi)
{
	unsigned int i;

	memset(h, 0, sizeof(*h));
	h->vm = vm;
	h->t = t;
	h->name = name;
	h->base = base;
	h->gsi = gsi;
	h->irqfd = h->resamplefd = -1;
	h->retry_fd = -1;
	for (i = 0; i < VIRTIO_MMIO_MAX_VECTORS; i++) {
		h->vectors[i].fd = -1;
		h->vectors[i].gsi = -1;
	}
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		h->queues[i].h = h;
		h->queues[i].index = i;
		h->queues[i].notify_fd = h->queues[i].doorbell_fd = -1;
	}
}

static int fail(const struct virtio_irq *h, const char *what, int err)
{
	fprintf(stderr, "mmvm: %s: %s: %s\n", h->name, what, strerror(-err));
	return -1;
}

/* An eventfd watched by loop (the I/O thread, or a queue's worker). */
static int watched_eventfd(struct virtio_irq *h, struct event_loop *loop,
			   event_fn fn, void *opaque, int *fdp)
{
	int fd = eventfd_new();

	if (fd < 0)
		return fail(h, "eventfd", fd);
	*fdp = fd;
	if (fn && event_loop_add(loop, fd, EPOLLIN, fn, opaque) < 0) {
		fprintf(stderr, "mmvm: %s: cannot watch an eventfd on a "
			"thread's event loop\n", h->name);
		return -1;
	}
	return 0;
}

/* The queue's notifications go to the worker that serves it. */
static int wire_queue(struct virtio_irq *h, struct virtio_irq_queue *q,
		      struct event_loop *loop)
{
	char what[64];
	uint64_t addr;
	int ret;

	if (watched_eventfd(h, loop, q->backend ? NULL : on_notify, q,
			    &q->notify_fd))
		return -1;
	addr = h->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	ret = kvm_ioeventfd_assign(h->vm->vm_fd, q->notify_fd, addr, true,
				   q->index);
	if (ret) {
		snprintf(what, sizeof(what), "KVM_IOEVENTFD at 0x%" PRIx64
			 " (queue %u)", addr, q->index);
		return fail(h, what, ret);
	}
	if (!virtio_mmio_has_doorbells(h->t))
		return 0;

	/* A backend's kick fd takes the doorbell too: KVM lets one eventfd
	 * back several ioeventfds. */
	if (!q->backend &&
	    watched_eventfd(h, loop, on_doorbell, q, &q->doorbell_fd))
		return -1;
	addr = h->base + virtio_mmio_doorbell_offset(h->t, q->index);
	ret = kvm_ioeventfd_assign(h->vm->vm_fd, q->backend ? q->notify_fd :
				   q->doorbell_fd, addr, false, 0);
	if (ret) {
		snprintf(what, sizeof(what), "KVM_IOEVENTFD at 0x%" PRIx64
			 " (doorbell %u)", addr, q->index);
		return fail(h, what, ret);
	}
	return 0;
}

int virtio_irq_wire(struct virtio_irq *h, struct event_loop *const *queue_loop)
{
	const struct virtio_device_ops *ops = h->t->ops;
	char what[64];
	unsigned int i;
	int ret;

	h->nr_queues = ops->num_queues;
	if (h->nr_queues > VIRTIO_MMIO_MAX_QUEUES) {
		fprintf(stderr, "mmvm: %s: %u queues, at most %u supported\n",
			h->name, h->nr_queues, VIRTIO_MMIO_MAX_QUEUES);
		return -1;
	}

	if (watched_eventfd(h, h->vm->io, NULL, NULL, &h->irqfd) ||
	    watched_eventfd(h, h->vm->io, on_resample, h, &h->resamplefd))
		return -1;
	ret = kvm_irqfd_assign_resample(h->vm->vm_fd, h->irqfd, h->gsi,
					h->resamplefd);
	if (ret) {
		snprintf(what, sizeof(what), "KVM_IRQFD (GSI %u)", h->gsi);
		return fail(h, what, ret);
	}

	if (virtio_mmio_num_vectors(h->t)) {
		if (!gsi_routing_get(h->vm))
			return -1;
		h->nr_vectors = h->nr_queues + 1;
		for (i = 0; i < h->nr_vectors; i++)
			if (watched_eventfd(h, h->vm->io, NULL, NULL,
					    &h->vectors[i].fd))
				return -1;
		h->retry_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (h->retry_fd < 0)
			return fail(h, "timerfd_create", -errno);
		if (event_loop_add(h->vm->io, h->retry_fd, EPOLLIN,
				   on_route_retry, h) < 0) {
			fprintf(stderr, "mmvm: %s: cannot watch a timerfd on "
				"the I/O thread\n", h->name);
			return -1;
		}
	}

	for (i = 0; i < h->nr_queues; i++)
		h->queues[i].backend = ops->backend_queues & (1u << i);
	for (i = 0; i < h->nr_queues; i++)
		if (wire_queue(h, &h->queues[i], queue_loop && queue_loop[i] ?
			       queue_loop[i] : h->vm->io))
			return -1;
	return 0;
}

int virtio_irq_queue_fds(const struct virtio_irq *h, unsigned int q,
			 struct virtio_irq_fds *fds)
{
	if (q >= h->nr_queues)
		return -1;
	fds->notify_fd = h->queues[q].notify_fd;
	fds->doorbell_fd = h->queues[q].doorbell_fd;
	fds->call_fd = q + 1 < h->nr_vectors ? h->vectors[q + 1].fd : -1;
	return 0;
}

static void put(FILE *f, const struct virtio_irq *h, const char *key,
		uint64_t v)
{
	fprintf(f, "%s.%s %" PRIu64 "\n", h->name, key, v);
}

void virtio_irq_print_stats(const struct virtio_irq *h, FILE *f)
{
	char key[64];
	unsigned int i;

	put(f, h, "irq_gsi", h->gsi);
	put(f, h, "irq_legacy_raises", h->legacy_raises);
	put(f, h, "irq_resamples", h->resamples);
	put(f, h, "irq_resample_reraises", h->resample_reraises);
	for (i = 0; i < h->nr_vectors; i++) {
		const struct virtio_irq_vector *v = &h->vectors[i];

		snprintf(key, sizeof(key), "msi_fires_%u", i);
		put(f, h, key, v->fires);
		snprintf(key, sizeof(key), "msi_routes_%u", i);
		put(f, h, key, v->routes);
		if (v->lost) {
			snprintf(key, sizeof(key), "msi_lost_%u", i);
			put(f, h, key, v->lost);
		}
	}
	if (h->msi_route_errors)
		put(f, h, "msi_route_errors", h->msi_route_errors);
	if (h->nr_vectors) {
		put(f, h, "msi_route_skipped", h->msi_route_skipped);
		put(f, h, "msi_route_deferred", h->msi_route_deferred);
		put(f, h, "msi_route_retries", h->msi_route_retries);
	}
	if (h->backend_replays)
		put(f, h, "msi_backend_replays", h->backend_replays);
	for (i = 0; i < h->nr_queues; i++) {
		const struct virtio_irq_queue *q = &h->queues[i];

		/* The kernel takes a backend queue's notifications without
		 * telling anyone: only those that reached userspace (and
		 * were passed on) are known. */
		if (q->backend) {
			snprintf(key, sizeof(key), "notify_backend_%u", i);
			put(f, h, key, 1);
			snprintf(key, sizeof(key), "notify_kicks_%u", i);
			put(f, h, key, q->kicks);
			continue;
		}

		snprintf(key, sizeof(key), "notifies_%u", i);
		put(f, h, key, q->notifies);
		snprintf(key, sizeof(key), "notify_kicks_%u", i);
		put(f, h, key, q->kicks);
		if (q->doorbell_fd >= 0) {
			snprintf(key, sizeof(key), "doorbells_kvm_%u", i);
			put(f, h, key, q->doorbells);
		}
		snprintf(key, sizeof(key), "wakeups_%u", i);
		put(f, h, key, q->wakeups);
	}
}
