/* AML encoder (aml.h). Opcodes and grammar are from ACPI 6.5 section 20.2,
 * resource descriptors from section 6.4. */
#include <string.h>

#include "acpi/aml.h"
#include "boot/le.h"

/* Section 20.2 opcodes. */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		0x5c	/* '\' */
#define AML_PARENT_PREFIX	0x5e	/* '^' */
#define AML_NULL_NAME		0x00

/* Section 6.4 descriptor headers: a small item is one byte, type 0, tag
 * in bits 6:3 and length in bits 2:0; a large item is bit 7 set and the
 * tag, then a 16-bit length of what follows the 3-byte header. */
#define RES_IRQ_NOFLAGS		0x22	/* tag 0x04, length 2 */
#define RES_IO			0x47	/* tag 0x08, length 7 */
#define RES_END_TAG		0x79	/* tag 0x0f, length 1 */
#define RES_MEMORY32_FIXED	0x86
#define RES_MEMORY32_FIXED_LEN	9
#define RES_EXT_IRQ		0x89
#define RES_EXT_IRQ_LEN		6	/* flags, count, one DWORD */
#define RES_IO_DECODE16		0x01
#define RES_MEM_WRITABLE	0x01

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = data ? cap : 0;
	b->overflow = false;
	b->invalid = false;
}

bool aml_ok(const struct aml_buf *b)
{
	return !b->overflow && !b->invalid;
}

/* Room for n more bytes? Sets overflow if not; false after any error. */
static bool room(struct aml_buf *b, size_t n)
{
	if (!aml_ok(b))
		return false;
	if (n > b->cap - b->len) {
		b->overflow = true;
		return false;
	}
	return true;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

/* Section 20.2.4: bits 7:6 of the lead byte count the bytes that follow
 * it (0..3). With none, bits 5:0 are the length (up to 63); otherwise
 * bits 3:0 are its low nibble and each following byte the next 8 bits.
 * The length includes the PkgLength itself, so which form fits depends on
 * the body plus the form's own size. */
size_t aml_pkglen_encode(uint8_t out[4], size_t body)
{
	size_t total;

	if (body < 0x3f) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	if (body > AML_PKGLEN_MAX)
		return 0;
	for (size_t n = 2; n <= 4; n++) {
		total = body + n;
		if (total >> (4 + 8 * (n - 1)))
			continue;
		out[0] = (uint8_t)((n - 1) << 6 | (total & 0x0f));
		for (size_t i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

/* Section 20.2.3: ZeroOp and OneOp, else the smallest prefixed form. The
 * DSDT is revision 2, so integers are 64 bits and a QWord is legal.
 * OnesOp is not used: its value depends on the table revision. */
static size_t integer_encode(uint8_t out[9], uint64_t v)
{
	size_t n;

	if (v <= 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffffu) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[9];

	aml_bytes(b, enc, integer_encode(enc, v));
}

void aml_string(struct aml_buf *b, const char *s)
{
	size_t n;

	if (!aml_ok(b))
		return;
	n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7f) {
			b->invalid = true;
			return;
		}
	if (!room(b, n + 2))
		return;
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, n + 1);		/* with its NullChar */
}

/* LeadNameChar is 'A'-'Z' or '_', NameChar adds '0'-'9' (20.2.2). */
static bool name_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!lead && c >= '0' && c <= '9');
}

/* Parses path; returns false if malformed. *prefix is the number of
 * leading '\' / '^' characters, *segs the number of NameSegs after them. */
static bool name_parse(const char *path, size_t *prefix, size_t *segs)
{
	const char *p = path;
	size_t n = 0, seglen = 0;

	if (*p == '\\')
		p++;
	else
		while (*p == '^')
			p++;
	*prefix = (size_t)(p - path);
	if (!*p) {
		*segs = 0;
		return *prefix > 0;	/* "\" or "^": NullName after it */
	}
	for (;; p++) {
		if (*p == '.' || !*p) {
			if (!seglen)
				return false;
			n++;
			seglen = 0;
			if (!*p)
				break;
			continue;
		}
		if (seglen == 4 || !name_char(*p, seglen == 0))
			return false;
		seglen++;
	}
	*segs = n;
	return n <= 255;
}

void aml_name_string(struct aml_buf *b, const char *path)
{
	size_t prefix, segs, need;
	const char *p;

	if (!aml_ok(b))
		return;
	if (!name_parse(path, &prefix, &segs)) {
		b->invalid = true;
		return;
	}
	need = prefix + 4 * segs + (segs == 0 || segs == 2 ? 1 :
				    segs > 2 ? 2 : 0);
	if (!room(b, need))
		return;
	aml_bytes(b, path, prefix);	/* '\' and '^' are their own codes */
	if (segs == 0) {
		aml_byte(b, AML_NULL_NAME);
		return;
	}
	if (segs == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)segs);
	}
	p = path + prefix;
	for (size_t i = 0; i < segs; i++) {
		char seg[4] = { '_', '_', '_', '_' };
		size_t k = 0;

		while (*p && *p != '.')
			seg[k++] = *p++;
		if (*p == '.')
			p++;
		aml_bytes(b, seg, 4);
	}
}

/* The EISA id compression ASL's EISAID() does: each letter is 5 bits
 * (c - 0x40), giving 15 bits with the product number's 16 after them;
 * the result is stored big-endian, so read as a little-endian DWord
 * "PNP0501" is 0x0105d041. */
bool aml_eisaid_encode(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return false;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return false;
		v = v << 5 | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = __builtin_bswap32(v);
	return true;
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint8_t enc[5] = { AML_DWORD_PREFIX };
	uint32_t v;

	if (!aml_ok(b))
		return;
	if (!aml_eisaid_encode(id, &v)) {
		b->invalid = true;
		return;
	}
	put_le32(enc + 1, v);
	aml_bytes(b, enc, sizeof(enc));
}

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_name_string(b, name);
}

static struct aml_mark mark(const struct aml_buf *b, bool buffer)
{
	return (struct aml_mark){ .at = b->len, .buffer = buffer };
}

/* DefScope := ScopeOp PkgLength NameString TermList (20.2.5.1) */
struct aml_mark aml_scope_begin(struct aml_buf *b, const char *name)
{
	struct aml_mark m;

	aml_byte(b, AML_SCOPE_OP);
	m = mark(b, false);
	aml_name_string(b, name);
	return m;
}

/* DefDevice := DeviceOp PkgLength NameString TermList (20.2.5.2) */
struct aml_mark aml_device_begin(struct aml_buf *b, const char *name)
{
	struct aml_mark m;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	m = mark(b, false);
	aml_name_string(b, name);
	return m;
}

/* DefPackage := PackageOp PkgLength NumElements PackageElementList
 * (20.2.5.4) */
struct aml_mark aml_package_begin(struct aml_buf *b, uint8_t count)
{
	struct aml_mark m;

	aml_byte(b, AML_PACKAGE_OP);
	m = mark(b, false);
	aml_byte(b, count);
	return m;
}

/* DefBuffer := BufferOp PkgLength BufferSize ByteList (20.2.5.4); the
 * BufferSize TermArg is inserted with the PkgLength by aml_end(). */
struct aml_mark aml_buffer_begin(struct aml_buf *b)
{
	aml_byte(b, AML_BUFFER_OP);
	return mark(b, true);
}

void aml_end(struct aml_buf *b, struct aml_mark m)
{
	uint8_t hdr[4 + 9];
	size_t body, inner, n, sz = 0;

	if (!aml_ok(b))
		return;
	if (m.at > b->len) {
		b->invalid = true;
		return;
	}
	body = b->len - m.at;
	if (m.buffer)
		sz = integer_encode(hdr + 4, body);
	inner = sz + body;
	n = aml_pkglen_encode(hdr, inner);
	if (!n) {
		b->invalid = true;
		return;
	}
	memmove(hdr + n, hdr + 4, sz);
	if (!room(b, n + sz))
		return;
	memmove(b->data + m.at + n + sz, b->data + m.at, body);
	memcpy(b->data + m.at, hdr, n + sz);
	b->len += n + sz;
}

struct aml_mark aml_restemplate_begin(struct aml_buf *b)
{
	return aml_buffer_begin(b);
}

/* The End Tag's checksum byte may be 0, "treated as if the checksum
 * operation yielded zero" (section 6.4.2.9). */
void aml_restemplate_end(struct aml_buf *b, struct aml_mark m)
{
	static const uint8_t end[2] = { RES_END_TAG, 0 };

	aml_bytes(b, end, sizeof(end));
	aml_end(b, m);
}

void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t size)
{
	uint8_t d[3 + RES_MEMORY32_FIXED_LEN] = { RES_MEMORY32_FIXED };

	put_le16(d + 1, RES_MEMORY32_FIXED_LEN);
	d[3] = writable ? RES_MEM_WRITABLE : 0;
	put_le32(d + 4, base);
	put_le32(d + 8, size);
	aml_bytes(b, d, sizeof(d));
}

void aml_res_interrupt(struct aml_buf *b, uint8_t flags, uint32_t irq)
{
	uint8_t d[3 + RES_EXT_IRQ_LEN] = { RES_EXT_IRQ };

	if (flags & ~0x1f) {		/* bits 7:5 are reserved */
		if (aml_ok(b))
			b->invalid = true;
		return;
	}
	put_le16(d + 1, RES_EXT_IRQ_LEN);
	d[3] = flags;
	d[4] = 1;			/* interrupt table length */
	put_le32(d + 5, irq);
	aml_bytes(b, d, sizeof(d));
}

void aml_res_io16(struct aml_buf *b, uint16_t min, uint16_t max,
		  uint8_t align, uint8_t len)
{
	uint8_t d[8] = { RES_IO, RES_IO_DECODE16 };

	put_le16(d + 2, min);
	put_le16(d + 4, max);
	d[6] = align;
	d[7] = len;
	aml_bytes(b, d, sizeof(d));
}

void aml_res_irq_noflags(struct aml_buf *b, unsigned int irq)
{
	uint8_t d[3] = { RES_IRQ_NOFLAGS };

	if (irq > 15) {
		if (aml_ok(b))
			b->invalid = true;
		return;
	}
	put_le16(d + 1, (uint16_t)(1u << irq));
	aml_bytes(b, d, sizeof(d));
}
