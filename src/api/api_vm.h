/* The API's binding to the VM and to main(): the router's ops on a real
 * struct vm, the InstanceStart hand-over to the main thread (which
 * builds and starts the VM, as without the API), the logger and metrics
 * outputs. */
#ifndef MMVM_API_API_VM_H
#define MMVM_API_API_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api_server.h"
#include "api/vm_outputs.h"
#include "vmm/vm.h"

struct api_vm {
	struct vm *vm;
	struct mmvm_config *cfg;
	struct vm_outputs out;
	struct api_server *server;	/* NULL without --api-sock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool start_requested, start_answered;
	int start_ret;
	char start_err[512];
	int metrics_timer;		/* timerfd: periodic metrics, or -1 */
};

/* Opens the config's logger and metrics outputs and, with --api-sock,
 * the socket. 0, or -1 with err. */
int api_vm_init(struct api_vm *a, struct vm *vm, struct mmvm_config *cfg,
		char *err, size_t errlen);
/* Starts the API thread (if there is a socket); running: the VM already
 * runs (a --config-file boot), so pre-boot requests are refused. */
int api_vm_serve(struct api_vm *a, bool running, char *err, size_t errlen);

/* With a metrics output: a line every VM_METRICS_PERIOD_MS, from a
 * timerfd on loop (the I/O thread's), whether or not there is an API.
 * Call before the loop starts. 0, or -1 with err. */
int api_vm_add_metrics_timer(struct api_vm *a, struct event_loop *loop,
			     char *err, size_t errlen);

/* Main thread, before the VM exists: waits for InstanceStart. True once
 * it came, false if the run ended first (signal, --timeout). */
bool api_vm_wait_start(struct api_vm *a);
/* ... and answers it: ret 0 (the VM runs) or -1 with err. */
void api_vm_start_done(struct api_vm *a, int ret, const char *err);

/* At exit, on the main thread: the API thread stopped (before the VM's
 * threads are), then, after them, a last metrics line and the exit in
 * the log. */
void api_vm_stop(struct api_vm *a);
void api_vm_finish(struct api_vm *a, int status, const char *msg);

#endif
