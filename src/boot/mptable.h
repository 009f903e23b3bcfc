/* Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * finds its CPUs, the IOAPIC and the interrupt wiring. */
#ifndef MMVM_BOOT_MPTABLE_H
#define MMVM_BOOT_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS	64
#define MPTABLE_IOAPIC_PINS	24

/* Bytes mptable_build() needs for ncpus processors. */
size_t mptable_size(unsigned int ncpus);

/* Writes the floating pointer followed by the configuration table into
 * buf, which the guest will see at guest-physical address gpa. GSIs whose
 * bit is set in level_gsis are wired level-triggered, active high (the
 * virtio legacy lines); the rest are ISA edge. Returns bytes written or -1
 * if room is too small or ncpus is 0 or above MPTABLE_MAX_CPUS. */
long mptable_build(uint8_t *buf, size_t room, uint64_t gpa,
		   unsigned int ncpus, uint32_t level_gsis);

#endif
