/* seccomp-bpf filters, written as classic BPF by hand (no libseccomp).
 * Each filter: a foreign architecture or an x32 call kills the process;
 * then each allowed syscall number returns ALLOW; ioctl is allowed only
 * for the listed request numbers; anything else returns TRAP, whose SIGSYS
 * handler reports the call and exits MMVM_EXIT_SANDBOX.
 * docs/security.md explains why each entry is there. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vhost.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmm/seccomp.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Calls every thread makes: libc internals (locks, malloc, the signal
 * return of SIGUSR1 kicks, thread exit) and the SIGSYS report itself. */
static const int common_syscalls[] = {
	SYS_futex, SYS_write, SYS_exit, SYS_exit_group, SYS_rt_sigreturn,
	SYS_rt_sigprocmask, SYS_restart_syscall, SYS_clock_gettime,
	SYS_munmap, SYS_madvise, SYS_brk,	/* + mmap, mprotect: no PROT_EXEC */
};

/* Main thread after the others started: wait, stop them (SIGUSR1 kicks,
 * timed joins), restore the terminal, report, --stats, tear down. */
static const int main_syscalls[] = {
	SYS_getpid, SYS_tgkill,			/* pthread_kill() kicks */
	SYS_rt_sigaction,			/* event_loop_stop() */
	SYS_close,				/* teardown, fclose */
	SYS_pread64, SYS_newfstatat,		/* --stats */
	SYS_fdatasync,				/* disks flushed at exit */
	SYS_ioctl,
};
static const unsigned int main_ioctls[] = {
	TCGETS, TCSETSF,	/* host_term_restore(): glibc's tcsetattr
				 * reads back what it set */
	KVM_GET_STATS_FD,			/* --stats */
	KVM_GET_REGS, KVM_GET_SREGS,		/* vCPU dump after 124/130 */
	KVM_GET_VCPU_EVENTS, KVM_GET_LAPIC, KVM_TRANSLATE,
};

/* vCPU: KVM_RUN and the exits it handles in device code. */
static const int vcpu_syscalls[] = {
	SYS_timerfd_settime,	/* MSI route retry timer; net attach timer
				 * (a reset's detaches held back) */
	SYS_ioctl,
};
static const unsigned int vcpu_ioctls[] = {
	KVM_RUN,
	KVM_GET_REGS,		/* RIP in failure messages */
	KVM_IRQ_LINE,		/* serial, i8042, legacy-line devices */
	KVM_SET_GSI_ROUTING,	/* MSI vector programmed by the guest */
	KVM_IRQFD,		/* first route of an MSI vector */
	TUNSETOFFLOAD,		/* virtio-net DRIVER_OK */
	TUNSETQUEUE,		/* ... and reset: pairs 2.. detached */
	/* vhost-net (--net ...,vhost=on): DRIVER_OK starts the rings and
	 * the backend, reset stops them and reads the ring bases back.
	 * SET_OWNER and SET_MEM_TABLE are done before the sandbox. */
	VHOST_SET_FEATURES, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
	VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
	VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE,
};

/* I/O thread: epoll loop and the device models behind it. */
static const int io_syscalls[] = {
	SYS_epoll_wait, SYS_epoll_ctl,
	SYS_read,				/* eventfds, tap, stdin */
	SYS_writev, SYS_poll,			/* tap tx, console out */
	SYS_preadv, SYS_pwritev, SYS_pread64, SYS_pwrite64, SYS_fdatasync,
	SYS_pwritev2,				/* blk write-through: RWF_DSYNC */
	SYS_fallocate,				/* blk discard, write zeroes */
	SYS_getrandom,
	SYS_timerfd_settime,			/* MSI route retry, net
						 * tx-irq and attach timers */
	SYS_clock_nanosleep,			/* usleep: UART FIFO full */
	SYS_ioctl,
};
static const unsigned int io_ioctls[] = {
	KVM_SET_GSI_ROUTING,	/* MSI route retry timer */
	KVM_IRQFD,		/* MSI vector routed on retry */
	KVM_IRQ_LINE,		/* serial receive interrupt */
	FIONREAD,		/* virtio-console input */
	BLKDISCARD, BLKZEROOUT,	/* blk discard, write zeroes on a block
				 * device */
	TUNSETQUEUE,		/* net: the pairs the driver enabled */
};

/* A blk queue's worker with engine=io_uring: what an I/O thread makes,
 * and io_uring_enter on its queue's ring (submitting the round's reads
 * and writes; waiting for them before a flush). io_uring_setup and
 * io_uring_register are in no filter: rings are set up, restricted and
 * enabled before the sandbox (devices/blk_engine_uring.c). A reset or
 * the exit drain waits for a ring's completions without a system call of
 * it (the CQ ring is shared memory). */
static const int io_uring_syscalls[] = {
	SYS_io_uring_enter,
};

/* API thread (--api-sock), once the VM runs: its socket and
 * connections, PATCH /drives (a new image opened, locked, sized; the old
 * one synced and closed; a config interrupt), PATCH /vm (vCPU kicks),
 * metrics and logger lines. */
static const int api_syscalls[] = {
	SYS_poll, SYS_accept4, SYS_read, SYS_sendto, SYS_close,
	SYS_getpid, SYS_tgkill,			/* pause: vCPU kicks */
	SYS_openat, SYS_fcntl, SYS_newfstatat,	/* PATCH /drives */
	SYS_fdatasync,
	SYS_timerfd_settime,			/* MSI route retry timer */
	SYS_ioctl,
};
static const unsigned int api_ioctls[] = {
	BLKGETSIZE64,		/* PATCH /drives: a block device's size */
	KVM_IRQ_LINE,		/* the config interrupt: legacy line;
				 * SendCtrlAltDel's keyboard IRQ 1 */
	KVM_SET_GSI_ROUTING,	/* ... or its MSI vector's route */
	KVM_IRQFD,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct sandbox_lists {
	const char *name;
	const int *sys;
	size_t nsys;
	const unsigned int *ioctls;
	size_t nioctls;
	const int *extra;	/* more calls, on top of sys */
	size_t nextra;
} lists[SANDBOX_NR_KINDS] = {
	[SANDBOX_MAIN] = { "main", main_syscalls, N(main_syscalls),
			   main_ioctls, N(main_ioctls), NULL, 0 },
	[SANDBOX_VCPU] = { "vcpu", vcpu_syscalls, N(vcpu_syscalls),
			   vcpu_ioctls, N(vcpu_ioctls), NULL, 0 },
	[SANDBOX_IO] = { "io", io_syscalls, N(io_syscalls),
			 io_ioctls, N(io_ioctls), NULL, 0 },
	[SANDBOX_IO_URING] = { "io-uring", io_syscalls, N(io_syscalls),
			       io_ioctls, N(io_ioctls), io_uring_syscalls,
			       N(io_uring_syscalls) },
	[SANDBOX_API] = { "api", api_syscalls, N(api_syscalls),
			  api_ioctls, N(api_ioctls), NULL, 0 },
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return (unsigned int)kind < SANDBOX_NR_KINDS ? lists[kind].name : "?";
}

struct builder {
	struct sock_filter *p;
	size_t n, max;
};

static void emit(struct builder *b, struct sock_filter insn)
{
	if (b->n < b->max)
		b->p[b->n] = insn;
	b->n++;
}

#define STMT(code, k)		((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, t, f)	((struct sock_filter)BPF_JUMP(code, k, t, f))
#define ALLOW			STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* "if A == k return ALLOW" */
static void allow_if(struct builder *b, unsigned int k)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1));
	emit(b, ALLOW);
}

int sandbox_build(enum sandbox_kind kind, struct sock_filter *prog,
		  size_t max)
{
	struct builder b = { .p = prog, .max = max };
	const struct sandbox_lists *l;

	if ((unsigned int)kind >= SANDBOX_NR_KINDS)
		return -1;
	l = &lists[kind];
	emit(&b, STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, arch)));
	emit(&b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	emit(&b, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(&b, STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, nr)));
	/* x32 calls share the arch value: refuse the whole range. */
	emit(&b, JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1));
	emit(&b, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	/* mmap, mprotect (malloc): never executable memory. A keeps nr on
	 * the path that goes on. */
	emit(&b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0));
	emit(&b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 4));
	emit(&b, STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, args[2])));
	emit(&b, JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
	emit(&b, STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	emit(&b, ALLOW);
	for (size_t i = 0; i < N(common_syscalls); i++)
		allow_if(&b, (unsigned int)common_syscalls[i]);
	for (size_t i = 0; i < l->nsys; i++)
		if (l->sys[i] != SYS_ioctl)
			allow_if(&b, (unsigned int)l->sys[i]);
	for (size_t i = 0; i < l->nextra; i++)
		allow_if(&b, (unsigned int)l->extra[i]);
	if (l->nioctls) {
		/* if nr != ioctl goto trap; A = request (the kernel takes it
		 * as a 32-bit unsigned int: the low word is what counts) */
		emit(&b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0,
			      (unsigned char)(1 + 2 * l->nioctls)));
		emit(&b, STMT(BPF_LD | BPF_W | BPF_ABS,
			      offsetof(struct seccomp_data, args[1])));
		for (size_t i = 0; i < l->nioctls; i++)
			allow_if(&b, l->ioctls[i]);
	}
	emit(&b, STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	if (b.n > max || 2 * l->nioctls + 1 > 255)
		return -1;
	return (int)b.n;
}

/* ---- names for the report ---- */

#define S(x) { SYS_##x, #x }
static const struct { long nr; const char *name; } names[] = {
	S(read), S(write), S(open), S(close), S(stat), S(fstat), S(lstat),
	S(poll), S(lseek), S(mmap), S(mprotect), S(munmap), S(brk),
	S(rt_sigaction), S(rt_sigprocmask), S(rt_sigreturn), S(ioctl),
	S(pread64), S(pwrite64), S(readv), S(writev), S(access), S(pipe),
	S(select), S(sched_yield), S(mremap), S(msync), S(mincore),
	S(madvise), S(dup), S(dup2), S(pause), S(nanosleep), S(getitimer),
	S(alarm), S(setitimer), S(getpid), S(sendfile), S(socket),
	S(connect), S(accept), S(sendto), S(recvfrom), S(sendmsg),
	S(recvmsg), S(shutdown), S(bind), S(listen), S(clone), S(fork),
	S(vfork), S(execve), S(exit), S(wait4), S(kill), S(uname),
	S(fcntl), S(flock), S(fsync), S(fdatasync), S(truncate),
	S(ftruncate), S(getdents), S(getcwd), S(chdir), S(rename),
	S(mkdir), S(rmdir), S(creat), S(link), S(unlink), S(symlink),
	S(readlink), S(chmod), S(fchmod), S(chown), S(umask),
	S(gettimeofday), S(getrlimit), S(getrusage), S(sysinfo), S(times),
	S(ptrace), S(getuid), S(getgid), S(setuid), S(setgid), S(geteuid),
	S(getegid), S(getppid), S(getpgrp), S(setsid), S(sigaltstack),
	S(prctl), S(arch_prctl), S(mount), S(gettid), S(tkill), S(futex),
	S(sched_getaffinity), S(sched_setaffinity), S(getdents64),
	S(set_tid_address), S(restart_syscall), S(clock_gettime),
	S(clock_nanosleep), S(exit_group), S(epoll_wait), S(epoll_ctl),
	S(tgkill), S(openat), S(newfstatat), S(ppoll), S(set_robust_list),
	S(epoll_pwait), S(timerfd_create), S(eventfd), S(timerfd_settime),
	S(eventfd2), S(epoll_create1), S(dup3), S(pipe2), S(preadv),
	S(pwritev), S(prlimit64), S(getrandom), S(memfd_create), S(seccomp),
	S(pwritev2), S(statx), S(rseq), S(clone3), S(close_range), S(openat2),
	S(faccessat2), S(io_uring_setup), S(io_uring_enter),
	S(io_uring_register),
	S(pidfd_open), S(process_vm_readv), S(process_vm_writev),
};

const char *sandbox_syscall_name(long nr)
{
	for (size_t i = 0; i < N(names); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/* ---- the SIGSYS report: async-signal-safe, raw system calls only (no
 * libc wrappers a sanitizer could intercept) ---- */

static __thread const char *thread_kind;

static size_t put_str(char *buf, size_t at, size_t max, const char *s)
{
	while (*s && at < max)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t max, long v)
{
	char tmp[24];
	size_t n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < sizeof(tmp));
	if (v < 0 && at < max)
		buf[at++] = '-';
	while (n && at < max)
		buf[at++] = tmp[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[256];
	size_t n = 0, max = sizeof(msg) - 1;
	long nr = si->si_code == SYS_SECCOMP ? (long)si->si_syscall : -1;
	const char *name = sandbox_syscall_name(nr);

	(void)sig;
	(void)uc;
	n = put_str(msg, n, max, "mmvm: seccomp: thread ");
	n = put_str(msg, n, max, thread_kind ? thread_kind : "?");
	n = put_str(msg, n, max, " made syscall ");
	n = put_num(msg, n, max, nr);
	n = put_str(msg, n, max, " (");
	n = put_str(msg, n, max, name ? name : "unknown");
	n = put_str(msg, n, max, "), which its filter does not allow\n");
	/* The console may be in raw mode: start on a fresh line. */
	syscall(SYS_write, STDERR_FILENO, "\r\n", (size_t)2);
	syscall(SYS_write, STDERR_FILENO, msg, n);
	syscall(SYS_exit_group, MMVM_EXIT_SANDBOX);
}

void sandbox_install_sigsys(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

static bool enabled;
static int selftest_kind = -1;

void sandbox_configure(bool on)
{
	const char *st = getenv("MMVM_SECCOMP_SELFTEST");

	enabled = on;
	selftest_kind = -1;
	/* Files static glibc would otherwise open on first use, possibly in
	 * a thread whose filter is already on (no openat there):
	 * - /etc/localtime, on the first gmtime_r() (the CMOS RTC read of a
	 *   guest's rtc_cmos driver, on a vCPU thread): read it now;
	 * - /sys/devices/system/cpu/online, to size the malloc arenas the
	 *   first time a thread wants its own, and
	 *   /proc/sys/vm/overcommit_memory, when a thread's arena shrinks:
	 *   one arena (the main one) for every thread avoids both. mmvm
	 *   does not allocate on its hot path, so nothing contends for it. */
	if (on) {
		tzset();
		mallopt(M_ARENA_MAX, 1);
	}
	for (int k = 0; st && k < SANDBOX_NR_KINDS; k++)
		if (!strcmp(st, lists[k].name))
			selftest_kind = k;
	if (on)
		sandbox_install_sigsys();
}

bool sandbox_enabled(void)
{
	return enabled;
}

int sandbox_install(enum sandbox_kind kind)
{
	struct sock_filter prog[SANDBOX_MAX_INSNS];
	struct sock_fprog fprog;
	int n = sandbox_build(kind, prog, SANDBOX_MAX_INSNS);
	sigset_t sys;

	if (n < 0)
		return -EINVAL;
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	/* A thread that blocked SIGSYS would be killed instead of
	 * reported: make sure it is deliverable. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	thread_kind = lists[kind].name;
	return 0;
}

void sandbox_enter(enum sandbox_kind kind)
{
	int ret;

	if (!enabled)
		return;
	ret = sandbox_install(kind);
	if (ret < 0) {
		/* Before the guest runs; the other threads may already be
		 * going, so end the process here. */
		fprintf(stderr, "mmvm: seccomp: cannot install the %s thread's filter: %s (--seccomp=off runs without)\n",
			lists[kind].name, strerror(-ret));
		_exit(1);
	}
	if (selftest_kind == (int)kind)
		syscall(SYS_getppid);	/* test hook: must trap */
}
