/* Least privilege after set-up: once everything mmvm will ever open is
 * open (/dev/kvm, the VM and vCPU fds, disk images, taps, the --stats
 * file), the process can give up the rest: an optional chroot into an
 * (empty) directory, an optional switch to an unprivileged user, and in
 * every case all capabilities (effective, permitted, inheritable,
 * ambient and the bounding set), before any vCPU or I/O thread starts, so
 * the threads that run guest-driven code never hold them. */
#ifndef MMVM_VMM_PRIVILEGES_H
#define MMVM_VMM_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mmvm_config;

/* "UID[:GID]" or "NAME[:GROUP]" (names from /etc/passwd and /etc/group,
 * read now, before any chroot). Without a group: the user's primary
 * group (a bare number: the same number). Returns 0, or -1 with a
 * message in err. */
int privileges_parse_user(const char *spec, uid_t *uid, gid_t *gid,
			  char *err, size_t errlen);

/* Checks that --chroot names a directory (before anything starts). */
int privileges_check(const struct mmvm_config *cfg, char *err,
		     size_t errlen);

/* chroot + chdir("/") if asked, setgroups/setresgid/setresuid if asked,
 * then drops every capability. Single-threaded callers only. Returns 0,
 * or -1 with "--chroot DIR: ..." / "--user ...: ..." / "capabilities:
 * ..." in err. */
int privileges_drop(const struct mmvm_config *cfg, char *err,
		    size_t errlen);

/* The calling thread's capabilities (bounding set and the rest) only:
 * for a thread that existed before privileges_drop() (the API thread),
 * which capabilities belong to, one thread each. 0 or -1 (errno). */
int privileges_drop_thread(void);

#endif
