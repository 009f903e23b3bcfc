/* The API's routes: Firecracker's paths and methods onto the VM
 * description (before InstanceStart) and onto the running VM through
 * api_ops (after). Runs on the API thread only. docs/api.md lists what
 * is supported. */
#ifndef MMVM_API_ROUTER_H
#define MMVM_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"
#include "vmm/config.h"

enum api_vm_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

/* What the router asks of the VM. Each returns 0, or -1 with one line in
 * err (the fault message). */
struct api_ops {
	/* InstanceStart: build and start the VM from the description;
	 * returns once it runs (or failed). */
	int (*start)(void *opaque, char *err, size_t errlen);
	int (*pause)(void *opaque, bool pause, char *err, size_t errlen);
	int (*ctrl_alt_del)(void *opaque, char *err, size_t errlen);
	int (*flush_metrics)(void *opaque, char *err, size_t errlen);
	/* PATCH /drives/{id} on a running VM: disk index, new image. */
	int (*drive_patch)(void *opaque, unsigned int index, const char *path,
			   char *err, size_t errlen);
	/* PUT /logger, /metrics: open cfg's new path (before the start). */
	int (*open_logger)(void *opaque, char *err, size_t errlen);
	int (*open_metrics)(void *opaque, char *err, size_t errlen);
};

struct api_router {
	struct mmvm_config *cfg;
	enum api_vm_state state;
	const struct api_ops *ops;
	void *opaque;
};

#define API_MAX_RESPONSE	32768

struct api_response {
	int status;		/* 200 with body, 204 without, 400 fault */
	char body[API_MAX_RESPONSE];
};

void api_route(struct api_router *r, const struct http_request *req,
	       struct api_response *resp);

/* A 400 with {"fault_message": msg} (msg escaped as JSON). */
void api_fault(struct api_response *resp, const char *msg);

#define API_ERR_AFTER_START \
	"The requested operation is not supported after starting the microVM."

const char *api_state_name(enum api_vm_state s);

#endif
