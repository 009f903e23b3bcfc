/* Watches the guest's console output for the few lines that tell mmvm how
 * the guest is doing. Line-based: bytes are collected up to a newline and
 * only then compared, so the cost per byte is a copy. */
#ifndef MMVM_VMM_GUEST_WATCH_H
#define MMVM_VMM_GUEST_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_WATCH_LINE_MAX	256

#define GUEST_SEEN_INIT		0x1	/* "MMVM-GUEST": guest /init runs */
#define GUEST_SEEN_POWER_DOWN	0x2	/* "reboot: Power down",
					 * "reboot: System halted" or
					 * "reboot: Power off not available" */
#define GUEST_SEEN_PANIC	0x4	/* "Kernel panic - not syncing" */
#define GUEST_SEEN_PANIC_END	0x8	/* "---[ end Kernel panic" */

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
