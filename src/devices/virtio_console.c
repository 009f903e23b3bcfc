/* virtio-console, one port.
 *
 * Input is read only when the guest has a buffer for it, and only as many
 * bytes as are waiting (FIONREAD), so the host fd never needs O_NONBLOCK:
 * stdin is often the user's terminal, shared with the shell that started
 * us, and must not be left non-blocking behind our back. The fd is watched
 * edge-triggered; while the guest has no buffers the input simply stays in
 * the fd until the guest's rx kick. A regular file (which epoll refuses) is
 * read on kicks alone.
 *
 * Output is written to the host fd as it comes, all of it: a console that
 * drops the guest's output is worse than one that makes it wait.
 *
 * Threading as in virtio_net.c: the queues are touched on the I/O thread
 * under the transport lock, and interrupts and DEVICE_NEEDS_RESET are
 * delivered before it is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_console.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/virtio_console.h"
#include "vmm/event_loop.h"

struct console_config_space {
	uint16_t cols, rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

/* Both queues and the device's state are served on its one worker, under
 * both queues' locks (rx, then tx). */
struct virtio_console {
	struct virtio_device_env env;
	struct event_loop *io;	/* to stop watching in_fd at EOF; may be NULL */
	int in_fd, out_fd;
	bool in_watched;	/* in_fd is in the event loop */
	bool in_hup;		/* writer gone: what is left is all there is */
	bool in_eof;
	bool active;
	struct console_config_space config;
	struct virtq_chain chain;
	uint8_t buf[4096];
	struct virtio_console_stats stats;
};

/* Bytes ready on in_fd without blocking; 0 if none (or at EOF), -1 if the
 * fd cannot tell (then it is not a source of input we support). */
static long input_waiting(struct virtio_console *c)
{
	int n;

	if (ioctl(c->in_fd, FIONREAD, &n) < 0)
		return -1;
	return n > 0 ? n : 0;
}

static void input_done(struct virtio_console *c)
{
	c->in_eof = true;
	if (c->in_watched && c->io)
		event_loop_del(c->io, c->in_fd);
	c->in_watched = false;
}

/* Host input into rx buffers; returns true if any were used. */
static bool console_rx(struct virtio_console *c, bool *needs_reset)
{
	struct virtqueue *vq = &c->env.queues[VIRTIO_CONSOLE_RXQ]->vq;
	enum virtq_pop_result r;
	bool pushed = false;
	long want;
	ssize_t got;

	while (!c->in_eof) {
		want = input_waiting(c);
		if (want < 0 || (want == 0 && (c->in_hup || !c->in_watched))) {
			/* Nothing more can come: closed pipe, end of a regular
			 * file, or an fd that cannot be asked. */
			input_done(c);
			break;
		}
		if (want == 0)
			break;	/* the next edge brings more */
		r = virtq_pop(vq, &c->chain);
		if (r == VIRTQ_POP_EMPTY) {
			if (virtq_enable_notify(vq))
				continue;	/* buffers came meanwhile */
			break;	/* input waits for the guest's kick */
		}
		if (r == VIRTQ_POP_BROKEN) {
			*needs_reset = true;
			c->active = false;
			break;
		}
		if (r == VIRTQ_POP_BAD_CHAIN || c->chain.in_len == 0) {
			c->stats.bad_chains++;
			virtq_push(vq, c->chain.head, 0);
			pushed = true;
			continue;
		}
		if ((uint64_t)want > c->chain.in_len)
			want = (long)c->chain.in_len;
		if ((size_t)want > sizeof(c->buf))
			want = sizeof(c->buf);
		do
			got = read(c->in_fd, c->buf, (size_t)want);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			virtq_push(vq, c->chain.head, 0);
			pushed = true;
			input_done(c);
			break;
		}
		virtq_chain_write(&c->chain, 0, c->buf, (uint64_t)got);
		virtq_push(vq, c->chain.head, (uint32_t)got);
		c->stats.in_bytes += (uint64_t)got;
		pushed = true;
	}
	return pushed;
}

/* Writes all of iov[0..cnt) to out_fd, waiting if it is non-blocking and
 * full. False if the fd failed, or if the VM is ending while the fd stays
 * full (a reader that stopped reading must not keep mmvm from exiting). */
static bool write_all(const struct event_loop *io, int fd,
		      const struct iovec *iov, unsigned int cnt)
{
	for (unsigned int i = 0; i < cnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t r = write(fd, p, left);

			if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
				struct pollfd pfd = { .fd = fd,
						      .events = POLLOUT };

				if (event_loop_stopping(io))
					return false;
				if (errno == EAGAIN)
					poll(&pfd, 1, 100);
				continue;
			}
			if (r <= 0)
				return false;
			p += r;
			left -= (size_t)r;
		}
	}
	return true;
}

static bool console_tx(struct virtio_console *c, bool *needs_reset)
{
	struct virtqueue *vq = &c->env.queues[VIRTIO_CONSOLE_TXQ]->vq;
	enum virtq_pop_result r;
	bool pushed = false;

	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &c->chain)) != VIRTQ_POP_EMPTY) {
			if (r == VIRTQ_POP_BROKEN) {
				*needs_reset = true;
				c->active = false;
				return pushed;
			}
			if (r == VIRTQ_POP_BAD_CHAIN)
				c->stats.bad_chains++;
			else if (write_all(c->io, c->out_fd, c->chain.iov,
					   c->chain.nr_out))
				c->stats.out_bytes += c->chain.out_len;
			else
				c->stats.out_errors++;
			virtq_push(vq, c->chain.head, 0);
			pushed = true;
		}
	} while (virtq_enable_notify(vq));
	return pushed;
}

static void lock_both(struct virtio_console *c)
{
	virtio_queue_lock_pair(c->env.queues[VIRTIO_CONSOLE_RXQ],
			       c->env.queues[VIRTIO_CONSOLE_TXQ]);
}

static void unlock_both(struct virtio_console *c)
{
	virtio_queue_unlock_pair(c->env.queues[VIRTIO_CONSOLE_RXQ],
				 c->env.queues[VIRTIO_CONSOLE_TXQ]);
}

/* Is queue q live, and the device not broken (both locks held)? */
static bool usable(struct virtio_console *c, unsigned int q)
{
	return c->active && virtio_queue_usable(c->env.queues[q]);
}

/* Runs the queues whose flag is set, then raises what is due, all under
 * one hold of the locks (a reset may not come in between). */
static void console_run(struct virtio_console *c, bool rx, bool tx)
{
	bool signal[2] = { false, false }, needs_reset = false;

	if (c->env.nr_queues < 2)
		return;		/* not bound */
	lock_both(c);
	if (tx && usable(c, VIRTIO_CONSOLE_TXQ) &&
	    console_tx(c, &needs_reset))
		signal[VIRTIO_CONSOLE_TXQ] = virtq_should_notify(
			&c->env.queues[VIRTIO_CONSOLE_TXQ]->vq);
	if (rx && usable(c, VIRTIO_CONSOLE_RXQ) &&
	    console_rx(c, &needs_reset))
		signal[VIRTIO_CONSOLE_RXQ] = virtq_should_notify(
			&c->env.queues[VIRTIO_CONSOLE_RXQ]->vq);
	if (needs_reset)
		virtio_interrupt_needs_reset(c->env.irq);
	for (unsigned int q = 0; q < 2; q++)
		if (signal[q])
			virtio_interrupt_queue(c->env.irq, q);
	unlock_both(c);
}

static void console_queue_notify(void *dev, unsigned int queue)
{
	console_run(dev, queue == VIRTIO_CONSOLE_RXQ,
		    queue == VIRTIO_CONSOLE_TXQ);
}

void virtio_console_input_ready(void *opaque, uint32_t events)
{
	struct virtio_console *c = opaque;

	if ((events & (EPOLLHUP | EPOLLERR)) && c->env.nr_queues >= 2) {
		lock_both(c);
		c->in_hup = true;
		unlock_both(c);
	}
	/* Before DRIVER_OK this does nothing: input waits in the fd. */
	console_run(c, true, false);
}

static void console_config_write(void *dev, uint32_t off, const void *data,
				 uint32_t len)
{
	/* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, not offered. */
}

static bool console_activate(void *dev, const struct virtio_activation *act)
{
	struct virtio_console *c = dev;

	c->active = true;
	return true;
}

static void console_reset(void *dev)
{
	struct virtio_console *c = dev;

	c->active = false;
}

static void console_print_stats(void *dev, const char *name, FILE *f);

/* Called once by the device manager; in_fd is watched on the worker. */
static int console_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_console *c = dev;
	int err;

	c->env = *env;
	if (!env->nr_workers || !c->in_watched)
		return 0;
	c->io = env->workers[0];
	err = event_loop_add(c->io, c->in_fd, EPOLLIN | EPOLLET,
			     virtio_console_input_ready, c);
	if (err == -EPERM) {
		/* A regular file or /dev/null: read on kicks alone. */
		c->in_watched = false;
	} else if (err < 0) {
		fprintf(stderr, "mmvm: --console virtio: cannot watch stdin: "
			"%s\n", strerror(-err));
		return -1;
	}
	return 0;
}

const struct virtio_device_ops virtio_console_ops = {
	.name = "console",
	.device_id = VIRTIO_CONSOLE_ID,
	.features = 0,
	.num_queues = 2,
	.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
	.config_len = sizeof(struct console_config_space),
	.config_write = console_config_write,
	.activate = console_activate,
	.reset = console_reset,
	.queue_notify = console_queue_notify,
	.bind = console_bind,
	.print_stats = console_print_stats,
};

struct virtio_console *virtio_console_new(int in_fd, int out_fd,
					  bool in_polled)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->in_watched = in_polled;
	c->config.max_nr_ports = 1;
	return c;
}

int virtio_console_bind(struct virtio_console *c,
			const struct virtio_device_env *env)
{
	return console_bind(c, env);
}

const void *virtio_console_config(const struct virtio_console *c)
{
	return &c->config;
}

/* --stats: read at exit, after the I/O thread has stopped. */
static void console_print_stats(void *dev, const char *name, FILE *f)
{
	const struct virtio_console_stats *s =
		&((struct virtio_console *)dev)->stats;

	fprintf(f, "%s.console_in_bytes %" PRIu64 "\n", name, s->in_bytes);
	fprintf(f, "%s.console_out_bytes %" PRIu64 "\n", name, s->out_bytes);
	fprintf(f, "%s.console_out_errors %" PRIu64 "\n", name,
		s->out_errors);
	fprintf(f, "%s.console_bad_chains %" PRIu64 "\n", name,
		s->bad_chains);
}

const struct virtio_console_stats *
virtio_console_get_stats(const struct virtio_console *c)
{
	return &c->stats;
}

void virtio_console_free(struct virtio_console *c)
{
	free(c);
}

int virtio_console_make(struct virtio_device_spec *spec)
{
	struct virtio_console *c;

	c = virtio_console_new(STDIN_FILENO, STDOUT_FILENO, true);
	if (!c) {
		fprintf(stderr, "mmvm: --console virtio: out of memory\n");
		return -1;
	}
	*spec = (struct virtio_device_spec){
		.ops = &virtio_console_ops, .dev = c, .config = &c->config,
	};
	return 0;
}
