/* Firecracker's JSON schema onto the VM description (vm_config_json.h).
 * Every section is applied to a copy of the description and copied back
 * only when all of it was good. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/vm_config_json.h"
#include "devices/blk_engine.h"
#include "vmm/cli.h"
#include "vmm/vm_desc.h"

#define JSON_MAX_DEPTH	16

struct json_object *vmj_parse(const char *text, size_t len, char *err,
			      size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t used;

	if (len > VMJ_MAX_FILE) {
		snprintf(err, errlen, "body too large (%zu bytes, max %d)", len,
			 VMJ_MAX_FILE);
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (e == json_tokener_continue)
			snprintf(err, errlen, "malformed JSON: unexpected end of input");
		else
			snprintf(err, errlen, "malformed JSON at byte %zu: %s",
				 json_tokener_get_parse_end(tok),
				 json_tokener_error_desc(e));
		json_tokener_free(tok);
		return NULL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; used < len; used++) {
		char c = text[used];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			snprintf(err, errlen, "malformed JSON: trailing data at byte %zu",
				 used);
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

/* ---- typed getters: one line naming the field on a wrong type ---- */

struct ctx {
	struct mmvm_config *cfg;
	const char *where;
	char *err;
	size_t errlen;
};

static int type_error(struct ctx *c, const char *key, const char *want)
{
	snprintf(c->err, c->errlen, "%s.%s: want %s", c->where, key, want);
	return -1;
}

static int get_str(struct ctx *c, const char *key, struct json_object *v,
		   const char **out)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return type_error(c, key, "a string");
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		snprintf(c->err, c->errlen, "%s.%s: NUL inside the string",
			 c->where, key);
		return -1;
	}
	*out = vm_desc_strdup(c->cfg, s);
	if (!*out) {
		snprintf(c->err, c->errlen, "%s.%s: out of memory (or too much configuration)",
			 c->where, key);
		return -1;
	}
	return 0;
}

/* Into a fixed buffer (ids, tap names): no ownership. */
static int get_str_buf(struct ctx *c, const char *key, struct json_object *v,
		       char *buf, size_t len)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return type_error(c, key, "a string");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= len ||
	    strlen(s) != (size_t)json_object_get_string_len(v)) {
		snprintf(c->err, c->errlen, "%s.%s: want at most %zu characters",
			 c->where, key, len - 1);
		return -1;
	}
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int get_bool(struct ctx *c, const char *key, struct json_object *v,
		    bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return type_error(c, key, "true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_uint(struct ctx *c, const char *key, struct json_object *v,
		    uint64_t max, uint64_t *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return type_error(c, key, "an integer");
	errno = 0;
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i > max) {
		snprintf(c->err, c->errlen, "%s.%s: want 0..%llu", c->where,
			 key, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)i;
	return 0;
}

static int unknown(struct ctx *c, const char *key)
{
	snprintf(c->err, c->errlen, "%s.%s: unknown field", c->where, key);
	return -1;
}

static int missing(struct ctx *c, const char *key)
{
	snprintf(c->err, c->errlen, "%s.%s: missing (required)", c->where,
		 key);
	return -1;
}

static int need_object(struct ctx *c, const struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object)) {
		snprintf(c->err, c->errlen, "%s: want a JSON object", c->where);
		return -1;
	}
	return 0;
}

/* Fields that are only accepted as null / absent. */
static int only_null(struct ctx *c, const char *key, struct json_object *v,
		     const char *why)
{
	if (v == NULL)
		return 0;
	snprintf(c->err, c->errlen, "%s.%s: %s", c->where, key, why);
	return -1;
}

#define NO_RATE_LIMITER	"rate limiters are not supported by mmvm (send null or leave it out)"

/* "auto" or a number of microseconds, for the mmvm extensions. */
static int get_poll(struct ctx *c, const char *key, struct json_object *v,
		    unsigned int max, unsigned int *us, bool *adaptive)
{
	uint64_t n;

	if (json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "auto")) {
		*us = max;
		*adaptive = true;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return type_error(c, key, "\"auto\" or an integer (microseconds)");
	if (get_uint(c, key, v, max, &n))
		return -1;
	*us = (unsigned int)n;
	*adaptive = false;
	return 0;
}

/* ---- sections ---- */

static int boot_source(struct ctx *c, struct json_object *o)
{
	struct mmvm_config *cfg = c->cfg;
	bool kernel = false;

	if (need_object(c, o))
		return -1;
	cfg->cmdline = MMVM_DEFAULT_CMDLINE;
	cfg->initrd = NULL;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "kernel_image_path")) {
			if (get_str(c, key, v, &cfg->kernel))
				return -1;
			kernel = true;
		} else if (!strcmp(key, "boot_args")) {
			if (v && get_str(c, key, v, &cfg->cmdline))
				return -1;
		} else if (!strcmp(key, "initrd_path")) {
			if (v && get_str(c, key, v, &cfg->initrd))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	return kernel ? 0 : missing(c, "kernel_image_path");
}

static int machine_ext(struct ctx *c, struct json_object *o)
{
	struct mmvm_config *cfg = c->cfg;
	uint64_t n;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "virtio_version")) {
			if (json_object_is_type(v, json_type_string) &&
			    !strcmp(json_object_get_string(v), "3-oasis")) {
				cfg->virtio_version = 2;
				cfg->virtio_oasis_v3 = true;
				continue;
			}
			if (!json_object_is_type(v, json_type_int) ||
			    get_uint(c, key, v, 3, &n) || n < 2)
				return type_error(c, key, "2, 3 or \"3-oasis\"");
			cfg->virtio_version = (unsigned int)n;
			cfg->virtio_oasis_v3 = false;
		} else if (!strcmp(key, "msi")) {
			if (get_bool(c, key, v, &cfg->virtio_msi))
				return -1;
		} else if (!strcmp(key, "doorbells")) {
			if (get_bool(c, key, v, &cfg->virtio_doorbells))
				return -1;
		} else if (!strcmp(key, "acpi")) {
			if (get_bool(c, key, v, &cfg->acpi))
				return -1;
		} else if (!strcmp(key, "pin_vcpus")) {
			if (get_bool(c, key, v, &cfg->pin_cpus))
				return -1;
		} else if (!strcmp(key, "virtio_console")) {
			if (get_bool(c, key, v, &cfg->virtio_console))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	return 0;
}

static int machine_config(struct ctx *c, struct json_object *o, bool put)
{
	struct mmvm_config *cfg = c->cfg;
	bool have_cpus = false, have_mem = false, b;
	char field[128];
	const char *where = c->where;
	uint64_t n;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		snprintf(field, sizeof(field), "%s.%s", where, key);
		if (!strcmp(key, "vcpu_count")) {
			if (get_uint(c, key, v, UINT32_MAX, &n) ||
			    vm_desc_set_cpus(cfg, n, field, c->err, c->errlen))
				return -1;
			have_cpus = true;
		} else if (!strcmp(key, "mem_size_mib")) {
			if (get_uint(c, key, v, UINT64_MAX >> 20, &n) ||
			    vm_desc_set_mem(cfg, n << 20, field, c->err,
					    c->errlen))
				return -1;
			have_mem = true;
		} else if (!strcmp(key, "smt")) {
			if (get_bool(c, key, v, &b))
				return -1;
			if (b) {
				snprintf(c->err, c->errlen, "%s: mmvm gives each vCPU a core of its own (no SMT): want false",
					 field);
				return -1;
			}
		} else if (!strcmp(key, "track_dirty_pages")) {
			if (get_bool(c, key, v, &b))
				return -1;
			if (b) {
				snprintf(c->err, c->errlen, "%s: dirty page tracking (for snapshots) is not supported: want false",
					 field);
				return -1;
			}
		} else if (!strcmp(key, "cpu_template") ||
			   !strcmp(key, "huge_pages")) {
			const char *s;

			if (v == NULL)
				continue;
			if (!json_object_is_type(v, json_type_string))
				return type_error(c, key, "a string");
			s = json_object_get_string(v);
			if (strcmp(s, "None")) {
				snprintf(c->err, c->errlen, "%s: '%s' is not supported: want \"None\"",
					 field, s);
				return -1;
			}
		} else if (!strcmp(key, "mmvm")) {
			struct ctx sub = *c;

			sub.where = field;
			if (machine_ext(&sub, v))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	if (put && !have_cpus)
		return missing(c, "vcpu_count");
	if (put && !have_mem)
		return missing(c, "mem_size_mib");
	return 0;
}

static int check_path_id(struct ctx *c, const char *key, const char *body_id,
			 const char *path_id)
{
	if (path_id && strcmp(body_id, path_id)) {
		snprintf(c->err, c->errlen, "%s.%s: '%s' differs from the id in the path ('%s')",
			 c->where, key, body_id, path_id);
		return -1;
	}
	return 0;
}

static int drive_ext(struct ctx *c, struct json_object *o,
		     struct disk_config *d)
{
	uint64_t n;
	bool lock;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "direct")) {
			if (get_bool(c, key, v, &d->direct))
				return -1;
		} else if (!strcmp(key, "queues")) {
			if (get_uint(c, key, v, MMVM_MAX_DISK_QUEUES, &n))
				return -1;
			d->queues = (unsigned int)n;
		} else if (!strcmp(key, "poll")) {
			if (get_poll(c, key, v, MMVM_MAX_POLL_US, &d->poll_us,
				     &d->poll_adaptive))
				return -1;
		} else if (!strcmp(key, "lock")) {
			if (get_bool(c, key, v, &lock))
				return -1;
			d->no_lock = !lock;
		} else {
			return unknown(c, key);
		}
	}
	return 0;
}

static int drive(struct ctx *c, struct json_object *o, const char *path_id)
{
	struct disk_config d;
	bool have_id = false, have_root = false;
	char field[128];

	vm_desc_disk_defaults(&d);
	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		snprintf(field, sizeof(field), "%s.%s", c->where, key);
		if (!strcmp(key, "drive_id")) {
			if (get_str_buf(c, key, v, d.id, sizeof(d.id)) ||
			    check_path_id(c, key, d.id, path_id))
				return -1;
			have_id = true;
		} else if (!strcmp(key, "path_on_host")) {
			if (get_str(c, key, v, &d.path))
				return -1;
		} else if (!strcmp(key, "is_root_device")) {
			if (get_bool(c, key, v, &d.root))
				return -1;
			have_root = true;
		} else if (!strcmp(key, "is_read_only")) {
			if (v && get_bool(c, key, v, &d.read_only))
				return -1;
		} else if (!strcmp(key, "partuuid")) {
			if (v && get_str(c, key, v, &d.partuuid))
				return -1;
		} else if (!strcmp(key, "cache_type")) {
			if (v && (!json_object_is_type(v, json_type_string) ||
				  strcmp(json_object_get_string(v), "Writeback"))) {
				snprintf(c->err, c->errlen, "%s: mmvm always passes the guest's flushes to the image: want \"Writeback\"",
					 field);
				return -1;
			}
		} else if (!strcmp(key, "io_engine")) {
			/* Firecracker's two engines are mmvm's: "Sync" one
			 * request at a time per queue, "Async" io_uring
			 * (left out: mmvm's default, io_uring where the host
			 * has it). */
			const char *e = v && json_object_is_type(v, json_type_string) ?
					json_object_get_string(v) : NULL;

			if (v && (!e || (strcmp(e, "Sync") && strcmp(e, "Async")))) {
				snprintf(c->err, c->errlen, "%s: want \"Sync\" or \"Async\" (io_uring)",
					 field);
				return -1;
			}
			if (e)
				d.engine = !strcmp(e, "Sync") ? BLK_ENGINE_SYNC :
								BLK_ENGINE_IO_URING;
		} else if (!strcmp(key, "rate_limiter")) {
			if (only_null(c, key, v, NO_RATE_LIMITER))
				return -1;
		} else if (!strcmp(key, "socket")) {
			if (only_null(c, key, v, "vhost-user block devices are not supported by mmvm"))
				return -1;
		} else if (!strcmp(key, "mmvm")) {
			struct ctx sub = *c;

			sub.where = field;
			if (drive_ext(&sub, v, &d))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	if (!have_id)
		return missing(c, "drive_id");
	if (!have_root)
		return missing(c, "is_root_device");
	if (!d.path)
		return missing(c, "path_on_host");
	snprintf(field, sizeof(field), "%s", c->where);
	return vm_desc_put_disk(c->cfg, &d, field, c->err, c->errlen);
}

static int net_ext(struct ctx *c, struct json_object *o, struct net_config *n)
{
	uint64_t q;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "queues")) {
			if (get_uint(c, key, v, MMVM_MAX_NET_QUEUES, &q))
				return -1;
			n->queues = (unsigned int)q;
		} else if (!strcmp(key, "vhost")) {
			if (get_bool(c, key, v, &n->vhost))
				return -1;
		} else if (!strcmp(key, "poll")) {
			if (get_poll(c, key, v, MMVM_MAX_POLL_US, &n->poll_us,
				     &n->poll_adaptive))
				return -1;
			n->poll_set = n->poll_adaptive || n->poll_us;
		} else if (!strcmp(key, "tx_irq_delay")) {
			if (get_poll(c, key, v, MMVM_MAX_TX_IRQ_DELAY_US,
				     &n->tx_irq_delay_us,
				     &n->tx_irq_delay_auto))
				return -1;
			if (n->tx_irq_delay_auto)
				n->tx_irq_delay_us = MMVM_TX_IRQ_AUTO_US;
			n->tx_irq_delay_set = n->tx_irq_delay_auto ||
					      n->tx_irq_delay_us;
		} else {
			return unknown(c, key);
		}
	}
	return 0;
}

static int net(struct ctx *c, struct json_object *o, const char *path_id)
{
	struct net_config n;
	bool have_id = false;
	char field[128];

	vm_desc_net_defaults(&n);
	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		snprintf(field, sizeof(field), "%s.%s", c->where, key);
		if (!strcmp(key, "iface_id")) {
			if (get_str_buf(c, key, v, n.id, sizeof(n.id)) ||
			    check_path_id(c, key, n.id, path_id))
				return -1;
			have_id = true;
		} else if (!strcmp(key, "host_dev_name")) {
			if (get_str(c, key, v, &n.tap))
				return -1;
		} else if (!strcmp(key, "guest_mac")) {
			const char *s;

			if (v == NULL)
				continue;
			if (!json_object_is_type(v, json_type_string))
				return type_error(c, key, "a string");
			s = json_object_get_string(v);
			if (vm_desc_parse_mac(s, n.mac)) {
				snprintf(c->err, c->errlen, "%s: bad mac '%.32s' (want XX:XX:XX:XX:XX:XX, unicast)",
					 field, s);
				return -1;
			}
			n.mac_set = true;
		} else if (!strcmp(key, "rx_rate_limiter") ||
			   !strcmp(key, "tx_rate_limiter")) {
			if (only_null(c, key, v, NO_RATE_LIMITER))
				return -1;
		} else if (!strcmp(key, "mmvm")) {
			struct ctx sub = *c;

			sub.where = field;
			if (net_ext(&sub, v, &n))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	if (!have_id)
		return missing(c, "iface_id");
	if (!n.tap)
		return missing(c, "host_dev_name");
	snprintf(field, sizeof(field), "%s", c->where);
	return vm_desc_put_net(c->cfg, &n, field, c->err, c->errlen);
}

static int logger(struct ctx *c, struct json_object *o)
{
	struct mmvm_config *cfg = c->cfg;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "log_path")) {
			if (get_str(c, key, v, &cfg->log_path))
				return -1;
		} else if (!strcmp(key, "level")) {
			int l;

			if (!json_object_is_type(v, json_type_string))
				return type_error(c, key, "a string");
			l = vm_desc_log_level(json_object_get_string(v));
			if (l < 0)
				return type_error(c, key, "\"Error\", \"Warning\", \"Info\", \"Debug\", \"Trace\" or \"Off\"");
			cfg->log_level = l;
		} else if (!strcmp(key, "show_level")) {
			if (get_bool(c, key, v, &cfg->log_show_level))
				return -1;
		} else if (!strcmp(key, "show_log_origin")) {
			if (get_bool(c, key, v, &cfg->log_show_origin))
				return -1;
		} else if (!strcmp(key, "module")) {
			if (only_null(c, key, v, "per-module filters are not supported by mmvm"))
				return -1;
		} else {
			return unknown(c, key);
		}
	}
	return cfg->log_path ? 0 : missing(c, "log_path");
}

static int metrics(struct ctx *c, struct json_object *o)
{
	bool have = false;

	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "metrics_path"))
			return unknown(c, key);
		if (get_str(c, key, v, &c->cfg->metrics_path))
			return -1;
		have = true;
	}
	return have ? 0 : missing(c, "metrics_path");
}

static int entropy(struct ctx *c, struct json_object *o)
{
	if (need_object(c, o))
		return -1;
	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "rate_limiter"))
			return unknown(c, key);
		if (only_null(c, key, v, NO_RATE_LIMITER))
			return -1;
	}
	c->cfg->virtio_rng = true;
	return 0;
}

static int apply_one(struct ctx *c, enum vmj_section section,
		     const char *path_id, struct json_object *body)
{
	switch (section) {
	case VMJ_BOOT_SOURCE:
		return boot_source(c, body);
	case VMJ_MACHINE_PUT:
		return machine_config(c, body, true);
	case VMJ_MACHINE_PATCH:
		return machine_config(c, body, false);
	case VMJ_DRIVE:
		return drive(c, body, path_id);
	case VMJ_NET:
		return net(c, body, path_id);
	case VMJ_LOGGER:
		return logger(c, body);
	case VMJ_METRICS:
		return metrics(c, body);
	case VMJ_ENTROPY:
		return entropy(c, body);
	}
	snprintf(c->err, c->errlen, "unknown section");
	return -1;
}

int vmj_apply(struct mmvm_config *cfg, enum vmj_section section,
	      const char *path_id, const struct json_object *body,
	      const char *where, char *err, size_t errlen)
{
	/* On a copy: cfg changes only if all of the body is good. The
	 * strings the copy took are freed if not. */
	struct mmvm_config tmp;
	struct ctx c = { .cfg = &tmp, .where = where, .err = err,
			 .errlen = errlen };

	tmp = *cfg;
	if (apply_one(&c, section, path_id, (struct json_object *)body)) {
		vm_desc_release_since(&tmp, cfg->owned);
		return -1;
	}
	*cfg = tmp;
	return 0;
}

static const char *const unsupported_sections[][2] = {
	{ "vsock", "the vsock device is not implemented in mmvm" },
	{ "balloon", "the balloon device is not supported by mmvm" },
	{ "mmds-config", "MMDS is not supported by mmvm" },
	{ "cpu-config", "custom CPU templates are not supported by mmvm" },
};

static int apply_array(struct mmvm_config *cfg, enum vmj_section section,
		       const char *name, struct json_object *arr, char *err,
		       size_t errlen)
{
	char where[64];

	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "%s: want an array", name);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if (vmj_apply(cfg, section, NULL,
			      json_object_array_get_idx(arr, i), where, err,
			      errlen))
			return -1;
	}
	return 0;
}

int vmj_apply_config(struct mmvm_config *cfg, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct json_object *root = vmj_parse(text, len, err, errlen);
	int ret = 0;

	if (!root)
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "want a JSON object at the top");
		json_object_put(root);
		return -1;
	}
	json_object_object_foreach(root, key, v) {
		if (!strcmp(key, "boot-source"))
			ret = vmj_apply(cfg, VMJ_BOOT_SOURCE, NULL, v, key, err,
					errlen);
		else if (!strcmp(key, "machine-config"))
			ret = vmj_apply(cfg, VMJ_MACHINE_PATCH, NULL, v, key,
					err, errlen);
		else if (!strcmp(key, "drives"))
			ret = apply_array(cfg, VMJ_DRIVE, key, v, err, errlen);
		else if (!strcmp(key, "network-interfaces"))
			ret = apply_array(cfg, VMJ_NET, key, v, err, errlen);
		else if (!strcmp(key, "logger"))
			ret = vmj_apply(cfg, VMJ_LOGGER, NULL, v, key, err,
					errlen);
		else if (!strcmp(key, "metrics"))
			ret = vmj_apply(cfg, VMJ_METRICS, NULL, v, key, err,
					errlen);
		else if (!strcmp(key, "entropy"))
			ret = vmj_apply(cfg, VMJ_ENTROPY, NULL, v, key, err,
					errlen);
		else {
			size_t i, n = sizeof(unsupported_sections) /
				      sizeof(unsupported_sections[0]);

			for (i = 0; i < n; i++)
				if (!strcmp(key, unsupported_sections[i][0]))
					break;
			if (i < n && v == NULL)
				continue;
			if (i < n)
				snprintf(err, errlen, "%s: %s", key,
					 unsupported_sections[i][1]);
			else
				snprintf(err, errlen, "%s: unknown section",
					 key);
			ret = -1;
		}
		if (ret)
			break;
	}
	json_object_put(root);
	return ret;
}

int vmj_load_config_file(struct mmvm_config *cfg, const char *path,
			 char *err, size_t errlen)
{
	char *buf = malloc(VMJ_MAX_FILE + 1);
	size_t len = 0;
	ssize_t n;
	int fd, ret;
	char tmp[384];

	if (!buf) {
		snprintf(err, errlen, "--config-file %s: out of memory", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--config-file %s: %s", path,
			 strerror(errno));
		free(buf);
		return -1;
	}
	while (len <= VMJ_MAX_FILE &&
	       (n = read(fd, buf + len, VMJ_MAX_FILE + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > VMJ_MAX_FILE) {
		snprintf(err, errlen, "--config-file %s: larger than %d bytes",
			 path, VMJ_MAX_FILE);
		free(buf);
		return -1;
	}
	ret = vmj_apply_config(cfg, buf, len, tmp, sizeof(tmp));
	if (ret)
		snprintf(err, errlen, "--config-file %s: %s", path, tmp);
	free(buf);
	return ret;
}

char *vmj_drive_patch_path(const struct json_object *body,
			   const char *path_id, char *err, size_t errlen)
{
	const char *path = NULL;

	if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "drives: want a JSON object");
		return NULL;
	}
	json_object_object_foreach((struct json_object *)body, key, v) {
		if (!strcmp(key, "drive_id")) {
			if (!json_object_is_type(v, json_type_string)) {
				snprintf(err, errlen, "drives.drive_id: want a string");
				return NULL;
			}
			if (strcmp(json_object_get_string(v), path_id)) {
				snprintf(err, errlen, "drives.drive_id: differs from the id in the path ('%s')",
					 path_id);
				return NULL;
			}
		} else if (!strcmp(key, "path_on_host")) {
			if (!json_object_is_type(v, json_type_string) ||
			    !json_object_get_string_len(v)) {
				snprintf(err, errlen, "drives.path_on_host: want a non-empty string");
				return NULL;
			}
			path = json_object_get_string(v);
		} else if (!strcmp(key, "rate_limiter")) {
			if (v) {
				snprintf(err, errlen, "drives.rate_limiter: %s",
					 NO_RATE_LIMITER);
				return NULL;
			}
		} else {
			snprintf(err, errlen, "drives.%s: unknown field (or not one a PATCH can change)",
				 key);
			return NULL;
		}
	}
	if (!path) {
		snprintf(err, errlen, "drives.path_on_host: missing (the only field a PATCH changes)");
		return NULL;
	}
	path = strdup(path);
	if (!path)
		snprintf(err, errlen, "out of memory");
	return (char *)path;
}

/* {"<key>": "<string>"} with nothing else. */
static const char *single_string(const struct json_object *body,
				 const char *where, const char *want,
				 char *err, size_t errlen)
{
	const char *val = NULL;

	if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "%s: want a JSON object", where);
		return NULL;
	}
	json_object_object_foreach((struct json_object *)body, key, v) {
		if (strcmp(key, want)) {
			snprintf(err, errlen, "%s.%s: unknown field", where,
				 key);
			return NULL;
		}
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "%s.%s: want a string", where,
				 key);
			return NULL;
		}
		val = json_object_get_string(v);
	}
	if (!val)
		snprintf(err, errlen, "%s.%s: missing (required)", where, want);
	return val;
}

int vmj_vm_state(const struct json_object *body, char *err, size_t errlen)
{
	const char *s = single_string(body, "vm", "state", err, errlen);

	if (!s)
		return -1;
	if (!strcmp(s, "Paused"))
		return 1;
	if (!strcmp(s, "Resumed"))
		return 0;
	snprintf(err, errlen, "vm.state: '%.32s': want \"Paused\" or \"Resumed\"",
		 s);
	return -1;
}

int vmj_action(const struct json_object *body, char *err, size_t errlen)
{
	const char *s = single_string(body, "actions", "action_type", err,
				      errlen);

	if (!s)
		return -1;
	if (!strcmp(s, "InstanceStart"))
		return VMJ_INSTANCE_START;
	if (!strcmp(s, "SendCtrlAltDel"))
		return VMJ_CTRL_ALT_DEL;
	if (!strcmp(s, "FlushMetrics"))
		return VMJ_FLUSH_METRICS;
	snprintf(err, errlen, "actions.action_type: '%.32s': want \"InstanceStart\", \"SendCtrlAltDel\" or \"FlushMetrics\"",
		 s);
	return -1;
}
