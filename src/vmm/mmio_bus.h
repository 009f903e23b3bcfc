/* Guest-physical address ranges that trap to userspace (KVM_EXIT_MMIO) and
 * the handlers behind them. Registration happens before vCPUs start, so
 * lookups need no lock. */
#ifndef MMVM_VMM_MMIO_BUS_H
#define MMVM_VMM_MMIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*mmio_read_fn)(void *opaque, uint64_t off, void *data,
			     uint32_t len);
typedef void (*mmio_write_fn)(void *opaque, uint64_t off, const void *data,
			      uint32_t len);

#define MMIO_BUS_MAX 64

struct mmio_range {
	uint64_t base, len;
	mmio_read_fn read;
	mmio_write_fn write;
	void *opaque;
};

struct mmio_bus {
	unsigned int nr;
	struct mmio_range ranges[MMIO_BUS_MAX];
	uint64_t unhandled;	/* accesses that hit no range */
};

/* Returns false if full or overlapping. */
bool mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t len,
		       mmio_read_fn rd, mmio_write_fn wr, void *opaque);
/* Dispatches an access; returns false if no range claims it (reads then
 * return all-ones, as on real hardware). */
bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data,
		     uint32_t len, bool is_write);

#endif
