/* Which x86 MSI messages a guest may have a device send.
 *
 * A message is a 32-bit write of `data` to `addr`. On x86 the platform
 * decodes it as an interrupt only at 0xfee00000-0xfeefffff (the local APIC
 * window; bits 19:12 destination, 3 redirection hint, 2 destination mode),
 * and data bits 10:8 choose the delivery mode. Fixed (000) and lowest
 * priority (001) deliver a vector to a CPU, as a device interrupt should;
 * the others (SMI, NMI, INIT, ExtINT and the reserved ones) act on the
 * target CPU itself: an INIT resets the vCPU to its real-mode reset vector,
 * and KVM then stops the VM with an internal error at RIP 0xfff0, which says
 * nothing about the cause. Header-only and KVM-free: the virtio transport
 * (src/virtio/mmio_msi.c) refuses such messages at UPDATE
 * (docs/virtio-mmio-v3.md, 7.6).
 */
#ifndef MMVM_VIRTIO_X86_MSI_H
#define MMVM_VIRTIO_X86_MSI_H

#include <stdint.h>

#define X86_MSI_ADDR_FIRST		0xfee00000ULL
#define X86_MSI_ADDR_LAST		0xfeefffffULL
#define X86_MSI_DATA_DM_SHIFT		8
#define X86_MSI_DATA_DM_MASK		0x7u
#define X86_MSI_DM_FIXED		0
#define X86_MSI_DM_LOWEST_PRIORITY	1

enum x86_msi_verdict {
	X86_MSI_OK,
	X86_MSI_BAD_ADDRESS,		/* not in 0xfee00000-0xfeefffff */
	X86_MSI_BAD_DELIVERY_MODE,	/* not fixed or lowest priority */
};

static inline unsigned int x86_msi_delivery_mode(uint32_t data)
{
	return (data >> X86_MSI_DATA_DM_SHIFT) & X86_MSI_DATA_DM_MASK;
}

/* The address is checked whole (64 bits): with MSIAddressHigh != 0 the
 * write is not an interrupt on x86 (and KVM, without the x2APIC API, would
 * silently drop the high half instead). */
static inline enum x86_msi_verdict x86_msi_check(uint64_t addr, uint32_t data)
{
	unsigned int dm = x86_msi_delivery_mode(data);

	if (addr < X86_MSI_ADDR_FIRST || addr > X86_MSI_ADDR_LAST)
		return X86_MSI_BAD_ADDRESS;
	if (dm != X86_MSI_DM_FIXED && dm != X86_MSI_DM_LOWEST_PRIORITY)
		return X86_MSI_BAD_DELIVERY_MODE;
	return X86_MSI_OK;
}

static inline const char *x86_msi_delivery_mode_name(uint32_t data)
{
	static const char *const names[8] = {
		"fixed", "lowest-priority", "SMI", "reserved (3)", "NMI",
		"INIT", "reserved (6)", "ExtINT",
	};

	return names[x86_msi_delivery_mode(data)];
}

#endif
