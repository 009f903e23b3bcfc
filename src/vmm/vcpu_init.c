/* Initial vCPU state: CPUID, MSRs, FPU, LAPIC wiring and, for the BSP, the
 * 64-bit boot protocol's entry state (flat GDT, paging on, long mode). */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot/layout.h"
#include "boot/longmode.h"
#include "vmm/vcpu.h"

#define CPUID_MAX_ENTRIES	256
#define CPUID_HYPERVISOR	(1u << 31)	/* leaf 1 ECX */
#define CPUID_TSC_DEADLINE	(1u << 24)	/* leaf 1 ECX */

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MISC_ENABLE_FAST_STRING	1ULL
#define MTRR_ENABLE_WB		0x806ULL	/* MTRRs on, default WB */

#define CR0_PE		0x1ULL
#define CR0_ET		0x10ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x20ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL

#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI	0x4

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	static struct kvm_cpuid2 *cache;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct kvm_cpuid2 *c = NULL;

	pthread_mutex_lock(&lock);
	for (unsigned int n = CPUID_MAX_ENTRIES; !cache && n <= 4096; n *= 2) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			break;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			cache = c;
			break;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	pthread_mutex_unlock(&lock);
	return cache;
}

int vcpu_init_cpuid(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_cpuid2 *sup = supported_cpuid(v->vm->kvm_fd), *c;
	size_t size;
	int ret;

	bool tsc_deadline = ioctl(v->vm->kvm_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0;

	if (!sup)
		return fail(err, errlen, "KVM_GET_SUPPORTED_CPUID");
	size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	c = malloc(size);
	if (!c)
		return fail(err, errlen, "cpuid");
	memcpy(c, sup, size);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id in EBX[31:24]; we are a guest. */
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
			e->ecx |= CPUID_HYPERVISOR;
			/* The in-kernel LAPIC emulates TSC-deadline mode, but
			 * KVM leaves advertising it to us. With it the guest
			 * skips calibrating the LAPIC timer against the PIT,
			 * which fails on a slow (nested, loaded) host. */
			if (tsc_deadline)
				e->ecx |= CPUID_TSC_DEADLINE;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC id of this CPU, for every topology level. */
			e->edx = v->id;
			break;
		case KVM_CPUID_FEATURES:
			/* EDX holds hints, which only the VMM can know. The
			 * realtime hint promises a vCPU that is never
			 * preempted for long: only true with --cpus N,pin
			 * (and then only as true as the host's other load
			 * lets it be). It makes Linux poll in its idle loop
			 * (cpuidle-haltpoll), which would burn CPU time that
			 * unpinned vCPUs share with each other. */
			if (v->vm->cfg && v->vm->cfg->pin_cpus)
				e->edx |= 1u << KVM_HINTS_REALTIME;
			else
				e->edx &= ~(1u << KVM_HINTS_REALTIME);
			break;
		}
	}
	/* KVM reports its leaves (0x40000000 "KVMKVMKVM", 0x40000001
	 * features) in the supported list, so kvm-clock is visible as is. */
	ret = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (ret < 0)
		return fail(err, errlen, "KVM_SET_CPUID2");
	return 0;
}

static int set_msrs(struct vcpu *v)
{
	/* struct kvm_msrs ends in a flexible array, so build it in a buffer
	 * rather than nest it (clang rejects a variable-sized member that is
	 * not last). */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) +
			      2 * sizeof(struct kvm_msr_entry)];
	} m = { .hdr.nmsrs = 2 };

	m.hdr.entries[0] = (struct kvm_msr_entry){
		.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING,
	};
	m.hdr.entries[1] = (struct kvm_msr_entry){
		.index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE_WB,
	};

	/* Both are niceties; KVM returns how many it took. */
	return ioctl(v->fd, KVM_SET_MSRS, &m) < 0 ? -1 : 0;
}

static void put_lvt(struct kvm_lapic_state *l, int reg, uint32_t mode)
{
	uint32_t val;

	memcpy(&val, &l->regs[reg], 4);
	val = (val & ~0x700u & ~0x10000u) | (mode << 8);
	memcpy(&l->regs[reg], &val, 4);
}

int vcpu_init_common(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state lapic;

	if (set_msrs(v))
		return fail(err, errlen, "KVM_SET_MSRS");
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return fail(err, errlen, "KVM_SET_FPU");
	/* Virtual-wire mode: PIC on LINT0, NMI on LINT1 (matches the MP
	 * table's local interrupt entries). */
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return fail(err, errlen, "KVM_GET_LAPIC");
	put_lvt(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	put_lvt(&lapic, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return fail(err, errlen, "KVM_SET_LAPIC");
	return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 0xb : 0x3,	/* exec/read or read/write */
		.present = 1, .dpl = 0, .s = 1, .g = 1,
		.l = code, .db = !code,
	};
}

int vcpu_set_longmode(int vcpu_fd, uint64_t entry, uint64_t rsi,
		      uint64_t rsp, char *err, size_t errlen)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rflags = 0x2,		/* reserved bit; interrupts off */
		.rip = entry,
		.rsi = rsi,
		.rsp = rsp,
	};

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return fail(err, errlen, "KVM_GET_SREGS");
	flat_segment(&sregs.cs, BOOT_CS_SELECTOR, true);
	flat_segment(&sregs.ds, BOOT_DS_SELECTOR, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 |= CR0_PE | CR0_ET | CR0_PG;
	sregs.cr3 = BOOT_PML4_ADDR;
	sregs.cr4 |= CR4_PAE;
	sregs.efer |= EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return fail(err, errlen, "KVM_SET_SREGS");
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return fail(err, errlen, "KVM_SET_REGS");
	return 0;
}

int vcpu_init_regs(struct vcpu *v, uint64_t entry, uint64_t zero_page,
		   char *err, size_t errlen)
{
	/* Stack below the zero page. */
	return vcpu_set_longmode(v->fd, entry, zero_page, BOOT_ZERO_PAGE_ADDR,
				 err, errlen);
}
