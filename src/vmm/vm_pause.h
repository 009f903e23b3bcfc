/* Pausing and resuming the guest (the API's PATCH /vm): every vCPU is
 * kicked out of KVM_RUN and waits on a condition variable until resumed.
 * Device workers finish what they were serving and then idle: with no
 * vCPU running nothing new reaches them but host input (a tap's frames,
 * console input), which waits in the rings until the guest runs. */
#ifndef MMVM_VMM_VM_PAUSE_H
#define MMVM_VMM_VM_PAUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/vcpu.h"
#include "vmm/vm.h"

void vm_pause_init(struct vm *vm);

/* Returns once every running vCPU is parked (0), or -1 with err if they
 * did not all stop within a second (the pause stays requested; resume
 * undoes it). */
int vm_pause(struct vm *vm, char *err, size_t errlen);
void vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);

/* In the vCPU loop before KVM_RUN: parks while a pause is requested (and
 * the vCPU is not being stopped). */
void vcpu_pause_point(struct vcpu *v);
/* vcpu_stop(): wakes a parked vCPU so that it sees v->stop. */
void vcpu_pause_wake(struct vm *vm);

#endif
