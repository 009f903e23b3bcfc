/* The API's HTTP parser and its router over a whole connection's bytes
 * (api_serve_buffer), with stub VM ops. */
#include <string.h>

#include "api/api_server.h"
#include "api/http.h"
#include "api/router.h"
#include "unit.h"
#include "vmm/cli.h"
#include "vmm/vm_desc.h"

static struct http_request req;
static char err[256];

static enum http_parse_result parse(const char *s, size_t *used, bool *hd)
{
	return http_parse(s, strlen(s), &req, used, hd, err, sizeof(err));
}

static void test_parse_ok(void)
{
	size_t used = 0;
	bool hd;
	const char *two = "PUT /drives/a HTTP/1.1\r\nHost: x\r\n"
			  "Content-Length: 4\r\n\r\n{}  GET / HTTP/1.1\r\n\r\n";

	CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", &used, &hd), HTTP_PARSE_DONE);
	CHECK_EQ(used, 18);
	CHECK_EQ(req.method, HTTP_GET);
	CHECK(!strcmp(req.path, "/"));
	CHECK(req.keep_alive);
	CHECK(req.body == NULL);
	CHECK_EQ(parse(two, &used, &hd), HTTP_PARSE_DONE);
	CHECK_EQ(req.method, HTTP_PUT);
	CHECK(!strcmp(req.path, "/drives/a"));
	CHECK_EQ(req.body_len, 4);
	CHECK(!memcmp(req.body, "{}  ", 4));
	CHECK(!strncmp(two + used, "GET /", 5));
	CHECK_EQ(parse("PATCH /vm HTTP/1.0\r\n\r\n", &used, &hd),
		 HTTP_PARSE_DONE);
	CHECK_EQ(req.method, HTTP_PATCH);
	CHECK(!req.keep_alive);		/* 1.0 */
	CHECK_EQ(parse("GET / HTTP/1.1\r\nconnection:  Close \r\n\r\n", &used,
		       &hd), HTTP_PARSE_DONE);
	CHECK(!req.keep_alive);
	CHECK_EQ(parse("DELETE /x HTTP/1.1\r\n\r\n", &used, &hd),
		 HTTP_PARSE_DONE);
	CHECK_EQ(req.method, HTTP_OTHER);
}

static void test_parse_more(void)
{
	size_t used;
	bool hd;

	CHECK_EQ(parse("GET / HTTP/1.1\r\n", &used, &hd), HTTP_PARSE_MORE);
	CHECK(!hd);
	CHECK_EQ(parse("PUT /x HTTP/1.1\r\nContent-Length: 10\r\n"
		       "Expect: 100-continue\r\n\r\n{", &used, &hd),
		 HTTP_PARSE_MORE);
	CHECK(hd && req.expect_continue);
}

static void test_parse_bad(void)
{
	static const char *const bad[] = {
		"GET / HTTP/2.0\r\n\r\n",
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET x HTTP/1.1\r\n\r\n",
		"G\x01T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 51201\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nExpect: something\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\nc\r\n\r\n",
		"GET /a\x7f HTTP/1.1\r\n\r\n",
	};
	char big[HTTP_MAX_HEAD + 100];
	char many[4096];
	size_t used, n = 0;
	bool hd;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_EQ(parse(bad[i], &used, &hd), HTTP_PARSE_ERROR);
		CHECK(err[0] != '\0');
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /", 5);
	CHECK_EQ(parse(big, &used, &hd), HTTP_PARSE_ERROR);
	CHECK(strstr(err, "too large") != NULL);
	n = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "H%d: v\r\n", i);
	snprintf(many + n, sizeof(many) - n, "\r\n");
	CHECK_EQ(parse(many, &used, &hd), HTTP_PARSE_ERROR);
	CHECK(strstr(err, "too many headers") != NULL);
}

static void test_response(void)
{
	char out[512];
	size_t n = http_response(out, sizeof(out), 204, NULL, true);

	CHECK(n > 0);
	CHECK(!strncmp(out, "HTTP/1.1 204 No Content\r\n", 25));
	CHECK(strstr(out, "Content-Length: 0\r\n") != NULL);
	CHECK(strstr(out, "Content-Type") == NULL);
	n = http_response(out, sizeof(out), 400, "{\"a\":1}", false);
	CHECK(strstr(out, "Content-Length: 7\r\n") != NULL);
	CHECK(strstr(out, "Connection: close\r\n") != NULL);
	CHECK(!strcmp(out + n - 7, "{\"a\":1}"));
	CHECK_EQ(http_response(out, 10, 200, "x", true), 0);
}

/* ---- the router, stub VM ---- */

static int starts, pauses, resumes, swaps, flushes;
static bool fail_start;

static int st_start(void *o, char *e, size_t n)
{
	starts++;
	if (fail_start) {
		snprintf(e, n, "kernel x: No such file or directory");
		return -1;
	}
	return 0;
}
static int st_pause(void *o, bool p, char *e, size_t n)
{
	p ? pauses++ : resumes++;
	return 0;
}
static int st_cad(void *o, char *e, size_t n)
{
	snprintf(e, n, "no i8042");
	return -1;
}
static int st_flush(void *o, char *e, size_t n)
{
	flushes++;
	return 0;
}
static int st_swap(void *o, unsigned int i, const char *p, char *e, size_t n)
{
	swaps++;
	return 0;
}
static const struct api_ops stub_ops = {
	.start = st_start, .pause = st_pause, .ctrl_alt_del = st_cad,
	.flush_metrics = st_flush, .drive_patch = st_swap,
};

static struct mmvm_config cfg;
static struct api_router router = { .cfg = &cfg, .ops = &stub_ops };
static char out[65536];

/* One request; the response's status code, its text in out. */
static int call(const char *method, const char *path, const char *body)
{
	char in[8192];
	bool closed;
	size_t n;
	int code = 0;

	snprintf(in, sizeof(in), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: %zu\r\n\r\n%s", method, path,
		 body ? strlen(body) : 0, body ? body : "");
	n = api_serve_buffer(&router, in, strlen(in), out, sizeof(out) - 1,
			     &closed);
	out[n] = '\0';
	sscanf(out, "HTTP/1.1 %d", &code);
	return code;
}

static bool out_has(const char *s)
{
	return strstr(out, s) != NULL;
}

static void reset(void)
{
	vm_desc_release(&cfg);
	vm_desc_init(&cfg);
	router.state = API_NOT_STARTED;
	fail_start = false;
}

static void test_route_preboot(void)
{
	reset();
	CHECK_EQ(call("GET", "/", NULL), 200);
	CHECK(out_has("\"state\":\"Not started\"") && out_has("\"app_name\":\"mmvm\""));
	CHECK(out_has("\"id\":\"anonymous-instance\""));
	CHECK_EQ(call("GET", "/version", NULL), 200);
	CHECK(out_has("\"firecracker_version\""));
	CHECK_EQ(call("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 512}"), 204);
	CHECK_EQ(cfg.cpus, 2);
	CHECK_EQ(cfg.mem_bytes, 512ULL << 20);
	CHECK_EQ(call("PATCH", "/machine-config", "{\"vcpu_count\": 3}"), 204);
	CHECK_EQ(cfg.cpus, 3);
	CHECK_EQ(call("PUT", "/machine-config", "{\"vcpu_count\": 3}"), 400);
	CHECK(out_has("machine-config.mem_size_mib: missing"));
	CHECK_EQ(call("GET", "/machine-config", NULL), 200);
	CHECK(out_has("\"vcpu_count\":3") && out_has("\"mem_size_mib\":512"));
	CHECK_EQ(call("GET", "/vm/config", NULL), 200);
	CHECK(out_has("\"machine-config\":{\"vcpu_count\":3"));
	CHECK(out_has("\"drives\":[]"));
	CHECK_EQ(call("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0 quiet\"}"), 204);
	CHECK(!strcmp(cfg.kernel, "/k") && !strcmp(cfg.cmdline, "console=ttyS0 quiet"));
	CHECK_EQ(call("PUT", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r.img\", \"is_root_device\": true, \"is_read_only\": true}"), 204);
	CHECK_EQ(call("PUT", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/d.img\", \"is_root_device\": false, \"mmvm\": {\"queues\": 2, \"poll\": 50, \"direct\": true}}"), 204);
	CHECK_EQ(cfg.nr_disks, 2);
	CHECK(cfg.disks[0].root && cfg.disks[0].read_only);
	CHECK_EQ(cfg.disks[1].queues, 2);
	CHECK_EQ(cfg.disks[1].poll_us, 50);
	CHECK(!cfg.disks[1].poll_adaptive && cfg.disks[1].direct);
	/* PUT of an existing id replaces it. */
	CHECK_EQ(call("PUT", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/e.img\", \"is_root_device\": false}"), 204);
	CHECK_EQ(cfg.nr_disks, 2);
	CHECK(!strcmp(cfg.disks[1].path, "/e.img"));
	CHECK_EQ(call("PUT", "/drives/x", "{\"drive_id\": \"y\", \"path_on_host\": \"/e.img\", \"is_root_device\": false}"), 400);
	CHECK(out_has("differs from the id in the path"));
	CHECK_EQ(call("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/f.img\"}"), 204);
	CHECK(!strcmp(cfg.disks[1].path, "/f.img"));
	CHECK_EQ(swaps, 0);
	CHECK_EQ(call("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:00:00:00:01\", \"mmvm\": {\"queues\": 2}}"), 204);
	CHECK(cfg.nets[0].mac_set && cfg.nets[0].mac[5] == 1 && cfg.nets[0].queues == 2);
	CHECK_EQ(call("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap0\"}"), 400);
	CHECK(out_has("already interface 'eth0'"));
	CHECK_EQ(call("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mmvm\": {\"vhost\": true, \"poll\": 10}}"), 400);
	CHECK(out_has("not with vhost=on"));
	CHECK_EQ(call("PUT", "/entropy", "{}"), 204);
	CHECK(cfg.virtio_rng);
	CHECK_EQ(call("PUT", "/vsock", "{\"guest_cid\": 3}"), 400);
	CHECK(out_has("vsock device is not implemented"));
	CHECK_EQ(call("PUT", "/snapshot/create", "{}"), 400);
	CHECK(out_has("snapshots are not supported"));
	CHECK_EQ(call("GET", "/nope", NULL), 400);
	CHECK(out_has("Invalid request method and/or path: GET /nope."));
	CHECK_EQ(call("DELETE", "/", NULL), 400);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\": \"Paused\"}"), 400);
	CHECK(out_has("not started"));
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"), 400);
	CHECK_EQ(flushes, 0);
}

static void test_route_bad_bodies(void)
{
	static const struct { const char *path, *body, *want; } cases[] = {
		{ "/machine-config", "", "missing request body" },
		{ "/machine-config", "{", "malformed JSON" },
		{ "/machine-config", "{} x", "trailing data" },
		{ "/machine-config", "[]", "want a JSON object" },
		{ "/machine-config", "{\"vcpu_count\": 1.5, \"mem_size_mib\": 128}", "vcpu_count: want an integer" },
		{ "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 128}", "want 1..64 vCPUs" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 16}", "too small" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": -1}", "mem_size_mib: want 0.." },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"smt\": true}", "no SMT" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"smt\": 1}", "smt: want true or false" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"cpu_template\": \"T2\"}", "want \\\"None\\\"" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"mmvm\": {\"virtio_version\": 4}}", "virtio_version" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"mmvm\": {\"frob\": 1}}", "machine-config.mmvm.frob: unknown field" },
		{ "/boot-source", "{\"boot_args\": \"x\"}", "kernel_image_path: missing" },
		{ "/boot-source", "{\"kernel_image_path\": 7}", "want a string" },
		{ "/boot-source", "{\"kernel_image_path\": \"a\\u0000b\"}", "NUL" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"is_root_device\": false}", "path_on_host: missing" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\"}", "is_root_device: missing" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"rate_limiter\": {}}", "rate limiters are not supported" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"io_engine\": \"Fast\"}", "io_engine" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"cache_type\": \"Unsafe\"}", "cache_type" },
		{ "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"mmvm\": {\"queues\": 9}}", "queues: want 0..8" },
		{ "/drives/a%20b", "{\"drive_id\": \"a%20b\", \"path_on_host\": \"/x\", \"is_root_device\": false}", "only letters" },
		{ "/network-interfaces/e", "{\"iface_id\": \"e\", \"host_dev_name\": \"t\", \"guest_mac\": \"01:00:00:00:00:01\"}", "bad mac" },
		{ "/network-interfaces/e", "{\"iface_id\": \"e\", \"host_dev_name\": \"0123456789abcdef\"}", "too long" },
		{ "/logger", "{\"log_path\": \"/l\", \"level\": \"Loud\"}", "level: want" },
		{ "/metrics", "{}", "metrics_path: missing" },
		{ "/actions", "{\"action_type\": \"Reboot\"}", "action_type" },
		{ "/actions", "{\"action_type\": \"InstanceStart\", \"x\": 1}", "actions.x: unknown field" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code;

		reset();
		code = call(strncmp(cases[i].path, "/drives", 7) &&
			    strncmp(cases[i].path, "/network", 8) &&
			    strcmp(cases[i].path, "/actions") &&
			    strcmp(cases[i].path, "/logger") &&
			    strcmp(cases[i].path, "/metrics") &&
			    strcmp(cases[i].path, "/boot-source") &&
			    strcmp(cases[i].path, "/machine-config") ? "PATCH" : "PUT",
			    cases[i].path, cases[i].body);
		CHECK_EQ(code, 400);
		CHECK(out_has("\"fault_message\":"));
		if (!out_has(cases[i].want))
			fprintf(stderr, "case %zu: want '%s' in %s\n", i,
				cases[i].want, out);
		CHECK(out_has(cases[i].want));
		/* Nothing of a bad body stays in the description. */
		CHECK_EQ(cfg.nr_disks, 0);
		CHECK_EQ(cfg.mem_bytes, MMVM_DEFAULT_MEM);
		CHECK(cfg.kernel == NULL);
	}
	reset();
}

static void test_route_after_start(void)
{
	reset();
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	CHECK(out_has("boot-source"));
	CHECK_EQ(starts, 0);
	CHECK_EQ(call("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}"), 204);
	CHECK_EQ(call("PUT", "/drives/r", "{\"drive_id\": \"r\", \"path_on_host\": \"/r\", \"is_root_device\": true}"), 204);
	fail_start = true;
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	CHECK(out_has("No such file"));
	CHECK_EQ(router.state, API_NOT_STARTED);
	fail_start = false;
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 204);
	CHECK_EQ(router.state, API_RUNNING);
	CHECK_EQ(call("GET", "/", NULL), 200);
	CHECK(out_has("\"state\":\"Running\""));
	CHECK_EQ(call("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 128}"), 400);
	CHECK(out_has(API_ERR_AFTER_START));
	CHECK_EQ(call("PUT", "/drives/r", "{\"drive_id\": \"r\", \"path_on_host\": \"/s\", \"is_root_device\": true}"), 400);
	CHECK(out_has(API_ERR_AFTER_START));
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 400);
	CHECK(out_has(API_ERR_AFTER_START));
	CHECK_EQ(call("PATCH", "/vm", "{\"state\": \"Paused\"}"), 204);
	CHECK_EQ(pauses, 1);
	CHECK_EQ(call("GET", "/", NULL), 200);
	CHECK(out_has("\"state\":\"Paused\""));
	CHECK_EQ(call("PATCH", "/vm", "{\"state\": \"Resumed\"}"), 204);
	CHECK_EQ(resumes, 1);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\": \"Stopped\"}"), 400);
	CHECK_EQ(call("PATCH", "/drives/r", "{\"drive_id\": \"r\", \"path_on_host\": \"/new\"}"), 204);
	CHECK_EQ(swaps, 1);
	CHECK_EQ(call("PATCH", "/drives/zz", "{\"drive_id\": \"zz\", \"path_on_host\": \"/new\"}"), 400);
	CHECK(out_has("no drive 'zz'"));
	CHECK_EQ(call("PATCH", "/drives/r", "{\"drive_id\": \"r\", \"is_read_only\": true}"), 400);
	CHECK_EQ(swaps, 1);
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"), 204);
	CHECK_EQ(flushes, 1);
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}"), 400);
	CHECK(out_has("no i8042"));
	reset();
}

static void test_connection(void)
{
	const char *pipelined =
		"GET / HTTP/1.1\r\n\r\n"
		"GET /version HTTP/1.1\r\n\r\n"
		"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
		"GET / HTTP/1.1\r\n\r\n";
	bool closed;
	size_t n;
	int responses = 0;

	reset();
	n = api_serve_buffer(&router, pipelined, strlen(pipelined), out,
			     sizeof(out) - 1, &closed);
	out[n] = '\0';
	for (const char *p = out; (p = strstr(p, "HTTP/1.1 200")); p++)
		responses++;
	CHECK_EQ(responses, 3);		/* none after Connection: close */
	CHECK(closed);
	n = api_serve_buffer(&router, "BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n", 25,
			     out, sizeof(out) - 1, &closed);
	out[n] = '\0';
	CHECK(!strncmp(out, "HTTP/1.1 400", 12) && closed);
	CHECK(strstr(out, "HTTP/1.1 200") == NULL);
	/* 100 Continue before the body, then the answer. */
	n = api_serve_buffer(&router, "PUT /machine-config HTTP/1.1\r\n"
			     "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n",
			     74, out, sizeof(out) - 1, &closed);
	out[n] = '\0';
	CHECK(!strcmp(out, "HTTP/1.1 100 Continue\r\n\r\n") && !closed);
	reset();
}

int main(void)
{
	vm_desc_init(&cfg);
	RUN(test_parse_ok);
	RUN(test_parse_more);
	RUN(test_parse_bad);
	RUN(test_response);
	RUN(test_route_preboot);
	RUN(test_route_bad_bodies);
	RUN(test_route_after_start);
	RUN(test_connection);
	vm_desc_release(&cfg);
	return unit_finish("api_http");
}
