/* The MSI vector table; see msi_table.h.
 *
 * The driver stages an address and data, then an UPDATE command latches
 * them into one vector at once, so a vector never holds half of an old
 * message and half of a new one. A signal for a masked or not yet
 * programmed vector is remembered (pending) and sent on UNMASK or UPDATE.
 * Commands work whether MSI is enabled or not, but nothing is sent while
 * it is off.
 *
 * UPDATE judges the message it latches (spec 7.6): an x86 MSI must be
 * addressed to 0xfee00000-0xfeefffff and ask for fixed or lowest-priority
 * delivery. Anything else (an INIT would reset the guest's own vCPU) is
 * refused: the vector is left unprogrammed, so its events stay pending,
 * and the refusal is counted and reported on stderr, at most once per
 * MSI_REFUSED_LOG_NS per device. A host that defers a route (rate limit,
 * src/irq/gsi_routing.h) leaves the vector waiting: programmed, events
 * pending, until msi_table_retry() finds the route usable.
 */
#include "virtio/msi_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "virtio/x86_msi.h"

#define MSI_REFUSED_LOG_NS	(10 * 1000000000ULL)

void msi_table_init(struct msi_table *m, unsigned int nr, bool feature_layout,
		    const char *name, const struct msi_table_host *host)
{
	memset(m, 0, sizeof(*m));
	m->nr = nr < MSI_TABLE_MAX_VECTORS ? nr : MSI_TABLE_MAX_VECTORS;
	m->feature_layout = feature_layout;
	m->name = name;
	if (host)
		m->host = *host;
}

uint16_t msi_table_status(const struct msi_table *m)
{
	return (m->enabled ? VIRTIO_MMIO_MSI_STATUS_ENABLE : 0) |
	       (uint16_t)m->nr;
}

static void drop_route(struct msi_table *m, unsigned int vector)
{
	if (m->host.route)
		m->host.route(m->host.opaque, vector, false, 0, 0);
}

/* Returns every vector to its reset state and drops the host routes behind
 * the programmed ones (reset, and MSI being switched off). */
static void forget_vectors(struct msi_table *m)
{
	for (unsigned int i = 0; i < MSI_TABLE_MAX_VECTORS; i++)
		if (m->vectors[i].programmed)
			drop_route(m, i);
	memset(m->vectors, 0, sizeof(m->vectors));
}

static void fire(struct msi_table *m, unsigned int vector)
{
	m->vectors[vector].pending = false;
	m->stats.irqs[vector]++;
	if (m->host.fire)
		m->host.fire(m->host.opaque, vector);
}

/* May vector's message be sent now (7.3, and 7.6 for a route the host has
 * not made usable yet)? */
static bool sendable(const struct msi_vector *v)
{
	return v->programmed && !v->route_wait && !v->masked;
}

/* Sends a pending vector if it may be sent now. */
static void flush_pending(struct msi_table *m, unsigned int vector)
{
	const struct msi_vector *v = &m->vectors[vector];

	if (m->enabled && v->pending && sendable(v))
		fire(m, vector);
}

/* msi.md 4.3, ENABLE 0 -> 1: what InterruptStatus holds becomes pending
 * on the vectors that stand for it (bit 1: vector 0; bit 0: every queue's,
 * since the line does not say which queue), and is sent where it can be. */
static void carry_line_to_vectors(struct msi_table *m, uint32_t isr)
{
	if (isr & 2)
		m->vectors[0].pending = true;
	if (isr & 1)
		for (unsigned int i = 1; i < m->nr; i++)
			m->vectors[i].pending = true;
	for (unsigned int i = 0; i < m->nr; i++)
		flush_pending(m, i);
}

/* msi.md 4.3, ENABLE 1 -> 0: the InterruptStatus bits pending vectors
 * stand for. */
static uint32_t pending_as_line(const struct msi_table *m)
{
	uint32_t isr = 0;

	for (unsigned int i = 0; i < m->nr; i++)
		if (m->vectors[i].pending)
			isr |= i == 0 ? 2 : 1;
	return isr;
}

enum msi_result msi_table_write_status(struct msi_table *m, uint16_t val,
				       uint32_t *isr, uint32_t *line)
{
	bool enable = val & VIRTIO_MMIO_MSI_STATUS_ENABLE;

	*line = 0;
	if (enable && m->nr == 0)
		return MSI_INVALID;	/* MSI not offered */
	if (enable == m->enabled)
		return MSI_OK;
	m->enabled = enable;
	if (enable) {
		/* v3 (7.5) drops InterruptStatus: the line falls at the next
		 * resample. */
		if (m->feature_layout)
			carry_line_to_vectors(m, *isr);
		*isr = 0;
		return MSI_OK;
	}
	if (m->feature_layout)
		*line = pending_as_line(m);
	forget_vectors(m);
	return MSI_OK;
}

void msi_table_stage_addr(struct msi_table *m, uint32_t val, bool high)
{
	if (high)
		m->staged_addr = (m->staged_addr & 0xffffffffULL) |
				 ((uint64_t)val << 32);
	else
		m->staged_addr = (m->staged_addr & ~0xffffffffULL) | val;
}

void msi_table_stage_data(struct msi_table *m, uint32_t val)
{
	m->staged_data = val;
}

uint32_t msi_table_vector_state(const struct msi_table *m)
{
	const struct msi_vector *v;

	if (!m->sel_valid)
		return 0;
	v = &m->vectors[m->sel];
	return VIRTIO_MMIO_MSI_VS_VALID |
	       (m->sel << VIRTIO_MMIO_MSI_VS_VECTOR_SHIFT) |
	       (v->programmed ? VIRTIO_MMIO_MSI_VS_PROGRAMMED : 0) |
	       (v->masked ? VIRTIO_MMIO_MSI_VS_MASKED : 0) |
	       (v->pending ? VIRTIO_MMIO_MSI_VS_PENDING : 0) |
	       (v->route_wait ? VIRTIO_MMIO_MSI_VS_WAITING : 0);
}

void msi_table_signal(struct msi_table *m, unsigned int vector)
{
	struct msi_vector *v;

	if (vector >= m->nr)
		return;
	v = &m->vectors[vector];
	if (sendable(v)) {
		fire(m, vector);
		return;
	}
	v->pending = true;
	m->stats.masked_pending++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One stderr line per device per MSI_REFUSED_LOG_NS, saying how many more
 * were refused since the last one. */
static void log_refusal(struct msi_table *m, unsigned int vector,
			uint64_t addr, uint32_t data,
			enum x86_msi_verdict verdict)
{
	uint64_t now = now_ns();
	char more[64] = "";

	if (m->refused_log_ns && now - m->refused_log_ns < MSI_REFUSED_LOG_NS) {
		m->refused_unlogged++;
		return;
	}
	if (m->refused_unlogged)
		snprintf(more, sizeof(more), " (and %" PRIu64 " more since the "
			 "last report)", m->refused_unlogged);
	m->refused_log_ns = now;
	m->refused_unlogged = 0;
	if (verdict == X86_MSI_BAD_ADDRESS)
		fprintf(stderr, "mmvm: %s: MSI vector %u: refused message with "
			"address 0x%08" PRIx64 " (not in 0xfee00000-0xfeefffff), "
			"data 0x%08" PRIx32 "; the vector stays unprogrammed"
			"%s\n", m->name, vector, addr, data, more);
	else
		fprintf(stderr, "mmvm: %s: MSI vector %u: refused message with "
			"data 0x%08" PRIx32 " (%s delivery; only fixed and "
			"lowest-priority are allowed), address 0x%08" PRIx64
			"; the vector stays unprogrammed%s\n", m->name, vector,
			data, x86_msi_delivery_mode_name(data), addr, more);
}

/* Spec 7.6: a refused UPDATE leaves the vector unprogrammed (its previous
 * message, if any, is forgotten and its route dropped); mask and pending
 * are kept, so an event waits for the next acceptable UPDATE. */
static void refuse(struct msi_table *m, unsigned int vector, uint64_t addr,
		   uint32_t data, enum x86_msi_verdict verdict)
{
	struct msi_vector *v = &m->vectors[vector];

	if (verdict == X86_MSI_BAD_ADDRESS)
		m->stats.bad_address++;
	else
		m->stats.bad_delivery_mode++;
	log_refusal(m, vector, addr, data, verdict);
	if (v->programmed)
		drop_route(m, vector);
	v->programmed = false;
	v->route_wait = false;
	v->addr = 0;
	v->data = 0;
}

/* The host's answer to a route request for a programmed vector. */
static enum msi_result route_done(struct msi_table *m, unsigned int vector,
				  int rc)
{
	struct msi_vector *v = &m->vectors[vector];

	if (rc < 0) {
		/* Spec 12: events of a vector the host cannot route must not
		 * vanish silently; they stay pending and the driver is told
		 * (the caller sets DEVICE_NEEDS_RESET). */
		v->programmed = false;
		v->route_wait = false;
		return MSI_ROUTE_FAILED;
	}
	v->route_wait = rc == MSI_ROUTE_DEFERRED;
	flush_pending(m, vector);
	return MSI_OK;
}

static enum msi_result update_vector(struct msi_table *m, unsigned int vector)
{
	struct msi_vector *v = &m->vectors[vector];
	uint64_t addr = m->staged_addr;
	uint32_t data = m->staged_data;
	enum x86_msi_verdict verdict = x86_msi_check(addr, data);
	int rc = 0;

	if (verdict != X86_MSI_OK) {
		refuse(m, vector, addr, data, verdict);
		return MSI_INVALID;
	}
	v->addr = addr;
	v->data = data;
	if (m->host.route)
		rc = m->host.route(m->host.opaque, vector, true, addr, data);
	if (rc == MSI_ROUTE_DEFERRED)
		m->stats.route_waits++;
	v->programmed = rc >= 0;
	return route_done(m, vector, rc);
}

enum msi_result msi_table_retry(struct msi_table *m)
{
	enum msi_result res = MSI_OK;

	for (unsigned int i = 0; i < m->nr; i++) {
		struct msi_vector *v = &m->vectors[i];
		int rc = 0;

		if (!v->programmed || !v->route_wait)
			continue;
		if (m->host.route)
			rc = m->host.route(m->host.opaque, i, true, v->addr,
					   v->data);
		if (route_done(m, i, rc) != MSI_OK)
			res = MSI_ROUTE_FAILED;
	}
	return res;
}

enum msi_result msi_table_command(struct msi_table *m, uint16_t cmd)
{
	unsigned int op = cmd >> 12, vector = cmd & 0x0fff;
	bool select = op == VIRTIO_MMIO_MSI_CMD_SELECT && m->feature_layout;

	if (vector >= m->nr)
		return MSI_INVALID;
	if ((op >= VIRTIO_MMIO_MSI_CMD_UPDATE &&
	     op <= VIRTIO_MMIO_MSI_CMD_UNMASK) || select) {
		m->sel_valid = true;	/* for MSIVectorState */
		m->sel = vector;
	}
	switch (op) {
	case VIRTIO_MMIO_MSI_CMD_UPDATE:
		return update_vector(m, vector);
	case VIRTIO_MMIO_MSI_CMD_MASK:
		m->vectors[vector].masked = true;
		return MSI_OK;
	case VIRTIO_MMIO_MSI_CMD_UNMASK:
		m->vectors[vector].masked = false;
		flush_pending(m, vector);
		return MSI_OK;
	case VIRTIO_MMIO_MSI_CMD_SELECT:
		return select ? MSI_OK : MSI_INVALID;	/* reserved in v3 */
	default:
		return MSI_INVALID;
	}
}

void msi_table_reset(struct msi_table *m)
{
	forget_vectors(m);
	m->enabled = false;
	m->sel_valid = false;
	m->sel = 0;
	m->staged_addr = 0;
	m->staged_data = 0;
}
