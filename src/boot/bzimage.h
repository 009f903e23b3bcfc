/* Linux x86 bzImage validation (Documentation/arch/x86/boot.rst). Pure
 * code over a byte buffer so that it can be unit-tested and fuzzed. */
#ifndef MMVM_BOOT_BZIMAGE_H
#define MMVM_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Offsets of setup-header fields within the image / zero page. */
#define BZ_SETUP_SECTS		0x1f1
#define BZ_SYSSIZE		0x1f4
#define BZ_VID_MODE		0x1fa
#define BZ_BOOT_FLAG		0x1fe
#define BZ_JUMP			0x200
#define BZ_HEADER		0x202
#define BZ_VERSION		0x206
#define BZ_TYPE_OF_LOADER	0x210
#define BZ_LOADFLAGS		0x211
#define BZ_CODE32_START		0x214
#define BZ_RAMDISK_IMAGE	0x218
#define BZ_RAMDISK_SIZE		0x21c
#define BZ_HEAP_END_PTR		0x224
#define BZ_CMD_LINE_PTR		0x228
#define BZ_INITRD_ADDR_MAX	0x22c
#define BZ_KERNEL_ALIGNMENT	0x230
#define BZ_RELOCATABLE		0x234
#define BZ_XLOADFLAGS		0x236
#define BZ_CMDLINE_SIZE		0x238
#define BZ_PREF_ADDRESS		0x258
#define BZ_INIT_SIZE		0x260
#define BZ_HEADER_END		0x26c	/* end of the fields we know (2.15) */
#define BZ_HEADER_MAX		0x290	/* room for the header in boot_params */

#define BZ_HDRS_MAGIC		0x53726448	/* "HdrS" */
#define BZ_LOADED_HIGH		0x01
#define BZ_CAN_USE_HEAP		0x80
#define BZ_XLF_KERNEL_64	0x01
#define BZ_MIN_VERSION		0x0206
#define BZ_XLOADFLAGS_VERSION	0x020c	/* xloadflags appeared in 2.12 */

enum bzimage_err {
	BZ_OK = 0,
	BZ_ERR_TOO_SMALL,	/* shorter than a boot sector + header */
	BZ_ERR_NO_MAGIC,	/* no "HdrS": not a bzImage */
	BZ_ERR_OLD_PROTOCOL,	/* boot protocol < 2.06 */
	BZ_ERR_NOT_64BIT,	/* no XLF_KERNEL_64 */
	BZ_ERR_NOT_LOADED_HIGH,	/* zImage, wants to load at 0x10000 */
	BZ_ERR_SETUP_TRUNCATED,	/* file ends inside the setup code */
	BZ_ERR_PAYLOAD_TRUNCATED, /* syssize says more than the file has */
	BZ_ERR_BAD_ALIGNMENT,	/* kernel_alignment not a power of two */
};

struct bzimage_info {
	uint16_t version;
	unsigned int setup_sects;	/* already 4 if the header said 0 */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint64_t setup_size;		/* (setup_sects + 1) * 512 */
	uint64_t kernel_offset;		/* file offset of protected-mode code */
	uint64_t kernel_size;		/* bytes of protected-mode code */
	uint32_t code32_start;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint32_t cmdline_size;		/* max length without the NUL */
	uint64_t pref_address;
	uint32_t init_size;		/* memory the kernel needs to boot */
	uint64_t header_end;		/* end of the setup header in the file */
};

enum bzimage_err bzimage_parse(const uint8_t *img, size_t len,
			       struct bzimage_info *info);
const char *bzimage_strerror(enum bzimage_err err);

#endif
