#!/usr/bin/env bash
# Build a Debian 12 (bookworm) root file system for mmvm: a raw ext4 image
# plus Debian's own kernel and initrd (initramfs-tools, made in the chroot).
#
#   guest/debian/build-rootfs.sh [--force]   build (or take from the cache)
#   guest/debian/build-rootfs.sh --cached    never build: print the result
#                                            if cached, else exit 3
#
# Last lines on stdout (also in <key>/debian.env, sourceable):
#   MMVM_DEBIAN_ROOTFS=<dir>/rootfs.ext4
#   MMVM_DEBIAN_KERNEL=<dir>/vmlinuz
#   MMVM_DEBIAN_INITRD=<dir>/initrd.img
# Progress goes to stderr. Boot it with
#   build/mmvm --kernel <vmlinuz> --initrd <initrd.img> --disk <copy of image>
#       --cmdline "console=ttyS0 root=/dev/vda rw" --virtio-version 2 --mem 1G
# (boot a copy: the guest writes to its root file system). Add
# mmvm.debian=poweroff to the command line to power off once booted.
#
# The system: debootstrap --variant=minbase plus systemd-sysv, udev, the
# kernel (linux-image-amd64, without the drivers for hardware an mmvm guest
# cannot have: see slim_excludes), initramfs-tools, kmod, iproute2, procps.
# The initrd (MODULES=list) has and loads virtio_mmio, virtio_blk, ext4 and
# crc32c (Debian builds them as modules; virtio_mmio finds mmvm's devices
# through ACPI, LNRO0005) and fsck.ext4. The system is tuned for a slow,
# emulated CPU (see "tuning" below: longer systemd timeouts, no automatic
# loading of CPU-feature modules, no VT gettys, fewer generators). /etc/fstab
# mounts /dev/vda on /, root has no password (log in as root on ttyS0 with
# an empty password). mmvm-debian-report.service, once multi-user.target is
# reached, prints on the console
#   MMVM-DEBIAN state=<systemctl is-system-running --wait> uptime=<s> ...
#   MMVM-DEBIAN failed: <unit> ...     (one line per failed unit, if any)
#   MMVM-DEBIAN Startup finished in ...  (systemd-analyze time)
#   MMVM-DEBIAN slowest: <time> <unit>   (systemd-analyze blame, top 8)
# and runs systemctl poweroff when the kernel command line has
# mmvm.debian=poweroff.
#
# Cache (${MMVM_CACHE:-/var/cache/mmvm}/debian):
#   <key>/    rootfs.ext4 (sparse), vmlinuz, initrd.img, debian.env,
#             rootfs.extents (where the image has data, for a fast copy),
#             packages.txt (dpkg -l), build.log. key = sha256 of this
#             script, the suite, the mirror, the package list, the image
#             size, the host's debootstrap and e2fsprogs versions and
#             /etc/mke2fs.conf. A hit returns at once.
#   debs/     downloaded .debs (debootstrap --cache-dir), kept between builds
#   tmp/      builds in progress; a build is renamed into <key>/ when done,
#             so a killed build never leaves a half-written <key>/.
# Builds run in a private mount namespace (unshare -m): the chroot's /proc
# and bind mounts vanish with the build, even a killed one.
#
# Environment: MMVM_CACHE, MMVM_DEBIAN_SUITE (bookworm), MMVM_DEBIAN_MIRROR
# (http://deb.debian.org/debian), MMVM_DEBIAN_SIZE (2G).
# Host packages: debootstrap (wget), debian-archive-keyring, e2fsprogs,
# util-linux, coreutils, python3.
set -euo pipefail
# One compound command, read whole before it runs: editing this file
# while it runs cannot change what the running copy does.
{

suite=${MMVM_DEBIAN_SUITE:-bookworm}
mirror=${MMVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
size=${MMVM_DEBIAN_SIZE:-2G}
guest_hostname=mmvm-debian
cache=${MMVM_CACHE:-/var/cache/mmvm}/debian
self=$(readlink -f "${BASH_SOURCE[0]}")

# Installed by debootstrap (minbase is the Priority: required set + apt).
packages=(systemd-sysv udev initramfs-tools kmod iproute2 procps zstd)
# Installed afterwards with apt in the chroot, once the initramfs and dpkg
# configuration below is in place (so the initrd is made once, right).
kernel_packages=(linux-image-amd64)
# Guest tuning (see "tuning for a slow CPU" below): CPU-feature modules
# udev may still load, more modules it may not, generators that are off.
keep_cpu_modules=(crc32c_intel)
blacklist_modules=(pcspkr)
masked_generators=(
	systemd-gpt-auto-generator systemd-hibernate-resume-generator
	systemd-cryptsetup-generator systemd-integritysetup-generator
	systemd-veritysetup-generator systemd-system-update-generator
)
# Initrd modules, loaded early in the initrd (conf/modules).
# ext4 needs crc32c for metadata checksums (a softdep initramfs-tools may
# not follow): crc32c_generic, so it never depends on the CPU.
initrd_modules=(virtio_mmio virtio_blk ext4 crc32c_generic)
# Kernel modules left out of the image (dpkg path-exclude): drivers for
# buses and hardware an mmvm guest has none of (no PCI, USB, GPU, sound,
# wireless...). Everything for virtio-mmio, block, file systems, network
# protocols, netfilter, crypto stays.
slim_excludes=(
	drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
	drivers/infiniband drivers/staging drivers/bluetooth drivers/iio
	drivers/usb drivers/ata drivers/mtd drivers/isdn
	drivers/input/touchscreen drivers/hwmon drivers/thunderbolt
	drivers/net/can drivers/net/usb drivers/comedi
	sound net/wireless net/mac80211 net/bluetooth
)

mode=build
case "${1:-}" in
--force) mode=force ;;
--cached) mode=cached ;;
"") ;;
*) echo "usage: $0 [--force|--cached]" >&2; exit 2 ;;
esac

log() { echo "build-rootfs: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- cache key --------------------------------------------------------------
tool_version() { dpkg-query -W -f='${Package} ${Version}\n' "$1" 2>/dev/null || echo "$1 none"; }
key=$( {
	sha256sum <"$self"
	echo "suite=$suite mirror=$mirror size=$size hostname=$guest_hostname"
	echo "packages=${packages[*]} kernel=${kernel_packages[*]}"
	echo "initrd_modules=${initrd_modules[*]} slim=${slim_excludes[*]}"
	echo "keep=${keep_cpu_modules[*]} blacklist=${blacklist_modules[*]} generators=${masked_generators[*]}"
	tool_version debootstrap
	tool_version e2fsprogs
	sha256sum </etc/mke2fs.conf 2>/dev/null || echo "no mke2fs.conf"
} | sha256sum | cut -c1-16)
out_dir=$cache/$key

result() {
	local f
	for f in rootfs.ext4 vmlinuz initrd.img debian.env; do
		[ -f "$out_dir/$f" ] || return 1
	done
	log "rootfs.ext4 $(du -h --apparent-size "$out_dir/rootfs.ext4" | cut -f1)" \
	    "($(du -h "$out_dir/rootfs.ext4" | cut -f1) used)," \
	    "kernel $(sed -n 's/^MMVM_DEBIAN_KVER=//p' "$out_dir/debian.env"), key $key"
	grep -E '^MMVM_DEBIAN_(ROOTFS|KERNEL|INITRD)=' "$out_dir/debian.env"
}

if [ "$mode" = cached ]; then
	result && exit 0
	log "no cached image for key $key (run $self on the host)"
	exit 3
fi
if [ "$mode" = build ] && [ -z "${MMVM_DEBIAN_IN_NS:-}" ] && result; then
	log "cache hit"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"

# --- into a private mount namespace -------------------------------------------
if [ -z "${MMVM_DEBIAN_IN_NS:-}" ]; then
	if ! command -v debootstrap >/dev/null 2>&1; then
		log "installing debootstrap"
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update -q && apt-get install -y -q --no-install-recommends \
			debootstrap debian-archive-keyring; } >&2 ||
			die "apt-get install debootstrap failed"
	fi
	for t in mkfs.ext4 e2fsck unshare flock chroot; do
		command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install e2fsprogs util-linux coreutils)"
	done
	[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] ||
		die "no Debian archive keyring (apt-get install debian-archive-keyring)"
	MMVM_DEBIAN_IN_NS=1 exec unshare --mount --propagation private -- \
		bash "$self" "$@"
fi

mkdir -p "$cache/tmp" "$cache/debs"
# One build at a time: a second one would only fight over the cores and
# the .deb cache, and often finds the first one's result.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	log "waiting for another rootfs build to finish"
	flock 9
fi
if [ "$mode" = build ] && result; then
	log "cache hit (built while waiting)"
	exit 0
fi
# Holding the lock, anything left in tmp/ is from a killed build.
rm -rf "${cache:?}"/tmp/*
trap 'exit 130' INT TERM

start=$(date +%s)
stage=$(mktemp -d "$cache/tmp/build.XXXXXX")
chmod 0755 "$stage"
root=$stage/root
buildlog=$stage/build.log
: >"$buildlog"

run_logged() {
	# Quiet on success; the tail of the log on failure.
	if ! "$@" >>"$buildlog" 2>&1; then
		tail -n 40 "$buildlog" >&2
		die "failed: $* (log: $buildlog)"
	fi
}
# The chroot gets a clean environment: none of the host's TMPDIR, locale...
chroot_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
in_root() { run_logged "${chroot_env[@]}" /usr/sbin/chroot "$root" "$@"; }

# --- debootstrap ----------------------------------------------------------------
log "debootstrap $suite (minbase + ${packages[*]}) from $mirror"
t0=$(date +%s)
mkdir -p "$root"
run_logged debootstrap --variant=minbase --components=main \
	--include="$(IFS=,; echo "${packages[*]}")" \
	--cache-dir="$cache/debs" "$suite" "$root" "$mirror"
log "debootstrap done in $(($(date +%s) - t0)) s"

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/var/cache/apt/archives"
mount --bind "$cache/debs" "$root/var/cache/apt/archives"
# No daemon may start in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# --- configuration that must precede the kernel -------------------------------
{
	echo "# mmvm: no drivers for hardware an mmvm guest cannot have"
	for d in "${slim_excludes[@]}"; do
		echo "path-exclude=/lib/modules/*/kernel/$d/*"
	done
} >"$root/etc/dpkg/dpkg.cfg.d/mmvm-slim"
{
	echo "# mmvm: the root disk is virtio-blk on virtio-mmio (ACPI LNRO0005)"
	printf '%s\n' "${initrd_modules[@]}"
} >>"$root/etc/initramfs-tools/modules"
cat >"$root/etc/initramfs-tools/conf.d/mmvm" <<'EOF'
# mmvm: only the modules listed in /etc/initramfs-tools/modules (and what
# they depend on): the root disk is always virtio-blk on virtio-mmio, and
# on an emulated CPU unpacking "most" (19 MB) took half a minute.
MODULES=list
# No swap, so no resume device to wait for.
RESUME=none
# The root file system's type, for the fsck hook (which would otherwise
# probe the device in /etc/fstab on the build host).
FSTYPE=ext4
EOF
cat >"$root/etc/fstab" <<'EOF'
# <file system> <mount point> <type> <options> <dump> <pass>
/dev/vda	/	ext4	defaults,errors=remount-ro	0	1
EOF

# --- kernel -----------------------------------------------------------------------
log "apt-get install ${kernel_packages[*]} (in the chroot)"
t0=$(date +%s)
in_root apt-get update -q
in_root apt-get install -y -q --no-install-recommends "${kernel_packages[@]}"
log "kernel installed in $(($(date +%s) - t0)) s"

kver=$(cd "$root/lib/modules" && ls | sort -V | tail -n 1)
[ -n "$kver" ] && [ -f "$root/boot/vmlinuz-$kver" ] && [ -f "$root/boot/initrd.img-$kver" ] ||
	die "no kernel or initrd in $root/boot"

# The initrd must bring up the root disk on its own.
"${chroot_env[@]}" /usr/sbin/chroot "$root" lsinitramfs "/boot/initrd.img-$kver" \
	>"$stage/initrd.list" 2>>"$buildlog" || die "lsinitramfs failed"
for m in "${initrd_modules[@]}"; do
	grep -Eq "(^|/)lib/modules/$kver/.*/$m\.ko(\.xz|\.zst)?$" "$stage/initrd.list" ||
		die "initrd has no $m.ko"
done
grep -Eq '(^|/)s?bin/fsck\.ext4$' "$stage/initrd.list" ||
	die "initrd has no fsck.ext4 (for the root file system in /etc/fstab)"
# conf/modules: what the initrd loads first.
in_root unmkinitramfs "/boot/initrd.img-$kver" /tmp/initrd.x
mods_conf=$(find "$root/tmp/initrd.x" -path '*/conf/modules' | head -n 1)
for m in "${initrd_modules[@]}"; do
	awk -v m="$m" '$1 == m { f = 1 } END { exit !f }' "$mods_conf" ||
		die "initrd conf/modules does not load $m"
done
rm -rf "$root/tmp/initrd.x"
log "initrd: $(wc -l <"$stage/initrd.list") files," \
    "loads ${initrd_modules[*]} first ($(du -h "$root/boot/initrd.img-$kver" | cut -f1))"

# --- the rest of the system ---------------------------------------------------------
echo "$guest_hostname" >"$root/etc/hostname"
cat >"$root/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$guest_hostname
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# Empty password: log in as root on the serial console with no password.
in_root passwd -d root
# debootstrap copied the host's resolv.conf.
: >"$root/etc/resolv.conf"

cat >"$root/usr/local/sbin/mmvm-debian-report" <<'EOF'
#!/bin/sh
# mmvm-debian-report.service: once the boot is over, say how it went on the
# console; power off when the kernel command line has mmvm.debian=poweroff.
state=$(timeout 900 systemctl is-system-running --wait 2>/dev/null)
[ -n "$state" ] || state=unknown
read -r up _ </proc/uptime
{
	# (a line of its own even after the serial getty's "login: " prompt)
	echo
	echo "MMVM-DEBIAN state=$state uptime=$up kernel=$(uname -r) host=$(cat /proc/sys/kernel/hostname)"
	systemctl --failed --no-legend --plain 2>/dev/null |
		sed 's/^/MMVM-DEBIAN failed: /'
	systemd-analyze time 2>/dev/null | head -n 1 | sed 's/^/MMVM-DEBIAN /'
	systemd-analyze blame --no-pager 2>/dev/null | head -n 8 |
		sed 's/^ */MMVM-DEBIAN slowest: /'
} >/dev/console 2>&1
case " $(cat /proc/cmdline) " in
*" mmvm.debian=poweroff "*)
	echo "MMVM-DEBIAN powering off" >/dev/console
	# No D-Bus in this image: skip the logind inhibitor check and the
	# wall message, go straight to PID 1 (its private socket).
	systemctl --no-wall --check-inhibitors=no poweroff ;;
esac
EOF
chmod 0755 "$root/usr/local/sbin/mmvm-debian-report"
cat >"$root/etc/systemd/system/mmvm-debian-report.service" <<'EOF'
[Unit]
Description=mmvm: report the boot state on the console
After=multi-user.target

[Service]
# simple, not oneshot: the start job must be over at once, or
# "systemctl is-system-running --wait" would wait for this very job.
Type=simple
ExecStart=/usr/local/sbin/mmvm-debian-report

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable mmvm-debian-report.service

# One machine-id for the image (systemd's postinst made it): with none,
# the first boot would be a "first boot" (systemd-firstboot).
[ -s "$root/etc/machine-id" ] || in_root systemd-machine-id-setup

# --- tuning for a slow (emulated) CPU -------------------------------------------
# Under nested KVM on QEMU TCG every exec costs seconds and systemd's
# default 90 s timeouts expire: without this, dev-ttyS0.device timed out
# (no serial getty), and the boot spent minutes loading, and self-testing,
# modules nothing in an mmvm guest uses.
mkdir -p "$root/etc/systemd/system.conf.d"
cat >"$root/etc/systemd/system.conf.d/mmvm.conf" <<'EOF'
# mmvm: guests may run on an emulated CPU, 100x slower than a real one.
[Manager]
DefaultTimeoutStartSec=10min
DefaultDeviceTimeoutSec=10min
EOF
# Modules udev would load for CPU features (crypto acceleration, whose
# self-tests alone took a minute, KVM, EDAC, RAPL, cpufreq, thermal) and
# the PC speaker. Blacklisting stops only the automatic loading: modprobe
# by name still works (e.g. modprobe kvm_amd for nested guests).
{
	echo "# mmvm: not loaded automatically (guest/debian/build-rootfs.sh)"
	awk '$1 == "alias" && $2 ~ /^cpu:type:x86/ { print $3 }' \
		"$root/lib/modules/$kver/modules.alias" | sort -u |
		grep -vxF -f <(printf '%s\n' "${keep_cpu_modules[@]}") |
		sed 's/^/blacklist /'
	printf 'blacklist %s\n' "${blacklist_modules[@]}"
} >"$root/etc/modprobe.d/mmvm-blacklist.conf"
# Units for what an mmvm guest has not: VT gettys (no display; the login
# is the serial getty), LVM snapshots (e2scrub), pstore.
in_root systemctl disable getty@tty1.service e2scrub_reap.service \
	e2scrub_all.timer systemd-pstore.service
in_root systemctl mask getty-static.service
# Modules systemd loads ahead of need (about 7 s of CPU each): loop, fuse
# and device-mapper load on first use of their /dev nodes
# (kmod-static-nodes), configfs on mount.
in_root systemctl mask modprobe@loop.service modprobe@dm_mod.service \
	modprobe@fuse.service modprobe@configfs.service
# Generators with nothing to generate here (no GPT, swap, crypttab,
# integritytab, veritytab, offline update): each costs an exec per boot.
mkdir -p "$root/etc/systemd/system-generators"
for g in "${masked_generators[@]}"; do
	ln -sfn /dev/null "$root/etc/systemd/system-generators/$g"
done

# --- clean up -------------------------------------------------------------------------
rm -f "$root/usr/sbin/policy-rc.d"
# The .deb cache first, so that apt-get clean cannot empty it.
umount "$root/var/cache/apt/archives"
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
	"$root"/var/log/bootstrap.log "$root"/tmp/* "$root"/var/tmp/*
find "$root/var/log" -type f \( -name '*.log' -o -name '*.gz' \) -delete
"${chroot_env[@]}" /usr/sbin/chroot "$root" dpkg -l >"$stage/packages.txt"
# /etc and /var are up to date with /usr, as systemd-update-done (which
# Debian does not ship) would record it: else every boot runs the
# ConditionNeedsUpdate= units (systemd-sysusers). Last, after every change.
for d in etc var; do
	printf '%s\n' "# Written by guest/debian/build-rootfs.sh as systemd-update-done would:" \
		"# /$d is up to date with /usr (see systemd-update-done.service(8))." \
		"TIMESTAMP_NSEC=$(stat -c %.9Y "$root/usr" | tr -d .)" >"$root/$d/.updated"
	touch -r "$root/usr" "$root/$d/.updated"
done
umount "$root/dev/pts" "$root/dev" "$root/sys" "$root/proc"

cp "$root/boot/vmlinuz-$kver" "$stage/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$stage/initrd.img"

# --- ext4 image ---------------------------------------------------------------------
log "mkfs.ext4 -d: $size image from $(du -sh "$root" | cut -f1)"
t0=$(date +%s)
truncate -s "$size" "$stage/rootfs.ext4"
# A fresh sparse file reads as zeros: no need to write the journal and
# inode tables (64 MiB of zeros), nor for the guest's kernel to zero them.
run_logged mkfs.ext4 -q -F -L mmvm-root -E assume_storage_prezeroed=1 \
	-d "$root" "$stage/rootfs.ext4"
run_logged e2fsck -fn "$stage/rootfs.ext4"
# Where the image has data: "OFFSET LENGTH" lines (bytes) after a
# "size=S mtime=T" line, for copying it where SEEK_DATA cannot find the
# holes (over 9p in scripts/mmvm-host's outer VM, cp reads all 2 GiB).
python3 - "$stage/rootfs.ext4" >"$stage/rootfs.extents" <<'EOF' ||
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
st = os.fstat(fd)
print("size=%d mtime=%d" % (st.st_size, int(st.st_mtime)))
off = 0
while off < st.st_size:
    try:
        start = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    off = os.lseek(fd, start, os.SEEK_HOLE)
    print(start, off - start)
EOF
	die "cannot list the image's extents"
log "image made in $(($(date +%s) - t0)) s"
rm -rf "$root"

cat >"$stage/debian.env" <<EOF
# guest/debian/build-rootfs.sh, key $key: $suite, kernel $kver
MMVM_DEBIAN_ROOTFS=$out_dir/rootfs.ext4
MMVM_DEBIAN_KERNEL=$out_dir/vmlinuz
MMVM_DEBIAN_INITRD=$out_dir/initrd.img
MMVM_DEBIAN_KVER=$kver
MMVM_DEBIAN_SUITE=$suite
EOF
rm -f "$stage/initrd.list"
rm -rf "$out_dir"
mv -T "$stage" "$out_dir"
log "built in $(($(date +%s) - start)) s wall"
result
exit
}
