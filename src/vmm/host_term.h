/* The host terminal: raw mode while the guest owns the console. */
#ifndef MMVM_VMM_HOST_TERM_H
#define MMVM_VMM_HOST_TERM_H

/* Puts stdin in raw mode if it is a tty (keeping ISIG, so ^C stops mmvm);
 * no-op otherwise. Restored by host_term_restore() and at exit(). */
void host_term_raw(void);
void host_term_restore(void);

#endif
