/* KVM irqfd/ioeventfd wrappers and the eventfd helpers they go with. */
#include "irq/kvm_fds.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

static int irqfd(int vm_fd, int fd, unsigned int gsi, uint32_t flags,
		 int resamplefd)
{
	struct kvm_irqfd req;

	memset(&req, 0, sizeof(req));
	req.fd = (uint32_t)fd;
	req.gsi = gsi;
	req.flags = flags;
	if (flags & KVM_IRQFD_FLAG_RESAMPLE)
		req.resamplefd = (uint32_t)resamplefd;
	if (ioctl(vm_fd, KVM_IRQFD, &req) < 0)
		return -errno;
	return 0;
}

int kvm_irqfd_assign_resample(int vm_fd, int fd, unsigned int gsi,
			      int resamplefd)
{
	return irqfd(vm_fd, fd, gsi, KVM_IRQFD_FLAG_RESAMPLE, resamplefd);
}

int kvm_irqfd_assign(int vm_fd, int fd, unsigned int gsi)
{
	return irqfd(vm_fd, fd, gsi, 0, -1);
}

int kvm_irqfd_deassign(int vm_fd, int fd, unsigned int gsi)
{
	return irqfd(vm_fd, fd, gsi, KVM_IRQFD_FLAG_DEASSIGN, -1);
}

int kvm_ioeventfd_assign(int vm_fd, int fd, uint64_t addr, bool match,
			 uint64_t datamatch)
{
	struct kvm_ioeventfd req;

	memset(&req, 0, sizeof(req));
	req.addr = addr;
	req.len = 4;
	req.fd = fd;
	if (match) {
		req.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
		req.datamatch = datamatch;
	}
	if (ioctl(vm_fd, KVM_IOEVENTFD, &req) < 0)
		return -errno;
	return 0;
}

int eventfd_new(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void eventfd_kick(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	do {
		n = write(fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

uint64_t eventfd_drain(int fd)
{
	uint64_t count;
	ssize_t n;

	do {
		n = read(fd, &count, sizeof(count));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(count) ? count : 0;
}
