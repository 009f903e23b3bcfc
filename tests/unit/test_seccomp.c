/* The seccomp filters (src/vmm/seccomp.c): each filter run through a small
 * classic-BPF interpreter on made-up seccomp_data (foreign arch, x32,
 * allowed and denied calls and ioctl requests), then installed for real in
 * forked children that make an allowed call and a denied one: the child
 * ends with status 4 and the one-line report naming the call. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vhost.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "vmm/seccomp.h"

#define BAD_PROGRAM 0xdeadbeefu

/* Classic BPF as seccomp uses it: A and the seccomp_data loads, JEQ/JGE/
 * JSET/JA and RET. Anything else, or a jump out of the program, is
 * BAD_PROGRAM. */
static uint32_t bpf_run(const struct sock_filter *p, int n,
			const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (int pc = 0; pc >= 0 && pc < n; pc++) {
		const struct sock_filter *i = &p[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > sizeof(*d) || (i->k & 3))
				return BAD_PROGRAM;
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JA:
			pc += (int)i->k;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return BAD_PROGRAM;
		}
	}
	return BAD_PROGRAM;	/* fell off the end */
}

static struct sock_filter prog[SANDBOX_NR_KINDS][SANDBOX_MAX_INSNS];
static int len[SANDBOX_NR_KINDS];

static uint32_t judge(enum sandbox_kind k, uint32_t arch, int nr,
		      uint64_t arg1)
{
	struct seccomp_data d = { .nr = nr, .arch = arch };

	d.args[1] = arg1;
	return bpf_run(prog[k], len[k], &d);
}

#define ALLOW	SECCOMP_RET_ALLOW
#define TRAP	SECCOMP_RET_TRAP
#define KILL	SECCOMP_RET_KILL_PROCESS
#define X86	AUDIT_ARCH_X86_64

static void test_build(void)
{
	struct sock_filter small[8];

	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		len[k] = sandbox_build(k, prog[k], SANDBOX_MAX_INSNS);
		CHECK(len[k] > 6 && len[k] <= SANDBOX_MAX_INSNS);
	}
	CHECK_EQ(sandbox_build(SANDBOX_VCPU, small, 8), -1);
	CHECK_EQ(sandbox_build(SANDBOX_NR_KINDS, small, 8), -1);
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_VCPU), "vcpu"));
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_IO), "io"));
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_MAIN), "main"));
}

static void test_arch_and_x32(void)
{
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		CHECK_EQ(judge(k, AUDIT_ARCH_I386, SYS_write, 0), KILL);
		CHECK_EQ(judge(k, AUDIT_ARCH_AARCH64, SYS_write, 0), KILL);
		CHECK_EQ(judge(k, X86, __X32_SYSCALL_BIT | SYS_write, 0),
			 KILL);
		CHECK_EQ(judge(k, X86, __X32_SYSCALL_BIT | SYS_ioctl,
			       KVM_RUN), KILL);
	}
}

/* What every filter allows: the SIGSYS report's own calls and libc's. */
static void test_common(void)
{
	static const int always[] = { SYS_write, SYS_exit_group, SYS_exit,
				      SYS_futex, SYS_rt_sigreturn };
	static const int never[] = { SYS_execve, SYS_openat, SYS_open,
				     SYS_socket, SYS_connect, SYS_clone,
				     SYS_fork, SYS_ptrace, SYS_getppid,
				     SYS_kill, SYS_mount, SYS_seccomp,
				     SYS_prctl, SYS_unlink, 999 };

	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
			CHECK_EQ(judge(k, X86, always[i], 0), ALLOW);
		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			/* The API thread opens the new image of a PATCH
			 * /drives (docs/security.md). */
			if (k == SANDBOX_API && never[i] == SYS_openat)
				continue;
			CHECK_EQ(judge(k, X86, never[i], 0), TRAP);
		}
	}
}

/* io_uring: io_uring_enter on a blk worker with a ring only; setup and
 * register nowhere (rings are made and restricted before the sandbox).
 * The io-uring filter is io's plus that one call. */
static void test_io_uring(void)
{
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		CHECK_EQ(judge(k, X86, SYS_io_uring_setup, 0), TRAP);
		CHECK_EQ(judge(k, X86, SYS_io_uring_register, 0), TRAP);
		CHECK_EQ(judge(k, X86, SYS_io_uring_enter, 0),
			 k == SANDBOX_IO_URING ? ALLOW : TRAP);
	}
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_IO_URING), "io-uring"));
	CHECK_EQ(judge(SANDBOX_IO_URING, X86, SYS_preadv, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO_URING, X86, SYS_ioctl, BLKZEROOUT), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO_URING, X86, SYS_ioctl, KVM_RUN), TRAP);
	CHECK(!strcmp(sandbox_syscall_name(SYS_io_uring_register),
		      "io_uring_register"));
}

/* The API thread: its socket, drive swaps, vCPU kicks; nothing of KVM
 * but the config interrupt. */
static void test_api_thread(void)
{
	CHECK(!strcmp(sandbox_kind_name(SANDBOX_API), "api"));
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_accept4, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_poll, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_sendto, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_openat, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_tgkill, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_ioctl, KVM_IRQ_LINE), ALLOW);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_ioctl, KVM_RUN), TRAP);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_ioctl, KVM_CREATE_VCPU), TRAP);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_socket, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_bind, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_API, X86, SYS_execve, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_accept4, 0), TRAP);
}

static void test_per_thread(void)
{
	/* vCPU */
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_RUN), ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_IRQ_LINE), ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_SET_GSI_ROUTING),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_IRQFD), ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, TUNSETOFFLOAD), ALLOW);
	/* vhost-net: ring setup at DRIVER_OK, teardown at reset; never
	 * the owner, the memory table or dirty logging once sandboxed. */
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_FEATURES), ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_VRING_NUM),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_VRING_BASE),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_VRING_ADDR),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_VRING_KICK),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_VRING_CALL),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_NET_SET_BACKEND),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_GET_VRING_BASE),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_OWNER), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_RESET_OWNER), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_MEM_TABLE),
		 TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, VHOST_SET_LOG_BASE), TRAP);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, VHOST_NET_SET_BACKEND),
		 TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, VHOST_SET_VRING_CALL),
		 TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_SET_REGS), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_SET_USER_MEMORY_REGION),
		 TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, KVM_CREATE_VCPU), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, TUNSETIFF), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl, TCGETS), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_getrandom, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_pwritev, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_epoll_wait, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_close, 0), TRAP);
	/* I/O thread */
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_epoll_wait, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_preadv, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_pwritev, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_fdatasync, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_getrandom, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, KVM_SET_GSI_ROUTING),
		 ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, FIONREAD), ALLOW);
	/* vhost-net's interrupt relay on the worker: an eventfd read,
	 * then the legacy line's eventfd write (common). */
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_read, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_write, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_eventfd2, 0), TRAP);
	/* virtio-blk discard and write zeroes: on a file, on a device. */
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_fallocate, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, BLKDISCARD), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, BLKZEROOUT), ALLOW);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, BLKSECDISCARD), TRAP);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_fallocate, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_fallocate, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, KVM_RUN), TRAP);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_ioctl, KVM_IOEVENTFD), TRAP);
	CHECK_EQ(judge(SANDBOX_IO, X86, SYS_close, 0), TRAP);
	/* main */
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_close, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_tgkill, 0), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, KVM_GET_STATS_FD), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, KVM_GET_REGS), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, TCSETSF), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, TCGETS), ALLOW);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, TCSETS), TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, KVM_RUN), TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_ioctl, KVM_SET_GSI_ROUTING),
		 TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_read, 0), TRAP);
	CHECK_EQ(judge(SANDBOX_MAIN, X86, SYS_getrandom, 0), TRAP);
	/* The kernel takes the request as 32 bits: only the low word counts
	 * (high bits cannot smuggle another request past the filter). */
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl,
		       0xffffffff00000000ULL | KVM_RUN), ALLOW);
	CHECK_EQ(judge(SANDBOX_VCPU, X86, SYS_ioctl,
		       ((uint64_t)KVM_RUN << 32) | TCGETS), TRAP);
}

/* malloc may map and protect memory, never as executable. */
static void test_no_exec_memory(void)
{
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		struct seccomp_data d = { .nr = SYS_mmap, .arch = X86 };

		d.args[2] = PROT_READ | PROT_WRITE;
		CHECK_EQ(bpf_run(prog[k], len[k], &d), ALLOW);
		d.args[2] = PROT_READ | PROT_EXEC;
		CHECK_EQ(bpf_run(prog[k], len[k], &d), TRAP);
		d.nr = SYS_mprotect;
		CHECK_EQ(bpf_run(prog[k], len[k], &d), TRAP);
		d.args[2] = PROT_NONE;
		CHECK_EQ(bpf_run(prog[k], len[k], &d), ALLOW);
		d.nr = SYS_pkey_mprotect;
		CHECK_EQ(bpf_run(prog[k], len[k], &d), TRAP);
		/* A held args[2] on that path: nothing after may see it */
		d = (struct seccomp_data){ .nr = SYS_munmap, .arch = X86 };
		CHECK_EQ(bpf_run(prog[k], len[k], &d), ALLOW);
	}
}

static void test_names(void)
{
	CHECK(!strcmp(sandbox_syscall_name(SYS_getppid), "getppid"));
	CHECK(!strcmp(sandbox_syscall_name(SYS_ioctl), "ioctl"));
	CHECK(!strcmp(sandbox_syscall_name(SYS_openat), "openat"));
	CHECK(sandbox_syscall_name(100000) == NULL);
}

/* Forks a child that installs kind's filter, makes allowed calls (which
 * must not trap), then calls nr(arg0, arg1) and, if that returns,
 * exit_group(0). Only raw system calls after the install: the sanitizer
 * runtime's own calls are not in any filter. Returns the wait status;
 * the child's stderr goes to out. */
static int run_child(enum sandbox_kind kind, long nr, long arg0, long arg1,
		     char *out, size_t outlen)
{
	int p[2], status = -1;
	pid_t pid;
	ssize_t n, got = 0;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		char rnd[8];
		struct timespec ts;

		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		sandbox_install_sigsys();
		if (sandbox_install(kind))
			syscall(SYS_exit_group, 99);
		/* allowed everywhere */
		syscall(SYS_write, p[1], "", (size_t)0);
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		if (kind == SANDBOX_VCPU)
			syscall(SYS_ioctl, -1, KVM_RUN, 0);	/* EBADF */
		if (kind == SANDBOX_IO)
			syscall(SYS_getrandom, rnd, sizeof(rnd), 0);
		if (kind == SANDBOX_MAIN)
			syscall(SYS_close, -1);
		syscall(nr, arg0, arg1, 0);
		syscall(SYS_exit_group, 0);
	}
	close(p[1]);
	while (got < (ssize_t)outlen - 1 &&
	       (n = read(p[0], out + got, outlen - 1 - (size_t)got)) > 0)
		got += n;
	out[got > 0 ? got : 0] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return status;
}

static void test_installed(void)
{
	char out[512];
	int st;

	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		char want[160];

		/* an allowed call only: clean exit */
		st = run_child(k, SYS_munmap, 0, 0, out, sizeof(out));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK_EQ(strlen(out), 0);

		st = run_child(k, SYS_getppid, 0, 0, out, sizeof(out));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == MMVM_EXIT_SANDBOX);
		snprintf(want, sizeof(want),
			 "mmvm: seccomp: thread %s made syscall %d (getppid), which its filter does not allow\n",
			 sandbox_kind_name(k), SYS_getppid);
		CHECK(strstr(out, want) != NULL);
		if (!strstr(out, want))
			fprintf(stderr, "child said: '%s'\n", out);
	}
	/* a request the vCPU filter does not list */
	st = run_child(SANDBOX_VCPU, SYS_ioctl, 0, TCGETS, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == MMVM_EXIT_SANDBOX);
	CHECK(strstr(out, "thread vcpu made syscall 16 (ioctl)") != NULL);
	/* a call missing from the name table */
	st = run_child(SANDBOX_IO, SYS_sethostname, 0, 0, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == MMVM_EXIT_SANDBOX);
	CHECK(strstr(out, "(unknown)") != NULL);
}

/* Off by default: sandbox_enter() does nothing. */
static void test_disabled(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		sandbox_enter(SANDBOX_VCPU);
		syscall(SYS_getppid);
		syscall(SYS_exit_group, sandbox_enabled() ? 1 : 0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	RUN(test_build);
	RUN(test_arch_and_x32);
	RUN(test_common);
	RUN(test_api_thread);
	RUN(test_per_thread);
	RUN(test_io_uring);
	RUN(test_no_exec_memory);
	RUN(test_names);
	RUN(test_installed);
	RUN(test_disabled);
	return unit_finish("seccomp");
}
