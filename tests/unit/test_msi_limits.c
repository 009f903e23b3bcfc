/* What a hostile guest can make the host do through the MSI block, and
 * what it can make its own vCPUs receive:
 *
 *  - UPDATE storms: a storm of identical messages makes at most one
 *    KVM_SET_GSI_ROUTING commit; a storm of changing messages makes at most
 *    the token bucket's worth, and once the limit allows, the route KVM
 *    holds is the last message, and an event that arrived meanwhile is sent
 *    exactly once, never through a stale route;
 *  - messages that are not fixed/lowest-priority x86 interrupts (INIT, NMI,
 *    SMI, ExtINT, ...) or not at 0xfee00000-0xfeefffff are refused at
 *    UPDATE (spec 7.6): counted, reported once on stderr, the vector left
 *    unprogrammed with its events pending, and a good UPDATE afterwards
 *    delivers them.
 *
 * KVM is faked: the routing table's commit hook records the tables
 * (as in test_irq_routing), its clock is a variable, and the transport's
 * host ops route vector v on GSI 24 + v through that table, as
 * src/irq/virtio_irq.c does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "irq/gsi_routing.h"
#include "virtio/x86_msi.h"
#include "unit.h"
#include "virtio/mmio_transport.h"

#define NQ		2
#define GSI(v)		(GSI_ROUTING_FIRST_MSI_GSI + (v))
#define MSI_ADDR	0xfee00000ULL
#define INTERVAL_NS	(1000000000ULL / GSI_ROUTING_COMMIT_RATE)

/* --- fake KVM: commit hook and clock ------------------------------------ */

static struct gsi_routing r;
static unsigned int commits;
static unsigned int last_nr;
static struct kvm_irq_routing_entry last[GSI_ROUTING_MAX_ENTRIES];
static uint64_t fake_now = 1000000000ULL;

static int mock_commit(struct gsi_routing *rt,
		       const struct kvm_irq_routing *tbl)
{
	commits++;
	last_nr = tbl->nr;
	memcpy(last, tbl->entries, tbl->nr * sizeof(last[0]));
	return 0;
}

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* The MSI route of gsi in the last table sent to "KVM". */
static const struct kvm_irq_routing_entry *kvm_msi(unsigned int gsi)
{
	for (unsigned int i = 0; i < last_nr; i++)
		if (last[i].gsi == gsi && last[i].type == KVM_IRQ_ROUTING_MSI)
			return &last[i];
	return NULL;
}

static void routing_setup(void)
{
	gsi_routing_init(&r, -1, 1024);
	r.commit = mock_commit;
	r.now_ns = fake_clock;
	commits = 0;
	last_nr = 0;
}

/* --- the routing table alone --------------------------------------------- */

static void test_identical_storm(void)
{
	routing_setup();
	CHECK_EQ(gsi_routing_set_msi(&r, 24, MSI_ADDR, 0x41),
		 GSI_ROUTING_COMMITTED);
	for (unsigned int i = 0; i < 10000; i++)
		if (gsi_routing_set_msi(&r, 24, MSI_ADDR, 0x41) !=
		    GSI_ROUTING_UNCHANGED)
			break;
	CHECK_EQ(commits, 1);
	CHECK_EQ(r.commits, 1);
	CHECK_EQ(r.skipped, 10000);
	CHECK_EQ(r.deferred, 0);
	/* Removing a route KVM never had costs nothing either. */
	CHECK_EQ(gsi_routing_remove(&r, 99), GSI_ROUTING_COMMITTED);
	CHECK_EQ(commits, 1);
	gsi_routing_destroy(&r);
}

static void test_changing_storm(void)
{
	const struct kvm_irq_routing_entry *e;
	unsigned int deferred = 0, other = 0, n = 10000;

	routing_setup();
	/* Time stands still: only the burst gets through. */
	for (unsigned int i = 0; i < n; i++) {
		int ret = gsi_routing_set_msi(&r, GSI(i % 3),
					      MSI_ADDR | ((i & 0xff) << 12),
					      0x30 + i % 200);

		deferred += ret == GSI_ROUTING_DEFERRED;
		other += ret != GSI_ROUTING_DEFERRED &&
			 ret != GSI_ROUTING_COMMITTED;
	}
	CHECK_EQ(other, 0);
	CHECK_EQ(commits, GSI_ROUTING_COMMIT_BURST);
	CHECK_EQ(deferred, n - GSI_ROUTING_COMMIT_BURST);
	CHECK_EQ(r.deferred, n - GSI_ROUTING_COMMIT_BURST);
	/* KVM does not have the last message yet, and says so. */
	CHECK(!gsi_routing_msi_live(&r, GSI((n - 1) % 3),
				    MSI_ADDR | (((n - 1) & 0xff) << 12),
				    0x30 + (n - 1) % 200));
	CHECK(gsi_routing_retry_ns(&r) > 0 &&
	      gsi_routing_retry_ns(&r) <= INTERVAL_NS);
	CHECK_EQ(gsi_routing_flush(&r), GSI_ROUTING_DEFERRED);
	CHECK_EQ(commits, GSI_ROUTING_COMMIT_BURST);

	/* The next token: one commit carries every change held back. */
	fake_now += gsi_routing_retry_ns(&r);
	CHECK_EQ(gsi_routing_retry_ns(&r), 0);
	CHECK_EQ(gsi_routing_flush(&r), GSI_ROUTING_COMMITTED);
	CHECK_EQ(commits, GSI_ROUTING_COMMIT_BURST + 1);
	for (unsigned int k = 0; k < 3; k++) {
		unsigned int i = n - 3 + k;	/* last write of GSI(i % 3) */

		e = kvm_msi(GSI(i % 3));
		CHECK(e && e->u.msi.address_lo ==
		      (uint32_t)(MSI_ADDR | ((i & 0xff) << 12)) &&
		      e->u.msi.address_hi == 0 &&
		      e->u.msi.data == 0x30 + i % 200);
		CHECK(gsi_routing_msi_live(&r, GSI(i % 3),
					   MSI_ADDR | ((i & 0xff) << 12),
					   0x30 + i % 200));
	}
	/* Irqchip routes travel with the late commit too. */
	CHECK_EQ(last_nr, 24 + 16 + 3);
	/* Nothing left: flushing again is free. */
	CHECK_EQ(gsi_routing_flush(&r), GSI_ROUTING_UNCHANGED);
	CHECK_EQ(commits, GSI_ROUTING_COMMIT_BURST + 1);
	gsi_routing_destroy(&r);
}

/* A storm over simulated time: at most burst + rate * seconds commits. */
static void test_storm_over_time(void)
{
	const unsigned int seconds = 40, per_ms = 5;
	const struct kvm_irq_routing_entry *e;
	uint32_t data = 0;

	routing_setup();
	for (unsigned int ms = 0; ms < seconds * 1000; ms++) {
		for (unsigned int k = 0; k < per_ms; k++)
			gsi_routing_set_msi(&r, 24, MSI_ADDR, ++data & 0xff);
		fake_now += 1000000;
	}
	CHECK(commits <= GSI_ROUTING_COMMIT_BURST +
	      GSI_ROUTING_COMMIT_RATE * seconds + 1);
	CHECK(commits >= GSI_ROUTING_COMMIT_RATE * seconds);
	CHECK_EQ(r.commits + r.deferred + r.skipped, seconds * 1000 * per_ms);
	fake_now += INTERVAL_NS;
	gsi_routing_flush(&r);
	e = kvm_msi(24);
	CHECK(e && e->u.msi.data == (data & 0xff));
	gsi_routing_destroy(&r);
}

static void test_deferred_then_undone(void)
{
	routing_setup();
	gsi_routing_set_limit(&r, 1, 1);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, MSI_ADDR, 1),
		 GSI_ROUTING_COMMITTED);
	/* Changed and changed back before KVM saw it: no commit needed. */
	CHECK_EQ(gsi_routing_set_msi(&r, 24, MSI_ADDR, 2),
		 GSI_ROUTING_DEFERRED);
	CHECK_EQ(gsi_routing_set_msi(&r, 24, MSI_ADDR, 1),
		 GSI_ROUTING_UNCHANGED);
	/* Added and removed before KVM saw it: nothing to take back. */
	CHECK_EQ(gsi_routing_set_msi(&r, 25, MSI_ADDR, 3),
		 GSI_ROUTING_DEFERRED);
	CHECK_EQ(gsi_routing_remove(&r, 25), GSI_ROUTING_COMMITTED);
	fake_now += 1000000000ULL;
	CHECK_EQ(gsi_routing_flush(&r), GSI_ROUTING_UNCHANGED);
	CHECK_EQ(commits, 1);
	/* A removal of a route KVM has waits for a token like any change. */
	CHECK_EQ(gsi_routing_set_msi(&r, 25, MSI_ADDR, 3),
		 GSI_ROUTING_COMMITTED);
	CHECK_EQ(gsi_routing_remove(&r, 25), GSI_ROUTING_DEFERRED);
	CHECK(kvm_msi(25) != NULL);	/* stale until the next commit */
	fake_now += 1000000000ULL;
	CHECK_EQ(gsi_routing_flush(&r), GSI_ROUTING_COMMITTED);
	CHECK(kvm_msi(25) == NULL);
	CHECK(kvm_msi(24) && kvm_msi(24)->u.msi.data == 1);
	CHECK_EQ(commits, 3);
	/* Rate 0: no limit at all. */
	gsi_routing_set_limit(&r, 1, 0);
	for (uint32_t d = 10; d < 200; d++)
		CHECK_EQ(gsi_routing_set_msi(&r, 24, MSI_ADDR, d),
			 GSI_ROUTING_COMMITTED);
	CHECK_EQ(commits, 3 + 190);
	gsi_routing_destroy(&r);
}

static void test_routing_stats(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	routing_setup();
	gsi_routing_set_limit(&r, 1, 1);
	gsi_routing_set_msi(&r, 24, MSI_ADDR, 1);
	gsi_routing_set_msi(&r, 24, MSI_ADDR, 1);
	gsi_routing_set_msi(&r, 24, MSI_ADDR, 2);
	f = open_memstream(&buf, &len);
	gsi_routing_print_stats(&r, f);
	fclose(f);
	CHECK(strstr(buf, "irq.gsi_routing_commits 1\n") != NULL);
	CHECK(strstr(buf, "irq.gsi_routing_commits_skipped 1\n") != NULL);
	CHECK(strstr(buf, "irq.gsi_routing_commits_deferred 1\n") != NULL);
	free(buf);
	gsi_routing_destroy(&r);
}

static void test_x86_msi_check(void)
{
	CHECK_EQ(x86_msi_check(0xfee00000, 0x41), X86_MSI_OK);
	CHECK_EQ(x86_msi_check(0xfeefffff, 0x141), X86_MSI_OK);
	CHECK_EQ(x86_msi_check(0xfee0100c, 0xc0ef), X86_MSI_OK);
	CHECK_EQ(x86_msi_check(0, 0x41), X86_MSI_BAD_ADDRESS);
	CHECK_EQ(x86_msi_check(0xfedfffff, 0x41), X86_MSI_BAD_ADDRESS);
	CHECK_EQ(x86_msi_check(0xfef00000, 0x41), X86_MSI_BAD_ADDRESS);
	CHECK_EQ(x86_msi_check(0x1fee00000ULL, 0x41), X86_MSI_BAD_ADDRESS);
	for (uint32_t dm = 2; dm < 8; dm++)
		CHECK_EQ(x86_msi_check(0xfee00000, (dm << 8) | 0x41),
			 X86_MSI_BAD_DELIVERY_MODE);
	CHECK(!strcmp(x86_msi_delivery_mode_name(0x500), "INIT"));
	CHECK(!strcmp(x86_msi_delivery_mode_name(0x400), "NMI"));
	CHECK(!strcmp(x86_msi_delivery_mode_name(0x200), "SMI"));
	CHECK(!strcmp(x86_msi_delivery_mode_name(0x700), "ExtINT"));
}

/* --- the transport over that table --------------------------------------- */

static struct virtio_mmio_dev t;
static struct guest_mem mem;
static struct {
	unsigned int routes, unroutes, fires, stale_fires;
	unsigned int fired[VIRTIO_MMIO_MAX_VECTORS];
} host;

/* As src/irq/virtio_irq.c: vector v on GSI 24 + v. */
static int h_route(void *h, unsigned int v, bool valid, uint64_t addr,
		   uint32_t data)
{
	int ret;

	if (!valid) {
		host.unroutes++;
		gsi_routing_remove(&r, GSI(v));
		return 0;
	}
	host.routes++;
	ret = gsi_routing_set_msi(&r, GSI(v), addr, data);
	if (ret < 0)
		return ret;
	return ret == GSI_ROUTING_DEFERRED ? VIRTIO_MMIO_MSI_ROUTE_DEFERRED : 0;
}

/* An interrupt leaves only through the route KVM holds, which must be
 * the vector's current message. */
static void h_fire(void *h, unsigned int v)
{
	host.fires++;
	host.fired[v]++;
	if (!gsi_routing_msi_live(&r, GSI(v), t.msi.vectors[v].addr,
				  t.msi.vectors[v].data))
		host.stale_fires++;
}

static const struct virtio_mmio_host_ops hops = {
	.msi_route = h_route, .msi_fire = h_fire,
};

static const struct virtio_device_ops dops = {
	.name = "blk", .device_id = 2, .num_queues = NQ, .queue_max = 64,
};

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&t, off, &v, 4);
}

static void wr16(uint64_t off, uint16_t v)
{
	virtio_mmio_write(&t, off, &v, 2);
}

static void program(unsigned int v, uint64_t addr, uint32_t data)
{
	wr32(VIRTIO_MMIO_MSI_ADDRESS_LOW, (uint32_t)addr);
	wr32(VIRTIO_MMIO_MSI_ADDRESS_HIGH, (uint32_t)(addr >> 32));
	wr32(VIRTIO_MMIO_MSI_DATA, data);
	wr16(VIRTIO_MMIO_MSI_COMMAND,
	     VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
}

static void cmd(unsigned int op, unsigned int v)
{
	wr16(VIRTIO_MMIO_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(op, v));
}

/* A v3 device with MSI enabled, every vector programmed (fixed mode). */
static void transport_setup(void)
{
	struct virtio_mmio_config cfg = { .version = 3, .msi = true };

	routing_setup();
	memset(&host, 0, sizeof(host));
	virtio_mmio_init(&t, &cfg, &dops, NULL, &hops, NULL, &mem);
	virtio_mmio_set_name(&t, "blk0");
	for (unsigned int v = 0; v < NQ + 1; v++)
		program(v, MSI_ADDR, 0x40 + v);
	wr16(VIRTIO_MMIO_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
}

static void test_transport_identical_storm(void)
{
	transport_setup();
	CHECK_EQ(commits, NQ + 1);
	for (unsigned int i = 0; i < 10000; i++)
		program(1, MSI_ADDR, 0x41);
	CHECK_EQ(commits, NQ + 1);	/* not one more */
	CHECK_EQ(host.routes, NQ + 1 + 10000);
	CHECK(!t.msi.vectors[1].route_wait);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(host.fired[1], 1);
	CHECK_EQ(host.stale_fires, 0);
	CHECK_EQ(t.msi.stats.route_waits, 0);
	virtio_mmio_destroy(&t);
	gsi_routing_destroy(&r);
}

static void test_transport_changing_storm(void)
{
	const struct kvm_irq_routing_entry *e;
	unsigned int i, n = 10000;
	uint64_t addr = 0;
	uint32_t data = 0;

	transport_setup();
	/* The guest moves vector 1 around as fast as it can; the device
	 * has events for it all the while. */
	for (i = 0; i < n; i++) {
		addr = MSI_ADDR | ((i & 0xff) << 12);
		data = 0x30 + i % 0xc0;
		program(1, addr, data);
		if (i % 100 == 0)
			virtio_mmio_signal_queue(&t, 0);
	}
	CHECK(commits <= GSI_ROUTING_COMMIT_BURST);
	CHECK(t.msi.vectors[1].programmed && t.msi.vectors[1].route_wait);
	/* Every UPDATE either committed, found its message already in KVM
	 * (the pattern repeats every 768) or waits. */
	CHECK_EQ(t.msi.stats.route_waits + r.skipped, n - (commits - (NQ + 1)));
	CHECK(r.skipped < n / 700);
	/* Nothing left through a stale route or no route at all. */
	CHECK_EQ(host.stale_fires, 0);
	unsigned int early = host.fired[1];

	CHECK(t.msi.vectors[1].pending);
	/* The host's retry before the limit allows: still waiting. */
	virtio_mmio_msi_retry(&t);
	CHECK(t.msi.vectors[1].route_wait);
	CHECK_EQ(host.fired[1], early);
	/* When it allows: the last message is what KVM holds, and the
	 * pending event goes out once, through it. */
	fake_now += gsi_routing_retry_ns(&r);
	virtio_mmio_msi_retry(&t);
	CHECK(!t.msi.vectors[1].route_wait && !t.msi.vectors[1].pending);
	CHECK_EQ(host.fired[1], early + 1);
	CHECK_EQ(host.stale_fires, 0);
	CHECK(commits <= GSI_ROUTING_COMMIT_BURST + 1);
	e = kvm_msi(GSI(1));
	CHECK(e && e->u.msi.address_lo == (uint32_t)addr &&
	      e->u.msi.data == data);
	CHECK_EQ(t.msi.vectors[1].addr, addr);
	CHECK_EQ(t.msi.vectors[1].data, data);
	/* Other vectors were never disturbed. */
	e = kvm_msi(GSI(2));
	CHECK(e && e->u.msi.data == 0x42);
	virtio_mmio_signal_queue(&t, 1);
	CHECK_EQ(host.fired[2], 1);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(host.fired[1], early + 2);
	CHECK_EQ(host.stale_fires, 0);
	virtio_mmio_destroy(&t);
	gsi_routing_destroy(&r);
}

/* Masking during the wait holds the event back as usual (7.3). */
static void test_transport_wait_then_mask(void)
{
	transport_setup();
	gsi_routing_set_limit(&r, 1, 1);
	program(1, MSI_ADDR | 0x1000, 0x51);
	program(1, MSI_ADDR | 0x2000, 0x52);	/* deferred */
	CHECK(t.msi.vectors[1].route_wait);
	virtio_mmio_signal_queue(&t, 0);
	cmd(VIRTIO_MMIO_MSI_CMD_MASK, 1);
	fake_now += 1000000000ULL;
	virtio_mmio_msi_retry(&t);
	CHECK(!t.msi.vectors[1].route_wait);
	CHECK_EQ(host.fired[1], 0);
	cmd(VIRTIO_MMIO_MSI_CMD_UNMASK, 1);
	CHECK_EQ(host.fired[1], 1);
	CHECK_EQ(host.stale_fires, 0);
	/* A reset while waiting forgets the wait with everything else. */
	program(1, MSI_ADDR | 0x3000, 0x53);
	CHECK(t.msi.vectors[1].route_wait);
	wr32(VIRTIO_MMIO_STATUS, 0);
	CHECK(!t.msi.vectors[1].route_wait && !t.msi.vectors[1].programmed);
	virtio_mmio_destroy(&t);
	gsi_routing_destroy(&r);
}

/* Runs fn with stderr going to a file; returns what it printed. */
static char *capture_stderr(void (*fn)(void))
{
	static char out[4096];
	char path[] = "/tmp/test_msi_limits.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return out;
}

static void init_storm(void)
{
	for (unsigned int i = 0; i < 3; i++)
		program(1, MSI_ADDR, 0x541);	/* INIT */
}

static void test_init_refused(void)
{
	unsigned int routes, inv;
	const char *err;

	transport_setup();
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(host.fired[1], 1);
	routes = host.routes;
	inv = (unsigned int)t.stats.invalid;

	/* The guest asks vector 1 for INIT delivery, three times. */
	err = capture_stderr(init_storm);
	CHECK_EQ(t.msi.stats.bad_delivery_mode, 3);
	CHECK_EQ(t.stats.invalid, inv + 3);
	CHECK_EQ(host.routes, routes);		/* never offered to KVM */
	CHECK(!t.msi.vectors[1].programmed);
	/* ...and the old route is gone with the old message. */
	CHECK_EQ(host.unroutes, 1);
	CHECK(kvm_msi(GSI(1)) == NULL);
	/* One line, naming the device, the vector and the data word. */
	CHECK(strstr(err, "blk0") && strstr(err, "vector 1") &&
	      strstr(err, "0x00000541") && strstr(err, "INIT"));
	CHECK(strchr(err, '\n') == strrchr(err, '\n'));

	/* Events wait, as on an unprogrammed vector. */
	virtio_mmio_signal_queue(&t, 0);
	virtio_mmio_signal_queue(&t, 0);
	CHECK_EQ(host.fired[1], 1);
	CHECK(t.msi.vectors[1].pending);
	/* A fixed-mode message after it: delivered, once. */
	program(1, MSI_ADDR, 0x41);
	CHECK(t.msi.vectors[1].programmed);
	CHECK_EQ(host.fired[1], 2);
	CHECK(!t.msi.vectors[1].pending);
	CHECK_EQ(host.stale_fires, 0);
	CHECK(kvm_msi(GSI(1)) && kvm_msi(GSI(1))->u.msi.data == 0x41);

	/* Every other non-fixed mode too; lowest priority is fine. */
	for (uint32_t dm = 2; dm < 8; dm++)
		program(2, MSI_ADDR, (dm << 8) | 0x42);
	CHECK_EQ(t.msi.stats.bad_delivery_mode, 3 + 6);
	CHECK(!t.msi.vectors[2].programmed);
	program(2, MSI_ADDR, 0x142);
	CHECK(t.msi.vectors[2].programmed);
	CHECK_EQ(t.msi.stats.bad_delivery_mode, 9);
	/* Refused while MSI is off: same rules, nothing sent. */
	wr16(VIRTIO_MMIO_MSI_STATUS, 0);
	program(0, MSI_ADDR, 0x440);	/* NMI */
	CHECK(!t.msi.vectors[0].programmed);
	CHECK_EQ(t.msi.stats.bad_delivery_mode, 10);
	virtio_mmio_destroy(&t);
	gsi_routing_destroy(&r);
}

static void test_bad_address_refused(void)
{
	static const uint64_t bad[] = {
		0, 0xfedff000, 0xfef00000, 0x1fee00000ULL, 0xdeadbeef,
	};
	unsigned int routes;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	transport_setup();
	routes = host.routes;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		program(0, bad[i], 0x40);
	CHECK_EQ(t.msi.stats.bad_address, 5);
	CHECK_EQ(t.msi.stats.bad_delivery_mode, 0);
	CHECK_EQ(host.routes, routes);
	CHECK(!t.msi.vectors[0].programmed);
	virtio_mmio_signal_config(&t);
	CHECK_EQ(host.fired[0], 0);
	CHECK(t.msi.vectors[0].pending);
	program(0, 0xfeeff00c, 0x40);	/* the top of the window is fine */
	CHECK_EQ(host.fired[0], 1);
	CHECK_EQ(host.stale_fires, 0);

	f = open_memstream(&buf, &len);
	virtio_mmio_print_stats(&t, f);
	fclose(f);
	CHECK(strstr(buf, "blk0.msi_bad_address 5\n") != NULL);
	CHECK(strstr(buf, "blk0.msi_bad_delivery_mode 0\n") != NULL);
	CHECK(strstr(buf, "blk0.msi_route_waits 0\n") != NULL);
	free(buf);
	virtio_mmio_destroy(&t);
	gsi_routing_destroy(&r);
}

int main(void)
{
	RUN(test_identical_storm);
	RUN(test_changing_storm);
	RUN(test_storm_over_time);
	RUN(test_deferred_then_undone);
	RUN(test_routing_stats);
	RUN(test_x86_msi_check);
	RUN(test_transport_identical_storm);
	RUN(test_transport_changing_storm);
	RUN(test_transport_wait_then_mask);
	RUN(test_init_refused);
	RUN(test_bad_address_refused);
	return unit_finish("test_msi_limits");
}
