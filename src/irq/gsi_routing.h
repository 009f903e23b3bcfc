/* The VM's GSI routing table, kept whole in userspace.
 *
 * KVM_SET_GSI_ROUTING replaces the entire in-kernel table, so whoever adds
 * one MSI route must resubmit every other route with it. This table starts
 * as the copy of what KVM_CREATE_IRQCHIP installs (GSIs 0-15 to the PIC and
 * the IOAPIC, 16-23 to the IOAPIC) and holds the MSI routes of the virtio
 * vectors, whose GSIs are handed out from 24 upward. Each change is
 * committed to KVM under a mutex, because vCPU threads program MSI vectors
 * concurrently.
 */
#ifndef MMVM_IRQ_GSI_ROUTING_H
#define MMVM_IRQ_GSI_ROUTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#define GSI_ROUTING_IRQCHIP_GSIS	24	/* IOAPIC pins */
#define GSI_ROUTING_FIRST_MSI_GSI	GSI_ROUTING_IRQCHIP_GSIS
/* Enough for 16 devices x 17 vectors plus the irqchip routes. */
#define GSI_ROUTING_MAX_ENTRIES		512

struct gsi_routing {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned int max_gsi;		/* exclusive, from KVM_CAP_IRQ_ROUTING */
	unsigned int next_msi_gsi;
	unsigned int nr;
	struct kvm_irq_routing_entry entries[GSI_ROUTING_MAX_ENTRIES];
	uint64_t commits;		/* KVM_SET_GSI_ROUTING calls */
	/* KVM_SET_GSI_ROUTING; replaced by unit tests. Returns 0 or -errno. */
	int (*commit)(struct gsi_routing *r, const struct kvm_irq_routing *tbl);
};

/* Fills r with the default irqchip routes. max_gsi is KVM's limit (the
 * value of KVM_CHECK_EXTENSION(KVM_CAP_IRQ_ROUTING)). Nothing is sent to
 * KVM until the first change. */
void gsi_routing_init(struct gsi_routing *r, int vm_fd, unsigned int max_gsi);
void gsi_routing_destroy(struct gsi_routing *r);

/* The VM's table, created on first use (asks KVM for the GSI limit).
 * NULL after printing an error. */
struct vm;
struct gsi_routing *gsi_routing_get(struct vm *vm);

/* Reserves a fresh GSI for an MSI route; -1 if none is left. */
int gsi_routing_alloc_msi_gsi(struct gsi_routing *r);

/* Adds or replaces the MSI route of gsi and commits the table.
 * Returns 0 or -errno (the table is left as it was on failure). */
int gsi_routing_set_msi(struct gsi_routing *r, unsigned int gsi,
			uint64_t addr, uint32_t data);

/* Removes gsi's MSI route (if any) and commits. Returns 0 or -errno. */
int gsi_routing_remove(struct gsi_routing *r, unsigned int gsi);

#endif
