#include <string.h>

#include "boot/reset_stub.h"

void boot_build_reset_stub(uint8_t dst[BOOT_RESET_STUB_SIZE])
{
	static const uint8_t code[] = {
		0xb0, 0xfe,	/* mov al, 0xfe: pulse the reset line */
		0xe6, 0x64,	/* out 0x64, al: the i8042's command port */
		0xfa,		/* cli */
		0xf4,		/* hlt (the VMM has ended the run by now) */
		0xeb, 0xfd,	/* jmp back to hlt */
	};

	memset(dst, 0xf4, BOOT_RESET_STUB_SIZE);	/* hlt padding */
	memcpy(dst, code, sizeof(code));
}
