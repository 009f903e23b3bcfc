/* Zero page construction and boot-time placement decisions. */
#include <string.h>

#include "boot/boot_params.h"
#include "boot/e820.h"
#include "boot/layout.h"
#include "boot/le.h"

static const char *const boot_errors[] = {
	[BOOT_OK] = "ok",
	[BOOT_ERR_CMDLINE_TOO_LONG] = "kernel command line too long for this kernel",
	[BOOT_ERR_KERNEL_TOO_BIG] = "kernel does not fit in guest memory",
	[BOOT_ERR_INITRD_TOO_BIG] = "initrd does not fit in guest memory below the kernel's initrd_addr_max",
	[BOOT_ERR_MEM_TOO_SMALL] = "guest memory too small for a memory map",
};

const char *boot_strerror(enum boot_err err)
{
	if ((unsigned int)err >= sizeof(boot_errors) / sizeof(boot_errors[0]))
		return "unknown boot error";
	return boot_errors[err];
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t boot_kernel_end(const struct bzimage_info *info)
{
	/* A relocatable kernel decompresses at max(load address,
	 * pref_address); a fixed one at pref_address. Either way this bounds
	 * the region it needs (KASLR is told about the initrd and avoids
	 * it). */
	uint64_t run_at = max_u64(BOOT_KERNEL_ADDR, info->pref_address);

	return max_u64(BOOT_KERNEL_ADDR + info->kernel_size,
		       run_at + info->init_size);
}

enum boot_err boot_check_kernel(const struct bzimage_info *info,
				uint64_t mem_bytes)
{
	struct ram_layout l;

	ram_layout_for(mem_bytes, &l);
	if (boot_kernel_end(info) > l.low_end)
		return BOOT_ERR_KERNEL_TOO_BIG;
	return BOOT_OK;
}

enum boot_err boot_check_cmdline(const struct bzimage_info *info, size_t len)
{
	/* cmdline_size excludes the NUL; our buffer has its own bound too. */
	if (len > info->cmdline_size || len + 1 > BOOT_CMDLINE_MAX)
		return BOOT_ERR_CMDLINE_TOO_LONG;
	return BOOT_OK;
}

enum boot_err boot_place_initrd(const struct bzimage_info *info,
				uint64_t mem_bytes, uint64_t size,
				uint64_t *addr)
{
	struct ram_layout l;
	uint64_t top, lowest = boot_kernel_end(info);
	/* Protocols before 2.03 did not say; 0x37ffffff was the rule. */
	uint64_t limit = info->initrd_addr_max ? info->initrd_addr_max :
			 0x37ffffff;

	ram_layout_for(mem_bytes, &l);
	top = limit + 1 < l.low_end ? limit + 1 : l.low_end;
	if (size > top)
		return BOOT_ERR_INITRD_TOO_BIG;
	*addr = (top - size) & ~0xfffULL;
	if (*addr < lowest)
		return BOOT_ERR_INITRD_TOO_BIG;
	return BOOT_OK;
}

enum boot_err boot_params_build(uint8_t *bp, const uint8_t *img,
				const struct bzimage_info *info,
				uint64_t cmdline_addr, uint64_t initrd_addr,
				uint64_t initrd_size, uint64_t mem_bytes)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	int n;

	memset(bp, 0, BP_SIZE);
	/* The kernel wants its own header back, as the image has it; the
	 * sentinel byte before it stays 0 so nothing gets "cleaned". */
	memcpy(bp + BZ_SETUP_SECTS, img + BZ_SETUP_SECTS,
	       info->header_end - BZ_SETUP_SECTS);
	bp[BZ_TYPE_OF_LOADER] = BOOT_LOADER_UNDEFINED;
	bp[BZ_LOADFLAGS] |= BZ_LOADED_HIGH;
	put_le16(bp + BZ_VID_MODE, 0xffff);	/* "normal": no video mode */
	put_le32(bp + BZ_CMD_LINE_PTR, (uint32_t)cmdline_addr);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline_addr >> 32));
	put_le32(bp + BZ_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
	put_le32(bp + BZ_RAMDISK_SIZE, (uint32_t)initrd_size);
	put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));

	n = e820_build(mem_bytes, map, E820_MAX_ENTRIES);
	if (n < 0)
		return BOOT_ERR_MEM_TOO_SMALL;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, map, (size_t)n * sizeof(map[0]));
	return BOOT_OK;
}
