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
 * through struct virtio_mmio_host_ops (interrupt delivery, kicking the I/O
 * thread) and struct virtio_dev_ops (the device model). Register accesses
 * arrive from vCPU threads; signals arrive from the I/O thread; one mutex per
 * device (t->lock, not recursive) serialises both. The virtq_* functions
 * never take it, so a device model may hold t->lock around its queue work
 * (which keeps reset from racing with it).
 *
 * Whatever a device model decides under t->lock (this queue needs an
 * interrupt, this ring is broken) it must deliver under that same hold, with
 * the _locked variants (virtio_mmio_signal_queue_locked() and friends),
 * before it unlocks. Dropping the lock first and then calling the plain
 * variant leaves a gap in which the driver can reset the device (Status 0,
 * on a vCPU, under this lock): the interrupt and DEVICE_NEEDS_RESET would
 * then land on the fresh device. The plain variants take t->lock themselves
 * and are for callers that do not hold it and decided nothing under it;
 * calling one with the lock held deadlocks.
 */
#ifndef MMVM_VIRTIO_MMIO_TRANSPORT_H
#define MMVM_VIRTIO_MMIO_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

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

#define VIRTIO_MMIO_MSI_STATUS_ENABLE	0x8000
#define VIRTIO_MMIO_MSI_STATUS_NVEC	0x07ff
#define VIRTIO_MMIO_MSI_CMD_UPDATE	0x1
#define VIRTIO_MMIO_MSI_CMD_MASK	0x2
#define VIRTIO_MMIO_MSI_CMD_UNMASK	0x3
#define VIRTIO_MMIO_MSI_CMD(op, vec)	(((op) << 12) | ((vec) & 0x0fff))
/* host_ops->msi_route: installed, not usable yet (rate limit). */
#define VIRTIO_MMIO_MSI_ROUTE_DEFERRED	1

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

/* MSIVectorState bits */
#define VIRTIO_MMIO_MSI_VS_PROGRAMMED	(1u << 0)
#define VIRTIO_MMIO_MSI_VS_MASKED	(1u << 1)
#define VIRTIO_MMIO_MSI_VS_PENDING	(1u << 2)
#define VIRTIO_MMIO_MSI_VS_WAITING	(1u << 3)
#define VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT	16
#define VIRTIO_MMIO_MSI_VS_VALID	(1u << 31)
/* MSICommand op, feature-bit layout only: names a vector, nothing else */
#define VIRTIO_MMIO_MSI_CMD_SELECT	0x4

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

#define VIRTIO_MMIO_MAX_QUEUES		16
#define VIRTIO_MMIO_MAX_VECTORS		(VIRTIO_MMIO_MAX_QUEUES + 1)

struct virtio_mmio_dev;

/* Implemented by each device model (src/devices/virtio_*.c).
 * config_read, config_write, activate and reset are called on a vCPU thread
 * with the transport's lock held: they must not call virtio_mmio_* on this
 * device, nor wait for a thread that may itself be waiting in
 * virtio_mmio_signal_queue() for that lock (deadlock). */
struct virtio_dev_ops {
	const char *name;		/* "blk", "net", ... for logs */
	uint32_t device_id;		/* virtio device type */
	uint64_t features;		/* device-specific feature bits offered */
	unsigned int num_queues;
	uint16_t queue_max;		/* QueueNumMax for every queue */
	/* Device config space; reads beyond config_len return 0. */
	uint32_t config_len;
	void (*config_read)(void *dev, uint32_t off, void *data, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const void *data,
			     uint32_t len);
	/* Driver set DRIVER_OK: queues are configured and active. Return
	 * false to refuse (the transport sets DEVICE_NEEDS_RESET). */
	bool (*activate)(void *dev);
	/* Driver wrote 0 to Status: stop using the queues. */
	void (*reset)(void *dev);
	/* A queue was kicked; called on the I/O thread, never a vCPU. */
	void (*queue_notify)(void *dev, unsigned int queue);
};

/* Implemented by the VMM (src/irq/) with KVM, by mocks in unit tests.
 * Every callback is made with the transport's lock held (from a vCPU's
 * register access or from a signal on the I/O thread): it must not call
 * back into the transport, and should not block for long. */
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
	 * I/O thread, which calls virtio_dev_ops.queue_notify. */
	void (*kick)(void *host, unsigned int queue);
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
	uint64_t irqs_legacy;
	uint64_t irqs_msi[VIRTIO_MMIO_MAX_VECTORS];
	uint64_t msi_masked_pending;		/* signalled while masked or
						 * unprogrammed: left pending */
	uint64_t msi_bad_address;		/* UPDATEs refused: not an x86
						 * MSI address (spec 7.6) */
	uint64_t msi_bad_delivery_mode;		/* ...not fixed/lowest prio */
	uint64_t msi_route_waits;		/* UPDATEs whose route the host
						 * deferred */
	/* Doorbell rings: the host adds its ioeventfd hits, the transport
	 * the writes that came to userspace. */
	uint64_t doorbells[VIRTIO_MMIO_MAX_QUEUES];
};

struct virtio_msi_vector {
	uint64_t addr;
	uint32_t data;
	bool programmed;
	bool masked;
	bool pending;
	bool route_wait;	/* programmed, but the host deferred the route:
				 * events stay pending (spec 7.6) */
};

struct virtio_mmio_config {
	unsigned int version;	/* 2 (feature-bit layout) or 3 (2019) */
	bool msi;		/* offer MSI: v2 VIRTIO_F_MMIO_MSI, v3 NVEC
				 * != 0 (false: the legacy line only) */
	bool no_doorbells;	/* no doorbells: v2 no VIRTIO_F_MMIO_DOORBELLS,
				 * v3 QueueNotify reads 0; the driver notifies
				 * through QueueNotify. v2 with neither: plain
				 * virtio 1.2, a 4 KiB window */
};

struct virtio_mmio_dev {
	pthread_mutex_t lock;
	struct virtio_mmio_config cfg;
	const struct virtio_dev_ops *ops;
	void *dev;		/* device model private */
	const struct virtio_mmio_host_ops *host_ops;
	void *host;
	const struct guest_mem *mem;

	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtqueue vqs[VIRTIO_MMIO_MAX_QUEUES];

	/* MSI block (both layouts) */
	bool msi_enabled;
	bool msi_sel_valid;	/* MSIVectorState: a command named ... */
	unsigned int msi_sel;	/* ... this vector since reset */
	uint64_t msi_staged_addr;
	uint32_t msi_staged_data;
	struct virtio_msi_vector vectors[VIRTIO_MMIO_MAX_VECTORS];
	uint64_t msi_refused_log_ns;	/* last refused-UPDATE line (stderr) */
	uint64_t msi_refused_unlogged;	/* refusals since, not printed */

	struct virtio_mmio_counters stats;
	char name[24];		/* stats prefix, e.g. "blk0" */
};

void virtio_mmio_init(struct virtio_mmio_dev *t,
		      const struct virtio_mmio_config *cfg,
		      const struct virtio_dev_ops *ops, void *dev,
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

/* Device -> driver: used buffers were added to queue q (the caller has
 * already consulted virtq_should_notify()). */
void virtio_mmio_signal_queue(struct virtio_mmio_dev *t, unsigned int q);
/* Device -> driver: config space changed (bumps ConfigGeneration). */
void virtio_mmio_signal_config(struct virtio_mmio_dev *t);
/* Device found the driver broken: sets DEVICE_NEEDS_RESET and, once
 * DRIVER_OK, tells it with a config change notification. */
void virtio_mmio_set_needs_reset(struct virtio_mmio_dev *t);

/* The same three with t->lock already held by the caller, which keeps it:
 * for a device model delivering what it decided under the lock before it
 * unlocks (see the top of this file). Not for the virtio_dev_ops callbacks,
 * which run in the middle of a register access. */
void virtio_mmio_signal_queue_locked(struct virtio_mmio_dev *t,
				     unsigned int q);
void virtio_mmio_signal_config_locked(struct virtio_mmio_dev *t);
void virtio_mmio_set_needs_reset_locked(struct virtio_mmio_dev *t);

/* Host -> device, on a thread that does not hold t->lock: routes it
 * deferred (VIRTIO_MMIO_MSI_ROUTE_DEFERRED) may be usable now. Offers each
 * waiting vector's message to host_ops->msi_route again and sends the
 * vectors that are routed, unmasked and pending. */
void virtio_mmio_msi_retry(struct virtio_mmio_dev *t);

/* For the legacy resample path: is InterruptStatus non-zero (and MSI
 * off, so the line is in use)? */
bool virtio_mmio_irq_pending(struct virtio_mmio_dev *t);

/* Byte offset, within the window, of queue q's doorbell (when
 * virtio_mmio_has_doorbells()). */
uint64_t virtio_mmio_doorbell_offset(const struct virtio_mmio_dev *t,
				     unsigned int q);

/* Prints the counters, one "key value" per line, to f (at exit). */
#include <stdio.h>
void virtio_mmio_print_stats(struct virtio_mmio_dev *t, FILE *f);

#endif
