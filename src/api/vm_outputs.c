/* Logger and metrics outputs (vm_outputs.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/vm_outputs.h"
#include "vmm/vm_desc.h"

void vm_outputs_init(struct vm_outputs *o)
{
	*o = (struct vm_outputs){ .log_fd = -1, .metrics_fd = -1,
				  .log_level = VM_LOG_WARN };
	pthread_mutex_init(&o->lock, NULL);
}

/* A regular file is created (0600) and appended to; a FIFO is opened
 * non-blocking, and needs a reader now. */
static int open_output(const char *path, const char *what, char *err,
		       size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
			    O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s%s", what, path,
			 strerror(errno),
			 errno == ENXIO ? " (a FIFO needs a reader)" : "");
		return -1;
	}
	return fd;
}

int vm_outputs_open_log(struct vm_outputs *o, const struct mmvm_config *cfg,
			char *err, size_t errlen)
{
	int fd;

	if (!cfg->log_path)
		return 0;
	fd = open_output(cfg->log_path, "logger.log_path", err, errlen);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&o->lock);
	if (o->log_fd >= 0)
		close(o->log_fd);
	o->log_fd = fd;
	o->log_level = cfg->log_level;
	o->show_level = cfg->log_show_level;
	o->show_origin = cfg->log_show_origin;
	snprintf(o->id, sizeof(o->id), "%s", cfg->id);
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int vm_outputs_open_metrics(struct vm_outputs *o,
			    const struct mmvm_config *cfg, char *err,
			    size_t errlen)
{
	int fd;

	if (!cfg->metrics_path)
		return 0;
	fd = open_output(cfg->metrics_path, "metrics.metrics_path", err,
			 errlen);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&o->lock);
	if (o->metrics_fd >= 0)
		close(o->metrics_fd);
	o->metrics_fd = fd;
	pthread_mutex_unlock(&o->lock);
	return 0;
}

/* One whole line or nothing (a full FIFO drops it). */
static bool write_line(int fd, const char *s, size_t len)
{
	ssize_t n = write(fd, s, len);

	return n == (ssize_t)len;
}

void vm_outputs_log(struct vm_outputs *o, int level, const char *origin,
		    const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	size_t n;
	int m;
	va_list ap;

	if (o->log_fd < 0 || level == VM_LOG_OFF || level > o->log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	m = snprintf(line, sizeof(line), "%lld.%09ld [%s]%s%s%s%s%s ",
		     (long long)ts.tv_sec, ts.tv_nsec, o->id,
		     o->show_level ? " [" : "",
		     o->show_level ? vm_desc_log_level_name(level) : "",
		     o->show_level ? "]" : "",
		     o->show_origin ? " " : "", o->show_origin ? origin : "");
	n = m > 0 && (size_t)m < sizeof(line) ? (size_t)m : 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&o->lock);
	if (o->log_fd >= 0)
		write_line(o->log_fd, line, n);
	pthread_mutex_unlock(&o->lock);
}

char *vm_outputs_metrics_json(const char *stats, size_t len,
			      const char *state, uint64_t uptime_ms,
			      uint64_t dropped)
{
	struct json_object *root = json_object_new_object();
	struct json_object *own = json_object_new_object();
	struct timespec ts;
	const char *p = stats, *end = stats + len;
	char *out;

	if (!root || !own) {
		json_object_put(root);
		json_object_put(own);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(root, "utc_timestamp_ms",
			       json_object_new_int64((int64_t)ts.tv_sec * 1000 +
						     ts.tv_nsec / 1000000));
	json_object_object_add(own, "state", json_object_new_string(state));
	json_object_object_add(own, "uptime_ms",
			       json_object_new_int64((int64_t)uptime_ms));
	json_object_object_add(own, "metrics_lines_dropped",
			       json_object_new_int64((int64_t)dropped));
	json_object_object_add(root, "mmvm", own);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *dot, *sp;
		char dev[64], key[128];
		struct json_object *d;
		unsigned long long v;
		char *e;

		if (!eol)
			eol = end;
		dot = memchr(p, '.', (size_t)(eol - p));
		sp = memchr(p, ' ', (size_t)(eol - p));
		if (dot && sp && dot < sp &&
		    (size_t)(dot - p) < sizeof(dev) &&
		    (size_t)(sp - dot - 1) < sizeof(key)) {
			memcpy(dev, p, (size_t)(dot - p));
			dev[dot - p] = '\0';
			memcpy(key, dot + 1, (size_t)(sp - dot - 1));
			key[sp - dot - 1] = '\0';
			errno = 0;
			v = strtoull(sp + 1, &e, 10);
			if (!errno && e == eol && e > sp + 1) {
				if (!json_object_object_get_ex(root, dev, &d)) {
					d = json_object_new_object();
					json_object_object_add(root, dev, d);
				}
				json_object_object_add(d, key,
						       json_object_new_uint64(v));
			}
		}
		p = eol + 1;
	}
	out = strdup(json_object_to_json_string_ext(root,
						    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

int vm_outputs_metrics(struct vm_outputs *o, const char *state,
		       uint64_t uptime_ms,
		       void (*dump)(void *opaque, FILE *f), void *opaque)
{
	char *stats = NULL, *line;
	size_t len = 0;
	FILE *f;
	int ret = 0;

	if (o->metrics_fd < 0)
		return -1;
	f = open_memstream(&stats, &len);
	if (!f)
		return -1;
	if (dump)
		dump(opaque, f);
	fclose(f);
	pthread_mutex_lock(&o->lock);
	line = vm_outputs_metrics_json(stats, len, state, uptime_ms,
				       o->metrics_dropped);
	if (line) {
		size_t n = strlen(line);

		line[n] = '\n';	/* (replaces the NUL: written by length) */
		if (write_line(o->metrics_fd, line, n + 1))
			o->metrics_lines++;
		else
			o->metrics_dropped++;
	} else {
		ret = -1;
	}
	pthread_mutex_unlock(&o->lock);
	free(line);
	free(stats);
	return ret;
}
