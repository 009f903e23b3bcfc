/* A short linear table: a microVM has at most a few dozen windows, and the
 * lookup is dwarfed by the cost of the exit that led here. */
#include <string.h>

#include "vmm/mmio_bus.h"

bool mmio_bus_register(struct mmio_bus *bus, uint64_t base, uint64_t len,
		       mmio_read_fn rd, mmio_write_fn wr, void *opaque)
{
	if (bus->nr >= MMIO_BUS_MAX || len == 0 || base + len < base)
		return false;
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct mmio_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return false;
	}
	bus->ranges[bus->nr++] = (struct mmio_range){
		.base = base, .len = len, .read = rd, .write = wr,
		.opaque = opaque,
	};
	return true;
}

bool mmio_bus_access(struct mmio_bus *bus, uint64_t addr, void *data,
		     uint32_t len, bool is_write)
{
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct mmio_range *r = &bus->ranges[i];
		uint64_t off;

		if (addr < r->base)
			continue;
		off = addr - r->base;
		/* The whole access must be inside the window. */
		if (off >= r->len || len > r->len - off)
			continue;
		if (is_write) {
			if (r->write)
				r->write(r->opaque, off, data, len);
		} else if (r->read) {
			r->read(r->opaque, off, data, len);
		} else {
			memset(data, 0xff, len);
		}
		return true;
	}
	__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
