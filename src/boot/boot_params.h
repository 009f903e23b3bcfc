/* The zero page (struct boot_params) and the placement of the command line
 * and initrd, per the Linux x86 boot protocol. Pure functions over buffers:
 * the loader copies their results into guest memory. */
#ifndef MMVM_BOOT_BOOT_PARAMS_H
#define MMVM_BOOT_BOOT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "boot/bzimage.h"

#define BP_SIZE			4096
#define BP_ACPI_RSDP_ADDR	0x070	/* protocol 2.14+; older kernels scan */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_SENTINEL		0x1ef
#define BP_E820_TABLE		0x2d0

#define BOOT_LOADER_UNDEFINED	0xff	/* type_of_loader: "other" */

enum boot_err {
	BOOT_OK = 0,
	BOOT_ERR_CMDLINE_TOO_LONG,	/* longer than the kernel's cmdline_size */
	BOOT_ERR_KERNEL_TOO_BIG,	/* init_size does not fit in RAM */
	BOOT_ERR_INITRD_TOO_BIG,	/* no room between kernel and limit */
	BOOT_ERR_MEM_TOO_SMALL,		/* cannot build an e820 map */
};

const char *boot_strerror(enum boot_err err);

/* First byte above everything the kernel may use while it boots: its image
 * at BOOT_KERNEL_ADDR and the init_size region where it decompresses. */
uint64_t boot_kernel_end(const struct bzimage_info *info);

/* Checks the kernel fits in mem_bytes of RAM. */
enum boot_err boot_check_kernel(const struct bzimage_info *info,
				uint64_t mem_bytes);

/* len is strlen() of the final command line. */
enum boot_err boot_check_cmdline(const struct bzimage_info *info, size_t len);

/* Highest page-aligned address for an initrd of size bytes below both the
 * kernel's initrd_addr_max and the end of RAM under 4 GiB, above
 * boot_kernel_end(). */
enum boot_err boot_place_initrd(const struct bzimage_info *info,
				uint64_t mem_bytes, uint64_t size,
				uint64_t *addr);

/* Builds the zero page in bp[BP_SIZE] from the image's setup header. */
enum boot_err boot_params_build(uint8_t *bp, const uint8_t *img,
				const struct bzimage_info *info,
				uint64_t cmdline_addr, uint64_t initrd_addr,
				uint64_t initrd_size, uint64_t mem_bytes);

#endif
