/* Draining a virtqueue on its worker; see queue_run.h. */
#include "virtio/queue_run.h"

#include <inttypes.h>
#include <time.h>

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The calling thread's CPU time: what a window really cost the host (a
 * worker preempted while it spins costs nothing meanwhile). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t (*poll_clock)(void) = monotonic_ns;
static uint64_t (*poll_cpu_clock)(void) = thread_cpu_ns;

uint64_t virtio_poll_now_ns(void)
{
	return poll_clock();
}

void virtio_poll_set_clock(uint64_t (*now_ns)(void))
{
	poll_clock = now_ns ? now_ns : monotonic_ns;
	poll_cpu_clock = now_ns ? now_ns : thread_cpu_ns;
}

void virtio_poll_set_cpu_clock(uint64_t (*cpu_ns)(void))
{
	poll_cpu_clock = cpu_ns ? cpu_ns : thread_cpu_ns;
}

struct virtio_poll_stamp virtio_poll_stamp(void)
{
	return (struct virtio_poll_stamp){ .wall = poll_clock(),
					   .cpu = poll_cpu_clock() };
}

uint64_t virtio_poll_cpu_share(const struct virtio_poll_stamp *from,
			       uint64_t looked_ns)
{
	struct virtio_poll_stamp now = virtio_poll_stamp();
	uint64_t wall = now.wall - from->wall, cpu = now.cpu - from->cpu;

	if (!wall || cpu >= wall)
		return looked_ns;
	return (uint64_t)((unsigned __int128)looked_ns * cpu / wall);
}

/* What one drain() did: chains completed, and how many of them were
 * work (answered with a used length above 0, and not refused by the
 * device as malformed). */
struct drained {
	unsigned int served, work;
};

/* Takes every available chain. *broken: the ring broke (what was served
 * before it is pushed and still counted, so that its interrupt is not
 * lost). */
static struct drained drain(struct virtqueue *vq, struct virtq_chain *chain,
			    virtio_chain_fn handle, void *dev,
			    unsigned int index, bool *broken)
{
	struct drained d = { 0 };
	int r;

	while ((r = virtq_pop(vq, chain)) != VIRTQ_POP_EMPTY) {
		uint32_t len = 0;

		if (r == VIRTQ_POP_BROKEN) {
			*broken = true;
			break;
		}
		chain->refused = false;
		if (r == VIRTQ_POP_OK)
			len = handle(dev, index, chain);
		virtq_push(vq, chain->head, len);
		d.served++;
		d.work += len > 0 && !chain->refused;
	}
	return d;
}

static uint64_t budget_of(const struct virtio_queue_poll *p)
{
	return p->budget_ns ? p->budget_ns : VIRTIO_POLL_BUDGET_NS;
}

static uint64_t period_of(const struct virtio_queue_poll *p)
{
	return p->period_ns ? p->period_ns : VIRTIO_POLL_PERIOD_NS;
}

/* Adaptive: the period that just ended caught too few chains for the
 * time it spun: the window halves, as after a doorbell too late for it. */
static void judge_period(struct virtio_queue_poll *p)
{
	if (!p->max_ns || !p->ns ||
	    p->period_spin_ns < VIRTIO_POLL_JUDGED_WINDOWS * p->max_ns ||
	    p->period_spin_ns <=
	    p->period_hits * VIRTIO_POLL_HIT_WINDOWS * p->max_ns)
		return;
	p->ns /= 2;
	if (p->ns < VIRTIO_POLL_MIN_NS)
		p->ns = 0;
	p->shrinks++;
}

uint64_t virtio_queue_poll_window(struct virtio_queue_poll *p, uint64_t now)
{
	uint64_t budget = budget_of(p), left;

	if (!p->period_start_ns || now - p->period_start_ns >= period_of(p)) {
		if (p->period_start_ns)
			judge_period(p);
		p->period_start_ns = now ? now : 1;
		p->period_spin_ns = 0;
		p->period_hits = 0;
		p->period_capped = false;
	}
	left = p->period_spin_ns < budget ? budget - p->period_spin_ns : 0;
	if (!left && p->ns && !p->period_capped) {
		p->period_capped = true;
		p->capped++;
	}
	return p->ns < left ? p->ns : left;
}

void virtio_queue_poll_spent(struct virtio_queue_poll *p, uint64_t spun_ns,
			     uint64_t cpu_ns, unsigned int hits)
{
	p->spin_ns += spun_ns;
	p->period_spin_ns += cpu_ns;
	p->hits += hits;
	p->period_hits += hits;
}

/* Watches the avail ring, notifications still off, for up to the window
 * the budget allows. True if the driver added a chain meanwhile (whether
 * it was work the caller finds out when it drains it). */
static bool poll_ring(const struct virtqueue *vq, struct virtio_queue_poll *p)
{
	return virtio_queue_poll_ring(vq, p, NULL, NULL);
}

bool virtio_queue_poll_ring(const struct virtqueue *vq,
			    struct virtio_queue_poll *p,
			    bool (*stop)(void *opaque), void *opaque)
{
	struct virtio_poll_stamp from = virtio_poll_stamp();
	uint64_t start = from.wall, t = start;
	uint64_t window = virtio_queue_poll_window(p, start);
	bool found = false;

	if (!window)
		return false;
	p->polls++;
	while (t - start < window) {
		if (virtq_has_avail(vq) || (stop && stop(opaque))) {
			found = true;
			break;
		}
		__builtin_ia32_pause();
		t = virtio_poll_now_ns();
	}
	virtio_queue_poll_spent(p, t - start,
				virtio_poll_cpu_share(&from, t - start), 0);
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
	bool pushed = false, broken = false, polled = false;
	uint64_t work_ns = 0;

	if (!virtio_queue_begin(q))
		return;
	/* A doorbell ended the wait that followed the last work. */
	if (poll)
		virtio_queue_poll_doorbell(poll);
	/* Kicks are off while we drain (and poll); re-enabling them
	 * re-checks the ring so a buffer added in between is not missed. */
	for (;;) {
		struct drained d;

		virtq_disable_notify(vq);
		d = drain(vq, chain, handle, dev, q->index, &broken);
		pushed |= d.served > 0;
		if (poll) {
			poll->junk += d.served - d.work;
			/* The window that found this round counts a hit only
			 * for work: junk it caught is not what it is for. */
			if (polled && d.work)
				virtio_queue_poll_spent(poll, 0, 0, 1);
		}
		if (broken)
			break;
		if (d.work && poll && poll->max_ns)
			work_ns = virtio_poll_now_ns();
		/* Only work opens a window: junk closes it. */
		if (d.work && poll && poll->ns) {
			/* Completions first: the poll must not delay them. */
			if (virtq_should_notify(vq))
				virtio_interrupt_queue(irq, q->index);
			pushed = false;
			polled = true;
			if (poll_ring(vq, poll))
				continue;
		}
		polled = false;
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
	fprintf(f, "%s.%s_poll_capped_%u %" PRIu64 "\n", name, kind, i,
		p->capped);
	if (!p->max_ns)
		return;
	fprintf(f, "%s.%s_poll_window_us_%u %" PRIu64 "\n", name, kind, i,
		p->ns / 1000);
	fprintf(f, "%s.%s_poll_grows_%u %" PRIu64 "\n", name, kind, i,
		p->grows);
	fprintf(f, "%s.%s_poll_shrinks_%u %" PRIu64 "\n", name, kind, i,
		p->shrinks);
}
