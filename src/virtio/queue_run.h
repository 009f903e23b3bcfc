/* The worker loop shared by virtio device models: drain one queue,
 * complete every chain, and interrupt the driver if it asked for it. */
#ifndef MMVM_VIRTIO_QUEUE_RUN_H
#define MMVM_VIRTIO_QUEUE_RUN_H

#include <stdio.h>

#include "virtio/virtio_device.h"

/* Handles one well-formed chain; returns the used length (bytes written
 * into the chain's device-writable buffers). */
typedef uint32_t (*virtio_chain_fn)(void *dev, unsigned int queue,
				    struct virtq_chain *chain);

/* Bounded polling of one queue (owned by the device, one per queue).
 * After a round that served chains, the worker keeps notifications off
 * and watches the avail ring for up to ns: a request the driver adds
 * meanwhile is taken without a doorbell (and without its VM exit or
 * wake-up). Polling starts only after work, so an idle queue costs
 * nothing. Work means a chain the device answered (a used length above
 * 0: every virtio-blk answer has its status byte) and did not mark
 * refused (virtio-blk: a request that moved no data and synced nothing,
 * such as a bad header, range or layout, an unknown type, a read of 0
 * bytes: blk_handle_request()); a malformed chain, a refused request, or
 * one with nothing to answer into, is completed but neither opens nor
 * restarts a window nor teaches the adaptive rule, so a guest cannot
 * hold a window open with junk. (virtio-net, whose tx chains are
 * answered with length 0, counts frames moved instead: pair_poll().)
 *
 * Adaptive (max_ns set): ns is learnt from the gaps between requests.
 * When a doorbell ends a wait, the time since the last served chain is
 * the window that would have caught it: at most max_ns, the window grows
 * to it (or doubles, whichever is more); longer, it halves, and below
 * VIRTIO_POLL_MIN_NS it is 0. A driver whose requests come further apart
 * than max_ns costs no polling at all; one that keeps the queue busy gets
 * the window its own pace needs. (QEMU's IOThreads poll adaptively by
 * default in the same spirit, from the time each wait took.)
 *
 * Budget (fixed and adaptive alike): whatever the guest does, a poll
 * spins at most budget_ns of CPU time in each period_ns (VIRTIO_POLL_BUDGET_NS of
 * VIRTIO_POLL_PERIOD_NS: 20 %). A window is cut to what is left of the
 * period's budget; once it is spent no window opens, the driver's
 * doorbells are back on, until the next period begins (capped counts
 * those periods). Periods follow one another from the first window
 * (a new one starts with the first window after the last ended), so
 * over any span the average is at most 20 %; a 100 ms slice across two
 * periods may hold up to both budgets. Without it a guest adding one valid request every
 * ~900 us without a doorbell held a worker at 100 % of a host core for a
 * request rate that wake-ups would have served for a few per cent.
 * Adaptive, a period that spun more than two of its largest windows for
 * each chain its windows caught halves the window as well: hits too rare
 * for the time they cost. */
struct virtio_queue_poll {
	uint64_t ns;		/* the window; 0: no polling (now) */
	uint64_t max_ns;	/* adaptive: the most ns grows to; 0: fixed */
	uint64_t last_work_ns;	/* adaptive: when a round last served a
				 * chain and then waited (0: not since) */
	uint64_t budget_ns;	/* spin allowed per period; 0: the default */
	uint64_t period_ns;	/* 0: the default */
	uint64_t period_start_ns; /* the current period (0: none yet) */
	uint64_t period_spin_ns;  /* CPU time spun in it */
	uint64_t period_hits;	  /* chains its windows caught */
	bool period_capped;	  /* its budget ran out */
	uint64_t polls;		/* poll windows opened */
	uint64_t hits;		/* ... that found a chain */
	uint64_t spin_ns;	/* time spent watching the ring */
	uint64_t grows, shrinks; /* adaptive window changes */
	uint64_t capped;	/* periods whose budget ran out */
	uint64_t junk;		/* chains served that were not work (the
				 * shared engine's; tests) */
};

#define VIRTIO_POLL_MIN_NS	4000
#define VIRTIO_POLL_PERIOD_NS	100000000ULL	/* 100 ms */
#define VIRTIO_POLL_BUDGET_NS	20000000ULL	/* 20 ms of each: 20 % */
/* Adaptive: a period that spun more than VIRTIO_POLL_HIT_WINDOWS of its
 * largest windows (max_ns) for each chain caught halves the window: most
 * of its windows closed empty (2: 2 ms per hit with the 1000 us bound,
 * MMVM_MAX_POLL_US). Judged only once a period spun at least
 * VIRTIO_POLL_JUDGED_WINDOWS of them, so a short burst is not judged on
 * one window. */
#define VIRTIO_POLL_HIT_WINDOWS		2
#define VIRTIO_POLL_JUDGED_WINDOWS	4

/* Polling configured at all (fixed or adaptive). */
static inline bool virtio_queue_poll_on(const struct virtio_queue_poll *p)
{
	return p->ns || p->max_ns;
}

/* Sets p up from the option: a fixed window of us microseconds, or
 * (adaptive) a learnt one bounded by us; counters cleared. */
void virtio_queue_poll_init(struct virtio_queue_poll *p, unsigned int us,
			    bool adaptive);

/* Adaptive: a doorbell came gap_ns after the last served chain; sets the
 * window for the next one as described above. Exposed for the unit
 * tests. */
void virtio_queue_poll_adapt(struct virtio_queue_poll *p, uint64_t gap_ns);

/* Adaptive: a doorbell has just ended the wait that followed the work at
 * last_work_ns: learns from how long it took (virtio_queue_poll_adapt()),
 * once. Nothing if p is not adaptive or no work is recorded. */
void virtio_queue_poll_doorbell(struct virtio_queue_poll *p);

/* The clock poll windows are measured on (CLOCK_MONOTONIC, ns). */
uint64_t virtio_poll_now_ns(void);

/* Unit tests: the clock virtio_poll_now_ns() reads, and the CPU clock
 * too (NULL: the real ones).
 * A fake clock that advances on each call lets a test simulate seconds
 * of spinning in milliseconds, and act as the guest in between. */
void virtio_poll_set_clock(uint64_t (*now_ns)(void));
/* ... and then the CPU clock alone. */
void virtio_poll_set_cpu_clock(uint64_t (*cpu_ns)(void));

/* The longest window that may open at now: ns, cut to what is left of
 * the period's budget; 0 when the budget is spent (the period is then
 * counted in capped, once). Starts a new period when now is past the
 * current one, judging the one that ended (adaptive). */
uint64_t virtio_queue_poll_window(struct virtio_queue_poll *p, uint64_t now);

/* Where a window started, on both clocks. */
struct virtio_poll_stamp {
	uint64_t wall, cpu;
};
struct virtio_poll_stamp virtio_poll_stamp(void);

/* Of looked_ns of wall time since from (looked_ns may be less than all
 * of it: the rest was serving), the CPU time the thread spent: looked_ns
 * scaled by the share of the time since from that it ran. The budget is
 * CPU time: a worker preempted while it spins costs the host nothing
 * meanwhile, and on a loaded host (the nested harness) wall-clock
 * accounting ran out of budget on preemption. */
uint64_t virtio_poll_cpu_share(const struct virtio_poll_stamp *from,
			       uint64_t looked_ns);

/* A window watched spun_ns of wall time (looking, not serving what it
 * found; the _poll_us_ counter), which cost cpu_ns of CPU time (counted
 * against the budget), and caught hits chains of work. */
void virtio_queue_poll_spent(struct virtio_queue_poll *p, uint64_t spun_ns,
			     uint64_t cpu_ns, unsigned int hits);

/* Watches the avail ring, notifications still off, for up to the window
 * the budget allows (counted in p as a window). True if the driver added
 * a chain meanwhile, or stop(opaque) said so (an asynchronous engine's
 * completions: queue_async.c); stop may be NULL. */
bool virtio_queue_poll_ring(const struct virtqueue *vq,
			    struct virtio_queue_poll *p,
			    bool (*stop)(void *opaque), void *opaque);

/* --stats lines of one poll's counters: "<name>.<kind>_polls_<i>",
 * "_poll_hits_<i>", "_poll_us_<i>", "_poll_capped_<i>" (periods whose
 * budget ran out; kind: "blk", "net"), and for an
 * adaptive one "_poll_window_us_<i>" (the window now), "_poll_grows_<i>",
 * "_poll_shrinks_<i>". */
void virtio_queue_poll_print(const struct virtio_queue_poll *p,
			     const char *name, const char *kind,
			     unsigned int i, FILE *f);

/* Call from the device's queue_notify (q's worker). Holds q's lock while
 * it touches the ring, so a reset from a vCPU cannot take the ring away in
 * the middle of a request, and still holds it while it sends the
 * interrupt and sets DEVICE_NEEDS_RESET, so a reset cannot come between
 * deciding and delivering; handle is called with q's lock held. A
 * malformed chain is completed with length 0; a broken ring sets
 * DEVICE_NEEDS_RESET. chain is the caller's scratch space (it is large:
 * one per worker). */
void virtio_queue_run(struct virtio_queue *q, struct virtio_interrupt *irq,
		      struct virtq_chain *chain, virtio_chain_fn handle,
		      void *dev);

/* The same, polling as poll says (NULL or off: as virtio_queue_run).
 * The chains served before a poll window are completed and interrupted
 * for first, so polling never delays a completion. q's lock is held
 * through the window: a reset waits at most poll->ns. */
void virtio_queue_run_polled(struct virtio_queue *q,
			     struct virtio_interrupt *irq,
			     struct virtq_chain *chain, virtio_chain_fn handle,
			     void *dev, struct virtio_queue_poll *poll);

#endif
