/* Whether this /dev/kvm can run mmvm's guest: see kvm_check.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm_check.h"
#include "vmm/kvm_probe.h"

/* What to tell a user whose KVM cannot run the guest. */
#define KVM_ADVICE "use a host with hardware virtualization (kvm_intel or " \
	"kvm_amd, vmx/svm in /proc/cpuinfo), or run mmvm through " \
	"scripts/mmvm-host, which then runs it under nested KVM"

enum cap_need {
	NEED_ALWAYS,
	NEED_MSI,	/* devices offering MSI (either layout) */
};

static const struct {
	int cap;
	const char *name;
	const char *used_for;
	enum cap_need need;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory", NEED_ALWAYS },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "the vCPU's TSS page", NEED_ALWAYS },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", "the identity-map page", NEED_ALWAYS },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "the guest's CPUID", NEED_ALWAYS },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs", NEED_ALWAYS },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the in-kernel LAPIC, IOAPIC and PIC", NEED_ALWAYS },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "the in-kernel PIT", NEED_ALWAYS },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "GSI routing", NEED_ALWAYS },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "device interrupts (irqfd)", NEED_ALWAYS },
	{ KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE", "level-triggered device interrupts", NEED_ALWAYS },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "queue notifications (ioeventfd)", NEED_ALWAYS },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI", "MSI routes (devices offering MSI)", NEED_MSI },
};

static bool cap_needed(const struct mmvm_config *cfg, enum cap_need need)
{
	if (need == NEED_ALWAYS || !cfg)
		return true;
	return cfg->virtio_msi;
}

void kvm_check_caps(const struct mmvm_config *cfg, kvm_cap_query query,
		    void *ctx, struct kvm_facts *f)
{
	f->missing_cap = f->missing_for = NULL;
	f->caps_checked = 0;
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (!cap_needed(cfg, required_caps[i].need))
			continue;
		f->caps_checked++;
		if (query(ctx, required_caps[i].cap) <= 0 && !f->missing_cap) {
			f->missing_cap = required_caps[i].name;
			f->missing_for = required_caps[i].used_for;
		}
	}
}

void kvm_probe_interpret(uint32_t ecx, uint32_t edx, struct kvm_facts *f)
{
	f->probe_ecx = ecx;
	f->probe_edx = edx;
	f->probe = (ecx & ~KVM_PROBE_ECX_DYNAMIC) || (edx & ~KVM_PROBE_EDX_DYNAMIC) ?
		   KVM_PROBE_CPUID_IGNORED : KVM_PROBE_CPUID_HONOURED;
}

static int ioctl_query(void *ctx, int cap)
{
	return ioctl(*(int *)ctx, KVM_CHECK_EXTENSION, cap);
}

void kvm_check_gather(int kvm_fd, const struct mmvm_config *cfg,
		      struct kvm_facts *f)
{
	uint32_t ecx, edx;

	f->opened = true;
	kvm_loaded_modules(f->modules, sizeof(f->modules));
	f->api_version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (f->api_version != KVM_API_VERSION)
		return;
	kvm_check_caps(cfg, ioctl_query, &kvm_fd, f);
	if (kvm_probe_cpuid(kvm_fd, &ecx, &edx, f->probe_error,
			    sizeof(f->probe_error)) == 0)
		kvm_probe_interpret(ecx, edx, f);
	else
		f->probe = KVM_PROBE_FAILED;
}

/* " (loaded: kvm,kvm_pvm)" or "". */
static void modules_note(const struct kvm_facts *f, char *buf, size_t len)
{
	if (f->modules[0])
		snprintf(buf, len, " (loaded: %s)", f->modules);
	else
		buf[0] = '\0';
}

int kvm_check_verdict(const struct kvm_facts *f, char *msg, size_t len)
{
	char mods[sizeof(f->modules) + 16];

	modules_note(f, mods, sizeof(mods));
	if (!f->opened) {
		if (f->open_errno == EACCES || f->open_errno == EPERM)
			snprintf(msg, len, "/dev/kvm: %s; run as root or as a member of the group that owns /dev/kvm",
				 strerror(f->open_errno));
		else
			snprintf(msg, len, "/dev/kvm: %s%s; %s",
				 strerror(f->open_errno), mods, KVM_ADVICE);
		return -1;
	}
	if (f->api_version != KVM_API_VERSION) {
		snprintf(msg, len, "/dev/kvm: KVM API version %d, mmvm needs %d%s; %s",
			 f->api_version, KVM_API_VERSION, mods, KVM_ADVICE);
		return -1;
	}
	switch (f->probe) {
	case KVM_PROBE_CPUID_IGNORED:
		snprintf(msg, len, "/dev/kvm: ignores the CPUID mmvm sets (mmvm set leaf 1 to no features, a probe guest read ECX %#010x EDX %#010x), so Linux would use features the vCPU cannot give it: a software KVM such as kvm_pvm%s; %s",
			 f->probe_ecx, f->probe_edx, mods, KVM_ADVICE);
		return -1;
	case KVM_PROBE_FAILED:
		snprintf(msg, len, "/dev/kvm: cannot run a probe guest: %s%s; %s",
			 f->probe_error, mods, KVM_ADVICE);
		return -1;
	case KVM_PROBE_NOT_RUN:
	case KVM_PROBE_CPUID_HONOURED:
		break;
	}
	if (f->missing_cap) {
		snprintf(msg, len, "/dev/kvm: lacks %s, needed for %s%s; use the KVM of a Linux 5.x or later host kernel (kvm_intel, kvm_amd)",
			 f->missing_cap, f->missing_for, mods);
		return -1;
	}
	snprintf(msg, len, "/dev/kvm: usable: API %d, %u capabilities present%s%s",
		 f->api_version, f->caps_checked,
		 f->probe == KVM_PROBE_CPUID_HONOURED ?
		 ", a probe guest read back the CPUID mmvm set" : "", mods);
	return 0;
}

void kvm_loaded_modules(char *buf, size_t len)
{
	DIR *d = opendir("/sys/module");
	struct dirent *e;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "kvm", 3) || used + n + 2 > len)
			continue;
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, e->d_name, n + 1);
		used += n;
	}
	closedir(d);
}

int kvm_check_open(const struct mmvm_config *cfg, char *msg, size_t len)
{
	struct kvm_facts facts = { .api_version = -1 };
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		facts.open_errno = errno;
		kvm_loaded_modules(facts.modules, sizeof(facts.modules));
	} else {
		kvm_check_gather(fd, cfg, &facts);
	}
	if (kvm_check_verdict(&facts, msg, len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
