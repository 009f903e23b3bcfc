#!/usr/bin/env bash
# A static fio for the benchmark guest, built from Debian's own source
# package (apt-get source, with a deb-src list of our own: the machine's
# apt configuration is not touched), cached in ${MMVM_CACHE:-/var/cache/mmvm}/fio/<version>-<key>/.
# Debian's fio binary is linked against some 60 libraries (80 MiB: rbd,
# gluster, ...) that would have to go into the initramfs; this one has the
# engines the benchmark uses (libaio, io_uring, psync) and nothing else,
# and no System V shared memory (--disable-shm: jobs run as threads),
# which the project's guest kernel leaves out.
# Last line on stdout: the path of the binary.
set -euo pipefail
{
cache=${MMVM_CACHE:-/var/cache/mmvm}/fio
log() { echo "build-fio: $*" >&2; }
die() { log "error: $*"; exit 1; }

ver=$(apt-cache show --no-all-versions fio 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
[ -n "$ver" ] || die "apt-cache knows no fio package"
# Keyed by the version and this script (its configure options).
key=$ver-$(sha256sum <"${BASH_SOURCE[0]}" | cut -c1-12)
out=$cache/$key/fio
if [ -x "$out" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi
for p in libaio-dev zlib1g-dev dpkg-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		die "$p is not installed (bench/run installs it)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# deb-src for the suite this machine installs from (bookworm).
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
cat >"$work/src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
mkdir -p "$work/lists/partial"
apto=(-o Dir::Etc::SourceList="$work/src.sources" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
apt-get "${apto[@]}" -q update >&2 || die "apt-get update (deb-src) failed"
(cd "$work" && apt-get "${apto[@]}" -q source --download-only "fio=$ver" >&2) ||
	die "apt-get source fio=$ver failed"
tarball=$(ls "$work"/fio_*.orig.tar.* | head -n 1)
mkdir "$work/src"
tar -xf "$tarball" -C "$work/src" --strip-components=1
log "building fio $ver (static)"
(cd "$work/src" &&
 ./configure --build-static --disable-native --disable-rdma --disable-rados \
	--disable-rbd --disable-http --disable-libnfs --disable-pmem \
	--disable-xnvme --disable-tcmalloc --disable-numa --disable-dfs \
	--disable-shm >&2 &&
 make -j2 fio >&2) || die "fio build failed"
mkdir -p "$cache/$key"
strip -o "$out.tmp" "$work/src/fio"
mv -f "$out.tmp" "$out"
log "built $out"
echo "$out"
exit 0
}
