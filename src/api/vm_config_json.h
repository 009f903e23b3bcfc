/* Firecracker's JSON configuration, as a --config-file and as the bodies
 * of the API's pre-boot PUT/PATCH requests, into the VM description
 * (vmm/vm_desc.h checks every value). Unknown fields and wrong types are
 * errors naming the field. */
#ifndef MMVM_API_VM_CONFIG_JSON_H
#define MMVM_API_VM_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/config.h"

/* Bodies larger than this are refused (Firecracker's bound is 50 KiB). */
#define VMJ_MAX_BODY		(50 * 1024)
/* A config file may be larger: drives and interfaces add up. */
#define VMJ_MAX_FILE		(256 * 1024)

enum vmj_section {
	VMJ_BOOT_SOURCE,	/* PUT /boot-source */
	VMJ_MACHINE_PUT,	/* PUT /machine-config: vcpu_count and
				 * mem_size_mib required */
	VMJ_MACHINE_PATCH,	/* PATCH /machine-config */
	VMJ_DRIVE,		/* PUT /drives/{id} */
	VMJ_NET,		/* PUT /network-interfaces/{id} */
	VMJ_LOGGER,		/* PUT /logger */
	VMJ_METRICS,		/* PUT /metrics */
	VMJ_ENTROPY,		/* PUT /entropy */
};

struct json_object;

/* Parses text (len bytes, NUL not needed) as one JSON value; anything
 * after it but white space is an error. NULL with err filled in. The
 * caller puts the result (json_object_put). */
struct json_object *vmj_parse(const char *text, size_t len, char *err,
			      size_t errlen);

/* Applies one section's body to cfg. path_id: the {id} of the request's
 * path (drives, network-interfaces), NULL otherwise; the body's own id
 * must match it. where: the field prefix for messages ("drives[0]",
 * "drives"). On error cfg is unchanged. */
int vmj_apply(struct mmvm_config *cfg, enum vmj_section section,
	      const char *path_id, const struct json_object *body,
	      const char *where, char *err, size_t errlen);

/* A whole config file's text (Firecracker's --config-file schema) onto
 * cfg. On error cfg may hold part of it. */
int vmj_apply_config(struct mmvm_config *cfg, const char *text, size_t len,
		     char *err, size_t errlen);
/* Reads path and applies it. */
int vmj_load_config_file(struct mmvm_config *cfg, const char *path,
			 char *err, size_t errlen);

/* PATCH /drives/{id} body: the new path_on_host (a string the caller
 * frees), NULL with err filled in. */
char *vmj_drive_patch_path(const struct json_object *body,
			   const char *path_id, char *err, size_t errlen);

/* PATCH /vm body: true for "Paused", false for "Resumed"; -1 on error. */
int vmj_vm_state(const struct json_object *body, char *err, size_t errlen);

/* PUT /actions body: the action_type. */
enum vmj_action { VMJ_INSTANCE_START, VMJ_CTRL_ALT_DEL, VMJ_FLUSH_METRICS };
int vmj_action(const struct json_object *body, char *err, size_t errlen);

#endif
