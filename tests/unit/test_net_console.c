/* virtio-console device model on pipes (and a regular file), with a real
 * transport and virtqueues and a tiny driver written here. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "device_env.h"
#include "devices/virtio_console.h"
#include "fake_driver.h"
#include "unit.h"

#define MEM_SIZE	(1 << 20)
#define QSIZE		8
#define BUF_BASE	0x10000

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_mmio_dev t;
static struct virtio_console *con;
static int in_w = -1, out_r = -1;	/* test's ends of the pipes */
static int in_r = -1, out_w = -1;	/* device's ends */
static unsigned int irqs;
static struct fake_driver drv;

static void mock_raise(void *host)
{
	irqs++;
}

static void mock_kick(void *host, unsigned int q)
{
}

static const struct virtio_mmio_host_ops host_ops = {
	.legacy_raise = mock_raise,
	.kick = mock_kick,
};

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&t, off, &v, 4);
}

/* Device on in_fd (pipe unless given) and an output pipe; driver up to
 * just before DRIVER_OK, or all the way if start. */
static void setup_fd(int in_fd, bool polled, bool start)
{
	const struct virtio_mmio_config cfg = { .version = 2 };
	int p[2];

	ram = calloc(1, MEM_SIZE);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add_region(&mem, 0, MEM_SIZE, ram);
	if (in_fd < 0) {
		if (pipe(p))
			abort();
		in_r = p[0];
		in_w = p[1];
	} else {
		in_r = in_fd;
		in_w = -1;
	}
	if (pipe(p))
		abort();
	out_r = p[0];
	out_w = p[1];
	fcntl(out_r, F_SETFL, O_NONBLOCK);
	con = virtio_console_new(in_r, out_w, polled);
	virtio_mmio_init(&t, &cfg, &virtio_console_ops, con, &host_ops, NULL,
			 &mem);
	virtio_mmio_set_config(&t, virtio_console_config(con));
	virtio_console_bind(con, test_device_env(&t));
	irqs = 0;
	fake_driver_init(&drv, &t, ram, QSIZE);

	wr32(VIRTIO_MMIO_STATUS, 3);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	wr32(VIRTIO_MMIO_STATUS, 11);
	fake_setup_queues(&drv, 2);
	if (start)
		wr32(VIRTIO_MMIO_STATUS, 15);
}

static void setup(void)
{
	setup_fd(-1, true, true);
}

static void teardown(void)
{
	virtio_mmio_destroy(&t);
	virtio_console_free(con);
	close(in_r);
	if (in_w >= 0)
		close(in_w);
	close(out_r);
	close(out_w);
	free(ram);
}

/* One-descriptor chain at slot `slot` of queue q. */
static void post(unsigned int q, uint16_t slot, uint64_t gpa, uint32_t len,
		 bool write)
{
	const struct fake_seg seg = { .gpa = gpa, .len = len, .write = write };

	fake_post(&drv, q, slot, &seg, 1);
}

static bool used(unsigned int q, uint32_t *id, uint32_t *len)
{
	return fake_used(&drv, q, id, len);
}

static void kick(unsigned int q)
{
	virtio_console_ops.queue_notify(con, q);
}

static void test_output(void)
{
	char out[64] = { 0 };
	uint32_t id, len;

	setup();
	memcpy(ram + BUF_BASE, "MARKER-42\n", 10);
	memcpy(ram + BUF_BASE + 100, "more", 4);
	post(1, 0, BUF_BASE, 10, false);
	post(1, 1, BUF_BASE + 100, 4, false);
	kick(1);
	CHECK_EQ(read(out_r, out, sizeof(out)), 14);
	CHECK(memcmp(out, "MARKER-42\nmore", 14) == 0);
	CHECK(used(1, &id, &len));
	CHECK_EQ(len, 0);
	CHECK(used(1, &id, &len));
	CHECK_EQ(id, 1);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(virtio_console_get_stats(con)->out_bytes, 14);
	teardown();
}

/* Input arriving before the guest has buffers waits in the pipe. */
static void test_input_waits_for_buffers(void)
{
	uint32_t id, len;

	setup();
	CHECK_EQ(write(in_w, "echo hi\n", 8), 8);
	virtio_console_input_ready(con, EPOLLIN);
	CHECK(!used(0, &id, &len));
	post(0, 0, BUF_BASE, 64, true);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 8);
	CHECK(memcmp(ram + BUF_BASE, "echo hi\n", 8) == 0);
	CHECK_EQ(irqs, 1);
	teardown();
}

/* More input than buffer space: split, the rest after the next kick. */
static void test_input_split(void)
{
	char in[40];
	uint32_t id, len;

	setup();
	for (unsigned int i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	post(0, 0, BUF_BASE, 16, true);
	post(0, 1, BUF_BASE + 16, 16, true);
	CHECK_EQ(write(in_w, in, sizeof(in)), (ssize_t)sizeof(in));
	virtio_console_input_ready(con, EPOLLIN);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 16);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 16);
	CHECK(!used(0, &id, &len));
	post(0, 2, BUF_BASE + 32, 16, true);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(id, 2);
	CHECK_EQ(len, 8);
	CHECK(memcmp(ram + BUF_BASE, in, sizeof(in)) == 0);
	CHECK_EQ(virtio_console_get_stats(con)->in_bytes, 40);
	teardown();
}

/* Writer closed: the rest is delivered, then no buffer is used again. */
static void test_input_eof(void)
{
	uint32_t id, len;

	setup();
	CHECK_EQ(write(in_w, "x", 1), 1);
	close(in_w);
	in_w = -1;
	virtio_console_input_ready(con, EPOLLIN | EPOLLHUP);
	post(0, 0, BUF_BASE, 64, true);
	post(0, 1, BUF_BASE + 64, 64, true);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 1);
	CHECK(!used(0, &id, &len));
	kick(0);
	CHECK(!used(0, &id, &len));
	teardown();
}

/* Before DRIVER_OK nothing is read; a regular file is read on kicks. */
static void test_file_input_and_inactive(void)
{
	char path[] = "/tmp/mmvm-test-console-XXXXXX";
	int fd = mkstemp(path);
	uint32_t id, len;

	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(write(fd, "uname -a\nexit\n", 14), 14);
	lseek(fd, 0, SEEK_SET);
	setup_fd(fd, false, false);
	post(0, 0, BUF_BASE, 10, true);
	kick(0);		/* not running yet: ignored */
	CHECK(!used(0, &id, &len));
	wr32(VIRTIO_MMIO_STATUS, 15);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 10);
	post(0, 1, BUF_BASE + 16, 10, true);
	post(0, 2, BUF_BASE + 32, 10, true);
	kick(0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 4);
	CHECK(memcmp(ram + BUF_BASE, "uname -a\ne", 10) == 0);
	CHECK(memcmp(ram + BUF_BASE + 16, "xit\n", 4) == 0);
	CHECK(!used(0, &id, &len));	/* end of file: buffer 2 kept */
	teardown();
}

/* Hostile chains: read-only rx buffer, broken tx ring. */
static void test_hostile(void)
{
	uint32_t id, len, st;
	uint16_t *avail;

	setup();
	post(0, 0, BUF_BASE, 64, false);
	post(0, 1, BUF_BASE + 64, 64, true);
	CHECK_EQ(write(in_w, "ab", 2), 2);
	virtio_console_input_ready(con, EPOLLIN);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 0);
	CHECK(used(0, &id, &len));
	CHECK_EQ(len, 2);
	CHECK_EQ(virtio_console_get_stats(con)->bad_chains, 1);
	avail = (void *)(ram + fake_avail_gpa(1));
	avail[1] = 500;
	kick(1);
	virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, &st, 4);
	CHECK(st & VIRTIO_STATUS_NEEDS_RESET);
	teardown();
}

int main(void)
{
	RUN(test_output);
	RUN(test_input_waits_for_buffers);
	RUN(test_input_split);
	RUN(test_input_eof);
	RUN(test_file_input_and_inactive);
	RUN(test_hostile);
	return unit_finish("test_net_console");
}
