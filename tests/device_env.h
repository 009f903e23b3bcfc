/* Binding a device model to a transport under test, as the device manager
 * does but without worker threads (the test calls queue_notify and the fd
 * handlers itself). */
#ifndef MMVM_TESTS_DEVICE_ENV_H
#define MMVM_TESTS_DEVICE_ENV_H

#include "virtio/mmio_transport.h"

/* The handles of t for a device's bind(); devices copy what they keep. */
static inline const struct virtio_device_env *
test_device_env(struct virtio_mmio_dev *t)
{
	static struct virtio_device_env env;

	virtio_mmio_device_env(t, &env);
	return &env;
}

#endif
