/* vhost-net without /dev/vhost-net: the one-line errors when the node is
 * missing or is not vhost, the memory table built from guest RAM, the
 * feature masks, and the transport's side of a backend queue: which call
 * fd a queue gets at DRIVER_OK (its vector's irqfd only when MSI is on
 * and the vector programmed and unmasked, else -1 for the relay). */
#include <errno.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "mock_transport.h"
#include "devices/vhost_net.h"

#define BIT(n) (1ULL << (n))

/* ---- stderr capture ---- */

static char captured[512];

static FILE *capture_begin(int *saved)
{
	FILE *f = tmpfile();

	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	return f;
}

static const char *capture_end(FILE *f, int saved)
{
	size_t n;

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = 0;
	fclose(f);
	return captured;
}

static void test_open_missing(void)
{
	int saved;
	FILE *f = capture_begin(&saved);
	struct vhost_net *vn = vhost_net_open_path("/nonexistent/vhost-net",
						   "tap7");
	const char *out = capture_end(f, saved);

	CHECK(vn == NULL);
	CHECK(!strcmp(out, "mmvm: --net tap=tap7,vhost=on: cannot open "
		      "/nonexistent/vhost-net: No such file or directory\n"));
}

/* The default node, where this host has none (the development host). */
static void test_open_default_missing(void)
{
	char want[160];
	int saved, err;
	FILE *f;
	struct vhost_net *vn;
	const char *out;

	if (!access(VHOST_NET_DEV_PATH, F_OK)) {
		fprintf(stderr, "skip test_open_default_missing: %s exists\n",
			VHOST_NET_DEV_PATH);
		return;
	}
	err = errno;
	f = capture_begin(&saved);
	vn = vhost_net_open("tap0");
	out = capture_end(f, saved);
	CHECK(vn == NULL);
	snprintf(want, sizeof(want), "mmvm: --net tap=tap0,vhost=on: cannot "
		 "open /dev/vhost-net: %s\n", strerror(err));
	CHECK(!strcmp(out, want));
}

/* A node that opens but is not vhost: the first ioctl says so. */
static void test_open_not_vhost(void)
{
	int saved;
	FILE *f = capture_begin(&saved);
	struct vhost_net *vn = vhost_net_open_path("/dev/null", "tap1");
	const char *out = capture_end(f, saved);

	CHECK(vn == NULL);
	CHECK(!strcmp(out, "mmvm: --net tap=tap1,vhost=on: VHOST_SET_OWNER: "
		      "Inappropriate ioctl for device\n"));
}

static void test_mem_table(void)
{
	static uint8_t low[0x3000], high[0x2000];
	struct guest_mem mem = { 0 };
	struct vhost_memory *m;

	CHECK(guest_mem_add_region(&mem, 0, sizeof(low), low));
	CHECK(guest_mem_add_region(&mem, 0x100000000ULL, sizeof(high), high));
	m = vhost_net_mem_table(&mem);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ(m->nregions, 2);
	CHECK_EQ(m->padding, 0);
	CHECK_EQ(m->regions[0].guest_phys_addr, 0);
	CHECK_EQ(m->regions[0].memory_size, sizeof(low));
	CHECK_EQ(m->regions[0].userspace_addr, (uintptr_t)low);
	CHECK_EQ(m->regions[0].flags_padding, 0);
	CHECK_EQ(m->regions[1].guest_phys_addr, 0x100000000ULL);
	CHECK_EQ(m->regions[1].memory_size, sizeof(high));
	CHECK_EQ(m->regions[1].userspace_addr, (uintptr_t)high);
	CHECK_EQ(m->regions[1].flags_padding, 0);
	free(m);

	memset(&mem, 0, sizeof(mem));
	m = vhost_net_mem_table(&mem);
	CHECK(m != NULL);
	if (m)
		CHECK_EQ(m->nregions, 0);
	free(m);
}

/* What VHOST_GET_FEATURES says on a current kernel (vhost/net.c). */
#define KERNEL_VHOST_NET (BIT(VIRTIO_F_NOTIFY_ON_EMPTY) |		\
			  BIT(VIRTIO_RING_F_INDIRECT_DESC) |		\
			  BIT(VIRTIO_RING_F_EVENT_IDX) |		\
			  BIT(VHOST_F_LOG_ALL) |			\
			  BIT(VIRTIO_F_ANY_LAYOUT) |			\
			  BIT(VIRTIO_F_VERSION_1) |			\
			  BIT(VHOST_NET_F_VIRTIO_NET_HDR) |		\
			  BIT(VIRTIO_NET_F_MRG_RXBUF) |			\
			  BIT(VIRTIO_F_ACCESS_PLATFORM))

static void test_features(void)
{
	uint64_t m = vhost_net_mask_features(KERNEL_VHOST_NET);
	uint64_t offloads = BIT(VIRTIO_NET_F_CSUM) |
			    BIT(VIRTIO_NET_F_GUEST_CSUM) |
			    BIT(VIRTIO_NET_F_GUEST_TSO4) |
			    BIT(VIRTIO_NET_F_HOST_TSO4) |
			    BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
			    BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ);
	uint64_t acked;

	/* The offloads, MAC, status, control queue and MQ are not vhost's
	 * to refuse; MRG_RXBUF is. */
	CHECK_EQ(m & offloads, offloads);
	CHECK(m & BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(m & BIT(VIRTIO_F_VERSION_1));
	CHECK(m & BIT(VIRTIO_RING_F_EVENT_IDX));
	CHECK(m & BIT(VIRTIO_RING_F_INDIRECT_DESC));
	/* Nothing of vhost's own, nor what mmvm does not implement. */
	CHECK(!(m & BIT(VHOST_F_LOG_ALL)));
	CHECK(!(m & BIT(VHOST_NET_F_VIRTIO_NET_HDR)));
	CHECK(!(m & BIT(VIRTIO_F_ACCESS_PLATFORM)));
	CHECK(!(m & BIT(VIRTIO_F_NOTIFY_ON_EMPTY)));
	CHECK(!(m & BIT(VIRTIO_F_MMIO_MSI)));

	m = vhost_net_mask_features(KERNEL_VHOST_NET &
				    ~BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(!(m & BIT(VIRTIO_NET_F_MRG_RXBUF)));
	CHECK(m & BIT(VIRTIO_NET_F_CSUM));

	/* What the driver accepted, as vhost gets it: only vhost's bits,
	 * never the header bit (the tap takes the guest's 12 bytes). */
	acked = offloads | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_F_VERSION_1) |
		BIT(VIRTIO_F_MMIO_MSI) | BIT(VIRTIO_F_MMIO_DOORBELLS) |
		BIT(VHOST_NET_F_VIRTIO_NET_HDR) | BIT(VHOST_F_LOG_ALL);
	CHECK_EQ(vhost_net_ack_features(KERNEL_VHOST_NET, acked),
		 BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_RING_F_EVENT_IDX) |
		 BIT(VIRTIO_F_VERSION_1));
}

/* ---- the transport's side: virtio_interrupt_queue_fds() at DRIVER_OK ---- */

#define MSI_ADDR	0xfee00000u
#define MSI_DATA(vec)	(0x4000u | (vec))
#define KICK_FD(q)	(100 + (int)(q))
#define IRQFD(v)	(200 + (int)(v))

static struct {
	int calls;
	int vector[MT_NQ];	/* what backend_fds was asked for */
	int rc[MT_NQ];		/* what queue_fds returned at activate */
	struct virtio_queue_fds fds[MT_NQ];
	bool activated;
	const struct virtio_device_env *env;
	int changes[MT_NQ];	/* backend_irq_changed calls per queue */
	int changed_call_fd;	/* what queue_fds said in the last one */
} bk;

static int bk_fds(void *h, unsigned int q, int vector,
		  struct virtio_queue_fds *fds)
{
	bk.calls++;
	if (q < MT_NQ)
		bk.vector[q] = vector;
	fds->kick_fd = KICK_FD(q);
	fds->call_fd = vector >= 0 ? IRQFD(vector) : -1;
	return 0;
}

static bool bk_activate(void *dev, const struct virtio_activation *act)
{
	for (unsigned int q = 0; q < MT_NQ; q++) {
		bk.fds[q].kick_fd = bk.fds[q].call_fd = -7;
		bk.rc[q] = virtio_interrupt_queue_fds(act->env->irq, q,
						      &bk.fds[q]);
	}
	bk.activated = true;
	bk.env = act->env;
	return true;
}

static void bk_irq_changed(void *dev, unsigned int q)
{
	struct virtio_queue_fds fds = { .kick_fd = -7, .call_fd = -7 };

	if (q < MT_NQ)
		bk.changes[q]++;
	CHECK_EQ(virtio_interrupt_queue_fds(bk.env->irq, q, &fds), 0);
	bk.changed_call_fd = fds.call_fd;
}

static const struct virtio_mmio_host_ops bk_host_ops = {
	.legacy_raise = mt_h_legacy, .msi_route = mt_h_route,
	.msi_fire = mt_h_fire, .kick = mt_h_kick, .backend_fds = bk_fds,
};

/* Queue 0 is the backend's, queue 1 stays in userspace (a control
 * queue, say). */
static const struct virtio_device_ops bk_ops = {
	.name = "net", .device_id = 1, .num_queues = MT_NQ,
	.queue_max = MT_QMAX, .activate = bk_activate,
	.backend_queues = 1u << 0, .backend_irq_changed = bk_irq_changed,
};

static void bk_setup(bool msi, const struct virtio_mmio_host_ops *hops)
{
	struct virtio_mmio_config cfg = { .version = 2, .msi = msi };

	memset(&bk, 0, sizeof(bk));
	memset(&mt_host, 0, sizeof(mt_host));
	memset(&mt_mem, 0, sizeof(mt_mem));
	guest_mem_add_region(&mt_mem, MT_RAM_GPA, MT_RAM_SIZE, mt_ram);
	virtio_mmio_init(&mt, &cfg, &bk_ops, NULL, hops, &mt_host, &mt_mem);
}

static void program(unsigned int v)
{
	mt_wr32(VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW, MSI_ADDR);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH, 0);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_DATA, MSI_DATA(0x30 + v));
	mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND,
		VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_UPDATE, v));
}

/* The patched driver: MSI accepted, vectors programmed (vector 1 masked
 * if asked), MSI on, then DRIVER_OK. */
static void msi_driver(bool mask_queue0)
{
	CHECK(mt_negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_MMIO_MSI)));
	for (unsigned int v = 0; v <= MT_NQ; v++)
		program(v);
	if (mask_queue0)
		mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND,
			VIRTIO_MMIO_MSI_CMD(VIRTIO_MMIO_MSI_CMD_MASK, 1));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, VIRTIO_MMIO_MSI_STATUS_ENABLE);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
}

static void test_queue_fds_msi(void)
{
	bk_setup(true, &bk_host_ops);
	msi_driver(false);
	CHECK(bk.activated);
	CHECK_EQ(bk.rc[0], 0);
	CHECK_EQ(bk.vector[0], 1);		/* vector i+1 for queue i */
	CHECK_EQ(bk.fds[0].kick_fd, KICK_FD(0));
	CHECK_EQ(bk.fds[0].call_fd, IRQFD(1));
	/* Not a backend queue: refused, the host not asked. */
	CHECK_EQ(bk.rc[1], -EINVAL);
	CHECK_EQ(bk.calls, 1);
	CHECK(!(mt_rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	virtio_mmio_destroy(&mt);
}

/* A masked vector's events must stay pending: the relay, not the irqfd. */
static void test_queue_fds_masked(void)
{
	bk_setup(true, &bk_host_ops);
	msi_driver(true);
	CHECK_EQ(bk.rc[0], 0);
	CHECK_EQ(bk.vector[0], -1);
	CHECK_EQ(bk.fds[0].kick_fd, KICK_FD(0));
	CHECK_EQ(bk.fds[0].call_fd, -1);
	virtio_mmio_destroy(&mt);
}

/* MSI offered but the driver (a stock one) stays on the line. */
static void test_queue_fds_stock_driver(void)
{
	bk_setup(true, &bk_host_ops);
	CHECK(mt_negotiate(BIT(VIRTIO_F_VERSION_1)));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(bk.rc[0], 0);
	CHECK_EQ(bk.vector[0], -1);
	CHECK_EQ(bk.fds[0].call_fd, -1);
	virtio_mmio_destroy(&mt);
}

/* --no-msi: the legacy line, always relayed. */
static void test_queue_fds_legacy(void)
{
	bk_setup(false, &bk_host_ops);
	CHECK(mt_negotiate(BIT(VIRTIO_F_VERSION_1)));
	for (unsigned int q = 0; q < MT_NQ; q++)
		mt_setup_queue(q, 16);
	mt_set_status(VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(bk.rc[0], 0);
	CHECK_EQ(bk.vector[0], -1);
	CHECK_EQ(bk.fds[0].kick_fd, KICK_FD(0));
	CHECK_EQ(bk.fds[0].call_fd, -1);
	virtio_mmio_destroy(&mt);
}

/* A host that cannot hand out fds (the mocks of other tests). */
static void test_queue_fds_no_host_support(void)
{
	bk_setup(true, &mt_host_ops);
	msi_driver(false);
	CHECK_EQ(bk.rc[0], -EOPNOTSUPP);
	CHECK_EQ(bk.calls, 0);
	virtio_mmio_destroy(&mt);
}

static void mask_cmd(unsigned int op, unsigned int v)
{
	mt_wr32(VIRTIO_MMIO_EXT_MSI_COMMAND, VIRTIO_MMIO_MSI_CMD(op, v));
}

/* After DRIVER_OK the backend must not write the irqfd of a masked
 * vector: each MASK/UNMASK of a backend queue's vector that changes what
 * the backend may do tells the device, which fetches the fds again. */
static void test_backend_irq_mask(void)
{
	bk_setup(true, &bk_host_ops);
	msi_driver(false);
	CHECK_EQ(bk.fds[0].call_fd, IRQFD(1));
	CHECK_EQ(bk.changes[0], 0);

	mask_cmd(VIRTIO_MMIO_MSI_CMD_MASK, 1);
	CHECK_EQ(bk.changes[0], 1);
	CHECK_EQ(bk.changed_call_fd, -1);	/* the relay */
	mask_cmd(VIRTIO_MMIO_MSI_CMD_MASK, 1);	/* no change: not told */
	CHECK_EQ(bk.changes[0], 1);
	mask_cmd(VIRTIO_MMIO_MSI_CMD_UNMASK, 1);
	CHECK_EQ(bk.changes[0], 2);
	CHECK_EQ(bk.changed_call_fd, IRQFD(1));
	/* Reprogramming an unmasked vector keeps the irqfd (KVM's route
	 * behind it changes): nothing to tell. */
	program(1);
	CHECK_EQ(bk.changes[0], 2);

	/* Queue 1 is no backend queue, vector 0 no queue's. */
	mask_cmd(VIRTIO_MMIO_MSI_CMD_MASK, 2);
	mask_cmd(VIRTIO_MMIO_MSI_CMD_MASK, 0);
	CHECK_EQ(bk.changes[0], 2);
	CHECK_EQ(bk.changes[1], 0);

	/* MSI switched off with DRIVER_OK set: back to the relay. */
	mt_wr32(VIRTIO_MMIO_EXT_MSI_STATUS, 0);
	CHECK_EQ(bk.changes[0], 3);
	CHECK_EQ(bk.changed_call_fd, -1);
	CHECK_EQ(mt.stats.backend_irq_changes, 3);
	virtio_mmio_destroy(&mt);
}

/* Before DRIVER_OK there is no backend: activate() fetches the fds. */
static void test_backend_irq_mask_before_driver_ok(void)
{
	bk_setup(true, &bk_host_ops);
	msi_driver(true);	/* vector 1 masked before DRIVER_OK */
	CHECK_EQ(bk.changes[0], 0);
	CHECK_EQ(bk.fds[0].call_fd, -1);
	mask_cmd(VIRTIO_MMIO_MSI_CMD_UNMASK, 1);
	CHECK_EQ(bk.changes[0], 1);
	CHECK_EQ(bk.changed_call_fd, IRQFD(1));
	/* After a reset the device is not running: not told. */
	mt_wr32(VIRTIO_MMIO_STATUS, 0);
	mask_cmd(VIRTIO_MMIO_MSI_CMD_MASK, 1);
	CHECK_EQ(bk.changes[0], 1);
	virtio_mmio_destroy(&mt);
}

int main(void)
{
	RUN(test_open_missing);
	RUN(test_open_default_missing);
	RUN(test_open_not_vhost);
	RUN(test_mem_table);
	RUN(test_features);
	RUN(test_queue_fds_msi);
	RUN(test_queue_fds_masked);
	RUN(test_queue_fds_stock_driver);
	RUN(test_queue_fds_legacy);
	RUN(test_queue_fds_no_host_support);
	RUN(test_backend_irq_mask);
	RUN(test_backend_irq_mask_before_driver_ok);
	return unit_finish("vhost_net");
}
