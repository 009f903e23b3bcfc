#!/usr/bin/env bash
# A Debian stock kernel to boot unmodified under mmvm, for the tests that
# check what a distribution kernel sees (ACPI-described devices, pvpanic).
#
#   guest/stock/stock-kernel.sh 6.1|6.12
#
# 6.1:  bookworm's linux-image-amd64, the one installed on this machine
#       (scripts/install-deps installs it; the nested harness boots it too).
# 6.12: bookworm-backports' linux-image-amd64, fetched with apt-get download
#       and unpacked with dpkg-deb -x into the cache, never installed, so
#       the machine's own kernel (and the harness's outer VM) stays as it is.
#       Cached in ${MMVM_CACHE:-/var/cache/mmvm}/stock/<package>_<version>/.
#
# Prints three lines: kernel=<bzImage> root=<dir holding lib/modules/KVER>
# kver=<KVER>. Errors: one line on stderr, exit 1.
set -euo pipefail
{

cache=${MMVM_CACHE:-/var/cache/mmvm}/stock
die() { echo "stock-kernel: $*" >&2; exit 1; }

case "${1:-}" in
6.1)
	kernel=$(ls /boot/vmlinuz-6.1.*-amd64 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kernel" ] || die "no /boot/vmlinuz-6.1.*-amd64 (apt-get install linux-image-amd64)"
	kver=${kernel#/boot/vmlinuz-}
	[ -d "/lib/modules/$kver" ] || die "no /lib/modules/$kver"
	echo "kernel=$kernel"
	echo "root=/"
	echo "kver=$kver"
	exit 0 ;;
6.12) ;;
*) die "usage: $0 6.1|6.12" ;;
esac

# The backports metapackage names the real image package.
pkg=$(apt-cache show linux-image-amd64/bookworm-backports 2>/dev/null |
	sed -n 's/^Depends: \(linux-image-6\.12[^ ,]*\).*/\1/p' | head -n 1) || true
[ -n "$pkg" ] || die "no linux-image-amd64 6.12 in bookworm-backports (scripts/install-deps adds the suite; then apt-get update)"
ver=$(apt-cache show "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
dir=$cache/${pkg}_$ver
kver=${pkg#linux-image-}

if [ ! -f "$dir/ok" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	chmod 755 "$tmp"	# apt-get download writes it as _apt
	trap 'rm -rf "$tmp"' EXIT
	echo "stock-kernel: fetching $pkg $ver" >&2
	(cd "$tmp" && apt-get download -q "$pkg=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	dpkg-deb -x "$tmp"/*.deb "$tmp/root" || die "dpkg-deb -x failed"
	# dpkg-deb does not run the package's postinst: make modules.dep.
	depmod -b "$tmp/root" "$kver" || die "depmod -b $tmp/root $kver failed"
	touch "$tmp/ok"
	rm -f "$tmp"/*.deb
	rm -rf "$dir"
	mv -T "$tmp" "$dir"
	trap - EXIT
fi
[ -f "$dir/root/boot/vmlinuz-$kver" ] || die "$dir has no boot/vmlinuz-$kver"
echo "kernel=$dir/root/boot/vmlinuz-$kver"
echo "root=$dir/root"
echo "kver=$kver"
exit
}
