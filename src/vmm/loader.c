/* Kernel and boot data loading. The policy (where things go, what fits)
 * lives in src/boot/; this file only moves bytes into guest memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot_params.h"
#include "boot/layout.h"
#include "boot/le.h"
#include "boot/longmode.h"
#include "boot/mptable.h"
#include "boot/reset_stub.h"
#include "vmm/loader.h"

#define ENTRY_64_OFFSET	0x200	/* startup_64 sits 512 bytes in */

uint8_t *loader_read_file(const char *path, size_t *len, char *err,
			  size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto fail;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* file shrank under us */
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	*len = done;
	return buf;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int file_size(const char *path, uint64_t *size, char *err,
		     size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "initrd %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "initrd %s: not a regular file", path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int loader_check(struct vm *vm, const struct mmvm_config *cfg, char *err,
		 size_t errlen)
{
	struct vm_boot *b = &vm->boot;
	enum bzimage_err bz;
	enum boot_err be;

	bz = bzimage_parse(b->image, b->image_len, &b->info);
	if (bz != BZ_OK) {
		snprintf(err, errlen, "kernel %s: %s", cfg->kernel,
			 bzimage_strerror(bz));
		return -1;
	}
	be = boot_check_kernel(&b->info, cfg->mem_bytes);
	if (be != BOOT_OK) {
		snprintf(err, errlen, "kernel %s: %s (--mem %llu MiB)",
			 cfg->kernel, boot_strerror(be),
			 (unsigned long long)(cfg->mem_bytes >> 20));
		return -1;
	}
	b->initrd_addr = b->initrd_size = 0;
	if (!cfg->initrd)
		return 0;
	if (file_size(cfg->initrd, &b->initrd_size, err, errlen))
		return -1;
	be = boot_place_initrd(&b->info, cfg->mem_bytes, b->initrd_size,
			       &b->initrd_addr);
	if (be != BOOT_OK) {
		snprintf(err, errlen, "initrd %s (%llu bytes): %s",
			 cfg->initrd, (unsigned long long)b->initrd_size,
			 boot_strerror(be));
		return -1;
	}
	return 0;
}

int loader_load_images(struct vm *vm, char *err, size_t errlen)
{
	struct vm_boot *b = &vm->boot;
	uint8_t *dst = guest_mem_ptr(&vm->mem, BOOT_KERNEL_ADDR,
				     b->info.kernel_size);
	uint64_t done = 0;
	int fd;

	if (!dst) {
		snprintf(err, errlen, "kernel does not fit in guest memory");
		return -1;
	}
	memcpy(dst, b->image + b->info.kernel_offset, b->info.kernel_size);
	if (!vm->cfg->initrd)
		return 0;
	dst = guest_mem_ptr(&vm->mem, b->initrd_addr, b->initrd_size);
	fd = open(vm->cfg->initrd, O_RDONLY | O_CLOEXEC);
	if (!dst || fd < 0) {
		snprintf(err, errlen, "initrd %s: %s", vm->cfg->initrd,
			 dst ? strerror(errno) : "does not fit");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (done < b->initrd_size) {
		ssize_t n = read(fd, dst + done, b->initrd_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "initrd %s: %s", vm->cfg->initrd,
				 n ? strerror(errno) : "file shrank");
			close(fd);
			return -1;
		}
		done += (uint64_t)n;
	}
	close(fd);
	return 0;
}

uint64_t loader_entry_point(void)
{
	return BOOT_KERNEL_ADDR + ENTRY_64_OFFSET;
}

/* GSIs of the virtio-mmio slots in use: level-triggered in the MP table
 * (their irqfds resample, which needs a level pin); the rest stay ISA. */
static uint32_t virtio_level_gsis(const struct vm *vm)
{
	uint32_t mask = 0;

	for (unsigned int i = 0; i < vm->nr_mmio_devices; i++)
		if (VM_MMIO_FIRST_IRQ + i < MPTABLE_IOAPIC_PINS)
			mask |= 1u << (VM_MMIO_FIRST_IRQ + i);
	return mask;
}

int loader_write_boot_data(struct vm *vm, uint64_t rsdp, char *err,
			   size_t errlen)
{
	struct vm_boot *b = &vm->boot;
	size_t cmdlen = strlen(vm->cmdline);
	uint8_t *cmd, *bp, *pml4, *pdpt, *pd, *mpt, *reset;
	uint64_t gdt[BOOT_GDT_ENTRIES];
	uint8_t *gdt_dst;
	enum boot_err be;

	be = boot_check_cmdline(&b->info, cmdlen);
	if (be != BOOT_OK) {
		snprintf(err, errlen, "%s (%zu bytes, kernel allows %u)",
			 boot_strerror(be), cmdlen, b->info.cmdline_size);
		return -1;
	}
	cmd = guest_mem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, cmdlen + 1);
	bp = guest_mem_ptr(&vm->mem, BOOT_ZERO_PAGE_ADDR, BP_SIZE);
	pml4 = guest_mem_ptr(&vm->mem, BOOT_PML4_ADDR, 4096);
	pdpt = guest_mem_ptr(&vm->mem, BOOT_PDPT_ADDR, 4096);
	pd = guest_mem_ptr(&vm->mem, BOOT_PD_ADDR, 4096 * BOOT_PD_PAGES);
	gdt_dst = guest_mem_ptr(&vm->mem, BOOT_GDT_ADDR, sizeof(gdt));
	mpt = guest_mem_ptr(&vm->mem, BOOT_BIOS_ADDR, BOOT_BIOS_SIZE);
	reset = guest_mem_ptr(&vm->mem, BOOT_RESET_STUB_ADDR,
			      BOOT_RESET_STUB_SIZE);
	if (!cmd || !bp || !pml4 || !pdpt || !pd || !gdt_dst || !mpt ||
	    !reset) {
		snprintf(err, errlen, "guest memory too small for boot data");
		return -1;
	}
	memcpy(cmd, vm->cmdline, cmdlen + 1);
	be = boot_params_build(bp, b->image, &b->info, BOOT_CMDLINE_ADDR,
			       b->initrd_addr, b->initrd_size,
			       vm->cfg->mem_bytes);
	if (be != BOOT_OK) {
		snprintf(err, errlen, "%s", boot_strerror(be));
		return -1;
	}
	put_le64(bp + BP_ACPI_RSDP_ADDR, rsdp);
	boot_build_page_tables(pml4, pdpt, pd);
	boot_build_gdt(gdt);
	memcpy(gdt_dst, gdt, sizeof(gdt));
	boot_build_reset_stub(reset);
	/* The BIOS area less the reset stub at its top. */
	if (mptable_build(mpt, BOOT_RESET_STUB_ADDR - BOOT_BIOS_ADDR,
			  BOOT_BIOS_ADDR, vm->cfg->cpus,
			  virtio_level_gsis(vm)) < 0) {
		snprintf(err, errlen, "MP table does not fit %u CPUs",
			 vm->cfg->cpus);
		return -1;
	}
	return 0;
}
