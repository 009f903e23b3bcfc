/* vCPU-to-host-CPU pinning for --cpus N,pin (see cpu_pin.h). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cpu_pin.h"

int cpu_pin_allowed(cpu_set_t *allowed, char *err, size_t errlen)
{
	CPU_ZERO(allowed);
	if (sched_getaffinity(0, sizeof(*allowed), allowed) < 0) {
		snprintf(err, errlen, "--cpus ,pin: sched_getaffinity: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int cpu_pin_plan(const cpu_set_t *allowed, unsigned int nr_vcpus,
		 int *host_cpu, char *err, size_t errlen)
{
	int cpus[CPU_SETSIZE];
	int m = 0;

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, allowed))
			cpus[m++] = c;
	if (m == 0) {
		snprintf(err, errlen, "--cpus ,pin: mmvm is allowed no host CPU");
		return -1;
	}
	for (unsigned int i = 0; i < nr_vcpus; i++)
		host_cpu[i] = cpus[i % (unsigned int)m];
	return m;
}

/* Appends to buf at *pos, never past len (buf stays terminated). */
static void __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

void cpu_pin_describe(const cpu_set_t *allowed, unsigned int nr_vcpus,
		      const int *host_cpu, char *buf, size_t len)
{
	size_t pos = 0;
	int m = CPU_COUNT(allowed);
	char sep = ' ';

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned int i = 0; i < nr_vcpus; i++)
		put(buf, len, &pos, "%svcpu%u to host CPU %d",
		    i ? ", " : "pinned ", i, host_cpu[i]);
	/* The allowed set as ranges, e.g. "0-3,6", as taskset -c takes it. */
	put(buf, len, &pos, " (allowed:");
	for (int c = 0; c < CPU_SETSIZE; c++) {
		int end = c;

		if (!CPU_ISSET(c, allowed))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, allowed))
			end++;
		if (end == c)
			put(buf, len, &pos, "%c%d", sep, c);
		else
			put(buf, len, &pos, "%c%d-%d", sep, c, end);
		sep = ',';
		c = end;
	}
	put(buf, len, &pos, ")");
	/* Two polling vCPUs on one host CPU take turns, each polling while
	 * the other could run: say so rather than let it look like a fault. */
	if (nr_vcpus > (unsigned int)m)
		put(buf, len, &pos, "; %u vCPUs share %d host CPUs", nr_vcpus,
		    m);
}

int cpu_pin_self(int cpu, char *err, size_t errlen)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE) {
		snprintf(err, errlen, "cannot pin to host CPU %d: no such CPU",
			 cpu);
		return -1;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* pid 0: the calling thread only, not the whole process. */
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, errlen, "cannot pin to host CPU %d: %s%s", cpu,
			 strerror(errno),
			 errno == EINVAL ? " (not among the CPUs mmvm may use now: taskset or cpuset changed?)" : "");
		return -1;
	}
	return 0;
}
