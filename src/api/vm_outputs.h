/* The logger and metrics outputs Firecracker's API configures (PUT
 * /logger, PUT /metrics, or the config file's "logger" and "metrics"):
 * files or FIFOs taking one line per entry. The logger gets API and
 * lifecycle events at or above its level; metrics get one JSON object per
 * line, written periodically, on FlushMetrics and at exit, holding the
 * per-device counters mmvm also prints for --stats. A FIFO is opened
 * non-blocking: it needs a reader when it is configured, and a line that
 * does not fit is dropped (counted in the next line) rather than
 * blocking mmvm. */
#ifndef MMVM_API_VM_OUTPUTS_H
#define MMVM_API_VM_OUTPUTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/config.h"

#define VM_METRICS_PERIOD_MS	60000	/* as Firecracker */

struct vm_outputs {
	pthread_mutex_t lock;
	int log_fd, metrics_fd;		/* -1: none */
	int log_level;			/* enum vm_log_level */
	bool show_level, show_origin;
	char id[MMVM_ID_MAX];
	uint64_t metrics_lines, metrics_dropped;
};

void vm_outputs_init(struct vm_outputs *o);
/* (Re)open cfg's log_path / metrics_path; 0, or -1 with err. */
int vm_outputs_open_log(struct vm_outputs *o, const struct mmvm_config *cfg,
			char *err, size_t errlen);
int vm_outputs_open_metrics(struct vm_outputs *o,
			    const struct mmvm_config *cfg, char *err,
			    size_t errlen);

void vm_outputs_log(struct vm_outputs *o, int level, const char *origin,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One metrics line: dump prints "<dev>.<key> <value>" lines (the --stats
 * format), which become {"<dev>": {"<key>": value}}; extra goes in as
 * "mmvm" fields. 0, or -1 if there is no metrics output. */
int vm_outputs_metrics(struct vm_outputs *o, const char *state,
		       uint64_t uptime_ms,
		       void (*dump)(void *opaque, FILE *f), void *opaque);

/* The JSON line for the --stats text (exposed for the unit tests); a
 * string the caller frees, NULL if out of memory. */
char *vm_outputs_metrics_json(const char *stats, size_t len,
			      const char *state, uint64_t uptime_ms,
			      uint64_t dropped);

#endif
