/* Option parsing. Hand-rolled rather than getopt_long so that it has no
 * global state (tests call it many times) and so that every error is one
 * line of our own wording. Options take "--opt VALUE" or "--opt=VALUE". */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "vmm/cli.h"
#include "vmm/privileges.h"
#include "vmm/vm_desc.h"

void cli_usage(FILE *f)
{
	fputs(
"usage: mmvm --kernel BZIMAGE [options]\n"
"       mmvm --config-file FILE [--no-api] [options]\n"
"       mmvm --api-sock PATH [options]\n"
"Boots a Linux bzImage in a KVM microVM with a 16550A console on ttyS0\n"
"(stdin/stdout) and virtio-mmio devices.\n"
"\n"
"  --kernel BZIMAGE        64-bit Linux bzImage (boot protocol >= 2.06)\n"
"  --initrd FILE           initial ramdisk\n"
"  --cmdline STR           kernel command line (default \"" MMVM_DEFAULT_CMDLINE "\");\n"
"                          mmvm appends reboot=k and its devices' entries\n"
"  --mem SIZE              guest RAM, K/M/G suffix, bare number = MiB\n"
"                          (default 256M, at least 32M, at most host RAM)\n"
"  --cpus N[,pin]          vCPUs, 1..64 (default 1). ,pin: vCPU i runs only\n"
"                          on the (i mod M)th of the M host CPUs mmvm was\n"
"                          allowed at start (sched_getaffinity, taskset), and\n"
"                          the guest is told its vCPUs are dedicated (CPUID\n"
"                          KVM_HINTS_REALTIME). A Linux guest with cpuidle-\n"
"                          haltpoll (the project's) then polls up to 200 us\n"
"                          before it halts a vCPU whose recent sleeps were\n"
"                          short, and turns KVM's own halt polling off: fewer\n"
"                          exits, faster wake-ups, but host CPU burnt while\n"
"                          the guest polls. The hint also turns off the\n"
"                          guest's PV spinlocks (native qspinlock instead), PV\n"
"                          TLB flush and PV sched yield, made for vCPUs that\n"
"                          get preempted. Only vCPU threads are pinned; I/O\n"
"                          and device threads run on any allowed CPU\n"
"  --disk PATH[,ro][,direct][,lock=off][,queues=N][,engine=io_uring|sync]\n"
"        [,poll=auto|US]\n"
"                          virtio-blk disk (up to 8), a raw image file or a\n"
"                          block device. A guest flush is an fdatasync of the\n"
"                          image; once one fails (or a write-through write),\n"
"                          every later flush fails too, for the rest of the\n"
"                          run. A driver that does not take the flush feature\n"
"                          gets write-through (each write stable when it\n"
"                          completes). Writable images are synced when mmvm\n"
"                          ends, whatever the reason (exit status 5 if that\n"
"                          fails). The image is locked (OFD lock: a write lock,\n"
"                          a read lock with ro) and mmvm refuses an image that\n"
"                          another process has locked; lock=off: no lock.\n"
"                          ro: read-only; direct: O_DIRECT, the host's page\n"
"                          cache bypassed (the host's logical block size,\n"
"                          e.g. 4096, is the guest's blk_size);\n"
"                          queues=N: N request queues\n"
"                          (VIRTIO_BLK_F_MQ, 1..8, default one per vCPU),\n"
"                          each with its own MSI vector and worker thread;\n"
"                          engine=io_uring (default where the host has it):\n"
"                          each queue keeps up to 64 reads and writes in\n"
"                          flight at the host through its own io_uring\n"
"                          (restricted to reading and writing the image);\n"
"                          engine=sync: one at a time, preadv/pwritev on the\n"
"                          worker. Without io_uring mmvm says why on one line\n"
"                          and runs sync;\n"
"                          poll=US: after serving requests a queue's worker\n"
"                          keeps watching the ring for up to US microseconds\n"
"                          (0..1000; 0: off), notifications off, so a\n"
"                          request that follows within the bound needs no\n"
"                          doorbell; it burns that CPU time after each\n"
"                          burst, never while the disk is idle. poll=auto\n"
"                          (default): the window follows the gaps between\n"
"                          the guest's requests, up to 1000 us: it grows to\n"
"                          a gap that fits and halves after one that does\n"
"                          not, so requests further apart cost no polling.\n"
"                          Either way a worker spins at most 20 ms of every\n"
"                          100 ms, then takes doorbells until the next\n"
"                          100 ms begin; a request that moves no data\n"
"                          (malformed, unknown, empty) ends a window\n"
"  --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,queues=N][,vhost=on]\n"
"        [,poll=auto|US][,tx-irq-delay=auto|US]\n"
"                          virtio-net on a tap (up to 4); queues=N: N queue\n"
"                          pairs on a multi-queue tap (VIRTIO_NET_F_MQ, 1..7,\n"
"                          default 1), each pair with its own worker thread\n"
"                          and MSI vectors; vhost=on: /dev/vhost-net moves\n"
"                          the packets in the host kernel (kicks and MSIs go\n"
"                          straight between KVM and vhost); poll=US: after\n"
"                          moving packets a pair's worker keeps watching its\n"
"                          tx ring and its tap queue for up to US\n"
"                          microseconds (0..1000; 0: off), tx kicks off, so\n"
"                          a frame the guest sends within the bound needs no\n"
"                          doorbell; poll=auto (default): the window is\n"
"                          learnt from the tx doorbells that still come, up\n"
"                          to 1000 us, and is 0 while the guest's frames come\n"
"                          further apart, so an idle guest costs no polling;\n"
"                          either way at most 20 ms of every 100 ms per pair;\n"
"                          tx-irq-delay=US: a sent frame's interrupt waits\n"
"                          up to US microseconds (0..10000; 0: off) and is\n"
"                          dropped if the driver has reclaimed the frame\n"
"                          meanwhile (Linux does in its receive poll), so a\n"
"                          request whose reply comes within the bound costs\n"
"                          one interrupt, not two;\n"
"                          tx-irq-delay=auto (default): up to 5000 us, and\n"
"                          only while the driver holds at most 4 sent frames\n"
"                          and 8 KiB unreclaimed, so a stream's interrupts\n"
"                          come at once; poll= and tx-irq-delay= not with\n"
"                          vhost=on\n"
"  --console virtio        add a virtio console (hvc0)\n"
"  --rng                   add a virtio entropy device\n"
"  --virtio-version 2|3    virtio-mmio layout (default 2):\n"
"                          2: virtio 1.2 MMIO devices that also offer MSI and\n"
"                          doorbells as feature bits 44/45 (8 KiB window,\n"
"                          docs/virtio-mmio-msi.md); a stock kernel drives\n"
"                          them on the legacy line, a patched one with MSI.\n"
"                          3: the 2019 layout (Version 3, MSI registers at\n"
"                          0x0c0; docs/virtio-mmio-v3.md), for the patched\n"
"                          kernel only: stock kernels refuse Version 3.\n"
"                          3-oasis (a test mode): version 2's devices, but\n"
"                          Version reads 3 as with the virtio spec's Version 3\n"
"                          (reset polling): a guest must refuse or drive them\n"
"                          as standard, never as the 2019 layout.\n"
"                          With 3, mmvm adds virtio_mmio.layout_2019=1 to the\n"
"                          kernel command line (the patched kernel's opt-in).\n"
"  --no-msi                offer no MSI (the legacy line only)\n"
"  --no-doorbells          offer no doorbells (notify through QueueNotify);\n"
"                          version 2 with both: plain virtio 1.2, 4 KiB\n"
"  --no-acpi               no ACPI tables: for kernels built without\n"
"                          CONFIG_ACPI. Devices are then given on the command\n"
"                          line (virtio_mmio.device=, reboot=k) and CPUs in an\n"
"                          MP table; such a guest cannot power off (Linux halts\n"
"                          instead): end it with reboot. By default the guest\n"
"                          gets both ACPI tables (devices, COM1, power-off and\n"
"                          reset registers, pvpanic) and the MP table.\n"
"  --stats FILE            at exit, write KVM and device counters (- = stderr)\n"
"  --timeout SECONDS       stop the guest after SECONDS\n"
"  --user UID[:GID]        after set-up, switch to this unprivileged user\n"
"                          (or NAME[:GROUP] from /etc/passwd, /etc/group)\n"
"  --chroot DIR            after set-up, chroot into DIR (e.g. an empty one);\n"
"                          every file mmvm needs is open by then. Either way,\n"
"                          all capabilities are dropped before the guest runs\n"
"  --seccomp on|off        seccomp-bpf filter per thread (main, vCPU, I/O),\n"
"                          each allowing only its own system calls (default on;\n"
"                          off is for debugging; docs/security.md)\n"
"  --config-file FILE      a Firecracker JSON configuration (boot-source,\n"
"                          machine-config, drives, network-interfaces, logger,\n"
"                          metrics, entropy; docs/api.md); the VM boots from\n"
"                          it at once. Options given too are applied first\n"
"  --api-sock PATH         serve Firecracker's HTTP API on a Unix socket\n"
"                          (created 0600): without --config-file, mmvm waits\n"
"                          for PUT /actions InstanceStart; --kernel is then\n"
"                          optional (PUT /boot-source). docs/api.md\n"
"  --no-api                no API socket (Firecracker's flag; needs\n"
"                          --config-file). Without --api-sock there is none\n"
"  --id ID                 instance id shown by GET / (default\n"
"                          \"" MMVM_DEFAULT_ID "\"; letters, digits, _ - .)\n"
"  --check-kvm             only check that /dev/kvm can run the guest (its\n"
"                          capabilities and a probe guest that reads back the\n"
"                          CPUID mmvm sets); print one line why or why not,\n"
"                          exit 0 or 1. Every run makes the same check first.\n"
"  --help, --version\n"
"\n"
"Exit status:\n"
"  0    guest powered off (\"mmvm: guest powered off (ACPI S5)\") or\n"
"       rebooted (\"mmvm: guest rebooted (ACPI reset register)\", or\n"
"       \"(i8042)\" with --no-acpi, where the guest gets reboot=k)\n"
"  1    mmvm could not start: bad option or file, no usable /dev/kvm\n"
"       (\"mmvm: /dev/kvm: <what is wrong>; <what to do>\")\n"
"  2    guest kernel panicked, as its pvpanic device reported (\"mmvm:\n"
"       guest panicked (pvpanic)\"; also when it then reboots or powers off)\n"
"  3    VM failure: triple fault, failed entry, KVM internal error\n"
"  4    mmvm internal error: sandbox violation, a thread made a system call\n"
"       its seccomp filter does not allow (\"mmvm: seccomp: thread <kind>\n"
"       made syscall <nr> (<name>), which its filter does not allow\")\n"
"  5    the guest ended (as for 0), but a disk's writes may not all be on\n"
"       stable storage: its flush at exit failed or a write error was\n"
"       latched during the run (\"mmvm: --disk PATH (blkN): ...\")\n"
"  124  --timeout expired (\"mmvm: timeout\")\n"
"  130  mmvm interrupted by SIGINT or SIGTERM\n"
"\n"
"stderr also gets \"mmvm: boot-to-init N ms\" when the guest first prints\n"
"MMVM-GUEST, and \"mmvm: ran N s\" at exit; after 124 or 130, each vCPU's\n"
"RIP, CR3, pending event and LAPIC IRR/ISR (where a hung guest was).\n", f);
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 20;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': shift = 20; break;
	case 'B': shift = 0; end++; break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -1;
	}
	/* Accept "256MiB"/"256MB" spelled out too. */
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* "N" or "N,pin". The count is parsed from a copy so that a flag after it
 * is not taken for part of the number. */
static int parse_cpus(const char *val, struct mmvm_config *cfg)
{
	const char *comma = strchr(val, ',');
	char num[16], why[96];
	size_t len = comma ? (size_t)(comma - val) : strlen(val);
	unsigned int n;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, val, len);
	num[len] = '\0';
	/* The range is vm_desc's; the caller words the error for --cpus. */
	if (parse_uint(num, 1000000, &n) ||
	    vm_desc_set_cpus(cfg, n, "--cpus", why, sizeof(why)))
		return -1;
	if (comma && strcmp(comma + 1, "pin"))
		return -1;
	cfg->pin_cpus = comma != NULL;
	return 0;
}

/* "PATH[,ro][,direct][,queues=N][,engine=E][,poll=US]": the flags are cut off the
 * copy in argv. */
static int parse_disk(char *val, struct disk_config *d, char *err,
		      size_t errlen)
{
	char *comma;

	vm_desc_disk_defaults(d);
	d->path = val;
	while ((comma = strrchr(val, ',')) != NULL) {
		if (!strcmp(comma + 1, "ro")) {
			d->read_only = true;
		} else if (!strcmp(comma + 1, "direct")) {
			d->direct = true;
		} else if (!strncmp(comma + 1, "queues=", 7)) {
			if (parse_uint(comma + 8, MMVM_MAX_DISK_QUEUES,
				       &d->queues) || d->queues == 0) {
				snprintf(err, errlen, "--disk: '%s': want queues=1..%d",
					 comma + 1, MMVM_MAX_DISK_QUEUES);
				return -1;
			}
		} else if (!strcmp(comma + 1, "lock=off") ||
			   !strcmp(comma + 1, "lock=on")) {
			d->no_lock = !strcmp(comma + 1, "lock=off");
		} else if (!strcmp(comma + 1, "engine=sync")) {
			d->engine = 1;
		} else if (!strcmp(comma + 1, "engine=io_uring")) {
			d->engine = 2;
		} else if (!strncmp(comma + 1, "engine=", 7)) {
			snprintf(err, errlen, "--disk: '%s': want engine=io_uring or engine=sync",
				 comma + 1);
			return -1;
		} else if (!strcmp(comma + 1, "poll=auto")) {
			d->poll_adaptive = true;
			d->poll_us = MMVM_MAX_POLL_US;
		} else if (!strncmp(comma + 1, "poll=", 5)) {
			if (parse_uint(comma + 6, MMVM_MAX_POLL_US,
				       &d->poll_us)) {
				snprintf(err, errlen, "--disk: '%s': want poll=auto or poll=0..%d (microseconds)",
					 comma + 1, MMVM_MAX_POLL_US);
				return -1;
			}
			d->poll_adaptive = false;
		} else {
			snprintf(err, errlen, "--disk: unknown flag '%s' (want ro, direct, lock=on|off, queues=N, engine=io_uring|sync or poll=auto|US)",
				 comma + 1);
			return -1;
		}
		*comma = '\0';
	}
	if (!*val) {
		snprintf(err, errlen, "--disk: missing PATH");
		return -1;
	}
	return 0;
}

static int parse_net(char *val, struct net_config *n, char *err,
		     size_t errlen)
{
	char *save = NULL;

	vm_desc_net_defaults(n);
	for (char *tok = strtok_r(val, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "tap=", 4) && tok[4]) {
			n->tap = tok + 4;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (vm_desc_parse_mac(tok + 4, n->mac)) {
				snprintf(err, errlen, "--net: bad mac '%s' (want XX:XX:XX:XX:XX:XX, unicast)",
					 tok + 4);
				return -1;
			}
			n->mac_set = true;
		} else if (!strcmp(tok, "vhost=on") || !strcmp(tok, "vhost=off")) {
			n->vhost = !strcmp(tok, "vhost=on");
		} else if (!strncmp(tok, "queues=", 7)) {
			if (parse_uint(tok + 7, MMVM_MAX_NET_QUEUES,
				       &n->queues) || n->queues == 0) {
				snprintf(err, errlen, "--net: '%s': want queues=1..%d",
					 tok, MMVM_MAX_NET_QUEUES);
				return -1;
			}
		} else if (!strcmp(tok, "poll=auto")) {
			n->poll_us = MMVM_MAX_POLL_US;
			n->poll_adaptive = true;
			n->poll_set = true;
		} else if (!strncmp(tok, "poll=", 5)) {
			if (parse_uint(tok + 5, MMVM_MAX_POLL_US, &n->poll_us)) {
				snprintf(err, errlen, "--net: '%s': want poll=auto or poll=0..%d (microseconds)",
					 tok, MMVM_MAX_POLL_US);
				return -1;
			}
			n->poll_adaptive = false;
			n->poll_set = n->poll_us != 0;
		} else if (!strcmp(tok, "tx-irq-delay=auto")) {
			n->tx_irq_delay_us = MMVM_TX_IRQ_AUTO_US;
			n->tx_irq_delay_auto = true;
			n->tx_irq_delay_set = true;
		} else if (!strncmp(tok, "tx-irq-delay=", 13)) {
			if (parse_uint(tok + 13, MMVM_MAX_TX_IRQ_DELAY_US,
				       &n->tx_irq_delay_us)) {
				snprintf(err, errlen, "--net: '%s': want tx-irq-delay=auto or tx-irq-delay=0..%d (microseconds)",
					 tok, MMVM_MAX_TX_IRQ_DELAY_US);
				return -1;
			}
			n->tx_irq_delay_auto = false;
			n->tx_irq_delay_set = n->tx_irq_delay_us != 0;
		} else {
			snprintf(err, errlen, "--net: unknown parameter '%s' (want tap=NAME[,mac=XX:..][,queues=N][,vhost=on][,poll=auto|US][,tx-irq-delay=auto|US])",
				 tok);
			return -1;
		}
	}
	if (!n->tap) {
		snprintf(err, errlen, "--net: missing tap=NAME");
		return -1;
	}
	/* The rest (vhost and polling, ranges) is vm_desc_put_net()'s. */
	return 0;
}

enum opt_id {
	OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_DISK,
	OPT_NET, OPT_CONSOLE, OPT_RNG, OPT_VIRTIO_VERSION, OPT_NO_MSI, OPT_NO_DOORBELLS,
	OPT_NO_ACPI, OPT_STATS, OPT_TIMEOUT, OPT_CHECK_KVM, OPT_HELP, OPT_VERSION,
	OPT_SECCOMP, OPT_USER, OPT_CHROOT, OPT_API_SOCK, OPT_CONFIG_FILE,
	OPT_NO_API, OPT_ID,
};

static const struct {
	const char *name;
	enum opt_id id;
	bool has_arg;
} options[] = {
	{ "kernel", OPT_KERNEL, true },
	{ "initrd", OPT_INITRD, true },
	{ "cmdline", OPT_CMDLINE, true },
	{ "mem", OPT_MEM, true },
	{ "cpus", OPT_CPUS, true },
	{ "disk", OPT_DISK, true },
	{ "net", OPT_NET, true },
	{ "console", OPT_CONSOLE, true },
	{ "rng", OPT_RNG, false },
	{ "virtio-version", OPT_VIRTIO_VERSION, true },
	{ "no-msi", OPT_NO_MSI, false },
	{ "no-doorbells", OPT_NO_DOORBELLS, false },
	{ "no-acpi", OPT_NO_ACPI, false },
	{ "stats", OPT_STATS, true },
	{ "timeout", OPT_TIMEOUT, true },
	{ "check-kvm", OPT_CHECK_KVM, false },
	{ "help", OPT_HELP, false },
	{ "version", OPT_VERSION, false },
	{ "seccomp", OPT_SECCOMP, true },
	{ "user", OPT_USER, true },
	{ "chroot", OPT_CHROOT, true },
	{ "api-sock", OPT_API_SOCK, true },
	{ "config-file", OPT_CONFIG_FILE, true },
	{ "no-api", OPT_NO_API, false },
	{ "id", OPT_ID, true },
};

static enum cli_result apply(struct mmvm_config *cfg, enum opt_id id,
			     char *val, char *err, size_t errlen)
{
	switch (id) {
	case OPT_KERNEL:
		cfg->kernel = val;
		break;
	case OPT_INITRD:
		cfg->initrd = val;
		break;
	case OPT_CMDLINE:
		cfg->cmdline = val;
		break;
	case OPT_MEM: {
		uint64_t bytes;

		if (cli_parse_size(val, &bytes)) {
			snprintf(err, errlen, "--mem: cannot parse '%s' (want e.g. 512M or 2G)",
				 val);
			return CLI_ERROR;
		}
		if (vm_desc_set_mem(cfg, bytes, "--mem", err, errlen))
			return CLI_ERROR;
		break;
	}
	case OPT_CPUS:
		if (parse_cpus(val, cfg)) {
			snprintf(err, errlen, "--cpus '%s': want N or N,pin with N 1..%d",
				 val, MMVM_MAX_CPUS);
			return CLI_ERROR;
		}
		break;
	case OPT_DISK: {
		struct disk_config d;

		if (parse_disk(val, &d, err, errlen))
			return CLI_ERROR;
		snprintf(d.id, sizeof(d.id), "blk%u", cfg->nr_disks);
		if (vm_desc_put_disk(cfg, &d, "--disk", err, errlen))
			return CLI_ERROR;
		break;
	}
	case OPT_NET: {
		struct net_config n;

		if (parse_net(val, &n, err, errlen))
			return CLI_ERROR;
		snprintf(n.id, sizeof(n.id), "net%u", cfg->nr_nets);
		if (vm_desc_put_net(cfg, &n, "--net", err, errlen))
			return CLI_ERROR;
		break;
	}
	case OPT_CONSOLE:
		if (strcmp(val, "virtio")) {
			snprintf(err, errlen, "--console '%s': only 'virtio' is supported",
				 val);
			return CLI_ERROR;
		}
		cfg->virtio_console = true;
		break;
	case OPT_RNG:
		cfg->virtio_rng = true;
		break;
	case OPT_VIRTIO_VERSION:
		cfg->virtio_oasis_v3 = !strcmp(val, "3-oasis");
		if (cfg->virtio_oasis_v3) {
			cfg->virtio_version = 2;	/* version 2's layout */
			break;
		}
		if (parse_uint(val, 1000, &cfg->virtio_version) ||
		    (cfg->virtio_version != 2 && cfg->virtio_version != 3)) {
			snprintf(err, errlen, "--virtio-version '%s': want 2 or 3 (or 3-oasis)",
				 val);
			return CLI_ERROR;
		}
		break;
	case OPT_NO_MSI:
		cfg->virtio_msi = false;
		break;
	case OPT_NO_DOORBELLS:
		cfg->virtio_doorbells = false;
		break;
	case OPT_NO_ACPI:
		cfg->acpi = false;
		break;
	case OPT_STATS:
		cfg->stats_path = val;
		break;
	case OPT_TIMEOUT:
		if (parse_uint(val, 1000000000, &cfg->timeout_s) ||
		    cfg->timeout_s == 0) {
			snprintf(err, errlen, "--timeout '%s': want a positive number of seconds",
				 val);
			return CLI_ERROR;
		}
		break;
	case OPT_CHECK_KVM:
		cfg->check_kvm = true;
		break;
	case OPT_HELP:
		return CLI_HELP;
	case OPT_VERSION:
		return CLI_VERSION;
	case OPT_SECCOMP:
		if (strcmp(val, "on") && strcmp(val, "off")) {
			snprintf(err, errlen, "--seccomp '%s': want on or off",
				 val);
			return CLI_ERROR;
		}
		cfg->seccomp = !strcmp(val, "on");
		break;
	case OPT_USER:
		if (privileges_parse_user(val, &cfg->uid, &cfg->gid, err,
					  errlen))
			return CLI_ERROR;
		cfg->drop_user = true;
		break;
	case OPT_CHROOT:
		if (!*val) {
			snprintf(err, errlen, "--chroot: missing DIR");
			return CLI_ERROR;
		}
		cfg->chroot_dir = val;
		break;
	case OPT_API_SOCK:
		if (!*val) {
			snprintf(err, errlen, "--api-sock: missing PATH");
			return CLI_ERROR;
		}
		cfg->api_sock = val;
		break;
	case OPT_CONFIG_FILE:
		if (!*val) {
			snprintf(err, errlen, "--config-file: missing FILE");
			return CLI_ERROR;
		}
		cfg->config_file = val;
		break;
	case OPT_NO_API:
		cfg->no_api = true;
		break;
	case OPT_ID:
		if (vm_desc_check_id(val, "--id", err, errlen))
			return CLI_ERROR;
		snprintf(cfg->id, sizeof(cfg->id), "%s", val);
		break;
	}
	return CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct mmvm_config *cfg,
			  char *err, size_t errlen)
{
	vm_desc_init(cfg);
	err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i], *val = NULL, *eq;
		size_t namelen;
		size_t o;
		enum cli_result r;

		if (strncmp(arg, "--", 2) || !arg[2]) {
			snprintf(err, errlen, "unexpected argument '%s' (try --help)",
				 arg);
			return CLI_ERROR;
		}
		arg += 2;
		eq = strchr(arg, '=');
		namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (o = 0; o < sizeof(options) / sizeof(options[0]); o++)
			if (strlen(options[o].name) == namelen &&
			    !strncmp(options[o].name, arg, namelen))
				break;
		if (o == sizeof(options) / sizeof(options[0])) {
			snprintf(err, errlen, "unknown option '--%.*s' (try --help)",
				 (int)namelen, arg);
			return CLI_ERROR;
		}
		if (options[o].has_arg) {
			if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				snprintf(err, errlen, "option '--%s' needs a value",
					 options[o].name);
				return CLI_ERROR;
			}
		} else if (eq) {
			snprintf(err, errlen, "option '--%s' takes no value",
				 options[o].name);
			return CLI_ERROR;
		}
		r = apply(cfg, options[o].id, val, err, errlen);
		if (r != CLI_RUN)
			return r;
	}
	/* With --config-file or --api-sock the kernel may come later. */
	if (!cfg->kernel && !cfg->check_kvm && !cfg->config_file &&
	    !cfg->api_sock) {
		snprintf(err, errlen, "missing --kernel BZIMAGE (try --help)");
		return CLI_ERROR;
	}
	if (cfg->no_api && cfg->api_sock) {
		snprintf(err, errlen, "--no-api and --api-sock: choose one");
		return CLI_ERROR;
	}
	if (cfg->no_api && !cfg->config_file) {
		snprintf(err, errlen, "--no-api needs --config-file FILE");
		return CLI_ERROR;
	}
	return cfg->check_kvm ? CLI_CHECK_KVM : CLI_RUN;
}

uint64_t cli_host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

int cli_check_host_memory(const struct mmvm_config *cfg, uint64_t host_bytes,
			  char *err, size_t errlen)
{
	if (host_bytes && cfg->mem_bytes > host_bytes) {
		snprintf(err, errlen, "--mem %llu MiB: more than the host has (%llu MiB)",
			 (unsigned long long)(cfg->mem_bytes >> 20),
			 (unsigned long long)(host_bytes >> 20));
		return -1;
	}
	return 0;
}

const char *cli_virtio_guest_params(const struct mmvm_config *cfg)
{
	if (cfg->virtio_version == 3 && !cfg->virtio_oasis_v3)
		return "virtio_mmio.layout_2019=1";
	return NULL;
}
