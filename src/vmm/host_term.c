#include <stdbool.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/host_term.h"

static struct termios saved;
static bool is_raw;

void host_term_restore(void)
{
	if (is_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		is_raw = false;
	}
}

void host_term_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	t = saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0) {
		is_raw = true;
		atexit(host_term_restore);
	}
}
