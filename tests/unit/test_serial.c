#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "devices/serial.h"
#include "unit.h"

static int irq_level, irq_changes;
static char seen[256];
static size_t seen_len;

static void set_irq(void *host, int level)
{
	irq_level = level;
	irq_changes++;
}

static void output(void *host, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len && seen_len < sizeof(seen) - 1; i++)
		seen[seen_len++] = (char)buf[i];
}

static const struct serial_host_ops ops = { .set_irq = set_irq,
					   .output = output };

static void test_tx(void)
{
	int p[2];
	char buf[16] = { 0 };
	struct serial *s;

	CHECK_EQ(pipe(p), 0);
	s = serial_create(p[1], &ops, NULL);
	CHECK_EQ(serial_read(s, 5) & 0x60, 0x60);	/* THRE|TEMT */
	CHECK_EQ(serial_read(s, 2), 0x01);		/* no interrupt */
	serial_write(s, 0, 'h');
	serial_write(s, 0, 'i');
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "hi", 2));
	CHECK_EQ(seen_len, 2);
	CHECK_EQ(irq_level, 0);		/* IER off: no interrupt */
	/* scratch and divisor latch */
	serial_write(s, 7, 0x5a);
	CHECK_EQ(serial_read(s, 7), 0x5a);
	serial_write(s, 3, 0x80);
	serial_write(s, 0, 0x01);
	serial_write(s, 1, 0x00);
	CHECK_EQ(serial_read(s, 0), 0x01);
	serial_write(s, 3, 0x03);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
}

static void test_thre_interrupt(void)
{
	int fd = open("/dev/null", O_WRONLY);
	struct serial *s = serial_create(fd, &ops, NULL);

	irq_level = 0;
	/* FIFO on: IIR shows the 16550A bits */
	serial_write(s, 2, 0x01);
	CHECK_EQ(serial_read(s, 2), 0xc1);
	/* enabling THRI with an empty THR raises it at once */
	serial_write(s, 1, 0x02);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(serial_read(s, 2), 0xc2);
	/* reading IIR acknowledged it */
	CHECK_EQ(irq_level, 0);
	CHECK_EQ(serial_read(s, 2), 0xc1);
	/* a THR write re-arms it */
	serial_write(s, 0, 'x');
	CHECK_EQ(irq_level, 1);
	serial_write(s, 1, 0x00);
	CHECK_EQ(irq_level, 0);
	serial_destroy(s);
	close(fd);
}

static void test_rx(void)
{
	int fd = open("/dev/null", O_WRONLY);
	struct serial *s = serial_create(fd, &ops, NULL);
	uint8_t big[100];

	irq_level = 0;
	CHECK_EQ(serial_read(s, 5) & 1, 0);
	CHECK_EQ(serial_receive(s, (const uint8_t *)"ab", 2), 2);
	CHECK_EQ(serial_read(s, 5) & 1, 1);	/* data ready */
	CHECK_EQ(irq_level, 0);			/* RDI not enabled */
	serial_write(s, 1, 0x01);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(serial_read(s, 2) & 0x0f, 0x04);
	CHECK_EQ(serial_read(s, 0), 'a');
	CHECK_EQ(serial_read(s, 0), 'b');
	CHECK_EQ(irq_level, 0);
	CHECK_EQ(serial_read(s, 5) & 1, 0);
	CHECK_EQ(serial_read(s, 0), 0);		/* empty reads 0 */
	/* FIFO bound */
	memset(big, 'z', sizeof(big));
	CHECK_EQ(serial_receive(s, big, sizeof(big)), SERIAL_RX_FIFO);
	CHECK_EQ(serial_rx_room(s), 0);
	CHECK_EQ(serial_receive(s, big, 1), 0);
	serial_write(s, 2, 0x03);		/* clear RX FIFO */
	CHECK_EQ(serial_rx_room(s), SERIAL_RX_FIFO);
	/* loopback: what is sent comes back, modem lines follow MCR */
	serial_write(s, 4, 0x1a);
	CHECK_EQ(serial_read(s, 6) & 0xf0, 0x90);
	serial_write(s, 0, 'L');
	CHECK_EQ(serial_read(s, 0), 'L');
	serial_write(s, 4, 0x0b);
	CHECK_EQ(serial_read(s, 6), 0xb0);
	/* out-of-range offsets are ignored */
	serial_write(s, 9, 1);
	CHECK_EQ(serial_read(s, 9), 0);
	serial_destroy(s);
	close(fd);
}

static volatile bool vm_ending, tx_done;

static bool stopping(void *host)
{
	return vm_ending;
}

static void on_kick(int sig)
{
	(void)sig;
}

static void *transmit(void *arg)
{
	serial_write(arg, 0, 'x');
	tx_done = true;
	return NULL;
}

/* A vCPU blocked writing to a pipe nobody reads: a kick (EINTR) alone is
 * retried, a kick once the VM is ending gives up, so mmvm can exit. */
static void test_blocked_output_gives_up_when_stopping(void)
{
	static const struct serial_host_ops sops = {
		.set_irq = set_irq, .output = output, .stopping = stopping,
	};
	struct sigaction sa = { .sa_handler = on_kick };	/* no SA_RESTART */
	char junk[4096] = { 0 };
	struct serial *s;
	pthread_t th;
	int p[2];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	CHECK_EQ(pipe(p), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);	/* full and blocking */
	s = serial_create(p[1], &sops, NULL);
	vm_ending = tx_done = false;
	CHECK_EQ(pthread_create(&th, NULL, transmit, s), 0);
	usleep(100 * 1000);
	pthread_kill(th, SIGUSR1);
	usleep(100 * 1000);
	CHECK(!tx_done);		/* interrupted, retried, blocked again */
	vm_ending = true;
	for (int i = 0; i < 100 && !tx_done; i++) {
		pthread_kill(th, SIGUSR1);
		usleep(20 * 1000);
	}
	CHECK(tx_done);
	if (!tx_done) {
		/* Unblock it so the test can end either way. */
		CHECK(read(p[0], junk, sizeof(junk)) > 0);
	}
	pthread_join(th, NULL);
	serial_destroy(s);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	RUN(test_tx);
	RUN(test_thre_interrupt);
	RUN(test_rx);
	RUN(test_blocked_output_gives_up_when_stopping);
	return unit_finish("serial");
}
