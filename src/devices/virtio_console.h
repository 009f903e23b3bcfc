/* virtio-console device model: one port, stdin -> guest, guest -> stdout. */
#ifndef MMVM_DEVICES_VIRTIO_CONSOLE_H
#define MMVM_DEVICES_VIRTIO_CONSOLE_H

#include "vmm/vm.h"

/* Creates the virtio console (--console virtio) and attaches it to the VM.
 * Returns 0, or -1 after printing a one-line error. */
int virtio_console_create(struct vm *vm);

#endif
