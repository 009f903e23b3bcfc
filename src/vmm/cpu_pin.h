/* --cpus N,pin: which host CPU each vCPU thread runs on. The plan is made
 * once from mmvm's own affinity at start (so a taskset or cgroup cpuset
 * around mmvm is respected); each vCPU thread then pins itself before it
 * enters its seccomp sandbox, whose filter has no sched_setaffinity. */
#ifndef MMVM_VMM_CPU_PIN_H
#define MMVM_VMM_CPU_PIN_H

#include <sched.h>
#include <stddef.h>

/* mmvm's allowed CPUs (sched_getaffinity of the calling thread). */
int cpu_pin_allowed(cpu_set_t *allowed, char *err, size_t errlen);

/* host_cpu[i] = the (i mod M)th CPU of the M in allowed, for i < nr_vcpus.
 * Returns M, or -1 (err filled in) if allowed is empty. */
int cpu_pin_plan(const cpu_set_t *allowed, unsigned int nr_vcpus,
		 int *host_cpu, char *err, size_t errlen);

/* The one log line: "pinned vcpu0 to host CPU 0, vcpu1 to host CPU 1
 * (allowed: 0-1)". Truncated to len if need be. */
void cpu_pin_describe(const cpu_set_t *allowed, unsigned int nr_vcpus,
		      const int *host_cpu, char *buf, size_t len);

/* Pins the calling thread to host CPU cpu. On failure (the CPU is not
 * allowed any more, or does not exist) returns -1 with err saying so. */
int cpu_pin_self(int cpu, char *err, size_t errlen);

#endif
