/* vhost-net backend: one /dev/vhost-net instance per queue pair; see
 * vhost_net.h for who calls what, when. */
#include "devices/vhost_net.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/event_loop.h"

#define BIT(n) (1ULL << (n))

/* Ring features the transport always offers (virtio_mmio_offered_features):
 * vhost must implement them to serve the rings at all. */
#define VHOST_NET_RING_NEEDED (BIT(VIRTIO_RING_F_EVENT_IDX) |		\
			       BIT(VIRTIO_RING_F_INDIRECT_DESC) |	\
			       BIT(VIRTIO_F_VERSION_1))
/* Device-specific feature bits (virtio 1.2 6: 0 to 23). */
#define DEVICE_BITS ((1ULL << 24) - 1)

struct vhost_net_relay {
	struct vhost_net *vn;
	struct virtio_queue *queue;
	int fd;			/* eventfd vhost signals; -1 unbound */
	uint64_t wakeups;	/* worker wake-ups ... */
	uint64_t signals;	/* ... that signalled a usable queue */
};

struct vhost_net {
	int fd;
	char what[48];		/* "--net tap=NAME,vhost=on" for messages */
	uint64_t features;	/* VHOST_GET_FEATURES */
	bool mem_set;
	bool started[2];	/* has a backend, by VHOST_NET_RX/_TX */
	bool relayed[2];	/* the call fd is the relay now */
	uint64_t call_switches[2];	/* vhost_net_set_call()s */
	struct virtio_interrupt *irq;
	struct vhost_net_relay relay[2];
	uint64_t starts, stops, start_errors;
};

static int fail(const struct vhost_net *vn, const char *what, int err)
{
	fprintf(stderr, "mmvm: %s: %s: %s\n", vn->what, what, strerror(err));
	return -err;
}

struct vhost_net *vhost_net_open(const char *tap_name)
{
	return vhost_net_open_path(VHOST_NET_DEV_PATH, tap_name);
}

struct vhost_net *vhost_net_open_path(const char *path, const char *tap_name)
{
	struct vhost_net *vn = calloc(1, sizeof(*vn));
	char what[96];

	if (!vn) {
		fprintf(stderr, "mmvm: --net tap=%s,vhost=on: out of memory\n",
			tap_name);
		return NULL;
	}
	snprintf(vn->what, sizeof(vn->what), "--net tap=%s,vhost=on",
		 tap_name);
	vn->relay[0].fd = vn->relay[1].fd = -1;
	vn->fd = open(path, O_RDWR | O_CLOEXEC);
	if (vn->fd < 0) {
		snprintf(what, sizeof(what), "cannot open %s", path);
		fail(vn, what, errno);
		free(vn);
		return NULL;
	}
	/* The owner is this process (its mm: the guest RAM mapping); the
	 * kernel's vhost worker thread acts in its name. */
	if (ioctl(vn->fd, VHOST_SET_OWNER) < 0) {
		fail(vn, "VHOST_SET_OWNER", errno);
		goto out;
	}
	if (ioctl(vn->fd, VHOST_GET_FEATURES, &vn->features) < 0) {
		fail(vn, "VHOST_GET_FEATURES", errno);
		goto out;
	}
	if ((vn->features & VHOST_NET_RING_NEEDED) != VHOST_NET_RING_NEEDED) {
		fprintf(stderr, "mmvm: %s: %s lacks a ring feature mmvm offers "
			"(features 0x%" PRIx64 ")\n", vn->what, path,
			vn->features);
		goto out;
	}
	return vn;
out:
	close(vn->fd);
	free(vn);
	return NULL;
}

void vhost_net_close(struct vhost_net *vn)
{
	if (!vn)
		return;
	for (int i = 0; i < 2; i++)
		if (vn->relay[i].fd >= 0)
			close(vn->relay[i].fd);
	close(vn->fd);
	free(vn);
}

uint64_t vhost_net_mask_features(uint64_t vhost_features)
{
	uint64_t mask = DEVICE_BITS;

	if (!(vhost_features & BIT(VIRTIO_NET_F_MRG_RXBUF)))
		mask &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	return mask | (vhost_features & VHOST_NET_RING_NEEDED);
}

uint64_t vhost_net_features(const struct vhost_net *vn)
{
	return vhost_net_mask_features(vn->features);
}

uint64_t vhost_net_ack_features(uint64_t vhost_features, uint64_t acked)
{
	/* Without VHOST_NET_F_VIRTIO_NET_HDR vhost adds no header of its
	 * own: the guest's 12 bytes go to the tap as they are (its
	 * TUNSETVNETHDRSZ). Dirty logging is for migration. */
	return acked & vhost_features &
	       ~(BIT(VHOST_NET_F_VIRTIO_NET_HDR) | BIT(VHOST_F_LOG_ALL));
}

struct vhost_memory *vhost_net_mem_table(const struct guest_mem *mem)
{
	struct vhost_memory *m;

	m = calloc(1, sizeof(*m) +
		   mem->nr_regions * sizeof(struct vhost_memory_region));
	if (!m)
		return NULL;
	m->nregions = mem->nr_regions;
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		m->regions[i].guest_phys_addr = r->gpa;
		m->regions[i].memory_size = r->size;
		m->regions[i].userspace_addr = (uint64_t)(uintptr_t)r->hva;
	}
	return m;
}

int vhost_net_set_mem(struct vhost_net *vn, const struct guest_mem *mem)
{
	struct vhost_memory *m = vhost_net_mem_table(mem);
	int ret = 0;

	if (!m)
		return fail(vn, "memory table", ENOMEM);
	if (ioctl(vn->fd, VHOST_SET_MEM_TABLE, m) < 0)
		ret = fail(vn, "VHOST_SET_MEM_TABLE", errno);
	free(m);
	vn->mem_set = !ret;
	return ret;
}

/* Worker: vhost wants the driver interrupted for this queue. The queue's
 * lock keeps a reset from coming between the check and the signal; after
 * a reset the queue is not usable and the wake-up is dropped. */
static void on_relay(void *opaque, uint32_t events)
{
	struct vhost_net_relay *r = opaque;
	uint64_t n;

	if (read(r->fd, &n, sizeof(n)) != sizeof(n))
		return;
	r->wakeups++;
	if (!virtio_queue_begin(r->queue))
		return;
	r->signals++;
	virtio_interrupt_queue(r->vn->irq, r->queue->index);
	virtio_queue_end(r->queue);
}

int vhost_net_bind_relay(struct vhost_net *vn, struct event_loop *loop,
			 struct virtio_interrupt *irq, struct virtio_queue *rx,
			 struct virtio_queue *tx)
{
	struct virtio_queue *q[2] = { [VHOST_NET_RX] = rx, [VHOST_NET_TX] = tx };

	vn->irq = irq;
	for (int i = 0; i < 2; i++) {
		struct vhost_net_relay *r = &vn->relay[i];

		r->vn = vn;
		r->queue = q[i];
		r->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (r->fd < 0) {
			fail(vn, "eventfd", errno);
			return -1;
		}
		if (loop && event_loop_add(loop, r->fd, EPOLLIN, on_relay,
					   r) < 0) {
			fprintf(stderr, "mmvm: %s: cannot watch the interrupt "
				"relay on the device's worker\n", vn->what);
			return -1;
		}
	}
	return 0;
}

static int vring_ioctl(struct vhost_net *vn, unsigned long req,
		       const char *name, unsigned int idx, void *arg)
{
	char what[64];

	if (ioctl(vn->fd, req, arg) >= 0)
		return 0;
	snprintf(what, sizeof(what), "%s (%s queue)", name,
		 idx == VHOST_NET_RX ? "rx" : "tx");
	return fail(vn, what, errno);
}

static int start_ring(struct vhost_net *vn, unsigned int idx,
		      const struct virtqueue *vq, int kick_fd, int call_fd)
{
	struct vhost_vring_state num = { .index = idx, .num = vq->size };
	struct vhost_vring_state base = {
		.index = idx, .num = vq->last_avail_idx,
	};
	/* The host views virtq_activate() checked against guest RAM: vhost
	 * translates them back through the memory table. */
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
		.used_user_addr = (uint64_t)(uintptr_t)vq->used_hdr,
	};
	struct vhost_vring_file kick = { .index = idx, .fd = kick_fd };
	struct vhost_vring_file call = { .index = idx, .fd = call_fd };
	int ret;

	if ((ret = vring_ioctl(vn, VHOST_SET_VRING_NUM, "VHOST_SET_VRING_NUM",
			       idx, &num)) ||
	    (ret = vring_ioctl(vn, VHOST_SET_VRING_BASE,
			       "VHOST_SET_VRING_BASE", idx, &base)) ||
	    (ret = vring_ioctl(vn, VHOST_SET_VRING_ADDR,
			       "VHOST_SET_VRING_ADDR", idx, &addr)) ||
	    (ret = vring_ioctl(vn, VHOST_SET_VRING_KICK,
			       "VHOST_SET_VRING_KICK", idx, &kick)) ||
	    (ret = vring_ioctl(vn, VHOST_SET_VRING_CALL,
			       "VHOST_SET_VRING_CALL", idx, &call)))
		return ret;
	return 0;
}

int vhost_net_start(struct vhost_net *vn, uint64_t acked,
		    struct virtqueue *rx, struct virtqueue *tx,
		    const int kick_fd[2], const int call_fd[2], int tap_fd)
{
	struct virtqueue *vq[2] = { [VHOST_NET_RX] = rx, [VHOST_NET_TX] = tx };
	uint64_t features = vhost_net_ack_features(vn->features, acked);
	int ret;

	vhost_net_stop(vn, rx, tx);
	if (!vn->mem_set) {
		ret = fail(vn, "start before the memory table", EINVAL);
		goto err;
	}
	if (ioctl(vn->fd, VHOST_SET_FEATURES, &features) < 0) {
		ret = fail(vn, "VHOST_SET_FEATURES", errno);
		goto err;
	}
	for (unsigned int i = 0; i < 2; i++) {
		int call = call_fd[i];

		if (!vq[i] || !vq[i]->ready || !vq[i]->desc)
			continue;
		vn->relayed[i] = call < 0;
		if (call < 0)
			call = vn->relay[i].fd;
		if (call < 0 || kick_fd[i] < 0) {
			ret = fail(vn, call < 0 ? "no interrupt relay bound" :
				   "no kick eventfd", EINVAL);
			goto err;
		}
		ret = start_ring(vn, i, vq[i], kick_fd[i], call);
		if (ret)
			goto err;
	}
	/* Last: from here on vhost moves packets. */
	for (unsigned int i = 0; i < 2; i++) {
		struct vhost_vring_file backend = { .index = i, .fd = tap_fd };

		if (!vq[i] || !vq[i]->ready || !vq[i]->desc)
			continue;
		ret = vring_ioctl(vn, VHOST_NET_SET_BACKEND,
				  "VHOST_NET_SET_BACKEND", i, &backend);
		if (ret)
			goto err;
		vn->started[i] = true;
	}
	vn->starts++;
	return 0;
err:
	vn->start_errors++;
	vhost_net_stop(vn, rx, tx);
	return ret;
}

void vhost_net_stop(struct vhost_net *vn, struct virtqueue *rx,
		    struct virtqueue *tx)
{
	struct virtqueue *vq[2] = { [VHOST_NET_RX] = rx, [VHOST_NET_TX] = tx };
	bool any = false;

	for (unsigned int i = 0; i < 2; i++) {
		struct vhost_vring_file backend = { .index = i, .fd = -1 };

		if (!vn->started[i])
			continue;
		/* Waits for vhost's worker to finish what it had begun: no
		 * ring access after this returns. */
		vring_ioctl(vn, VHOST_NET_SET_BACKEND, "VHOST_NET_SET_BACKEND",
			    i, &backend);
		any = true;
	}
	for (unsigned int i = 0; i < 2; i++) {
		struct vhost_vring_state base = { .index = i };

		if (!vn->started[i])
			continue;
		vn->started[i] = false;
		if (vring_ioctl(vn, VHOST_GET_VRING_BASE,
				"VHOST_GET_VRING_BASE", i, &base) || !vq[i])
			continue;
		/* Where vhost left the ring, should mmvm carry on with it:
		 * its next avail entry, the used idx it published, and no
		 * notion of what the driver was last told. */
		vq[i]->last_avail_idx = (uint16_t)base.num;
		if (vq[i]->used_hdr)
			vq[i]->used_idx = __atomic_load_n(&vq[i]->used_hdr[1],
							  __ATOMIC_ACQUIRE);
		vq[i]->signalled_used_valid = false;
	}
	if (any)
		vn->stops++;
}

int vhost_net_set_call(struct vhost_net *vn, unsigned int idx, int call_fd)
{
	struct vhost_vring_file call = { .index = idx, .fd = call_fd };
	int ret;

	if (idx > VHOST_NET_TX || !vn->started[idx])
		return 0;
	if (call_fd < 0)
		call.fd = vn->relay[idx].fd;
	if (call.fd < 0)
		return fail(vn, "no interrupt relay bound", EINVAL);
	/* vhost signals the new fd from the moment this returns. */
	ret = vring_ioctl(vn, VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL",
			  idx, &call);
	if (ret)
		return ret;
	vn->relayed[idx] = call_fd < 0;
	vn->call_switches[idx]++;
	return 0;
}

bool vhost_net_running(const struct vhost_net *vn)
{
	return vn->started[VHOST_NET_RX] || vn->started[VHOST_NET_TX];
}

void vhost_net_print_stats(const struct vhost_net *vn, const char *name,
			   FILE *f)
{
	static const char *const q[2] = { "rx", "tx" };

	fprintf(f, "%s.vhost_starts %" PRIu64 "\n", name, vn->starts);
	fprintf(f, "%s.vhost_stops %" PRIu64 "\n", name, vn->stops);
	if (vn->start_errors)
		fprintf(f, "%s.vhost_start_errors %" PRIu64 "\n", name,
			vn->start_errors);
	for (int i = 0; i < 2; i++) {
		/* 1: its interrupts came through the relay, 0: vhost
		 * wrote the MSI irqfd itself (not counted by anyone). */
		fprintf(f, "%s.vhost_%s_relayed %d\n", name, q[i],
			vn->relayed[i] ? 1 : 0);
		fprintf(f, "%s.vhost_%s_relay_wakeups %" PRIu64 "\n", name,
			q[i], vn->relay[i].wakeups);
		fprintf(f, "%s.vhost_%s_relay_signals %" PRIu64 "\n", name,
			q[i], vn->relay[i].signals);
		fprintf(f, "%s.vhost_%s_call_switches %" PRIu64 "\n", name,
			q[i], vn->call_switches[i]);
	}
}
