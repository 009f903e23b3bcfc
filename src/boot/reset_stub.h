/* The real-mode code at F000:FFF0, where a PC's BIOS keeps its reset
 * entry and where Linux jumps as its last way to reboot (reboot=b, or
 * when the EFI reboot it chose on a hardware-reduced ACPI machine is not
 * there: Debian's kernels under mmvm's default platform). mmvm has no
 * BIOS; without this, such a guest would run off into zeros instead of
 * rebooting. The stub asks the i8042 to pulse the reset line, which ends
 * the run like every other reboot ("guest rebooted (i8042)"). */
#ifndef MMVM_BOOT_RESET_STUB_H
#define MMVM_BOOT_RESET_STUB_H

#include <stdint.h>

#define BOOT_RESET_STUB_ADDR	0xffff0ULL	/* F000:FFF0 */
#define BOOT_RESET_STUB_SIZE	16

/* Writes the stub (BOOT_RESET_STUB_SIZE bytes) for BOOT_RESET_STUB_ADDR. */
void boot_build_reset_stub(uint8_t dst[BOOT_RESET_STUB_SIZE]);

#endif
