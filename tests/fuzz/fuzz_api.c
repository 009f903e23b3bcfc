/* libFuzzer target: the API's request path, bytes in to responses out.
 *
 * The input is one connection's bytes, served as the API thread serves
 * them (api_serve_buffer: HTTP parsing, keep-alive, pipelining, 100
 * Continue, the router, the JSON bodies into the VM description) against
 * stub VM ops. The first byte picks the state the router starts in (bit
 * 0: started, bit 1: paused), the rest is the connection. It checks that
 * every response is well formed HTTP/1.1 with a status mmvm sends and
 * that the description stays within its limits, whatever the input.
 * Seeds (tests/fuzz/corpus/fuzz_api/, written by hand): Firecracker's
 * getting-started sequence, requests on a running VM, 100-continue,
 * malformed bodies and heads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_server.h"
#include "api/router.h"
#include "vmm/cli.h"
#include "vmm/vm_desc.h"

#define must(cond) do { if (!(cond)) abort(); } while (0)

static int st_start(void *o, char *e, size_t n) { return 0; }
static int st_pause(void *o, bool p, char *e, size_t n) { return 0; }
static int st_fail(void *o, char *e, size_t n)
{
	snprintf(e, n, "stub");
	return -1;
}
static int st_ok(void *o, char *e, size_t n) { return 0; }
static int st_swap(void *o, unsigned int i, const char *p, char *e,
		   size_t n)
{
	must(i < MMVM_MAX_DISKS && p && *p);
	return 0;
}

static const struct api_ops ops = {
	.start = st_start, .pause = st_pause, .ctrl_alt_del = st_fail,
	.flush_metrics = st_ok, .drive_patch = st_swap,
	.open_logger = st_ok, .open_metrics = st_ok,
};

static char out[1 << 20];

static void check_responses(const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		int code = 0;
		const char *cl, *head_end;
		unsigned long body;

		must(end - p >= 12 && !memcmp(p, "HTTP/1.1 ", 9));
		code = atoi(p + 9);
		must(code == 100 || code == 200 || code == 204 || code == 400 ||
		     code == 500);
		head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		must(head_end != NULL);
		if (code == 100) {
			p = head_end + 4;
			continue;
		}
		cl = memmem(p, (size_t)(head_end - p), "Content-Length: ", 16);
		must(cl != NULL);
		body = strtoul(cl + 16, NULL, 10);
		must(code != 204 || body == 0);
		must(body <= (size_t)(end - head_end - 4));
		p = head_end + 4 + body;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mmvm_config cfg;
	struct api_router r = { .cfg = &cfg, .ops = &ops };
	bool closed;
	size_t n;

	if (size < 1)
		return 0;
	vm_desc_init(&cfg);
	r.state = data[0] & 1 ? ((data[0] & 2) ? API_PAUSED : API_RUNNING) :
				API_NOT_STARTED;
	n = api_serve_buffer(&r, (const char *)data + 1, size - 1, out,
			     sizeof(out), &closed);
	must(n <= sizeof(out));
	if (n < sizeof(out))
		check_responses(out, n);
	must(cfg.nr_disks <= MMVM_MAX_DISKS && cfg.nr_nets <= MMVM_MAX_NETS);
	must(cfg.cpus >= 1 && cfg.cpus <= MMVM_MAX_CPUS);
	must(cfg.mem_bytes >= MMVM_MIN_MEM && !(cfg.mem_bytes & 0xfff));
	for (unsigned int i = 0; i < cfg.nr_disks; i++)
		must(cfg.disks[i].path && cfg.disks[i].id[0]);
	for (unsigned int i = 0; i < cfg.nr_nets; i++)
		must(cfg.nets[i].tap && strlen(cfg.nets[i].tap) < 16);
	vm_desc_release(&cfg);
	return 0;
}
