/* --cpus N,pin: the plan (vCPU i on the (i mod M)th allowed CPU), its log
 * line, and pinning the calling thread, including to a CPU it may not
 * use. */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "unit.h"
#include "vmm/cpu_pin.h"

static char err[256];

static void set_of(cpu_set_t *s, const int *cpus, int n)
{
	CPU_ZERO(s);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], s);
}

static void test_plan(void)
{
	cpu_set_t s;
	int host[8];
	static const int two[] = { 0, 1 }, sparse[] = { 2, 5, 7 },
			 one[] = { 3 };

	set_of(&s, two, 2);
	CHECK_EQ(cpu_pin_plan(&s, 2, host, err, sizeof(err)), 2);
	CHECK(host[0] == 0 && host[1] == 1);
	/* More vCPUs than CPUs: round robin. */
	CHECK_EQ(cpu_pin_plan(&s, 5, host, err, sizeof(err)), 2);
	CHECK(host[2] == 0 && host[3] == 1 && host[4] == 0);
	/* The set's members, not the numbers 0..M-1 (taskset -c 2,5,7). */
	set_of(&s, sparse, 3);
	CHECK_EQ(cpu_pin_plan(&s, 4, host, err, sizeof(err)), 3);
	CHECK(host[0] == 2 && host[1] == 5 && host[2] == 7 && host[3] == 2);
	set_of(&s, one, 1);
	CHECK_EQ(cpu_pin_plan(&s, 3, host, err, sizeof(err)), 1);
	CHECK(host[0] == 3 && host[1] == 3 && host[2] == 3);
	CPU_ZERO(&s);
	CHECK_EQ(cpu_pin_plan(&s, 1, host, err, sizeof(err)), -1);
	CHECK(strstr(err, "allowed no host CPU") != NULL);
	/* The highest CPU a cpu_set_t holds. */
	CPU_SET(CPU_SETSIZE - 1, &s);
	CHECK_EQ(cpu_pin_plan(&s, 1, host, err, sizeof(err)), 1);
	CHECK_EQ(host[0], CPU_SETSIZE - 1);
}

static void test_describe(void)
{
	cpu_set_t s;
	int host[4];
	char line[256];
	static const int two[] = { 0, 1 }, ranges[] = { 0, 1, 2, 3, 6, 9, 10 };

	set_of(&s, two, 2);
	cpu_pin_plan(&s, 2, host, err, sizeof(err));
	cpu_pin_describe(&s, 2, host, line, sizeof(line));
	CHECK(!strcmp(line, "pinned vcpu0 to host CPU 0, vcpu1 to host CPU 1 (allowed: 0-1)"));
	cpu_pin_plan(&s, 3, host, err, sizeof(err));
	cpu_pin_describe(&s, 3, host, line, sizeof(line));
	CHECK(!strcmp(line, "pinned vcpu0 to host CPU 0, vcpu1 to host CPU 1, "
		      "vcpu2 to host CPU 0 (allowed: 0-1); 3 vCPUs share 2 host CPUs"));
	set_of(&s, ranges, 7);
	cpu_pin_plan(&s, 1, host, err, sizeof(err));
	cpu_pin_describe(&s, 1, host, line, sizeof(line));
	CHECK(!strcmp(line, "pinned vcpu0 to host CPU 0 (allowed: 0-3,6,9-10)"));
	/* Too small a buffer: cut, still terminated. */
	memset(line, 'x', sizeof(line));
	cpu_pin_describe(&s, 1, host, line, 10);
	CHECK(!strcmp(line, "pinned vc"));
	cpu_pin_describe(&s, 1, host, line, 0);	/* touches nothing */
	CHECK_EQ(line[0], 'p');
}

static int self_cpu(void)
{
	cpu_set_t now;

	CPU_ZERO(&now);
	if (sched_getaffinity(0, sizeof(now), &now) || CPU_COUNT(&now) != 1)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &now))
			return c;
	return -1;
}

static void *pin_thread(void *arg)
{
	cpu_set_t *allowed = arg;
	int last = -1, bad = -1;

	/* Every allowed CPU works, and the thread then has that one only. */
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, allowed)) {
			if (bad < 0)
				bad = c;
			continue;
		}
		CHECK_EQ(cpu_pin_self(c, err, sizeof(err)), 0);
		CHECK_EQ(self_cpu(), c);
		last = c;
	}
	/* A CPU outside the set (one not allowed, or past the last online
	 * one): a clear error, and the thread stays where it was. */
	if (bad >= 0) {
		char want[64];

		CHECK_EQ(cpu_pin_self(bad, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "cannot pin to host CPU %d: ", bad);
		CHECK(strstr(err, want) == err);
		CHECK(strstr(err, "not among the CPUs mmvm may use") != NULL);
		CHECK_EQ(self_cpu(), last);
	}
	CHECK_EQ(cpu_pin_self(-1, err, sizeof(err)), -1);
	CHECK(strstr(err, "no such CPU") != NULL);
	CHECK_EQ(cpu_pin_self(CPU_SETSIZE, err, sizeof(err)), -1);
	return NULL;
}

static void test_pin_self(void)
{
	cpu_set_t before, after;
	pthread_t t;

	CHECK_EQ(cpu_pin_allowed(&before, err, sizeof(err)), 0);
	CHECK(CPU_COUNT(&before) >= 1);
	/* On a thread of its own: pinning is per thread, the process (this
	 * main thread) keeps its set. */
	CHECK_EQ(pthread_create(&t, NULL, pin_thread, &before), 0);
	pthread_join(t, NULL);
	CHECK_EQ(cpu_pin_allowed(&after, err, sizeof(err)), 0);
	CHECK(CPU_EQUAL(&before, &after));
}

int main(void)
{
	RUN(test_plan);
	RUN(test_describe);
	RUN(test_pin_self);
	return unit_finish("cpu_pin");
}
