/* The MSI vector table of one virtio-mmio device (docs/virtio-mmio-msi.md
 * 4 for the feature-bit layout, the default; docs/virtio-mmio-v3.md 6-7 for
 * the 2019 layout): vector 0 for configuration changes, vector i+1 for
 * virtqueue i.
 *
 * Self-contained: it knows nothing of the transport's registers or of the
 * device. The transport decodes the MSI registers and calls in (stage,
 * command, enable, signal, reset); the table calls out only to its host
 * (route a vector, fire it) and answers with results the transport acts on
 * (a refused command to count, a route the host could not make, which
 * needs DEVICE_NEEDS_RESET; InterruptStatus bits carried across an enable
 * switch). Nothing here calls back into the transport.
 *
 * Not locked: the caller serialises every call (the transport's irq_lock,
 * a leaf lock, see mmio_transport.h).
 */
#ifndef MMVM_VIRTIO_MSI_TABLE_H
#define MMVM_VIRTIO_MSI_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#define MSI_TABLE_MAX_VECTORS	17	/* config + 16 queues */

/* Register values (both layouts): MSI status, MSICommand, MSIVectorState */
#define VIRTIO_MMIO_MSI_STATUS_ENABLE	0x8000
#define VIRTIO_MMIO_MSI_STATUS_NVEC	0x07ff
#define VIRTIO_MMIO_MSI_CMD_UPDATE	0x1
#define VIRTIO_MMIO_MSI_CMD_MASK	0x2
#define VIRTIO_MMIO_MSI_CMD_UNMASK	0x3
#define VIRTIO_MMIO_MSI_CMD_SELECT	0x4	/* feature-bit layout only:
						 * names a vector */
#define VIRTIO_MMIO_MSI_CMD(op, vec)	(((op) << 12) | ((vec) & 0x0fff))
#define VIRTIO_MMIO_MSI_VS_PROGRAMMED	(1u << 0)
#define VIRTIO_MMIO_MSI_VS_MASKED	(1u << 1)
#define VIRTIO_MMIO_MSI_VS_PENDING	(1u << 2)
#define VIRTIO_MMIO_MSI_VS_WAITING	(1u << 3)
#define VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT	16
#define VIRTIO_MMIO_MSI_VS_VALID	(1u << 31)

/* host->route: installed, not usable yet (rate limit). */
#define MSI_ROUTE_DEFERRED	1

struct msi_table_host {
	/* Program (valid) or drop the route behind vector. Returns 0,
	 * MSI_ROUTE_DEFERRED (events stay pending until msi_table_retry()
	 * gets 0) or -errno (the vector stays unprogrammed). */
	int (*route)(void *opaque, unsigned int vector, bool valid,
		     uint64_t addr, uint32_t data);
	/* Send the vector's message. */
	void (*fire)(void *opaque, unsigned int vector);
	void *opaque;
};

struct msi_vector {
	uint64_t addr;
	uint32_t data;
	bool programmed;
	bool masked;
	bool pending;
	bool route_wait;	/* programmed, but the host deferred the route:
				 * events stay pending (spec 7.6) */
};

struct msi_table_stats {
	uint64_t irqs[MSI_TABLE_MAX_VECTORS];	/* messages sent */
	uint64_t masked_pending;	/* signalled while masked or
					 * unprogrammed: left pending */
	uint64_t bad_address;		/* UPDATEs refused: not an x86 MSI
					 * address (spec 7.6) */
	uint64_t bad_delivery_mode;	/* ...not fixed/lowest priority */
	uint64_t route_waits;		/* UPDATEs whose route was deferred */
};

struct msi_table {
	unsigned int nr;	/* vectors offered; 0: no MSI */
	bool feature_layout;	/* feature-bit layout: op SELECT, pending
				 * events carried across enable switches */
	const char *name;	/* device, for the refusal lines */
	struct msi_table_host host;

	bool enabled;
	bool sel_valid;		/* MSIVectorState: a command named ... */
	unsigned int sel;	/* ... this vector since reset */
	uint64_t staged_addr;
	uint32_t staged_data;
	struct msi_vector vectors[MSI_TABLE_MAX_VECTORS];
	uint64_t refused_log_ns;	/* last refused-UPDATE line */
	uint64_t refused_unlogged;	/* refusals since, not printed */
	struct msi_table_stats stats;
};

/* What a call asks of the transport. */
enum msi_result {
	MSI_OK,			/* done */
	MSI_INVALID,		/* refused: count it as an invalid access */
	MSI_ROUTE_FAILED,	/* counted as invalid, and the host could not
				 * route a vector: set DEVICE_NEEDS_RESET */
};

void msi_table_init(struct msi_table *m, unsigned int nr, bool feature_layout,
		    const char *name, const struct msi_table_host *host);

/* MSI status: enable bit 15, vector count in bits 0-10. */
uint16_t msi_table_status(const struct msi_table *m);

/* The enable bit (the rest of val is ignored). *isr is the transport's
 * InterruptStatus: switching on, the feature-bit layout moves it into
 * pending vectors (bit 1: vector 0, bit 0: every queue's) and v3 drops it;
 * switching off forgets every vector and, in the feature-bit layout, sets
 * in *line the InterruptStatus bits their pending events become (the
 * caller ORs them in and raises its line). */
enum msi_result msi_table_write_status(struct msi_table *m, uint16_t val,
				       uint32_t *isr, uint32_t *line);

/* The staged message: address halves and data. */
void msi_table_stage_addr(struct msi_table *m, uint32_t val, bool high);
void msi_table_stage_data(struct msi_table *m, uint32_t val);

/* MSICommand: op << 12 | vector (UPDATE, MASK, UNMASK, SELECT). */
enum msi_result msi_table_command(struct msi_table *m, uint16_t cmd);

/* MSIVectorState of the feature-bit layout (msi.md 4.2). */
uint32_t msi_table_vector_state(const struct msi_table *m);

/* An event for vector (enabled table): sent now, or left pending while
 * masked, unprogrammed or waiting for its route. */
void msi_table_signal(struct msi_table *m, unsigned int vector);

/* Offers each waiting vector's route to the host again and sends what
 * became sendable. */
enum msi_result msi_table_retry(struct msi_table *m);

/* Device reset: MSI off, every route dropped, every vector forgotten,
 * staged registers zeroed. */
void msi_table_reset(struct msi_table *m);

#endif
