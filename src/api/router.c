/* Firecracker's API routes (router.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "api/vm_config_json.h"
#include "api/vm_config_out.h"
#include "vmm/cli.h"
#include "vmm/vm_desc.h"

#define ERRLEN 512

const char *api_state_name(enum api_vm_state s)
{
	switch (s) {
	case API_NOT_STARTED: return "Not started";
	case API_RUNNING: return "Running";
	case API_PAUSED: return "Paused";
	}
	return "?";
}

static void set_json(struct api_response *resp, int status,
		     struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	resp->status = status;
	if (strlen(s) >= sizeof(resp->body)) {
		resp->status = 500;
		snprintf(resp->body, sizeof(resp->body),
			 "{\"fault_message\": \"response too large\"}");
	} else {
		snprintf(resp->body, sizeof(resp->body), "%s", s);
	}
	json_object_put(o);
}

void api_fault(struct api_response *resp, const char *msg)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		resp->status = 500;
		resp->body[0] = '\0';
		return;
	}
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	set_json(resp, 400, o);
}

static void no_content(struct api_response *resp)
{
	resp->status = 204;
	resp->body[0] = '\0';
}

static void instance_info(struct api_router *r, struct api_response *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(r->cfg->id));
	json_object_object_add(o, "state",
			       json_object_new_string(api_state_name(r->state)));
	json_object_object_add(o, "vmm_version",
			       json_object_new_string(MMVM_VERSION));
	json_object_object_add(o, "app_name", json_object_new_string("mmvm"));
	set_json(resp, 200, o);
}

static void version(struct api_response *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "firecracker_version",
			       json_object_new_string(MMVM_VERSION));
	set_json(resp, 200, o);
}

/* "/drives/ID" -> ID (an empty id is no id). */
static const char *path_id(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

/* Parses the body into *obj; a fault if there is none or it is bad. */
static bool body_json(const struct http_request *req,
		      struct api_response *resp, struct json_object **obj)
{
	char err[ERRLEN];

	if (!req->body_len) {
		api_fault(resp, "missing request body (want JSON)");
		return false;
	}
	*obj = vmj_parse(req->body, req->body_len, err, sizeof(err));
	if (!*obj) {
		api_fault(resp, err);
		return false;
	}
	return true;
}

static void apply_section(struct api_router *r,
			  const struct http_request *req,
			  struct api_response *resp, enum vmj_section s,
			  const char *id, const char *where)
{
	struct json_object *o;
	char err[ERRLEN];

	if (r->state != API_NOT_STARTED) {
		api_fault(resp, API_ERR_AFTER_START);
		return;
	}
	if (!body_json(req, resp, &o))
		return;
	if (vmj_apply(r->cfg, s, id, o, where, err, sizeof(err)))
		api_fault(resp, err);
	else
		no_content(resp);
	json_object_put(o);
}

/* PUT /logger, /metrics: the description changes only if the file
 * opens. */
static void apply_output(struct api_router *r, const struct http_request *req,
			 struct api_response *resp, enum vmj_section s,
			 const char *where,
			 int (*open_fn)(void *, char *, size_t))
{
	struct mmvm_config saved = *r->cfg;
	char err[ERRLEN];

	apply_section(r, req, resp, s, NULL, where);
	if (resp->status != 204 || !open_fn)
		return;
	if (open_fn(r->opaque, err, sizeof(err))) {
		/* (Strings it took stay owned until exit: bounded.) */
		saved.owned = r->cfg->owned;
		saved.owned_bytes = r->cfg->owned_bytes;
		*r->cfg = saved;
		api_fault(resp, err);
	}
}

static void drive_patch(struct api_router *r, const struct http_request *req,
			struct api_response *resp, const char *id)
{
	struct json_object *o;
	char err[ERRLEN];
	char *path;
	int idx = vm_desc_find_disk(r->cfg, id);

	if (r->state == API_NOT_STARTED) {
		/* Before the start a PATCH is a partial PUT: only the path. */
		if (idx < 0) {
			snprintf(err, sizeof(err), "drives: no drive '%.64s'", id);
			api_fault(resp, err);
			return;
		}
	}
	if (!body_json(req, resp, &o))
		return;
	path = vmj_drive_patch_path(o, id, err, sizeof(err));
	json_object_put(o);
	if (!path) {
		api_fault(resp, err);
		return;
	}
	if (idx < 0) {
		snprintf(err, sizeof(err), "drives: no drive '%.64s'", id);
		api_fault(resp, err);
	} else if (r->state == API_NOT_STARTED) {
		const char *p = vm_desc_strdup(r->cfg, path);

		if (!p) {
			api_fault(resp, "out of memory");
		} else {
			r->cfg->disks[idx].path = p;
			no_content(resp);
		}
	} else if (r->ops->drive_patch(r->opaque, (unsigned int)idx, path,
				       err, sizeof(err))) {
		api_fault(resp, err);
	} else {
		no_content(resp);
	}
	free(path);
}

/* PATCH /network-interfaces/{id}: Firecracker changes rate limiters
 * only, and mmvm has none: an id that exists and nothing else is fine. */
static void net_patch(struct api_router *r, const struct http_request *req,
		      struct api_response *resp, const char *id)
{
	struct json_object *o;
	char err[ERRLEN];

	if (!body_json(req, resp, &o))
		return;
	err[0] = '\0';
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, sizeof(err), "network-interfaces: want a JSON object");
	} else {
		json_object_object_foreach(o, key, v) {
			if (!strcmp(key, "iface_id")) {
				if (!json_object_is_type(v, json_type_string) ||
				    strcmp(json_object_get_string(v), id))
					snprintf(err, sizeof(err), "network-interfaces.iface_id: want the id in the path ('%.64s')",
						 id);
			} else if (!strcmp(key, "rx_rate_limiter") ||
				   !strcmp(key, "tx_rate_limiter")) {
				if (v)
					snprintf(err, sizeof(err), "network-interfaces.%s: rate limiters are not supported by mmvm",
						 key);
			} else {
				snprintf(err, sizeof(err), "network-interfaces.%.64s: unknown field (or not one a PATCH can change)",
					 key);
			}
			if (err[0])
				break;
		}
	}
	json_object_put(o);
	if (!err[0] && vm_desc_find_net(r->cfg, id) < 0)
		snprintf(err, sizeof(err), "network-interfaces: no interface '%.64s'", id);
	if (err[0])
		api_fault(resp, err);
	else
		no_content(resp);
}

static void actions(struct api_router *r, const struct http_request *req,
		    struct api_response *resp)
{
	struct json_object *o;
	char err[ERRLEN];
	int a, ret = -1;

	if (!body_json(req, resp, &o))
		return;
	a = vmj_action(o, err, sizeof(err));
	json_object_put(o);
	switch (a) {
	case VMJ_INSTANCE_START:
		if (r->state != API_NOT_STARTED) {
			snprintf(err, sizeof(err), "%s", API_ERR_AFTER_START);
			break;
		}
		if (vm_desc_check(r->cfg, "boot-source (PUT /boot-source first)",
				  err, sizeof(err)))
			break;
		ret = r->ops->start(r->opaque, err, sizeof(err));
		if (!ret)
			r->state = API_RUNNING;
		break;
	case VMJ_CTRL_ALT_DEL:
	case VMJ_FLUSH_METRICS:
		if (r->state == API_NOT_STARTED) {
			snprintf(err, sizeof(err), "the microVM is not started yet");
			break;
		}
		ret = a == VMJ_CTRL_ALT_DEL ?
		      r->ops->ctrl_alt_del(r->opaque, err, sizeof(err)) :
		      r->ops->flush_metrics(r->opaque, err, sizeof(err));
		break;
	default:
		break;
	}
	if (ret)
		api_fault(resp, err);
	else
		no_content(resp);
}

static void vm_state(struct api_router *r, const struct http_request *req,
		     struct api_response *resp)
{
	struct json_object *o;
	char err[ERRLEN];
	int pause;

	if (!body_json(req, resp, &o))
		return;
	pause = vmj_vm_state(o, err, sizeof(err));
	json_object_put(o);
	if (pause < 0) {
		api_fault(resp, err);
		return;
	}
	if (r->state == API_NOT_STARTED) {
		api_fault(resp, "the microVM is not started yet: nothing to pause or resume");
		return;
	}
	if (r->ops->pause(r->opaque, pause, err, sizeof(err))) {
		api_fault(resp, err);
		return;
	}
	r->state = pause ? API_PAUSED : API_RUNNING;
	no_content(resp);
}

static const char *const unsupported[][2] = {
	{ "/vsock", "the vsock device is not implemented in mmvm" },
	{ "/balloon", "the balloon device is not supported by mmvm" },
	{ "/mmds", "MMDS is not supported by mmvm" },
	{ "/snapshot", "snapshots are not supported by mmvm" },
	{ "/cpu-config", "custom CPU templates are not supported by mmvm" },
	{ "/hotplug", "hotplug is not supported by mmvm" },
};

void api_route(struct api_router *r, const struct http_request *req,
	       struct api_response *resp)
{
	const char *p = req->path, *id;
	enum http_method m = req->method;
	char msg[HTTP_MAX_PATH + 64];

	if (!strcmp(p, "/") && m == HTTP_GET)
		return instance_info(r, resp);
	if (!strcmp(p, "/version") && m == HTTP_GET)
		return version(resp);
	if (!strcmp(p, "/machine-config")) {
		if (m == HTTP_GET)
			return set_json(resp, 200, vmj_machine_config(r->cfg));
		if (m == HTTP_PUT || m == HTTP_PATCH)
			return apply_section(r, req, resp,
					     m == HTTP_PUT ? VMJ_MACHINE_PUT :
					     VMJ_MACHINE_PATCH, NULL,
					     "machine-config");
	}
	if (!strcmp(p, "/boot-source") && m == HTTP_PUT)
		return apply_section(r, req, resp, VMJ_BOOT_SOURCE, NULL,
				     "boot-source");
	if ((id = path_id(p, "/drives/")) != NULL) {
		if (m == HTTP_PUT)
			return apply_section(r, req, resp, VMJ_DRIVE, id,
					     "drives");
		if (m == HTTP_PATCH)
			return drive_patch(r, req, resp, id);
	}
	if ((id = path_id(p, "/network-interfaces/")) != NULL) {
		if (m == HTTP_PUT)
			return apply_section(r, req, resp, VMJ_NET, id,
					     "network-interfaces");
		if (m == HTTP_PATCH)
			return net_patch(r, req, resp, id);
	}
	if (!strcmp(p, "/logger") && m == HTTP_PUT)
		return apply_output(r, req, resp, VMJ_LOGGER, "logger",
				    r->ops->open_logger);
	if (!strcmp(p, "/metrics") && m == HTTP_PUT)
		return apply_output(r, req, resp, VMJ_METRICS, "metrics",
				    r->ops->open_metrics);
	if (!strcmp(p, "/entropy") && m == HTTP_PUT)
		return apply_section(r, req, resp, VMJ_ENTROPY, NULL,
				     "entropy");
	if (!strcmp(p, "/actions") && m == HTTP_PUT)
		return actions(r, req, resp);
	if (!strcmp(p, "/vm") && m == HTTP_PATCH)
		return vm_state(r, req, resp);
	if (!strcmp(p, "/vm/config") && m == HTTP_GET)
		return set_json(resp, 200, vmj_full_config(r->cfg));
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
	     i++) {
		size_t n = strlen(unsupported[i][0]);

		if (!strncmp(p, unsupported[i][0], n) &&
		    (p[n] == '\0' || p[n] == '/')) {
			snprintf(msg, sizeof(msg), "%s %s: %s",
				 req->method_name, p, unsupported[i][1]);
			return api_fault(resp, msg);
		}
	}
	snprintf(msg, sizeof(msg), "Invalid request method and/or path: %s %s.",
		 req->method_name, p);
	api_fault(resp, msg);
}
