/*
 * The host side of "rr mark": snapshot the running VM's KVM counters while
 * the guest waits for the mark's reply, so the snapshot sits exactly at the
 * edge of the guest's workload. It is done here, in C, rather than by a
 * shell hook because under the nested harness the outer machine's CPU is
 * emulated: a hook's fork/exec chain took seconds there, the guest sat
 * idle meanwhile, and those seconds ended up in the workload's window.
 *
 * State directory DIR (written by bench/inner.sh):
 *   pid      the VMM's pid (bench/stamp -p)
 *   run      output prefix of the current run
 *   tracing  tracefs mount point (optional)
 *   hists    "<kvm event> <hist trigger spec>" per line (optional)
 * Output <prefix>.<tag>:
 *   time <epoch seconds>
 *   kvm <name> <value>     every counter of /sys/kernel/debug/kvm/<pid>-<fd>/
 *                          (the statistics KVM_GET_STATS_FD exposes, vCPUs
 *                          summed), for any VMM alike
 *   mem VmHWM|VmRSS <kB>   the VMM's resident memory
 *   mem GuestRss <kB>      the Rss of its largest mapping (/proc/<pid>/smaps):
 *                          the guest's RAM, for mmvm and QEMU alike, so
 *                          VmRSS - GuestRss is the VMM's own memory
 *   mem GuestPss <kB>      that mapping's Pss
 *   mem Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous <kB>
 *                          the whole process (/proc/<pid>/smaps_rollup):
 *                          Pss charges shared pages (the VMM's binary and
 *                          libraries) to each sharer in part, so Pss -
 *                          GuestPss is what one more VM costs the host
 *   cpu vmm <utime> <stime> <hz>   CPU time of the VMM process, all its
 *                          threads (/proc/<pid>/stat), in 1/hz s
 *   cpu host <user> <nice> <system> <idle> <iowait> <irq> <softirq> <steal>
 *                          this machine's /proc/stat "cpu" line (the KVM
 *                          host: the outer VM under the nested harness)
 *   load <1 min> <5 min>   this machine's /proc/loadavg
 * and after each mark "<run id> <tag>" into the file "phase" next to the
 * run's output (bench/hostload.py, outside the nested VM, attributes its
 * samples to runs and workloads by it).
 *   hist <event>           then "  { key: value, ... } hitcount: n" lines:
 *                          the tracefs histogram since the last *-begin
 *                          mark (a *-begin mark clears them and records no
 *                          histogram)
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_snapshot.h"

#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"

/* Reads the first line of DIR/NAME into buf, without its newline. */
static int read_line(const char *dir, const char *name, char *buf,
		     size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Every numeric file of the VM's debugfs directory. */
static void write_counters(FILE *out, const char *pid)
{
	char prefix[64], vmdir[512], line[128];
	struct dirent *d, *e;
	DIR *top, *vm;

	snprintf(prefix, sizeof(prefix), "%s-", pid);
	top = opendir(KVM_DEBUGFS);
	if (!top)
		return;
	while ((d = readdir(top))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(vmdir, sizeof(vmdir), KVM_DEBUGFS "/%s", d->d_name);
		vm = opendir(vmdir);
		if (!vm)
			continue;
		while ((e = readdir(vm))) {
			char *end;

			if (e->d_name[0] == '.' ||
			    read_line(vmdir, e->d_name, line, sizeof(line)))
				continue;
			strtoull(line, &end, 10);
			if (end != line && *end == '\0')
				fprintf(out, "kvm %s %s\n", e->d_name, line);
		}
		closedir(vm);
	}
	closedir(top);
}

static void write_memory(FILE *out, const char *pid)
{
	char path[64], line[256];
	unsigned long kb;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmHWM: %lu", &kb) == 1)
			fprintf(out, "mem VmHWM %lu\n", kb);
		else if (sscanf(line, "VmRSS: %lu", &kb) == 1)
			fprintf(out, "mem VmRSS %lu\n", kb);
	}
	fclose(f);
}

/* The guest RAM is the VMM's largest mapping by far (mmvm's one mmap of
 * --mem, QEMU's RAM block): its Rss is what the guest touched, which is
 * no cost of the VMM's own. */
static void write_guest_rss(FILE *out, const char *pid)
{
	char path[64], line[512];
	unsigned long kb, size = 0, best_size = 0, best_rss = 0, best_pss = 0;
	bool have = false, in_best = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %lu kB", &kb) == 1) {
			size = kb;
			in_best = false;
		} else if (sscanf(line, "Rss: %lu kB", &kb) == 1 &&
			   size > best_size) {
			best_size = size;
			best_rss = kb;
			best_pss = 0;
			in_best = true;
			have = true;
		} else if (in_best && sscanf(line, "Pss: %lu kB", &kb) == 1) {
			best_pss = kb;
		}
	}
	fclose(f);
	if (have) {
		fprintf(out, "mem GuestRss %lu\n", best_rss);
		fprintf(out, "mem GuestPss %lu\n", best_pss);
	}
}

/* The whole process's proportional and private memory. */
static void write_rollup(FILE *out, const char *pid)
{
	static const char *const keys[] = { "Pss", "Pss_Anon", "Pss_File",
					    "Private_Dirty", "Anonymous" };
	char path[64], line[256], name[64];
	unsigned long kb;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %lu kB", name, &kb) != 2)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(name, keys[i]))
				fprintf(out, "mem %s %lu\n", name, kb);
	}
	fclose(f);
}

/* CPU time of the VMM and of this whole machine, and its load. */
static void write_cpu(FILE *out, const char *pid)
{
	unsigned long long v[8] = { 0 }, ut, st;
	char path[64], line[1024], *p;
	double l1, l5;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f) {
		/* Fields after the command name, which may hold spaces and
		 * parentheses: state is field 3, utime 14, stime 15. */
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u"
			   " %llu %llu", &ut, &st) == 2)
			fprintf(out, "cpu vmm %llu %llu %ld\n", ut, st,
				sysconf(_SC_CLK_TCK));
		fclose(f);
	}
	f = fopen("/proc/stat", "r");
	if (f) {
		if (fgets(line, sizeof(line), f) &&
		    sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) >= 4)
			fprintf(out, "cpu host %llu %llu %llu %llu %llu %llu %llu"
				" %llu\n", v[0], v[1], v[2], v[3], v[4], v[5],
				v[6], v[7]);
		fclose(f);
	}
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf %lf", &l1, &l5) == 2)
			fprintf(out, "load %.2f %.2f\n", l1, l5);
		fclose(f);
	}
}

/* "<run id> <tag>" into <dirname of prefix>/phase, replaced atomically. */
static void write_phase(const char *prefix, const char *tag)
{
	char path[4200], tmp[4300];
	const char *slash = strrchr(prefix, '/');
	int dirlen = slash ? (int)(slash - prefix) : 1;
	FILE *f;

	snprintf(path, sizeof(path), "%.*s/phase", dirlen,
		 slash ? prefix : ".");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s %s\n", slash ? slash + 1 : prefix, tag);
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* For each "event spec" line of DIR/hists: clear the histogram (begin
 * marks) or copy its entries to out. */
static void do_hists(const char *dir, FILE *out, bool clear)
{
	char tracing[1024], path[4096], line[1024];
	FILE *hists, *f;

	if (read_line(dir, "tracing", tracing, sizeof(tracing)))
		return;
	snprintf(path, sizeof(path), "%s/hists", dir);
	hists = fopen(path, "r");
	if (!hists)
		return;
	while (fgets(line, sizeof(line), hists)) {
		char event[128], spec[512];

		if (sscanf(line, "%127s %511s", event, spec) != 2)
			continue;
		if (clear) {
			snprintf(path, sizeof(path),
				 "%s/events/kvm/%s/trigger", tracing, event);
			f = fopen(path, "a");
			if (f) {
				fprintf(f, "%s:clear\n", spec);
				fclose(f);
			}
			continue;
		}
		snprintf(path, sizeof(path), "%s/events/kvm/%s/hist",
			 tracing, event);
		f = fopen(path, "r");
		if (!f)
			continue;
		fprintf(out, "hist %s\n", event);
		while (fgets(line, sizeof(line), f))
			if (line[0] == '{')
				fprintf(out, "  %s", line);
		fclose(f);
	}
	fclose(hists);
}

int kvm_snapshot(const char *dir, const char *tag)
{
	char pid[32], prefix[2048], path[4200], tmp[4300];
	bool begin = has_suffix(tag, "-begin");
	struct timespec now;
	FILE *out;

	if (read_line(dir, "pid", pid, sizeof(pid)) ||
	    read_line(dir, "run", prefix, sizeof(prefix))) {
		fprintf(stderr, "rr: mark %s: no current run in %s\n", tag, dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s.%s", prefix, tag);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* Clear first, then read the counters: the histograms then cover
	 * no more than the counters do. */
	if (begin)
		do_hists(dir, NULL, true);
	out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "rr: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(out, "time %lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
	write_counters(out, pid);
	write_memory(out, pid);
	write_guest_rss(out, pid);
	write_rollup(out, pid);
	write_cpu(out, pid);
	if (!begin)
		do_hists(dir, out, false);
	if (fclose(out) || rename(tmp, path)) {
		fprintf(stderr, "rr: %s: %s\n", path, strerror(errno));
		return -1;
	}
	write_phase(prefix, tag);
	return 0;
}
