/* mmvm: parse options, check inputs (before touching /dev/kvm, so that bad
 * input fails the same way on any host), build the VM, run it until the
 * guest ends, report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "api/vm_config_json.h"
#include "boot/boot_params.h"
#include "boot/layout.h"
#include "devices/serial.h"
#include "devmgr/virtio_devices.h"
#include "vmm/cli.h"
#include "vmm/cpu_pin.h"
#include "vmm/guest_watch.h"
#include "vmm/host_term.h"
#include "vmm/kvm_check.h"
#include "vmm/kvm_stats.h"
#include "vmm/lifecycle.h"
#include "vmm/loader.h"
#include "devmgr/platform.h"
#include "vmm/privileges.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "vmm/vm_desc.h"
#include "vmm/vm_pause.h"

#define ERRLEN 512

static struct vm the_vm = { .kvm_fd = -1, .vm_fd = -1 };
static struct guest_watch watch;

static int die(const char *msg)
{
	fprintf(stderr, "mmvm: %s\n", msg);
	return MMVM_EXIT_SETUP;
}

static void serial_set_irq(void *host, int level)
{
	vm_irq_line(host, SERIAL_COM1_IRQ, level);
}

/* Guest console output, on a vCPU thread under the UART lock. It decides
 * nothing about the run (any guest process can write to the console):
 * power-off, reset and panic come from the platform devices. The first
 * MMVM-GUEST line only times the boot. */
static void serial_output(void *host, const uint8_t *buf, size_t len)
{
	struct vm *vm = host;
	unsigned int ev = guest_watch_feed(&watch, buf, len);

	vm_note_output(vm);
	if (ev & GUEST_SEEN_INIT)
		fprintf(stderr, "mmvm: boot-to-init %llu ms\n",
			(unsigned long long)((vm_now_ns() - vm->start_ns) /
					     1000000));
}

static bool serial_stopping(void *host)
{
	return vm_exit_requested(host);
}

static const struct serial_host_ops serial_ops = {
	.set_irq = serial_set_irq,
	.output = serial_output,
	.stopping = serial_stopping,
};

/* Host stdin -> UART receive FIFO, on the I/O thread. */
static void stdin_ready(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint8_t buf[SERIAL_RX_FIFO];
	size_t room = serial_rx_room(vm->serial);
	ssize_t n;

	if (room == 0) {
		/* Guest is not reading; do not spin on a readable fd. */
		usleep(2000);
		return;
	}
	n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0) {
		serial_receive(vm->serial, buf, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		event_loop_del(vm->io, STDIN_FILENO);	/* EOF */
	}
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = vm_exit_on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	vcpu_init_signals();
}

/* --stats FILE is opened before the guest runs, so a bad path fails at
 * once instead of after a long run. */
static FILE *stats_file;

static int open_stats(const struct mmvm_config *cfg, char *err)
{
	if (!cfg->stats_path)
		return 0;
	stats_file = strcmp(cfg->stats_path, "-") ?
		     fopen(cfg->stats_path, "w") : stderr;
	if (!stats_file) {
		snprintf(err, ERRLEN, "--stats %s: %s", cfg->stats_path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void write_stats(struct vm *vm)
{
	if (!stats_file)
		return;
	kvm_stats_dump(vm, stats_file);
	virtio_devices_print_stats(vm, stats_file);
	if (stats_file != stderr)
		fclose(stats_file);
	stats_file = NULL;
}

/* --cpus N,pin: mmvm's allowed CPUs as they were at start (before any
 * thread of ours exists) and the host CPU planned for each vCPU. */
static cpu_set_t pin_allowed;
static int pin_host_cpu[MMVM_MAX_CPUS];

static int plan_pinning(const struct mmvm_config *cfg, char *err)
{
	if (!cfg->pin_cpus)
		return 0;
	if (cpu_pin_allowed(&pin_allowed, err, ERRLEN) ||
	    cpu_pin_plan(&pin_allowed, cfg->cpus, pin_host_cpu, err,
			 ERRLEN) < 0)
		return -1;
	return 0;
}

/* Hands each vCPU its planned CPU (its thread pins itself) and logs the
 * plan on one line. */
static void assign_pinning(struct vm *vm)
{
	char line[ERRLEN];

	if (!vm->cfg->pin_cpus)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i]->host_cpu = pin_host_cpu[i];
	cpu_pin_describe(&pin_allowed, vm->nr_vcpus, pin_host_cpu, line,
			 sizeof(line));
	fprintf(stderr, "mmvm: %s\n", line);
}

/* Everything that needs no KVM: options, files, sizes. */
static int check_inputs(struct vm *vm, struct mmvm_config *cfg, char *err)
{
	char root[128];

	if (cli_check_host_memory(cfg, cli_host_memory(), err, ERRLEN))
		return -1;
	vm->boot.image = loader_read_file(cfg->kernel, &vm->boot.image_len,
					  err, ERRLEN);
	if (!vm->boot.image) {
		char tmp[ERRLEN];

		/* (The precision keeps "kernel " + the message in ERRLEN.) */
		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, ERRLEN, "kernel %.*s", ERRLEN - 8, tmp);
		return -1;
	}
	if (loader_check(vm, cfg, err, ERRLEN) ||
	    privileges_check(cfg, err, ERRLEN) || plan_pinning(cfg, err) ||
	    open_stats(cfg, err))
		return -1;
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", cfg->cmdline);
	/* is_root_device (API, --config-file): vda, root= on the line. */
	vm_desc_finish(cfg);
	/* No ACPI reset register: have Linux reboot through the i8042,
	 * which we catch. */
	if ((vm_desc_root_args(cfg, root, sizeof(root)) &&
	     !vm_cmdline_append(vm, root)) ||
	    (!cfg->acpi && !vm_cmdline_append(vm, "reboot=k")) ||
	    (cli_virtio_guest_params(cfg) &&
	     !vm_cmdline_append(vm, cli_virtio_guest_params(cfg))) ||
	    boot_check_cmdline(&vm->boot.info, strlen(vm->cmdline))) {
		snprintf(err, ERRLEN, "--cmdline: too long (%zu bytes with mmvm's additions, kernel allows %u)",
			 strlen(vm->cmdline), vm->boot.info.cmdline_size);
		return -1;
	}
	return 0;
}

static int build_vm(struct vm *vm, struct mmvm_config *cfg, char *err)
{
	uint64_t rsdp = 0;

	if (vm_create(vm, cfg, err, ERRLEN) ||
	    loader_load_images(vm, err, ERRLEN))
		return -1;
	vm->serial = serial_create(STDOUT_FILENO, &serial_ops, vm);
	vm->io = event_loop_create("io");
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->serial || !vm->io || !vm->vcpus) {
		snprintf(err, ERRLEN, "out of memory");
		return -1;
	}
	if (platform_setup(vm, err, ERRLEN))
		return -1;
	if (virtio_devices_setup(vm)) {
		err[0] = '\0';	/* already reported */
		return -1;
	}
	if (platform_write_acpi(vm, &rsdp, err, ERRLEN) ||
	    loader_write_boot_data(vm, rsdp, err, ERRLEN))
		return -1;
	/* The guest has its copy: a reboot ends mmvm, so nothing reads the
	 * bzImage again, and keeping it would cost its size (~2.5 MiB for
	 * the project's kernel, more for a distro's) of resident memory for
	 * the VM's whole life. */
	free((void *)vm->boot.image);
	vm->boot.image = NULL;
	for (unsigned int i = 0; i < cfg->cpus; i++) {
		vm->vcpus[i] = vcpu_create(vm, i, loader_entry_point(),
					   BOOT_ZERO_PAGE_ADDR, err,
					   ERRLEN);
		if (!vm->vcpus[i])
			return -1;
		vm->nr_vcpus = i + 1;
	}
	return 0;
}

/* False if a thread would not stop: it may still use the VM, so the VM
 * is then left for the process exit to reclaim. */
static bool stop_vm(struct vm *vm)
{
	bool all = true;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (!vcpu_stop(vm->vcpus[i])) {
			fprintf(stderr, "mmvm: vcpu %u did not stop (blocked writing console output?)\n",
				i);
			all = false;
		}
	}
	if (!virtio_devices_stop(vm))
		all = false;
	if (!event_loop_stop(vm->io)) {
		fprintf(stderr, "mmvm: the I/O thread did not stop (blocked writing console output?)\n");
		all = false;
	}
	host_term_restore();
	return all;
}

static void free_vm(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(vm->vcpus[i]);
	free(vm->vcpus);
	event_loop_destroy(vm->io);
	serial_destroy(vm->serial);
	platform_destroy(vm);
	vm_destroy(vm);
	free((void *)vm->boot.image);
}

/* Inputs checked (a failure here leaves nothing behind: the API's
 * InstanceStart may be retried), then the VM built and privileges
 * dropped (*fatal: a failure there ends mmvm). */
static int prepare(struct vm *vm, struct mmvm_config *cfg, char *err,
		   bool *fatal)
{
	*fatal = false;
	if (check_inputs(vm, cfg, err)) {
		free((void *)vm->boot.image);
		vm->boot.image = NULL;
		if (stats_file && stats_file != stderr)
			fclose(stats_file);
		stats_file = NULL;
		return -1;
	}
	*fatal = true;
	if (build_vm(vm, cfg, err))
		return -1;
	assign_pinning(vm);
	/* Everything is open: no threads yet but the API's (which drops
	 * its own capabilities once the VM runs), so what is dropped here
	 * is dropped for every thread that will run guest-driven code. */
	return privileges_drop(cfg, err, ERRLEN);
}

/* Starts the I/O thread, the devices' workers and the vCPUs. */
static int run_vm(struct vm *vm, struct mmvm_config *cfg,
		  struct api_vm *api, char *err)
{
	host_term_raw();
	/* stdin may be /dev/null or a file, which epoll refuses: no input
	 * then, which is fine. With --console virtio, stdin belongs to hvc0
	 * (the virtio console registered it) and the serial only writes. */
	if (!cfg->virtio_console)
		event_loop_add(vm->io, STDIN_FILENO, EPOLLIN, stdin_ready, vm);
	if (api_vm_add_metrics_timer(api, vm->io, err, ERRLEN))
		return -1;
	if (event_loop_start(vm->io) < 0) {
		snprintf(err, ERRLEN, "cannot start the I/O thread");
		return -1;
	}
	if (virtio_devices_start(vm) < 0) {
		snprintf(err, ERRLEN, "cannot start the devices' workers");
		return -2;	/* printed why; threads may remain */
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_start(vm->vcpus[i]) < 0) {
			vm_request_exit(vm, MMVM_EXIT_SETUP,
					"cannot start vcpu %u thread", i);
			break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vm *vm = &the_vm;
	static struct mmvm_config cfg;
	static struct api_vm api;
	char err[ERRLEN];
	bool stopped, fatal;
	int status, ret;

	vm->start_ns = vm_now_ns();
	switch (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("mmvm " MMVM_VERSION "\n");
		return 0;
	case CLI_ERROR:
		return die(err);
	case CLI_CHECK_KVM: {
		int fd = kvm_check_open(&cfg, err, sizeof(err));

		if (fd < 0)
			return die(err);
		close(fd);
		printf("mmvm: %s\n", err);
		return 0;
	}
	case CLI_RUN:
		break;
	}
	vm->cfg = &cfg;
	if (cfg.config_file &&
	    vmj_load_config_file(&cfg, cfg.config_file, err, sizeof(err))) {
		vm_desc_release(&cfg);
		return die(err);
	}
	/* Without the API the description is complete now. */
	if ((!cfg.api_sock || cfg.config_file) &&
	    vm_desc_check(&cfg, cfg.config_file ?
			  "boot-source.kernel_image_path (or --kernel)" :
			  "--kernel BZIMAGE (try --help)", err, sizeof(err))) {
		vm_desc_release(&cfg);
		return die(err);
	}
	vm_exit_init(vm);
	vm_pause_init(vm);
	install_signals();
	sandbox_configure(cfg.seccomp);	/* seccomp: SIGSYS handler, on/off */
	if (api_vm_init(&api, vm, &cfg, err, sizeof(err))) {
		api_vm_finish(&api, MMVM_EXIT_SETUP, err);
		vm_desc_release(&cfg);
		return die(err);
	}
	if (cfg.api_sock && !cfg.config_file) {
		/* Configured through the API: build on InstanceStart. A bad
		 * file is the request's fault (400), and the client may try
		 * again; a failure building the VM ends mmvm. */
		if (api_vm_serve(&api, false, err, sizeof(err))) {
			api_vm_finish(&api, MMVM_EXIT_SETUP, err);
			return die(err);
		}
		for (;;) {
			if (!api_vm_wait_start(&api)) {
				status = vm->exit.status;
				fprintf(stderr, "mmvm: %s\n", vm->exit.msg);
				api_vm_stop(&api);
				api_vm_finish(&api, status, vm->exit.msg);
				vm_desc_release(&cfg);
				return status;
			}
			if (!prepare(vm, &cfg, err, &fatal))
				break;
			api_vm_start_done(&api, -1, err);
			if (fatal) {
				api_vm_stop(&api);
				api_vm_finish(&api, MMVM_EXIT_SETUP, err);
				if (err[0])
					die(err);
				free_vm(vm);
				vm_desc_release(&cfg);
				return MMVM_EXIT_SETUP;
			}
		}
	} else if (prepare(vm, &cfg, err, &fatal)) {
		if (err[0])
			die(err);
		api_vm_finish(&api, MMVM_EXIT_SETUP, err);
		if (fatal)
			free_vm(vm);
		vm_desc_release(&cfg);
		return MMVM_EXIT_SETUP;
	}
	ret = run_vm(vm, &cfg, &api, err);
	if (ret == -1) {
		api_vm_start_done(&api, -1, err);
		api_vm_stop(&api);
		free_vm(vm);
		vm_desc_release(&cfg);
		return die(err);
	}
	if (ret < 0) {
		api_vm_start_done(&api, -1, err);
		api_vm_stop(&api);
		stop_vm(vm);
		return MMVM_EXIT_SETUP;
	}
	if (cfg.api_sock && !cfg.config_file)
		api_vm_start_done(&api, 0, NULL);
	else if (api_vm_serve(&api, true, err, sizeof(err)))
		vm_request_exit(vm, MMVM_EXIT_SETUP, "%s", err);
	sandbox_enter(SANDBOX_MAIN);	/* seccomp: the others have started */
	status = vm_wait_exit(vm, cfg.timeout_s);
	api_vm_stop(&api);
	/* A paused guest: its vCPUs and workers must see the stop (which
	 * wakes them anyway); the metrics at exit read running counters. */
	vm_resume(vm);
	stopped = stop_vm(vm);
	/* Console output and our notes often share a file: start on a line
	 * of our own if the guest stopped mid-line. */
	if (watch.len)
		fputc('\n', stderr);
	fprintf(stderr, "mmvm: %s\n", vm->exit.msg);
	/* Whatever ended the run, what the guest wrote goes to stable
	 * storage now (as QEMU does); a failure is the status, unless the
	 * run failed already. */
	if (!virtio_devices_shutdown(vm) && status == MMVM_EXIT_OK)
		status = MMVM_EXIT_DISK;
	/* A guest stopped from outside may have been hung: say where. */
	if (stopped &&
	    (status == MMVM_EXIT_TIMEOUT || status == MMVM_EXIT_SIGNAL))
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			vcpu_dump_state(vm->vcpus[i], stderr);
	fprintf(stderr, "mmvm: ran %.3f s\n",
		(double)(vm_now_ns() - vm->start_ns) / 1e9);
	write_stats(vm);
	api_vm_finish(&api, status, vm->exit.msg);
	/* (A thread that did not stop may still read the description's
	 * strings: they stay, with the VM, for the exit to reclaim.) */
	if (stopped) {
		free_vm(vm);
		vm_desc_release(&cfg);
	}
	return status;
}
