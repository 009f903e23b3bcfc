#!/usr/bin/env bash
# Bad input to mmvm: each case must print one "mmvm: ..." line naming the
# problem and exit 1, before any guest runs. Needs no KVM (inputs are
# checked before /dev/kvm is opened); the KVM-only cases run when
# /dev/kvm is usable and are skipped otherwise.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_files "$MMVM"
kernel=$MMVM_KERNEL
[ -r "$kernel" ] || kernel=$(ls /boot/vmlinuz-* 2>/dev/null | tail -n 1)
[ -r "$kernel" ] || skip "no bzImage to test with"
W=$MMVM_WORK

have_kvm=0
"$MMVM" --check-kvm >/dev/null 2>&1 && have_kvm=1

# expect NAME PATTERN MMVM-ARGS...: exit 1, stderr one line matching PATTERN
expect() {
	local name=$1 pattern=$2 rc lines
	shift 2
	timeout 20 "$MMVM" "$@" </dev/null >"$W/out" 2>"$W/err"
	rc=$?
	lines=$(wc -l <"$W/err")
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] &&
	   grep -q "^mmvm: .*$pattern" "$W/err"; then
		pass "$name ($(cat "$W/err"))"
	else
		fail "$name: rc=$rc, $lines stderr lines, want /$pattern/:"
		sed 's/^/    | /' "$W/err" | head -n 5
	fi
}

# Crafted files: not a kernel, a truncated kernel, protocol/64-bit patched.
head -c 8192 /dev/urandom >"$W/random"
head -c 300 "$kernel" >"$W/tiny"
head -c $(( $(stat -c %s "$kernel") / 2 )) "$kernel" >"$W/truncated"
patch_byte() { # file offset value(octal escape)
	printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
cp "$kernel" "$W/oldproto"; patch_byte "$W/oldproto" 0x206 '\005'; patch_byte "$W/oldproto" 0x207 '\002'
cp "$kernel" "$W/no64"; patch_byte "$W/no64" 0x236 '\000'
cp "$kernel" "$W/nomagic"; patch_byte "$W/nomagic" 0x202 'X'
# init_size 1.5 GiB: the kernel cannot unpack in 256 MiB
cp "$kernel" "$W/bigkernel"; patch_byte "$W/bigkernel" 0x263 '\140'
truncate -s 2G "$W/huge-initrd"
echo x >"$W/small-initrd"
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
host_mib=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)

K=(--kernel "$kernel")
expect "unknown option" "unknown option '--bogus'" "${K[@]}" --bogus
expect "stray argument" "unexpected argument" "${K[@]}" stray
expect "missing --kernel" "missing --kernel"
expect "option without value" "needs a value" --kernel
expect "kernel missing" "No such file or directory" --kernel "$W/nonexistent"
expect "kernel is a directory" "Is a directory" --kernel "$W"
expect "not a bzImage" "not a bzImage" --kernel "$W/random"
expect "tiny file" "too small" --kernel "$W/tiny"
expect "truncated bzImage" "truncated" --kernel "$W/truncated"
expect "bad magic" "not a bzImage" --kernel "$W/nomagic"
expect "old boot protocol" "older than 2.06" --kernel "$W/oldproto"
expect "no 64-bit entry" "64-bit" --kernel "$W/no64"
expect "--mem too small" "too small" "${K[@]}" --mem 16M
expect "--mem unparseable" "cannot parse" "${K[@]}" --mem lots
expect "--mem above host" "more than the host has" "${K[@]}" --mem $((host_mib * 2))M
expect "--mem too small for kernel" "does not fit in guest memory" --kernel "$W/bigkernel" --mem 256M
expect "--cpus 0" "--cpus" "${K[@]}" --cpus 0
expect "--cpus 65" "--cpus" "${K[@]}" --cpus 65
expect "--timeout 0" "--timeout" "${K[@]}" --timeout 0
expect "--virtio-version 4" "want 2 or 3" "${K[@]}" --virtio-version 4
expect "--virtio-version two" "want 2 or 3" "${K[@]}" --virtio-version two
expect "initrd missing" "initrd .*No such file" "${K[@]}" --initrd "$W/nonexistent"
expect "initrd too big" "initrd .*does not fit" "${K[@]}" --initrd "$W/huge-initrd" --mem 256M
expect "cmdline too long" "command line.*too long\|too long" "${K[@]}" --cmdline "$long"
expect "too many disks" "too many disks" "${K[@]}" \
	--disk a --disk b --disk c --disk d --disk e --disk f --disk g --disk h --disk i
expect "too many nets" "too many network" "${K[@]}" \
	--net tap=a --net tap=b --net tap=c --net tap=d --net tap=e
expect "bad disk flag" "unknown flag" "${K[@]}" --disk "$W/random,rw"
expect "--stats unwritable" "--stats .*No such file" "${K[@]}" --stats "$W/no/such/dir/stats"
expect "bad mac" "bad mac" "${K[@]}" --net tap=t0,mac=zz:00:00:00:00:00

if [ "$have_kvm" = 0 ]; then
	# No KVM, or one mmvm cannot use (kvm_pvm): one line, what and why.
	expect "unusable /dev/kvm" "/dev/kvm: .*; " "${K[@]}" --initrd "$W/small-initrd"
	expect "--check-kvm" "/dev/kvm: .*; " --check-kvm
else
	# With KVM the device layer reports missing backing files.
	expect "disk missing" "nonexistent" "${K[@]}" --disk "$W/nonexistent" --timeout 5
	truncate -s 1M "$W/twice.img"
	ln -s "$W/twice.img" "$W/twice-link.img"
	expect "the same image twice" "the same image as --disk $W/twice.img" \
		"${K[@]}" --disk "$W/twice.img" --disk "$W/twice-link.img,ro" \
		--timeout 5
	if "$MMVM" --check-kvm | grep -q '^mmvm: /dev/kvm: usable: .*probe guest read back'; then
		pass "--check-kvm says usable, and why"
	else
		fail "--check-kvm"
	fi
fi

# --help must describe the exit statuses and succeed.
if "$MMVM" --help | grep -q "Exit status" && "$MMVM" --version | grep -q mmvm; then
	pass "--help and --version"
else
	fail "--help or --version"
fi
finish
