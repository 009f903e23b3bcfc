/* How a run ends. Any thread may ask for the end (guest powered off,
 * panicked, triple-faulted, timeout); the main thread waits for that, then
 * stops vCPUs and the I/O thread.
 *
 * Exit statuses (also in --help):
 *   0   guest powered off or rebooted
 *   1   mmvm could not start (bad option, file, no /dev/kvm)
 *   2   guest kernel panicked
 *   3   VM failure: triple fault, failed entry, KVM internal error
 *   5   the guest ended well, but a disk's writes may not be on stable
 *       storage: its flush at exit failed, or a write error was latched
 *   124 --timeout expired
 *   130 mmvm interrupted by SIGINT/SIGTERM
 */
#ifndef MMVM_VMM_LIFECYCLE_H
#define MMVM_VMM_LIFECYCLE_H

#include <stdarg.h>
#include <stdbool.h>

#include "vmm/vm.h"

#define MMVM_EXIT_OK		0
#define MMVM_EXIT_SETUP		1
#define MMVM_EXIT_PANIC		2
#define MMVM_EXIT_VM_FAILURE	3
#define MMVM_EXIT_DISK		5	/* (4 is MMVM_EXIT_SANDBOX) */
#define MMVM_EXIT_TIMEOUT	124
#define MMVM_EXIT_SIGNAL	130

/* After a panic line, wait this long without new output before exiting. */
#define MMVM_PANIC_QUIET_MS	200

void vm_exit_init(struct vm *vm);

/* First caller wins; msg is printed as "mmvm: <msg>" on stderr at exit. */
void vm_request_exit(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True once an exit has been requested; lock-free, for the vCPU loop and
 * for writers deciding whether a blocked write is still worth retrying. */
static inline bool vm_exit_requested(const struct vm *vm)
{
	return __atomic_load_n(&vm->exit.requested, __ATOMIC_ACQUIRE);
}

/* Serial output activity and the panic watch. */
void vm_note_output(struct vm *vm);
void vm_note_panic(struct vm *vm);

/* What the platform devices report (src/vmm/platform.c wires them here).
 * Power-off and reset end the run with 0, or with 2 if the guest
 * panicked first (panic=N reboots after a panic; kdump powers off after
 * its crash kernel ran). A panic ends the run with 2 once the console has
 * been quiet for MMVM_PANIC_QUIET_MS, unless a crash kernel takes over. */
void vm_guest_power_off(struct vm *vm, const char *how);
void vm_guest_reset(struct vm *vm, const char *how);
void vm_guest_panic(struct vm *vm, bool crash_loaded);

/* Set from a signal handler: ends the run with MMVM_EXIT_SIGNAL. */
void vm_exit_on_signal(int sig);

/* Before the VM runs (the API waits for InstanceStart): a signal or an
 * expired timeout becomes an exit request. True once one is requested. */
bool vm_exit_poll(struct vm *vm, unsigned int timeout_s);

/* Blocks until an exit is requested (or the timeout, 0 = none, expires or
 * a panic has gone quiet). Returns the status; msg is in vm->exit.msg. */
int vm_wait_exit(struct vm *vm, unsigned int timeout_s);

#endif
