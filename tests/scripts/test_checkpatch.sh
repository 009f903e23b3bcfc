#!/usr/bin/env bash
# The guest kernel series (guest/kernel/patches/0001-*.patch ...) against
# the kernel source it is for: every patch applies in order with patch -p1
# (as guest/kernel/build-kernel.sh applies them) and the kernel's own
# scripts/checkpatch.pl --strict reports 0 errors, 0 warnings and 0 checks
# on each, the cover letter (0000-*) excepted; the out-of-tree patches
# (0100-* and up, applied after the series) are checked the same way.
# An unsigned patch is checked with --no-signoff: the series carries no
# Signed-off-by until a real person certifies it (the cover letter says
# who must sign before posting).
#
# Cheap review checks (grep level, no build) on top:
#   - no invented identities: no From:/Signed-off-by:/...-by: naming a
#     reserved domain (.invalid, .example, example.com, localhost) or
#     "mmvm developers", in any patch or the cover letter;
#   - every patch has a changelog (a body of at least 3 lines);
#   - out-of-tree patches (0100-*) say OUT-OF-TREE in their subject, and
#     the upstream series (0001-0099) never mentions the 2019 layout's
#     switch (layout_2019);
#   - with the whole series applied, every non-static function of the irq
#     core and the x86 MSI code that virtio_mmio.c calls is exported
#     (virtio_mmio is tristate: modpost would stop a modular build);
#   - the provisional feature bits are accepted only behind
#     CONFIG_VIRTIO_MMIO_PROVISIONAL_MSI, and neither that option nor
#     CONFIG_VIRTIO_MMIO_LAYOUT_2019 defaults to y.
# Unpacks only what it needs from the linux-source tarball (checkpatch, the
# files the series touches, kernel/irq) into a temporary directory; the
# build cache is not touched. Needs perl and the tarball
# (MMVM_KERNEL_SOURCE, default /usr/src/linux-source-6.12.tar.xz; exit 77
# without it); neither KVM nor root.
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
	"$top/Kbuild" "$top/Makefile" "$top/README" "$top/kernel/irq")
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
	signoff=()
	grep -q '^Signed-off-by: ' "$p" || signoff=(--no-signoff)
	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict "${signoff[@]}" "$p" 2>&1 </dev/null)
	total=$(grep -E '^total: ' <<<"$out" | tail -n 1)
	if [ "$total" != "" ] && grep -qE '^total: 0 errors, 0 warnings, 0 checks' <<<"$total"; then
		pass "$b checkpatch --strict${signoff:+ ${signoff[*]}}: $total"
	else
		fail "$b checkpatch --strict: ${total:-no result}"
		grep -E '^(ERROR|WARNING|CHECK):' <<<"$out" | head -n 20 | sed 's/^/    /'
	fi
done

# --- review checks that need no build --------------------------------------
all=("$repo"/guest/kernel/patches/0000-*.patch "${patches[@]}")
bad=$(grep -HnE '^(From|Signed-off-by|Co-developed-by|Reviewed-by|Acked-by|Tested-by|Reported-by):' "${all[@]}" |
	grep -iE '\.invalid>|\.example>|@example\.(com|org|net)>|@localhost|mmvm developers' || true)
if [ -z "$bad" ]; then
	pass "no invented identities in From:/Signed-off-by:/*-by: lines"
else
	fail "invented identities:"
	sed 's/^/    /' <<<"$bad"
fi

for p in "${patches[@]}"; do
	b=$(basename "$p")
	# The body: after the header (blank line after Subject:) up to "---".
	body=$(awk 'hdr == 0 && /^$/ { hdr = 1; next }
		    hdr == 1 && /^---$/ { exit }
		    hdr == 1 && NF { n++ } END { print n + 0 }' "$p")
	if [ "$body" -ge 3 ]; then
		pass "$b has a changelog ($body lines)"
	else
		fail "$b has no changelog ($body lines)"
	fi
	subj=$(sed -n '/^Subject:/{N;s/\n//;p;q}' "$p")
	case "$b" in
	0[1-9][0-9][0-9]-*)
		if grep -q 'OUT-OF-TREE' <<<"$subj"; then
			pass "$b is marked OUT-OF-TREE"
		else
			fail "$b (0100 and up) does not say OUT-OF-TREE in its subject"
		fi ;;
	*)
		if grep -q '^+.*layout_2019' "$p"; then
			fail "$b: the upstream series mentions layout_2019 (out-of-tree only)"
		fi ;;
	esac
done

# Exports: with the whole series applied (above), the non-static functions
# defined in the irq core or the x86 MSI code that virtio_mmio.c calls.
drv=$tree/drivers/virtio/virtio_mmio.c
if [ -r "$drv" ]; then
	missing=
	nsym=0
	for sym in $(grep -oE '\b[a-z_][a-z0-9_]*\(' "$drv" | tr -d '(' | sort -u); do
		# Files with a non-static definition: "type sym(" on one line,
		# or "type" then "sym(" on the next; not a declaration (;).
		defs=$(awk -v sym="$sym" '
			FNR == 1 { prev = "" }
			$0 !~ /;[ \t]*$/ &&
			($0 ~ ("^" sym "[(]") || $0 ~ ("^[a-z].*[ *]" sym "[(]")) {
				line = ($0 ~ ("^" sym "[(]")) ? prev " " $0 : $0
				if (line !~ /^static[ \t]/) print FILENAME
			}
			{ prev = $0 }' "$tree"/kernel/irq/*.c \
			"$tree"/arch/x86/kernel/apic/msi.c 2>/dev/null | sort -u)
		[ -n "$defs" ] || continue
		nsym=$((nsym + 1))
		grep -qE "^EXPORT_SYMBOL(_GPL)?\($sym\);" $defs ||
			missing="$missing $sym"
	done
	if [ -z "$missing" ]; then
		pass "exports: all $nsym irq core / x86 MSI functions virtio_mmio.c calls are exported"
	else
		fail "exports: virtio_mmio.c (tristate) calls unexported:$missing"
	fi
	if grep -q 'IS_ENABLED(CONFIG_VIRTIO_MMIO_PROVISIONAL_MSI)' "$drv"; then
		pass "feature bits 44/45 only with CONFIG_VIRTIO_MMIO_PROVISIONAL_MSI"
	else
		fail "virtio_mmio.c accepts the provisional bits without CONFIG_VIRTIO_MMIO_PROVISIONAL_MSI"
	fi
	kc=$tree/drivers/virtio/Kconfig
	dy=$(awk '/^config / { c = $2 } /^[ \t]*default y/ &&
		(c == "VIRTIO_MMIO_PROVISIONAL_MSI" || c == "VIRTIO_MMIO_LAYOUT_2019") { print c }' "$kc" 2>/dev/null)
	if grep -q '^config VIRTIO_MMIO_PROVISIONAL_MSI' "$kc" 2>/dev/null && [ -z "$dy" ]; then
		pass "CONFIG_VIRTIO_MMIO_PROVISIONAL_MSI exists and defaults to n (also LAYOUT_2019)"
	else
		fail "drivers/virtio/Kconfig: provisional options missing or default y: $dy"
	fi
else
	fail "no drivers/virtio/virtio_mmio.c after the series"
fi
finish
