/* The VM description as Firecracker's JSON (GET /machine-config, GET
 * /vm/config): the same schema vm_config_json.c reads, so what GET
 * /vm/config returns can be fed back as a --config-file. */
#ifndef MMVM_API_VM_CONFIG_OUT_H
#define MMVM_API_VM_CONFIG_OUT_H

#include "vmm/config.h"

struct json_object;

struct json_object *vmj_machine_config(const struct mmvm_config *cfg);
struct json_object *vmj_full_config(const struct mmvm_config *cfg);

#endif
