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
 * Multi-queue (--net tap=NAME,queues=N, N > 1): VIRTIO_NET_F_MQ with the
 * control queue. Pair i is rx queue 2i and tx queue 2i+1 on fd i of a
 * multi-queue tap (IFF_MULTI_QUEUE) and on worker i; the control queue
 * (2N) is served on worker 0. Only the pairs the driver enabled with
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (one until it says otherwise) have their
 * tap queue attached, so the host kernel steers flows to those alone and
 * never to a queue the guest does not read (5.1.6.5.5).
 *
 * Threading: a pair's work runs on its worker with both its queues' locks
 * held (rx, then tx); the state it touches is the pair's own. activate and
 * reset run on a vCPU thread with every queue's lock held; a control
 * command takes every queue's lock too, in index order, since it changes
 * which pairs are enabled. Interrupts and DEVICE_NEEDS_RESET are delivered
 * before the locks are dropped, so a reset cannot come in between.
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
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "devices/tap.h"
#include "devices/vhost_net.h"
#include "devices/virtio_net.h"
#include "vmm/event_loop.h"

#define BIT(n) (1ULL << (n))

_Static_assert(MMVM_MAX_NET_QUEUES <= VIRTIO_NET_MAX_PAIRS,
	       "--net queues= must fit the transport");

/* Offered only with more than one pair. */
#define NET_MQ_FEATURES (BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ))

#define NET_FEATURES (BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | \
		      BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_GUEST_TSO4) |  \
		      BIT(VIRTIO_NET_F_GUEST_TSO6) |                          \
		      BIT(VIRTIO_NET_F_HOST_TSO4) |                           \
		      BIT(VIRTIO_NET_F_HOST_TSO6) |                           \
		      BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_STATUS))

/* Bounce buffer: header plus the largest frame, plus one byte so that a
 * frame too large for us is seen as such and not silently cut. */
#define NET_RX_BUF_LEN (VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 1)

/* Frames up to this size, header included, are copied out of guest memory
 * and completed before they are written to the tap (net_tx()): requests,
 * ACKs. Larger frames go to the tap from guest memory. */
#define NET_TX_COPY_MAX 512

/* Device config space (virtio 1.2 5.1.4), the part we implement. */
struct net_config_space {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

/* One queue pair: its tap queue and the packet in flight each way. Used
 * on the pair's worker with both its queues' locks held. */
struct net_pair {
	struct virtio_net *n;
	unsigned int index;
	int fd;			/* this pair's tap queue */
	bool attached;		/* tap queue attached (multi-queue taps) */
	struct vhost_net *vhost;	/* vhost=on: the pair's rings are
					 * served in the host kernel */
	bool active;		/* DRIVER_OK and enabled, not broken */
	struct virtio_queue *rxq, *txq;

	/* tx: the frame being sent; kept while the tap says EAGAIN. A
	 * copied frame (tx_pending_copy) is in tx_copy, its chain already used. */
	bool tx_pending;
	bool tx_pending_copy;
	uint8_t tx_copy[NET_TX_COPY_MAX];
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

	struct virtio_queue_poll poll;	/* --net poll=auto|US */

	/* --net tx-irq-delay=US: the tx interrupt's check waits this long
	 * on a one-shot timerfd (tx_irq_due()); -1: no timer. */
	uint64_t tx_irq_delay_ns;
	int tx_irq_fd;
	bool tx_irq_armed;
	/* tx-irq-delay=auto: put off only while the driver's backlog is
	 * small (tx_irq_may_wait()); the bytes completed since the last
	 * check was made count towards it. */
	bool tx_irq_auto;
	uint64_t tx_irq_held_bytes;

	struct virtio_net_stats stats;
};

struct virtio_net {
	struct virtio_device_ops ops;	/* per device: queues, features */
	struct virtio_device_env env;
	bool is_tap;		/* fds take TUNSETOFFLOAD, TUNSETQUEUE */
	char name[IFNAMSIZ];
	struct net_config_space config;

	/* Negotiated at DRIVER_OK; cleared by reset. Written with every
	 * queue's lock held, so any one of them is enough to read them. */
	uint64_t features;
	bool mrg_rxbuf;
	bool driver_ok;
	unsigned int curr_pairs;	/* enabled by the driver (>= 1) */
	unsigned int max_pairs_enabled;	/* the most it enabled: --stats */

	struct virtq_chain ctrl_chain;
	uint64_t ctrl_commands, ctrl_errors;
	uint64_t ctrl_broken;		/* control ring found unusable */

	/* Tap queue attach/detach (TUNSETQUEUE), limited like the GSI
	 * route commits: see NET_ATTACH_BURST. attach_queue is NULL when
	 * there is nothing to attach (one pair, or no tap); now_ns is the
	 * limiter's clock. Both are replaced by the unit tests. The state
	 * is written with every queue's lock held. */
	int (*attach_queue)(int fd, bool on);
	uint64_t (*now_ns)(void);
	uint64_t attach_tat_ns;		/* GCRA: the bucket's virtual time */
	int attach_timer_fd;		/* deferred changes: -1 none */
	uint64_t attach_calls;		/* TUNSETQUEUE made (either way) */
	uint64_t attach_deferred;	/* syncs the limit held back */
	uint64_t attach_errors;
	uint64_t pairs_coalesced;	/* PAIRS_SET superseded in a batch */
	struct virtio_net_stats stats_sum;	/* virtio_net_get_stats() */

	unsigned int nr_pairs;
	struct net_pair pairs[];
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

/* Signals index 0 is the pair's rx queue, 1 its tx queue. */
enum { SIG_RX, SIG_TX };

static void note_push(struct net_signals *s, unsigned int which)
{
	s->pushed[which]++;
}

/* tx-irq-delay=auto puts a check off only while the driver has at most
 * this many sent frames it has not reclaimed... With EVENT_IDX, Linux
 * sets used_event a quarter of its outstanding frames short of avail->idx
 * (virtqueue_enable_cb_delayed()), so a backlog of 1 is up to 4 frames. */
#define NET_TX_IRQ_AUTO_BACKLOG	1
/* ... and they hold at most this many bytes. Far below a socket's send
 * buffer (UDP's 208 KiB) and TCP's small-queue limit (two segments at
 * least), so a sender never waits for the delayed interrupt to get its
 * memory back: the case of a fixed delay that auto exists to avoid. */
#define NET_TX_IRQ_AUTO_BYTES	8192

/* May the interrupt check for what was just completed wait? A fixed
 * delay always may; auto only while the driver's backlog is small, which
 * a request/response's lone frame is and a stream is not. */
static bool tx_irq_may_wait(struct net_pair *p)
{
	if (!p->tx_irq_auto)
		return true;
	return virtq_driver_backlog(&p->txq->vq) <= NET_TX_IRQ_AUTO_BACKLOG &&
	       p->tx_irq_held_bytes <= NET_TX_IRQ_AUTO_BYTES;
}

/* Makes the interrupt check now, disarming a put-off one. */
static bool tx_irq_check_now(struct net_pair *p)
{
	static const struct itimerspec disarm;

	if (p->tx_irq_armed) {
		timerfd_settime(p->tx_irq_fd, 0, &disarm, NULL);
		p->tx_irq_armed = false;
		p->stats.tx_irq_early++;
	}
	p->tx_irq_held_bytes = 0;
	return virtq_should_notify(&p->txq->vq);
}

/* Is a tx interrupt due now? With --net tx-irq-delay=US|auto the
 * question is put off: a one-shot timer asks it US microseconds later
 * (pair_tx_irq_timer()), against the driver's used_event as it is then.
 * Linux's virtio-net reclaims sent buffers in its receive poll as well
 * (virtnet_poll_cleantx()) and moves used_event past them there, so when
 * the reply to a request arrives within the delay, the request's tx
 * interrupt is not needed any more and is never sent: one interrupt per
 * request/response instead of two, with the exits it costs a running
 * vCPU (a kick, often an interrupt window, an EOI). Otherwise it goes
 * out at most US late: used entries are never held back, only the
 * interrupt that reports them: virtio puts no time limit on it. */
static bool tx_irq_due(struct net_pair *p)
{
	struct itimerspec its = { 0 };

	if (!p->tx_irq_delay_ns || p->tx_irq_fd < 0 || !tx_irq_may_wait(p))
		return tx_irq_check_now(p);
	if (p->tx_irq_armed)
		return false;
	its.it_value.tv_sec = (time_t)(p->tx_irq_delay_ns / 1000000000u);
	its.it_value.tv_nsec = (long)(p->tx_irq_delay_ns % 1000000000u);
	if (timerfd_settime(p->tx_irq_fd, 0, &its, NULL) < 0)
		return tx_irq_check_now(p);
	p->tx_irq_armed = true;
	p->stats.tx_irq_deferred++;
	return false;
}

/* A sent frame's used entry is in the ring: its bytes count towards
 * auto's bound until the next interrupt check. */
static void tx_completed(struct net_pair *p, struct net_signals *s)
{
	p->tx_irq_held_bytes += p->tx_chain.out_len;
	note_push(s, SIG_TX);
}

/* One interrupt check per batch, once its ring work is done. */
static void flush_signals(struct net_pair *p, struct net_signals *s)
{
	if (s->pushed[SIG_RX] && virtq_should_notify(&p->rxq->vq))
		s->queue[SIG_RX] = true;
	if (s->pushed[SIG_TX] && tx_irq_due(p))
		s->queue[SIG_TX] = true;
}

/* Called with the pair's locks held, the ones the batch was decided
 * under. */
static void send_signals(struct net_pair *p, const struct net_signals *s)
{
	struct virtio_interrupt *irq = p->n->env.irq;

	if (s->needs_reset)
		virtio_interrupt_needs_reset(irq);
	if (s->queue[SIG_RX])
		virtio_interrupt_queue(irq, p->rxq->index);
	if (s->queue[SIG_TX])
		virtio_interrupt_queue(irq, p->txq->index);
}

static void ring_broken(struct net_pair *p, struct net_signals *s,
			struct virtio_queue *q)
{
	/* A guest that keeps breaking its rings must not flood our log. */
	if (p->stats.broken_rings++ < 3)
		fprintf(stderr, "mmvm: net %s: %s queue %u unusable (%s), "
			"device needs reset\n", p->n->name,
			q == p->rxq ? "rx" : "tx", q->index,
			q->vq.last_error ? q->vq.last_error : "?");
	if (p->stats.broken_rings == 3)
		fprintf(stderr, "mmvm: net %s: further breakage of pair %u's "
			"queues not reported\n", p->n->name, p->index);
	p->active = false;
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

/* Checks p->tx_chain and lays out p->tx_iov: our header copy, then the
 * guest's frame bytes. False if the chain cannot be sent. */
static bool tx_prepare(struct net_pair *p)
{
	const struct virtq_chain *c = &p->tx_chain;
	uint64_t skip = VIRTIO_NET_HDR_LEN;
	unsigned int cnt = 0;

	if (c->out_len < VIRTIO_NET_HDR_LEN ||
	    c->out_len > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)
		return false;
	if (virtq_chain_read(c, 0, &p->tx_hdr, sizeof(p->tx_hdr)) !=
	    sizeof(p->tx_hdr))
		return false;
	if (!tx_hdr_ok(p->n, &p->tx_hdr, c->out_len - VIRTIO_NET_HDR_LEN))
		return false;
	p->tx_hdr.num_buffers = 0;

	p->tx_iov[cnt].iov_base = &p->tx_hdr;
	p->tx_iov[cnt++].iov_len = sizeof(p->tx_hdr);
	for (unsigned int i = 0; i < c->nr_out; i++) {
		uint64_t len = c->iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		if (cnt == IOV_MAX)
			return false;
		p->tx_iov[cnt].iov_base = (uint8_t *)c->iov[i].iov_base + skip;
		p->tx_iov[cnt++].iov_len = len - skip;
		skip = 0;
	}
	p->tx_iovcnt = cnt;
	return true;
}

/* A small prepared frame moves into p->tx_copy (our checked header, then
 * the guest's frame bytes), and p->tx_iov to it. False (nothing changed)
 * for a frame larger than NET_TX_COPY_MAX. */
static bool tx_copy_out(struct net_pair *p)
{
	const struct virtq_chain *c = &p->tx_chain;
	uint64_t frame = c->out_len - VIRTIO_NET_HDR_LEN;	/* tx_prepare() */
	size_t len = sizeof(p->tx_hdr) + frame;

	if (len > sizeof(p->tx_copy))
		return false;
	memcpy(p->tx_copy, &p->tx_hdr, sizeof(p->tx_hdr));
	virtq_chain_read(c, VIRTIO_NET_HDR_LEN,
			 p->tx_copy + sizeof(p->tx_hdr), frame);
	p->tx_iov[0].iov_base = p->tx_copy;
	p->tx_iov[0].iov_len = len;
	p->tx_iovcnt = 1;
	return true;
}

/* Writes the prepared frame: 0 when it is done with (sent or refused by the
 * tap), -EAGAIN when the tap is full. */
static int tx_send(struct net_pair *p)
{
	ssize_t r;

	do
		r = writev(p->fd, p->tx_iov, (int)p->tx_iovcnt);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		p->stats.tx_eagain++;
		return -EAGAIN;
	}
	if (r < 0) {
		/* EINVAL for a frame the tap's own checks refuse, EIO when
		 * the interface is down: the frame is lost, as on a wire. */
		p->stats.tx_dropped++;
		return 0;
	}
	p->stats.tx_packets++;
	p->stats.tx_bytes += p->tx_chain.out_len - VIRTIO_NET_HDR_LEN;
	return 0;
}

static void net_tx(struct net_pair *p, struct net_signals *s)
{
	struct virtqueue *vq = &p->txq->vq;
	enum virtq_pop_result r;

	if (p->tx_pending) {
		if (tx_send(p) == -EAGAIN)
			return;
		p->tx_pending = false;
		if (!p->tx_pending_copy) {
			virtq_push(vq, p->tx_chain.head, 0);
			tx_completed(p, s);
		}
	}
	for (;;) {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &p->tx_chain)) != VIRTQ_POP_EMPTY) {
			if (r == VIRTQ_POP_BROKEN) {
				ring_broken(p, s, p->txq);
				return;
			}
			if (r == VIRTQ_POP_BAD_CHAIN || !tx_prepare(p)) {
				p->stats.bad_chains += r == VIRTQ_POP_BAD_CHAIN;
				p->stats.tx_dropped += r != VIRTQ_POP_BAD_CHAIN;
			} else if (tx_copy_out(p)) {
				/* Completed, and its interrupt sent, before the
				 * host sees the frame: a reply the host turns
				 * around while we are still in writev() would
				 * otherwise reach the guest together with this
				 * interrupt, and a second pending interrupt costs
				 * the guest an EOI exit (no PV EOI while another
				 * is pending) and an interrupt-window exit
				 * (with tx-irq-delay= the check is put off
				 * instead: tx_irq_due()). */
				virtq_push(vq, p->tx_chain.head, 0);
				p->tx_irq_held_bytes += p->tx_chain.out_len;
				if (tx_irq_due(p))
					virtio_interrupt_queue(p->n->env.irq,
							       p->txq->index);
				p->stats.tx_copied++;
				if (tx_send(p) == -EAGAIN) {
					p->tx_pending = p->tx_pending_copy = true;
					return;
				}
				continue;
			} else if (tx_send(p) == -EAGAIN) {
				/* Resumed on EPOLLOUT; no kicks needed meanwhile. */
				p->tx_pending = true;
				p->tx_pending_copy = false;
				return;
			}
			virtq_push(vq, p->tx_chain.head, 0);
			tx_completed(p, s);
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
static bool rx_read(struct net_pair *p)
{
	struct virtio_net_hdr_v1 *h = (void *)p->rx_buf;
	ssize_t r;

	for (;;) {
		r = read(p->fd, p->rx_buf, sizeof(p->rx_buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;	/* EAGAIN, or the tap went away */
		if (r < VIRTIO_NET_HDR_LEN + 14 ||
		    (size_t)r >= sizeof(p->rx_buf)) {
			p->stats.rx_dropped++;
			continue;
		}
		break;
	}
	/* The tap leaves num_buffers unwritten; offload flags are only
	 * allowed through if the guest said it copes (5.1.6.3.2). */
	h->num_buffers = 1;
	if (!has(p->n, VIRTIO_NET_F_GUEST_CSUM)) {
		h->flags = 0;
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	}
	p->rx_len = (uint32_t)r;
	p->rx_off = 0;
	p->rx_nheads = 0;
	return true;
}

/* Gives back the chains taken for the current frame unused, then drops it. */
static void rx_drop_frame(struct net_pair *p, struct net_signals *s)
{
	struct virtqueue *vq = &p->rxq->vq;

	for (unsigned int i = 0; i < p->rx_nheads; i++) {
		virtq_push(vq, p->rx_heads[i], 0);
		note_push(s, SIG_RX);
	}
	p->stats.rx_dropped++;
	p->rx_nheads = 0;
	p->rx_len = 0;
}

enum rx_result { RX_DONE, RX_NO_BUFFERS, RX_BROKEN };

/* Moves the current frame into guest buffers, as far as there are some. */
static enum rx_result rx_deliver(struct net_pair *p, struct net_signals *s)
{
	struct virtqueue *vq = &p->rxq->vq;
	struct virtq_chain *c = &p->rx_chain;
	enum virtq_pop_result r;
	uint64_t room;
	uint32_t chunk;

	while (p->rx_off < p->rx_len) {
		r = virtq_pop(vq, c);
		if (r == VIRTQ_POP_EMPTY)
			return RX_NO_BUFFERS;
		if (r == VIRTQ_POP_BROKEN)
			return RX_BROKEN;
		/* The first buffer must hold the whole header (5.1.6.3.1). */
		room = p->rx_nheads ? 1 : VIRTIO_NET_HDR_LEN;
		if (r == VIRTQ_POP_BAD_CHAIN || c->in_len < room) {
			p->stats.bad_chains++;
			virtq_push(vq, c->head, 0);
			note_push(s, SIG_RX);
			continue;
		}
		if (!p->n->mrg_rxbuf && c->in_len < p->rx_len) {
			p->rx_heads[p->rx_nheads++] = c->head;
			rx_drop_frame(p, s);
			return RX_DONE;
		}
		if (p->rx_nheads == 0) {
			p->rx_num_buffers[0] = chain_in_byte(c, 10);
			p->rx_num_buffers[1] = chain_in_byte(c, 11);
		}
		room = c->in_len;
		chunk = room < p->rx_len - p->rx_off ?
			(uint32_t)room : p->rx_len - p->rx_off;
		virtq_chain_write(c, 0, p->rx_buf + p->rx_off, chunk);
		p->rx_heads[p->rx_nheads] = c->head;
		p->rx_lens[p->rx_nheads++] = chunk;
		p->rx_off += chunk;
		if (p->rx_off < p->rx_len &&
		    p->rx_nheads == VIRTIO_NET_QUEUE_SIZE) {
			/* Buffers so small the frame needs more than a ring. */
			rx_drop_frame(p, s);
			return RX_DONE;
		}
	}

	/* num_buffers may straddle two guest segments: byte by byte. */
	*p->rx_num_buffers[0] = (uint8_t)p->rx_nheads;
	*p->rx_num_buffers[1] = (uint8_t)(p->rx_nheads >> 8);
	for (unsigned int i = 0; i < p->rx_nheads; i++)
		virtq_push(vq, p->rx_heads[i], p->rx_lens[i]);
	s->pushed[SIG_RX] += p->rx_nheads - 1;
	note_push(s, SIG_RX);
	p->stats.rx_packets++;
	p->stats.rx_bytes += p->rx_len - VIRTIO_NET_HDR_LEN;
	p->rx_nheads = 0;
	p->rx_len = 0;
	return RX_DONE;
}

static void net_rx(struct net_pair *p, struct net_signals *s)
{
	struct virtqueue *vq = &p->rxq->vq;

	/* While buffers last we need no kicks: new frames wake us. */
	virtq_disable_notify(vq);
	for (;;) {
		if (p->rx_len == 0 && !rx_read(p))
			return;
		switch (rx_deliver(p, s)) {
		case RX_DONE:
			break;
		case RX_BROKEN:
			ring_broken(p, s, p->rxq);
			return;
		case RX_NO_BUFFERS:
			/* Ask for a kick; recheck in case buffers came in
			 * between our look and the request. */
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				break;
			}
			p->stats.rx_stalls++;
			return;
		}
	}
}

/* Before DRIVER_OK, and after a reset, frames have nowhere to go: drop
 * them, as a NIC with its link down would, but a bounded number per wakeup
 * so a flood cannot pin the worker. */
static void rx_discard(struct net_pair *p)
{
	for (unsigned int i = 0; i < 256; i++)
		if (read(p->fd, p->rx_buf, sizeof(p->rx_buf)) < 0 &&
		    errno != EINTR)
			break;
}

/* ---- which pairs the tap steers to ---- */

/* Every TUNSETQUEUE takes the host-global rtnl lock, waits for an RCU
 * grace period (synchronize_net()) and broadcasts RTM_NEWLINK to every
 * netlink listener on the host, and the guest decides when they happen
 * (each PAIRS_SET change, each reset). So, as the GSI route commits
 * (irq/gsi_routing.h), they go through a token bucket per device:
 * NET_ATTACH_BURST at once, then NET_ATTACH_RATE per second. Which pairs
 * the device serves changes at once; only the tap's steering lags, and
 * a change held back is made by a timer (or the next command) as soon as
 * the limit allows, always towards the state the driver asked for last,
 * so changes it undid meanwhile cost nothing. Numbers: a Linux guest
 * makes one change at probe (1 -> N pairs, N - 1 attaches, at most 6),
 * and a reset with its re-probe at most 12, so 16 lets those through
 * without a deferral; 10/s after that holds a hostile driver to 10
 * netlink events a second per device where it made 10-17 thousand. The
 * price, beyond the burst: flows keep going to a pair the driver just
 * disabled (and are dropped there, as before DRIVER_OK) for up to 100 ms
 * per change still waiting, or do not go to a newly enabled one yet, and
 * the frames the driver sends on a newly enabled pair meanwhile are
 * dropped (a detached tap queue refuses writes with EBADFD: tx_dropped). */
#define NET_ATTACH_BURST	16
#define NET_ATTACH_RATE		10	/* per second, after the burst */
#define NET_ATTACH_INTERVAL_NS	(1000000000ULL / NET_ATTACH_RATE)
#define NET_ATTACH_SLACK_NS	((NET_ATTACH_BURST - 1) * NET_ATTACH_INTERVAL_NS)

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Takes a token if the limit allows a TUNSETQUEUE at now. */
static bool attach_token(struct virtio_net *n, uint64_t now)
{
	if (n->attach_tat_ns > now + NET_ATTACH_SLACK_NS)
		return false;
	n->attach_tat_ns = (n->attach_tat_ns > now ? n->attach_tat_ns : now) +
			   NET_ATTACH_INTERVAL_NS;
	return true;
}

/* How long until the limit allows the next one. */
static uint64_t attach_wait_ns(const struct virtio_net *n, uint64_t now)
{
	if (n->attach_tat_ns <= now + NET_ATTACH_SLACK_NS)
		return 0;
	return n->attach_tat_ns - NET_ATTACH_SLACK_NS - now;
}

/* Attaches or detaches pair p's tap queue. A failure leaves the queue as
 * it was and is logged (3 times): the guest then sees fewer flows
 * spread, never a lost device. */
static void pair_attach(struct net_pair *p, bool on)
{
	struct virtio_net *n = p->n;
	int err;

	n->attach_calls++;
	err = n->attach_queue(p->fd, on);
	if (err < 0) {
		if (n->attach_errors++ < 3)
			fprintf(stderr, "mmvm: net %s: cannot %s tap queue %u: "
				"%s\n", n->name, on ? "attach" : "detach",
				p->index, strerror(-err));
		return;
	}
	p->attached = on;
}

/* Comes back when the limit allows the next change. */
static void attach_arm_timer(struct virtio_net *n, uint64_t now)
{
	struct itimerspec its = { 0 };
	uint64_t ns = attach_wait_ns(n, now);

	if (n->attach_timer_fd < 0)
		return;		/* tests: virtio_net_attach_timer() */
	if (ns < 100000)
		ns = 100000;	/* 0 would disarm it */
	its.it_value.tv_sec = (time_t)(ns / 1000000000u);
	its.it_value.tv_nsec = (long)(ns % 1000000000u);
	timerfd_settime(n->attach_timer_fd, 0, &its, NULL);
}

/* With every queue's lock held: brings each pair's tap queue towards the
 * enabled set (pairs below curr_pairs attached), as far as the limit
 * allows; arms the timer for the rest. Pair 0 is always attached. */
static void sync_attachments(struct virtio_net *n)
{
	uint64_t now;

	if (!n->attach_queue || n->nr_pairs == 1)
		return;
	now = n->now_ns();
	for (unsigned int i = 1; i < n->nr_pairs; i++) {
		struct net_pair *p = &n->pairs[i];
		bool want = i < n->curr_pairs;

		if (p->attached == want)
			continue;
		if (!attach_token(n, now)) {
			n->attach_deferred++;
			attach_arm_timer(n, now);
			return;
		}
		pair_attach(p, want);
	}
}

/* With every queue's lock held: pairs below want are enabled, the others
 * not, at once; their tap queues follow (sync_attachments()). */
static void set_curr_pairs(struct virtio_net *n, unsigned int want)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		struct net_pair *p = &n->pairs[i];
		bool on = i < want;

		if (!on)
			p->tx_pending = false, p->rx_len = 0;
		p->active = on && n->driver_ok;
	}
	n->curr_pairs = want;
	sync_attachments(n);
}

/* ---- control queue ---- */

static void lock_all(struct virtio_net *n)
{
	for (unsigned int q = 0; q < n->env.nr_queues; q++)
		virtio_queue_lock(n->env.queues[q]);
}

static void unlock_all(struct virtio_net *n)
{
	for (unsigned int q = n->env.nr_queues; q-- > 0;)
		virtio_queue_unlock(n->env.queues[q]);
}

/* One command: its class/command header and data in the driver's buffers,
 * one ack byte after them (5.1.6.5). The answer is VIRTIO_NET_OK or
 * VIRTIO_NET_ERR. A valid VQ_PAIRS_SET is answered OK at once and its
 * count left in *pairs for net_ctrl() to apply (5.1.6.5.5 lets the
 * device apply it after the ack). */
static uint8_t ctrl_command(struct virtio_net *n, const struct virtq_chain *c,
			    unsigned int *pairs_set)
{
	struct virtio_net_ctrl_hdr hdr;
	uint16_t pairs;

	if (virtq_chain_read(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_NET_ERR;
	if (hdr.class != VIRTIO_NET_CTRL_MQ ||
	    hdr.cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || !has(n, VIRTIO_NET_F_MQ))
		return VIRTIO_NET_ERR;	/* nothing else is offered */
	if (c->out_len != sizeof(hdr) + sizeof(pairs) ||
	    virtq_chain_read(c, sizeof(hdr), &pairs, sizeof(pairs)) !=
	    sizeof(pairs))
		return VIRTIO_NET_ERR;
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > n->nr_pairs)
		return VIRTIO_NET_ERR;
	if (*pairs_set)
		n->pairs_coalesced++;
	*pairs_set = pairs;
	return VIRTIO_NET_OK;
}

/* The control queue's ring is unusable: NEEDS_RESET, and a line on
 * stderr, the first 3 times only, as for the data queues (a driver that
 * breaks it, resets and breaks it again must not flood our log). */
static void ctrl_broken(struct virtio_net *n, struct virtqueue *vq)
{
	n->ctrl_broken++;
	if (n->ctrl_broken <= 3)
		fprintf(stderr, "mmvm: net %s: control queue unusable (%s), "
			"device needs reset\n", n->name,
			vq->last_error ? vq->last_error : "?");
	if (n->ctrl_broken == 3)
		fprintf(stderr, "mmvm: net %s: further control queue "
			"breakage not reported\n", n->name);
	virtio_interrupt_needs_reset(n->env.irq);
}

/* The control queue, on worker 0, with every queue's lock held. Of the
 * VQ_PAIRS_SET commands in one batch only the last is applied: the
 * others were superseded before any pair could use them. */
static void net_ctrl(struct virtio_net *n)
{
	struct virtio_queue *q = n->env.queues[2 * n->nr_pairs];
	struct virtqueue *vq = &q->vq;
	enum virtq_pop_result r;
	unsigned int pairs_set = 0;
	bool pushed = false, broken = false;
	uint8_t ack;

	if (!n->driver_ok || !virtio_queue_usable(q))
		return;
	while ((r = virtq_pop(vq, &n->ctrl_chain)) != VIRTQ_POP_EMPTY) {
		if (r == VIRTQ_POP_BROKEN) {
			broken = true;
			break;
		}
		ack = VIRTIO_NET_ERR;
		if (r != VIRTQ_POP_BAD_CHAIN && n->ctrl_chain.in_len >= 1)
			ack = ctrl_command(n, &n->ctrl_chain, &pairs_set);
		n->ctrl_commands++;
		n->ctrl_errors += ack != VIRTIO_NET_OK;
		/* The ack is the first device-writable byte. */
		if (r != VIRTQ_POP_BAD_CHAIN && n->ctrl_chain.in_len >= 1) {
			virtq_chain_write(&n->ctrl_chain, 0, &ack, 1);
			virtq_push(vq, n->ctrl_chain.head, 1);
		} else {
			virtq_push(vq, n->ctrl_chain.head, 0);
		}
		pushed = true;
	}
	/* Commands acked before a break were valid: applied all the same. */
	if (pairs_set) {
		set_curr_pairs(n, pairs_set);
		if (pairs_set > n->max_pairs_enabled)
			n->max_pairs_enabled = pairs_set;
	} else {
		sync_attachments(n);	/* a change held back, if the limit
					 * allows it now */
	}
	if (pushed && virtq_should_notify(vq))
		virtio_interrupt_queue(n->env.irq, q->index);
	if (broken)
		ctrl_broken(n, vq);
}

/* The attach timer expired: the changes the limit held back, as far as
 * it allows now. */
static void net_attach_timer(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	uint64_t expirations;

	(void)events;
	if (n->attach_timer_fd >= 0 &&
	    read(n->attach_timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	lock_all(n);
	sync_attachments(n);
	unlock_all(n);
}

void virtio_net_attach_timer(struct virtio_net *n)
{
	net_attach_timer(n, EPOLLIN);
}

void virtio_net_set_attach_ops(struct virtio_net *n,
			       int (*attach_queue)(int fd, bool on),
			       uint64_t (*now_ns)(void))
{
	n->attach_queue = n->nr_pairs > 1 ? attach_queue : NULL;
	n->now_ns = now_ns ? now_ns : monotonic_ns;
}

/* ---- entry points ---- */

static void lock_pair(struct net_pair *p)
{
	virtio_queue_lock_pair(p->rxq, p->txq);
}

static void unlock_pair(struct net_pair *p)
{
	virtio_queue_unlock_pair(p->rxq, p->txq);
}

/* With the pair's locks held: enabled, and neither ring nor device
 * broken (a NEEDS_RESET from another pair stops this one too). */
static bool pair_usable(const struct net_pair *p)
{
	return p->active && virtio_queue_usable(p->rxq) &&
	       virtio_queue_usable(p->txq);
}

/* ---- bounded polling (--net poll=auto|US) ---- */

/* Frames moved either way so far: what "work" means for starting or
 * restarting a window and for learning one (a copied tx frame is
 * completed without a note_push). Frames dropped and chains returned
 * unused are not: a guest must not hold a window open with junk. */
static uint64_t pair_progress(const struct net_pair *p)
{
	return p->stats.tx_packets + p->stats.rx_packets;
}

/* After a round that moved packets, the worker stays on the pair for up
 * to the window (fixed, or learnt: net_queue_notify()) instead of going back to
 * sleep: tx kicks stay off (the guest sees none asked for and adds frames
 * without a doorbell; each net_tx() re-enables them at its end, so they
 * are turned off again after it), the tx ring and the tap queue are
 * looked at in turn, and every frame either way restarts the window. A
 * request/response exchange then costs the guest no doorbell as long as
 * its next frame follows within the window. Each round's interrupts go
 * out before the next look, so polling never delays a completion. The
 * pair's locks stay held (a reset from a vCPU waits for the window, at
 * most MMVM_MAX_POLL_US after the last frame), and a window opens only
 * after work, so an idle pair costs nothing. The time spent looking
 * (not serving what was found) goes against the poll's budget
 * (virtio_queue_poll_window(), queue_run.h): each window, restarted or
 * not, is cut to what is left of it. */
static void pair_poll(struct net_pair *p)
{
	struct virtqueue *txq = &p->txq->vq, *rxq = &p->rxq->vq;
	struct virtio_poll_stamp from = virtio_poll_stamp();
	uint64_t start = from.wall, t = start, looked;
	uint64_t window = virtio_queue_poll_window(&p->poll, start);
	struct net_signals s;
	uint64_t before;

	if (window)
		p->poll.polls++;
	virtq_disable_notify(txq);
	while (t - start < window && pair_usable(p) && !p->tx_pending) {
		memset(&s, 0, sizeof(s));
		before = pair_progress(p);
		if (virtq_has_avail(txq)) {
			net_tx(p, &s);
			virtq_disable_notify(txq);
		}
		/* A frame waiting for rx buffers is retried only once the
		 * guest has posted some. */
		if (p->active && (p->rx_len == 0 || virtq_has_avail(rxq)))
			net_rx(p, &s);
		flush_signals(p, &s);
		send_signals(p, &s);
		if (pair_progress(p) != before) {
			/* Up to t it was looking; since, serving. */
			virtio_queue_poll_spent(&p->poll, t - start,
				virtio_poll_cpu_share(&from, t - start), 1);
			from = virtio_poll_stamp();
			start = t = from.wall;
			window = virtio_queue_poll_window(&p->poll, start);
			continue;
		}
		__builtin_ia32_pause();
		t = virtio_poll_now_ns();
	}
	looked = t > start ? t - start : 0;
	virtio_queue_poll_spent(&p->poll, looked,
				virtio_poll_cpu_share(&from, looked), 0);
	/* Kicks back on; net_tx re-checks the ring as it enables them. */
	memset(&s, 0, sizeof(s));
	if (pair_usable(p) && !p->tx_pending)
		net_tx(p, &s);
	flush_signals(p, &s);
	send_signals(p, &s);
	if (p->poll.max_ns)
		p->poll.last_work_ns = start;	/* the last frame's time */
}

/* A round moved frames: poll the window (fixed or learnt so far), or,
 * adaptive with no window yet, remember when, so the next tx doorbell
 * tells how long a window would have had to be (net_queue_notify()). */
static void pair_worked(struct net_pair *p)
{
	if (p->poll.ns)
		pair_poll(p);
	else if (p->poll.max_ns)
		p->poll.last_work_ns = virtio_poll_now_ns();
}

static void net_queue_notify(void *dev, unsigned int queue)
{
	struct virtio_net *n = dev;
	struct net_signals s = { 0 };
	struct net_pair *p;
	uint64_t before;

	if (n->env.nr_queues < n->ops.num_queues)
		return;		/* not bound */
	if (n->nr_pairs > 1 && queue == 2 * n->nr_pairs) {
		lock_all(n);
		net_ctrl(n);
		unlock_all(n);
		return;
	}
	if (queue >= 2 * n->nr_pairs)
		return;
	p = &n->pairs[queue / 2];
	lock_pair(p);
	/* poll=auto: a tx doorbell is what a window exists to save, so only
	 * a tx doorbell teaches: the time since the pair last moved a frame
	 * either way (a reply delivered, then the guest's next request) is
	 * the window that would have caught it. Frames from the tap cost the
	 * guest nothing and teach nothing. */
	if (queue & 1)
		virtio_queue_poll_doorbell(&p->poll);
	before = pair_progress(p);
	if (pair_usable(p)) {
		if (queue & 1)
			net_tx(p, &s);
		else
			net_rx(p, &s);
		flush_signals(p, &s);
	}
	send_signals(p, &s);
	if (pair_progress(p) != before)
		pair_worked(p);
	unlock_pair(p);
}

/* The pair's tap queue is readable or writable (edge-triggered). */
static void pair_fd_ready(void *opaque, uint32_t events)
{
	struct net_pair *p = opaque;
	struct net_signals s = { 0 };
	uint64_t before;

	if (p->n->env.nr_queues < p->n->ops.num_queues) {
		rx_discard(p);	/* not bound */
		return;
	}
	lock_pair(p);
	before = pair_progress(p);
	if (!pair_usable(p)) {
		rx_discard(p);
	} else {
		/* Edge-triggered: look at both directions on any wakeup. */
		if (p->tx_pending)
			net_tx(p, &s);
		if (p->active)
			net_rx(p, &s);
		flush_signals(p, &s);
	}
	send_signals(p, &s);
	if (pair_progress(p) != before)
		pair_worked(p);
	unlock_pair(p);
}

/* The tx-irq-delay timer of a pair expired: the interrupt check that
 * tx_irq_due() put off, against the driver's used_event now. */
static void pair_tx_irq_timer(void *opaque, uint32_t events)
{
	struct net_pair *p = opaque;
	uint64_t expirations;

	(void)events;
	if (read(p->tx_irq_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	lock_pair(p);
	if (p->tx_irq_armed) {
		p->tx_irq_armed = false;
		p->tx_irq_held_bytes = 0;
		if (pair_usable(p) && virtq_should_notify(&p->txq->vq)) {
			virtio_interrupt_queue(p->n->env.irq, p->txq->index);
			p->stats.tx_irq_late++;
		} else {
			p->stats.tx_irq_saved++;
		}
	}
	unlock_pair(p);
}

void virtio_net_tx_irq_timer(struct virtio_net *n, unsigned int pair)
{
	if (pair < n->nr_pairs)
		pair_tx_irq_timer(&n->pairs[pair], EPOLLIN);
}

void virtio_net_pair_fd_ready(struct virtio_net *n, unsigned int pair,
			      uint32_t events)
{
	if (pair < n->nr_pairs)
		pair_fd_ready(&n->pairs[pair], events);
}

void virtio_net_fd_ready(void *opaque, uint32_t events)
{
	virtio_net_pair_fd_ready(opaque, 0, events);
}

static void net_config_write(void *dev, uint32_t off, const void *data,
			     uint32_t len)
{
	/* virtio 1.x: the MAC is read-only without CTRL_MAC_ADDR. Ignored. */
}

static void net_clear_state(struct virtio_net *n)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		struct net_pair *p = &n->pairs[i];

		p->tx_pending = false;
		p->tx_irq_held_bytes = 0;	/* an armed timer finds !usable */
		p->rx_len = 0;
		p->rx_off = 0;
		p->rx_nheads = 0;
	}
}

/* vhost=on: every pair's rings to its vhost instance, with the kick and
 * call eventfds the transport hands out. A pair not yet enabled is
 * started too; its tap queue stays detached until the driver enables it,
 * so no flow reaches it before. */
static void vhost_stop_all(struct virtio_net *n)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++)
		if (n->pairs[i].vhost)
			vhost_net_stop(n->pairs[i].vhost, &n->pairs[i].rxq->vq,
				       &n->pairs[i].txq->vq);
}

static bool vhost_start_all(struct virtio_net *n, uint64_t features)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		struct net_pair *p = &n->pairs[i];
		struct virtio_queue *q[2] = { p->rxq, p->txq };
		int kick[2], call[2];

		if (!p->vhost)
			continue;
		for (unsigned int j = 0; j < 2; j++) {
			struct virtio_queue_fds fds;
			int err = virtio_interrupt_queue_fds(n->env.irq,
							     q[j]->index, &fds);

			if (err < 0) {
				fprintf(stderr, "mmvm: net %s: no eventfds for "
					"queue %u: %s\n", n->name, q[j]->index,
					strerror(-err));
				vhost_stop_all(n);
				return false;
			}
			kick[j] = fds.kick_fd;
			call[j] = fds.call_fd;
		}
		if (vhost_net_start(p->vhost, features, &p->rxq->vq,
				    &p->txq->vq, kick, call, p->fd) < 0) {
			vhost_stop_all(n);
			return false;
		}
	}
	return true;
}

/* The transport: queue q's vector was masked, unmasked or switched while
 * vhost serves it. vhost gets the irqfd back, or the relay, which keeps a
 * masked vector's events pending in the table. Register lock held, so
 * activate() and reset() cannot run meanwhile. */
static void net_backend_irq_changed(void *dev, unsigned int q)
{
	struct virtio_net *n = dev;
	struct virtio_queue_fds fds;
	struct net_pair *p;

	if (!n->driver_ok || q >= 2 * n->nr_pairs)
		return;
	p = &n->pairs[q / 2];
	if (!p->vhost ||
	    virtio_interrupt_queue_fds(n->env.irq, q, &fds) < 0)
		return;
	/* A failure leaves the previous fd and is printed: the interrupt
	 * still arrives, at worst while the vector is masked. */
	vhost_net_set_call(p->vhost, q % 2 ? VHOST_NET_TX : VHOST_NET_RX,
			   fds.call_fd);
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
	/* The offloads are the interface's, set through any of its queues;
	 * a detached queue cannot take them, pair 0 is always attached. */
	if (n->is_tap && (err = tap_set_offloads(n->pairs[0].fd, &o)) < 0) {
		fprintf(stderr, "mmvm: net %s: cannot set tap offloads: %s\n",
			n->name, strerror(-err));
		return false;
	}
	net_clear_state(n);
	if (!vhost_start_all(n, act->features))
		return false;
	n->driver_ok = true;
	/* One pair until the driver enables more (5.1.6.5.5). */
	set_curr_pairs(n, 1);
	return true;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	n->driver_ok = false;
	n->features = 0;
	vhost_stop_all(n);
	set_curr_pairs(n, 1);
	net_clear_state(n);
}

static void net_print_stats(void *dev, const char *name, FILE *f);

/* Pair i (queues 2i, 2i+1) on worker i; the control queue (2N) has no
 * worker of its own and falls to worker 0. */
static unsigned int net_queue_worker(unsigned int q)
{
	return q / 2;
}

/* The timer for the tap queue changes the limit holds back, on worker 0
 * with the control queue. Without workers (unit tests) there is none:
 * the tests call virtio_net_attach_timer(). */
static int bind_attach_timer(struct virtio_net *n)
{
	if (!n->attach_queue || !n->env.nr_workers || n->attach_timer_fd >= 0)
		return 0;
	n->attach_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					    TFD_NONBLOCK | TFD_CLOEXEC);
	if (n->attach_timer_fd < 0) {
		fprintf(stderr, "mmvm: net %s: timerfd_create: %s\n", n->name,
			strerror(errno));
		return -1;
	}
	if (event_loop_add(n->env.workers[0], n->attach_timer_fd, EPOLLIN,
			   net_attach_timer, n) < 0) {
		fprintf(stderr, "mmvm: net %s: cannot watch the attach timer\n",
			n->name);
		return -1;
	}
	return 0;
}

/* Called once by the device manager; each pair's tap queue is watched on
 * the pair's worker. */
static int net_bind(void *dev, const struct virtio_device_env *env)
{
	struct virtio_net *n = dev;

	n->env = *env;
	if (bind_attach_timer(n) < 0)
		return -1;
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		struct net_pair *p = &n->pairs[i];

		if (2 * i + 1 >= env->nr_queues)
			break;
		p->rxq = env->queues[2 * i];
		p->txq = env->queues[2 * i + 1];
		if (p->vhost) {
			/* The tap is vhost's: only the interrupt relay of
			 * the legacy line runs here. */
			if (vhost_net_set_mem(p->vhost, p->rxq->vq.mem) < 0 ||
			    (env->nr_workers &&
			     vhost_net_bind_relay(p->vhost,
						  env->workers[i % env->nr_workers],
						  env->irq, p->rxq, p->txq) < 0))
				return -1;
			continue;
		}
		if (p->tx_irq_delay_ns && p->tx_irq_fd < 0) {
			p->tx_irq_fd = timerfd_create(CLOCK_MONOTONIC,
						      TFD_NONBLOCK |
						      TFD_CLOEXEC);
			if (p->tx_irq_fd < 0) {
				fprintf(stderr, "mmvm: --net tap=%s: "
					"timerfd_create: %s\n", n->name,
					strerror(errno));
				return -1;
			}
		}
		if (!env->nr_workers)
			continue;
		if (event_loop_add(env->workers[i % env->nr_workers], p->fd,
				   EPOLLIN | EPOLLOUT | EPOLLET, pair_fd_ready,
				   p) < 0 ||
		    (p->tx_irq_fd >= 0 &&
		     event_loop_add(env->workers[i % env->nr_workers],
				    p->tx_irq_fd, EPOLLIN, pair_tx_irq_timer,
				    p) < 0)) {
			fprintf(stderr, "mmvm: --net tap=%s: cannot watch tap "
				"queue %u\n", n->name, i);
			return -1;
		}
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
	.num_workers = 1,
	.queue_worker = net_queue_worker,
	.config_write = net_config_write,
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
	.bind = net_bind,
	.backend_irq_changed = net_backend_irq_changed,
	.print_stats = net_print_stats,
};

struct virtio_net *virtio_net_new_mq(const int *fds, unsigned int nr_pairs,
				     const uint8_t mac[6])
{
	struct virtio_net *n;

	if (nr_pairs < 1 || nr_pairs > VIRTIO_NET_MAX_PAIRS)
		return NULL;
	n = calloc(1, sizeof(*n) + nr_pairs * sizeof(n->pairs[0]));
	if (!n)
		return NULL;
	n->ops = virtio_net_ops;
	n->nr_pairs = nr_pairs;
	n->curr_pairs = 1;
	n->now_ns = monotonic_ns;
	n->attach_timer_fd = -1;
	if (nr_pairs > 1) {
		n->ops.features |= NET_MQ_FEATURES;
		n->ops.num_queues = 2 * nr_pairs + 1;
		n->ops.num_workers = nr_pairs;
	}
	for (unsigned int i = 0; i < nr_pairs; i++) {
		n->pairs[i].n = n;
		n->pairs[i].index = i;
		n->pairs[i].fd = fds[i];
		n->pairs[i].attached = true;
		n->pairs[i].tx_irq_fd = -1;
	}
	memcpy(n->config.mac, mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = (uint16_t)nr_pairs;
	snprintf(n->name, sizeof(n->name), "fd%d", fds[0]);
	return n;
}

struct virtio_net *virtio_net_new(int fd, const uint8_t mac[6])
{
	return virtio_net_new_mq(&fd, 1, mac);
}

const struct virtio_device_ops *virtio_net_device_ops(const struct virtio_net *n)
{
	return &n->ops;
}

int virtio_net_bind(struct virtio_net *n, const struct virtio_device_env *env)
{
	return net_bind(n, env);
}

const void *virtio_net_config(const struct virtio_net *n)
{
	return &n->config;
}

static void stats_add(struct virtio_net_stats *sum,
		      const struct virtio_net_stats *s)
{
	sum->tx_packets += s->tx_packets;
	sum->tx_bytes += s->tx_bytes;
	sum->tx_dropped += s->tx_dropped;
	sum->tx_eagain += s->tx_eagain;
	sum->tx_copied += s->tx_copied;
	sum->tx_irq_deferred += s->tx_irq_deferred;
	sum->tx_irq_late += s->tx_irq_late;
	sum->tx_irq_saved += s->tx_irq_saved;
	sum->tx_irq_early += s->tx_irq_early;
	sum->rx_packets += s->rx_packets;
	sum->rx_bytes += s->rx_bytes;
	sum->rx_dropped += s->rx_dropped;
	sum->rx_stalls += s->rx_stalls;
	sum->bad_chains += s->bad_chains;
	sum->broken_rings += s->broken_rings;
}

/* --stats: read at exit, after the workers have stopped. Totals, then
 * per pair the packets each way when there are several. */
static void net_print_stats(void *dev, const char *name, FILE *f)
{
	struct virtio_net *n = dev;
	const struct virtio_net_stats *s = virtio_net_get_stats(n);
	const struct { const char *key; uint64_t v; } rows[] = {
		{ "tx_packets", s->tx_packets }, { "tx_bytes", s->tx_bytes },
		{ "tx_dropped", s->tx_dropped }, { "tx_eagain", s->tx_eagain },
		{ "tx_copied", s->tx_copied },
		{ "tx_irq_deferred", s->tx_irq_deferred },
		{ "tx_irq_late", s->tx_irq_late },
		{ "tx_irq_saved", s->tx_irq_saved },
		{ "tx_irq_early", s->tx_irq_early },
		{ "rx_packets", s->rx_packets }, { "rx_bytes", s->rx_bytes },
		{ "rx_dropped", s->rx_dropped }, { "rx_stalls", s->rx_stalls },
		{ "bad_chains", s->bad_chains },
		{ "broken_rings", s->broken_rings },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(f, "%s.net_%s %" PRIu64 "\n", name, rows[i].key,
			rows[i].v);
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		char pname[64];

		if (!n->pairs[i].vhost)
			continue;
		if (i == 0)
			snprintf(pname, sizeof(pname), "%s", name);
		else
			snprintf(pname, sizeof(pname), "%s.pair%u", name, i);
		vhost_net_print_stats(n->pairs[i].vhost, pname, f);
	}
	for (unsigned int i = 0; virtio_queue_poll_on(&n->pairs[0].poll) &&
	     i < n->nr_pairs; i++)
		virtio_queue_poll_print(&n->pairs[i].poll, name, "net", i, f);
	if (n->nr_pairs == 1)
		return;
	fprintf(f, "%s.net_pairs %u\n", name, n->nr_pairs);
	/* Enabled now (at exit: 1 after the guest's reset) and at most. */
	fprintf(f, "%s.net_pairs_enabled %u\n", name, n->curr_pairs);
	fprintf(f, "%s.net_pairs_enabled_max %u\n", name,
		n->max_pairs_enabled);
	fprintf(f, "%s.net_ctrl_commands %" PRIu64 "\n", name,
		n->ctrl_commands);
	fprintf(f, "%s.net_ctrl_errors %" PRIu64 "\n", name, n->ctrl_errors);
	fprintf(f, "%s.net_ctrl_broken %" PRIu64 "\n", name, n->ctrl_broken);
	fprintf(f, "%s.net_pairs_set_coalesced %" PRIu64 "\n", name,
		n->pairs_coalesced);
	/* TUNSETQUEUE calls made, and syncs the limit held back. */
	fprintf(f, "%s.net_tap_attach_calls %" PRIu64 "\n", name,
		n->attach_calls);
	fprintf(f, "%s.net_tap_attach_deferred %" PRIu64 "\n", name,
		n->attach_deferred);
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		fprintf(f, "%s.net_tx_packets_%u %" PRIu64 "\n", name, i,
			n->pairs[i].stats.tx_packets);
		fprintf(f, "%s.net_rx_packets_%u %" PRIu64 "\n", name, i,
			n->pairs[i].stats.rx_packets);
	}
}

void virtio_net_set_poll(struct virtio_net *n, unsigned int poll_us,
			 bool adaptive)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++)
		virtio_queue_poll_init(&n->pairs[i].poll, poll_us, adaptive);
}

void virtio_net_set_poll_budget(struct virtio_net *n, uint64_t budget_ns,
				uint64_t period_ns)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		n->pairs[i].poll.budget_ns = budget_ns;
		n->pairs[i].poll.period_ns = period_ns;
	}
}

void virtio_net_set_tx_irq_delay(struct virtio_net *n, unsigned int delay_us,
				 bool adaptive)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		n->pairs[i].tx_irq_delay_ns = (uint64_t)delay_us * 1000;
		n->pairs[i].tx_irq_auto = adaptive;
	}
}

const struct virtio_queue_poll *virtio_net_get_poll(const struct virtio_net *n,
						    unsigned int pair)
{
	return pair < n->nr_pairs ? &n->pairs[pair].poll : NULL;
}

/* The pairs' counters summed (for tests and --stats; not thread-safe
 * while the workers run). */
const struct virtio_net_stats *virtio_net_get_stats(struct virtio_net *n)
{
	memset(&n->stats_sum, 0, sizeof(n->stats_sum));
	for (unsigned int i = 0; i < n->nr_pairs; i++)
		stats_add(&n->stats_sum, &n->pairs[i].stats);
	return &n->stats_sum;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		if (n->pairs[i].vhost)
			vhost_net_close(n->pairs[i].vhost);
		if (n->pairs[i].tx_irq_fd >= 0)
			close(n->pairs[i].tx_irq_fd);
	}
	if (n->attach_timer_fd >= 0)
		close(n->attach_timer_fd);
	free(n);
}

/* Opens the tap's queues: one plain fd for one pair, or nr fds of a
 * multi-queue tap, of which only the first stays attached until the
 * driver enables more. */
static int open_tap_queues(const struct net_config *nc, unsigned int nr,
			   int *fds)
{
	for (unsigned int i = 0; i < nr; i++) {
		fds[i] = tap_open(nc->tap, nr > 1);
		if (fds[i] < 0) {
			int err = -fds[i];

			if (nr > 1 && err == EINVAL)
				fprintf(stderr, "mmvm: --net tap=%s,queues=%u: "
					"tap is not multi-queue (create it "
					"with 'ip tuntap add %s mode tap "
					"multi_queue', or let mmvm create it)"
					"\n", nc->tap, nr, nc->tap);
			else
				fprintf(stderr, "mmvm: --net tap=%s: cannot "
					"open tap%s: %s\n", nc->tap,
					nr > 1 ? " queue" : "", strerror(err));
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
	}
	for (unsigned int i = 1; i < nr; i++) {
		int err = tap_attach_queue(fds[i], false);

		if (err < 0) {
			fprintf(stderr, "mmvm: --net tap=%s: cannot detach tap "
				"queue %u: %s\n", nc->tap, i, strerror(-err));
			for (unsigned int j = 0; j < nr; j++)
				close(fds[j]);
			return -1;
		}
	}
	return 0;
}

/* vhost=on: one /dev/vhost-net per pair (opened now, while mmvm may),
 * the features cut to what vhost carries, the data queues handed to it:
 * only the control queue stays in mmvm. */
static int vhost_attach(struct virtio_net *n, const struct net_config *nc)
{
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		n->pairs[i].vhost = vhost_net_open(nc->tap);
		if (!n->pairs[i].vhost)
			return -1;
		n->ops.backend_queues |= 3u << (2 * i);
	}
	n->ops.features &= vhost_net_features(n->pairs[0].vhost);
	return 0;
}

int virtio_net_make(const struct net_config *nc, unsigned int index,
		    struct virtio_device_spec *spec)
{
	uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)index };
	unsigned int nr = nc->queues ? nc->queues : 1;
	int fds[VIRTIO_NET_MAX_PAIRS];
	struct virtio_net *n;

	if (nc->mac_set)
		memcpy(mac, nc->mac, sizeof(mac));
	if (nr > VIRTIO_NET_MAX_PAIRS) {
		fprintf(stderr, "mmvm: --net tap=%s: %u queue pairs, at most "
			"%u\n", nc->tap, nr, VIRTIO_NET_MAX_PAIRS);
		return -1;
	}
	if (open_tap_queues(nc, nr, fds) < 0)
		return -1;
	n = virtio_net_new_mq(fds, nr, mac);
	if (!n) {
		fprintf(stderr, "mmvm: --net tap=%s: out of memory\n", nc->tap);
		for (unsigned int i = 0; i < nr; i++)
			close(fds[i]);
		return -1;
	}
	n->is_tap = true;
	if (nr > 1)
		n->attach_queue = tap_attach_queue;
	for (unsigned int i = 1; i < nr; i++)
		n->pairs[i].attached = false;
	snprintf(n->name, sizeof(n->name), "%s", nc->tap);
	virtio_net_set_poll(n, nc->poll_us, nc->poll_adaptive);
	virtio_net_set_tx_irq_delay(n, nc->tx_irq_delay_us,
				    nc->tx_irq_delay_auto);
	if (nc->vhost && vhost_attach(n, nc) < 0) {
		for (unsigned int i = 0; i < nr; i++)
			close(fds[i]);
		virtio_net_free(n);
		return -1;
	}
	*spec = (struct virtio_device_spec){
		.ops = &n->ops, .dev = n, .config = &n->config,
	};
	return 0;
}

void virtio_net_get_ctrl_stats(const struct virtio_net *n,
			       struct virtio_net_ctrl_stats *st)
{
	st->attach_calls = n->attach_calls;
	st->attach_deferred = n->attach_deferred;
	st->pairs_coalesced = n->pairs_coalesced;
	st->ctrl_broken = n->ctrl_broken;
	st->curr_pairs = n->curr_pairs;
}
