#include "test_boot_image.h"
#include "unit.h"

static void test_good(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;

	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	CHECK_EQ(info.version, 0x020f);
	CHECK_EQ(info.setup_sects, 4);
	CHECK_EQ(info.kernel_offset, 5 * 512);
	CHECK_EQ(info.kernel_size, 4096);
	CHECK_EQ(info.cmdline_size, 2047);
	CHECK_EQ(info.init_size, 0x2000000);
	CHECK_EQ(info.pref_address, 0x1000000);
	CHECK_EQ(info.header_end, 0x26c);
	/* setup_sects 0 means 4 */
	img[BZ_SETUP_SECTS] = 0;
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	CHECK_EQ(info.setup_sects, 4);
	free(img);
}

static void test_truncated(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;

	CHECK_EQ(bzimage_parse(img, 0, &info), BZ_ERR_TOO_SMALL);
	CHECK_EQ(bzimage_parse(img, 0x205, &info), BZ_ERR_TOO_SMALL);
	CHECK_EQ(bzimage_parse(img, 0x260, &info), BZ_ERR_TOO_SMALL);
	/* ends inside the setup sectors */
	CHECK_EQ(bzimage_parse(img, 5 * 512, &info), BZ_ERR_SETUP_TRUNCATED);
	/* payload shorter than syssize says */
	CHECK_EQ(bzimage_parse(img, len - 16, &info),
		 BZ_ERR_PAYLOAD_TRUNCATED);
	CHECK_EQ(bzimage_parse(img, len - 1, &info),
		 BZ_ERR_PAYLOAD_TRUNCATED);
	/* Every prefix is rejected or accepted cleanly, never read past. */
	for (size_t l = 0; l < len; l += 7)
		CHECK(bzimage_parse(img, l, &info) != BZ_OK);
	free(img);
}

static void test_corrupt(void)
{
	size_t len;
	uint8_t *img = make_bzimage(4096, &len);
	struct bzimage_info info;

	img[BZ_HEADER] = 'X';
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_NO_MAGIC);
	img[BZ_HEADER] = 'H';
	put_le16(img + BZ_VERSION, 0x0205);
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_OLD_PROTOCOL);
	/* 2.06..2.11 have no xloadflags: no declared 64-bit entry */
	put_le16(img + BZ_VERSION, 0x020a);
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_NOT_64BIT);
	put_le16(img + BZ_VERSION, 0x020f);
	put_le16(img + BZ_XLOADFLAGS, 0);
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_NOT_64BIT);
	put_le16(img + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
	img[BZ_LOADFLAGS] = 0;
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_NOT_LOADED_HIGH);
	img[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	put_le32(img + BZ_KERNEL_ALIGNMENT, 0x300000);
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_BAD_ALIGNMENT);
	put_le32(img + BZ_KERNEL_ALIGNMENT, 0x200000);
	/* a header claiming to be huge is clamped to boot_params' room */
	img[BZ_JUMP + 1] = 0xff;
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_OK);
	CHECK(info.header_end <= BZ_HEADER_MAX);
	/* all-0xff syssize */
	put_le32(img + BZ_SYSSIZE, 0xffffffff);
	CHECK_EQ(bzimage_parse(img, len, &info), BZ_ERR_PAYLOAD_TRUNCATED);
	free(img);
}

static void test_strings(void)
{
	CHECK(strstr(bzimage_strerror(BZ_ERR_NO_MAGIC), "not a bzImage"));
	CHECK(strstr(bzimage_strerror(BZ_ERR_OLD_PROTOCOL), "2.06"));
	CHECK(strstr(bzimage_strerror(BZ_ERR_NOT_64BIT), "64-bit"));
	CHECK(strstr(bzimage_strerror(BZ_ERR_PAYLOAD_TRUNCATED), "truncated"));
	CHECK(strstr(bzimage_strerror(BZ_ERR_TOO_SMALL), "too small"));
	CHECK(bzimage_strerror((enum bzimage_err)999) != NULL);
}

int main(void)
{
	RUN(test_good);
	RUN(test_truncated);
	RUN(test_corrupt);
	RUN(test_strings);
	return unit_finish("boot_bzimage");
}
