/* ACPI tables and the AML encoder. With MMVM_ACPI_DUMP_DIR set, also
 * writes one representative platform's tables there (rsdp.dat, xsdt.dat,
 * facp.dat, apic.dat, dsdt.dat) for tests/scripts/test_acpi_iasl.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi_tables.h"
#include "acpi/aml.h"
#include "boot/le.h"
#include "unit.h"

#define GPA	0xe0000ULL

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Decodes a PkgLength (ACPI 6.5 section 20.2.4) at p; *n gets its size. */
static size_t pkglen_decode(const uint8_t *p, size_t *n)
{
	size_t follow = p[0] >> 6, v;

	if (!follow) {
		*n = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0x0f;
	for (size_t i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*n = follow + 1;
	return v;
}

static bool bytes_eq(const struct aml_buf *b, const uint8_t *want, size_t n)
{
	return aml_ok(b) && b->len == n && !memcmp(b->data, want, n);
}

#define EXPECT(b, ...)                                                     \
	do {                                                               \
		static const uint8_t _w[] = { __VA_ARGS__ };               \
		CHECK(bytes_eq(b, _w, sizeof(_w)));                        \
	} while (0)

/* ---- AML encoder ---- */

static void test_pkglen_encode(void)
{
	static const struct {
		size_t body, n;
		uint8_t enc[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },
		{ 63, 2, { 0x41, 0x04 } },		/* 65 */
		{ 64, 2, { 0x42, 0x04 } },		/* 66 */
		{ 4093, 2, { 0x4f, 0xff } },		/* 4095 */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },	/* 4097 */
		{ 4095, 3, { 0x82, 0x00, 0x01 } },	/* 4098 */
		{ 4096, 3, { 0x83, 0x00, 0x01 } },	/* 4099 */
		{ 1 << 20, 4, { 0xc4, 0x00, 0x00, 0x01 } }, /* 0x100004 */
		{ 0x0ffffffb, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0xee, sizeof(out));
		CHECK_EQ(aml_pkglen_encode(out, cases[i].body), cases[i].n);
		CHECK(!memcmp(out, cases[i].enc, cases[i].n));
	}
	CHECK_EQ(aml_pkglen_encode(out, 0x0ffffffc), 0);
	CHECK_EQ(aml_pkglen_encode(out, SIZE_MAX), 0);

	/* Every body up to 2^21 round-trips and uses the smallest form. */
	for (size_t body = 0; body <= (1u << 21); body++) {
		size_t n = aml_pkglen_encode(out, body), dn;
		size_t want = body < 63 ? 1 : body < 4094 ? 2 :
			      body < 0xffffd ? 3 : 4;

		if (n != want || pkglen_decode(out, &dn) != body + n ||
		    dn != n || (n > 1 && (out[0] & 0x30))) {
			CHECK_EQ(body, -1);
			break;
		}
	}
}

/* aml_end() on real bodies of the sizes around each form's limit: the
 * body moves intact and the PkgLength covers exactly it. */
static void test_pkglen_end(void)
{
	static const size_t sizes[] = { 0, 1, 62, 63, 64, 4093, 4094, 4095,
					4096, 0xffffc, 0xffffd, 1 << 20 };
	size_t cap = (1 << 20) + 64;
	uint8_t *mem = malloc(cap);
	struct aml_buf b;

	CHECK(mem != NULL);
	if (!mem)
		return;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t body = sizes[i], n, v;
		struct aml_mark m;
		bool intact = true;

		aml_init(&b, mem, cap);
		aml_byte(&b, 0x10);
		m = (struct aml_mark){ .at = b.len };
		for (size_t k = 0; k < body; k++)
			aml_byte(&b, (uint8_t)(k * 7 + 3));
		aml_end(&b, m);
		CHECK(aml_ok(&b));
		v = pkglen_decode(mem + 1, &n);
		CHECK_EQ(v, body + n);
		CHECK_EQ(b.len, 1 + n + body);
		for (size_t k = 0; k < body; k++)
			if (mem[1 + n + k] != (uint8_t)(k * 7 + 3))
				intact = false;
		CHECK(intact);
	}

	/* A Buffer: PkgLength covers BufferSize and the bytes; BufferSize is
	 * the byte count. 70 bytes: BufferSize 0x0a 0x46, PkgLength 74. */
	aml_init(&b, mem, cap);
	{
		struct aml_mark m = aml_buffer_begin(&b);
		size_t n;

		for (int k = 0; k < 70; k++)
			aml_byte(&b, 0xaa);
		aml_end(&b, m);
		CHECK_EQ(mem[0], 0x11);
		CHECK_EQ(pkglen_decode(mem + 1, &n), 74);
		CHECK_EQ(n, 2);
		CHECK_EQ(mem[3], 0x0a);
		CHECK_EQ(mem[4], 70);
		CHECK_EQ(b.len, 1 + 2 + 2 + 70);
	}
	free(mem);
}

static void test_integers(void)
{
	uint8_t mem[16];
	struct aml_buf b;

#define INT(v, ...) do { aml_init(&b, mem, sizeof(mem)); \
	aml_integer(&b, v); EXPECT(&b, __VA_ARGS__); } while (0)
	INT(0, 0x00);
	INT(1, 0x01);
	INT(2, 0x0a, 0x02);
	INT(0xff, 0x0a, 0xff);
	INT(0x100, 0x0b, 0x00, 0x01);
	INT(0xffff, 0x0b, 0xff, 0xff);
	INT(0x10000, 0x0c, 0x00, 0x00, 0x01, 0x00);
	INT(0xffffffffu, 0x0c, 0xff, 0xff, 0xff, 0xff);
	INT(0x100000000ULL, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
	INT(UINT64_MAX, 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
#undef INT
}

static void test_names_strings(void)
{
	static const char *const bad[] = { "", "_sb_", "1ABC", "ABCDE",
		"A..B", ".A", "A.", "\\^A", "^\\A", "A-B", "\\\\" };
	uint8_t mem[64];
	struct aml_buf b;
	uint32_t v;

#define NAME(s, ...) do { aml_init(&b, mem, sizeof(mem)); \
	aml_name_string(&b, s); EXPECT(&b, __VA_ARGS__); } while (0)
	NAME("_SB", '_', 'S', 'B', '_');
	NAME("_HID", '_', 'H', 'I', 'D');
	NAME("\\", 0x5c, 0x00);
	NAME("\\_SB_", 0x5c, '_', 'S', 'B', '_');
	NAME("\\_SB_.VR0F", 0x5c, 0x2e, '_', 'S', 'B', '_', 'V', 'R', '0', 'F');
	NAME("^^FOO", 0x5e, 0x5e, 'F', 'O', 'O', '_');
	NAME("A.B.C", 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_',
	     'C', '_', '_', '_');
#undef NAME
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&b, mem, sizeof(mem));
		aml_name_string(&b, bad[i]);
		CHECK(b.invalid && !b.overflow && b.len == 0);
	}

	aml_init(&b, mem, sizeof(mem));
	aml_string(&b, "LNRO0005");
	EXPECT(&b, 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_string(&b, "");
	EXPECT(&b, 0x0d, 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_string(&b, "caf\xc3\xa9");
	CHECK(b.invalid && b.len == 0);

	CHECK(aml_eisaid_encode("PNP0501", &v));
	CHECK_EQ(v, 0x0105d041);
	CHECK(aml_eisaid_encode("PNP0A03", &v));
	CHECK_EQ(v, 0x030ad041);
	CHECK(aml_eisaid_encode("PNP0B00", &v));
	CHECK_EQ(v, 0x000bd041);
	v = 42;
	CHECK(!aml_eisaid_encode("pnp0501", &v));
	CHECK(!aml_eisaid_encode("PNP050", &v));
	CHECK(!aml_eisaid_encode("PNP05011", &v));
	CHECK(!aml_eisaid_encode("PNP050g", &v));
	CHECK_EQ(v, 42);
	aml_init(&b, mem, sizeof(mem));
	aml_eisaid(&b, "PNP0501");
	EXPECT(&b, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml_init(&b, mem, sizeof(mem));
	aml_eisaid(&b, "PNP05");
	CHECK(b.invalid && b.len == 0);
}

static void test_nesting_resources(void)
{
	uint8_t mem[512];
	struct aml_buf b;
	struct aml_mark sb, dev, crs, pkg;
	size_t n;

	/* Scope (\_SB) { Device (VR00) { Name (_HID, "LNRO0005") } } */
	aml_init(&b, mem, sizeof(mem));
	sb = aml_scope_begin(&b, "\\_SB_");
	dev = aml_device_begin(&b, "VR00");
	aml_name(&b, "_HID");
	aml_string(&b, "LNRO0005");
	aml_end(&b, dev);
	aml_end(&b, sb);
	EXPECT(&b, 0x10, 0x1c, 0x5c, '_', 'S', 'B', '_',
	       0x5b, 0x82, 0x14, 'V', 'R', '0', '0',
	       0x08, '_', 'H', 'I', 'D',
	       0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00);

	/* An inner body over 63 bytes: both PkgLengths take 2 bytes. */
	aml_init(&b, mem, sizeof(mem));
	sb = aml_scope_begin(&b, "\\_SB_");
	dev = aml_device_begin(&b, "DEV0");
	for (int i = 0; i < 10; i++) {
		aml_name(&b, "ABCD");
		aml_integer(&b, 0x12345678);	/* 10 bytes each */
	}
	aml_end(&b, dev);
	aml_end(&b, sb);
	CHECK(aml_ok(&b));
	/* device: 4 + 100 = 104 body, PkgLength 106; scope: 5 + 2 + 106 */
	CHECK_EQ(pkglen_decode(mem + 1, &n), 2 + 5 + 2 + 106);
	CHECK_EQ(n, 2);
	CHECK_EQ(mem[1 + n + 5], 0x5b);
	CHECK_EQ(mem[1 + n + 6], 0x82);
	CHECK_EQ(pkglen_decode(mem + 1 + n + 7, &n), 106);
	CHECK_EQ(b.len, 1 + 2 + 5 + 2 + 106);

	/* Name (\_S5, Package (4) { 5, 0, 0, 0 }) */
	aml_init(&b, mem, sizeof(mem));
	aml_name(&b, "\\_S5_");
	pkg = aml_package_begin(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_end(&b, pkg);
	EXPECT(&b, 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
	       0x0a, 0x05, 0x00, 0x00, 0x00);

	/* Each descriptor's bytes (ACPI 6.5 section 6.4). */
	aml_init(&b, mem, sizeof(mem));
	aml_res_memory32_fixed(&b, true, 0xd0000000, 0x2000);
	EXPECT(&b, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
	       0x00, 0x20, 0x00, 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_res_memory32_fixed(&b, false, 0x12345678, 0x1000);
	EXPECT(&b, 0x86, 0x09, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12,
	       0x00, 0x10, 0x00, 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_res_interrupt(&b, AML_IRQ_CONSUMER, 5);
	EXPECT(&b, 0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_res_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_EDGE |
			  AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED, 0x123);
	EXPECT(&b, 0x89, 0x06, 0x00, 0x0f, 0x01, 0x23, 0x01, 0x00, 0x00);
	aml_init(&b, mem, sizeof(mem));
	aml_res_interrupt(&b, 0x20, 5);
	CHECK(b.invalid && b.len == 0);
	aml_init(&b, mem, sizeof(mem));
	aml_res_irq_noflags(&b, 16);
	CHECK(b.invalid && b.len == 0);

	/* ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 0, 8)
	 * IRQNoFlags () { 4 } }: 13 bytes with the End Tag. */
	aml_init(&b, mem, sizeof(mem));
	crs = aml_restemplate_begin(&b);
	aml_res_io16(&b, 0x3f8, 0x3f8, 0, 8);
	aml_res_irq_noflags(&b, 4);
	aml_restemplate_end(&b, crs);
	EXPECT(&b, 0x11, 0x10, 0x0a, 0x0d,
	       0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08,
	       0x22, 0x10, 0x00,
	       0x79, 0x00);

	/* A mark past the end is a caller bug, not a write anywhere. */
	aml_init(&b, mem, sizeof(mem));
	aml_end(&b, (struct aml_mark){ .at = 5 });
	CHECK(b.invalid && b.len == 0);
}

/* A DSDT-shaped sequence; returns its length when it fits. */
static size_t emit_sample(struct aml_buf *b)
{
	struct aml_mark sb, dev, crs, pkg;

	sb = aml_scope_begin(b, "\\_SB_");
	for (int i = 0; i < 3; i++) {
		dev = aml_device_begin(b, "VR00");
		aml_name(b, "_HID");
		aml_string(b, "LNRO0005");
		aml_name(b, "_UID");
		aml_integer(b, (uint64_t)i);
		aml_name(b, "_CRS");
		crs = aml_restemplate_begin(b);
		aml_res_memory32_fixed(b, true, 0xd0000000, 0x2000);
		aml_res_interrupt(b, AML_IRQ_CONSUMER, 5);
		aml_restemplate_end(b, crs);
		aml_end(b, dev);
	}
	dev = aml_device_begin(b, "COM1");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_res_io16(b, 0x3f8, 0x3f8, 0, 8);
	aml_res_irq_noflags(b, 4);
	aml_restemplate_end(b, crs);
	aml_end(b, dev);
	aml_end(b, sb);
	aml_name(b, "\\_S5_");
	pkg = aml_package_begin(b, 1);
	aml_integer(b, 0x123456789ULL);
	aml_end(b, pkg);
	return b->len;
}

/* Every capacity short of what the sequence needs: overflow, nothing
 * written past cap (each buffer is a malloc of exactly cap bytes, so
 * ASan would catch a stray byte), len within cap, and further writes
 * ignored. */
static void test_overflow(void)
{
	uint8_t big[1024];
	struct aml_buf b;
	size_t need, bad = 0;

	aml_init(&b, big, sizeof(big));
	need = emit_sample(&b);
	CHECK(aml_ok(&b));
	CHECK(need > 100);
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *mem = malloc(cap ? cap : 1);

		aml_init(&b, mem, cap);
		emit_sample(&b);
		if (!b.overflow || b.len > cap || aml_ok(&b))
			bad++;
		aml_byte(&b, 0);
		if (b.len > cap)
			bad++;
		free(mem);
	}
	CHECK_EQ(bad, 0);

	aml_init(&b, NULL, 100);
	aml_byte(&b, 1);
	CHECK(b.overflow && b.len == 0);
}

/* ---- tables ---- */

static struct acpi_platform platform(unsigned int cpus, unsigned int nvirtio,
				     const uint32_t *gsis)
{
	struct acpi_platform p = {
		.nr_cpus = cpus,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.ioapic_pins = 24,
		.nr_virtio = nvirtio,
		.com1 = true,
		.i8042 = true,
		.pvpanic_port = 0x505,
		.sleep_control_port = 0x600,
		.sleep_status_port = 0x601,
		.reset_port = 0x602,
		.reset_value = 1,
	};

	for (unsigned int i = 0; i < nvirtio && i < ACPI_MAX_VIRTIO; i++) {
		p.virtio[i].base = 0xd0000000 + 0x2000 * i;
		p.virtio[i].size = 0x2000;
		p.virtio[i].gsi = gsis ? gsis[i] : 5 + i;
	}
	return p;
}

struct tables {
	size_t n;
	const uint8_t *rsdp, *xsdt, *facp, *apic, *dsdt;
};

/* Checks the header of the table at gpa addr: in bounds, 8-byte aligned,
 * signature, length, checksum, ids. Returns it or NULL. */
static const uint8_t *table_at(const uint8_t *buf, size_t n, uint64_t gpa,
			       uint64_t addr, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	CHECK(addr >= gpa && addr - gpa + 36 <= n);
	if (addr < gpa || addr - gpa + 36 > n)
		return NULL;
	CHECK_EQ((addr - gpa) % 8, 0);
	t = buf + (addr - gpa);
	CHECK(!memcmp(t, sig, 4));
	len = le32_at(t + 4);
	CHECK(len >= 36 && addr - gpa + len <= n);
	if (len < 36 || addr - gpa + len > n)
		return NULL;
	CHECK_EQ(sum(t, len), 0);
	CHECK(!memcmp(t + 10, "MMVM  ", 6));
	CHECK(!memcmp(t + 16, "MMVMVM  ", 8));
	CHECK_EQ(le32_at(t + 24), 1);
	CHECK(!memcmp(t + 28, "MMVM", 4));
	CHECK_EQ(le32_at(t + 32), 1);
	return memcmp(t, sig, 4) ? NULL : t;
}

/* Builds p's tables into buf and finds each one from the RSDP, checking
 * every header on the way. */
static struct tables build(const struct acpi_platform *p, uint8_t *buf,
			   size_t len, uint64_t gpa)
{
	struct tables t = { 0 };
	const uint8_t *x;

	memset(buf, 0xa5, len);		/* padding must come out zeroed */
	t.n = acpi_build_tables(p, buf, len, gpa);
	CHECK(t.n > 0 && t.n <= len);
	if (!t.n)
		return t;
	t.rsdp = buf;
	CHECK(!memcmp(buf, "RSD PTR ", 8));
	CHECK_EQ(sum(buf, 20), 0);
	CHECK_EQ(sum(buf, 36), 0);
	CHECK(!memcmp(buf + 9, "MMVM  ", 6));
	CHECK_EQ(buf[15], 2);
	CHECK_EQ(le32_at(buf + 16), 0);
	CHECK_EQ(le32_at(buf + 20), 36);
	CHECK_EQ(buf[33] | buf[34] | buf[35], 0);
	x = t.xsdt = table_at(buf, t.n, gpa, le64_at(buf + 24), "XSDT");
	if (!x)
		return t;
	CHECK_EQ(le32_at(x + 4), 36 + 16);
	t.facp = table_at(buf, t.n, gpa, le64_at(x + 36), "FACP");
	t.apic = table_at(buf, t.n, gpa, le64_at(x + 44), "APIC");
	if (t.facp)
		t.dsdt = table_at(buf, t.n, gpa, le64_at(t.facp + 140),
				  "DSDT");
	CHECK(t.facp && t.apic && t.dsdt);
	/* The DSDT is last and its end is what was used. */
	if (t.dsdt)
		CHECK(t.dsdt + le32_at(t.dsdt + 4) == buf + t.n);
	/* Padding between tables is zero. */
	if (t.facp && t.apic && t.dsdt) {
		size_t ends[] = { 36, (size_t)(x - buf) + 52,
				  (size_t)(t.facp - buf) + 276,
				  (size_t)(t.apic - buf) + le32_at(t.apic + 4) };
		size_t starts[] = { (size_t)(x - buf), (size_t)(t.facp - buf),
				    (size_t)(t.apic - buf),
				    (size_t)(t.dsdt - buf) };
		bool zero = true;

		for (int i = 0; i < 4; i++)
			for (size_t k = ends[i]; k < starts[i]; k++)
				zero &= buf[k] == 0;
		CHECK(zero);
	}
	return t;
}

static bool gas_io8(const uint8_t *g, uint16_t port)
{
	return g[0] == 1 && g[1] == 8 && g[2] == 0 && g[3] == 1 &&
	       le64_at(g + 4) == port;
}

static void test_fadt(void)
{
	static uint8_t buf[8192];
	struct acpi_platform p = platform(2, 3, NULL);
	struct tables t = build(&p, buf, sizeof(buf), GPA);
	const uint8_t *f = t.facp;
	bool zero = true;

	if (!f)
		return;
	CHECK_EQ(le32_at(f + 4), 276);
	CHECK_EQ(f[8], 6);
	CHECK_EQ(f[131], 5);			/* minor version */
	CHECK_EQ(le32_at(f + 112), (1u << 20) | (1u << 10) | (1u << 4) |
		 (1u << 5));
	CHECK_EQ(le16_at(f + 109), (1u << 2) | (1u << 1));	/* no VGA, 8042 */
	CHECK_EQ(le32_at(f + 40), GPA + (size_t)(t.dsdt - buf));
	CHECK_EQ(le64_at(f + 140), GPA + (size_t)(t.dsdt - buf));
	CHECK_EQ(le32_at(f + 36), 0);		/* no FACS */
	CHECK_EQ(le64_at(f + 132), 0);
	CHECK(gas_io8(f + 244, 0x600));		/* SLEEP_CONTROL_REG */
	CHECK(gas_io8(f + 256, 0x601));		/* SLEEP_STATUS_REG */
	CHECK(gas_io8(f + 116, 0x602));		/* RESET_REG */
	CHECK_EQ(f[128], 1);			/* RESET_VALUE */
	CHECK(!memcmp(f + 268, "MMVM    ", 8));
	/* SCI_INT, SMI_CMD, every PM1/PM2/PM_TMR/GPE block, CENTURY... */
	for (size_t i = 44; i < 109; i++)
		zero &= f[i] == 0;
	for (size_t i = 148; i < 244; i++)	/* X_PM1a_EVT_BLK..X_GPE1 */
		zero &= f[i] == 0;
	zero &= f[111] == 0 && f[129] == 0 && f[130] == 0;
	CHECK(zero);
	/* Without the i8042, its flag stays clear. */
	p.i8042 = false;
	t = build(&p, buf, sizeof(buf), GPA);
	if (t.facp)
		CHECK_EQ(le16_at(t.facp + 109), 1u << 2);

	/* Tables above 4 GiB: no 32-bit DSDT pointer, X_DSDT still set. */
	t = build(&p, buf, sizeof(buf), 0x100000000ULL);
	if (t.facp) {
		CHECK_EQ(le32_at(t.facp + 40), 0);
		CHECK_EQ(le64_at(t.facp + 140),
			 0x100000000ULL + (size_t)(t.dsdt - buf));
	}
}

/* Walks the MADT's entries, checking each against p. */
static void check_madt(const uint8_t *m, const struct acpi_platform *p)
{
	uint32_t len = le32_at(m + 4);
	const uint8_t *e = m + 44, *end = m + len;
	unsigned int lapics = 0, ioapics = 0, nmis = 0, isos = 0;
	unsigned int want_isos = 1;
	bool seen[16] = { false };

	CHECK_EQ(m[8], 5);
	CHECK_EQ(le32_at(m + 36), 0xfee00000);
	CHECK_EQ(le32_at(m + 40), 1);		/* PCAT_COMPAT */
	for (unsigned int i = 0; i < p->nr_virtio; i++)
		if (p->virtio[i].gsi < 16 && !seen[p->virtio[i].gsi]) {
			seen[p->virtio[i].gsi] = true;
			want_isos++;
		}
	memset(seen, 0, sizeof(seen));
	while (e < end) {
		CHECK(e[1] >= 2 && e + e[1] <= end);
		if (e[1] < 2 || e + e[1] > end)
			return;
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], 8);
			CHECK_EQ(e[2], lapics);		/* UID */
			CHECK_EQ(e[3], lapics);		/* APIC ID */
			CHECK_EQ(le32_at(e + 4), 1);	/* enabled */
			lapics++;
			break;
		case 1:
			CHECK_EQ(e[1], 12);
			CHECK_EQ(e[2], 0);
			CHECK_EQ(le32_at(e + 4), 0xfec00000);
			CHECK_EQ(le32_at(e + 8), 0);
			ioapics++;
			break;
		case 2:
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0);
			if (e[3] == 0) {
				CHECK_EQ(le32_at(e + 4), 2);
				CHECK_EQ(le16_at(e + 8), 0);
			} else {
				CHECK(e[3] < 16 && !seen[e[3]]);
				if (e[3] < 16)
					seen[e[3]] = true;
				CHECK_EQ(le32_at(e + 4), e[3]);
				CHECK_EQ(le16_at(e + 8), 0x0d);
			}
			isos++;
			break;
		case 4:
			CHECK_EQ(e[1], 6);
			CHECK_EQ(e[2], 0xff);
			CHECK_EQ(le16_at(e + 3), 0);
			CHECK_EQ(e[5], 1);
			nmis++;
			break;
		default:
			CHECK_EQ(e[0], -1);
		}
		e += e[1];
	}
	CHECK(e == end);
	CHECK_EQ(lapics, p->nr_cpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(nmis, 1);
	CHECK_EQ(isos, want_isos);
	CHECK_EQ(len, 44 + 8 * p->nr_cpus + 12 + 10 * want_isos + 6);
}

static void test_madt(void)
{
	static uint8_t buf[16384];
	static const uint32_t low[] = { 5, 6, 7 }, high[] = { 16, 17, 23 },
		mixed[] = { 5, 16, 5, 11 };
	static const struct {
		unsigned int cpus, nvirtio;
		const uint32_t *gsis;
	} cases[] = {
		{ 1, 0, NULL }, { 4, 0, NULL }, { 1, 3, low }, { 4, 3, low },
		{ 1, 3, high }, { 4, 3, high }, { 4, 4, mixed }, { 255, 3, low },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acpi_platform p = platform(cases[i].cpus,
						  cases[i].nvirtio,
						  cases[i].gsis);
		struct tables t = build(&p, buf, sizeof(buf), GPA);

		if (t.apic)
			check_madt(t.apic, &p);
	}
}

static bool has(const uint8_t *p, size_t n, const void *s, size_t sn)
{
	return memmem(p, n, s, sn) != NULL;
}

static size_t count(const uint8_t *p, size_t n, const char *s)
{
	size_t c = 0, sn = strlen(s);
	const uint8_t *q = p, *end = p + n;

	while ((q = memmem(q, (size_t)(end - q), s, sn)) != NULL) {
		c++;
		q += sn;
	}
	return c;
}

/* Walks the DSDT's top level: Scope (\_SB) holding exactly the expected
 * devices, tiled end to end, then Name (\_S5, Package...) ending the
 * table. */
static void check_dsdt(const uint8_t *d, const struct acpi_platform *p)
{
	uint32_t len = le32_at(d + 4);
	const uint8_t *a = d + 36, *end = d + len, *q, *scope_end;
	unsigned int devs = 0;
	size_t n, v;
	char want[5];

	CHECK_EQ(d[8], 2);
	CHECK_EQ(a[0], 0x10);
	v = pkglen_decode(a + 1, &n);
	scope_end = a + 1 + v;
	CHECK(scope_end <= end);
	CHECK(!memcmp(a + 1 + n, "\\_SB_", 5));
	q = a + 1 + n + 5;
	while (q < scope_end) {
		CHECK(q[0] == 0x5b && q[1] == 0x82);
		if (q[0] != 0x5b || q[1] != 0x82)
			return;
		v = pkglen_decode(q + 2, &n);
		if (devs < p->nr_virtio)
			snprintf(want, sizeof(want), "VR%02X", devs & 0xff);
		else if (devs == p->nr_virtio && p->com1)
			memcpy(want, "COM1", 5);
		else if (devs == p->nr_virtio + p->com1 && p->i8042)
			memcpy(want, "KBD0", 5);
		else
			memcpy(want, "PEVT", 5);
		CHECK(!memcmp(q + 2 + n, want, 4));
		q += 2 + v;
		devs++;
	}
	CHECK(q == scope_end);
	CHECK_EQ(devs, p->nr_virtio + p->com1 + p->i8042 + !!p->pvpanic_port);
	{
		static const uint8_t s5[] = { 0x08, 0x5c, '_', 'S', '5', '_',
			0x12, 0x07, 0x04, 0x0a, ACPI_S5_SLP_TYP, 0, 0, 0 };

		CHECK_EQ(end - scope_end, sizeof(s5));
		CHECK(!memcmp(scope_end, s5, sizeof(s5)));
	}
	CHECK_EQ(count(d, len, "LNRO0005"), p->nr_virtio);
	CHECK_EQ(count(d, len, "QEMU0001"), !!p->pvpanic_port);
	CHECK_EQ(has(d, len, "\x0c\x41\xd0\x05\x01", 5), p->com1);
	CHECK_EQ(has(d, len, "\x0c\x41\xd0\x03\x03", 5), p->i8042);
}

static void test_dsdt(void)
{
	static uint8_t buf[65536];
	struct acpi_platform p = platform(2, 3, NULL);
	struct tables t = build(&p, buf, sizeof(buf), GPA);

	if (t.dsdt) {
		uint32_t len = le32_at(t.dsdt + 4);
		/* VR01's _CRS: Memory32Fixed at 0xd0002000, size 0x2000, and
		 * Interrupt (ResourceConsumer, Level, ActiveHigh,
		 * Exclusive) { 6 } */
		static const uint8_t crs1[] = { 0x86, 0x09, 0x00, 0x01,
			0x00, 0x20, 0x00, 0xd0, 0x00, 0x20, 0x00, 0x00,
			0x89, 0x06, 0x00, 0x01, 0x01, 0x06, 0, 0, 0,
			0x79, 0x00 };
		static const uint8_t pevt[] = { 0x47, 0x01, 0x05, 0x05,
			0x05, 0x05, 0x01, 0x01, 0x79, 0x00 };
		/* KBD0's _CRS: IO 0x60, IO 0x64, IRQNoFlags { 1 } */
		static const uint8_t kbd[] = { 0x47, 0x01, 0x60, 0x00,
			0x60, 0x00, 0x01, 0x01, 0x47, 0x01, 0x64, 0x00, 0x64,
			0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00 };

		check_dsdt(t.dsdt, &p);
		CHECK(has(t.dsdt, len, crs1, sizeof(crs1)));
		CHECK(has(t.dsdt, len, pevt, sizeof(pevt)));
		CHECK(has(t.dsdt, len, kbd, sizeof(kbd)));
		CHECK(has(t.dsdt, len, "\x08_UID\x0a\x02", 7));	/* VR02 */
	}

	/* Nothing optional: an empty \_SB scope and \_S5. */
	p = platform(1, 0, NULL);
	p.com1 = false;
	p.i8042 = false;
	p.pvpanic_port = 0;
	t = build(&p, buf, sizeof(buf), GPA);
	if (t.dsdt)
		check_dsdt(t.dsdt, &p);

	/* The most: 255 CPUs, 16 virtio devices (VR00..VR0F). */
	p = platform(255, ACPI_MAX_VIRTIO, NULL);
	for (unsigned int i = 0; i < ACPI_MAX_VIRTIO; i++)
		p.virtio[i].gsi = 5 + i % 19;
	t = build(&p, buf, sizeof(buf), GPA);
	if (t.dsdt) {
		check_dsdt(t.dsdt, &p);
		CHECK(has(t.dsdt, le32_at(t.dsdt + 4), "VR0F", 4));
	}
	if (t.apic)
		check_madt(t.apic, &p);
}

static void test_invalid(void)
{
	static uint8_t buf[16384];
	struct acpi_platform p = platform(2, 3, NULL);
	size_t need;

	CHECK_EQ(acpi_build_tables(NULL, buf, sizeof(buf), GPA), 0);
	CHECK_EQ(acpi_build_tables(&p, NULL, sizeof(buf), GPA), 0);
	p.nr_cpus = 0;
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p.nr_cpus = 256;
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p.nr_cpus = 255;
	CHECK(acpi_build_tables(&p, buf, sizeof(buf), GPA) > 0);
	p = platform(2, ACPI_MAX_VIRTIO, NULL);
	CHECK(acpi_build_tables(&p, buf, sizeof(buf), GPA) > 0);
	p.nr_virtio = ACPI_MAX_VIRTIO + 1;
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p = platform(2, 3, NULL);
	p.virtio[1].base = 0x100000000ULL;	/* not a Memory32Fixed */
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p = platform(2, 3, NULL);
	p.virtio[1].base = 0xfffff000;
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p.virtio[1].size = 0x1000;		/* ends exactly at 4 GiB */
	CHECK(acpi_build_tables(&p, buf, sizeof(buf), GPA) > 0);
	p = platform(2, 3, NULL);
	p.virtio[2].gsi = 24;			/* no such pin */
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p.virtio[2].gsi = 2;			/* the timer's */
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p = platform(2, 3, NULL);
	p.lapic_addr = 0x100000000ULL;
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), GPA), 0);
	p = platform(2, 3, NULL);
	CHECK_EQ(acpi_build_tables(&p, buf, sizeof(buf), UINT64_MAX - 100), 0);

	/* Every buffer too small by any amount fails without writing past
	 * it (exact-size mallocs under ASan). */
	need = acpi_build_tables(&p, buf, sizeof(buf), GPA);
	CHECK(need > 0);
	for (size_t len = 0; len < need; len++) {
		uint8_t *mem = malloc(len ? len : 1);

		if (acpi_build_tables(&p, mem, len, GPA) != 0) {
			CHECK_EQ(len, -1);
			free(mem);
			break;
		}
		free(mem);
	}
	{
		uint8_t *mem = malloc(need);

		CHECK_EQ(acpi_build_tables(&p, mem, need, GPA), need);
		free(mem);
	}
}

static void dump(const char *dir, const char *name, const uint8_t *t,
		 size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(t, 1, len, f), len);
	CHECK_EQ(fclose(f), 0);
}

/* The representative platform the iasl decode test reads. */
static void test_dump(void)
{
	static uint8_t buf[8192];
	const char *dir = getenv("MMVM_ACPI_DUMP_DIR");
	struct acpi_platform p = platform(2, 3, NULL);
	struct tables t;

	if (!dir || !*dir)
		return;
	t = build(&p, buf, sizeof(buf), GPA);
	if (!t.xsdt || !t.facp || !t.apic || !t.dsdt)
		return;
	dump(dir, "rsdp", t.rsdp, 36);
	dump(dir, "xsdt", t.xsdt, le32_at(t.xsdt + 4));
	dump(dir, "facp", t.facp, le32_at(t.facp + 4));
	dump(dir, "apic", t.apic, le32_at(t.apic + 4));
	dump(dir, "dsdt", t.dsdt, le32_at(t.dsdt + 4));
}

int main(void)
{
	RUN(test_pkglen_encode);
	RUN(test_pkglen_end);
	RUN(test_integers);
	RUN(test_names_strings);
	RUN(test_nesting_resources);
	RUN(test_overflow);
	RUN(test_fadt);
	RUN(test_madt);
	RUN(test_dsdt);
	RUN(test_invalid);
	RUN(test_dump);
	return unit_finish("acpi");
}
