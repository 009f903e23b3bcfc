#!/usr/bin/env bash
# Build the mmvm guest kernel (x86_64 bzImage) from Debian's linux-source-6.12.
#
#   guest/kernel/build-kernel.sh [--force] [--variant NAME]
#
# --variant NAME: the same kernel with guest/kernel/config.NAME on top of
# the fragment (its lines replace the fragment's for the same options),
# e.g. "nopci": no CONFIG_PCI, to show MSI on virtio-mmio needs no PCI;
# "modules": CONFIG_MODULES with virtio_mmio=m (also runs `make modules`,
# so modpost checks the exports the driver needs). Its own work tree
# (tree-NAME/), cache keys and copy (build/guest/bzImage-NAME).
#
# Last line on stdout: the path of the bzImage. Progress goes to stderr.
#
# Config: `make tinyconfig` + guest/kernel/config.fragment (allnoconfig
# style: what the fragment does not ask for stays off), then every line
# of the fragment is checked against the final .config (after patching).
# Patches: guest/kernel/patches/*.patch but the cover letter (0000-*),
# applied with patch -p1 in name order: the upstream series 0001-0099,
# then the out-of-tree ones 0100-* (NOT FOR UPSTREAM, opt-in).
#
# Cache (${MMVM_CACHE:-/var/cache/mmvm}/kernel):
#   <key>/bzImage  the result (+ .config, build.log); key = sha256 of the
#                  source tarball's name/size/mtime, the fragment, every
#                  patch and this script. A hit returns at once.
#   tree/          one work tree, kept between builds: the unpacked source,
#                  configured and built, plus the patches now applied to it
#                  (tree/applied/). A build with other patches reverses the
#                  old ones and applies the new ones in place, so iterating
#                  on the guest patch series costs an incremental build. The
#                  tree is unpacked afresh when the tarball changes, when
#                  reversing fails, or with --force; a changed fragment is
#                  re-merged in place.
# Results are renamed into place, so a killed build never leaves a
# half-written <key>/. A copy of the result is kept at build/guest/bzImage.
#
# Environment: MMVM_CACHE, MMVM_KERNEL_SOURCE (tarball), MMVM_JOBS.
set -euo pipefail
# One compound command, read whole before it runs: editing this file
# while it runs cannot change what the running copy does.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tarball=${MMVM_KERNEL_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
fragment=$here/config.fragment
cache=${MMVM_CACHE:-/var/cache/mmvm}/kernel
jobs=${MMVM_JOBS:-$(nproc)}
force=0

variant=
while [ $# -gt 0 ]; do
	case "$1" in
	--force) force=1; shift ;;
	--variant) variant=${2:?--variant needs a NAME}; shift 2 ;;
	*) echo "usage: $0 [--force] [--variant NAME]" >&2; exit 2 ;;
	esac
done

log() { echo "build-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -r "$tarball" ] || die "kernel source $tarball not found (apt-get install linux-source-6.12)"
[ -r "$fragment" ] || die "$fragment missing"
overlay=
if [ -n "$variant" ]; then
	overlay=$here/config.$variant
	[ -r "$overlay" ] || die "no such variant: $overlay missing"
fi

shopt -s nullglob
patches=()
for p in "$here"/patches/*.patch; do
	# 0000-cover-letter.patch describes the series and holds no diff
	case "$(basename "$p")" in 0000-*) continue ;; esac
	patches+=("$p")
done
shopt -u nullglob

# --- cache keys -------------------------------------------------------------
base_key=$( {
	stat -c '%n %s %Y' "$tarball"
	sha256sum "$fragment" "${BASH_SOURCE[0]}" | cut -d' ' -f1
	[ -z "$overlay" ] || sha256sum <"$overlay"
} | sha256sum | cut -c1-16)
# The work tree depends only on the source.
tree_key=$(stat -c '%n %s %Y' "$tarball" | sha256sum | cut -c1-16)
key=$( {
	echo "$base_key"
	for p in "${patches[@]}"; do
		echo "patch $(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	done
} | sha256sum | cut -c1-16)

out_dir=$cache/$key
work=$cache/tree${variant:+-$variant}
tree=$work/linux
copy=bzImage${variant:+-$variant}

publish() {
	mkdir -p "$repo/build/guest"
	cp "$out_dir/bzImage" "$repo/build/guest/.bzImage.$$"
	mv -f "$repo/build/guest/.bzImage.$$" "$repo/build/guest/$copy"
	log "bzImage $(stat -c %s "$out_dir/bzImage") bytes, key $key," \
	    "${#patches[@]} patch(es)"
	echo "$out_dir/bzImage"
}

if [ "$force" = 0 ] && [ -f "$out_dir/bzImage" ]; then
	log "cache hit"
	publish
	exit 0
fi

mkdir -p "$cache/tmp" "$work"
# One kernel build at a time on this machine: they share the work tree, two
# would only fight over the cores, and the second often finds the first
# one's result.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	log "waiting for another kernel build to finish"
	flock 9
fi
if [ "$force" = 0 ] && [ -f "$out_dir/bzImage" ]; then
	log "cache hit (built while waiting)"
	publish
	exit 0
fi
# Holding the lock, anything left in tmp/ is from a killed build.
rm -rf "$cache"/tmp/*
trap 'exit 130' INT TERM

start=$(date +%s)
mkdir -p "$work"
buildlog=$work/build.log
: >"$buildlog"

# A variant's fragment: the base one without the options the overlay
# sets, then the overlay.
if [ -n "$overlay" ]; then
	names=$(sed -n 's/^\(# \)\{0,1\}\(CONFIG_[A-Za-z0-9_]*\)[= ].*/\2/p' "$overlay")
	{
		grep -v -E "^(# )?($(echo $names | tr ' ' '|'))[= ]" "$fragment"
		cat "$overlay"
	} >"$work/fragment.variant"
	fragment=$work/fragment.variant
fi

run_logged() {
	# Quiet on success; the tail of the log on failure.
	if ! "$@" >>"$buildlog" 2>&1; then
		tail -n 60 "$buildlog" >&2
		die "failed: $* (full log: $buildlog)"
	fi
}

kmake() { run_logged make -C "$tree" ARCH=x86_64 "$@"; }

# Every line of the fragment must hold in .config: "CONFIG_X=v" literally,
# "# CONFIG_X is not set" as absent or "is not set".
verify_config() {
	local bad=0 line name
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$tree/.config" || {
				log "config: wanted $line, got:" \
				    "$(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo unset)"
				bad=1
			} ;;
		"# CONFIG_"*" is not set")
			name=${line#\# }; name=${name%% *}
			if grep -q "^$name=" "$tree/.config"; then
				log "config: wanted $name unset, got $(grep "^$name=" "$tree/.config")"
				bad=1
			fi ;;
		esac
	done <"$fragment"
	[ "$bad" = 0 ] || die "kernel config does not match $fragment (see above)"
}

fresh_tree() {
	log "unpacking $(basename "$tarball") into $work"
	rm -f "$work/tree_key"
	# Rename first: deleting ~1.5 GB is slow, the new tree need not wait.
	[ -e "$tree" ] && mv "$tree" "$cache/tmp/old-tree.$$"
	rm -rf "$work/applied"
	mkdir -p "$tree" "$work/applied"
	local t0=$(date +%s)
	tar -xf "$tarball" -C "$tree" --strip-components=1
	log "unpacked in $(($(date +%s) - t0)) s"
	rm -f "$work/fragment_hash"
	echo "$tree_key" >"$work/tree_key"
	# In the background, without the lock fd: nobody needs to wait for it.
	rm -rf "$cache/tmp/old-tree.$$" 9>&- &
}

# tinyconfig + fragment, merged the way tinyconfig itself is made: as
# KCONFIG_ALLCONFIG for allnoconfig (merge_config.sh -n), so that options
# the fragment makes visible (IPv6 under INET, input under TTY...) default
# to off instead of to their usual "y". Redone in place when the fragment
# changes: Kbuild then rebuilds only what the changed options touch.
configure_tree() {
	log "configuring: tinyconfig + $(basename "$fragment")"
	kmake tinyconfig
	(cd "$tree" && ARCH=x86_64 run_logged scripts/kconfig/merge_config.sh \
		-n .config "$fragment")
	kmake olddefconfig
	sha256sum <"$fragment" >"$work/fragment_hash"
}

# Reverse the patches now in the tree (newest first). Fails if any does not
# reverse cleanly, and then the tree is thrown away.
unapply_patches() {
	local applied=("$work"/applied/*.patch) i
	[ -e "${applied[0]}" ] || return 0
	for ((i = ${#applied[@]} - 1; i >= 0; i--)); do
		log "  reverting $(basename "${applied[i]}")"
		(cd "$tree" && patch -p1 -R --batch --forward -s \
			-i "${applied[i]}" >>"$buildlog" 2>&1) || return 1
		rm -f "${applied[i]}"
	done
}

applied_list() {
	local p
	for p in "$work"/applied/*.patch; do
		[ -e "$p" ] && echo "$(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	done
	return 0
}
wanted_list() {
	local p
	for p in "${patches[@]}"; do
		echo "$(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	done
}

if [ "$force" = 1 ] ||
   [ "$(cat "$work/tree_key" 2>/dev/null)" != "$tree_key" ]; then
	fresh_tree
fi

if [ "$(applied_list)" != "$(wanted_list)" ]; then
	if ! unapply_patches; then
		log "old patches do not reverse cleanly: starting from a fresh tree"
		fresh_tree
	fi
	for p in "${patches[@]}"; do
		log "  applying $(basename "$p")"
		if ! (cd "$tree" && patch -p1 --batch --forward -s -i "$p" \
				>>"$buildlog" 2>&1); then
			tail -n 20 "$buildlog" >&2
			# The tree is half patched: make the next build start over.
			rm -f "$work/tree_key"
			die "patch $(basename "$p") does not apply to $(basename "$tarball")"
		fi
		cp "$p" "$work/applied/"
	done
fi

if [ "$(cat "$work/fragment_hash" 2>/dev/null)" != "$(sha256sum <"$fragment")" ]; then
	configure_tree
else
	kmake olddefconfig
fi
verify_config
log "make -j$jobs bzImage (log $buildlog)"
kmake -j"$jobs" bzImage
# With modules (the "modules" variant: virtio_mmio=m), build them too:
# modpost is what finds a symbol a module uses but nobody exports.
if grep -q '^CONFIG_MODULES=y' "$tree/.config"; then
	log "make -j$jobs modules"
	kmake -j"$jobs" modules
fi

stage=$(mktemp -d "$cache/tmp/out.XXXXXX")
cp "$tree/arch/x86/boot/bzImage" "$tree/.config" "$buildlog" "$stage/"
rm -rf "$out_dir"
mv -T "$stage" "$out_dir"
log "built in $(($(date +%s) - start)) s wall"
publish
exit
}
