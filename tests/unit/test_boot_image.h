/* A synthesized bzImage header for boot tests: protocol 2.15, 64-bit,
 * relocatable, with setup_sects setup sectors and payload_len bytes of
 * "kernel" after them. */
#ifndef MMVM_TESTS_BOOT_IMAGE_H
#define MMVM_TESTS_BOOT_IMAGE_H

#include <stdlib.h>
#include <string.h>

#include "boot/bzimage.h"
#include "boot/le.h"

static inline uint8_t *make_bzimage(size_t payload_len, size_t *len)
{
	unsigned int setup_sects = 4;
	size_t setup = (setup_sects + 1) * 512;
	uint8_t *img = calloc(1, setup + payload_len);

	img[BZ_SETUP_SECTS] = (uint8_t)setup_sects;
	put_le32(img + BZ_SYSSIZE, (uint32_t)(payload_len / 16));
	put_le16(img + BZ_BOOT_FLAG, 0xaa55);
	img[BZ_JUMP] = 0xeb;
	img[BZ_JUMP + 1] = 0x6a;		/* header ends at 0x26c */
	put_le32(img + BZ_HEADER, BZ_HDRS_MAGIC);
	put_le16(img + BZ_VERSION, 0x020f);
	img[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	put_le32(img + BZ_CODE32_START, 0x100000);
	put_le32(img + BZ_INITRD_ADDR_MAX, 0x7fffffff);
	put_le32(img + BZ_KERNEL_ALIGNMENT, 0x200000);
	img[BZ_RELOCATABLE] = 1;
	put_le16(img + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
	put_le32(img + BZ_CMDLINE_SIZE, 2047);
	put_le64(img + BZ_PREF_ADDRESS, 0x1000000);
	put_le32(img + BZ_INIT_SIZE, 0x2000000);	/* 32 MiB */
	*len = setup + payload_len;
	return img;
}

#endif
