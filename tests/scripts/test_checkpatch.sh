#!/usr/bin/env bash
# The guest kernel series (guest/kernel/patches/0001-*.patch ...) against
# the kernel source it is for: every patch applies in order with patch -p1
# (as guest/kernel/build-kernel.sh applies them) and the kernel's own
# scripts/checkpatch.pl --strict reports 0 errors, 0 warnings and 0 checks
# on each, the cover letter (0000-*) excepted. Unpacks only what it needs
# from the linux-source tarball (checkpatch, the files the series touches)
# into a temporary directory; the build cache is not touched. Needs perl
# and the tarball (MMVM_KERNEL_SOURCE, default
# /usr/src/linux-source-6.12.tar.xz; exit 77 without it); neither KVM nor
# root.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tarball=${MMVM_KERNEL_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
[ -r "$tarball" ] || skip "no kernel source $tarball (apt-get install linux-source-6.12)"
command -v perl >/dev/null 2>&1 || skip "no perl"

patches=()
for p in "$repo"/guest/kernel/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$p" ] || continue
	case "$(basename "$p")" in 0000-*) continue ;; esac
	patches+=("$p")
done
[ "${#patches[@]}" -gt 0 ] || { fail "no patches in guest/kernel/patches"; finish; }

work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

# What checkpatch reads (scripts/, the files that make it see a kernel
# tree), plus every file the series touches.
top=$(tar -tf "$tarball" | head -n 1 | cut -d/ -f1)
members=("$top/scripts" "$top/MAINTAINERS" "$top/COPYING" "$top/CREDITS"
	"$top/Kbuild" "$top/Makefile" "$top/README")
while read -r f; do
	members+=("$top/$f")
done < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${patches[@]}" | sort -u)
if ! tar -xf "$tarball" -C "$work" "${members[@]}" 2>"$work/tar.err"; then
	# A file the series creates is not in the tarball: that is fine.
	grep -v "Not found in archive\|Exiting with failure" "$work/tar.err" >&2
fi
tree=$work/$top
[ -x "$tree/scripts/checkpatch.pl" ] || { fail "no scripts/checkpatch.pl in $tarball"; finish; }
# checkpatch's top_of_kernel_tree() wants these to exist.
mkdir -p "$tree"/{Documentation,arch,include,drivers,fs,init,ipc,kernel,lib,scripts}

for p in "${patches[@]}"; do
	b=$(basename "$p")
	if (cd "$tree" && patch -p1 --batch --forward -s -i "$p") >"$work/patch.log" 2>&1; then
		pass "$b applies"
	else
		fail "$b does not apply: $(head -n 3 "$work/patch.log" | tr '\n' ' ')"
		continue
	fi
	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict "$p" 2>&1 </dev/null)
	total=$(grep -E '^total: ' <<<"$out" | tail -n 1)
	if [ "$total" != "" ] && grep -qE '^total: 0 errors, 0 warnings, 0 checks' <<<"$total"; then
		pass "$b checkpatch --strict: $total"
	else
		fail "$b checkpatch --strict: ${total:-no result}"
		grep -E '^(ERROR|WARNING|CHECK):' <<<"$out" | head -n 20 | sed 's/^/    /'
	fi
done
finish
