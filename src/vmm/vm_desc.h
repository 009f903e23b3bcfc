/* The VM description: one struct mmvm_config, filled by the command line
 * (cli.c), a --config-file and the API (src/api/), all through the
 * checks here, so that a value is judged and worded the same way
 * whichever front end gave it. Each check takes the field's name as the
 * front end spells it ("--mem", "machine-config.mem_size_mib") and every
 * error is one line naming it. */
#ifndef MMVM_VMM_VM_DESC_H
#define MMVM_VMM_VM_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

#define MMVM_DEFAULT_ID		"anonymous-instance"

enum vm_log_level {
	VM_LOG_OFF, VM_LOG_ERROR, VM_LOG_WARN, VM_LOG_INFO, VM_LOG_DEBUG,
	VM_LOG_TRACE,
};

/* The defaults every front end starts from (releases nothing: call
 * vm_desc_release() first on a description that owns strings). */
void vm_desc_init(struct mmvm_config *cfg);
/* Frees the strings the description owns (vm_desc_strdup). */
void vm_desc_release(struct mmvm_config *cfg);
/* A copy of s owned by cfg (freed by vm_desc_release), NULL if out of
 * memory or past VM_DESC_MAX_OWNED bytes in all. */
const char *vm_desc_strdup(struct mmvm_config *cfg, const char *s);
#define VM_DESC_MAX_OWNED	(1024 * 1024)
/* Frees the strings added since the list was keep (a failed update). */
void vm_desc_release_since(struct mmvm_config *cfg,
			   const struct vm_desc_str *keep);

void vm_desc_disk_defaults(struct disk_config *d);
void vm_desc_net_defaults(struct net_config *n);

/* "XX:XX:XX:XX:XX:XX", two hex digits a byte, not multicast (a NIC's own
 * address): 0, or -1. The CLI's mac= and the API's guest_mac. */
int vm_desc_parse_mac(const char *s, uint8_t mac[6]);

/* Each returns 0, or -1 with one line in err. */
int vm_desc_check_id(const char *id, const char *field, char *err,
		     size_t errlen);
int vm_desc_set_mem(struct mmvm_config *cfg, uint64_t bytes,
		    const char *field, char *err, size_t errlen);
int vm_desc_set_cpus(struct mmvm_config *cfg, uint64_t n, const char *field,
		     char *err, size_t errlen);
/* Adds d, or replaces the disk with d's id. At most one root device. */
int vm_desc_put_disk(struct mmvm_config *cfg, const struct disk_config *d,
		     const char *field, char *err, size_t errlen);
/* Adds n, or replaces the interface with n's id. */
int vm_desc_put_net(struct mmvm_config *cfg, const struct net_config *n,
		    const char *field, char *err, size_t errlen);
/* Index of the disk / interface with this id, -1 if none. */
int vm_desc_find_disk(const struct mmvm_config *cfg, const char *id);
int vm_desc_find_net(const struct mmvm_config *cfg, const char *id);

/* Complete enough to boot: a kernel. kernel_field names where it is
 * given ("--kernel", "boot-source.kernel_image_path"). */
int vm_desc_check(const struct mmvm_config *cfg, const char *kernel_field,
		  char *err, size_t errlen);

/* Just before the VM is built: the root device (is_root_device) moves
 * to the front, to be vda. */
void vm_desc_finish(struct mmvm_config *cfg);
/* The kernel parameters for that root device ("root=/dev/vda rw") in buf,
 * or NULL if there is none (or it does not fit). */
const char *vm_desc_root_args(const struct mmvm_config *cfg, char *buf,
			      size_t buflen);

/* "Error", "Warning", "Info", "Debug", "Trace", "Off" (any case); -1 if
 * none of them. */
int vm_desc_log_level(const char *name);
const char *vm_desc_log_level_name(int level);

#endif
