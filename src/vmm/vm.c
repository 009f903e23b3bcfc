/* VM creation: the KVM fds, guest RAM, the in-kernel irqchip and PIT. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "boot/e820.h"
#include "boot/layout.h"
#include "vmm/kvm_check.h"
#include "vmm/lifecycle.h"
#include "vmm/vm.h"

_Static_assert(VM_RAM_32BIT_END == BOOT_RAM_32BIT_END, "layouts disagree");
_Static_assert(VM_RAM_HIGH_START == BOOT_RAM_HIGH_START, "layouts disagree");
_Static_assert(VM_MMIO_DEVICES_BASE >= BOOT_RAM_32BIT_END &&
	       VM_MMIO_DEVICES_BASE + VM_MMIO_MAX_DEVICES *
	       VM_MMIO_DEVICE_STRIDE <= BOOT_IOAPIC_ADDR,
	       "virtio windows must sit in the 32-bit gap");

/* Two pages KVM needs for its own use on Intel (TSS, identity map for
 * real mode emulation); both in the gap below the IOAPIC. */
#define VM_TSS_ADDR		0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR	0xfffbc000ULL

uint64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int set_slot(struct vm *vm, uint32_t slot, uint64_t gpa,
		    uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	if (!guest_mem_add_region(&vm->mem, gpa, size, hva))
		return -EINVAL;
	return 0;
}

/* Guest RAM starts on a huge-page boundary of the host's address space.
 * KVM maps a 2 MiB guest page with one 2 MiB entry only where guest
 * physical and host virtual addresses agree modulo 2 MiB, and mmap()
 * gives no such alignment (Linux 6.1 places large anonymous mappings on
 * any page): unaligned, every guest page costs its own 4 KiB nested fault,
 * some 8000 of them while the guest kernel initialises its memory map.
 * Reserves size + 2 MiB and returns the aligned part, the rest unmapped. */
static void *map_guest_ram(uint64_t size)
{
	const uint64_t align = 2ULL << 20;
	uint64_t head;
	uint8_t *p;

	p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	head = (align - (uintptr_t)p % align) % align;
	if (head)
		munmap(p, head);
	munmap(p + head + size, align - head);
	return p + head;
}

static int setup_memory(struct vm *vm, char *err, size_t errlen)
{
	struct ram_layout l;
	int ret;

	ram_layout_for(vm->cfg->mem_bytes, &l);
	vm->ram_size = vm->cfg->mem_bytes;
	vm->ram = map_guest_ram(vm->ram_size);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory: %s",
			 (unsigned long long)(vm->ram_size >> 20),
			 strerror(errno));
		return -1;
	}
	madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE);
	ret = set_slot(vm, 0, 0, l.low_end, vm->ram);
	if (!ret && l.high_size)
		ret = set_slot(vm, 1, BOOT_RAM_HIGH_START, l.high_size,
			       vm->ram + l.low_end);
	if (ret) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
			 strerror(-ret));
		return -1;
	}
	return 0;
}

static int vm_ioctl(struct vm *vm, unsigned long req, unsigned long arg,
		    const char *what, char *err, size_t errlen)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

unsigned int vm_max_vcpus(struct vm *vm)
{
	int n = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? (unsigned int)n : 1;
}

int vm_create(struct vm *vm, const struct mmvm_config *cfg, char *err,
	      size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	vm->cfg = cfg;
	vm->kvm_fd = kvm_check_open(cfg, err, errlen);
	if (vm->kvm_fd < 0)
		return -1;
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	if (cfg->cpus > vm_max_vcpus(vm)) {
		snprintf(err, errlen, "--cpus %u: KVM allows at most %u",
			 cfg->cpus, vm_max_vcpus(vm));
		return -1;
	}
	if (vm_ioctl(vm, KVM_SET_TSS_ADDR, VM_TSS_ADDR, "KVM_SET_TSS_ADDR",
		     err, errlen))
		return -1;
	{
		uint64_t idmap = VM_IDENTITY_MAP_ADDR;

		if (vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR,
			     (unsigned long)&idmap,
			     "KVM_SET_IDENTITY_MAP_ADDR", err, errlen))
			return -1;
	}
	if (setup_memory(vm, err, errlen))
		return -1;
	if (vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP", err,
		     errlen) ||
	    vm_ioctl(vm, KVM_CREATE_PIT2, (unsigned long)&pit,
		     "KVM_CREATE_PIT2", err, errlen))
		return -1;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int vm_irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

/* Offset of the "--" token that ends the kernel's parameters (the rest
 * is init's argv), or the string length if there is none. */
static size_t kernel_params_end(const char *cmd)
{
	for (const char *p = strstr(cmd, "--"); p; p = strstr(p + 1, "--")) {
		bool starts = p == cmd || p[-1] == ' ';
		bool ends = p[2] == '\0' || p[2] == ' ';

		if (starts && ends)
			return (size_t)(p - cmd);
	}
	return strlen(cmd);
}

bool vm_cmdline_append(struct vm *vm, const char *str)
{
	size_t cur = strlen(vm->cmdline), add = strlen(str);
	size_t at = kernel_params_end(vm->cmdline);

	if (cur + add + 2 > sizeof(vm->cmdline))
		return false;
	if (at < cur) {
		/* "... -- init args": our parameter goes before the "--". */
		memmove(vm->cmdline + at + add + 1, vm->cmdline + at,
			cur - at + 1);
		memcpy(vm->cmdline + at, str, add);
		vm->cmdline[at + add] = ' ';
		return true;
	}
	if (cur)
		vm->cmdline[cur++] = ' ';
	memcpy(vm->cmdline + cur, str, add + 1);
	return true;
}

bool vm_alloc_mmio_slot(struct vm *vm, uint64_t *base, unsigned int *gsi)
{
	unsigned int n = vm->nr_mmio_devices;

	if (n >= VM_MMIO_MAX_DEVICES)
		return false;
	*base = VM_MMIO_DEVICES_BASE + n * VM_MMIO_DEVICE_STRIDE;
	*gsi = VM_MMIO_FIRST_IRQ + n;
	vm->nr_mmio_devices = n + 1;
	return true;
}
