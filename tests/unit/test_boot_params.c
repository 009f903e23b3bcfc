#include "boot/boot_params.h"
#include "boot/e820.h"
#include "boot/layout.h"
#include "test_boot_image.h"
#include "unit.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void test_cmdline(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;

	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	CHECK_EQ(boot_check_cmdline(&info, 0), BOOT_OK);
	CHECK_EQ(boot_check_cmdline(&info, 2047), BOOT_OK);
	CHECK_EQ(boot_check_cmdline(&info, 2048), BOOT_ERR_CMDLINE_TOO_LONG);
	info.cmdline_size = 255;
	CHECK_EQ(boot_check_cmdline(&info, 256), BOOT_ERR_CMDLINE_TOO_LONG);
	/* a kernel claiming a huge limit is still bounded by our buffer */
	info.cmdline_size = 0xffffffff;
	CHECK_EQ(boot_check_cmdline(&info, BOOT_CMDLINE_MAX),
		 BOOT_ERR_CMDLINE_TOO_LONG);
	free(img);
}

static void test_initrd(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;
	uint64_t addr;

	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	/* kernel runs at 16 MiB, needs 32 MiB: ends at 48 MiB */
	CHECK_EQ(boot_kernel_end(&info), 48 * MiB);
	CHECK_EQ(boot_place_initrd(&info, 256 * MiB, 10 * MiB, &addr), BOOT_OK);
	CHECK_EQ(addr, 246 * MiB);
	/* unaligned size: start rounds down to a page */
	CHECK_EQ(boot_place_initrd(&info, 256 * MiB, 4097, &addr), BOOT_OK);
	CHECK_EQ(addr, 256 * MiB - 8192);
	CHECK(addr % 4096 == 0 && addr + 4097 <= 256 * MiB);
	/* fits exactly above the kernel / one page too many */
	CHECK_EQ(boot_place_initrd(&info, 256 * MiB, 208 * MiB, &addr), BOOT_OK);
	CHECK_EQ(addr, 48 * MiB);
	CHECK_EQ(boot_place_initrd(&info, 256 * MiB, 208 * MiB + 1, &addr),
		 BOOT_ERR_INITRD_TOO_BIG);
	CHECK_EQ(boot_place_initrd(&info, 64 * MiB, 32 * MiB, &addr),
		 BOOT_ERR_INITRD_TOO_BIG);
	CHECK_EQ(boot_place_initrd(&info, 64 * MiB, UINT64_MAX, &addr),
		 BOOT_ERR_INITRD_TOO_BIG);
	/* initrd_addr_max caps it below the end of RAM */
	info.initrd_addr_max = 128 * MiB - 1;
	CHECK_EQ(boot_place_initrd(&info, 1 * GiB, 10 * MiB, &addr), BOOT_OK);
	CHECK_EQ(addr, 118 * MiB);
	/* with > 3 GiB the initrd stays under the gap */
	info.initrd_addr_max = 0xffffffff;
	CHECK_EQ(boot_place_initrd(&info, 8 * GiB, 10 * MiB, &addr), BOOT_OK);
	CHECK_EQ(addr, 3 * GiB - 10 * MiB);
	/* kernel itself must fit */
	CHECK_EQ(boot_check_kernel(&info, 32 * MiB), BOOT_ERR_KERNEL_TOO_BIG);
	CHECK_EQ(boot_check_kernel(&info, 48 * MiB), BOOT_OK);
	free(img);
}

static void test_zero_page(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;
	static uint8_t bp[BP_SIZE];
	struct e820_entry e;

	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	memset(bp, 0xaa, sizeof(bp));
	CHECK_EQ(boot_params_build(bp, img, &info, BOOT_CMDLINE_ADDR,
				   200 * MiB, 12345, 256 * MiB), BOOT_OK);
	CHECK_EQ(le32_at(bp + BZ_HEADER), BZ_HDRS_MAGIC);
	CHECK_EQ(le16_at(bp + BZ_VERSION), 0x020f);
	CHECK_EQ(bp[BZ_TYPE_OF_LOADER], 0xff);
	CHECK(bp[BZ_LOADFLAGS] & BZ_LOADED_HIGH);
	CHECK_EQ(bp[BP_SENTINEL], 0);
	CHECK_EQ(le16_at(bp + BZ_VID_MODE), 0xffff);
	CHECK_EQ(le32_at(bp + BZ_CMD_LINE_PTR), BOOT_CMDLINE_ADDR);
	CHECK_EQ(le32_at(bp + BZ_RAMDISK_IMAGE), 200 * MiB);
	CHECK_EQ(le32_at(bp + BZ_RAMDISK_SIZE), 12345);
	CHECK_EQ(le32_at(bp + BP_EXT_RAMDISK_IMAGE), 0);
	CHECK_EQ(bp[BP_E820_ENTRIES], 5);	/* RAM, EBDA, ACPI, BIOS, RAM */
	memcpy(&e, bp + BP_E820_TABLE, sizeof(e));
	CHECK_EQ(e.addr, 0);
	CHECK_EQ(e.type, E820_RAM);
	/* bytes past the header and outside known fields are zero */
	CHECK_EQ(bp[0x26c], 0);
	CHECK_EQ(bp[0x000], 0);
	CHECK_EQ(boot_params_build(bp, img, &info, BOOT_CMDLINE_ADDR, 0, 0,
				   1 * MiB), BOOT_ERR_MEM_TOO_SMALL);
	CHECK(boot_strerror(BOOT_ERR_INITRD_TOO_BIG)[0]);
	free(img);
}

int main(void)
{
	RUN(test_cmdline);
	RUN(test_initrd);
	RUN(test_zero_page);
	return unit_finish("boot_params");
}
