/* KVM's binary statistics (KVM_GET_STATS_FD), dumped at exit. */
#ifndef MMVM_VMM_KVM_STATS_H
#define MMVM_VMM_KVM_STATS_H

#include <stdio.h>

#include "vmm/vm.h"

/* Writes "name value" lines: VM-wide stats as "vm.<name>", per-vCPU
 * stats summed over all vCPUs as "vcpu.<name>", plus mmvm's own
 * "mmvm.*" counters. Stats KVM lacks are simply absent. */
void kvm_stats_dump(struct vm *vm, FILE *f);

#endif
