/* Watches the guest's console output for the line that says the guest's
 * init runs, to time the boot. Nothing else: console text is the guest's
 * to write, so it must not decide how the run ends (platform.h does). Line-based: bytes are collected up to a newline and
 * only then compared, so the cost per byte is a copy. */
#ifndef MMVM_VMM_GUEST_WATCH_H
#define MMVM_VMM_GUEST_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_WATCH_LINE_MAX	256

#define GUEST_SEEN_INIT		0x1	/* "MMVM-GUEST": guest /init runs */

#define GUEST_INIT_MARKER	"MMVM-GUEST"

struct guest_watch {
	char line[GUEST_WATCH_LINE_MAX];
	size_t len;
	unsigned int seen;	/* all events seen so far */
};

/* Feeds output bytes; returns the events completed by these bytes (each
 * event is reported once). */
unsigned int guest_watch_feed(struct guest_watch *w, const uint8_t *buf,
			      size_t len);

#endif
