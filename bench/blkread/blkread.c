/*
 * blkread: 4 KiB random reads from a block device, with O_DIRECT so that
 * every read reaches the (virtio-blk) device instead of the guest's page
 * cache. This is fio's "randread, bs=4k, direct=1" with numjobs=JOBS and
 * iodepth=DEPTH, without fio's shared libraries, which the guest initramfs
 * does not have.
 *
 *   blkread [-j JOBS] [-d DEPTH] DEVICE SECONDS
 *
 * JOBS threads (1), thread j pinned to CPU j, each keeping DEPTH reads in
 * flight (1): DEPTH is per job, as fio's iodepth is, so "-j 2 -d 16" has
 * up to 32 reads outstanding. Depth 1 reads with pread(2); deeper queues
 * use Linux native AIO through raw syscalls (the tool is linked
 * statically without libaio), or, on a kernel without CONFIG_AIO, DEPTH
 * threads per job each with one pread outstanding.
 *
 * Machine-readable result line (jobs=, depth= and engine= only when not
 * 1 and 1; engine=aio|psync-threads|psync):
 *   BLK reads=<n> secs=<s> iops=<reads/s> lat_us=<mean latency>
 *       [jobs=<j> depth=<d> engine=<e>]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLOCK		4096
#define MAX_JOBS	64
#define MAX_DEPTH	256
#define MAX_WORKERS	1024	/* threads of the psync fallback */

static const char *device;
static int fd;
static uint64_t blocks;
static unsigned long secs;
static unsigned njobs = 1, depth = 1;
static int use_aio;		/* else one thread per outstanding read */
static pthread_barrier_t start;

/* One thread: with native AIO a whole job (DEPTH reads in flight), in
 * the psync fallback one of the job's DEPTH readers. */
struct job {
	pthread_t thread;
	unsigned index;			/* worker number: the random stream */
	unsigned cpu;			/* the job's CPU */
	uint64_t reads;
	double elapsed, lat_sum;	/* seconds */
	const char *error;		/* set when the job failed */
	char msg[160];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: the offsets only need to defeat any read-ahead or caching
 * in the VMM's backing file, not to be cryptographic. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static off_t random_offset(uint64_t *state)
{
	return (off_t)(next_random(state) % blocks) * BLOCK;
}

static void *job_fail(struct job *j, const char *what, long err)
{
	snprintf(j->msg, sizeof(j->msg), "%s: %s", what,
		 err < 0 ? strerror((int)-err) : "short read");
	j->error = j->msg;
	return NULL;
}

/* Queue depth 1: one synchronous pread after the other (the tool's
 * original loop, kept so that the default measures what it always did). */
static void *run_sync(struct job *j, uint64_t *state, void *buf)
{
	double t0 = now_s(), t;

	do {
		ssize_t n = pread(fd, buf, BLOCK, random_offset(state));

		if (n != BLOCK)
			return job_fail(j, "read", n < 0 ? -errno : 0);
		j->reads++;
		t = now_s() - t0;
	} while (t < secs);
	j->elapsed = t;
	j->lat_sum = t;
	return NULL;
}

static long sys_io_setup(unsigned nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, n, iocbs);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max,
			     struct io_event *events)
{
	return syscall(SYS_io_getevents, ctx, min, max, events, NULL);
}

static long sys_io_destroy(aio_context_t ctx)
{
	return syscall(SYS_io_destroy, ctx);
}

/* Submits iocb i at a fresh random offset; io_submit with one iocb
 * either queues it or fails (no partial submission to handle). */
static long submit(aio_context_t ctx, struct iocb *cb, double *sent,
		   uint64_t *state)
{
	cb->aio_offset = random_offset(state);
	sent[cb->aio_data] = now_s();
	return sys_io_submit(ctx, 1, &cb);
}

/* Queue depth > 1: DEPTH reads in flight, each completion replaced by a
 * new read until SECONDS have passed, then the rest drained (their reads
 * count: they were issued within the window). */
static void *run_aio(struct job *j, uint64_t *state, char *bufs)
{
	struct iocb cbs[MAX_DEPTH];
	struct io_event ev[MAX_DEPTH];
	double sent[MAX_DEPTH], t0, t;
	aio_context_t ctx = 0;
	unsigned i, inflight = 0;
	long r;

	r = sys_io_setup(depth, &ctx);
	if (r < 0)
		return job_fail(j, "io_setup", -errno);
	memset(cbs, 0, sizeof(cbs));
	t0 = now_s();
	for (i = 0; i < depth; i++) {
		cbs[i].aio_data = i;
		cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
		cbs[i].aio_fildes = fd;
		cbs[i].aio_buf = (uintptr_t)(bufs + (size_t)i * BLOCK);
		cbs[i].aio_nbytes = BLOCK;
		if (submit(ctx, &cbs[i], sent, state) != 1) {
			r = -errno;
			goto fail;
		}
		inflight++;
	}
	t = 0;
	while (inflight) {
		long n = sys_io_getevents(ctx, 1, inflight, ev);
		double done;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		done = now_s();
		t = done - t0;
		for (i = 0; i < (unsigned)n; i++) {
			unsigned k = (unsigned)ev[i].data;

			inflight--;
			if (ev[i].res != BLOCK) {
				r = ev[i].res < 0 ? (long)ev[i].res : 0;
				goto fail;
			}
			j->reads++;
			j->lat_sum += done - sent[k];
			if (t >= secs)
				continue;
			if (submit(ctx, &cbs[k], sent, state) != 1) {
				r = -errno;
				goto fail;
			}
			inflight++;
		}
	}
	j->elapsed = t;
	sys_io_destroy(ctx);
	return NULL;
fail:
	/* Destroying the context cancels and waits for what is in flight,
	 * so the buffers stay valid until then. */
	sys_io_destroy(ctx);
	return job_fail(j, "aio read", r);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	/* A different stream per worker, so none reads the same blocks. */
	uint64_t state = 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL * j->index;
	cpu_set_t cpus;
	void *bufs;

	if (njobs > 1 || depth > 1) {
		/* Pinned so that job j's requests come from vCPU j and, with
		 * one virtqueue per vCPU, go through queue j. The default
		 * single job stays unpinned, as the tool always ran. */
		CPU_ZERO(&cpus);
		CPU_SET(j->cpu, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0) {
			job_fail(j, "sched_setaffinity", -errno);
			pthread_barrier_wait(&start);
			return NULL;
		}
	}
	if (posix_memalign(&bufs, BLOCK, (size_t)depth * BLOCK)) {
		job_fail(j, "posix_memalign", -ENOMEM);
		pthread_barrier_wait(&start);
		return NULL;
	}
	pthread_barrier_wait(&start);
	if (!use_aio)
		run_sync(j, &state, bufs);
	else
		run_aio(j, &state, bufs);
	free(bufs);
	return NULL;
}

static unsigned long number(const char *s, const char *what,
			    unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "blkread: bad %s '%s' (1..%lu)\n", what, s,
			max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static struct job jobs[MAX_WORKERS];
	unsigned i, workers;
	aio_context_t probe = 0;
	uint64_t size, reads = 0;
	double t = 0, lat = 0;
	int opt, failed = 0;

	while ((opt = getopt(argc, argv, "j:d:")) != -1) {
		switch (opt) {
		case 'j':
			njobs = number(optarg, "jobs", MAX_JOBS);
			break;
		case 'd':
			depth = number(optarg, "depth", MAX_DEPTH);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	device = argv[optind];
	secs = number(argv[optind + 1], "seconds", 86400);
	fd = open(device, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkread: %s: %s\n", device, strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "blkread: %s: not a block device: %s\n",
			device, strerror(errno));
		return 1;
	}
	blocks = size / BLOCK;
	if (blocks == 0) {
		fprintf(stderr, "blkread: %s: smaller than %d bytes\n",
			device, BLOCK);
		return 1;
	}

	/* Deeper queues through native AIO where the kernel has it; a kernel
	 * without CONFIG_AIO (the project's tinyconfig guest) gets the same
	 * number of reads in flight from DEPTH threads per job, all on the
	 * job's CPU, each with one pread outstanding (fio's psync engine). */
	if (depth > 1) {
		if (sys_io_setup(1, &probe) == 0) {
			use_aio = 1;
			sys_io_destroy(probe);
		} else if (errno != ENOSYS) {
			fprintf(stderr, "blkread: io_setup: %s\n",
				strerror(errno));
			return 1;
		}
	}
	workers = use_aio ? njobs : njobs * depth;
	if (workers > MAX_WORKERS) {
		fprintf(stderr, "blkread: no native AIO here, and %u jobs x "
			"depth %u is more than %d threads\n", njobs, depth,
			MAX_WORKERS);
		return 2;
	}
	/* All workers start reading together, after their setup. */
	pthread_barrier_init(&start, NULL, workers);
	for (i = 0; i < workers; i++) {
		jobs[i].index = i;
		jobs[i].cpu = use_aio ? i : i / depth;
		if (pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i])) {
			fprintf(stderr, "blkread: cannot start job %u\n", i);
			return 1;
		}
	}
	for (i = 0; i < workers; i++) {
		pthread_join(jobs[i].thread, NULL);
		if (jobs[i].error) {
			fprintf(stderr, "blkread: %s: job %u: %s\n", device,
				jobs[i].cpu, jobs[i].error);
			failed = 1;
		}
		reads += jobs[i].reads;
		lat += jobs[i].lat_sum;
		if (jobs[i].elapsed > t)
			t = jobs[i].elapsed;
	}
	if (failed || reads == 0)
		return 1;

	printf("BLK reads=%llu secs=%.3f iops=%.1f lat_us=%.1f",
	       (unsigned long long)reads, t, reads / t, lat * 1e6 / reads);
	if (njobs > 1 || depth > 1)
		printf(" jobs=%u depth=%u engine=%s", njobs, depth,
		       use_aio ? "aio" : depth > 1 ? "psync-threads" : "psync");
	printf("\n");
	return 0;

usage:
	fprintf(stderr, "usage: blkread [-j JOBS] [-d DEPTH] DEVICE SECONDS\n");
	return 2;
}
