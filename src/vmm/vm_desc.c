/* One set of checks for the VM description, whichever front end fills it
 * (vm_desc.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmm/cli.h"
#include "vmm/vm_desc.h"

struct vm_desc_str {
	struct vm_desc_str *next;
	char s[];
};

void vm_desc_init(struct mmvm_config *cfg)
{
	*cfg = (struct mmvm_config){
		.cmdline = MMVM_DEFAULT_CMDLINE,
		.mem_bytes = MMVM_DEFAULT_MEM,
		.cpus = 1,
		.virtio_version = 2,
		.virtio_msi = true,
		.virtio_doorbells = true,
		.acpi = true,
		.seccomp = true,	/* see docs/security.md */
		.id = MMVM_DEFAULT_ID,
		.log_level = VM_LOG_WARN,
	};
}

void vm_desc_release(struct mmvm_config *cfg)
{
	struct vm_desc_str *s = cfg->owned, *next;

	for (; s; s = next) {
		next = s->next;
		free(s);
	}
	cfg->owned = NULL;
	cfg->owned_bytes = 0;
}

void vm_desc_release_since(struct mmvm_config *cfg,
			   const struct vm_desc_str *keep)
{
	while (cfg->owned && cfg->owned != keep) {
		struct vm_desc_str *n = cfg->owned;

		cfg->owned = n->next;
		cfg->owned_bytes -= strlen(n->s);
		free(n);
	}
}

const char *vm_desc_strdup(struct mmvm_config *cfg, const char *s)
{
	size_t len = strlen(s);
	struct vm_desc_str *n;

	if (cfg->owned_bytes + len > VM_DESC_MAX_OWNED)
		return NULL;
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	cfg->owned_bytes += len;
	memcpy(n->s, s, len + 1);
	n->next = cfg->owned;
	cfg->owned = n;
	return n->s;
}

void vm_desc_disk_defaults(struct disk_config *d)
{
	/* queues 0: one per vCPU (chosen when the device is made). */
	*d = (struct disk_config){ .poll_adaptive = true,
				   .poll_us = MMVM_MAX_POLL_US };
}

int vm_desc_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]) ||
		    s[i * 3 + 2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	/* A multicast address cannot be a NIC's own. */
	return (mac[0] & 1) ? -1 : 0;
}

void vm_desc_net_defaults(struct net_config *n)
{
	*n = (struct net_config){ .tx_irq_delay_us = MMVM_TX_IRQ_AUTO_US,
				  .tx_irq_delay_auto = true,
				  .poll_us = MMVM_MAX_POLL_US,
				  .poll_adaptive = true };
}

int vm_desc_check_id(const char *id, const char *field, char *err,
		     size_t errlen)
{
	size_t len = strlen(id);

	if (len == 0 || len >= MMVM_ID_MAX) {
		snprintf(err, errlen, "%s: want 1..%d characters", field,
			 MMVM_ID_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
			snprintf(err, errlen, "%s: '%.*s': only letters, digits, '_', '-' and '.'",
				 field, MMVM_ID_MAX, id);
			return -1;
		}
	}
	return 0;
}

int vm_desc_set_mem(struct mmvm_config *cfg, uint64_t bytes,
		    const char *field, char *err, size_t errlen)
{
	if (bytes < MMVM_MIN_MEM) {
		snprintf(err, errlen, "%s: %llu KiB too small (minimum 32 MiB)",
			 field, (unsigned long long)(bytes >> 10));
		return -1;
	}
	if (bytes & 0xfff) {
		snprintf(err, errlen, "%s: %llu bytes is not a multiple of 4 KiB",
			 field, (unsigned long long)bytes);
		return -1;
	}
	cfg->mem_bytes = bytes;
	return 0;
}

int vm_desc_set_cpus(struct mmvm_config *cfg, uint64_t n, const char *field,
		     char *err, size_t errlen)
{
	if (n == 0 || n > MMVM_MAX_CPUS) {
		snprintf(err, errlen, "%s: %llu: want 1..%d vCPUs", field,
			 (unsigned long long)n, MMVM_MAX_CPUS);
		return -1;
	}
	cfg->cpus = (unsigned int)n;
	return 0;
}

int vm_desc_find_disk(const struct mmvm_config *cfg, const char *id)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		if (!strcmp(cfg->disks[i].id, id))
			return (int)i;
	return -1;
}

int vm_desc_find_net(const struct mmvm_config *cfg, const char *id)
{
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		if (!strcmp(cfg->nets[i].id, id))
			return (int)i;
	return -1;
}

int vm_desc_put_disk(struct mmvm_config *cfg, const struct disk_config *d,
		     const char *field, char *err, size_t errlen)
{
	int at = vm_desc_find_disk(cfg, d->id);

	if (vm_desc_check_id(d->id, field, err, errlen))
		return -1;
	if (!d->path || !*d->path) {
		snprintf(err, errlen, "%s: missing the image path", field);
		return -1;
	}
	if (d->queues > MMVM_MAX_DISK_QUEUES) {
		snprintf(err, errlen, "%s: %u queues: want 1..%d", field,
			 d->queues, MMVM_MAX_DISK_QUEUES);
		return -1;
	}
	if (d->poll_us > MMVM_MAX_POLL_US) {
		snprintf(err, errlen, "%s: poll %u us: want 0..%d (microseconds)",
			 field, d->poll_us, MMVM_MAX_POLL_US);
		return -1;
	}
	for (unsigned int i = 0; d->root && i < cfg->nr_disks; i++) {
		if ((int)i != at && cfg->disks[i].root) {
			snprintf(err, errlen, "%s: a root device is already given (drive '%s'); only one can be",
				 field, cfg->disks[i].id);
			return -1;
		}
	}
	if (at < 0 && cfg->nr_disks >= MMVM_MAX_DISKS) {
		snprintf(err, errlen, "%s: too many disks (max %d)", field,
			 MMVM_MAX_DISKS);
		return -1;
	}
	if (at < 0)
		at = (int)cfg->nr_disks++;
	cfg->disks[at] = *d;
	return 0;
}

int vm_desc_put_net(struct mmvm_config *cfg, const struct net_config *n,
		    const char *field, char *err, size_t errlen)
{
	int at = vm_desc_find_net(cfg, n->id);
	struct net_config c = *n;

	if (vm_desc_check_id(n->id, field, err, errlen))
		return -1;
	if (!n->tap || !*n->tap) {
		snprintf(err, errlen, "%s: missing the tap name", field);
		return -1;
	}
	if (strlen(n->tap) >= 16) {
		snprintf(err, errlen, "%s: tap name '%s' too long (max 15)",
			 field, n->tap);
		return -1;
	}
	if (n->queues > MMVM_MAX_NET_QUEUES) {
		snprintf(err, errlen, "%s: %u queues: want 1..%d", field,
			 n->queues, MMVM_MAX_NET_QUEUES);
		return -1;
	}
	if (n->poll_us > MMVM_MAX_POLL_US ||
	    n->tx_irq_delay_us > MMVM_MAX_TX_IRQ_DELAY_US) {
		snprintf(err, errlen, "%s: poll or tx-irq-delay out of range (0..%d, 0..%d microseconds)",
			 field, MMVM_MAX_POLL_US, MMVM_MAX_TX_IRQ_DELAY_US);
		return -1;
	}
	if (n->vhost && n->poll_set) {
		snprintf(err, errlen, "%s: poll= is for packets mmvm moves itself, not with vhost=on",
			 field);
		return -1;
	}
	if (n->vhost && n->tx_irq_delay_set) {
		snprintf(err, errlen, "%s: tx-irq-delay= is for packets mmvm moves itself, not with vhost=on",
			 field);
		return -1;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		if ((int)i != at && !strcmp(cfg->nets[i].tap, n->tap)) {
			snprintf(err, errlen, "%s: tap '%s' is already interface '%s''s",
				 field, n->tap, cfg->nets[i].id);
			return -1;
		}
	}
	if (at < 0 && cfg->nr_nets >= MMVM_MAX_NETS) {
		snprintf(err, errlen, "%s: too many network devices (max %d)",
			 field, MMVM_MAX_NETS);
		return -1;
	}
	if (c.vhost) {		/* vhost moves the frames and interrupts */
		c.tx_irq_delay_us = 0;
		c.tx_irq_delay_auto = false;
		c.poll_us = 0;
		c.poll_adaptive = false;
	}
	if (at < 0)
		at = (int)cfg->nr_nets++;
	cfg->nets[at] = c;
	return 0;
}

int vm_desc_check(const struct mmvm_config *cfg, const char *kernel_field,
		  char *err, size_t errlen)
{
	if (!cfg->kernel || !*cfg->kernel) {
		snprintf(err, errlen, "missing %s", kernel_field);
		return -1;
	}
	return 0;
}

void vm_desc_finish(struct mmvm_config *cfg)
{
	for (unsigned int i = 1; i < cfg->nr_disks; i++) {
		if (cfg->disks[i].root) {
			/* The root device is vda: first in attach order. */
			struct disk_config r = cfg->disks[i];

			memmove(&cfg->disks[1], &cfg->disks[0],
				(size_t)i * sizeof(cfg->disks[0]));
			cfg->disks[0] = r;
			break;
		}
	}
}

const char *vm_desc_root_args(const struct mmvm_config *cfg, char *buf,
			      size_t buflen)
{
	const struct disk_config *d = &cfg->disks[0];
	int n;

	if (!cfg->nr_disks || !d->root)
		return NULL;
	if (d->partuuid)
		n = snprintf(buf, buflen, "root=PARTUUID=%s %s", d->partuuid,
			     d->read_only ? "ro" : "rw");
	else
		n = snprintf(buf, buflen, "root=/dev/vda %s",
			     d->read_only ? "ro" : "rw");
	return n > 0 && (size_t)n < buflen ? buf : NULL;
}

static const char *const level_names[] = {
	[VM_LOG_OFF] = "Off", [VM_LOG_ERROR] = "Error",
	[VM_LOG_WARN] = "Warning", [VM_LOG_INFO] = "Info",
	[VM_LOG_DEBUG] = "Debug", [VM_LOG_TRACE] = "Trace",
};

int vm_desc_log_level(const char *name)
{
	for (int i = 0; i <= VM_LOG_TRACE; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	if (!strcasecmp(name, "Warn"))
		return VM_LOG_WARN;
	return -1;
}

const char *vm_desc_log_level_name(int level)
{
	return level >= 0 && level <= VM_LOG_TRACE ? level_names[level] : "?";
}
