/* The description out as JSON (vm_config_out.h). */
#include <json-c/json.h>
#include <stdio.h>

#include "api/vm_config_out.h"
#include "devices/blk_engine.h"
#include "vmm/vm_desc.h"

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static void add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

/* "auto" or microseconds, as the mmvm extensions take them. */
static void add_poll(struct json_object *o, const char *key, bool adaptive,
		     unsigned int us)
{
	if (adaptive)
		add_str(o, key, "auto");
	else
		add_int(o, key, us);
}

struct json_object *vmj_machine_config(const struct mmvm_config *cfg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ext = json_object_new_object();

	add_int(o, "vcpu_count", cfg->cpus);
	add_int(o, "mem_size_mib", (int64_t)(cfg->mem_bytes >> 20));
	add_bool(o, "smt", false);
	add_bool(o, "track_dirty_pages", false);
	add_str(o, "huge_pages", "None");
	if (cfg->virtio_oasis_v3)
		add_str(ext, "virtio_version", "3-oasis");
	else
		add_int(ext, "virtio_version", cfg->virtio_version);
	add_bool(ext, "msi", cfg->virtio_msi);
	add_bool(ext, "doorbells", cfg->virtio_doorbells);
	add_bool(ext, "acpi", cfg->acpi);
	add_bool(ext, "pin_vcpus", cfg->pin_cpus);
	add_bool(ext, "virtio_console", cfg->virtio_console);
	json_object_object_add(o, "mmvm", ext);
	return o;
}

static struct json_object *drive(const struct disk_config *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ext = json_object_new_object();

	add_str(o, "drive_id", d->id);
	add_str(o, "path_on_host", d->path);
	add_bool(o, "is_root_device", d->root);
	add_bool(o, "is_read_only", d->read_only);
	if (d->partuuid)
		add_str(o, "partuuid", d->partuuid);
	add_str(o, "cache_type", "Writeback");
	add_str(o, "io_engine",
		d->engine == BLK_ENGINE_SYNC ? "Sync" : "Async");
	add_int(ext, "queues", d->queues);
	add_poll(ext, "poll", d->poll_adaptive, d->poll_us);
	add_bool(ext, "direct", d->direct);
	add_bool(ext, "lock", !d->no_lock);
	json_object_object_add(o, "mmvm", ext);
	return o;
}

static struct json_object *iface(const struct net_config *n)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ext = json_object_new_object();
	char mac[18];

	add_str(o, "iface_id", n->id);
	add_str(o, "host_dev_name", n->tap);
	if (n->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 n->mac[0], n->mac[1], n->mac[2], n->mac[3],
			 n->mac[4], n->mac[5]);
		add_str(o, "guest_mac", mac);
	}
	add_int(ext, "queues", n->queues ? n->queues : 1);
	add_bool(ext, "vhost", n->vhost);
	if (!n->vhost) {
		add_poll(ext, "poll", n->poll_adaptive, n->poll_us);
		add_poll(ext, "tx_irq_delay", n->tx_irq_delay_auto,
			 n->tx_irq_delay_us);
	}
	json_object_object_add(o, "mmvm", ext);
	return o;
}

struct json_object *vmj_full_config(const struct mmvm_config *cfg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *boot = json_object_new_object();
	struct json_object *drives = json_object_new_array();
	struct json_object *nets = json_object_new_array();

	add_str(boot, "kernel_image_path", cfg->kernel);
	add_str(boot, "boot_args", cfg->cmdline);
	add_str(boot, "initrd_path", cfg->initrd);
	json_object_object_add(o, "boot-source", boot);
	json_object_object_add(o, "machine-config", vmj_machine_config(cfg));
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		json_object_array_add(drives, drive(&cfg->disks[i]));
	json_object_object_add(o, "drives", drives);
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		json_object_array_add(nets, iface(&cfg->nets[i]));
	json_object_object_add(o, "network-interfaces", nets);
	if (cfg->log_path) {
		struct json_object *l = json_object_new_object();

		add_str(l, "log_path", cfg->log_path);
		add_str(l, "level", vm_desc_log_level_name(cfg->log_level));
		add_bool(l, "show_level", cfg->log_show_level);
		add_bool(l, "show_log_origin", cfg->log_show_origin);
		json_object_object_add(o, "logger", l);
	}
	if (cfg->metrics_path) {
		struct json_object *m = json_object_new_object();

		add_str(m, "metrics_path", cfg->metrics_path);
		json_object_object_add(o, "metrics", m);
	}
	if (cfg->virtio_rng)
		json_object_object_add(o, "entropy", json_object_new_object());
	return o;
}
