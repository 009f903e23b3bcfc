/* Reader for the KVM binary stats format (Documentation/virt/kvm/api.rst,
 * 4.133): a header, descriptors each followed by a name, then u64 data. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm_stats.h"
#include "vmm/pio.h"
#include "vmm/vcpu.h"

#define MAX_STATS	256

struct stat_sum {
	char name[48];	/* KVM names are at most 48 bytes */
	uint64_t value;
	bool is_peak;		/* max over vCPUs rather than a sum */
};

struct stat_table {
	unsigned int nr;
	struct stat_sum s[MAX_STATS];
};

static void table_add(struct stat_table *t, const char *name, uint64_t v,
		      bool peak)
{
	for (unsigned int i = 0; i < t->nr; i++) {
		if (!strcmp(t->s[i].name, name)) {
			if (peak)
				t->s[i].value = v > t->s[i].value ? v :
					       t->s[i].value;
			else
				t->s[i].value += v;
			return;
		}
	}
	if (t->nr >= MAX_STATS)
		return;
	snprintf(t->s[t->nr].name, sizeof(t->s[0].name), "%s", name);
	t->s[t->nr].value = v;
	t->s[t->nr].is_peak = peak;
	t->nr++;
}

static bool pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n >= 0 && (size_t)n == len;
}

/* Reads every stat of one object (VM or vCPU) into t. */
static int read_stats(int obj_fd, struct stat_table *t)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d = NULL;
	size_t dsize;
	int fd = ioctl(obj_fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0)
		return -errno;
	if (!pread_all(fd, &h, sizeof(h), 0) || h.name_size == 0 ||
	    h.name_size > 4096)
		goto out;
	dsize = sizeof(*d) + h.name_size;
	d = calloc(1, dsize + 1);
	if (!d)
		goto out;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		uint32_t type;
		uint64_t v = 0;

		if (!pread_all(fd, d, dsize, (off_t)(h.desc_offset + i * dsize)))
			break;
		((char *)d)[dsize] = '\0';
		type = d->flags & KVM_STATS_TYPE_MASK;
		/* Histograms have size > 1; report their bucket total. */
		for (uint16_t k = 0; k < d->size && k < 64; k++) {
			uint64_t x;

			if (!pread_all(fd, &x, sizeof(x), (off_t)(h.data_offset +
				       d->offset + k * sizeof(x))))
				break;
			v += x;
		}
		table_add(t, d->name, v, type == KVM_STATS_TYPE_PEAK);
	}
out:
	free(d);
	close(fd);
	return 0;
}

void kvm_stats_dump(struct vm *vm, FILE *f)
{
	struct stat_table *t = calloc(1, sizeof(*t));

	if (!t)
		return;
	if (read_stats(vm->vm_fd, t) == 0)
		for (unsigned int i = 0; i < t->nr; i++)
			fprintf(f, "vm.%s %llu\n", t->s[i].name,
				(unsigned long long)t->s[i].value);
	memset(t, 0, sizeof(*t));
	for (unsigned int c = 0; c < vm->nr_vcpus; c++)
		if (vm->vcpus[c])
			read_stats(vm->vcpus[c]->fd, t);
	for (unsigned int i = 0; i < t->nr; i++)
		fprintf(f, "vcpu.%s %llu\n", t->s[i].name,
			(unsigned long long)t->s[i].value);
	fprintf(f, "mmvm.vcpus %u\n", vm->nr_vcpus);
	fprintf(f, "mmvm.pio_unhandled %llu\n",
		(unsigned long long)vm->pio_unhandled);
	pio_print_stats(f);
	fprintf(f, "mmvm.mmio_unhandled %llu\n",
		(unsigned long long)vm->mmio.unhandled);
	free(t);
}
