/* The console watcher: it times the boot and must decide nothing else. */
#include <string.h>

#include "unit.h"
#include "vmm/guest_watch.h"

static unsigned int feed(struct guest_watch *w, const char *s)
{
	return guest_watch_feed(w, (const uint8_t *)s, strlen(s));
}

static void test_events(void)
{
	struct guest_watch w = { 0 };

	CHECK_EQ(feed(&w, "[    0.1] booting\r\n"), 0);
	CHECK_EQ(feed(&w, "MMVM-GU"), 0);	/* split across writes */
	CHECK_EQ(feed(&w, "EST up\r\n"), GUEST_SEEN_INIT);
	CHECK_EQ(feed(&w, "MMVM-GUEST again\n"), 0);	/* once only */
	/* Lines any guest process can print are no events: power-off and
	 * panic come from the platform devices. */
	memset(&w, 0, sizeof(w));
	CHECK_EQ(feed(&w, "[ 1.0] reboot: Power down\r\n"), 0);
	CHECK_EQ(feed(&w, "[ 1.0] reboot: System halted\n"), 0);
	CHECK_EQ(feed(&w, "[ 2.0] Kernel panic - not syncing: VFS\n"), 0);
	CHECK_EQ(feed(&w, "---[ end Kernel panic - not syncing: VFS ]---\n"), 0);
}

static void test_hostile(void)
{
	struct guest_watch w = { 0 };
	static char big[10000];

	/* a long line is truncated, never overflows */
	memset(big, 'x', sizeof(big) - 1);
	CHECK_EQ(feed(&w, big), 0);
	CHECK_EQ(feed(&w, "\n"), 0);
	/* NUL bytes do not hide the text */
	CHECK_EQ(guest_watch_feed(&w, (const uint8_t *)"\0MMVM-GUEST\n", 12),
		 GUEST_SEEN_INIT);
	CHECK_EQ(w.len, 0);
}

int main(void)
{
	RUN(test_events);
	RUN(test_hostile);
	return unit_finish("boot_watch");
}
