/* One vCPU: its KVM fd, the shared kvm_run page and the thread running it. */
#ifndef MMVM_VMM_VCPU_H
#define MMVM_VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vm.h"

struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned int id;	/* KVM vcpu id == APIC id */
	int fd;
	struct kvm_run *run;
	int host_cpu;		/* --cpus N,pin: the host CPU this thread
				 * pins itself to; -1: not pinned */
	pthread_t thread;
	bool started;
	bool stop;		/* atomic: leave the run loop */
};

/* Creates vCPU id with CPUID, MSRs, FPU and LAPIC set up. The BSP (id 0)
 * also gets the 64-bit boot state: RIP = entry, RSI = zero page. APs wait
 * for INIT/SIPI in the in-kernel LAPIC. Returns NULL with err filled in. */
struct vcpu *vcpu_create(struct vm *vm, unsigned int id, uint64_t entry,
			 uint64_t zero_page, char *err, size_t errlen);
void vcpu_destroy(struct vcpu *v);

/* Installs the SIGUSR1 handler used to kick vCPUs out of KVM_RUN. */
void vcpu_init_signals(void);

int vcpu_start(struct vcpu *v);
/* Kicks the vCPU out of the guest and joins its thread. False if the
 * thread did not leave within a few seconds (it still runs; the caller
 * must not free what it uses). */
bool vcpu_stop(struct vcpu *v);

/* Prints a stopped vCPU's registers, pending events, LAPIC IRR/ISR and the
 * code bytes at RIP (vcpu_dump.c). Only call after vcpu_stop(). */
void vcpu_dump_state(struct vcpu *v, FILE *f);

/* Register and CPUID setup (vcpu_init.c). */
int vcpu_init_cpuid(struct vcpu *v, char *err, size_t errlen);
int vcpu_init_regs(struct vcpu *v, uint64_t entry, uint64_t zero_page,
		   char *err, size_t errlen);
int vcpu_init_common(struct vcpu *v, char *err, size_t errlen);

/* The 64-bit boot protocol's entry state on any vCPU fd: flat GDT at
 * BOOT_GDT_ADDR, paging on with the tables at BOOT_PML4_ADDR, long mode,
 * interrupts off. Guest memory must hold that GDT and those tables. */
int vcpu_set_longmode(int vcpu_fd, uint64_t entry, uint64_t rsi,
		      uint64_t rsp, char *err, size_t errlen);

#endif
