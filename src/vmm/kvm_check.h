/* Can this /dev/kvm run mmvm's guest? Decided before any guest starts, so
 * that an unusable KVM costs one line and exit 1, not a long run ending in
 * an internal error.
 *
 * Two kinds of evidence:
 *  - the capabilities mmvm's configuration needs (KVM_CHECK_EXTENSION);
 *  - a probe guest: a few instructions in 64-bit mode, the mode mmvm boots
 *    Linux in, that read CPUID leaf 1 after mmvm set it with
 *    KVM_SET_CPUID2. A KVM that does not honour it (kvm_pvm, a software
 *    KVM, returns the host CPU's feature bits) shows Linux features the
 *    vCPU cannot give it (it died in xrstor during FPU setup).
 *
 * Gathering (kvm_check_gather) does the ioctls; the verdict
 * (kvm_check_verdict) is a pure function of what was gathered, so unit
 * tests drive it with made-up facts. */
#ifndef MMVM_VMM_KVM_CHECK_H
#define MMVM_VMM_KVM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

/* Leaf 1 bits KVM itself keeps in step with the vCPU's state whatever
 * was set (CR4.OSXSAVE, the APIC base MSR's enable): the probe ignores
 * them. */
#define KVM_PROBE_ECX_DYNAMIC	(1u << 27)	/* OSXSAVE */
#define KVM_PROBE_EDX_DYNAMIC	(1u << 9)	/* APIC */

/* How long the probe guest may take before KVM is judged unable to run
 * it (a hardware KVM needs well under a millisecond, nested KVM under
 * emulation a few). */
#define KVM_PROBE_TIMEOUT_MS	3000

enum kvm_probe_result {
	KVM_PROBE_NOT_RUN = 0,	/* facts gathered without the probe */
	KVM_PROBE_CPUID_HONOURED, /* read back the leaf 1 mmvm set */
	KVM_PROBE_CPUID_IGNORED,  /* saw feature bits mmvm did not set */
	KVM_PROBE_FAILED,	/* the probe guest did not get to HLT */
};

struct kvm_facts {
	bool opened;		/* /dev/kvm opened read-write */
	int open_errno;
	int api_version;	/* KVM_GET_API_VERSION, -1 if unknown */
	/* First capability the configuration needs that KVM lacks (NULL if
	 * none), and what mmvm needs it for. */
	const char *missing_cap;
	const char *missing_for;
	unsigned int caps_checked;
	enum kvm_probe_result probe;
	uint32_t probe_ecx, probe_edx;	/* leaf 1 as the probe guest saw it */
	char probe_error[96];	/* KVM_PROBE_FAILED: what went wrong */
	char modules[64];	/* loaded kvm* modules, for the message only */
};

/* A capability lookup: KVM_CHECK_EXTENSION's answer, > 0 if present.
 * Unit tests pass a fake. */
typedef int (*kvm_cap_query)(void *ctx, int cap);

/* Fills in missing_cap/missing_for/caps_checked for what cfg needs (any
 * configuration: memory slots, irqchip, PIT, irqfd, ioeventfd, GSI
 * routing, resampling irqfds, ...; devices offering MSI: MSI routes). cfg may be NULL: the needs of every configuration. */
void kvm_check_caps(const struct mmvm_config *cfg, kvm_cap_query query,
		    void *ctx, struct kvm_facts *f);

/* Interprets the probe guest's CPUID result (leaf 1 ECX and EDX; mmvm
 * set both to 0). */
void kvm_probe_interpret(uint32_t ecx, uint32_t edx, struct kvm_facts *f);

/* Gathers every fact about the KVM behind kvm_fd (already open), running
 * the probe guest. */
void kvm_check_gather(int kvm_fd, const struct mmvm_config *cfg,
		      struct kvm_facts *f);

/* 0 if mmvm can run its guest here; else -1 and msg gets one line,
 * "/dev/kvm: <what is wrong>; <what to do>" (no "mmvm: " prefix). When
 * usable, msg says so and on what evidence. */
int kvm_check_verdict(const struct kvm_facts *f, char *msg, size_t len);

/* Opens /dev/kvm, gathers and judges: the fd if mmvm can run its guest
 * (msg then says on what evidence), else -1 with the one-line reason. */
int kvm_check_open(const struct mmvm_config *cfg, char *msg, size_t len);

/* Names of loaded kernel modules starting "kvm" (from /sys/module),
 * comma-separated, into buf; "" when there are none or /sys is absent. */
void kvm_loaded_modules(char *buf, size_t len);

#endif
