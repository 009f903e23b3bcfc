/* Thin wrappers over the KVM ioctls that bind eventfds to the VM: irqfds
 * (eventfd -> interrupt, injected in the kernel) and ioeventfds (guest
 * write -> eventfd, without an exit to userspace). Each returns 0 or -errno.
 */
#ifndef MMVM_IRQ_KVM_FDS_H
#define MMVM_IRQ_KVM_FDS_H

#include <stdbool.h>
#include <stdint.h>

/* Level-triggered line: fd asserts gsi; the kernel deasserts it at the
 * guest's EOI and signals resamplefd. */
int kvm_irqfd_assign_resample(int vm_fd, int fd, unsigned int gsi,
			      int resamplefd);
/* Edge (MSI): fd fires gsi's route. */
int kvm_irqfd_assign(int vm_fd, int fd, unsigned int gsi);
int kvm_irqfd_deassign(int vm_fd, int fd, unsigned int gsi);

/* A 4-byte MMIO write at addr signals fd; with match, only when the
 * written value equals datamatch. */
int kvm_ioeventfd_assign(int vm_fd, int fd, uint64_t addr, bool match,
			 uint64_t datamatch);

/* Non-blocking, close-on-exec eventfd, or -errno. */
int eventfd_new(void);
/* Adds 1 to the eventfd's counter (ignores EAGAIN: the counter is
 * saturated, which already means "signalled"). */
void eventfd_kick(int fd);
/* Reads and clears the counter; 0 if it was not signalled. */
uint64_t eventfd_drain(int fd);

#endif
