/* The VM description from a Firecracker config file (vm_config_json.c)
 * and its shared checks (vm_desc.c); the metrics line (vm_outputs.c). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/vm_config_json.h"
#include "api/vm_config_out.h"
#include "api/vm_outputs.h"
#include "devices/blk_engine.h"
#include "unit.h"
#include "vmm/cli.h"
#include "vmm/vm_desc.h"

static struct mmvm_config cfg;
static char err[512];

static int apply(const char *json)
{
	vm_desc_release(&cfg);
	vm_desc_init(&cfg);
	err[0] = '\0';
	return vmj_apply_config(&cfg, json, strlen(json), err, sizeof(err));
}

static void test_full_file(void)
{
	char root[64];

	CHECK_EQ(apply(
		"{\"boot-source\": {\"kernel_image_path\": \"/vmlinux\","
		" \"boot_args\": \"console=ttyS0 reboot=k\", \"initrd_path\": null},"
		" \"drives\": [{\"drive_id\": \"data\", \"path_on_host\": \"/d\","
		"   \"is_root_device\": false, \"cache_type\": \"Writeback\","
		"   \"io_engine\": \"Async\"},"
		"  {\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\","
		"   \"is_root_device\": true, \"is_read_only\": true,"
		"   \"partuuid\": null, \"io_engine\": \"Sync\", \"rate_limiter\": null}],"
		" \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 1024,"
		"   \"smt\": false, \"track_dirty_pages\": false,"
		"   \"mmvm\": {\"virtio_version\": 3, \"msi\": false, \"doorbells\": false, \"acpi\": false}},"
		" \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
		"   \"guest_mac\": \"AA:FC:00:00:00:01\","
		"   \"mmvm\": {\"vhost\": true}}],"
		" \"logger\": {\"log_path\": \"/l\", \"level\": \"debug\", \"show_level\": true},"
		" \"metrics\": {\"metrics_path\": \"/m\"},"
		" \"entropy\": {\"rate_limiter\": null},"
		" \"vsock\": null, \"balloon\": null}"), 0);
	CHECK(!strcmp(cfg.kernel, "/vmlinux"));
	CHECK(cfg.initrd == NULL);
	CHECK(!strcmp(cfg.cmdline, "console=ttyS0 reboot=k"));
	CHECK_EQ(cfg.cpus, 2);
	CHECK_EQ(cfg.mem_bytes, 1024ULL << 20);
	CHECK_EQ(cfg.virtio_version, 3);
	CHECK(!cfg.virtio_msi && !cfg.virtio_doorbells && !cfg.acpi);
	CHECK_EQ(cfg.nr_disks, 2);
	CHECK_EQ(cfg.nr_nets, 1);
	CHECK(cfg.nets[0].vhost && cfg.nets[0].poll_us == 0 &&
	      cfg.nets[0].tx_irq_delay_us == 0);
	CHECK_EQ(cfg.nets[0].mac[0], 0xaa);
	CHECK_EQ(cfg.log_level, VM_LOG_DEBUG);
	CHECK(cfg.log_show_level && !strcmp(cfg.log_path, "/l"));
	CHECK(!strcmp(cfg.metrics_path, "/m"));
	CHECK(cfg.virtio_rng);
	CHECK(vm_desc_check(&cfg, "k", err, sizeof(err)) == 0);
	/* The root device becomes vda, read-only. */
	vm_desc_finish(&cfg);
	CHECK(!strcmp(cfg.disks[0].id, "rootfs") && !strcmp(cfg.disks[1].id, "data"));
	/* Firecracker's io_engine names mmvm's engines. */
	CHECK_EQ(cfg.disks[0].engine, BLK_ENGINE_SYNC);
	CHECK_EQ(cfg.disks[1].engine, BLK_ENGINE_IO_URING);
	CHECK(!strcmp(vm_desc_root_args(&cfg, root, sizeof(root)),
		      "root=/dev/vda ro"));
}

static void test_errors_name_the_field(void)
{
	static const struct { const char *json, *want; } cases[] = {
		{ "[]", "want a JSON object at the top" },
		{ "{\"frob\": {}}", "frob: unknown section" },
		{ "{\"drives\": {}}", "drives: want an array" },
		{ "{\"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false},"
		  " {\"drive_id\": \"b\", \"path_on_host\": \"/b\", \"is_root_device\": false, \"size\": 3}]}",
		  "drives[1].size: unknown field" },
		{ "{\"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": 5}]}",
		  "network-interfaces[0].host_dev_name: want a string" },
		{ "{\"machine-config\": {\"mem_size_mib\": 100000000000000}}",
		  "machine-config.mem_size_mib" },
		{ "{\"machine-config\": {\"vcpu_count\": 65}}", "machine-config.vcpu_count: 65: want 1..64" },
		{ "{\"balloon\": {\"amount_mib\": 1}}", "balloon: the balloon device is not supported" },
		{ "{\"mmds-config\": {}}", "MMDS is not supported" },
		{ "{\"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false,"
		  " \"io_engine\": \"Fast\"}]}", "drives[0].io_engine: want \"Sync\" or \"Async\"" },
		{ "{\"logger\": {\"log_path\": \"/l\", \"module\": \"x\"}}", "per-module filters" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}} {}", "trailing data" },
		{ "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "malformed JSON" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(apply(cases[i].json), -1);
		if (!strstr(err, cases[i].want))
			fprintf(stderr, "case %zu: want '%s', got '%s'\n", i,
				cases[i].want, err);
		CHECK(strstr(err, cases[i].want) != NULL);
		CHECK(strchr(err, '\n') == NULL);
	}
	/* Nine disks: the same limit and message as --disk. */
	{
		char json[4096];
		size_t n = (size_t)snprintf(json, sizeof(json), "{\"drives\": [");

		for (int i = 0; i < 9; i++)
			n += (size_t)snprintf(json + n, sizeof(json) - n,
				"%s{\"drive_id\": \"d%d\", \"path_on_host\": \"/%d\", \"is_root_device\": false}",
				i ? "," : "", i, i);
		snprintf(json + n, sizeof(json) - n, "]}");
		CHECK_EQ(apply(json), -1);
		CHECK(strstr(err, "drives[8]: too many disks (max 8)") != NULL);
	}
	vm_desc_release(&cfg);
}

static void test_missing_kernel(void)
{
	CHECK_EQ(apply("{\"machine-config\": {\"vcpu_count\": 1}}"), 0);
	CHECK_EQ(vm_desc_check(&cfg, "boot-source.kernel_image_path", err,
			       sizeof(err)), -1);
	CHECK(!strcmp(err, "missing boot-source.kernel_image_path"));
	vm_desc_release(&cfg);
}

/* The CLI and the file share the checks and their wording. */
static void test_shared_checks(void)
{
	vm_desc_init(&cfg);
	CHECK_EQ(vm_desc_set_mem(&cfg, 16ULL << 20, "--mem", err, sizeof(err)), -1);
	CHECK(!strcmp(err, "--mem: 16384 KiB too small (minimum 32 MiB)"));
	CHECK_EQ(vm_desc_set_mem(&cfg, 16ULL << 20, "machine-config.mem_size_mib",
				 err, sizeof(err)), -1);
	CHECK(!strcmp(err, "machine-config.mem_size_mib: 16384 KiB too small (minimum 32 MiB)"));
	CHECK_EQ(vm_desc_check_id("ok_id-1.2", "--id", err, sizeof(err)), 0);
	CHECK_EQ(vm_desc_check_id("", "--id", err, sizeof(err)), -1);
	CHECK_EQ(vm_desc_check_id("a/b", "--id", err, sizeof(err)), -1);
	CHECK(strstr(err, "--id: 'a/b'") != NULL);
	CHECK_EQ(vm_desc_log_level("warn"), VM_LOG_WARN);
	CHECK_EQ(vm_desc_log_level("OFF"), VM_LOG_OFF);
	CHECK_EQ(vm_desc_log_level("verbose"), -1);
}

static void test_cli_merge(void)
{
	char a0[] = "mmvm", a1[] = "--config-file", a2[] = "/f",
	     a3[] = "--disk", a4[] = "/x.img,ro", a5[] = "--id", a6[] = "vm-7";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6 };
	const char *file = "{\"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"/r\", \"is_root_device\": true}]}";

	/* --config-file alone is enough to parse; the kernel comes later. */
	CHECK_EQ(cli_parse(7, argv, &cfg, err, sizeof(err)), CLI_RUN);
	CHECK(!strcmp(cfg.config_file, "/f") && !strcmp(cfg.id, "vm-7"));
	CHECK(!strcmp(cfg.disks[0].id, "blk0"));
	CHECK_EQ(vmj_apply_config(&cfg, file, strlen(file), err, sizeof(err)), 0);
	CHECK_EQ(cfg.nr_disks, 2);
	vm_desc_finish(&cfg);
	CHECK(!strcmp(cfg.disks[0].id, "r") && !strcmp(cfg.disks[1].id, "blk0"));
	vm_desc_release(&cfg);
}

/* GET /vm/config's JSON, fed back as a config file, gives the same
 * description. */
static void test_round_trip(void)
{
	static struct mmvm_config again;
	struct json_object *o;
	const char *text;

	CHECK_EQ(apply(
		"{\"boot-source\": {\"kernel_image_path\": \"/k\", \"initrd_path\": \"/i\"},"
		" \"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"/r\", \"is_root_device\": true,"
		"   \"partuuid\": \"abcd-01\", \"mmvm\": {\"poll\": 20, \"queues\": 3, \"lock\": false}}],"
		" \"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": \"tap9\","
		"   \"guest_mac\": \"02:00:00:00:00:09\", \"mmvm\": {\"tx_irq_delay\": 300}},"
		"  {\"iface_id\": \"v\", \"host_dev_name\": \"tap8\", \"mmvm\": {\"vhost\": true}}],"
		" \"machine-config\": {\"vcpu_count\": 4, \"mem_size_mib\": 640,"
		"   \"mmvm\": {\"virtio_version\": \"3-oasis\", \"pin_vcpus\": true}},"
		" \"logger\": {\"log_path\": \"/l\", \"level\": \"Trace\"},"
		" \"metrics\": {\"metrics_path\": \"/m\"}, \"entropy\": {}}"), 0);
	o = vmj_full_config(&cfg);
	text = json_object_to_json_string(o);
	vm_desc_init(&again);
	CHECK_EQ(vmj_apply_config(&again, text, strlen(text), err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "round trip: %s\n%s\n", err, text);
	CHECK(!strcmp(again.kernel, "/k") && !strcmp(again.initrd, "/i"));
	CHECK(!strcmp(again.cmdline, cfg.cmdline));
	CHECK_EQ(again.cpus, 4);
	CHECK_EQ(again.mem_bytes, 640ULL << 20);
	CHECK(again.virtio_oasis_v3 && again.pin_cpus);
	CHECK_EQ(again.nr_disks, 1);
	CHECK(!strcmp(again.disks[0].path, "/r"));
	CHECK_EQ(again.disks[0].queues, 3);
	CHECK(again.disks[0].poll_us == 20 && !again.disks[0].poll_adaptive);
	CHECK(again.disks[0].no_lock && !again.disks[0].read_only);
	CHECK(again.disks[0].root && !strcmp(again.disks[0].partuuid, "abcd-01"));
	CHECK_EQ(again.nr_nets, 2);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK(!strcmp(again.nets[i].tap, cfg.nets[i].tap));
		CHECK(!memcmp(again.nets[i].mac, cfg.nets[i].mac, 6));
		CHECK_EQ(again.nets[i].vhost, cfg.nets[i].vhost);
		CHECK_EQ(again.nets[i].poll_us, cfg.nets[i].poll_us);
		CHECK_EQ(again.nets[i].tx_irq_delay_us, cfg.nets[i].tx_irq_delay_us);
		CHECK_EQ(again.nets[i].tx_irq_delay_auto, cfg.nets[i].tx_irq_delay_auto);
	}
	CHECK_EQ(again.log_level, VM_LOG_TRACE);
	CHECK(again.virtio_rng && !strcmp(again.metrics_path, "/m"));
	json_object_put(o);
	vm_desc_release(&again);
	vm_desc_release(&cfg);
}

static void test_metrics_json(void)
{
	const char *stats = "blk0.blk_reads 12\nblk0.blk_writes 3\n"
			    "net0.rx_frames 7\nnot a counter\nx.y z\n";
	char *j = vm_outputs_metrics_json(stats, strlen(stats), "Running",
					  1500, 0);

	CHECK(j != NULL);
	if (!j)
		return;
	CHECK(strstr(j, "\"blk0\":{\"blk_reads\":12,\"blk_writes\":3}") != NULL);
	CHECK(strstr(j, "\"net0\":{\"rx_frames\":7}") != NULL);
	CHECK(strstr(j, "\"state\":\"Running\"") != NULL);
	CHECK(strstr(j, "\"uptime_ms\":1500") != NULL);
	CHECK(strstr(j, "\"x\"") == NULL);
	CHECK(strchr(j, '\n') == NULL);
	free(j);
}

int main(void)
{
	RUN(test_full_file);
	RUN(test_errors_name_the_field);
	RUN(test_missing_kernel);
	RUN(test_shared_checks);
	RUN(test_cli_merge);
	RUN(test_round_trip);
	RUN(test_metrics_json);
	vm_desc_release(&cfg);
	return unit_finish("vm_config");
}
