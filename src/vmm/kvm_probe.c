/* The probe guest of kvm_check.h: a throw-away VM with 64 KiB of memory and
 * one vCPU, entered in 64-bit mode exactly as Linux is (same GDT, page
 * tables and entry state), that runs
 *
 *	mov eax, 1; xor ecx, ecx; cpuid; hlt
 *
 * after mmvm set leaf 1 to "no features" (ECX = EDX = 0). A KVM that
 * traps CPUID returns that (with the two bits KVM keeps up to date
 * itself, see kvm_probe_interpret); kvm_pvm returns the host's feature
 * bits, which is why a guest on it used XSAVE whatever mmvm hid.
 *
 * There is no in-kernel irqchip, so HLT comes back to us as KVM_EXIT_HLT
 * and the registers hold what CPUID returned. A POSIX timer aimed at this
 * thread bounds KVM_RUN, for a KVM that never gets there. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "boot/layout.h"
#include "boot/longmode.h"
#include "vmm/kvm_probe.h"
#include "vmm/vcpu.h"

#define PROBE_MEM_SIZE	0x10000ULL	/* GDT, page tables, code */
#define PROBE_CODE_ADDR	0x1000ULL
#define PROBE_SIGNAL	SIGALRM

_Static_assert(BOOT_PD_ADDR + 4096ULL * BOOT_PD_PAGES <= PROBE_MEM_SIZE,
	       "the page tables must fit the probe's memory");

static const uint8_t probe_code[] = {
	0xb8, 0x01, 0x00, 0x00, 0x00,		/* mov eax, 1 */
	0x31, 0xc9,				/* xor ecx, ecx */
	0x0f, 0xa2,				/* cpuid */
	0xf4,					/* hlt */
};

static void probe_alarm(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN */
}

static void fill_guest(uint8_t *mem)
{
	uint64_t gdt[BOOT_GDT_ENTRIES];

	boot_build_page_tables(mem + BOOT_PML4_ADDR, mem + BOOT_PDPT_ADDR,
			       mem + BOOT_PD_ADDR);
	boot_build_gdt(gdt);
	memcpy(mem + BOOT_GDT_ADDR, gdt, sizeof(gdt));
	memcpy(mem + PROBE_CODE_ADDR, probe_code, sizeof(probe_code));
}

static int set_probe_cpuid(int vcpu_fd)
{
	union {
		struct kvm_cpuid2 hdr;
		uint8_t bytes[sizeof(struct kvm_cpuid2) +
			      sizeof(struct kvm_cpuid_entry2)];
	} c = { .hdr.nent = 1 };

	/* Leaf 1 with no feature bits; family/model in EAX as any CPU. */
	c.hdr.entries[0] = (struct kvm_cpuid_entry2){
		.function = 1, .eax = 0x600, .ebx = 0, .ecx = 0, .edx = 0,
	};
	return ioctl(vcpu_fd, KVM_SET_CPUID2, &c);
}

/* Runs the vCPU until HLT, an unexpected exit or the deadline. */
static int run_to_hlt(int vcpu_fd, struct kvm_run *run, timer_t timer,
		      char *err, size_t errlen)
{
	struct itimerspec its = {
		.it_value.tv_sec = KVM_PROBE_TIMEOUT_MS / 1000,
		.it_value.tv_nsec = (KVM_PROBE_TIMEOUT_MS % 1000) * 1000000L,
		/* re-fire, in case the first lands outside KVM_RUN */
		.it_interval.tv_nsec = 50 * 1000000L,
	};
	int ret = -1;

	timer_settime(timer, 0, &its, NULL);
	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				snprintf(err, errlen,
					 "did not reach HLT within %d ms",
					 KVM_PROBE_TIMEOUT_MS);
				break;
			}
			snprintf(err, errlen, "KVM_RUN: %s", strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_HLT) {
			ret = 0;
			break;
		}
		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			snprintf(err, errlen,
				 "KVM_EXIT_INTERNAL_ERROR (suberror %u)",
				 run->internal.suberror);
		else
			snprintf(err, errlen, "unexpected exit reason %u",
				 run->exit_reason);
		break;
	}
	its = (struct itimerspec){ 0 };
	timer_settime(timer, 0, &its, NULL);
	return ret;
}

int kvm_probe_cpuid(int kvm_fd, uint32_t *ecx, uint32_t *edx, char *err,
		    size_t errlen)
{
	struct kvm_userspace_memory_region slot = {
		.memory_size = PROBE_MEM_SIZE,
	};
	struct sigaction sa = { .sa_handler = probe_alarm }, old_sa;
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = PROBE_SIGNAL,
	};
	struct kvm_run *run = MAP_FAILED;
	int vm_fd = -1, vcpu_fd = -1, mmap_size, ret = -1;
	struct kvm_regs r;
	uint8_t *mem;
	timer_t timer;

	snprintf(err, errlen, "setup failed");
	mem = mmap(NULL, PROBE_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return -1;
	}
	fill_guest(mem);
	slot.userspace_addr = (uint64_t)(uintptr_t)mem;

	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	sigemptyset(&sa.sa_mask);
	sigaction(PROBE_SIGNAL, &sa, &old_sa);	/* no SA_RESTART: EINTR */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) {
		snprintf(err, errlen, "timer_create: %s", strerror(errno));
		goto out_sig;
	}

	mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (mmap_size <= 0 || vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		goto out;
	}
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
			 strerror(errno));
		goto out;
	}
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0UL);
	if (vcpu_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU: %s", strerror(errno));
		goto out;
	}
	run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED) {
		snprintf(err, errlen, "mmap of the vcpu: %s", strerror(errno));
		goto out;
	}
	if (set_probe_cpuid(vcpu_fd) < 0) {
		snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
		goto out;
	}
	if (vcpu_set_longmode(vcpu_fd, PROBE_CODE_ADDR, 0, PROBE_CODE_ADDR,
			      err, errlen) ||
	    run_to_hlt(vcpu_fd, run, timer, err, errlen))
		goto out;
	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0) {
		snprintf(err, errlen, "KVM_GET_REGS: %s", strerror(errno));
		goto out;
	}
	*ecx = (uint32_t)r.rcx;
	*edx = (uint32_t)r.rdx;
	ret = 0;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)mmap_size);
	if (vcpu_fd >= 0)
		close(vcpu_fd);
	if (vm_fd >= 0)
		close(vm_fd);
	timer_delete(timer);
out_sig:
	sigaction(PROBE_SIGNAL, &old_sa, NULL);
	munmap(mem, PROBE_MEM_SIZE);
	return ret;
}
