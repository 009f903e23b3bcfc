/* virtio-mmio MSI: the vector table behind both layouts' MSI registers
 * (docs/virtio-mmio-msi.md 4 for the feature-bit layout, the default;
 * docs/virtio-mmio-v3.md 6-7 for the 2019 layout). The two differ only in
 * where the registers sit (mmio_transport.c decodes them), in op SELECT and
 * MSIVectorState, and in the enable transitions: the feature-bit layout
 * lets the driver switch MSI on and off at any time and carries pending
 * events across the switch (msi.md 4.3); v3 drops them.
 *
 * The driver stages an address and data in three 32-bit registers, then an
 * UPDATE command latches them into one vector at once, so a vector never
 * holds half of an old message and half of a new one. Bit 15 of MSI status
 * is the enable bit; the vector count in bits 0-10 says whether MSI is
 * offered at all. A signal for a masked or not yet programmed vector is
 * remembered (pending) and sent on UNMASK or UPDATE. Commands work whether
 * MSI is enabled or not, but nothing is sent while it is off.
 *
 * UPDATE judges the message it latches (spec 7.6): an x86 MSI must be
 * addressed to 0xfee00000-0xfeefffff and ask for fixed or lowest-priority
 * delivery. Anything else (an INIT would reset the guest's own vCPU) is
 * refused: the vector is left unprogrammed, so its events stay pending,
 * and the refusal is counted and reported on stderr, at most once per
 * MSI_REFUSED_LOG_NS per device. A host that defers a route (rate limit,
 * src/irq/gsi_routing.h) leaves the vector waiting: programmed, events
 * pending, until virtio_mmio_msi_retry() finds the route usable.
 *
 * All functions here run with t->lock held, except virtio_mmio_msi_retry(),
 * which takes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "irq/x86_msi.h"
#include "virtio/mmio_internal.h"

#define MSI_REFUSED_LOG_NS	(10 * 1000000000ULL)

uint16_t virtio_msi_read_status(const struct virtio_mmio_dev *t)
{
	return (t->msi_enabled ? VIRTIO_MMIO_MSI_STATUS_ENABLE : 0) |
	       (uint16_t)virtio_mmio_num_vectors(t);
}

/* Returns every vector to its reset state and drops the host routes behind
 * the programmed ones (reset, and MSI being switched off). */
static void forget_vectors(struct virtio_mmio_dev *t)
{
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_VECTORS; i++) {
		if (t->vectors[i].programmed && t->host_ops->msi_route)
			t->host_ops->msi_route(t->host, i, false, 0, 0);
	}
	memset(t->vectors, 0, sizeof(t->vectors));
}

static void fire(struct virtio_mmio_dev *t, unsigned int vector);
static void flush_pending(struct virtio_mmio_dev *t, unsigned int vector);

/* msi.md 4.3, ENABLE 0 -> 1: what InterruptStatus holds becomes pending
 * on the vectors that stand for it (bit 1: vector 0; bit 0: every queue's,
 * since the line does not say which queue), and is sent where it can be. */
static void carry_line_to_vectors(struct virtio_mmio_dev *t)
{
	unsigned int n = virtio_mmio_num_vectors(t);

	if (t->interrupt_status & 2)
		t->vectors[0].pending = true;
	if (t->interrupt_status & 1)
		for (unsigned int i = 1; i < n; i++)
			t->vectors[i].pending = true;
	t->interrupt_status = 0;
	for (unsigned int i = 0; i < n; i++)
		flush_pending(t, i);
}

/* msi.md 4.3, ENABLE 1 -> 0: pending vectors become InterruptStatus bits
 * and the line is raised for them. Called after msi_enabled went false. */
static void carry_vectors_to_line(struct virtio_mmio_dev *t)
{
	uint32_t isr = 0;

	for (unsigned int i = 0; i < virtio_mmio_num_vectors(t); i++)
		if (t->vectors[i].pending)
			isr |= i == 0 ? 2 : 1;
	if (!isr)
		return;
	virtio_mmio_raise_line(t, isr);
}

/* Only bit 15 acts; writing the current value does nothing. 0 -> 1: v3
 * (7.5) clears InterruptStatus (the line drops at the next resample), the
 * feature-bit layout carries it into pending vectors. 1 -> 0 forgets every
 * vector; v3 drops their pending events, the feature-bit layout raises the
 * line for them. */
void virtio_msi_write_status(struct virtio_mmio_dev *t, uint16_t val)
{
	bool enable = val & VIRTIO_MMIO_MSI_STATUS_ENABLE;
	bool v3 = t->cfg.version == 3;

	if (enable && virtio_mmio_num_vectors(t) == 0) {
		t->stats.invalid++;	/* MSI not offered */
		return;
	}
	if (enable == t->msi_enabled)
		return;
	t->msi_enabled = enable;
	if (enable) {
		if (v3)
			t->interrupt_status = 0;
		else
			carry_line_to_vectors(t);
		return;
	}
	if (!v3)
		carry_vectors_to_line(t);
	forget_vectors(t);
}

uint32_t virtio_msi_vector_state(const struct virtio_mmio_dev *t)
{
	const struct virtio_msi_vector *v;

	if (!t->msi_sel_valid)
		return 0;
	v = &t->vectors[t->msi_sel];
	return VIRTIO_MMIO_MSI_VS_VALID |
	       (t->msi_sel << VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT) |
	       (v->programmed ? VIRTIO_MMIO_MSI_VS_PROGRAMMED : 0) |
	       (v->masked ? VIRTIO_MMIO_MSI_VS_MASKED : 0) |
	       (v->pending ? VIRTIO_MMIO_MSI_VS_PENDING : 0) |
	       (v->route_wait ? VIRTIO_MMIO_MSI_VS_WAITING : 0);
}

static void fire(struct virtio_mmio_dev *t, unsigned int vector)
{
	t->vectors[vector].pending = false;
	t->stats.irqs_msi[vector]++;
	if (t->host_ops->msi_fire)
		t->host_ops->msi_fire(t->host, vector);
}

/* May vector's message be sent now (7.3, and 7.6 for a route the host has
 * not made usable yet)? */
static bool sendable(const struct virtio_msi_vector *v)
{
	return v->programmed && !v->route_wait && !v->masked;
}

/* Sends a pending vector if it may be sent now. */
static void flush_pending(struct virtio_mmio_dev *t, unsigned int vector)
{
	const struct virtio_msi_vector *v = &t->vectors[vector];

	if (t->msi_enabled && v->pending && sendable(v))
		fire(t, vector);
}

void virtio_msi_deliver(struct virtio_mmio_dev *t, unsigned int vector)
{
	struct virtio_msi_vector *v;

	if (vector >= virtio_mmio_num_vectors(t))
		return;
	v = &t->vectors[vector];
	if (sendable(v)) {
		fire(t, vector);
		return;
	}
	v->pending = true;
	t->stats.msi_masked_pending++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One stderr line per device per MSI_REFUSED_LOG_NS, saying how many more
 * were refused since the last one. */
static void log_refusal(struct virtio_mmio_dev *t, unsigned int vector,
			uint64_t addr, uint32_t data,
			enum x86_msi_verdict verdict)
{
	uint64_t now = now_ns();
	char more[64] = "";

	if (t->msi_refused_log_ns &&
	    now - t->msi_refused_log_ns < MSI_REFUSED_LOG_NS) {
		t->msi_refused_unlogged++;
		return;
	}
	if (t->msi_refused_unlogged)
		snprintf(more, sizeof(more), " (and %" PRIu64 " more since the "
			 "last report)", t->msi_refused_unlogged);
	t->msi_refused_log_ns = now;
	t->msi_refused_unlogged = 0;
	if (verdict == X86_MSI_BAD_ADDRESS)
		fprintf(stderr, "mmvm: %s: MSI vector %u: refused message with "
			"address 0x%08" PRIx64 " (not in 0xfee00000-0xfeefffff), "
			"data 0x%08" PRIx32 "; the vector stays unprogrammed"
			"%s\n", t->name, vector, addr, data, more);
	else
		fprintf(stderr, "mmvm: %s: MSI vector %u: refused message with "
			"data 0x%08" PRIx32 " (%s delivery; only fixed and "
			"lowest-priority are allowed), address 0x%08" PRIx64
			"; the vector stays unprogrammed%s\n", t->name, vector,
			data, x86_msi_delivery_mode_name(data), addr, more);
}

/* Spec 7.6: a refused UPDATE leaves the vector unprogrammed (its previous
 * message, if any, is forgotten and its route dropped); mask and pending
 * are kept, so an event waits for the next acceptable UPDATE. */
static void refuse(struct virtio_mmio_dev *t, unsigned int vector,
		   uint64_t addr, uint32_t data, enum x86_msi_verdict verdict)
{
	struct virtio_msi_vector *v = &t->vectors[vector];

	if (verdict == X86_MSI_BAD_ADDRESS)
		t->stats.msi_bad_address++;
	else
		t->stats.msi_bad_delivery_mode++;
	t->stats.invalid++;
	log_refusal(t, vector, addr, data, verdict);
	if (v->programmed && t->host_ops->msi_route)
		t->host_ops->msi_route(t->host, vector, false, 0, 0);
	v->programmed = false;
	v->route_wait = false;
	v->addr = 0;
	v->data = 0;
}

/* The host's answer to a route request for a programmed vector. */
static void route_done(struct virtio_mmio_dev *t, unsigned int vector, int rc)
{
	struct virtio_msi_vector *v = &t->vectors[vector];

	if (rc < 0) {
		/* Spec 12: events of a vector the host cannot route must not
		 * vanish silently; they stay pending and the driver is told. */
		v->programmed = false;
		v->route_wait = false;
		t->stats.invalid++;
		virtio_mmio_set_needs_reset_locked(t);
		return;
	}
	v->route_wait = rc == VIRTIO_MMIO_MSI_ROUTE_DEFERRED;
	flush_pending(t, vector);
}

static void update_vector(struct virtio_mmio_dev *t, unsigned int vector)
{
	struct virtio_msi_vector *v = &t->vectors[vector];
	uint64_t addr = t->msi_staged_addr;
	uint32_t data = t->msi_staged_data;
	enum x86_msi_verdict verdict = x86_msi_check(addr, data);
	int rc = 0;

	if (verdict != X86_MSI_OK) {
		refuse(t, vector, addr, data, verdict);
		return;
	}
	v->addr = addr;
	v->data = data;
	if (t->host_ops->msi_route)
		rc = t->host_ops->msi_route(t->host, vector, true, v->addr,
					    v->data);
	if (rc == VIRTIO_MMIO_MSI_ROUTE_DEFERRED)
		t->stats.msi_route_waits++;
	v->programmed = rc >= 0;
	route_done(t, vector, rc);
}

void virtio_mmio_msi_retry(struct virtio_mmio_dev *t)
{
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < virtio_mmio_num_vectors(t); i++) {
		struct virtio_msi_vector *v = &t->vectors[i];

		if (!v->programmed || !v->route_wait)
			continue;
		route_done(t, i, t->host_ops->msi_route ?
			   t->host_ops->msi_route(t->host, i, true, v->addr,
						  v->data) : 0);
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_msi_command(struct virtio_mmio_dev *t, uint16_t cmd)
{
	unsigned int op = cmd >> 12, vector = cmd & 0x0fff;
	bool select = op == VIRTIO_MMIO_MSI_CMD_SELECT && t->cfg.version != 3;

	if (vector >= virtio_mmio_num_vectors(t)) {
		t->stats.invalid++;
		return;
	}
	if ((op >= VIRTIO_MMIO_MSI_CMD_UPDATE &&
	     op <= VIRTIO_MMIO_MSI_CMD_UNMASK) || select) {
		t->msi_sel_valid = true;	/* for MSIVectorState */
		t->msi_sel = vector;
	}
	switch (op) {
	case VIRTIO_MMIO_MSI_CMD_UPDATE:
		update_vector(t, vector);
		break;
	case VIRTIO_MMIO_MSI_CMD_MASK:
		t->vectors[vector].masked = true;
		break;
	case VIRTIO_MMIO_MSI_CMD_UNMASK:
		t->vectors[vector].masked = false;
		flush_pending(t, vector);
		break;
	case VIRTIO_MMIO_MSI_CMD_SELECT:
		if (select)
			break;
		t->stats.invalid++;	/* reserved in the v3 layout */
		break;
	default:
		t->stats.invalid++;
		break;
	}
}

void virtio_msi_reset(struct virtio_mmio_dev *t)
{
	forget_vectors(t);
	t->msi_enabled = false;
	t->msi_sel_valid = false;
	t->msi_sel = 0;
	t->msi_staged_addr = 0;
	t->msi_staged_data = 0;
}
