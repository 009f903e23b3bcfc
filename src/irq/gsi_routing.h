/* The VM's GSI routing table, kept whole in userspace.
 *
 * KVM_SET_GSI_ROUTING replaces the entire in-kernel table, so whoever adds
 * one MSI route must resubmit every other route with it. This table starts
 * as the copy of what KVM_CREATE_IRQCHIP installs (GSIs 0-15 to the PIC and
 * the IOAPIC, 16-23 to the IOAPIC) and holds the MSI routes of the virtio
 * vectors, whose GSIs are handed out from 24 upward. Each change is
 * committed to KVM under a mutex, because vCPU threads program MSI vectors
 * concurrently.
 *
 * A commit is expensive for the host (KVM rebuilds the table and waits for
 * an SRCU grace period) and the guest decides when one happens: every MSI
 * UPDATE asks for one. So the guest's requests are bounded twice:
 *
 *  - a change that leaves a route as KVM already holds it (same address and
 *    data as the last committed table) is not committed ("skipped");
 *  - real commits go through a token bucket per VM, GSI_ROUTING_COMMIT_BURST
 *    at once and GSI_ROUTING_COMMIT_RATE per second after that. A change
 *    that finds the bucket empty stays in this table ("deferred") and goes
 *    to KVM with the next commit, which carries every change made so far;
 *    the caller is told (GSI_ROUTING_DEFERRED), must not use the route yet,
 *    and asks again later (gsi_routing_flush(), gsi_routing_retry_ns()).
 *
 * Why these numbers: a guest needs one commit per vector it programs (the
 * Linux guest re-sends some messages unchanged; those are skipped), nearly
 * all at boot, plus one per vector at a device reset and a few per
 * interrupt-affinity change afterwards. The demo guest's virtio-rng makes
 * 2 + 2, a guest with a handful of devices a few dozen, so a burst of 64
 * lets ordinary boots through without a single deferral; the largest
 * configuration (16 devices x 17 vectors) gets the rest in batches, each
 * commit carrying all that was held back. 50 commits/s (one per 20 ms) is
 * far above what a well-behaved guest asks for once booted, while holding
 * a hostile guest to about 2000 commits in 40 s,
 * a quarter of what the observed UPDATE storm got even from an emulated CPU
 * (8000 in 40 s), and far less than a native vCPU could force. The price,
 * paid only beyond the burst: a vector's interrupts wait up to ~20 ms for
 * its route, and none is lost.
 */
#ifndef MMVM_IRQ_GSI_ROUTING_H
#define MMVM_IRQ_GSI_ROUTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

#define GSI_ROUTING_IRQCHIP_GSIS	24	/* IOAPIC pins */
#define GSI_ROUTING_FIRST_MSI_GSI	GSI_ROUTING_IRQCHIP_GSIS
/* Enough for 16 devices x 17 vectors plus the irqchip routes. */
#define GSI_ROUTING_MAX_ENTRIES		512

/* The commit limit (see above). */
#define GSI_ROUTING_COMMIT_BURST	64
#define GSI_ROUTING_COMMIT_RATE		50	/* per second, after the burst */

/* Results of gsi_routing_set_msi(), _remove() and _flush() (>= 0). */
#define GSI_ROUTING_COMMITTED		0	/* KVM has it now */
#define GSI_ROUTING_UNCHANGED		1	/* KVM had it already: no commit */
#define GSI_ROUTING_DEFERRED		2	/* limit reached: KVM does not
						 * have it yet */

struct gsi_routing {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned int max_gsi;		/* exclusive, from KVM_CAP_IRQ_ROUTING */
	unsigned int next_msi_gsi;
	unsigned int nr;
	struct kvm_irq_routing_entry entries[GSI_ROUTING_MAX_ENTRIES];
	/* What KVM holds: the table as of the last successful commit (at
	 * init, the irqchip routes KVM_CREATE_IRQCHIP installed). */
	unsigned int committed_nr;
	struct kvm_irq_routing_entry committed[GSI_ROUTING_MAX_ENTRIES];
	bool dirty;			/* entries may differ from committed */

	/* Token bucket as a virtual schedule (GCRA): a commit at time now is
	 * allowed while tat_ns <= now + (burst - 1) * interval; each one
	 * moves tat_ns to max(tat_ns, now) + interval. interval 0: no limit. */
	uint64_t commit_interval_ns;
	unsigned int commit_burst;
	uint64_t tat_ns;

	uint64_t commits;		/* KVM_SET_GSI_ROUTING calls */
	uint64_t skipped;		/* changes KVM already had: no commit */
	uint64_t deferred;		/* changes the limit held back */
	/* KVM_SET_GSI_ROUTING; replaced by unit tests. Returns 0 or -errno. */
	int (*commit)(struct gsi_routing *r, const struct kvm_irq_routing *tbl);
	/* CLOCK_MONOTONIC in ns; replaced by unit tests. */
	uint64_t (*now_ns)(void);
};

/* Fills r with the default irqchip routes and the default commit limit.
 * max_gsi is KVM's limit (the value of
 * KVM_CHECK_EXTENSION(KVM_CAP_IRQ_ROUTING)). Nothing is sent to KVM until
 * the first change. */
void gsi_routing_init(struct gsi_routing *r, int vm_fd, unsigned int max_gsi);
void gsi_routing_destroy(struct gsi_routing *r);

/* Sets the commit limit: burst commits at once, then rate per second
 * (rate 0: no limit). */
void gsi_routing_set_limit(struct gsi_routing *r, unsigned int burst,
			   unsigned int rate);

/* The VM's table, created on first use (asks KVM for the GSI limit).
 * NULL after printing an error. */
struct vm;
struct gsi_routing *gsi_routing_get(struct vm *vm);

/* Reserves a fresh GSI for an MSI route; -1 if none is left. */
int gsi_routing_alloc_msi_gsi(struct gsi_routing *r);

/* Adds or replaces the MSI route of gsi and commits the table, unless KVM
 * already holds exactly this route (GSI_ROUTING_UNCHANGED) or the limit is
 * reached (GSI_ROUTING_DEFERRED: the route is in the table, KVM gets it
 * with the next commit). Returns one of those, GSI_ROUTING_COMMITTED, or
 * -errno (the table is left as it was on failure). */
int gsi_routing_set_msi(struct gsi_routing *r, unsigned int gsi,
			uint64_t addr, uint32_t data);

/* Removes gsi's MSI route (if any) and commits, unless KVM never had it.
 * Returns GSI_ROUTING_COMMITTED (also when there was nothing to do),
 * GSI_ROUTING_DEFERRED or -errno. A deferred removal leaves KVM a stale
 * route; harmless as long as nothing signals that GSI meanwhile. */
int gsi_routing_remove(struct gsi_routing *r, unsigned int gsi);

/* Commits what the limit held back, if the limit allows it now. Returns
 * GSI_ROUTING_COMMITTED, GSI_ROUTING_UNCHANGED (nothing was held back),
 * GSI_ROUTING_DEFERRED or -errno. */
int gsi_routing_flush(struct gsi_routing *r);

/* Nanoseconds until the limit allows the next commit (0: now). */
uint64_t gsi_routing_retry_ns(struct gsi_routing *r);

/* Does KVM hold exactly this MSI route for gsi? */
bool gsi_routing_msi_live(struct gsi_routing *r, unsigned int gsi,
			  uint64_t addr, uint32_t data);

/* "irq.gsi_routing_commits N" and the other VM-wide counters, one
 * "key value" per line. */
void gsi_routing_print_stats(struct gsi_routing *r, FILE *f);

#endif
