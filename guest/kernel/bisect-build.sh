#!/usr/bin/env bash
# Build every prefix of the guest kernel series once: patch 1, then 1-2,
# ... then the whole series with the out-of-tree patches (0100-*), each
# step applied on top of the last in one work tree and built
# incrementally, so a patch that does not build on its own (a symbol
# used before the patch that exports it, say) is found. What maintainers
# try before they take a series; run it before saying the series is
# bisectable.
#
#   guest/kernel/bisect-build.sh [--variant NAME] [--arch x86_64|arm64]
#                                [--last] [--targets "T ..."]
#
# --variant NAME  x86_64: the fragment plus guest/kernel/config.NAME, as
#                 build-kernel.sh --variant does (default: modules, i.e.
#                 virtio_mmio=m: modpost checks every export at each step;
#                 "" for the fragment alone)
# --arch arm64    cross build (Debian's gcc-aarch64-linux-gnu,
#                 CROSS_COMPILE=aarch64-linux-gnu-) with
#                 guest/kernel/config.arm64 on tinyconfig instead of the
#                 x86 fragment; default targets "kernel/irq/ drivers/virtio/"
#                 (the objects the series changes on arm64)
# --last          only the whole series, not every prefix
# --targets "..." make targets (default x86_64: "vmlinux modules")
#
# Work tree: ${MMVM_BISECT_DIR:-/var/tmp/mmvm-bisect}/<arch>-<variant>/
# (source unpacked once, out-of-tree objects in obj/), kept between runs;
# the patches are reapplied from scratch each run (the source is
# re-extracted only if reversing fails). Prints one line per step:
#   bisect-build: [k/N] PATCH: ok|FAILED (S s)
# and exits non-zero if any step failed. Env: MMVM_KERNEL_SOURCE,
# MMVM_JOBS (default 2), MMVM_BISECT_DIR.
set -uo pipefail
# One compound command, read whole before it runs (editing the script
# while it runs cannot change what the running copy does).
{
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tarball=${MMVM_KERNEL_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
jobs=${MMVM_JOBS:-2}
variant=modules arch=x86_64 last=0 targets=
while [ $# -gt 0 ]; do
	case "$1" in
	--variant) variant=$2; shift 2 ;;
	--arch) arch=$2; shift 2 ;;
	--last) last=1; shift ;;
	--targets) targets=$2; shift 2 ;;
	*) echo "usage: $0 [--variant NAME] [--arch x86_64|arm64] [--last] [--targets \"T ...\"]" >&2; exit 2 ;;
	esac
done
log() { echo "bisect-build: $*"; }
die() { log "error: $*"; exit 1; }
[ -r "$tarball" ] || die "no kernel source $tarball"

cross=()
case "$arch" in
x86_64) : "${targets:=vmlinux modules}" ;;
arm64)
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		die "no aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"
	cross=(CROSS_COMPILE=aarch64-linux-gnu-)
	: "${targets:=kernel/irq/ drivers/virtio/}" ;;
*) die "--arch: x86_64 or arm64" ;;
esac

patches=()
for p in "$here"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$(basename "$p")" in 0000-*) continue ;; esac
	patches+=("$p")
done
[ "${#patches[@]}" -gt 0 ] || die "no patches"

[ "$arch" = arm64 ] && variant=	# arm64 has its own config, no variant
top=${MMVM_BISECT_DIR:-/var/tmp/mmvm-bisect}/$arch${variant:+-$variant}
src=$top/linux obj=$top/obj
mkdir -p "$top"
# The fragment for this build.
if [ "$arch" = arm64 ]; then
	cp "$here/config.arm64" "$top/fragment"
elif [ -n "$variant" ]; then
	ov=$here/config.$variant
	[ -r "$ov" ] || die "no $ov"
	names=$(sed -n 's/^\(# \)\{0,1\}\(CONFIG_[A-Za-z0-9_]*\)[= ].*/\2/p' "$ov")
	{ grep -v -E "^(# )?($(echo $names | tr ' ' '|'))[= ]" "$here/config.fragment"
	  cat "$ov"; } >"$top/fragment"
else
	cp "$here/config.fragment" "$top/fragment"
fi

# A clean source: reverse what the last run applied, or unpack afresh.
if [ -d "$src" ] && [ -d "$top/applied" ]; then
	for p in $(ls -r "$top"/applied/*.patch 2>/dev/null); do
		(cd "$src" && patch -p1 -R --batch -s -i "$p" >/dev/null 2>&1) ||
			{ log "reversing $(basename "$p") failed: unpacking afresh"; rm -rf "$src"; break; }
		rm -f "$p"
	done
fi
if [ ! -d "$src" ]; then
	log "unpacking $(basename "$tarball") into $src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1 || die "tar failed"
	rm -rf "$top/applied"
fi
mkdir -p "$top/applied" "$obj"

kmake() { make -C "$src" O="$obj" ARCH="$arch" "${cross[@]}" "$@"; }

n=${#patches[@]} failed=0 k=0 total0=$(date +%s)
for p in "${patches[@]}"; do
	k=$((k + 1))
	b=$(basename "$p")
	(cd "$src" && patch -p1 --batch --forward -s -i "$p" >"$top/patch.log" 2>&1) ||
		{ log "[$k/$n] $b: does not apply"; cat "$top/patch.log"; exit 1; }
	cp "$p" "$top/applied/"
	[ "$last" = 1 ] && [ "$k" -lt "$n" ] && continue
	t0=$(date +%s)
	steplog=$top/step-$k.log
	if { kmake tinyconfig &&
	     (cd "$src" && ARCH="$arch" scripts/kconfig/merge_config.sh -O "$obj" \
			-n "$obj/.config" "$top/fragment") &&
	     kmake olddefconfig &&
	     kmake -j"$jobs" $targets; } >"$steplog" 2>&1; then
		log "[$k/$n] $b: ok ($(($(date +%s) - t0)) s)"
	else
		log "[$k/$n] $b: FAILED ($(($(date +%s) - t0)) s, log $steplog)"
		grep -E 'error|ERROR|undefined' "$steplog" | head -n 10 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
log "$arch${variant:+ $variant}: $((n - failed)) of $n steps built ($([ "$last" = 1 ] && echo "whole series only" || echo "every prefix")), $(($(date +%s) - total0)) s"
[ "$failed" = 0 ]
exit
}
