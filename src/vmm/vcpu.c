/* vCPU threads and exit handling. A vCPU leaves its loop when v->stop is
 * set; vcpu_stop() sets it together with kvm_run.immediate_exit and sends
 * SIGUSR1, so a thread inside KVM_RUN returns with EINTR and one about to
 * enter returns at once. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/cpu_pin.h"
#include "vmm/lifecycle.h"
#include "vmm/pio.h"
#include "vmm/seccomp.h"
#include "vmm/thread_join.h"
#include "vmm/vcpu.h"
#include "vmm/vm_pause.h"

static void kick_handler(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN */
}

void vcpu_init_signals(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: want EINTR */
}

struct vcpu *vcpu_create(struct vm *vm, unsigned int id, uint64_t entry,
			 uint64_t zero_page, char *err, size_t errlen)
{
	struct vcpu *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->vm = vm;
	v->id = id;
	v->host_cpu = -1;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id,
			 strerror(errno));
		free(v);
		return NULL;
	}
	v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
		      PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		snprintf(err, errlen, "mmap of vcpu %u: %s", id,
			 strerror(errno));
		v->run = NULL;
		vcpu_destroy(v);
		return NULL;
	}
	if (vcpu_init_cpuid(v, err, errlen) ||
	    vcpu_init_common(v, err, errlen) ||
	    (id == 0 && vcpu_init_regs(v, entry, zero_page, err, errlen))) {
		vcpu_destroy(v);
		return NULL;
	}
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	if (v->run)
		munmap(v->run, (size_t)v->vm->vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* rep ins/outs arrive as count items of size bytes each; the data
	 * page is KVM's, sized by it, so the product is bounded. */
	for (uint32_t i = 0; i < run->io.count; i++) {
		pio_access(v->vm, run->io.port, data, run->io.size, is_write);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	mmio_bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			len, run->mmio.is_write);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat as power off. */
		vm_request_exit(vm, MMVM_EXIT_OK, "guest powered off");
		return false;
	case KVM_EXIT_SHUTDOWN: {
		/* On AMD, KVM resets the vCPU before reporting the shutdown,
		 * so the reset vector is all that is left to show. */
		uint64_t rip = vcpu_rip(v);

		vm_request_exit(vm, MMVM_EXIT_VM_FAILURE,
				"vcpu %u: triple fault (KVM_EXIT_SHUTDOWN) at RIP 0x%llx%s",
				v->id, (unsigned long long)rip,
				rip == 0xfff0 ? " (vCPU already reset by KVM)" : "");
		return false;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, MMVM_EXIT_OK, "guest rebooted");
			break;
		default:
			vm_request_exit(vm, MMVM_EXIT_VM_FAILURE,
					"vcpu %u: system event %u at RIP 0x%llx",
					v->id, run->system_event.type,
					(unsigned long long)vcpu_rip(v));
		}
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_exit(vm, MMVM_EXIT_VM_FAILURE,
				"vcpu %u: KVM_EXIT_FAIL_ENTRY (reason 0x%llx) at RIP 0x%llx",
				v->id, (unsigned long long)
				run->fail_entry.hardware_entry_failure_reason,
				(unsigned long long)vcpu_rip(v));
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_exit(vm, MMVM_EXIT_VM_FAILURE,
				"vcpu %u: KVM_EXIT_INTERNAL_ERROR (suberror %u) at RIP 0x%llx",
				v->id, run->internal.suberror,
				(unsigned long long)vcpu_rip(v));
		return false;
	default:
		vm_request_exit(vm, MMVM_EXIT_VM_FAILURE,
				"vcpu %u: unexpected exit reason %u at RIP 0x%llx",
				v->id, run->exit_reason,
				(unsigned long long)vcpu_rip(v));
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	/* Pinned from inside, before the sandbox (whose filter has no
	 * sched_setaffinity) and before the first KVM_RUN, so the vCPU never
	 * runs guest code elsewhere. A failure ends the run as a set-up
	 * error: the guest was promised dedicated CPUs (KVM_HINTS_REALTIME). */
	if (v->host_cpu >= 0) {
		char err[160];

		if (cpu_pin_self(v->host_cpu, err, sizeof(err))) {
			vm_request_exit(v->vm, MMVM_EXIT_SETUP, "vcpu %u: %s",
					v->id, err);
			return NULL;
		}
	}
	sandbox_enter(SANDBOX_VCPU);	/* seccomp: before the first KVM_RUN */
	while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
		vcpu_pause_point(v);	/* the API's PATCH /vm Paused */
		if (__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_request_exit(v->vm, MMVM_EXIT_VM_FAILURE,
					"vcpu %u: KVM_RUN: %s", v->id,
					strerror(errno));
			break;
		}
		if (!handle_exit(v))
			break;
		/* Once the VM is ending (i8042 reset, power-off message, ...)
		 * the guest must not run on: a real machine resets at once,
		 * while Linux would go on to its next reboot method (a jump
		 * to the absent BIOS in real mode). */
		if (vm_exit_requested(v->vm))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int err = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (err)
		return -err;
	v->started = true;
	return 0;
}

bool vcpu_stop(struct vcpu *v)
{
	if (!v || !v->started)
		return true;
	__atomic_store_n(&v->stop, true, __ATOMIC_RELEASE);
	v->run->immediate_exit = 1;
	if (__atomic_load_n(&v->vm->pause.requested, __ATOMIC_ACQUIRE))
		vcpu_pause_wake(v->vm);	/* parked: see stop */
	/* The thread may be in KVM_RUN or blocked in write() of guest
	 * console output to a pipe nobody reads. */
	if (!thread_join_kicking(v->thread, true, THREAD_STOP_TRIES,
				 THREAD_STOP_WAIT_MS))
		return false;
	v->started = false;
	return true;
}
