/* Command-line parsing into struct mmvm_config. Split from main() so that
 * unit tests can drive it. */
#ifndef MMVM_VMM_CLI_H
#define MMVM_VMM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/config.h"

#define MMVM_VERSION		"0.1"
#define MMVM_DEFAULT_MEM	(256ULL << 20)
#define MMVM_MIN_MEM		(32ULL << 20)
#define MMVM_DEFAULT_CMDLINE	"console=ttyS0"
#define MMVM_MAX_CPUS		64

enum cli_result {
	CLI_RUN = 0,	/* cfg is filled in: boot */
	CLI_HELP,	/* --help: print cli_usage(), exit 0 */
	CLI_VERSION,	/* --version */
	CLI_CHECK_KVM,	/* --check-kvm: judge /dev/kvm, exit 0 or 1 */
	CLI_ERROR,	/* err holds a one-line message: exit 1 */
};

/* Parses argv (argv[0] is skipped). Checks syntax and ranges only; what
 * depends on the host (files, memory, KVM) is checked by cli_check_host()
 * and the loader. Strings in cfg point into argv. */
enum cli_result cli_parse(int argc, char **argv, struct mmvm_config *cfg,
			  char *err, size_t errlen);

/* "256M", "1G", "512K", "1048576B"; a bare number is MiB. */
int cli_parse_size(const char *s, uint64_t *bytes);

/* Compares --mem with the host's RAM (MemTotal). */
int cli_check_host_memory(const struct mmvm_config *cfg, uint64_t host_bytes,
			  char *err, size_t errlen);
/* Host RAM in bytes (sysinfo), 0 if unknown. */
uint64_t cli_host_memory(void);

void cli_usage(FILE *f);

/* Kernel parameters mmvm adds for its virtio-mmio layout, NULL if none:
 * the 2019 layout (--virtio-version 3) is opt-in in the guest kernel
 * (virtio_mmio.layout_2019=1), as a Version 3 device may mean the
 * virtio spec's Version 3. */
const char *cli_virtio_guest_params(const struct mmvm_config *cfg);

#endif
