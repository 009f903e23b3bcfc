/* Least privilege after set-up; see privileges.h. */
#include "vmm/privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/config.h"

/* Field 2 (uid or gid) and 3 (primary gid, passwd only) of the line of
 * FILE whose first field is name; -1 if there is none. The files are
 * parsed here because static glibc's getpwnam() needs NSS modules. */
static int lookup(const char *file, const char *name, long *id, long *gid)
{
	char line[1024];
	FILE *f = fopen(file, "re");
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *save = NULL, *user = strtok_r(line, ":", &save);
		char *pass = user ? strtok_r(NULL, ":", &save) : NULL;
		char *f2 = pass ? strtok_r(NULL, ":", &save) : NULL;
		char *f3 = f2 ? strtok_r(NULL, ":", &save) : NULL;

		if (!f2 || strcmp(user, name))
			continue;
		*id = strtol(f2, NULL, 10);
		if (gid)
			*gid = f3 ? strtol(f3, NULL, 10) : *id;
		found = 0;
	}
	fclose(f);
	return found;
}

/* A decimal id, or -1. */
static long number(const char *s)
{
	char *end;
	long v;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v > 0x7fffffffL ? -1 : v;
}

int privileges_parse_user(const char *spec, uid_t *uid, gid_t *gid,
			  char *err, size_t errlen)
{
	char user[256], *colon;
	long u, g = -1, pg = -1;

	if (strlen(spec) >= sizeof(user) || !*spec) {
		snprintf(err, errlen, "--user '%s': want UID[:GID] or NAME[:GROUP]",
			 spec);
		return -1;
	}
	strcpy(user, spec);
	colon = strchr(user, ':');
	if (colon)
		*colon++ = '\0';
	u = number(user);
	if (u < 0 && lookup("/etc/passwd", user, &u, &pg)) {
		snprintf(err, errlen, "--user '%s': no such user in /etc/passwd",
			 user);
		return -1;
	}
	if (u >= 0 && pg < 0)
		pg = u;
	if (colon) {
		g = number(colon);
		if (g < 0 && lookup("/etc/group", colon, &g, NULL)) {
			snprintf(err, errlen, "--user '%s': no such group in /etc/group",
				 spec);
			return -1;
		}
	} else {
		g = pg;
	}
	if (u == 0 || g == 0) {
		snprintf(err, errlen, "--user '%s': that is root; want an unprivileged user",
			 spec);
		return -1;
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int privileges_check(const struct mmvm_config *cfg, char *err,
		     size_t errlen)
{
	struct stat st;

	if (!cfg->chroot_dir)
		return 0;
	if (stat(cfg->chroot_dir, &st) < 0) {
		snprintf(err, errlen, "--chroot %s: %s", cfg->chroot_dir,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--chroot %s: not a directory",
			 cfg->chroot_dir);
		return -1;
	}
	return 0;
}

/* The bounding set, while CAP_SETPCAP is still there (the user switch
 * and the capset below take it away). EINVAL: past the last capability;
 * EPERM: not privileged to start with, nothing to drop. */
static int drop_bounding_set(void)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL && errno != EPERM)
			return -1;
	return 0;
}

/* What is left: ambient, effective, permitted, inheritable. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) < 0 ? -1 : 0;
}

int privileges_drop(const struct mmvm_config *cfg, char *err,
		    size_t errlen)
{
	if (drop_bounding_set() < 0) {
		snprintf(err, errlen, "capabilities: cannot drop the bounding set: %s",
			 strerror(errno));
		return -1;
	}
	if (cfg->chroot_dir &&
	    (chroot(cfg->chroot_dir) < 0 || chdir("/") < 0)) {
		snprintf(err, errlen, "--chroot %s: %s%s", cfg->chroot_dir,
			 strerror(errno), errno == EPERM ? " (needs root)" : "");
		return -1;
	}
	if (cfg->drop_user) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(cfg->gid, cfg->gid, cfg->gid) < 0 ||
		    setresuid(cfg->uid, cfg->uid, cfg->uid) < 0) {
			snprintf(err, errlen, "--user %u:%u: %s%s",
				 (unsigned int)cfg->uid,
				 (unsigned int)cfg->gid, strerror(errno),
				 errno == EPERM ? " (needs root)" : "");
			return -1;
		}
	}
	if (drop_capabilities() < 0) {
		snprintf(err, errlen, "capabilities: cannot drop them: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int privileges_drop_thread(void)
{
	return drop_bounding_set() < 0 || drop_capabilities() < 0 ? -1 : 0;
}
