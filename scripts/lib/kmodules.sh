# Kernel modules for a small initramfs, shared by scripts/mmvm-host (the
# outer VM's KVM) and guest/initramfs/build-initramfs.sh (stock guest
# kernels). Source it; it defines:
#
#   kmod_resolve ROOT KVER MOD...   the modules with their dependencies
#                                   first, each once, one name a line
#   kmod_install ROOT KVER DIR MOD...
#                                   copies them (decompressed: busybox
#                                   insmod takes plain .ko files) into DIR
#                                   and writes DIR/modules.order, the load
#                                   order; built-in ones are left out
#
# ROOT is where lib/modules/KVER lives ("/" for the running system's, or a
# kernel package unpacked with dpkg-deb -x). Errors: one line on stderr,
# status 1.

kmod_resolve() {
	local root=$1 kver=$2
	shift 2
	local -A seen=()
	local order=()
	_kmod_visit() {
		local m=${1//-/_} d deps
		[ -n "${seen[$m]:-}" ] && return 0
		seen[$m]=1
		deps=$(modinfo -b "$root" -k "$kver" -F depends "$m" 2>/dev/null) || {
			echo "kmodules: module $m not found for $kver under $root" >&2
			return 1
		}
		for d in ${deps//,/ }; do
			_kmod_visit "$d" || return 1
		done
		order+=("$m")
	}
	local m
	for m in "$@"; do _kmod_visit "$m" || return 1; done
	printf '%s\n' "${order[@]}"
}

kmod_install() {
	local root=$1 kver=$2 dir=$3 list m f name
	shift 3
	list=$(kmod_resolve "$root" "$kver" "$@") || return 1
	mkdir -p "$dir"
	: >"$dir/modules.order"
	for m in $list; do
		f=$(modinfo -b "$root" -k "$kver" -F filename "$m") || return 1
		[ "$f" = "(builtin)" ] && continue
		# modinfo -b prints the path inside ROOT.
		[ -e "$f" ] || f=$root/${f#/}
		name=$(basename "$f"); name=${name%.xz}; name=${name%.zst}
		case "$f" in
		*.xz) xz -dc "$f" >"$dir/$name" ;;
		*.zst) zstd -qdc "$f" >"$dir/$name" ;;
		*) cp "$f" "$dir/$name" ;;
		esac || { echo "kmodules: cannot copy $f" >&2; return 1; }
		echo "$name" >>"$dir/modules.order"
	done
}
