/* Exit requests and the main thread's wait. The wait polls at a short
 * interval so that a signal (which cannot take the mutex) and the panic
 * quiet period are noticed without extra threads. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "vmm/lifecycle.h"

#define WAIT_SLICE_NS	(20 * 1000000ULL)

static volatile sig_atomic_t exit_signal;

void vm_exit_on_signal(int sig)
{
	exit_signal = sig;
}

void vm_exit_init(struct vm *vm)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vm->exit.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->exit.cond, &attr);
	pthread_condattr_destroy(&attr);
}

void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->exit.lock);
	if (!vm->exit.requested) {
		__atomic_store_n(&vm->exit.requested, true, __ATOMIC_RELEASE);
		vm->exit.status = status;
		va_start(ap, fmt);
		vsnprintf(vm->exit.msg, sizeof(vm->exit.msg), fmt, ap);
		va_end(ap);
		pthread_cond_broadcast(&vm->exit.cond);
	}
	pthread_mutex_unlock(&vm->exit.lock);
}

void vm_note_output(struct vm *vm)
{
	/* Only the panic path cares; keep the common case lock-free. */
	if (__atomic_load_n(&vm->exit.panicking, __ATOMIC_RELAXED))
		__atomic_store_n(&vm->exit.last_output_ns, vm_now_ns(),
				 __ATOMIC_RELAXED);
}

void vm_note_panic(struct vm *vm)
{
	__atomic_store_n(&vm->exit.last_output_ns, vm_now_ns(),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&vm->exit.panicking, true, __ATOMIC_RELEASE);
}

static bool guest_panicked(struct vm *vm)
{
	return __atomic_load_n(&vm->exit.panicking, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&vm->exit.crashed, __ATOMIC_ACQUIRE);
}

void vm_guest_power_off(struct vm *vm, const char *how)
{
	if (guest_panicked(vm))
		vm_request_exit(vm, MMVM_EXIT_PANIC,
				"guest panicked, then powered off (%s)", how);
	else
		vm_request_exit(vm, MMVM_EXIT_OK, "guest powered off (%s)",
				how);
}

void vm_guest_reset(struct vm *vm, const char *how)
{
	if (guest_panicked(vm))
		vm_request_exit(vm, MMVM_EXIT_PANIC,
				"guest panicked, then rebooted (%s)", how);
	else
		vm_request_exit(vm, MMVM_EXIT_OK, "guest rebooted (%s)", how);
}

void vm_guest_panic(struct vm *vm, bool crash_loaded)
{
	if (crash_loaded) {
		if (!__atomic_exchange_n(&vm->exit.crashed, true,
					 __ATOMIC_ACQ_REL))
			fprintf(stderr, "\r\nmmvm: guest panicked; its crash kernel takes over\r\n");
		return;
	}
	vm_note_panic(vm);
}

bool vm_exit_poll(struct vm *vm, unsigned int timeout_s)
{
	uint64_t deadline = timeout_s ?
			    vm->start_ns + timeout_s * 1000000000ULL : 0;

	if (exit_signal)
		vm_request_exit(vm, MMVM_EXIT_SIGNAL, "interrupted by signal %d",
				(int)exit_signal);
	else if (deadline && vm_now_ns() >= deadline)
		vm_request_exit(vm, MMVM_EXIT_TIMEOUT, "timeout");
	return vm_exit_requested(vm);
}

int vm_wait_exit(struct vm *vm, unsigned int timeout_s)
{
	uint64_t deadline = timeout_s ?
			    vm->start_ns + timeout_s * 1000000000ULL : 0;
	int status;

	pthread_mutex_lock(&vm->exit.lock);
	while (!vm->exit.requested) {
		uint64_t now = vm_now_ns(), until = now + WAIT_SLICE_NS;
		struct timespec ts = {
			.tv_sec = (time_t)(until / 1000000000ULL),
			.tv_nsec = (long)(until % 1000000000ULL),
		};

		if (exit_signal) {
			pthread_mutex_unlock(&vm->exit.lock);
			vm_request_exit(vm, MMVM_EXIT_SIGNAL,
					"interrupted by signal %d",
					(int)exit_signal);
			pthread_mutex_lock(&vm->exit.lock);
			continue;
		}
		if (deadline && now >= deadline) {
			pthread_mutex_unlock(&vm->exit.lock);
			vm_request_exit(vm, MMVM_EXIT_TIMEOUT, "timeout");
			pthread_mutex_lock(&vm->exit.lock);
			continue;
		}
		if (__atomic_load_n(&vm->exit.panicking, __ATOMIC_ACQUIRE) &&
		    now - __atomic_load_n(&vm->exit.last_output_ns,
					  __ATOMIC_RELAXED) >=
		    MMVM_PANIC_QUIET_MS * 1000000ULL) {
			pthread_mutex_unlock(&vm->exit.lock);
			vm_request_exit(vm, MMVM_EXIT_PANIC,
					"guest panicked (pvpanic)");
			pthread_mutex_lock(&vm->exit.lock);
			continue;
		}
		pthread_cond_timedwait(&vm->exit.cond, &vm->exit.lock, &ts);
	}
	status = vm->exit.status;
	pthread_mutex_unlock(&vm->exit.lock);
	return status;
}
