/* What the user asked for on the command line, already validated by the CLI
 * parser (src/vmm/cli.c). Everything downstream trusts these values. */
#ifndef MMVM_VMM_CONFIG_H
#define MMVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MMVM_MAX_DISKS 8
#define MMVM_MAX_NETS  4

/* Firecracker's ids (drive_id, iface_id, the instance id): 1..64
 * characters, letters, digits and '_' (mmvm also allows '-' and '.'). */
#define MMVM_ID_MAX	65

struct disk_config {
	const char *path;
	bool read_only;
	bool direct;		/* O_DIRECT */
	unsigned int queues;	/* request queues, 1..MMVM_MAX_DISK_QUEUES; 0: one
				 * per vCPU (at most the maximum) */
	unsigned int poll_us;	/* bounded polling after each served round
				 * (virtio/queue_run.h); 0: none */
	bool poll_adaptive;	/* poll=auto (the default): the window is
				 * learnt, poll_us is its bound */
	bool no_lock;		/* lock=off: no OFD lock on the image */
	int engine;		/* engine=: 0 default (io_uring where the
				 * host has it), 1 sync, 2 io_uring (enum
				 * blk_engine_kind, devices/blk_engine.h) */
	char id[MMVM_ID_MAX];	/* drive_id (API, --config-file); the CLI's
				 * disks are "blk0".. */
	bool root;		/* is_root_device: first disk, root=/dev/vda */
	const char *partuuid;	/* root=PARTUUID= instead, may be NULL */
};

/* VIRTIO_BLK_F_MQ: queues per disk (the transport has 16, one vector
 * each plus the config vector). */
#define MMVM_MAX_DISK_QUEUES	8

/* Largest poll bound (--disk, --net poll=US): a reset from a vCPU waits for a
 * poll window in progress (virtio/queue_run.h), so it stays short. */
#define MMVM_MAX_POLL_US	1000

/* Largest --net tx-irq-delay=US: a timer, not a spin, so it costs no CPU
 * and holds no lock while it runs; what it bounds is how late a sent
 * frame's interrupt may come when the driver has not reclaimed the frame
 * itself (its transmit queue may be waiting for room). */
#define MMVM_MAX_TX_IRQ_DELAY_US	10000
/* tx-irq-delay=auto's bound (the default): under the nested harness a
 * TCP request/response takes 1-3 ms, and a 1 ms bound saved only half of
 * the interrupts there (docs/benchmarks-txirq.md); on hardware a reply
 * comes far sooner, and a frame that gets none is reported this late. */
#define MMVM_TX_IRQ_AUTO_US	5000

struct net_config {
	const char *tap;	/* tap interface name */
	uint8_t mac[6];
	bool mac_set;
	unsigned int queues;	/* queue pairs, 1..MMVM_MAX_NET_QUEUES; 0: 1 */
	bool vhost;		/* vhost=on: /dev/vhost-net moves the packets */
	unsigned int poll_us;	/* bounded polling of each pair after it
				 * was served (virtio_net.c pair_poll);
				 * 0: none; never with vhost */
	bool poll_adaptive;	/* poll=auto: the window is learnt
				 * (net_queue_notify), poll_us is its bound */
	unsigned int tx_irq_delay_us;	/* tx interrupt check put off
					 * (virtio_net.c tx_irq_due); 0:
					 * none; never with vhost */
	bool tx_irq_delay_auto;		/* ... only while the driver's
					 * backlog is small (the default) */
	bool poll_set, tx_irq_delay_set;	/* asked for explicitly (not
						 * with vhost) */
	char id[MMVM_ID_MAX];		/* iface_id; the CLI's are "net0".. */
};

/* VIRTIO_NET_F_MQ: queue pairs per net device (2 per pair plus the
 * control queue fit the transport's 16). */
#define MMVM_MAX_NET_QUEUES	7

struct mmvm_config {
	const char *kernel;
	const char *initrd;		/* may be NULL */
	const char *cmdline;		/* user part; devices append to it */
	uint64_t mem_bytes;
	unsigned int cpus;
	bool pin_cpus;			/* --cpus N,pin: each vCPU thread on one
					 * host CPU, KVM_HINTS_REALTIME set */

	unsigned int virtio_version;	/* 2 (default: feature-bit layout) or
					 * 3 (the 2019 layout) */
	bool virtio_oasis_v3;		/* --virtio-version 3-oasis: version
					 * 2's layout, but Version reads 3 as
					 * the virtio spec's Version 3 (reset
					 * completion polling) would: a
					 * guest must not take it for 2019 */
	bool virtio_msi;		/* offer MSI (default true) */
	bool virtio_doorbells;		/* offer doorbells (default true) */

	unsigned int nr_disks;
	struct disk_config disks[MMVM_MAX_DISKS];
	unsigned int nr_nets;
	struct net_config nets[MMVM_MAX_NETS];
	bool virtio_console;		/* --console virtio */
	bool virtio_rng;
	bool acpi;			/* ACPI tables (default); else MP table +
					 * virtio_mmio.device= entries */

	const char *stats_path;		/* --stats FILE ("-" = stderr) */
	unsigned int timeout_s;		/* 0 = none */
	bool check_kvm;			/* --check-kvm: no guest, --kernel optional */
	bool seccomp;			/* --seccomp=on|off (default on) */
	const char *chroot_dir;		/* --chroot DIR, after set-up */
	bool drop_user;			/* --user given: */
	uid_t uid;			/* ... switch to these after set-up */
	gid_t gid;

	/* The Firecracker-compatible front ends (docs/api.md). */
	char id[MMVM_ID_MAX];		/* --id: instance id (GET /) */
	const char *api_sock;		/* --api-sock PATH; NULL: no API */
	bool no_api;			/* --no-api (needs --config-file) */
	const char *config_file;	/* --config-file FILE */
	const char *log_path;		/* logger.log_path (file or FIFO) */
	int log_level;			/* enum vm_log_level (vmm/vm_desc.h) */
	bool log_show_level, log_show_origin;
	const char *metrics_path;	/* metrics.metrics_path */
	/* Strings the description owns (from JSON); vm_desc_release(). */
	struct vm_desc_str *owned;
	size_t owned_bytes;
};

#endif
