#include <string.h>

#include "vmm/guest_watch.h"

static const struct {
	const char *text;
	unsigned int event;
} patterns[] = {
	{ GUEST_INIT_MARKER, GUEST_SEEN_INIT },
};

static unsigned int match_line(struct guest_watch *w)
{
	unsigned int events = 0;

	w->line[w->len] = '\0';
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (w->seen & patterns[i].event)
			continue;
		if (strstr(w->line, patterns[i].text))
			events |= patterns[i].event;
	}
	w->seen |= events;
	w->len = 0;
	return events;
}

unsigned int guest_watch_feed(struct guest_watch *w, const uint8_t *buf,
			      size_t len)
{
	unsigned int events = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];

		/* Events fire on '\n', after the whole line reached stdout, so
		 * that our stderr notes never land inside a console line. */
		if (c == '\n') {
			if (w->len)
				events |= match_line(w);
			continue;
		}
		/* NULs would hide the rest of the line from strstr. */
		if (c && c != '\r' && w->len < GUEST_WATCH_LINE_MAX - 1)
			w->line[w->len++] = (char)c;
	}
	return events;
}
