/* virtio-mmio transport, device side: the register file of one device.
 *
 * Three layouts of one window:
 * - Version 2 with the MSI and doorbell feature bits (the default,
 *   docs/virtio-mmio-msi.md): the virtio 1.2 MMIO transport, which a
 *   driver that does not know the bits drives on its level-triggered line,
 *   plus VIRTIO_F_MMIO_MSI and VIRTIO_F_MMIO_DOORBELLS: an MSI block
 *   (vector 0 for configuration changes, vector i+1 for virtqueue i) and
 *   per-queue doorbells on the window's second page, usable once the
 *   driver accepted the bit.
 * - plain Version 2 (neither bit offered: virtio 1.2 4.2 exactly, 4 KiB);
 * - Version 3, the 2019 layout kept as a mode (docs/virtio-mmio-v3.md):
 *   the MSI registers at 0x0c0, the doorbell layout read from QueueNotify.
 *
 * The transport knows nothing about KVM. It reaches the outside world only
 * through struct virtio_mmio_host_ops (interrupt delivery, kicking a
 * queue's worker) and the device model's struct virtio_device_ops
 * (virtio/virtio_device.h), whose queues and interrupt object it owns.
 *
 * Locks, in the order they nest (never the other way):
 *  1. t->lock: the register file. Every register access from a vCPU holds
 *     it; so do status changes (activation, reset).
 *  2. each queue's lock (struct virtio_queue): its ring and live flag.
 *     The device's worker holds it while it serves the queue; the
 *     transport takes every queue's, in index order, under t->lock, to
 *     activate and to reset. Workers of different queues never meet.
 *  3. t->irq_lock: InterruptStatus, the MSI vector table, config space
 *     bytes and ConfigGeneration: what a device touches when it signals.
 *     A leaf: nothing is locked under it; host ops called under it must
 *     not call back into the transport.
 * Device status is read and changed atomically: a worker sets
 * NEEDS_RESET under its queue's lock alone, and a reset (which holds
 * every queue's lock) cannot miss or inherit it.
 */
#ifndef MMVM_VIRTIO_MMIO_TRANSPORT_H
#define MMVM_VIRTIO_MMIO_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/msi_table.h"
#include "virtio/virtio_device.h"
#include "virtio/virtqueue.h"
#include "vmm/guest_mem.h"

/* Register offsets (virtio 1.2 4.2.2, plus the v3 MSI block). */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW	0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH	0x0a4
#define VIRTIO_MMIO_MSI_STATUS		0x0c0	/* v3, 16 bit */
#define VIRTIO_MMIO_MSI_COMMAND		0x0c2	/* v3, 16 bit */
#define VIRTIO_MMIO_MSI_ADDRESS_LOW	0x0c4	/* v3 */
#define VIRTIO_MMIO_MSI_ADDRESS_HIGH	0x0c8	/* v3 */
#define VIRTIO_MMIO_MSI_DATA		0x0cc	/* v3 */
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0	/* reads ~0: no regions */
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VENDOR		0x4d564d4d	/* "MMVM" */

/* host_ops->msi_route: installed, not usable yet (rate limit). */
#define VIRTIO_MMIO_MSI_ROUTE_DEFERRED	MSI_ROUTE_DEFERRED

/* The feature-bit layout's second page (docs/virtio-mmio-msi.md 4, 5):
 * 32-bit registers, answering only once their feature was accepted. */
#define VIRTIO_MMIO_EXT_MSI_STATUS	0x1000
#define VIRTIO_MMIO_EXT_MSI_COMMAND	0x1004
#define VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW	0x1008
#define VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH 0x100c
#define VIRTIO_MMIO_EXT_MSI_DATA	0x1010
#define VIRTIO_MMIO_EXT_MSI_VECTOR_STATE 0x1014
#define VIRTIO_MMIO_EXT_DOORBELL_LAYOUT	0x1018
#define VIRTIO_MMIO_EXT_REGS_END	0x1100	/* doorbells from here on */

/* Windows: registers+config on page 0; MSI block and/or doorbells on
 * page 1. Doorbell i at base + scale*i: base 0x1000 in the v3 layout,
 * 0x1100 (after the MSI block) in the feature-bit layout. */
#define VIRTIO_MMIO_V2_WINDOW		0x1000
#define VIRTIO_MMIO_V3_WINDOW		0x2000
#define VIRTIO_MMIO_EXT_WINDOW		0x2000
#define VIRTIO_MMIO_DOORBELL_BASE	0x1000
#define VIRTIO_MMIO_EXT_DOORBELL_BASE	0x1100
#define VIRTIO_MMIO_DOORBELL_SCALE	4

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* Feature bits the transport itself understands */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
/* Transport extensions of docs/virtio-mmio-msi.md. Provisional numbers:
 * virtio 1.3 content.tex "Feature bits are allocated as follows" reserves
 * 44-49 for future extensions; docs/oasis/ proposes these two. */
#define VIRTIO_F_MMIO_MSI		44
#define VIRTIO_F_MMIO_DOORBELLS		45

#define VIRTIO_MMIO_MAX_QUEUES		VIRTIO_MAX_QUEUES
#define VIRTIO_MMIO_MAX_VECTORS		(VIRTIO_MMIO_MAX_QUEUES + 1)
_Static_assert(VIRTIO_MMIO_MAX_VECTORS <= MSI_TABLE_MAX_VECTORS,
	       "a vector per queue and one for config changes");

struct virtio_mmio_dev;

/* Implemented by the VMM (src/irq/) with KVM, by mocks in unit tests.
 * legacy_raise, msi_route and msi_fire are called with t->irq_lock held
 * (from a vCPU's register access or a device's worker), kick with t->lock
 * held: none may call back into the transport, nor block for long. */
struct virtio_mmio_host_ops {
	/* Assert the device's legacy interrupt line (level, with resample:
	 * the host re-checks virtio_mmio_irq_pending() after the guest EOI). */
	void (*legacy_raise)(void *host);
	/* Program (or with valid=false, drop) the route behind an MSI vector.
	 * Called on UPDATE (only with a message the transport accepted,
	 * spec 7.6), again by virtio_mmio_msi_retry(), and with valid=false
	 * for every programmed vector on reset, on MSI disable and on a
	 * refused UPDATE. Returns 0 (routed), VIRTIO_MMIO_MSI_ROUTE_DEFERRED
	 * (programmed, but the host cannot send it yet: the transport keeps
	 * the vector's events pending until the host calls
	 * virtio_mmio_msi_retry() and a retry returns 0) or -errno (the
	 * vector stays unprogrammed and the device sets NEEDS_RESET). */
	int (*msi_route)(void *host, unsigned int vector, bool valid,
			 uint64_t addr, uint32_t data);
	/* Send the (unmasked, routed) vector's message. */
	void (*msi_fire)(void *host, unsigned int vector);
	/* A QueueNotify write reached userspace (no ioeventfd): hand it to the
	 * queue's worker, which calls virtio_device_ops.queue_notify. */
	void (*kick)(void *host, unsigned int queue);
	/* Optional, for a queue the device has a backend serve
	 * (ops->backend_queues), at activation with t->lock and the queues'
	 * locks held but not irq_lock: fds->kick_fd, the eventfd behind the
	 * queue's notifications, and fds->call_fd, the irqfd of MSI vector
	 * `vector`, or -1 when vector is -1 (no MSI for the queue: the
	 * device relays) or the host has none for it. 0 or -errno. */
	int (*backend_fds)(void *host, unsigned int queue, int vector,
			   struct virtio_queue_fds *fds);
};

struct virtio_mmio_counters {
	uint64_t reads, writes;			/* register exits */
	uint64_t reg_reads[0x40], reg_writes[0x40];	/* by offset / 4 */
	uint64_t config_reads, config_writes;
	uint64_t isr_reads, isr_acks;
	uint64_t queue_notify_exits;		/* QueueNotify or doorbell
						 * writes that reached us */
	uint64_t invalid;			/* bad width/offset/state */
	uint64_t resets;			/* Status 0 writes (each
						 * drops the MSI routes) */
	uint64_t irqs_legacy;			/* MSI counts: msi.stats */
	uint64_t backend_irq_changes;		/* a backend queue's vector
						 * masked/unmasked/switched
						 * after DRIVER_OK */
	/* Doorbell rings: the host adds its ioeventfd hits, the transport
	 * the writes that came to userspace; atomic adds, no lock. */
	uint64_t doorbells[VIRTIO_MMIO_MAX_QUEUES];
};

struct virtio_mmio_config {
	unsigned int version;	/* 2 (feature-bit layout) or 3 (2019) */
	bool msi;		/* offer MSI: v2 VIRTIO_F_MMIO_MSI, v3 NVEC
				 * != 0 (false: the legacy line only) */
	bool no_doorbells;	/* no doorbells: v2 no VIRTIO_F_MMIO_DOORBELLS,
				 * v3 QueueNotify reads 0; the driver notifies
				 * through QueueNotify. v2 with neither: plain
				 * virtio 1.2, a 4 KiB window */
	bool oasis_v3;		/* version 2's layout, Version reads 3: the
				 * virtio spec's Version 3 (issue #246, reset
				 * completion polled; our reset is immediate),
				 * not the 2019 layout. A test mode. */
};

struct virtio_mmio_dev {
	pthread_mutex_t lock;		/* 1: the register file */
	pthread_mutex_t irq_lock;	/* 3: ISR, MSI, config bytes (leaf) */
	struct virtio_mmio_config cfg;
	const struct virtio_device_ops *ops;
	void *dev;		/* device model private */
	const struct virtio_mmio_host_ops *host_ops;
	void *host;
	const struct guest_mem *mem;

	uint32_t status;	/* atomic (see the top of this file) */
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	struct virtio_queue queues[VIRTIO_MMIO_MAX_QUEUES];	/* 2: each */
	struct virtio_interrupt irq;	/* the device's, to signal with */

	/* under irq_lock */
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint8_t config[VIRTIO_CONFIG_MAX];
	struct msi_table msi;

	struct virtio_mmio_counters stats;
	char name[24];		/* stats prefix, e.g. "blk0" */
};

void virtio_mmio_init(struct virtio_mmio_dev *t,
		      const struct virtio_mmio_config *cfg,
		      const struct virtio_device_ops *ops, void *dev,
		      const struct virtio_mmio_host_ops *host_ops, void *host,
		      const struct guest_mem *mem);
void virtio_mmio_destroy(struct virtio_mmio_dev *t);

/* Names the device in the stats output ("blk0"); default is ops->name. */
void virtio_mmio_set_name(struct virtio_mmio_dev *t, const char *name);

/* Every feature bit offered: ops->features plus VERSION_1, EVENT_IDX and
 * INDIRECT_DESC, which the transport and virtqueue implement. */
uint64_t virtio_mmio_offered_features(const struct virtio_mmio_dev *t);

/* Number of queues / MSI vectors the device really has (num_queues is
 * clamped to VIRTIO_MMIO_MAX_QUEUES; vectors are 0 unless v3 with msi). */
unsigned int virtio_mmio_num_queues(const struct virtio_mmio_dev *t);
unsigned int virtio_mmio_num_vectors(const struct virtio_mmio_dev *t);

/* Size of the device's MMIO window: 4 KiB (plain v2) or 8 KiB (v3, or v2
 * offering MSI or doorbells). */
uint64_t virtio_mmio_window_size(const struct virtio_mmio_dev *t);

/* Does the device offer doorbells (v3 layout, or v2 with the bit)? */
bool virtio_mmio_has_doorbells(const struct virtio_mmio_dev *t);

/* Register access from a vCPU's MMIO exit; off is relative to the window.
 * Any width/offset is accepted and judged here (bad ones are counted). */
void virtio_mmio_read(struct virtio_mmio_dev *t, uint64_t off, void *data,
		      uint32_t len);
void virtio_mmio_write(struct virtio_mmio_dev *t, uint64_t off,
		       const void *data, uint32_t len);

/* The device's initial config space (ops->config_len bytes; the rest of
 * the 256 reads 0). Before the guest runs. */
void virtio_mmio_set_config(struct virtio_mmio_dev *t, const void *config);

/* The device's handles (queues, interrupt) for its env; workers are the
 * attacher's to fill in. */
void virtio_mmio_device_env(struct virtio_mmio_dev *t,
			    struct virtio_device_env *env);

/* What the interrupt object does (devices go through it): used buffers in
 * queue q; config changed (bumps ConfigGeneration); DEVICE_NEEDS_RESET
 * and, once DRIVER_OK, a config change notification. They take only
 * t->irq_lock: call them from any thread that holds no irq_lock, with the
 * lock of the queue concerned when a reset must not come in between. */
void virtio_mmio_signal_queue(struct virtio_mmio_dev *t, unsigned int q);
void virtio_mmio_signal_config(struct virtio_mmio_dev *t);
void virtio_mmio_set_needs_reset(struct virtio_mmio_dev *t);

/* The interrupt object the device signals through (also in its env). */
struct virtio_interrupt *virtio_mmio_interrupt(struct virtio_mmio_dev *t);

/* Host -> device, on a thread that holds none of t's locks: routes it
 * deferred (VIRTIO_MMIO_MSI_ROUTE_DEFERRED) may be usable now. Offers each
 * waiting vector's message to host_ops->msi_route again and sends the
 * vectors that are routed, unmasked and pending. */
void virtio_mmio_msi_retry(struct virtio_mmio_dev *t);

/* For the legacy resample path (takes t->irq_lock): is InterruptStatus
 * non-zero (and MSI off, so the line is in use)? */
bool virtio_mmio_irq_pending(struct virtio_mmio_dev *t);

/* Byte offset, within the window, of queue q's doorbell (when
 * virtio_mmio_has_doorbells()). */
uint64_t virtio_mmio_doorbell_offset(const struct virtio_mmio_dev *t,
				     unsigned int q);

/* Prints the counters, one "key value" per line, to f (at exit). */
#include <stdio.h>
void virtio_mmio_print_stats(struct virtio_mmio_dev *t, FILE *f);

#endif
