/* Puts the kernel, initrd and boot structures into guest memory. */
#ifndef MMVM_VMM_LOADER_H
#define MMVM_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vm.h"

/* Reads a whole file into a malloc'd buffer. On error returns NULL with a
 * "<path>: <strerror>" message in err. */
uint8_t *loader_read_file(const char *path, size_t *len, char *err,
			  size_t errlen);

/* Validates the bzImage (vm->boot.image) and, if initrd is not NULL, that
 * it fits; fills vm->boot. Needs no KVM: the CLI runs this first. */
int loader_check(struct vm *vm, const struct mmvm_config *cfg, char *err,
		 size_t errlen);

/* Copies the kernel and reads the initrd into guest RAM. */
int loader_load_images(struct vm *vm, char *err, size_t errlen);

/* Writes command line, zero page (with the ACPI RSDP's address, 0 for
 * none: src/devmgr/platform.h writes the tables), page tables, GDT and MP
 * table. Called last, once devices have added their command-line
 * entries. */
int loader_write_boot_data(struct vm *vm, uint64_t rsdp, char *err,
			   size_t errlen);

/* RIP for the BSP: the 64-bit entry point. */
uint64_t loader_entry_point(void);

#endif
