/* A stopped vCPU's state, printed when a run ends by timeout or signal: the
 * one case where nobody knows what the guest was doing, and a hung guest's
 * RIP (looked up in the guest kernel's System.map) usually says why. */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/guest_mem.h"
#include "vmm/vcpu.h"

#define CR0_PG (1ull << 31)
/* CR3 bits 51:12 hold the root; the low 12 are flags or the PCID. */
#define CR3_ROOT_MASK 0x000ffffffffff000ull

/* Highest vector set in a 256-bit LAPIC register (IRR/ISR), -1 if none.
 * The eight 32-bit words sit 16 bytes apart in the LAPIC page. */
static int lapic_highest(const struct kvm_lapic_state *l, unsigned int reg)
{
	for (int word = 7; word >= 0; word--) {
		uint32_t bits;

		memcpy(&bits, &l->regs[reg + 0x10 * (unsigned int)word],
		       sizeof(bits));
		if (bits)
			return word * 32 + 31 - __builtin_clz(bits);
	}
	return -1;
}

static void dump_code(struct vcpu *v, uint64_t rip, FILE *f)
{
	struct kvm_translation tr = { .linear_address = rip };
	const uint8_t *code;

	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return;
	code = guest_mem_ptr(&v->vm->mem, tr.physical_address, 16);
	if (!code)
		return;
	fprintf(f, "mmvm: vcpu %u: code at RIP:", v->id);
	for (int i = 0; i < 16; i++)
		fprintf(f, " %02x", code[i]);
	fputc('\n', f);
}

void vcpu_dump_state(struct vcpu *v, FILE *f)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events ev;
	struct kvm_lapic_state lapic;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		fprintf(f, "mmvm: vcpu %u: state unavailable\n", v->id);
		return;
	}
	fprintf(f, "mmvm: vcpu %u: RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CPL %u CR3 0x%llx\n",
		v->id, (unsigned long long)regs.rip,
		(unsigned long long)regs.rsp,
		(unsigned long long)regs.rflags, sregs.cs.selector & 3u,
		(unsigned long long)sregs.cr3);
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) == 0)
		fprintf(f, "mmvm: vcpu %u: interrupt injected %u nr %u, nmi pending %u, shadow %u\n",
			v->id, ev.interrupt.injected, ev.interrupt.nr,
			ev.nmi.pending, ev.interrupt.shadow);
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) == 0)
		fprintf(f, "mmvm: vcpu %u: LAPIC highest IRR %d ISR %d\n",
			v->id, lapic_highest(&lapic, 0x200),
			lapic_highest(&lapic, 0x100));
	if (sregs.cr0 & CR0_PG) {
		uint64_t root = sregs.cr3 & CR3_ROOT_MASK;

		/* Only the guest writes CR3, and it can only load a page-table
		 * root it has: one outside guest memory means the vCPU state
		 * itself was lost below us (docs/nested-kvm.md: the nested
		 * harness has handed a guest its host's registers). */
		if (!guest_mem_ptr(&v->vm->mem, root, 4096))
			fprintf(f, "mmvm: vcpu %u: CR3 0x%llx is outside guest memory: this vCPU cannot run on\n",
				v->id, (unsigned long long)root);
	}
	dump_code(v, regs.rip, f);
}
