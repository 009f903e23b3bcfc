/* virtio-mmio transport, device side: the register file (virtio 1.2 4.2.2)
 * and page 1 of the window: the feature-bit layout's MSI registers
 * (docs/virtio-mmio-msi.md) and the doorbells of both MSI layouts. What
 * the MSI registers do is in msi_table.c; this file decodes the access
 * and drives the table. The lock rules are at the top of mmio_transport.h.
 *
 * Every access is judged here: registers are 32 bits wide and 4-byte
 * aligned (the two v3 MSI registers at 0x0c0/0x0c2 are 16 bits), config
 * space takes 1, 2, 4 (or aligned 8) bytes. Anything else reads 0, is ignored on
 * write and is counted in stats.invalid; the guest cannot make us fail.
 */
#include <errno.h>
#include <string.h>

#include "virtio/mmio_transport.h"

#define STATUS_ALL_BITS	0xff

static void lock(struct virtio_mmio_dev *t)
{
	pthread_mutex_lock(&t->lock);
}

static void unlock(struct virtio_mmio_dev *t)
{
	pthread_mutex_unlock(&t->lock);
}

static void irq_lock(struct virtio_mmio_dev *t)
{
	pthread_mutex_lock(&t->irq_lock);
}

static void irq_unlock(struct virtio_mmio_dev *t)
{
	pthread_mutex_unlock(&t->irq_lock);
}

/* Device status: read anywhere (atomically), changed under irq_lock. */
static uint32_t status(const struct virtio_mmio_dev *t)
{
	return __atomic_load_n(&t->status, __ATOMIC_ACQUIRE);
}

static void set_status(struct virtio_mmio_dev *t, uint32_t val)
{
	__atomic_store_n(&t->status, val, __ATOMIC_RELEASE);
}

/* Every queue's lock, in index order (activation and reset). */
static void lock_queues(struct virtio_mmio_dev *t)
{
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		pthread_mutex_lock(&t->queues[i].lock);
}

static void unlock_queues(struct virtio_mmio_dev *t)
{
	for (unsigned int i = VIRTIO_MMIO_MAX_QUEUES; i-- > 0;)
		pthread_mutex_unlock(&t->queues[i].lock);
}

unsigned int virtio_mmio_num_queues(const struct virtio_mmio_dev *t)
{
	return t->ops->num_queues < VIRTIO_MMIO_MAX_QUEUES ?
	       t->ops->num_queues : VIRTIO_MMIO_MAX_QUEUES;
}

unsigned int virtio_mmio_num_vectors(const struct virtio_mmio_dev *t)
{
	if (!t->cfg.msi)
		return 0;
	return virtio_mmio_num_queues(t) + 1;
}

bool virtio_mmio_has_doorbells(const struct virtio_mmio_dev *t)
{
	return !t->cfg.no_doorbells;
}

static bool is_v3(const struct virtio_mmio_dev *t)
{
	return t->cfg.version == 3;
}

/* The transport's own feature bits: the ring features it implements and,
 * in the feature-bit layout, MSI and doorbells. */
static uint64_t transport_features(const struct virtio_mmio_dev *t)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_EVENT_IDX) |
		     (1ULL << VIRTIO_F_INDIRECT_DESC);

	if (!is_v3(t) && virtio_mmio_num_vectors(t))
		f |= 1ULL << VIRTIO_F_MMIO_MSI;
	if (!is_v3(t) && virtio_mmio_has_doorbells(t))
		f |= 1ULL << VIRTIO_F_MMIO_DOORBELLS;
	return f;
}

uint64_t virtio_mmio_offered_features(const struct virtio_mmio_dev *t)
{
	/* A device model's bits in the transport's range are not its own. */
	return (t->ops->features & ~((1ULL << VIRTIO_F_MMIO_MSI) |
				     (1ULL << VIRTIO_F_MMIO_DOORBELLS))) |
	       transport_features(t);
}

/* Has the driver accepted feature bit (and the device FEATURES_OK)? The
 * page-1 registers of the feature-bit layout answer only then. */
static bool accepted(const struct virtio_mmio_dev *t, unsigned int bit)
{
	return (status(t) & VIRTIO_STATUS_FEATURES_OK) &&
	       (t->driver_features & (1ULL << bit));
}

static uint32_t queue_num_max(const struct virtio_mmio_dev *t)
{
	return t->ops->queue_max < VIRTQ_MAX_SIZE ? t->ops->queue_max :
	       VIRTQ_MAX_SIZE;
}

uint64_t virtio_mmio_window_size(const struct virtio_mmio_dev *t)
{
	if (is_v3(t))
		return VIRTIO_MMIO_V3_WINDOW;
	if (virtio_mmio_num_vectors(t) || virtio_mmio_has_doorbells(t))
		return VIRTIO_MMIO_EXT_WINDOW;
	return VIRTIO_MMIO_V2_WINDOW;
}

static uint64_t doorbell_base(const struct virtio_mmio_dev *t)
{
	return is_v3(t) ? VIRTIO_MMIO_DOORBELL_BASE :
	       VIRTIO_MMIO_EXT_DOORBELL_BASE;
}

uint64_t virtio_mmio_doorbell_offset(const struct virtio_mmio_dev *t,
				     unsigned int q)
{
	return doorbell_base(t) + (uint64_t)VIRTIO_MMIO_DOORBELL_SCALE * q;
}

/* The doorbell layout register value: base | scale << 16, 0 = none. */
static uint32_t doorbell_layout(const struct virtio_mmio_dev *t)
{
	if (!virtio_mmio_has_doorbells(t))
		return 0;
	return (VIRTIO_MMIO_DOORBELL_SCALE << 16) | (uint32_t)doorbell_base(t);
}

/* The MSI table's host: the transport's own host, vector for vector. */
static int table_route(void *opaque, unsigned int vector, bool valid,
		       uint64_t addr, uint32_t data)
{
	struct virtio_mmio_dev *t = opaque;

	if (!t->host_ops->msi_route)
		return 0;
	return t->host_ops->msi_route(t->host, vector, valid, addr, data);
}

static void table_fire(void *opaque, unsigned int vector)
{
	struct virtio_mmio_dev *t = opaque;

	if (t->host_ops->msi_fire)
		t->host_ops->msi_fire(t->host, vector);
}

static void irq_queue(void *opaque, unsigned int q)
{
	virtio_mmio_signal_queue(opaque, q);
}

static void irq_config(void *opaque)
{
	virtio_mmio_signal_config(opaque);
}

static void irq_needs_reset(void *opaque)
{
	virtio_mmio_set_needs_reset(opaque);
}

static void signal_config_irqlocked(struct virtio_mmio_dev *t);

static void irq_config_update(void *opaque, uint32_t off, const void *data,
			      uint32_t len)
{
	struct virtio_mmio_dev *t = opaque;

	if (off >= sizeof(t->config) || len > sizeof(t->config) - off)
		return;
	irq_lock(t);
	memcpy(t->config + off, data, len);
	signal_config_irqlocked(t);
	irq_unlock(t);
}

/* May backend queue q's backend write its vector's irqfd directly? Only
 * if the driver has MSI on and the vector programmed and unmasked: the
 * irqfd bypasses the table, so a masked or unprogrammed vector (its
 * events must stay pending) is left to the device's relay, which signals
 * through the table. Under irq_lock. */
static bool backend_direct_irqlocked(const struct virtio_mmio_dev *t,
				     unsigned int q)
{
	const struct msi_vector *v;

	if (!t->msi.enabled || q + 1 >= t->msi.nr)
		return false;
	v = &t->msi.vectors[q + 1];
	return v->programmed && !v->masked;
}

/* Bit q: backend queue q may be signalled directly now. Under irq_lock. */
static uint32_t backend_direct_set_irqlocked(const struct virtio_mmio_dev *t)
{
	uint32_t set = 0;

	for (unsigned int q = 0; q < virtio_mmio_num_queues(t); q++)
		if ((t->ops->backend_queues & (1u << q)) &&
		    backend_direct_irqlocked(t, q))
			set |= 1u << q;
	return set;
}

/* After an MSI register write (register lock held, irq_lock not): the
 * backend queues whose answer to backend_direct changed get their call
 * fd swapped by the device, so that vhost never writes the irqfd of a
 * masked vector and takes the irqfd again at UNMASK. Before DRIVER_OK
 * there is no backend to tell: activate() fetches the fds. */
static void backend_irq_changed(struct virtio_mmio_dev *t, uint32_t changed)
{
	if (!changed || !t->ops->backend_irq_changed ||
	    !(status(t) & VIRTIO_STATUS_DRIVER_OK))
		return;
	for (unsigned int q = 0; q < virtio_mmio_num_queues(t); q++)
		if (changed & (1u << q)) {
			t->stats.backend_irq_changes++;
			t->ops->backend_irq_changed(t->dev, q);
		}
}

/* A backend queue's eventfds (virtio_interrupt_queue_fds()); the call fd
 * is the vector's irqfd only while backend_direct says so. */
static int irq_queue_fds(void *opaque, unsigned int q,
			 struct virtio_queue_fds *fds)
{
	struct virtio_mmio_dev *t = opaque;
	int vector = -1;

	if (q >= virtio_mmio_num_queues(t) ||
	    !(t->ops->backend_queues & (1u << q)))
		return -EINVAL;
	if (!t->host_ops->backend_fds)
		return -EOPNOTSUPP;
	irq_lock(t);
	if (backend_direct_irqlocked(t, q))
		vector = (int)(q + 1);
	irq_unlock(t);
	return t->host_ops->backend_fds(t->host, q, vector, fds);
}

static const struct virtio_interrupt_ops interrupt_ops = {
	.queue = irq_queue,
	.config = irq_config,
	.needs_reset = irq_needs_reset,
	.config_update = irq_config_update,
	.queue_fds = irq_queue_fds,
};

void virtio_mmio_init(struct virtio_mmio_dev *t,
		      const struct virtio_mmio_config *cfg,
		      const struct virtio_device_ops *ops, void *dev,
		      const struct virtio_mmio_host_ops *host_ops, void *host,
		      const struct guest_mem *mem)
{
	const struct msi_table_host table_host = {
		.route = table_route, .fire = table_fire, .opaque = t,
	};

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->irq_lock, NULL);
	t->cfg = *cfg;
	if (t->cfg.version != 3 || t->cfg.oasis_v3)
		t->cfg.version = 2;	/* 3-oasis: version 2's layout */
	t->ops = ops;
	t->dev = dev;
	t->host_ops = host_ops;
	t->host = host;
	t->mem = mem;
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &t->queues[i];

		pthread_mutex_init(&q->lock, NULL);
		q->vq.mem = mem;
		q->index = i;
		q->device_status = &t->status;
	}
	t->irq.ops = &interrupt_ops;
	t->irq.opaque = t;
	virtio_mmio_set_name(t, ops->name ? ops->name : "virtio");
	msi_table_init(&t->msi, virtio_mmio_num_vectors(t), !is_v3(t),
		       t->name, &table_host);
}

void virtio_mmio_destroy(struct virtio_mmio_dev *t)
{
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		pthread_mutex_destroy(&t->queues[i].lock);
	pthread_mutex_destroy(&t->irq_lock);
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_set_config(struct virtio_mmio_dev *t, const void *config)
{
	uint32_t len = t->ops->config_len < sizeof(t->config) ?
		       t->ops->config_len : sizeof(t->config);

	irq_lock(t);
	memset(t->config, 0, sizeof(t->config));
	if (config)
		memcpy(t->config, config, len);
	irq_unlock(t);
}

struct virtio_interrupt *virtio_mmio_interrupt(struct virtio_mmio_dev *t)
{
	return &t->irq;
}

void virtio_mmio_device_env(struct virtio_mmio_dev *t,
			    struct virtio_device_env *env)
{
	memset(env, 0, sizeof(*env));
	env->irq = &t->irq;
	env->nr_queues = virtio_mmio_num_queues(t);
	for (unsigned int i = 0; i < env->nr_queues; i++)
		env->queues[i] = &t->queues[i];
}

void virtio_mmio_set_name(struct virtio_mmio_dev *t, const char *name)
{
	snprintf(t->name, sizeof(t->name), "%s", name);
}

/* Status write 0: back to the state after power-on, except that the config
 * generation keeps counting (a driver may still hold an old value). Every
 * queue's lock is held while the device forgets its queues, so no worker
 * is in the middle of one, and irq_lock while the status and interrupt
 * state go, so nothing decided before the reset lands after it. */
static void device_reset(struct virtio_mmio_dev *t)
{
	t->stats.resets++;
	lock_queues(t);
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		virtq_reset(&t->queues[i].vq);
		t->queues[i].live = false;
	}
	irq_lock(t);
	set_status(t, 0);
	t->interrupt_status = 0;
	msi_table_reset(&t->msi);
	irq_unlock(t);
	unlock_queues(t);
	t->dev_features_sel = 0;
	t->drv_features_sel = 0;
	t->driver_features = 0;
	t->queue_sel = 0;
}

/* InterruptStatus |= bits, and the line asserted for them (irq_lock). */
static void raise_line(struct virtio_mmio_dev *t, uint32_t bits)
{
	t->interrupt_status |= bits;
	t->stats.irqs_legacy++;
	if (t->host_ops->legacy_raise)
		t->host_ops->legacy_raise(t->host);
}

static void signal_config_irqlocked(struct virtio_mmio_dev *t)
{
	t->config_generation++;
	if (t->msi.enabled) {
		msi_table_signal(&t->msi, 0);
		return;
	}
	raise_line(t, 2);
}

static void needs_reset_irqlocked(struct virtio_mmio_dev *t)
{
	set_status(t, status(t) | VIRTIO_STATUS_NEEDS_RESET);
	if (status(t) & VIRTIO_STATUS_DRIVER_OK)
		signal_config_irqlocked(t);
}

/* What a call into the MSI table asks for (irq_lock held). */
static bool msi_result(struct virtio_mmio_dev *t, enum msi_result r)
{
	if (r == MSI_ROUTE_FAILED)
		needs_reset_irqlocked(t);
	return r == MSI_OK;
}

void virtio_mmio_signal_queue(struct virtio_mmio_dev *t, unsigned int q)
{
	if (q >= virtio_mmio_num_queues(t))
		return;
	irq_lock(t);
	if (t->msi.enabled)
		msi_table_signal(&t->msi, q + 1);
	else
		raise_line(t, 1);
	irq_unlock(t);
}

void virtio_mmio_signal_config(struct virtio_mmio_dev *t)
{
	irq_lock(t);
	signal_config_irqlocked(t);
	irq_unlock(t);
}

void virtio_mmio_set_needs_reset(struct virtio_mmio_dev *t)
{
	irq_lock(t);
	needs_reset_irqlocked(t);
	irq_unlock(t);
}

static bool features_acceptable(const struct virtio_mmio_dev *t)
{
	uint64_t f = t->driver_features;

	return !(f & ~virtio_mmio_offered_features(t)) &&
	       (f & (1ULL << VIRTIO_F_VERSION_1));
}

/* The negotiated ring features, into every queue (FEATURES_OK and again at
 * DRIVER_OK, so a device model sees them from either point on). */
static void copy_ring_features(struct virtio_mmio_dev *t)
{
	bool event_idx = t->driver_features & (1ULL << VIRTIO_F_EVENT_IDX);
	bool indirect = t->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC);

	for (unsigned int i = 0; i < virtio_mmio_num_queues(t); i++) {
		t->queues[i].vq.event_idx = event_idx;
		t->queues[i].vq.indirect = indirect;
	}
}

/* DRIVER_OK: validate every ready queue's rings, then start the device
 * with the ready queues live. Every queue's lock is held meanwhile: a
 * worker sees the device before or after, never half-started. */
static void activate(struct virtio_mmio_dev *t)
{
	struct virtio_device_env env;
	struct virtio_activation act = {
		.features = t->driver_features, .env = &env,
	};
	bool ok = true;

	virtio_mmio_device_env(t, &env);
	lock_queues(t);
	copy_ring_features(t);
	for (unsigned int i = 0; i < virtio_mmio_num_queues(t); i++) {
		struct virtqueue *vq = &t->queues[i].vq;

		if (vq->ready && !virtq_activate(vq, t->mem))
			ok = false;
	}
	if (ok && t->ops->activate && !t->ops->activate(t->dev, &act))
		ok = false;
	for (unsigned int i = 0; ok && i < virtio_mmio_num_queues(t); i++)
		t->queues[i].live = t->queues[i].vq.ready;
	unlock_queues(t);
	if (!ok)
		virtio_mmio_set_needs_reset(t);
}

static void write_status(struct virtio_mmio_dev *t, uint32_t val)
{
	uint32_t add, now = status(t);

	if (val == 0) {
		device_reset(t);
		return;
	}
	/* Only reset clears bits; the driver may echo NEEDS_RESET back. */
	if ((val & ~STATUS_ALL_BITS) || (now & ~val)) {
		t->stats.invalid++;
		return;
	}
	add = val & ~now;
	if (add & VIRTIO_STATUS_NEEDS_RESET) {
		add &= ~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit */
		t->stats.invalid++;
	}
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(t)) {
		add &= ~VIRTIO_STATUS_FEATURES_OK;	/* reads back clear */
		t->stats.invalid++;
	}
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((now | add) & VIRTIO_STATUS_FEATURES_OK)) {
		add &= ~VIRTIO_STATUS_DRIVER_OK;
		t->stats.invalid++;
	}
	irq_lock(t);	/* a worker may be setting NEEDS_RESET */
	set_status(t, status(t) | add);
	irq_unlock(t);
	if (add & VIRTIO_STATUS_FEATURES_OK)
		copy_ring_features(t);
	if (add & VIRTIO_STATUS_DRIVER_OK)
		activate(t);
}

/* The selected queue, or NULL if QueueSel names no queue. Its fields may
 * be read and, while it is not live, written under t->lock alone: no
 * worker uses a queue that is not live. */
static struct virtqueue *selected_queue(struct virtio_mmio_dev *t)
{
	if (t->queue_sel >= virtio_mmio_num_queues(t))
		return NULL;
	return &t->queues[t->queue_sel].vq;
}

/* The selected queue if its registers may be written now: it exists, is
 * not ready and the device is not running. */
static struct virtqueue *writable_queue(struct virtio_mmio_dev *t)
{
	struct virtqueue *vq = selected_queue(t);

	if (!vq || vq->ready || (status(t) & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	return vq;
}

static bool queue_size_ok(const struct virtio_mmio_dev *t, uint32_t n)
{
	return n != 0 && n <= queue_num_max(t) && !(n & (n - 1));
}

static void write_queue_ready(struct virtio_mmio_dev *t, uint32_t val)
{
	struct virtqueue *vq = selected_queue(t);

	if (!vq || (status(t) & VIRTIO_STATUS_DRIVER_OK) || val > 1) {
		t->stats.invalid++;
		return;
	}
	if (val == 0) {
		vq->ready = false;
		return;
	}
	if (!queue_size_ok(t, vq->size)) {
		t->stats.invalid++;	/* QueueReady stays 0 */
		return;
	}
	vq->ready = true;
}

/* Sets the low or high half of a 64-bit queue address. */
static void set_half(uint64_t *reg, uint32_t val, bool high)
{
	if (high)
		*reg = (*reg & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*reg = (*reg & ~0xffffffffULL) | val;
}

static bool write_queue_reg(struct virtio_mmio_dev *t, uint64_t off,
			    uint32_t val)
{
	struct virtqueue *vq = writable_queue(t);

	if (!vq)
		return false;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Judged at QueueReady; 0 stands for "too big for u16". */
		vq->size = val <= 0xffff ? (uint16_t)val : 0;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_gpa, val, off == VIRTIO_MMIO_QUEUE_DESC_HIGH);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&vq->avail_gpa, val,
			 off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH);
		break;
	default:
		set_half(&vq->used_gpa, val, off == VIRTIO_MMIO_QUEUE_USED_HIGH);
		break;
	}
	return true;
}

static void notify(struct virtio_mmio_dev *t, uint32_t queue)
{
	t->stats.queue_notify_exits++;
	if (queue >= virtio_mmio_num_queues(t)) {
		t->stats.invalid++;
		return;
	}
	if (t->host_ops->kick)
		t->host_ops->kick(t->host, queue);
}

static bool write_driver_features(struct virtio_mmio_dev *t, uint32_t val)
{
	if (status(t) & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK))
		return false;	/* negotiation is over */
	if (t->drv_features_sel == 0)
		set_half(&t->driver_features, val, false);
	else if (t->drv_features_sel == 1)
		set_half(&t->driver_features, val, true);
	else
		return val == 0;	/* no such bits */
	return true;
}

/* A 32-bit register write; returns false if the write was not valid. */
static bool write_reg(struct virtio_mmio_dev *t, uint64_t off, uint32_t val)
{
	bool v3 = is_v3(t);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = val;
		return true;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		return write_driver_features(t, val);
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = val;
		return true;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		return true;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return write_queue_reg(t, off, val);
	case VIRTIO_MMIO_QUEUE_READY:
		write_queue_ready(t, val);	/* counts its own errors */
		return true;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify(t, val);
		return true;
	case VIRTIO_MMIO_INTERRUPT_ACK: {
		bool msi;

		t->stats.isr_acks++;
		irq_lock(t);
		msi = t->msi.enabled;
		if (!msi)
			t->interrupt_status &= ~val;
		irq_unlock(t);
		return !msi;	/* nothing to ack: no ISR with MSI */
	}
	case VIRTIO_MMIO_STATUS:
		write_status(t, val);
		return true;
	case VIRTIO_MMIO_SHM_SEL:
		return true;		/* no regions; lengths read ~0 */
	case VIRTIO_MMIO_MSI_ADDRESS_LOW:
	case VIRTIO_MMIO_MSI_ADDRESS_HIGH:
		if (!v3)
			return false;
		irq_lock(t);
		msi_table_stage_addr(&t->msi, val,
				     off == VIRTIO_MMIO_MSI_ADDRESS_HIGH);
		irq_unlock(t);
		return true;
	case VIRTIO_MMIO_MSI_DATA:
		if (!v3)
			return false;
		irq_lock(t);
		msi_table_stage_data(&t->msi, val);
		irq_unlock(t);
		return true;
	default:
		return false;		/* read-only or no such register */
	}
}

static uint32_t device_features_word(const struct virtio_mmio_dev *t)
{
	uint64_t f = virtio_mmio_offered_features(t);

	if (t->dev_features_sel == 0)
		return (uint32_t)f;
	if (t->dev_features_sel == 1)
		return (uint32_t)(f >> 32);
	return 0;
}

/* A 32-bit register read; *ok = false if there is no such readable one. */
static uint32_t read_reg(struct virtio_mmio_dev *t, uint64_t off, bool *ok)
{
	struct virtqueue *vq = selected_queue(t);
	bool v3 = is_v3(t);

	*ok = true;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return v3 || t->cfg.oasis_v3 ? 3 : 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return device_features_word(t);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? queue_num_max(t) : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (!v3)
			break;		/* write-only in v2 */
		return doorbell_layout(t);	/* 0 = no doorbells */
	case VIRTIO_MMIO_INTERRUPT_STATUS: {
		uint32_t isr;

		t->stats.isr_reads++;
		irq_lock(t);
		isr = t->msi.enabled ? 0 : t->interrupt_status;
		irq_unlock(t);
		return isr;
	}
	case VIRTIO_MMIO_STATUS:
		return status(t);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* 4.2.2: length ~0 = no such region */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&t->config_generation,
				       __ATOMIC_ACQUIRE);
	default:
		break;
	}
	*ok = false;		/* write-only or no such register */
	return 0;
}

static bool is_msi16(const struct virtio_mmio_dev *t, uint64_t off)
{
	return is_v3(t) &&
	       (off == VIRTIO_MMIO_MSI_STATUS || off == VIRTIO_MMIO_MSI_COMMAND);
}

/* Config space takes 1, 2 and 4-byte accesses anywhere inside it, and an
 * aligned 8-byte one (drivers split those, but a VMM-side 8 is harmless). */
static bool config_access_ok(const struct virtio_mmio_dev *t, uint64_t off,
			     uint32_t len)
{
	uint64_t c = off - VIRTIO_MMIO_CONFIG;
	uint32_t n = t->ops->config_len < VIRTIO_CONFIG_MAX ?
		     t->ops->config_len : VIRTIO_CONFIG_MAX;

	if (len == 8 && c % 8)
		return false;
	return c < n && len <= n - c;
}

/* Which part of the window an access falls in. */
enum region { R_INVALID, R_REGS, R_CONFIG, R_EXT_REGS, R_DOORBELL };

static enum region classify(const struct virtio_mmio_dev *t, uint64_t off,
			    uint32_t len)
{
	uint64_t win = virtio_mmio_window_size(t);

	if ((len != 1 && len != 2 && len != 4 && len != 8) || off >= win ||
	    len > win - off)
		return R_INVALID;
	if (off >= doorbell_base(t))
		return R_DOORBELL;	/* only in an 8 KiB window */
	if (off >= VIRTIO_MMIO_V2_WINDOW)
		return R_EXT_REGS;	/* feature-bit layout, page 1 */
	if (off >= VIRTIO_MMIO_CONFIG)
		return R_CONFIG;
	if (off + len > VIRTIO_MMIO_CONFIG)
		return R_INVALID;	/* straddles regs and config */
	return R_REGS;
}

/* The MSI registers of both layouts, into the table (irq_lock). */
static uint16_t msi_status(struct virtio_mmio_dev *t)
{
	uint16_t v;

	irq_lock(t);
	v = msi_table_status(&t->msi);
	irq_unlock(t);
	return v;
}

static bool msi_write_status(struct virtio_mmio_dev *t, uint16_t val)
{
	uint32_t line = 0, before;
	bool ok;

	irq_lock(t);
	before = backend_direct_set_irqlocked(t);
	ok = msi_result(t, msi_table_write_status(&t->msi, val,
						  &t->interrupt_status,
						  &line));
	if (line)
		raise_line(t, line);	/* pending events, now on the line */
	before ^= backend_direct_set_irqlocked(t);
	irq_unlock(t);
	backend_irq_changed(t, before);
	return ok;
}

static bool msi_command(struct virtio_mmio_dev *t, uint16_t cmd)
{
	uint32_t before;
	bool ok;

	irq_lock(t);
	before = backend_direct_set_irqlocked(t);
	ok = msi_result(t, msi_table_command(&t->msi, cmd));
	before ^= backend_direct_set_irqlocked(t);
	irq_unlock(t);
	backend_irq_changed(t, before);
	return ok;
}

/* A page-1 register of the feature-bit layout (docs/virtio-mmio-msi.md 3:
 * each answers once its feature is accepted, reads 0 before). */
static uint32_t read_ext_reg(struct virtio_mmio_dev *t, uint64_t off,
			     bool *ok)
{
	bool msi = accepted(t, VIRTIO_F_MMIO_MSI);

	*ok = false;
	switch (off) {
	case VIRTIO_MMIO_EXT_MSI_STATUS:
		*ok = msi;
		return msi ? msi_status(t) : 0;
	case VIRTIO_MMIO_EXT_MSI_VECTOR_STATE: {
		uint32_t vs;

		*ok = msi;
		if (!msi)
			return 0;
		irq_lock(t);
		vs = msi_table_vector_state(&t->msi);
		irq_unlock(t);
		return vs;
	}
	case VIRTIO_MMIO_EXT_DOORBELL_LAYOUT:
		*ok = accepted(t, VIRTIO_F_MMIO_DOORBELLS);
		return *ok ? doorbell_layout(t) : 0;
	default:
		return 0;	/* write-only or no such register */
	}
}

static bool write_ext_reg(struct virtio_mmio_dev *t, uint64_t off,
			  uint32_t val)
{
	if (!accepted(t, VIRTIO_F_MMIO_MSI))
		return false;
	switch (off) {
	case VIRTIO_MMIO_EXT_MSI_STATUS:
		return msi_write_status(t, (uint16_t)val);
	case VIRTIO_MMIO_EXT_MSI_COMMAND:
		if (val >> 16)
			return false;	/* reserved bits set: ignored */
		return msi_command(t, (uint16_t)val);
	case VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW:
	case VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH:
		irq_lock(t);
		msi_table_stage_addr(&t->msi, val,
				     off == VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH);
		irq_unlock(t);
		return true;
	case VIRTIO_MMIO_EXT_MSI_DATA:
		irq_lock(t);
		msi_table_stage_data(&t->msi, val);
		irq_unlock(t);
		return true;
	default:
		return false;	/* read-only or no such register */
	}
}

void virtio_mmio_read(struct virtio_mmio_dev *t, uint64_t off, void *data,
		      uint32_t len)
{
	bool ok = false;

	memset(data, 0, len);
	lock(t);
	t->stats.reads++;
	switch (classify(t, off, len)) {
	case R_REGS:
		t->stats.reg_reads[off / 4]++;
		if (is_msi16(t, off)) {
			uint16_t v = off == VIRTIO_MMIO_MSI_STATUS ?
				     msi_status(t) : 0;

			ok = len == 2;
			if (ok)
				memcpy(data, &v, 2);
		} else if (len == 4 && off % 4 == 0) {
			uint32_t v = read_reg(t, off, &ok);

			memcpy(data, &v, 4);
		}
		break;
	case R_CONFIG:
		t->stats.config_reads++;
		ok = config_access_ok(t, off, len);
		if (ok) {
			irq_lock(t);
			memcpy(data, t->config + (off - VIRTIO_MMIO_CONFIG),
			       len);
			irq_unlock(t);
		}
		break;
	case R_EXT_REGS:
		if (len == 4 && off % 4 == 0) {
			uint32_t v = read_ext_reg(t, off, &ok);

			memcpy(data, &v, 4);
		}
		break;
	default:		/* doorbells are write-only */
		break;
	}
	if (!ok)
		t->stats.invalid++;
	unlock(t);
}

static bool write_doorbell(struct virtio_mmio_dev *t, uint64_t off,
			   uint32_t len)
{
	uint64_t q = (off - doorbell_base(t)) / VIRTIO_MMIO_DOORBELL_SCALE;

	if (!virtio_mmio_has_doorbells(t) || len != 4 ||
	    off % VIRTIO_MMIO_DOORBELL_SCALE ||
	    q >= virtio_mmio_num_queues(t))
		return false;
	/* Normally an ioeventfd catches this in the kernel; this write came
	 * to userspace instead, so it is a notify exit like QueueNotify. */
	/* Atomic: the host's doorbell worker adds to it without our lock. */
	__atomic_add_fetch(&t->stats.doorbells[q], 1, __ATOMIC_RELAXED);
	notify(t, (uint32_t)q);
	return true;
}

void virtio_mmio_write(struct virtio_mmio_dev *t, uint64_t off,
		       const void *data, uint32_t len)
{
	bool ok = false;

	lock(t);
	t->stats.writes++;
	switch (classify(t, off, len)) {
	case R_REGS:
		t->stats.reg_writes[off / 4]++;
		if (is_msi16(t, off)) {
			uint16_t v;

			ok = len == 2;
			if (!ok)
				break;
			memcpy(&v, data, 2);
			if (off == VIRTIO_MMIO_MSI_STATUS)
				ok = msi_write_status(t, v);
			else
				ok = msi_command(t, v);
		} else if (len == 4 && off % 4 == 0) {
			uint32_t v;

			memcpy(&v, data, 4);
			ok = write_reg(t, off, v);
		}
		break;
	case R_CONFIG:
		t->stats.config_writes++;
		ok = config_access_ok(t, off, len);
		if (ok && t->ops->config_write)
			t->ops->config_write(t->dev, off - VIRTIO_MMIO_CONFIG,
					     data, len);
		break;
	case R_EXT_REGS:
		if (len == 4 && off % 4 == 0) {
			uint32_t v;

			memcpy(&v, data, 4);
			ok = write_ext_reg(t, off, v);
		}
		break;
	case R_DOORBELL:
		ok = write_doorbell(t, off, len);
		break;
	default:
		break;
	}
	if (!ok)
		t->stats.invalid++;
	unlock(t);
}

/* Resample of the legacy line (I/O thread). */
bool virtio_mmio_irq_pending(struct virtio_mmio_dev *t)
{
	bool pending;

	irq_lock(t);
	pending = t->interrupt_status != 0 && !t->msi.enabled;
	irq_unlock(t);
	return pending;
}

void virtio_mmio_msi_retry(struct virtio_mmio_dev *t)
{
	irq_lock(t);
	msi_result(t, msi_table_retry(&t->msi));
	irq_unlock(t);
}
