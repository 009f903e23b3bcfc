/* The probe guest behind kvm_check.h (kvm_probe.c). */
#ifndef MMVM_VMM_KVM_PROBE_H
#define MMVM_VMM_KVM_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/kvm_check.h"

/* Sets CPUID leaf 1 to "no features" in a throw-away VM, runs a guest
 * that reads it back, and returns 0 with the ECX and EDX the guest saw.
 * -1 with a reason in err if the guest did not reach its HLT (within
 * KVM_PROBE_TIMEOUT_MS). Uses SIGALRM on the calling thread meanwhile;
 * its disposition is restored afterwards. */
int kvm_probe_cpuid(int kvm_fd, uint32_t *ecx, uint32_t *edx, char *err,
		    size_t errlen);

#endif
