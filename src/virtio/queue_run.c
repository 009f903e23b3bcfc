/* Draining a virtqueue on its worker; see queue_run.h. */
#include "virtio/queue_run.h"

#include <inttypes.h>
#include <time.h>

uint64_t virtio_poll_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Takes every available chain; returns how many it served. *broken: the
 * ring broke (what was served before it is pushed and still counted, so
 * that its interrupt is not lost). */
static unsigned int drain(struct virtqueue *vq, struct virtq_chain *chain,
			  virtio_chain_fn handle, void *dev,
			  unsigned int index, bool *broken)
{
	unsigned int n = 0;
	int r;

	while ((r = virtq_pop(vq, chain)) != VIRTQ_POP_EMPTY) {
		if (r == VIRTQ_POP_BROKEN) {
			*broken = true;
			break;
		}
		virtq_push(vq, chain->head, r == VIRTQ_POP_OK ?
			   handle(dev, index, chain) : 0);
		n++;
	}
	return n;
}

/* Watches the avail ring, notifications still off, for up to the bound.
 * True if the driver added a chain meanwhile. */
static bool poll_ring(const struct virtqueue *vq, struct virtio_queue_poll *p)
{
	uint64_t start = virtio_poll_now_ns(), t = start;
	bool found = false;

	p->polls++;
	while (t - start < p->ns) {
		if (virtq_has_avail(vq)) {
			found = true;
			break;
		}
		__builtin_ia32_pause();
		t = virtio_poll_now_ns();
	}
	p->spin_ns += t - start;
	if (found)
		p->hits++;
	return found;
}

void virtio_queue_poll_adapt(struct virtio_queue_poll *p, uint64_t gap_ns)
{
	if (gap_ns <= p->max_ns) {
		uint64_t ns = p->ns * 2 > gap_ns ? p->ns * 2 : gap_ns;

		ns = ns < VIRTIO_POLL_MIN_NS ? VIRTIO_POLL_MIN_NS : ns;
		p->ns = ns > p->max_ns ? p->max_ns : ns;
		p->grows++;
	} else if (p->ns) {
		p->ns /= 2;
		if (p->ns < VIRTIO_POLL_MIN_NS)
			p->ns = 0;
		p->shrinks++;
	}
}

void virtio_queue_poll_init(struct virtio_queue_poll *p, unsigned int us,
			    bool adaptive)
{
	*p = (struct virtio_queue_poll){ 0 };
	if (adaptive)
		p->max_ns = (uint64_t)us * 1000;
	else
		p->ns = (uint64_t)us * 1000;
}

void virtio_queue_poll_doorbell(struct virtio_queue_poll *p)
{
	if (!p->max_ns || !p->last_work_ns)
		return;
	virtio_queue_poll_adapt(p, virtio_poll_now_ns() - p->last_work_ns);
	p->last_work_ns = 0;
}

void virtio_queue_run_polled(struct virtio_queue *q,
			     struct virtio_interrupt *irq,
			     struct virtq_chain *chain, virtio_chain_fn handle,
			     void *dev, struct virtio_queue_poll *poll)
{
	struct virtqueue *vq = &q->vq;
	bool pushed = false, broken = false;
	uint64_t work_ns = 0;

	if (!virtio_queue_begin(q))
		return;
	/* A doorbell ended the wait that followed the last work. */
	if (poll)
		virtio_queue_poll_doorbell(poll);
	/* Kicks are off while we drain (and poll); re-enabling them
	 * re-checks the ring so a buffer added in between is not missed. */
	for (;;) {
		unsigned int n;

		virtq_disable_notify(vq);
		n = drain(vq, chain, handle, dev, q->index, &broken);
		pushed |= n > 0;
		if (broken)
			break;
		if (n > 0 && poll && poll->max_ns)
			work_ns = virtio_poll_now_ns();
		if (n > 0 && poll && poll->ns) {
			/* Completions first: the poll must not delay them. */
			if (virtq_should_notify(vq))
				virtio_interrupt_queue(irq, q->index);
			pushed = false;
			if (poll_ring(vq, poll))
				continue;
		}
		if (!virtq_enable_notify(vq))
			break;
	}
	/* Delivered before unlocking: a reset in between would get them. */
	if (pushed && virtq_should_notify(vq))
		virtio_interrupt_queue(irq, q->index);
	if (broken)
		virtio_interrupt_needs_reset(irq);
	else if (work_ns)
		poll->last_work_ns = work_ns;
	virtio_queue_end(q);
}

void virtio_queue_run(struct virtio_queue *q, struct virtio_interrupt *irq,
		      struct virtq_chain *chain, virtio_chain_fn handle,
		      void *dev)
{
	virtio_queue_run_polled(q, irq, chain, handle, dev, NULL);
}

void virtio_queue_poll_print(const struct virtio_queue_poll *p,
			     const char *name, const char *kind,
			     unsigned int i, FILE *f)
{
	fprintf(f, "%s.%s_polls_%u %" PRIu64 "\n", name, kind, i, p->polls);
	fprintf(f, "%s.%s_poll_hits_%u %" PRIu64 "\n", name, kind, i, p->hits);
	fprintf(f, "%s.%s_poll_us_%u %" PRIu64 "\n", name, kind, i,
		p->spin_ns / 1000);
	if (!p->max_ns)
		return;
	fprintf(f, "%s.%s_poll_window_us_%u %" PRIu64 "\n", name, kind, i,
		p->ns / 1000);
	fprintf(f, "%s.%s_poll_grows_%u %" PRIu64 "\n", name, kind, i,
		p->grows);
	fprintf(f, "%s.%s_poll_shrinks_%u %" PRIu64 "\n", name, kind, i,
		p->shrinks);
}
