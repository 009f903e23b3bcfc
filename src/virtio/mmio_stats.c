/* virtio-mmio counters as "key value" lines, for the exit summary and for
 * the benchmarks that compare legacy interrupts with MSI + doorbells. */
#include <inttypes.h>

#include "virtio/mmio_transport.h"

static const char *const reg_names[0x40] = {
	[VIRTIO_MMIO_MAGIC_VALUE / 4] = "magic",
	[VIRTIO_MMIO_VERSION / 4] = "version",
	[VIRTIO_MMIO_DEVICE_ID / 4] = "device_id",
	[VIRTIO_MMIO_VENDOR_ID / 4] = "vendor_id",
	[VIRTIO_MMIO_DEVICE_FEATURES / 4] = "device_features",
	[VIRTIO_MMIO_DEVICE_FEATURES_SEL / 4] = "device_features_sel",
	[VIRTIO_MMIO_DRIVER_FEATURES / 4] = "driver_features",
	[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4] = "driver_features_sel",
	[VIRTIO_MMIO_QUEUE_SEL / 4] = "queue_sel",
	[VIRTIO_MMIO_QUEUE_NUM_MAX / 4] = "queue_num_max",
	[VIRTIO_MMIO_QUEUE_NUM / 4] = "queue_num",
	[VIRTIO_MMIO_QUEUE_READY / 4] = "queue_ready",
	[VIRTIO_MMIO_QUEUE_NOTIFY / 4] = "queue_notify",
	[VIRTIO_MMIO_INTERRUPT_STATUS / 4] = "interrupt_status",
	[VIRTIO_MMIO_INTERRUPT_ACK / 4] = "interrupt_ack",
	[VIRTIO_MMIO_STATUS / 4] = "status",
	[VIRTIO_MMIO_QUEUE_DESC_LOW / 4] = "queue_desc_low",
	[VIRTIO_MMIO_QUEUE_DESC_HIGH / 4] = "queue_desc_high",
	[VIRTIO_MMIO_QUEUE_AVAIL_LOW / 4] = "queue_avail_low",
	[VIRTIO_MMIO_QUEUE_AVAIL_HIGH / 4] = "queue_avail_high",
	[VIRTIO_MMIO_QUEUE_USED_LOW / 4] = "queue_used_low",
	[VIRTIO_MMIO_QUEUE_USED_HIGH / 4] = "queue_used_high",
	[VIRTIO_MMIO_SHM_SEL / 4] = "shm_sel",
	[VIRTIO_MMIO_SHM_LEN_LOW / 4] = "shm_len_low",
	[VIRTIO_MMIO_SHM_LEN_HIGH / 4] = "shm_len_high",
	[VIRTIO_MMIO_SHM_BASE_LOW / 4] = "shm_base_low",
	[VIRTIO_MMIO_SHM_BASE_HIGH / 4] = "shm_base_high",
	[VIRTIO_MMIO_MSI_STATUS / 4] = "msi_status_command",
	[VIRTIO_MMIO_MSI_ADDRESS_LOW / 4] = "msi_address_low",
	[VIRTIO_MMIO_MSI_ADDRESS_HIGH / 4] = "msi_address_high",
	[VIRTIO_MMIO_MSI_DATA / 4] = "msi_data",
	[VIRTIO_MMIO_CONFIG_GENERATION / 4] = "config_generation",
};

static void put(FILE *f, const char *dev, const char *key, uint64_t v,
		bool always)
{
	if (v || always)
		fprintf(f, "%s.%s %" PRIu64 "\n", dev, key, v);
}

static void put_regs(FILE *f, const char *dev, const char *dir,
		     const uint64_t *counts)
{
	char key[64];

	for (unsigned int i = 0; i < 0x40; i++) {
		if (!counts[i])
			continue;
		if (reg_names[i])
			snprintf(key, sizeof(key), "%s.%s", dir, reg_names[i]);
		else
			snprintf(key, sizeof(key), "%s.reg_0x%03x", dir, i * 4);
		put(f, dev, key, counts[i], false);
	}
}

void virtio_mmio_print_stats(struct virtio_mmio_dev *t, FILE *f)
{
	const struct virtio_mmio_counters *s = &t->stats;
	const char *dev = t->name;
	unsigned int nvec, nq;
	char key[64];

	pthread_mutex_lock(&t->lock);
	pthread_mutex_lock(&t->irq_lock);
	nq = virtio_mmio_num_queues(t);
	nvec = virtio_mmio_num_vectors(t);
	/* The key figures always, so scripts can rely on them. */
	put(f, dev, "isr_reads", s->isr_reads, true);
	put(f, dev, "isr_acks", s->isr_acks, true);
	put(f, dev, "queue_notify_exits", s->queue_notify_exits, true);
	put(f, dev, "irqs_legacy", s->irqs_legacy, true);
	for (unsigned int v = 0; v < (nvec ? nvec : 1); v++) {
		snprintf(key, sizeof(key), "irqs_msi_%u", v);
		put(f, dev, key, t->msi.stats.irqs[v], true);
	}
	put(f, dev, "invalid", s->invalid, true);
	put(f, dev, "resets", s->resets, true);
	/* With MSI: UPDATEs refused (spec 7.6) and routes the host deferred
	 * (rate limit), always, so a hostile or broken driver shows. */
	put(f, dev, "msi_bad_address", t->msi.stats.bad_address, nvec != 0);
	put(f, dev, "msi_bad_delivery_mode", t->msi.stats.bad_delivery_mode,
	    nvec != 0);
	put(f, dev, "msi_route_waits", t->msi.stats.route_waits, nvec != 0);

	put(f, dev, "reads", s->reads, false);
	put(f, dev, "writes", s->writes, false);
	put(f, dev, "config_reads", s->config_reads, false);
	put(f, dev, "config_writes", s->config_writes, false);
	put(f, dev, "msi_masked_pending", t->msi.stats.masked_pending, false);
	put(f, dev, "backend_irq_changes", s->backend_irq_changes, false);
	for (unsigned int q = 0; q < nq; q++) {
		snprintf(key, sizeof(key), "doorbells_%u", q);
		put(f, dev, key, s->doorbells[q], false);
	}
	put_regs(f, dev, "read", s->reg_reads);
	put_regs(f, dev, "write", s->reg_writes);
	pthread_mutex_unlock(&t->irq_lock);
	pthread_mutex_unlock(&t->lock);
}
