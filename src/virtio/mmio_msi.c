/* virtio-mmio version 3: the MSI block (docs/virtio-mmio-v3.md).
 *
 * The driver stages an address and data in three 32-bit registers, then an
 * UPDATE command latches them into one vector at once, so a vector never
 * holds half of an old message and half of a new one. Bit 15 of MSI status
 * is the enable bit; the vector count in bits 0-10 says whether MSI is
 * offered at all. A signal for a masked or not yet programmed vector is
 * remembered (pending) and sent on UNMASK or UPDATE. Commands work whether
 * MSI is enabled or not, but nothing is sent while it is off.
 *
 * All functions here run with t->lock held.
 */
#include <string.h>

#include "virtio/mmio_internal.h"

uint16_t virtio_msi_read_status(const struct virtio_mmio_dev *t)
{
	return (t->msi_enabled ? VIRTIO_MMIO_MSI_STATUS_ENABLE : 0) |
	       (uint16_t)virtio_mmio_num_vectors(t);
}

/* Returns every vector to its reset state and drops the host routes behind
 * the programmed ones (reset, and MSI being switched off). */
static void forget_vectors(struct virtio_mmio_dev *t)
{
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_VECTORS; i++) {
		if (t->vectors[i].programmed && t->host_ops->msi_route)
			t->host_ops->msi_route(t->host, i, false, 0, 0);
	}
	memset(t->vectors, 0, sizeof(t->vectors));
}

/* Spec 6.2 and 7.5: only bit 15 acts; writing the current value does
 * nothing; 0 -> 1 clears InterruptStatus (the line drops at the next
 * resample), 1 -> 0 forgets every vector, pending ones included. */
void virtio_msi_write_status(struct virtio_mmio_dev *t, uint16_t val)
{
	bool enable = val & VIRTIO_MMIO_MSI_STATUS_ENABLE;

	if (enable && virtio_mmio_num_vectors(t) == 0) {
		t->stats.invalid++;	/* MSI not offered */
		return;
	}
	if (enable == t->msi_enabled)
		return;
	t->msi_enabled = enable;
	if (enable)
		t->interrupt_status = 0;
	else
		forget_vectors(t);
}

static void fire(struct virtio_mmio_dev *t, unsigned int vector)
{
	t->vectors[vector].pending = false;
	t->stats.irqs_msi[vector]++;
	if (t->host_ops->msi_fire)
		t->host_ops->msi_fire(t->host, vector);
}

/* Sends a pending vector if it may be sent now. */
static void flush_pending(struct virtio_mmio_dev *t, unsigned int vector)
{
	const struct virtio_msi_vector *v = &t->vectors[vector];

	if (t->msi_enabled && v->pending && v->programmed && !v->masked)
		fire(t, vector);
}

void virtio_msi_deliver(struct virtio_mmio_dev *t, unsigned int vector)
{
	struct virtio_msi_vector *v;

	if (vector >= virtio_mmio_num_vectors(t))
		return;
	v = &t->vectors[vector];
	if (v->programmed && !v->masked) {
		fire(t, vector);
		return;
	}
	v->pending = true;
	t->stats.msi_masked_pending++;
}

static void update_vector(struct virtio_mmio_dev *t, unsigned int vector)
{
	struct virtio_msi_vector *v = &t->vectors[vector];
	int rc = 0;

	v->addr = t->msi_staged_addr;
	v->data = t->msi_staged_data;
	if (t->host_ops->msi_route)
		rc = t->host_ops->msi_route(t->host, vector, true, v->addr,
					    v->data);
	v->programmed = rc == 0;
	if (rc) {
		/* Spec 12: events of a vector the host cannot route must not
		 * vanish silently; they stay pending and the driver is told. */
		t->stats.invalid++;
		virtio_mmio_set_needs_reset_locked(t);
		return;
	}
	flush_pending(t, vector);
}

void virtio_msi_command(struct virtio_mmio_dev *t, uint16_t cmd)
{
	unsigned int op = cmd >> 12, vector = cmd & 0x0fff;

	if (vector >= virtio_mmio_num_vectors(t)) {
		t->stats.invalid++;
		return;
	}
	switch (op) {
	case VIRTIO_MMIO_MSI_CMD_UPDATE:
		update_vector(t, vector);
		break;
	case VIRTIO_MMIO_MSI_CMD_MASK:
		t->vectors[vector].masked = true;
		break;
	case VIRTIO_MMIO_MSI_CMD_UNMASK:
		t->vectors[vector].masked = false;
		flush_pending(t, vector);
		break;
	default:
		t->stats.invalid++;
		break;
	}
}

void virtio_msi_reset(struct virtio_mmio_dev *t)
{
	forget_vectors(t);
	t->msi_enabled = false;
	t->msi_staged_addr = 0;
	t->msi_staged_data = 0;
}
