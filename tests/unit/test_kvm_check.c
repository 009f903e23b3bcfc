/* The /dev/kvm verdict (src/vmm/kvm_check.c) from made-up facts: a hardware
 * KVM, kvm_pvm's (CPUID not honoured), missing capabilities, no /dev/kvm. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "unit.h"
#include "vmm/kvm_check.h"

/* A fake KVM_CHECK_EXTENSION: every capability present except *ctx. */
static int all_but(void *ctx, int cap)
{
	return cap == *(int *)ctx ? 0 : 1;
}

static const struct mmvm_config v2 = { .virtio_version = 2 };
static const struct mmvm_config v3_msi = { .virtio_version = 3, .virtio_msi = true };
static const struct mmvm_config v3_nomsi = { .virtio_version = 3 };

/* Facts of a KVM that has everything mmvm needs and ran the probe. */
static struct kvm_facts good(const struct mmvm_config *cfg, int lacking)
{
	struct kvm_facts f = { .opened = true, .api_version = KVM_API_VERSION };

	kvm_check_caps(cfg, all_but, &lacking, &f);
	kvm_probe_interpret(0, 0, &f);
	return f;
}

static bool one_line(const char *msg)
{
	return !strchr(msg, '\n') && !strncmp(msg, "/dev/kvm: ", 10) &&
	       strstr(msg, "; ");
}

static void test_hardware_kvm_is_usable(void)
{
	struct kvm_facts f = good(&v3_msi, -1);
	char msg[512];

	CHECK_EQ(f.probe, KVM_PROBE_CPUID_HONOURED);
	CHECK(f.missing_cap == NULL);
	CHECK(f.caps_checked >= 10);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), 0);
	CHECK(strstr(msg, "usable") != NULL);
	CHECK(strstr(msg, "probe guest read back") != NULL);
}

/* KVM keeps OSXSAVE and the APIC bit in step with the vCPU itself: seeing
 * them is no sign that CPUID was ignored. */
static void test_dynamic_bits_are_not_evidence(void)
{
	struct kvm_facts f = { .opened = true, .api_version = KVM_API_VERSION };
	char msg[512];

	kvm_probe_interpret(KVM_PROBE_ECX_DYNAMIC, KVM_PROBE_EDX_DYNAMIC, &f);
	CHECK_EQ(f.probe, KVM_PROBE_CPUID_HONOURED);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), 0);
	kvm_probe_interpret(KVM_PROBE_ECX_DYNAMIC | 1, 0, &f);
	CHECK_EQ(f.probe, KVM_PROBE_CPUID_IGNORED);
	kvm_probe_interpret(0, KVM_PROBE_EDX_DYNAMIC | 1, &f);
	CHECK_EQ(f.probe, KVM_PROBE_CPUID_IGNORED);
}

/* What the probe guest read on kvm_pvm: the host's leaf 1. All
 * capabilities are there; the verdict must still be no. */
static void test_pvm_is_refused(void)
{
	struct kvm_facts f = good(&v3_msi, -1);
	char msg[512];

	strcpy(f.modules, "kvm,kvm_pvm");
	kvm_probe_interpret(0x76d81203, 0x1f8bfbff, &f);
	CHECK_EQ(f.probe, KVM_PROBE_CPUID_IGNORED);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(one_line(msg));
	CHECK(strstr(msg, "ignores the CPUID") != NULL);
	CHECK(strstr(msg, "0x76d81203") != NULL);
	CHECK(strstr(msg, "loaded: kvm,kvm_pvm") != NULL);
	CHECK(strstr(msg, "scripts/mmvm-host") != NULL);
}

static void test_probe_failure_is_refused(void)
{
	struct kvm_facts f = good(&v2, -1);
	char msg[512];

	f.probe = KVM_PROBE_FAILED;
	strcpy(f.probe_error, "did not reach HLT within 3000 ms");
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(one_line(msg));
	CHECK(strstr(msg, "did not reach HLT") != NULL);
}

static void test_missing_capability_is_named(void)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE" },
	};
	char msg[512];

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		struct kvm_facts f = good(&v2, caps[i].cap);

		CHECK(f.missing_cap && !strcmp(f.missing_cap, caps[i].name));
		CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
		CHECK(one_line(msg));
		CHECK(strstr(msg, caps[i].name) != NULL);
	}
}

/* MSI routes are only needed when the configuration uses MSI. */
static void test_msi_needed_only_with_msi(void)
{
	struct kvm_facts f;
	char msg[512];

	f = good(&v2, KVM_CAP_SIGNAL_MSI);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), 0);
	f = good(&v3_nomsi, KVM_CAP_SIGNAL_MSI);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), 0);
	f = good(&v3_msi, KVM_CAP_SIGNAL_MSI);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(strstr(msg, "KVM_CAP_SIGNAL_MSI") != NULL);
	/* No configuration: everything any configuration needs. */
	f = good(NULL, KVM_CAP_SIGNAL_MSI);
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
}

static void test_no_kvm(void)
{
	struct kvm_facts f = { .open_errno = ENOENT };
	char msg[512];

	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(one_line(msg));
	CHECK(strstr(msg, strerror(ENOENT)) != NULL);
	CHECK(strstr(msg, "scripts/mmvm-host") != NULL);
	f.open_errno = EACCES;
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(one_line(msg));
	CHECK(strstr(msg, "root") != NULL);
}

static void test_wrong_api_version(void)
{
	struct kvm_facts f = good(&v2, -1);
	char msg[512];

	f.api_version = 11;
	CHECK_EQ(kvm_check_verdict(&f, msg, sizeof(msg)), -1);
	CHECK(one_line(msg));
	CHECK(strstr(msg, "API version 11") != NULL);
}

/* A short buffer truncates, never overflows (ASan watches). */
static void test_short_buffers(void)
{
	struct kvm_facts f = good(&v2, -1);
	char tiny[8];

	kvm_probe_interpret(0x76d81203, 0, &f);
	CHECK_EQ(kvm_check_verdict(&f, tiny, sizeof(tiny)), -1);
	CHECK_EQ(strlen(tiny), sizeof(tiny) - 1);
	kvm_loaded_modules(tiny, sizeof(tiny));
	CHECK(strlen(tiny) < sizeof(tiny));
}

int main(void)
{
	RUN(test_hardware_kvm_is_usable);
	RUN(test_dynamic_bits_are_not_evidence);
	RUN(test_pvm_is_refused);
	RUN(test_probe_failure_is_refused);
	RUN(test_missing_capability_is_named);
	RUN(test_msi_needed_only_with_msi);
	RUN(test_no_kvm);
	RUN(test_wrong_api_version);
	RUN(test_short_buffers);
	return unit_finish("test_kvm_check");
}
