/* virtio-net on a tap interface.
 *
 * Transmit: each tx chain is one frame, header first. The header is copied
 * out of guest memory and checked against the negotiated features before
 * the frame goes to the tap with one writev(); the tap gets our checked copy,
 * never the guest's bytes, so the guest cannot change it after the check.
 *
 * Receive: the tap fd is watched edge-triggered. A frame is read into a
 * bounce buffer and copied into as many rx chains as it needs (one without
 * VIRTIO_NET_F_MRG_RXBUF; num_buffers in its header says how many with it).
 * When the guest has posted no buffers we leave the rest in the tap and wait
 * for the guest's rx kick instead of reading: the tap queue, not the VMM,
 * absorbs bursts and drops when the guest is slow.
 *
 * Threading: everything here but activate/reset runs on the I/O thread and
 * holds the transport lock while it touches the rings; activate/reset run on
 * a vCPU thread with the lock already held. Interrupts and DEVICE_NEEDS_RESET
 * are delivered before the lock is dropped (send_signals, with the
 * transport's _locked signals), so a reset cannot come in between.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/tap.h"
#include "devices/virtio_net.h"
#include "vmm/event_loop.h"

#define BIT(n) (1ULL << (n))

#define NET_FEATURES (BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		      BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_GUEST_TSO4) |  \
		      BIT(VIRTIO_NET_F_GUEST_TSO6) |                          \
		      BIT(VIRTIO_NET_F_HOST_TSO4) |                           \
		      BIT(VIRTIO_NET_F_HOST_TSO6) |                           \
		      BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_STATUS))

/* Bounce buffer: header plus the largest frame, plus one byte so that a
 * frame too large for us is seen as such and not silently cut. */
#define NET_RX_BUF_LEN (VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 1)

/* Device config space (virtio 1.2 5.1.4), the part we implement. */
struct net_config_space {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

/* One queue pair, served on one worker with both queues' locks held (rx,
 * then tx): the device's state below sits beside both rings. */
struct virtio_net {
	struct virtio_device_env env;
	int fd;
	bool is_tap;		/* fd takes TUNSETOFFLOAD */
	char name[IFNAMSIZ];
	struct net_config_space config;

	/* Negotiated at DRIVER_OK; cleared by reset. */
	bool active;
	uint64_t features;
	bool mrg_rxbuf;

	/* tx: the frame being sent; kept while the tap says EAGAIN. */
	bool tx_pending;
	struct virtio_net_hdr_v1 tx_hdr;	/* our checked copy */
	unsigned int tx_iovcnt;
	struct iovec tx_iov[IOV_MAX];
	struct virtq_chain tx_chain;

	/* rx: the frame being delivered (rx_len == 0: none), how much of it
	 * is in guest buffers already, and the chains holding it. */
	uint32_t rx_len, rx_off;
	unsigned int rx_nheads;
	uint16_t rx_heads[VIRTIO_NET_QUEUE_SIZE];
	uint32_t rx_lens[VIRTIO_NET_QUEUE_SIZE];
	uint8_t *rx_num_buffers[2];	/* where num_buffers goes (le16) */
	struct virtq_chain rx_chain;
	uint8_t rx_buf[NET_RX_BUF_LEN];

	struct virtio_net_stats stats;
};

/* What a batch found due: interrupts, DEVICE_NEEDS_RESET. */
struct net_signals {
	bool queue[2];
	bool needs_reset;
	unsigned int pushed[2];	/* used entries added in this batch */
};

static bool has(const struct virtio_net *n, unsigned int feature)
{
	return n->features & BIT(feature);
}

static void note_push(struct net_signals *s, unsigned int q)
{
	s->pushed[q]++;
}

/* One interrupt check per batch, once its ring work is done. */
static void flush_signals(struct virtio_net *n, struct net_signals *s)
{
	for (unsigned int q = 0; q < 2; q++)
		if (s->pushed[q] && virtq_should_notify(&n->env.queues[q]->vq))
			s->queue[q] = true;
}

/* Called with the lock held, the one the batch was decided under. */
static void send_signals(struct virtio_net *n, const struct net_signals *s)
{
	if (s->needs_reset)
		virtio_interrupt_needs_reset(n->env.irq);
	for (unsigned int q = 0; q < 2; q++)
		if (s->queue[q])
			virtio_interrupt_queue(n->env.irq, q);
}

static void ring_broken(struct virtio_net *n, struct net_signals *s,
			unsigned int q)
{
	/* A guest that keeps breaking its rings must not flood our log. */
	if (n->stats.broken_rings++ < 3)
		fprintf(stderr, "mmvm: net %s: %s queue unusable (%s), device "
			"needs reset\n", n->name,
			q == VIRTIO_NET_RXQ ? "rx" : "tx",
			n->env.queues[q]->vq.last_error ?
			n->env.queues[q]->vq.last_error : "?");
	n->active = false;
	s->needs_reset = true;
}

/* ---- transmit ---- */

/* Is the guest's header one we may pass to the tap for a frame of
 * frame_len bytes? The tap checks again; we check first so that a frame it
 * would take the wrong way never reaches it. */
static bool tx_hdr_ok(const struct virtio_net *n,
		      const struct virtio_net_hdr_v1 *h, uint64_t frame_len)
{
	uint8_t gso = h->gso_type;

	if (frame_len < 14)	/* not even an Ethernet header */
		return false;
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(n, VIRTIO_NET_F_CSUM))
			return false;
		if ((uint64_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return false;
	}
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && !has(n, VIRTIO_NET_F_HOST_TSO4))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !has(n, VIRTIO_NET_F_HOST_TSO6))
		return false;
	if (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6)
		return false;	/* UDP, ECN: not offered */
	/* A segmented frame must have its checksum left to the host. */
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h->gso_size &&
	       h->hdr_len <= frame_len;
}

/* Checks n->tx_chain and lays out n->tx_iov: our header copy, then the
 * guest's frame bytes. False if the chain cannot be sent. */
static bool tx_prepare(struct virtio_net *n)
{
	const struct virtq_chain *c = &n->tx_chain;
	uint64_t skip = VIRTIO_NET_HDR_LEN;
	unsigned int cnt = 0;

	if (c->out_len < VIRTIO_NET_HDR_LEN ||
	    c->out_len > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)
		return false;
	if (virtq_chain_read(c, 0, &n->tx_hdr, sizeof(n->tx_hdr)) !=
	    sizeof(n->tx_hdr))
		return false;
	if (!tx_hdr_ok(n, &n->tx_hdr, c->out_len - VIRTIO_NET_HDR_LEN))
		return false;
	n->tx_hdr.num_buffers = 0;

	n->tx_iov[cnt].iov_base = &n->tx_hdr;
	n->tx_iov[cnt++].iov_len = sizeof(n->tx_hdr);
	for (unsigned int i = 0; i < c->nr_out; i++) {
		uint64_t len = c->iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		if (cnt == IOV_MAX)
			return false;
		n->tx_iov[cnt].iov_base = (uint8_t *)c->iov[i].iov_base + skip;
		n->tx_iov[cnt++].iov_len = len - skip;
		skip = 0;
	}
	n->tx_iovcnt = cnt;
	return true;
}

/* Writes the prepared frame: 0 when it is done with (sent or refused by the
 * tap), -EAGAIN when the tap is full. */
static int tx_send(struct virtio_net *n)
{
	ssize_t r;

	do
		r = writev(n->fd, n->tx_iov, (int)n->tx_iovcnt);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		n->stats.tx_eagain++;
		return -EAGAIN;
	}
	if (r < 0) {
		/* EINVAL for a frame the tap's own checks refuse, EIO when
		 * the interface is down: the frame is lost, as on a wire. */
		n->stats.tx_dropped++;
		return 0;
	}
	n->stats.tx_packets++;
	n->stats.tx_bytes += n->tx_chain.out_len - VIRTIO_NET_HDR_LEN;
	return 0;
}

static void net_tx(struct virtio_net *n, struct net_signals *s)
{
	struct virtqueue *vq = &n->env.queues[VIRTIO_NET_TXQ]->vq;
	enum virtq_pop_result r;

	if (n->tx_pending) {
		if (tx_send(n) == -EAGAIN)
			return;
		n->tx_pending = false;
		virtq_push(vq, n->tx_chain.head, 0);
		note_push(s, VIRTIO_NET_TXQ);
	}
	for (;;) {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &n->tx_chain)) != VIRTQ_POP_EMPTY) {
			if (r == VIRTQ_POP_BROKEN) {
				ring_broken(n, s, VIRTIO_NET_TXQ);
				return;
			}
			if (r == VIRTQ_POP_BAD_CHAIN || !tx_prepare(n)) {
				n->stats.bad_chains += r == VIRTQ_POP_BAD_CHAIN;
				n->stats.tx_dropped += r != VIRTQ_POP_BAD_CHAIN;
			} else if (tx_send(n) == -EAGAIN) {
				/* Resumed on EPOLLOUT; no kicks needed meanwhile. */
				n->tx_pending = true;
				return;
			}
			virtq_push(vq, n->tx_chain.head, 0);
			note_push(s, VIRTIO_NET_TXQ);
		}
		if (!virtq_enable_notify(vq))
			return;
	}
}

/* ---- receive ---- */

/* Host address of writable byte off of chain c, or NULL. */
static uint8_t *chain_in_byte(const struct virtq_chain *c, uint64_t off)
{
	for (unsigned int i = c->nr_out; i < c->nr_out + c->nr_in; i++) {
		if (off < c->iov[i].iov_len)
			return (uint8_t *)c->iov[i].iov_base + off;
		off -= c->iov[i].iov_len;
	}
	return NULL;
}

/* Reads the next frame from the fd into the bounce buffer. False when the
 * fd has nothing (more) for us. */
static bool rx_read(struct virtio_net *n)
{
	struct virtio_net_hdr_v1 *h = (void *)n->rx_buf;
	ssize_t r;

	for (;;) {
		r = read(n->fd, n->rx_buf, sizeof(n->rx_buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;	/* EAGAIN, or the tap went away */
		if (r < VIRTIO_NET_HDR_LEN + 14 ||
		    (size_t)r >= sizeof(n->rx_buf)) {
			n->stats.rx_dropped++;
			continue;
		}
		break;
	}
	/* The tap leaves num_buffers unwritten; offload flags are only
	 * allowed through if the guest said it copes (5.1.6.3.2). */
	h->num_buffers = 1;
	if (!has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		h->flags = 0;
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	}
	n->rx_len = (uint32_t)r;
	n->rx_off = 0;
	n->rx_nheads = 0;
	return true;
}

/* Gives back the chains taken for the current frame unused, then drops it. */
static void rx_drop_frame(struct virtio_net *n, struct net_signals *s)
{
	struct virtqueue *vq = &n->env.queues[VIRTIO_NET_RXQ]->vq;

	for (unsigned int i = 0; i < n->rx_nheads; i++) {
		virtq_push(vq, n->rx_heads[i], 0);
		note_push(s, VIRTIO_NET_RXQ);
	}
	n->stats.rx_dropped++;
	n->rx_nheads = 0;
	n->rx_len = 0;
}

enum rx_result { RX_DONE, RX_NO_BUFFERS, RX_BROKEN };

/* Moves the current frame into guest buffers, as far as there are some. */
static enum rx_result rx_deliver(struct virtio_net *n, struct net_signals *s)
{
	struct virtqueue *vq = &n->env.queues[VIRTIO_NET_RXQ]->vq;
	struct virtq_chain *c = &n->rx_chain;
	enum virtq_pop_result r;
	uint64_t room;
	uint32_t chunk;

	while (n->rx_off < n->rx_len) {
		r = virtq_pop(vq, c);
		if (r == VIRTQ_POP_EMPTY)
			return RX_NO_BUFFERS;
		if (r == VIRTQ_POP_BROKEN)
			return RX_BROKEN;
		/* The first buffer must hold the whole header (5.1.6.3.1). */
		room = n->rx_nheads ? 1 : VIRTIO_NET_HDR_LEN;
		if (r == VIRTQ_POP_BAD_CHAIN || c->in_len < room) {
			n->stats.bad_chains++;
			virtq_push(vq, c->head, 0);
			note_push(s, VIRTIO_NET_RXQ);
			continue;
		}
		if (!n->mrg_rxbuf && c->in_len < n->rx_len) {
			n->rx_heads[n->rx_nheads++] = c->head;
			rx_drop_frame(n, s);
			return RX_DONE;
		}
		if (n->rx_nheads == 0) {
			n->rx_num_buffers[0] = chain_in_byte(c, 10);
			n->rx_num_buffers[1] = chain_in_byte(c, 11);
		}
		room = c->in_len;
		chunk = room < n->rx_len - n->rx_off ?
			(uint32_t)room : n->rx_len - n->rx_off;
		virtq_chain_write(c, 0, n->rx_buf + n->rx_off, chunk);
		n->rx_heads[n->rx_nheads] = c->head;
		n->rx_lens[n->rx_nheads++] = chunk;
		n->rx_off += chunk;
		if (n->rx_off < n->rx_len &&
		    n->rx_nheads == VIRTIO_NET_QUEUE_SIZE) {
			/* Buffers so small the frame needs more than a ring. */
			rx_drop_frame(n, s);
			return RX_DONE;
		}
	}

	/* num_buffers may straddle two guest segments: byte by byte. */
	*n->rx_num_buffers[0] = (uint8_t)n->rx_nheads;
	*n->rx_num_buffers[1] = (uint8_t)(n->rx_nheads >> 8);
	for (unsigned int i = 0; i < n->rx_nheads; i++)
		virtq_push(vq, n->rx_heads[i], n->rx_lens[i]);
	s->pushed[VIRTIO_NET_RXQ] += n->rx_nheads - 1;
	note_push(s, VIRTIO_NET_RXQ);
	n->stats.rx_packets++;
	n->stats.rx_bytes += n->rx_len - VIRTIO_NET_HDR_LEN;
	n->rx_nheads = 0;
	n->rx_len = 0;
	return RX_DONE;
}

static void net_rx(struct virtio_net *n, struct net_signals *s)
{
	struct virtqueue *vq = &n->env.queues[VIRTIO_NET_RXQ]->vq;

	/* While buffers last we need no kicks: new frames wake us. */
	virtq_disable_notify(vq);
	for (;;) {
		if (n->rx_len == 0 && !rx_read(n))
			return;
		switch (rx_deliver(n, s)) {
		case RX_DONE:
			break;
		case RX_BROKEN:
			ring_broken(n, s, VIRTIO_NET_RXQ);
			return;
		case RX_NO_BUFFERS:
			/* Ask for a kick; recheck in case buffers came in
			 * between our look and the request. */
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				break;
			}
			n->stats.rx_stalls++;
			return;
		}
	}
}

/* Before DRIVER_OK, and after a reset, frames have nowhere to go: drop
 * them, as a NIC with its link down would, but a bounded number per wakeup
 * so a flood cannot pin the I/O thread. */
static void rx_discard(struct virtio_net *n)
{
	for (unsigned int i = 0; i < 256; i++)
		if (read(n->fd, n->rx_buf, sizeof(n->rx_buf)) < 0 &&
		    errno != EINTR)
			break;
}

/* ---- entry points ---- */

static void lock_pair(struct virtio_net *n)
{
	virtio_queue_lock(n->env.queues[VIRTIO_NET_RXQ]);
	virtio_queue_lock(n->env.queues[VIRTIO_NET_TXQ]);
}

static void unlock_pair(struct virtio_net *n)
{
	virtio_queue_unlock(n->env.queues[VIRTIO_NET_TXQ]);
	virtio_queue_unlock(n->env.queues[VIRTIO_NET_RXQ]);
}

static void net_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_net *n = dev;
	struct net_signals s = { 0 };

	if (n->env.nr_queues < 2)
		return;		/* not bound */
	lock_pair(n);
	if (n->active) {
		if (queue == VIRTIO_NET_TXQ)
			net_tx(n, &s);
		else if (queue == VIRTIO_NET_RXQ)
			net_rx(n, &s);
		flush_signals(n, &s);
	}
	send_signals(n, &s);
	unlock_pair(n);
}

void virtio_net_fd_ready(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	struct net_signals s = { 0 };

	if (n->env.nr_queues < 2) {
		rx_discard(n);	/* not bound */
		return;
	}
	lock_pair(n);
	if (!n->active) {
		rx_discard(n);
	} else {
		/* Edge-triggered: look at both directions on any wakeup. */
		if (n->tx_pending)
			net_tx(n, &s);
		if (n->active)
			net_rx(n, &s);
		flush_signals(n, &s);
	}
	send_signals(n, &s);
	unlock_pair(n);
}

static void net_config_write(void *dev, uint32_t off, const void *data,
			     uint32_t len)
{
	/* virtio 1.x: the MAC is read-only without CTRL_MAC_ADDR. Ignored. */
}

static void net_clear_state(struct virtio_net *n)
{
	n->tx_pending = false;
	n->rx_len = 0;
	n->rx_off = 0;
	n->rx_nheads = 0;
}

static bool net_activate(void *dev, const struct virtio_activation *act)
{
	struct virtio_net *n = dev;
	struct tap_offloads o;
	int err;

	n->features = act->features;
	n->mrg_rxbuf = has(n, VIRTIO_NET_F_MRG_RXBUF);
	o.csum = has(n, VIRTIO_NET_F_GUEST_CSUM);
	o.tso4 = has(n, VIRTIO_NET_F_GUEST_TSO4);
	o.tso6 = has(n, VIRTIO_NET_F_GUEST_TSO6);
	if (n->is_tap && (err = tap_set_offloads(n->fd, &o)) < 0) {
		fprintf(stderr, "mmvm: net %s: cannot set tap offloads: %s\n",
			n->name, strerror(-err));
		return false;
	}
	net_clear_state(n);
	n->active = true;
	return true;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	n->active = false;
	n->features = 0;
	net_clear_state(n);
}

static void net_print_stats(void *dev, const char *name, FILE *f);

/* Called once by the device manager; the tap is watched on the pair's
 * worker. */
static int net_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_net *n = dev;

	n->env = *env;
	if (!env->nr_workers)
		return 0;
	if (event_loop_add(env->workers[0], n->fd,
			   EPOLLIN | EPOLLOUT | EPOLLET, virtio_net_fd_ready,
			   n) < 0) {
		fprintf(stderr, "mmvm: --net tap=%s: cannot watch tap fd\n",
			n->name);
		return -1;
	}
	return 0;
}

const struct virtio_device_ops virtio_net_ops = {
	.name = "net",
	.device_id = VIRTIO_NET_ID,
	.features = NET_FEATURES,
	.num_queues = 2,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.config_len = sizeof(struct net_config_space),
	.config_write = net_config_write,
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
	.bind = net_bind,
	.print_stats = net_print_stats,
};

struct virtio_net *virtio_net_new(int fd, const uint8_t mac[6])
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->fd = fd;
	memcpy(n->config.mac, mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	snprintf(n->name, sizeof(n->name), "fd%d", fd);
	return n;
}

int virtio_net_bind(struct virtio_net *n, const struct virtio_device_env *env)
{
	return net_bind(n, env);
}

const void *virtio_net_config(const struct virtio_net *n)
{
	return &n->config;
}

/* --stats: read at exit, after the I/O thread has stopped. */
static void net_print_stats(void *dev, const char *name, FILE *f)
{
	const struct virtio_net_stats *s = &((struct virtio_net *)dev)->stats;
	const struct { const char *key; uint64_t v; } rows[] = {
		{ "tx_packets", s->tx_packets }, { "tx_bytes", s->tx_bytes },
		{ "tx_dropped", s->tx_dropped }, { "tx_eagain", s->tx_eagain },
		{ "rx_packets", s->rx_packets }, { "rx_bytes", s->rx_bytes },
		{ "rx_dropped", s->rx_dropped }, { "rx_stalls", s->rx_stalls },
		{ "bad_chains", s->bad_chains },
		{ "broken_rings", s->broken_rings },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(f, "%s.net_%s %" PRIu64 "\n", name, rows[i].key,
			rows[i].v);
}

const struct virtio_net_stats *virtio_net_get_stats(const struct virtio_net *n)
{
	return &n->stats;
}

void virtio_net_free(struct virtio_net *n)
{
	free(n);
}

int virtio_net_make(const struct net_config *nc, unsigned int index,
		    struct virtio_device_spec *spec)
{
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)index };
	struct virtio_net *n;
	int fd;

	if (nc->mac_set)
		memcpy(mac, nc->mac, sizeof(mac));
	fd = tap_open(nc->tap);
	if (fd < 0) {
		fprintf(stderr, "mmvm: --net tap=%s: cannot open tap: %s\n",
			nc->tap, strerror(-fd));
		return -1;
	}
	n = virtio_net_new(fd, mac);
	if (!n) {
		fprintf(stderr, "mmvm: --net tap=%s: out of memory\n", nc->tap);
		close(fd);
		return -1;
	}
	n->is_tap = true;
	snprintf(n->name, sizeof(n->name), "%s", nc->tap);
	*spec = (struct virtio_device_spec){
		.ops = &virtio_net_ops, .dev = n, .config = &n->config,
	};
	return 0;
}
