/* virtio-mmio transport, device side: the register file (virtio 1.2 4.2.2)
 * and page 1 of the window: the feature-bit layout's MSI registers
 * (docs/virtio-mmio-msi.md) and the doorbells of both MSI layouts. What
 * the MSI registers do is in mmio_msi.c; this file decodes the access.
 *
 * Every access is judged here: registers are 32 bits wide and 4-byte
 * aligned (the two v3 MSI registers at 0x0c0/0x0c2 are 16 bits), config
 * space takes 1, 2, 4 (or aligned 8) bytes. Anything else reads 0, is ignored on
 * write and is counted in stats.invalid; the guest cannot make us fail.
 */
#include <string.h>

#include "virtio/mmio_internal.h"

#define STATUS_ALL_BITS	0xff

static void lock(struct virtio_mmio_dev *t)
{
	pthread_mutex_lock(&t->lock);
}

static void unlock(struct virtio_mmio_dev *t)
{
	pthread_mutex_unlock(&t->lock);
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
	return (t->status & VIRTIO_STATUS_FEATURES_OK) &&
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

void virtio_mmio_init(struct virtio_mmio_dev *t,
		      const struct virtio_mmio_config *cfg,
		      const struct virtio_dev_ops *ops, void *dev,
		      const struct virtio_mmio_host_ops *host_ops, void *host,
		      const struct guest_mem *mem)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->cfg = *cfg;
	if (t->cfg.version != 3)
		t->cfg.version = 2;
	t->ops = ops;
	t->dev = dev;
	t->host_ops = host_ops;
	t->host = host;
	t->mem = mem;
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->vqs[i].mem = mem;
	virtio_mmio_set_name(t, ops->name ? ops->name : "virtio");
}

void virtio_mmio_destroy(struct virtio_mmio_dev *t)
{
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_set_name(struct virtio_mmio_dev *t, const char *name)
{
	snprintf(t->name, sizeof(t->name), "%s", name);
}

/* Status write 0: back to the state after power-on, except that the config
 * generation keeps counting (a driver may still hold an old value). */
static void device_reset(struct virtio_mmio_dev *t)
{
	t->stats.resets++;
	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vqs[i]);
	t->status = 0;
	t->dev_features_sel = 0;
	t->drv_features_sel = 0;
	t->driver_features = 0;
	t->queue_sel = 0;
	t->interrupt_status = 0;
	virtio_msi_reset(t);
}

/* InterruptStatus |= bits, and the line asserted for them. */
void virtio_mmio_raise_line(struct virtio_mmio_dev *t, uint32_t bits)
{
	t->interrupt_status |= bits;
	t->stats.irqs_legacy++;
	if (t->host_ops->legacy_raise)
		t->host_ops->legacy_raise(t->host);
}

/* The _locked signals: the caller holds t->lock (a device model that
 * decided under it, or the transport itself in a register access). */
void virtio_mmio_signal_queue_locked(struct virtio_mmio_dev *t,
				     unsigned int q)
{
	if (q >= virtio_mmio_num_queues(t))
		return;
	if (t->msi_enabled) {
		virtio_msi_deliver(t, q + 1);
		return;
	}
	virtio_mmio_raise_line(t, 1);
}

void virtio_mmio_signal_config_locked(struct virtio_mmio_dev *t)
{
	t->config_generation++;
	if (t->msi_enabled) {
		virtio_msi_deliver(t, 0);
		return;
	}
	virtio_mmio_raise_line(t, 2);
}

void virtio_mmio_set_needs_reset_locked(struct virtio_mmio_dev *t)
{
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_signal_config_locked(t);
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
		t->vqs[i].event_idx = event_idx;
		t->vqs[i].indirect = indirect;
	}
}

/* DRIVER_OK: validate every ready queue's rings, then start the device. */
static void activate(struct virtio_mmio_dev *t)
{
	bool ok = true;

	copy_ring_features(t);
	for (unsigned int i = 0; i < virtio_mmio_num_queues(t); i++) {
		struct virtqueue *vq = &t->vqs[i];

		if (vq->ready && !virtq_activate(vq, t->mem))
			ok = false;
	}
	if (ok && t->ops->activate && !t->ops->activate(t->dev))
		ok = false;
	if (!ok)
		virtio_mmio_set_needs_reset_locked(t);
}

static void write_status(struct virtio_mmio_dev *t, uint32_t val)
{
	uint32_t add;

	if (val == 0) {
		device_reset(t);
		return;
	}
	/* Only reset clears bits; the driver may echo NEEDS_RESET back. */
	if ((val & ~STATUS_ALL_BITS) || (t->status & ~val)) {
		t->stats.invalid++;
		return;
	}
	add = val & ~t->status;
	if (add & VIRTIO_STATUS_NEEDS_RESET) {
		add &= ~VIRTIO_STATUS_NEEDS_RESET;	/* the device's bit */
		t->stats.invalid++;
	}
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(t)) {
		add &= ~VIRTIO_STATUS_FEATURES_OK;	/* reads back clear */
		t->stats.invalid++;
	}
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((t->status | add) & VIRTIO_STATUS_FEATURES_OK)) {
		add &= ~VIRTIO_STATUS_DRIVER_OK;
		t->stats.invalid++;
	}
	t->status |= add;
	if (add & VIRTIO_STATUS_FEATURES_OK)
		copy_ring_features(t);
	if (add & VIRTIO_STATUS_DRIVER_OK)
		activate(t);
}

/* The selected queue, or NULL if QueueSel names no queue. */
static struct virtqueue *selected_queue(struct virtio_mmio_dev *t)
{
	if (t->queue_sel >= virtio_mmio_num_queues(t))
		return NULL;
	return &t->vqs[t->queue_sel];
}

/* The selected queue if its registers may be written now: it exists, is
 * not ready and the device is not running. */
static struct virtqueue *writable_queue(struct virtio_mmio_dev *t)
{
	struct virtqueue *vq = selected_queue(t);

	if (!vq || vq->ready || (t->status & VIRTIO_STATUS_DRIVER_OK))
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

	if (!vq || (t->status & VIRTIO_STATUS_DRIVER_OK) || val > 1) {
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
	if (t->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK))
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
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->stats.isr_acks++;
		if (t->msi_enabled)
			return false;	/* nothing to ack: no ISR with MSI */
		t->interrupt_status &= ~val;
		return true;
	case VIRTIO_MMIO_STATUS:
		write_status(t, val);
		return true;
	case VIRTIO_MMIO_SHM_SEL:
		return true;		/* no regions; lengths read ~0 */
	case VIRTIO_MMIO_MSI_ADDRESS_LOW:
	case VIRTIO_MMIO_MSI_ADDRESS_HIGH:
		if (!v3)
			return false;
		set_half(&t->msi_staged_addr, val,
			 off == VIRTIO_MMIO_MSI_ADDRESS_HIGH);
		return true;
	case VIRTIO_MMIO_MSI_DATA:
		if (!v3)
			return false;
		t->msi_staged_data = val;
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
		return v3 ? 3 : 2;
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
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		t->stats.isr_reads++;
		return t->msi_enabled ? 0 : t->interrupt_status;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;	/* 4.2.2: length ~0 = no such region */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_generation;
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

	if (len == 8 && c % 8)
		return false;
	return c < t->ops->config_len && len <= t->ops->config_len - c;
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
		return msi ? virtio_msi_read_status(t) : 0;
	case VIRTIO_MMIO_EXT_MSI_VECTOR_STATE:
		*ok = msi;
		return msi ? virtio_msi_vector_state(t) : 0;
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
		virtio_msi_write_status(t, (uint16_t)val);
		return true;
	case VIRTIO_MMIO_EXT_MSI_COMMAND:
		if (val >> 16)
			return false;	/* reserved bits set: ignored */
		virtio_msi_command(t, (uint16_t)val);
		return true;
	case VIRTIO_MMIO_EXT_MSI_ADDRESS_LOW:
	case VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH:
		set_half(&t->msi_staged_addr, val,
			 off == VIRTIO_MMIO_EXT_MSI_ADDRESS_HIGH);
		return true;
	case VIRTIO_MMIO_EXT_MSI_DATA:
		t->msi_staged_data = val;
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
				     virtio_msi_read_status(t) : 0;

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
		if (ok && t->ops->config_read)
			t->ops->config_read(t->dev, off - VIRTIO_MMIO_CONFIG,
					    data, len);
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
	t->stats.doorbells[q]++;
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
				virtio_msi_write_status(t, v);
			else
				virtio_msi_command(t, v);
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

/* The plain signals, for callers that do not hold t->lock. */
void virtio_mmio_signal_queue(struct virtio_mmio_dev *t, unsigned int q)
{
	lock(t);
	virtio_mmio_signal_queue_locked(t, q);
	unlock(t);
}

void virtio_mmio_signal_config(struct virtio_mmio_dev *t)
{
	lock(t);
	virtio_mmio_signal_config_locked(t);
	unlock(t);
}

void virtio_mmio_set_needs_reset(struct virtio_mmio_dev *t)
{
	lock(t);
	virtio_mmio_set_needs_reset_locked(t);
	unlock(t);
}

bool virtio_mmio_irq_pending(struct virtio_mmio_dev *t)
{
	bool pending;

	lock(t);
	pending = t->interrupt_status != 0 && !t->msi_enabled;
	unlock(t);
	return pending;
}
