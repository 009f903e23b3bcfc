/* Private to the virtio-mmio transport files (mmio_*.c): the MSI block and
 * the stats printer work on a struct virtio_mmio_dev whose lock the caller
 * already holds. */
#ifndef MMVM_VIRTIO_MMIO_INTERNAL_H
#define MMVM_VIRTIO_MMIO_INTERNAL_H

#include "virtio/mmio_transport.h"

uint16_t virtio_msi_read_status(const struct virtio_mmio_dev *t);
void virtio_msi_write_status(struct virtio_mmio_dev *t, uint16_t val);
void virtio_msi_command(struct virtio_mmio_dev *t, uint16_t cmd);
/* MSIVectorState of the feature-bit layout (docs/virtio-mmio-msi.md 4.2). */
uint32_t virtio_msi_vector_state(const struct virtio_mmio_dev *t);
/* Fires vector, or leaves it pending while masked or unprogrammed. */
void virtio_msi_deliver(struct virtio_mmio_dev *t, unsigned int vector);
/* Device reset: MSI off, every route dropped, every vector forgotten,
 * staged registers zeroed. */
void virtio_msi_reset(struct virtio_mmio_dev *t);
/* The legacy line: InterruptStatus |= bits, counted, line asserted. */
void virtio_mmio_raise_line(struct virtio_mmio_dev *t, uint32_t bits);

/* DEVICE_NEEDS_RESET with the lock held is set by the public
 * virtio_mmio_set_needs_reset_locked() (mmio_transport.h), which device
 * models use too. */

#endif
