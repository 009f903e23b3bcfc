/* seccomp-bpf sandbox: one classic-BPF filter per kind of thread (main,
 * vCPU, I/O), each allowing only the system calls (and, for ioctl, the
 * request numbers) that kind of thread makes once the guest runs. A denied
 * call traps (SIGSYS); the handler prints one line and ends the process
 * with MMVM_EXIT_SANDBOX. See docs/security.md. */
#ifndef MMVM_VMM_SECCOMP_H
#define MMVM_VMM_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit status of a sandbox violation ("mmvm internal error"). */
#define MMVM_EXIT_SANDBOX	4

enum sandbox_kind {
	SANDBOX_MAIN,
	SANDBOX_VCPU,
	SANDBOX_IO,
	SANDBOX_IO_URING,	/* a blk worker with an io_uring engine: I/O
				 * plus io_uring_enter */
	SANDBOX_API,
	SANDBOX_NR_KINDS,
};

/* Room for the largest filter. */
#define SANDBOX_MAX_INSNS	256

const char *sandbox_kind_name(enum sandbox_kind kind);

/* Builds kind's filter into prog[max]; returns the instruction count, or
 * -1 if it does not fit. */
int sandbox_build(enum sandbox_kind kind, struct sock_filter *prog,
		  size_t max);

/* Turns the sandbox on or off for the threads that will call
 * sandbox_enter() (off by default, so that unit tests running the event
 * loop or vCPU code are not sandboxed) and, when on, installs the SIGSYS
 * handler. Also reads the test hook MMVM_SECCOMP_SELFTEST=main|vcpu|io|api:
 * that thread kind makes a forbidden call (getppid) right after entering
 * its sandbox. */
void sandbox_configure(bool enabled);
bool sandbox_enabled(void);

/* Installs the SIGSYS handler (sandbox_configure(true) does it). */
void sandbox_install_sigsys(void);

/* In the calling thread: no_new_privs, then kind's filter. Does nothing
 * if the sandbox is off. If the filter cannot be installed, prints one
 * line and ends the process with status 1 (could not start). */
void sandbox_enter(enum sandbox_kind kind);

/* The same, regardless of sandbox_configure() (for tests). */
int sandbox_install(enum sandbox_kind kind);

/* Name of an x86_64 system call number, NULL if not in the table. */
const char *sandbox_syscall_name(long nr);

#endif
