/* A small AML (ACPI Machine Language) byte-code builder: just what mmvm's
 * DSDT needs (ACPI 6.5 chapter 20 for the encoding, section 6.4 for the
 * resource descriptors).
 *
 * Everything is appended to a caller-supplied, bounded buffer. A write
 * that does not fit sets `overflow` and writes nothing; a bad argument (a
 * malformed name, a non-ASCII string) sets `invalid`. Both are sticky:
 * after either, every call is a no-op, so a builder can emit a whole table
 * and check aml_ok() once at the end. Nothing is ever written at or past
 * data + cap.
 *
 * Constructs with a PkgLength (Scope, Device, Package, Buffer) are opened
 * with *_begin(), which returns a mark, filled with their contents, and
 * closed with aml_end(mark), innermost first. aml_end() inserts the
 * PkgLength (and a Buffer's size) in front of the body, moving the body up
 * by the 1 to 4 bytes the encoding needs, so nesting needs no guessing of
 * sizes up front. */
#ifndef MMVM_ACPI_AML_H
#define MMVM_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	bool overflow;		/* a write did not fit in cap */
	bool invalid;		/* a bad argument */
};

/* An open construct: where its PkgLength goes, and whether it is a
 * Buffer (whose BufferSize follows the PkgLength). */
struct aml_mark {
	size_t at;
	bool buffer;
};

/* The largest value a 4-byte PkgLength holds (28 bits, section 20.2.4). */
#define AML_PKGLEN_MAX		0x0fffffffu

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap);
bool aml_ok(const struct aml_buf *b);

/* Raw bytes. */
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/* The PkgLength for a body of `body` bytes that follows it: writes 1 to 4
 * bytes to out and returns how many, or 0 if body is too large. The
 * encoded value counts the PkgLength bytes themselves. */
size_t aml_pkglen_encode(uint8_t out[4], size_t body);

/* A NameString (section 20.2.2): an optional root "\" or parent "^"
 * prefixes, then NameSegs separated by dots, e.g. "\\_SB_.VR00", "_HID",
 * "^PCI0". Segments shorter than four characters are padded with '_' as
 * ASL does ("_SB" is "_SB_"). Upper-case letters, digits and '_' only; a
 * segment must not start with a digit. */
void aml_name_string(struct aml_buf *b, const char *path);

/* Data objects. */
void aml_integer(struct aml_buf *b, uint64_t v);	/* smallest encoding */
void aml_string(struct aml_buf *b, const char *s);	/* ASCII 1..0x7f */
/* EISAID("PNP0501"): three upper-case letters and four hex digits,
 * compressed into a 32-bit value; false (and *out untouched) if id is not
 * of that form. */
bool aml_eisaid_encode(const char *id, uint32_t *out);
void aml_eisaid(struct aml_buf *b, const char *id);	/* as a DWordConst */

/* Named objects: DefName is NameOp NameString followed by the one data
 * object the caller emits next. */
void aml_name(struct aml_buf *b, const char *name);
struct aml_mark aml_scope_begin(struct aml_buf *b, const char *name);
struct aml_mark aml_device_begin(struct aml_buf *b, const char *name);
/* DefPackage with `count` elements, which the caller then emits. */
struct aml_mark aml_package_begin(struct aml_buf *b, uint8_t count);
/* DefBuffer: the bytes emitted until aml_end() are its ByteList. */
struct aml_mark aml_buffer_begin(struct aml_buf *b);
void aml_end(struct aml_buf *b, struct aml_mark m);

/* ResourceTemplate(): a Buffer of resource descriptors closed by an End
 * Tag. */
struct aml_mark aml_restemplate_begin(struct aml_buf *b);
void aml_restemplate_end(struct aml_buf *b, struct aml_mark m);

/* Memory32Fixed(ReadWrite or ReadOnly, base, size), section 6.4.3.4. */
void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t size);

/* Interrupt(...) { irq }, the Extended Interrupt Descriptor, section
 * 6.4.3.6. Flags are the descriptor's own bits; 0 is ResourceProducer,
 * Level, ActiveHigh, Exclusive. */
#define AML_IRQ_CONSUMER	0x01
#define AML_IRQ_EDGE		0x02
#define AML_IRQ_ACTIVE_LOW	0x04
#define AML_IRQ_SHARED		0x08
#define AML_IRQ_WAKE		0x10
void aml_res_interrupt(struct aml_buf *b, uint8_t flags, uint32_t irq);

/* IO(Decode16, min, max, align, len), section 6.4.2.5. */
void aml_res_io16(struct aml_buf *b, uint16_t min, uint16_t max,
		  uint8_t align, uint8_t len);

/* IRQNoFlags() { irq }, the 2-byte IRQ Descriptor (edge, active high,
 * exclusive), section 6.4.2.1; irq 0..15. */
void aml_res_irq_noflags(struct aml_buf *b, unsigned int irq);

#endif
