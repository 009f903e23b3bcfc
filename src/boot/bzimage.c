/* bzImage header checks. The image is only a file the user gave us, but it
 * decides what we copy where, so every size in it is checked against the
 * file length before anything else uses it. */
#include "boot/bzimage.h"
#include "boot/le.h"

static const char *const bz_errors[] = {
	[BZ_OK] = "ok",
	[BZ_ERR_TOO_SMALL] = "file too small to be a bzImage",
	[BZ_ERR_NO_MAGIC] = "no HdrS magic: not a bzImage",
	[BZ_ERR_OLD_PROTOCOL] = "boot protocol older than 2.06",
	[BZ_ERR_NOT_64BIT] = "kernel has no 64-bit entry point (XLF_KERNEL_64)",
	[BZ_ERR_NOT_LOADED_HIGH] = "kernel does not load high (zImage)",
	[BZ_ERR_SETUP_TRUNCATED] = "file truncated inside the setup code",
	[BZ_ERR_PAYLOAD_TRUNCATED] = "kernel payload truncated (syssize beyond end of file)",
	[BZ_ERR_BAD_ALIGNMENT] = "kernel_alignment is not a power of two",
};

const char *bzimage_strerror(enum bzimage_err err)
{
	if ((unsigned int)err >= sizeof(bz_errors) / sizeof(bz_errors[0]))
		return "unknown bzImage error";
	return bz_errors[err];
}

enum bzimage_err bzimage_parse(const uint8_t *img, size_t len,
			       struct bzimage_info *info)
{
	*info = (struct bzimage_info){ 0 };
	/* Everything up to init_size must be readable before we look. */
	if (len < BZ_HEADER + 4)
		return BZ_ERR_TOO_SMALL;
	if (le32_at(img + BZ_HEADER) != BZ_HDRS_MAGIC)
		return BZ_ERR_NO_MAGIC;
	if (len < BZ_HEADER_END)
		return BZ_ERR_TOO_SMALL;

	info->version = le16_at(img + BZ_VERSION);
	if (info->version < BZ_MIN_VERSION)
		return BZ_ERR_OLD_PROTOCOL;
	info->xloadflags = info->version >= BZ_XLOADFLAGS_VERSION ?
			   le16_at(img + BZ_XLOADFLAGS) : 0;
	if (!(info->xloadflags & BZ_XLF_KERNEL_64))
		return BZ_ERR_NOT_64BIT;
	info->loadflags = img[BZ_LOADFLAGS];
	if (!(info->loadflags & BZ_LOADED_HIGH))
		return BZ_ERR_NOT_LOADED_HIGH;

	info->setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	info->setup_size = (uint64_t)(info->setup_sects + 1) * 512;
	if (info->setup_size >= len)
		return BZ_ERR_SETUP_TRUNCATED;
	info->kernel_offset = info->setup_size;
	info->kernel_size = len - info->setup_size;
	/* syssize counts 16-byte paragraphs of protected-mode code. */
	if ((uint64_t)le32_at(img + BZ_SYSSIZE) * 16 > info->kernel_size)
		return BZ_ERR_PAYLOAD_TRUNCATED;

	info->code32_start = le32_at(img + BZ_CODE32_START);
	info->initrd_addr_max = le32_at(img + BZ_INITRD_ADDR_MAX);
	info->kernel_alignment = le32_at(img + BZ_KERNEL_ALIGNMENT);
	if (info->kernel_alignment & (info->kernel_alignment - 1))
		return BZ_ERR_BAD_ALIGNMENT;
	info->cmdline_size = le32_at(img + BZ_CMDLINE_SIZE);
	info->pref_address = info->version >= 0x020a ?
			     le64_at(img + BZ_PREF_ADDRESS) : 0;
	info->init_size = info->version >= 0x020a ?
			  le32_at(img + BZ_INIT_SIZE) : 0;
	/* The jump at 0x200 skips exactly the header: its end is the size
	 * of the header this kernel knows, which is what we copy. */
	info->header_end = BZ_HEADER + img[BZ_JUMP + 1];
	if (info->header_end > BZ_HEADER_MAX)
		info->header_end = BZ_HEADER_MAX;
	if (info->header_end < BZ_HEADER_END)
		info->header_end = BZ_HEADER_END;
	return BZ_OK;
}
