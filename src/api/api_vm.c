/* The API on a real VM (api_vm.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "devmgr/platform.h"
#include "devmgr/virtio_devices.h"
#include "vmm/lifecycle.h"
#include "vmm/vm_desc.h"
#include "vmm/vm_pause.h"

static int op_start(void *opaque, char *err, size_t errlen)
{
	struct api_vm *a = opaque;
	int ret;

	pthread_mutex_lock(&a->lock);
	a->start_requested = true;
	a->start_answered = false;
	pthread_cond_broadcast(&a->cond);
	while (!a->start_answered)
		pthread_cond_wait(&a->cond, &a->lock);
	a->start_requested = false;
	ret = a->start_ret;
	if (ret)
		snprintf(err, errlen, "%s", a->start_err);
	pthread_mutex_unlock(&a->lock);
	vm_outputs_log(&a->out, ret ? VM_LOG_ERROR : VM_LOG_INFO, "api_vm",
		       "InstanceStart: %s", ret ? err : "the microVM runs");
	return ret;
}

static int op_pause(void *opaque, bool pause, char *err, size_t errlen)
{
	struct api_vm *a = opaque;

	if (!pause) {
		virtio_devices_pause(a->vm, false);
		event_loop_pause(a->vm->io, false);
		vm_resume(a->vm);
		vm_outputs_log(&a->out, VM_LOG_INFO, "api_vm", "resumed");
		return 0;
	}
	/* vCPUs first (nothing new for the devices), then the device
	 * workers and the I/O thread, each once its current work is done. */
	if (vm_pause(a->vm, err, errlen)) {
		vm_resume(a->vm);
		return -1;
	}
	if (!event_loop_pause(a->vm->io, true) ||
	    !virtio_devices_pause(a->vm, true)) {
		snprintf(err, errlen, "pause: a device worker did not stop within a second");
		virtio_devices_pause(a->vm, false);
		event_loop_pause(a->vm->io, false);
		vm_resume(a->vm);
		return -1;
	}
	vm_outputs_log(&a->out, VM_LOG_INFO, "api_vm", "paused");
	return 0;
}

/* As Firecracker on x86: Ctrl+Alt+Del on the i8042's keyboard. What the
 * guest does with it is the guest's (Linux reboots at once, or signals
 * init, which for systemd means reboot); a reboot ends the run, exit 0. */
static int op_ctrl_alt_del(void *opaque, char *err, size_t errlen)
{
	struct api_vm *a = opaque;

	if (!platform_send_ctrl_alt_del(a->vm, err, errlen))
		return -1;
	vm_outputs_log(&a->out, VM_LOG_INFO, "api_vm",
		       "Ctrl+Alt+Del sent to the guest's keyboard");
	return 0;
}

static void dump_stats(void *opaque, FILE *f)
{
	virtio_devices_print_stats(opaque, f);
}

static const char *state_name(struct api_vm *a)
{
	if (!a->server)
		return vm_paused(a->vm) ? "Paused" : "Running";
	return api_state_name(api_server_router(a->server)->state);
}

static int op_flush_metrics(void *opaque, char *err, size_t errlen)
{
	struct api_vm *a = opaque;

	if (a->out.metrics_fd < 0) {
		snprintf(err, errlen, "FlushMetrics: no metrics output (PUT /metrics before the start)");
		return -1;
	}
	if (vm_outputs_metrics(&a->out, state_name(a),
			       (vm_now_ns() - a->vm->start_ns) / 1000000,
			       dump_stats, a->vm)) {
		snprintf(err, errlen, "FlushMetrics: out of memory");
		return -1;
	}
	return 0;
}

static int op_drive_patch(void *opaque, unsigned int index, const char *path,
			  char *err, size_t errlen)
{
	struct api_vm *a = opaque;
	int ret = virtio_devices_blk_swap(a->vm, index, path, err, errlen);

	vm_outputs_log(&a->out, ret ? VM_LOG_WARN : VM_LOG_INFO, "api_vm",
		       "PATCH drive blk%u -> %s: %s", index, path,
		       ret ? err : "swapped");
	return ret;
}

static int op_open_logger(void *opaque, char *err, size_t errlen)
{
	struct api_vm *a = opaque;

	return vm_outputs_open_log(&a->out, a->cfg, err, errlen);
}

static int op_open_metrics(void *opaque, char *err, size_t errlen)
{
	struct api_vm *a = opaque;

	return vm_outputs_open_metrics(&a->out, a->cfg, err, errlen);
}

static const struct api_ops vm_ops = {
	.start = op_start,
	.pause = op_pause,
	.ctrl_alt_del = op_ctrl_alt_del,
	.flush_metrics = op_flush_metrics,
	.drive_patch = op_drive_patch,
	.open_logger = op_open_logger,
	.open_metrics = op_open_metrics,
};

/* The periodic metrics line, on the I/O thread (its timerfd). */
static void metrics_tick(void *opaque, uint32_t events)
{
	struct api_vm *a = opaque;
	uint64_t expirations;
	char err[128];

	if (read(a->metrics_timer, &expirations, sizeof(expirations)) < 0)
		return;
	op_flush_metrics(a, err, sizeof(err));
}

int api_vm_add_metrics_timer(struct api_vm *a, struct event_loop *loop,
			     char *err, size_t errlen)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = VM_METRICS_PERIOD_MS / 1000 },
		.it_value = { .tv_sec = VM_METRICS_PERIOD_MS / 1000 },
	};

	if (a->out.metrics_fd < 0)
		return 0;
	a->metrics_timer = timerfd_create(CLOCK_MONOTONIC,
					  TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->metrics_timer < 0 ||
	    timerfd_settime(a->metrics_timer, 0, &its, NULL) < 0 ||
	    event_loop_add(loop, a->metrics_timer, EPOLLIN, metrics_tick,
			   a) < 0) {
		snprintf(err, errlen, "metrics: cannot set up the periodic timer: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void log_request(void *opaque, const char *method, const char *path,
			int status, const char *fault)
{
	struct api_vm *a = opaque;

	vm_outputs_log(&a->out, status >= 400 ? VM_LOG_WARN : VM_LOG_INFO,
		       "api_server", "%s %s: %d%s%s", method, path, status,
		       fault ? " " : "", fault ? fault : "");
}

int api_vm_init(struct api_vm *a, struct vm *vm, struct mmvm_config *cfg,
		char *err, size_t errlen)
{
	struct api_router *r;

	*a = (struct api_vm){ .vm = vm, .cfg = cfg, .metrics_timer = -1 };
	vm_outputs_init(&a->out);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (vm_outputs_open_log(&a->out, cfg, err, errlen) ||
	    vm_outputs_open_metrics(&a->out, cfg, err, errlen))
		return -1;
	if (!cfg->api_sock)
		return 0;
	a->server = api_server_create(cfg->api_sock, err, errlen);
	if (!a->server)
		return -1;
	r = api_server_router(a->server);
	r->cfg = cfg;
	r->ops = &vm_ops;
	r->opaque = a;
	api_server_set_log(a->server, log_request, a);
	return 0;
}

int api_vm_serve(struct api_vm *a, bool running, char *err, size_t errlen)
{
	int ret;

	if (!a->server)
		return 0;
	api_server_router(a->server)->state = running ? API_RUNNING :
							 API_NOT_STARTED;
	ret = api_server_start(a->server);
	if (ret) {
		snprintf(err, errlen, "cannot start the API thread: %s",
			 strerror(-ret));
		return -1;
	}
	return 0;
}

bool api_vm_wait_start(struct api_vm *a)
{
	bool asked;

	pthread_mutex_lock(&a->lock);
	while (!a->start_requested || a->start_answered) {
		struct timespec ts;

		pthread_mutex_unlock(&a->lock);
		if (vm_exit_poll(a->vm, a->cfg->timeout_s))
			return false;
		pthread_mutex_lock(&a->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!a->start_requested || a->start_answered)
			pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	}
	asked = true;
	pthread_mutex_unlock(&a->lock);
	return asked;
}

void api_vm_start_done(struct api_vm *a, int ret, const char *err)
{
	pthread_mutex_lock(&a->lock);
	a->start_ret = ret;
	snprintf(a->start_err, sizeof(a->start_err), "%s", err ? err : "");
	a->start_answered = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void api_vm_stop(struct api_vm *a)
{
	if (!a->server)
		return;
	/* An InstanceStart still waiting (the run ended first) is answered
	 * so that the thread can leave. */
	pthread_mutex_lock(&a->lock);
	if (a->start_requested && !a->start_answered) {
		a->start_ret = -1;
		snprintf(a->start_err, sizeof(a->start_err), "mmvm is exiting");
		a->start_answered = true;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	if (!api_server_stop(a->server))
		fprintf(stderr, "mmvm: the API thread did not stop\n");
}

void api_vm_finish(struct api_vm *a, int status, const char *msg)
{
	vm_outputs_log(&a->out, VM_LOG_INFO, "vmm", "exit %d: %s", status,
		       msg);
	if (a->out.metrics_fd >= 0)
		vm_outputs_metrics(&a->out, "Exited",
				   (vm_now_ns() - a->vm->start_ns) / 1000000,
				   a->vm->virtio_devs ? dump_stats : NULL,
				   a->vm);
	if (a->server && api_server_stopped(a->server)) {
		api_server_destroy(a->server);
		a->server = NULL;
	}
}
