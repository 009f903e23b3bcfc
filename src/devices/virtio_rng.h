/* virtio-rng (entropy device): the guest's /dev/hwrng, fed by getrandom(). */
#ifndef MMVM_DEVICES_VIRTIO_RNG_H
#define MMVM_DEVICES_VIRTIO_RNG_H

#include "virtio/virtio_device.h"

#define VIRTIO_ID_RNG		4
/* At most this many random bytes per request: a guest asking for a huge
 * buffer should not keep the I/O thread in getrandom() for long. */
#define VIRTIO_RNG_MAX_REQUEST	(64 * 1024)

/* The device, for the device manager to attach. Returns 0, or -1 after
 * printing a one-line error. */
int virtio_rng_new(struct virtio_device_spec *spec);

/* Fills the writable part of chain with random bytes (bounded by
 * VIRTIO_RNG_MAX_REQUEST); returns the bytes written. */
struct virtq_chain;
uint32_t virtio_rng_fill(struct virtq_chain *chain);

#endif
