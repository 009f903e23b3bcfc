#include <string.h>

#include "unit.h"
#include "vmm/cli.h"
#include "vmm/vm.h"

#define MAXARGS 32

static char errbuf[256];
static struct mmvm_config cfg;
static char storage[MAXARGS][128];

/* Splits a space-separated line into a fresh, writable argv. */
static enum cli_result parse(const char *line)
{
	char *argv[MAXARGS];
	char copy[1024];
	int argc = 0;

	argv[argc++] = "mmvm";
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		snprintf(storage[argc], sizeof(storage[0]), "%s", t);
		argv[argc] = storage[argc];
		argc++;
	}
	return cli_parse(argc, argv, &cfg, errbuf, sizeof(errbuf));
}

static bool err_has(const char *s)
{
	return strstr(errbuf, s) != NULL;
}

static void test_defaults(void)
{
	CHECK_EQ(parse("--kernel bz"), CLI_RUN);
	CHECK(!strcmp(cfg.kernel, "bz"));
	CHECK(cfg.initrd == NULL);
	CHECK(!strcmp(cfg.cmdline, "console=ttyS0"));
	CHECK_EQ(cfg.mem_bytes, 256ULL << 20);
	CHECK_EQ(cfg.cpus, 1);
	CHECK_EQ(cfg.virtio_version, 2);	/* with the MSI feature bits */
	CHECK(cfg.virtio_msi && cfg.virtio_doorbells);
	CHECK_EQ(cfg.nr_disks, 0);
	CHECK_EQ(cfg.timeout_s, 0);
	CHECK(cfg.stats_path == NULL);
	CHECK(cfg.seccomp);	/* --seccomp: on by default */
	CHECK_EQ(parse("--kernel bz --seccomp=off"), CLI_RUN);
	CHECK(!cfg.seccomp);
	CHECK_EQ(parse("--kernel bz --seccomp on"), CLI_RUN);
	CHECK(cfg.seccomp);
	/* --user: numbers, or names from /etc/passwd (nobody is 65534 on
	 * Debian); never root. --chroot: taken as given, checked later. */
	CHECK_EQ(parse("--kernel bz --user 1000"), CLI_RUN);
	CHECK(cfg.drop_user && cfg.uid == 1000 && cfg.gid == 1000);
	CHECK_EQ(parse("--kernel bz --user 1000:27"), CLI_RUN);
	CHECK(cfg.uid == 1000 && cfg.gid == 27);
	CHECK_EQ(parse("--kernel bz --user nobody"), CLI_RUN);
	CHECK(cfg.uid == 65534 && cfg.gid == 65534);
	CHECK_EQ(parse("--kernel bz --user nobody:nogroup"), CLI_RUN);
	CHECK(cfg.uid == 65534 && cfg.gid == 65534);
	CHECK_EQ(parse("--kernel bz --user 0"), CLI_ERROR);
	CHECK(err_has("that is root"));
	CHECK_EQ(parse("--kernel bz --user root"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --user 5:0"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --user no-such-user-mmvm"), CLI_ERROR);
	CHECK(err_has("no such user"));
	CHECK_EQ(parse("--kernel bz --user 5:no-such-group-mmvm"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --user="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --chroot /var/empty"), CLI_RUN);
	CHECK(!strcmp(cfg.chroot_dir, "/var/empty") && !cfg.drop_user);
	CHECK_EQ(parse("--kernel bz --chroot="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --seccomp=maybe"), CLI_ERROR);
	CHECK(err_has("--seccomp 'maybe': want on or off"));
	CHECK_EQ(parse("--kernel bz --seccomp"), CLI_ERROR);
}

static void test_all_options(void)
{
	CHECK_EQ(parse("--kernel=bz --initrd ird --cmdline=quiet --mem 1G --cpus 4 "
		       "--disk a.img --disk b.img,ro,direct --net tap=tap0,mac=52:54:00:12:34:56 "
		       "--net tap=tap1 --console virtio --rng --virtio-version 3 --no-msi --no-doorbells "
		       "--stats - --timeout 30"), CLI_RUN);
	CHECK(!strcmp(cfg.initrd, "ird"));
	CHECK(!strcmp(cfg.cmdline, "quiet"));
	CHECK_EQ(cfg.mem_bytes, 1ULL << 30);
	CHECK_EQ(cfg.cpus, 4);
	CHECK_EQ(cfg.nr_disks, 2);
	CHECK(!strcmp(cfg.disks[0].path, "a.img"));
	CHECK(!cfg.disks[0].read_only && !cfg.disks[0].direct);
	CHECK(!strcmp(cfg.disks[1].path, "b.img"));
	CHECK(cfg.disks[1].read_only && cfg.disks[1].direct);
	CHECK_EQ(cfg.nr_nets, 2);
	CHECK(!strcmp(cfg.nets[0].tap, "tap0"));
	CHECK(cfg.nets[0].mac_set);
	CHECK_EQ(cfg.nets[0].mac[5], 0x56);
	CHECK(!cfg.nets[1].mac_set);
	CHECK(cfg.virtio_console && cfg.virtio_rng);
	CHECK_EQ(cfg.virtio_version, 3);
	CHECK(!cfg.virtio_msi && !cfg.virtio_doorbells);
	CHECK(!strcmp(cfg.stats_path, "-"));
	CHECK_EQ(cfg.timeout_s, 30);
	CHECK_EQ(parse("--help"), CLI_HELP);
	/* --check-kvm needs no kernel and sees the other options. */
	CHECK_EQ(parse("--check-kvm"), CLI_CHECK_KVM);
	CHECK(cfg.check_kvm && cfg.virtio_version == 2 && cfg.virtio_msi);
	CHECK_EQ(parse("--check-kvm --virtio-version 3"), CLI_CHECK_KVM);
	CHECK_EQ(cfg.virtio_version, 3);
	CHECK_EQ(parse("--check-kvm=yes"), CLI_ERROR);
	CHECK_EQ(parse("--check-kvm --no-msi --virtio-version 2"),
		 CLI_CHECK_KVM);
	CHECK(!cfg.virtio_msi);
	CHECK_EQ(parse("--version"), CLI_VERSION);
}

static void test_sizes(void)
{
	uint64_t b;

	CHECK(!cli_parse_size("256M", &b) && b == 256ULL << 20);
	CHECK(!cli_parse_size("256", &b) && b == 256ULL << 20);
	CHECK(!cli_parse_size("4g", &b) && b == 4ULL << 30);
	CHECK(!cli_parse_size("65536K", &b) && b == 64ULL << 20);
	CHECK(!cli_parse_size("512MiB", &b) && b == 512ULL << 20);
	CHECK(!cli_parse_size("33554432B", &b) && b == 32ULL << 20);
	CHECK(cli_parse_size("", &b));
	CHECK(cli_parse_size("-1G", &b));
	CHECK(cli_parse_size("1X", &b));
	CHECK(cli_parse_size("1GG", &b));
	CHECK(cli_parse_size("99999999999999999999", &b));
	CHECK(cli_parse_size("17179869184G", &b));	/* overflows */
	CHECK(cli_parse_size(" 1G", &b));
}

static void test_errors(void)
{
	/* Both layouts take both switches; both on v2 = plain virtio 1.2. */
	CHECK_EQ(parse("--kernel bz --virtio-version 2 --no-msi --no-doorbells"),
		 CLI_RUN);
	CHECK(cfg.virtio_version == 2 && !cfg.virtio_msi &&
	      !cfg.virtio_doorbells);
	CHECK_EQ(parse("--kernel bz --no-doorbells"), CLI_RUN);
	CHECK(cfg.virtio_msi && !cfg.virtio_doorbells);
	CHECK_EQ(parse("--kernel bz --frobnicate"), CLI_ERROR);
	CHECK(err_has("unknown option '--frobnicate'"));
	CHECK_EQ(parse(""), CLI_ERROR);
	CHECK(err_has("missing --kernel"));
	CHECK_EQ(parse("--kernel"), CLI_ERROR);
	CHECK(err_has("needs a value"));
	CHECK_EQ(parse("--kernel bz stray"), CLI_ERROR);
	CHECK(err_has("unexpected argument"));
	CHECK_EQ(parse("--kernel bz --rng=1"), CLI_ERROR);
	CHECK(err_has("takes no value"));
	CHECK_EQ(parse("--kernel bz --mem 16M"), CLI_ERROR);
	CHECK(err_has("too small"));
	CHECK_EQ(parse("--kernel bz --mem lots"), CLI_ERROR);
	CHECK(err_has("cannot parse"));
	CHECK_EQ(parse("--kernel bz --mem 33554433B"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --cpus 0"), CLI_ERROR);
	CHECK(err_has("--cpus"));
	CHECK_EQ(parse("--kernel bz --cpus 65"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --cpus 2x"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --cpus 64"), CLI_RUN);
	CHECK_EQ(parse("--kernel bz --virtio-version 1"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --timeout 0"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --timeout -5"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --console serial"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,rw"), CLI_ERROR);
	CHECK(err_has("unknown flag"));
	CHECK_EQ(parse("--kernel bz --disk a,queues=0"), CLI_ERROR);
	CHECK(err_has("want queues=1..8"));
	CHECK_EQ(parse("--kernel bz --disk a,queues=9"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,queues=x"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,queues="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,poll=1001"), CLI_ERROR);
	CHECK(err_has("want poll=auto or poll=0..1000 (microseconds)"));
	CHECK_EQ(parse("--kernel bz --disk a,poll=autox"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,poll=-1"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,poll="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --disk a,poll=50,queues=2"), CLI_RUN);
	CHECK(cfg.disks[0].poll_us == 50 && cfg.disks[0].queues == 2 &&
	      !cfg.disks[0].poll_adaptive && !strcmp(cfg.disks[0].path, "a"));
	/* The default is adaptive polling bounded at 1000 us. */
	CHECK_EQ(parse("--kernel bz --disk a"), CLI_RUN);
	CHECK(cfg.disks[0].poll_adaptive && cfg.disks[0].poll_us == 1000);
	CHECK_EQ(parse("--kernel bz --disk a,poll=0"), CLI_RUN);
	CHECK(!cfg.disks[0].poll_adaptive && cfg.disks[0].poll_us == 0);
	CHECK_EQ(parse("--kernel bz --disk a,poll=auto,ro"), CLI_RUN);
	CHECK(cfg.disks[0].poll_adaptive && cfg.disks[0].poll_us == 1000);
	CHECK_EQ(parse("--kernel bz --disk a,ro,queues=4"), CLI_RUN);
	CHECK(cfg.disks[0].read_only && cfg.disks[0].queues == 4 &&
	      !strcmp(cfg.disks[0].path, "a"));
	CHECK_EQ(parse("--kernel bz --disk a"), CLI_RUN);
	CHECK_EQ(cfg.disks[0].queues, 0);	/* one per vCPU */
	CHECK_EQ(parse("--kernel bz --disk ,ro"), CLI_ERROR);
	/* Images are locked unless lock=off. */
	CHECK(!cfg.disks[0].no_lock);
	CHECK_EQ(parse("--kernel bz --disk a,lock=off,ro"), CLI_RUN);
	CHECK(cfg.disks[0].no_lock && cfg.disks[0].read_only &&
	      !strcmp(cfg.disks[0].path, "a"));
	CHECK_EQ(parse("--kernel bz --disk a,lock=on"), CLI_RUN);
	CHECK(!cfg.disks[0].no_lock);
	CHECK_EQ(parse("--kernel bz --disk a,lock=no"), CLI_ERROR);
	CHECK(err_has("lock=on|off"));
	CHECK_EQ(parse("--kernel bz --disk a,lock"), CLI_ERROR);
	/* engine=: default 0 (io_uring where the host has it). */
	CHECK_EQ(parse("--kernel bz --disk a"), CLI_RUN);
	CHECK_EQ(cfg.disks[0].engine, 0);
	CHECK_EQ(parse("--kernel bz --disk a,engine=sync,ro"), CLI_RUN);
	CHECK(cfg.disks[0].engine == 1 && cfg.disks[0].read_only);
	CHECK_EQ(parse("--kernel bz --disk a,engine=io_uring"), CLI_RUN);
	CHECK_EQ(cfg.disks[0].engine, 2);
	CHECK_EQ(parse("--kernel bz --disk a,engine=aio"), CLI_ERROR);
	CHECK(err_has("want engine=io_uring or engine=sync"));
	CHECK_EQ(parse("--kernel bz --net mac=52:54:00:12:34:56"), CLI_ERROR);
	CHECK(err_has("missing tap"));
	CHECK_EQ(parse("--kernel bz --net tap=t,mac=01:00:00:00:00:00"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,mac=52:54:00:12:34"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,mac=5g:54:00:12:34:56"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=averyveryverylongtapname"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,speed=10"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,queues=0"), CLI_ERROR);
	CHECK(err_has("want queues=1..7"));
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=1001"), CLI_ERROR);
	CHECK(err_has("want poll=auto or poll=0..1000 (microseconds)"));
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=autox"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=auto,vhost=on"), CLI_ERROR);
	CHECK(err_has("not with vhost=on"));
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=auto"), CLI_RUN);
	CHECK(cfg.nets[0].poll_adaptive && cfg.nets[0].poll_us == 1000);
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=auto,poll=20"), CLI_RUN);
	CHECK(!cfg.nets[0].poll_adaptive && cfg.nets[0].poll_us == 20);
	CHECK_EQ(parse("--kernel bz --net tap=t,poll="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=200,vhost=on"), CLI_ERROR);
	CHECK(err_has("not with vhost=on"));
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=200,queues=2"), CLI_RUN);
	CHECK(cfg.nets[0].poll_us == 200 && cfg.nets[0].queues == 2);
	CHECK_EQ(parse("--kernel bz --net tap=t,poll=0"), CLI_RUN);
	CHECK(!cfg.nets[0].poll_adaptive && cfg.nets[0].poll_us == 0);
	/* The default: poll=auto, bounded at 1000 us; off with vhost=on. */
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=on"), CLI_RUN);
	CHECK(!cfg.nets[0].poll_adaptive && cfg.nets[0].poll_us == 0);
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=on,poll=0"), CLI_RUN);
	CHECK_EQ(parse("--kernel bz --net tap=t"), CLI_RUN);
	CHECK(cfg.nets[0].poll_adaptive && cfg.nets[0].poll_us == 1000);
	/* The default: tx-irq-delay=auto, 5000 us. */
	CHECK_EQ(cfg.nets[0].tx_irq_delay_us, 5000);
	CHECK(cfg.nets[0].tx_irq_delay_auto);
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=0"), CLI_RUN);
	CHECK_EQ(cfg.nets[0].tx_irq_delay_us, 0);
	CHECK(!cfg.nets[0].tx_irq_delay_auto);
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=0,tx-irq-delay=auto"), CLI_RUN);
	CHECK(cfg.nets[0].tx_irq_delay_auto && cfg.nets[0].tx_irq_delay_us == 5000);
	/* vhost=on decides its own interrupts: the default is off there. */
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=on"), CLI_RUN);
	CHECK(!cfg.nets[0].tx_irq_delay_auto && cfg.nets[0].tx_irq_delay_us == 0);
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=on,tx-irq-delay=0"), CLI_RUN);
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=on,tx-irq-delay=auto"), CLI_ERROR);
	CHECK(err_has("not with vhost=on"));
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=10001"), CLI_ERROR);
	CHECK(err_has("'tx-irq-delay=10001': want tx-irq-delay=auto or tx-irq-delay=0..10000 (microseconds)"));
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=10000"), CLI_RUN);
	CHECK_EQ(cfg.nets[0].tx_irq_delay_us, 10000);
	CHECK(!cfg.nets[0].tx_irq_delay_auto);
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay="), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=5us"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=100,vhost=on"), CLI_ERROR);
	CHECK(err_has("tx-irq-delay= is for packets mmvm moves itself, not with vhost=on"));
	CHECK_EQ(parse("--kernel bz --net tap=t,tx-irq-delay=300,poll=100"), CLI_RUN);
	CHECK(cfg.nets[0].tx_irq_delay_us == 300 && cfg.nets[0].poll_us == 100);
	CHECK_EQ(parse("--kernel bz --net tap=t,queues=8"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,queues=2x"), CLI_ERROR);
	CHECK_EQ(parse("--kernel bz --net tap=t,queues=2"), CLI_RUN);
	CHECK(cfg.nets[0].queues == 2 && !strcmp(cfg.nets[0].tap, "t"));
	CHECK_EQ(parse("--kernel bz --net tap=t"), CLI_RUN);
	CHECK_EQ(cfg.nets[0].queues, 0);	/* one pair */
	CHECK(!cfg.nets[0].vhost);
	CHECK_EQ(parse("--kernel bz --net tap=t,queues=2,vhost=on"), CLI_RUN);
	CHECK(cfg.nets[0].vhost && cfg.nets[0].queues == 2);
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=off"), CLI_RUN);
	CHECK(!cfg.nets[0].vhost);
	CHECK_EQ(parse("--kernel bz --net tap=t,vhost=yes"), CLI_ERROR);
	CHECK(err_has("vhost=on"));
	CHECK_EQ(parse("--kernel bz --disk 1 --disk 2 --disk 3 --disk 4 --disk 5 "
		       "--disk 6 --disk 7 --disk 8 --disk 9"), CLI_ERROR);
	CHECK(err_has("too many disks"));
	CHECK_EQ(parse("--kernel bz --net tap=a --net tap=b --net tap=c "
		       "--net tap=d --net tap=e"), CLI_ERROR);
	CHECK(err_has("too many network"));
	/* every message is one line */
	CHECK(strchr(errbuf, '\n') == NULL);
}

/* --cpus N[,pin]: the flag is the only suffix; one named line for each
 * bad spelling. */
static void test_cpus_pin(void)
{
	CHECK_EQ(parse("--kernel bz --cpus 2"), CLI_RUN);
	CHECK(cfg.cpus == 2 && !cfg.pin_cpus);
	CHECK_EQ(parse("--kernel bz"), CLI_RUN);
	CHECK(cfg.cpus == 1 && !cfg.pin_cpus);
	CHECK_EQ(parse("--kernel bz --cpus 2,pin"), CLI_RUN);
	CHECK(cfg.cpus == 2 && cfg.pin_cpus);
	CHECK_EQ(parse("--kernel bz --cpus=1,pin"), CLI_RUN);
	CHECK(cfg.cpus == 1 && cfg.pin_cpus);
	CHECK_EQ(parse("--kernel bz --cpus 64,pin"), CLI_RUN);
	CHECK(cfg.cpus == 64 && cfg.pin_cpus);
	/* The last --cpus wins, flag and all. */
	CHECK_EQ(parse("--kernel bz --cpus 2,pin --cpus 3"), CLI_RUN);
	CHECK(cfg.cpus == 3 && !cfg.pin_cpus);
	CHECK_EQ(parse("--check-kvm --cpus 4,pin"), CLI_CHECK_KVM);
	CHECK(cfg.pin_cpus);

	static const char *const bad[] = {
		"2,pinn", "0,pin", "65,pin", "2,", ",pin", "pin", "2,pin,pin",
		"2,PIN", "2,pin=1", "-1,pin", "2x,pin", "2,,pin",
		"99999999999999999999,pin", "2;pin", "2,ping",
	};
	char line[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "--kernel bz --cpus=%s", bad[i]);
		CHECK_EQ(parse(line), CLI_ERROR);
		CHECK(err_has("--cpus '"));
		CHECK(err_has(bad[i]));
		CHECK(err_has("want N or N,pin with N 1..64"));
		CHECK(strchr(errbuf, '\n') == NULL);
	}
	/* "--cpus 2 ,pin": ",pin" is a stray argument. */
	CHECK_EQ(parse("--kernel bz --cpus 2 ,pin"), CLI_ERROR);
	CHECK(err_has("unexpected argument ',pin'"));
	CHECK_EQ(parse("--kernel bz --cpus 2,pinn"), CLI_ERROR);
	CHECK(!strcmp(errbuf, "--cpus '2,pinn': want N or N,pin with N 1..64"));
	CHECK_EQ(parse("--kernel bz --cpus 0,pin"), CLI_ERROR);
	CHECK(!strcmp(errbuf, "--cpus '0,pin': want N or N,pin with N 1..64"));
	CHECK_EQ(parse("--kernel bz --cpus"), CLI_ERROR);
	CHECK(err_has("needs a value"));
}

static void test_host_memory(void)
{
	CHECK_EQ(parse("--kernel bz --mem 4G"), CLI_RUN);
	CHECK_EQ(cli_check_host_memory(&cfg, 2ULL << 30, errbuf,
				       sizeof(errbuf)), -1);
	CHECK(err_has("more than the host has"));
	CHECK_EQ(cli_check_host_memory(&cfg, 8ULL << 30, errbuf,
				       sizeof(errbuf)), 0);
	CHECK(cli_host_memory() > 0);
}

static void test_virtio_oasis_v3(void)
{
	CHECK_EQ(parse("--kernel bz --virtio-version 3-oasis"), CLI_RUN);
	CHECK(cfg.virtio_oasis_v3 && cfg.virtio_version == 2);
	CHECK(cli_virtio_guest_params(&cfg) == NULL);
	/* The 2019 layout asks the guest kernel for it, nothing else does */
	CHECK_EQ(parse("--kernel bz --virtio-version 3"), CLI_RUN);
	CHECK(!cfg.virtio_oasis_v3 && cfg.virtio_version == 3);
	CHECK(!strcmp(cli_virtio_guest_params(&cfg),
		      "virtio_mmio.layout_2019=1"));
	CHECK_EQ(parse("--kernel bz --virtio-version 2"), CLI_RUN);
	CHECK(cli_virtio_guest_params(&cfg) == NULL);
	CHECK_EQ(parse("--kernel bz --virtio-version 3-oasisx"), CLI_ERROR);
}

static void test_cmdline_append(void)
{
	static struct vm vm;

	vm.cmdline[0] = '\0';
	CHECK(vm_cmdline_append(&vm, "a=1"));
	CHECK(!strcmp(vm.cmdline, "a=1"));
	CHECK(vm_cmdline_append(&vm, "reboot=k"));
	CHECK(!strcmp(vm.cmdline, "a=1 reboot=k"));
	snprintf(vm.cmdline, sizeof(vm.cmdline), "console=ttyS0 -- -f x");
	CHECK(vm_cmdline_append(&vm, "reboot=k"));
	CHECK(!strcmp(vm.cmdline, "console=ttyS0 reboot=k -- -f x"));
	CHECK(vm_cmdline_append(&vm, "virtio_mmio.device=8K@0xd0000000:5"));
	CHECK(!strcmp(vm.cmdline, "console=ttyS0 reboot=k "
		      "virtio_mmio.device=8K@0xd0000000:5 -- -f x"));
	/* "--" only as a whole word; a bare trailing one counts */
	snprintf(vm.cmdline, sizeof(vm.cmdline), "a--b c=-- --");
	CHECK(vm_cmdline_append(&vm, "z"));
	CHECK(!strcmp(vm.cmdline, "a--b c=-- z --"));
	snprintf(vm.cmdline, sizeof(vm.cmdline), "-- init");
	CHECK(vm_cmdline_append(&vm, "z"));
	CHECK(!strcmp(vm.cmdline, "z -- init"));
	/* full: " y" plus the NUL must fit in the 4096 bytes */
	memset(vm.cmdline, 'x', sizeof(vm.cmdline) - 2);
	vm.cmdline[sizeof(vm.cmdline) - 2] = '\0';
	CHECK(!vm_cmdline_append(&vm, "y"));
	CHECK_EQ(strlen(vm.cmdline), sizeof(vm.cmdline) - 2);
	vm.cmdline[sizeof(vm.cmdline) - 3] = '\0';
	CHECK(vm_cmdline_append(&vm, "y"));
	CHECK_EQ(strlen(vm.cmdline), sizeof(vm.cmdline) - 1);
}

int main(void)
{
	RUN(test_virtio_oasis_v3);
	RUN(test_cmdline_append);
	RUN(test_defaults);
	RUN(test_all_options);
	RUN(test_sizes);
	RUN(test_errors);
	RUN(test_cpus_pin);
	RUN(test_host_memory);
	return unit_finish("cli");
}
