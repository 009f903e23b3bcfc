/* Wraps a flat 64-bit payload (the hostile guest) in a bzImage header, the
 * same synthesized header the boot unit tests use, so mmvm loads it like a
 * Linux kernel: mkbzimage PAYLOAD.bin OUT.bzImage */
#include <stdio.h>
#include <stdlib.h>

#include "unit/test_boot_image.h"

int main(int argc, char **argv)
{
	FILE *in, *out;
	uint8_t *img;
	size_t len, setup, n;
	long size;

	if (argc != 3) {
		fprintf(stderr, "usage: mkbzimage PAYLOAD OUT\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (!in || fseek(in, 0, SEEK_END) || (size = ftell(in)) <= 0 ||
	    fseek(in, 0, SEEK_SET)) {
		perror(argv[1]);
		return 1;
	}
	/* syssize counts 16-byte units: round the payload up. */
	img = make_bzimage(((size_t)size + 15) & ~(size_t)15, &len);
	setup = len - (((size_t)size + 15) & ~(size_t)15);
	n = fread(img + setup, 1, (size_t)size, in);
	fclose(in);
	out = fopen(argv[2], "wb");
	if (n != (size_t)size || !out || fwrite(img, 1, len, out) != len ||
	    fclose(out)) {
		perror(argv[2]);
		return 1;
	}
	free(img);
	return 0;
}
