#include <string.h>

#include "unit.h"
#include "vmm/mmio_bus.h"

struct dev {
	uint64_t last_off;
	uint32_t last_len;
	uint32_t value;
	int reads, writes;
};

static void dev_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct dev *d = opaque;

	d->reads++;
	d->last_off = off;
	d->last_len = len;
	memcpy(data, &d->value, len < 4 ? len : 4);
}

static void dev_write(void *opaque, uint64_t off, const void *data,
		      uint32_t len)
{
	struct dev *d = opaque;

	d->writes++;
	d->last_off = off;
	d->last_len = len;
	d->value = 0;
	memcpy(&d->value, data, len < 4 ? len : 4);
}

static void test_dispatch(void)
{
	static struct mmio_bus bus;
	struct dev a = { .value = 0x11223344 }, b = { 0 };
	uint32_t v = 0;
	uint8_t buf[8];

	CHECK(mmio_bus_register(&bus, 0xd0000000, 0x2000, dev_read, dev_write, &a));
	CHECK(mmio_bus_register(&bus, 0xd0002000, 0x1000, dev_read, dev_write, &b));
	CHECK(!mmio_bus_register(&bus, 0xd0001000, 0x2000, dev_read, dev_write, &b));
	CHECK(!mmio_bus_register(&bus, 0xd0000000, 0, dev_read, dev_write, &b));
	CHECK(!mmio_bus_register(&bus, UINT64_MAX - 10, 0x100, dev_read, dev_write, &b));

	CHECK(mmio_bus_access(&bus, 0xd0000070, &v, 4, false));
	CHECK_EQ(v, 0x11223344);
	CHECK_EQ(a.last_off, 0x70);
	v = 0xcafe;
	CHECK(mmio_bus_access(&bus, 0xd0002004, &v, 2, true));
	CHECK_EQ(b.value, 0xcafe);
	CHECK_EQ(b.last_off, 4);
	CHECK_EQ(b.last_len, 2);
	/* last byte of a window / straddling the end */
	CHECK(mmio_bus_access(&bus, 0xd0001fff, buf, 1, false));
	CHECK_EQ(a.last_off, 0x1fff);
	memset(buf, 0, sizeof(buf));
	CHECK(!mmio_bus_access(&bus, 0xd0002ffe, buf, 4, false));
	CHECK_EQ(buf[0], 0xff);
	CHECK_EQ(buf[3], 0xff);
	/* nobody there */
	CHECK(!mmio_bus_access(&bus, 0x1000, &v, 4, true));
	CHECK(!mmio_bus_access(&bus, UINT64_MAX, buf, 8, false));
	CHECK_EQ(bus.unhandled, 3);
	CHECK_EQ(a.writes, 0);
}

static void test_full(void)
{
	static struct mmio_bus bus;
	struct dev d = { 0 };

	for (unsigned int i = 0; i < MMIO_BUS_MAX; i++)
		CHECK(mmio_bus_register(&bus, 0x10000ULL * (i + 1), 0x1000,
					dev_read, dev_write, &d));
	CHECK(!mmio_bus_register(&bus, 0x10000000, 0x1000, dev_read, dev_write, &d));
	/* a window without a read handler reads as all-ones */
	{
		static struct mmio_bus b2;
		uint32_t v = 0;

		CHECK(mmio_bus_register(&b2, 0x1000, 0x1000, NULL, NULL, NULL));
		CHECK(mmio_bus_access(&b2, 0x1000, &v, 4, false));
		CHECK_EQ(v, 0xffffffff);
		CHECK(mmio_bus_access(&b2, 0x1000, &v, 4, true));
	}
}

int main(void)
{
	RUN(test_dispatch);
	RUN(test_full);
	return unit_finish("mmio_bus");
}
