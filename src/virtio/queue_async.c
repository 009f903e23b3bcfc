/* The submit/complete queue engine; see queue_async.h. */
#include "virtio/queue_async.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int virtio_async_init(struct virtio_async_queue *aq, struct virtio_queue *q,
		      struct virtio_interrupt *irq,
		      const struct virtio_async_ops *ops, void *dev,
		      unsigned int nr_slots)
{
	memset(aq, 0, sizeof(*aq));
	if (!nr_slots || nr_slots > VIRTIO_ASYNC_MAX_SLOTS)
		return -EINVAL;
	aq->q = q;
	aq->irq = irq;
	aq->ops = ops;
	aq->dev = dev;
	aq->nr_slots = nr_slots;
	aq->free = calloc(nr_slots, sizeof(*aq->free));
	aq->head = calloc(nr_slots, sizeof(*aq->head));
	aq->busy = calloc(nr_slots, sizeof(*aq->busy));
	aq->chain = malloc(sizeof(*aq->chain));
	if (!aq->free || !aq->head || !aq->busy || !aq->chain) {
		virtio_async_destroy(aq);
		return -ENOMEM;
	}
	virtio_async_reset(aq);
	aq->stats.dropped = 0;
	return 0;
}

void virtio_async_destroy(struct virtio_async_queue *aq)
{
	free(aq->free);
	free(aq->head);
	free(aq->busy);
	free(aq->chain);
	aq->free = aq->head = NULL;
	aq->busy = NULL;
	aq->chain = NULL;
	aq->nr_slots = aq->nr_free = 0;
}

void virtio_async_reset(struct virtio_async_queue *aq)
{
	aq->stats.dropped += aq->inflight;
	aq->inflight = 0;
	aq->pushed = false;
	/* Lowest slot on top: a quiet queue reuses the same few. */
	for (unsigned int i = 0; i < aq->nr_slots; i++) {
		aq->free[i] = (uint16_t)(aq->nr_slots - 1 - i);
		aq->busy[i] = 0;
	}
	aq->nr_free = aq->nr_slots;
}

static void push(struct virtio_async_queue *aq, uint16_t head, uint32_t len)
{
	virtq_push(&aq->q->vq, head, len);
	aq->pushed = true;
}

void virtio_async_complete(struct virtio_async_queue *aq, unsigned int slot,
			   uint32_t len)
{
	/* A slot the engine did not hand out (a device bug) is ignored
	 * rather than freed twice. */
	if (slot >= aq->nr_slots || !aq->busy[slot])
		return;
	aq->busy[slot] = 0;
	aq->free[aq->nr_free++] = (uint16_t)slot;
	aq->inflight--;
	push(aq, aq->head[slot], len);
}

/* The batch's interrupt, if the driver wants one (EVENT_IDX: the used
 * entry it asked to hear about is among those pushed). */
static void signal_used(struct virtio_async_queue *aq)
{
	if (!aq->pushed)
		return;
	aq->pushed = false;
	if (virtq_should_notify(&aq->q->vq)) {
		aq->stats.interrupts++;
		virtio_interrupt_queue(aq->irq, aq->q->index);
	}
}

void virtio_async_signal(struct virtio_async_queue *aq)
{
	signal_used(aq);
}

void virtio_async_round(struct virtio_async_queue *aq)
{
	struct virtqueue *vq = &aq->q->vq;
	struct virtio_queue_poll *poll = aq->poll;
	bool broken = false, polled = false;
	uint64_t work_ns = 0;

	if (poll && !virtio_queue_poll_on(poll))
		poll = NULL;
	for (;;) {
		unsigned int submitted = 0, served = 0, work = 0;

		/* What the host finished: each frees a slot. */
		if (aq->ops->reap)
			work += aq->ops->reap(aq->dev, aq);
		virtq_disable_notify(vq);
		while (aq->nr_free) {
			int r = virtq_pop(vq, aq->chain);
			unsigned int slot;
			int64_t len;

			if (r == VIRTQ_POP_EMPTY)
				break;
			if (r == VIRTQ_POP_BROKEN) {
				broken = true;
				break;
			}
			served++;
			if (r == VIRTQ_POP_BAD_CHAIN) {
				push(aq, aq->chain->head, 0);
				aq->stats.immediate++;
				continue;
			}
			slot = aq->free[--aq->nr_free];
			aq->busy[slot] = 1;
			aq->head[slot] = aq->chain->head;
			aq->inflight++;
			aq->chain->refused = false;
			len = aq->ops->submit(aq->dev, aq, slot, aq->chain);
			if (len == VIRTIO_ASYNC_PENDING) {
				submitted++;
				work++;
				aq->stats.submissions++;
				if (aq->inflight > aq->stats.inflight_max)
					aq->stats.inflight_max = aq->inflight;
				continue;
			}
			aq->stats.immediate++;
			work += len > 0 && !aq->chain->refused;
			/* Completed by submit: the slot is free again. */
			aq->inflight--;
			aq->busy[slot] = 0;
			aq->free[aq->nr_free++] = (uint16_t)slot;
			push(aq, aq->chain->head,
			     len < 0 ? 0 : (uint32_t)len);
		}
		if (submitted) {
			aq->stats.batches++;
			if (aq->ops->flush)
				aq->ops->flush(aq->dev, aq);
		}
		if (poll) {
			unsigned int chain_work = work < served ? work : served;

			poll->junk += served - chain_work;
			if (polled && work)
				virtio_queue_poll_spent(poll, 0, 0, 1);
		}
		if (broken)
			break;
		if (!aq->nr_free) {
			/* The completion that frees a slot comes back. */
			aq->stats.full++;
			break;
		}
		if (work && poll && poll->max_ns)
			work_ns = virtio_poll_now_ns();
		if (work && poll && poll->ns) {
			/* Completions first: the poll must not delay them. */
			signal_used(aq);
			polled = true;
			if (virtio_queue_poll_ring(vq, poll, aq->ops->ready,
						   aq->dev))
				continue;
		}
		polled = false;
		if (!virtq_enable_notify(vq) &&
		    !(aq->ops->ready && aq->ops->ready(aq->dev)))
			break;
	}
	signal_used(aq);
	if (broken)
		virtio_interrupt_needs_reset(aq->irq);
	else if (work_ns)
		poll->last_work_ns = work_ns;
}

void virtio_async_run(struct virtio_async_queue *aq)
{
	if (!virtio_queue_begin(aq->q))
		return;
	/* A doorbell ended the wait that followed the last work. */
	if (aq->poll)
		virtio_queue_poll_doorbell(aq->poll);
	virtio_async_round(aq);
	virtio_queue_end(aq->q);
}

bool virtio_async_complete_begin(struct virtio_async_queue *aq)
{
	return virtio_queue_begin(aq->q);
}

void virtio_async_complete_end(struct virtio_async_queue *aq)
{
	virtio_async_round(aq);
	virtio_queue_end(aq->q);
}

void virtio_async_print(const struct virtio_async_queue *aq,
			const char *name, const char *kind, unsigned int i,
			FILE *f)
{
	const struct virtio_async_stats *s = &aq->stats;

	fprintf(f, "%s.%s_submissions_%u %" PRIu64 "\n", name, kind, i,
		s->submissions);
	fprintf(f, "%s.%s_batches_%u %" PRIu64 "\n", name, kind, i,
		s->batches);
	fprintf(f, "%s.%s_inflight_max_%u %u\n", name, kind, i,
		s->inflight_max);
	fprintf(f, "%s.%s_slots_full_%u %" PRIu64 "\n", name, kind, i,
		s->full);
	fprintf(f, "%s.%s_answered_at_submit_%u %" PRIu64 "\n", name, kind, i,
		s->immediate);
	fprintf(f, "%s.%s_dropped_at_reset_%u %" PRIu64 "\n", name, kind, i,
		s->dropped);
}
