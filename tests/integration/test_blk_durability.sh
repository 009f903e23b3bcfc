#!/usr/bin/env bash
# virtio-blk durability (issue 26), each check failing on the main before
# it:
#   a. write-error latch: the image is a device-mapper device whose MiB
#      16..24 is an "error" target (loop device under the rest); the guest
#      (blk_flushfail.sh) writes 1 MiB there and fsyncs (the host's
#      write-back fails: the flush must fail), then writes 4 KiB on good
#      storage and fsyncs 6 times: every one must fail too. --stats:
#      blk_flush_errors >= 7, blk_write_error_latched 1; one stderr line
#      for the latch; mmvm exits 5 (the exit flush cannot vouch for the
#      data either).
#   c. a driver without FLUSH (blk_noflush.sh: virtio_blk rebound with bit
#      9 filtered through debugfs): the guest's queue says write through,
#      its 8 writes of 4 KiB are all write-through on the host
#      (blk_writes_through 8 = blk_writes, blk_driver_flush 0), and land
#      in the image.
#   b. locks: while that guest waits, a second mmvm on its image is
#      refused in one line naming the image; a process holding a POSIX
#      write lock (python3 fcntl.lockf) is named by pid; a read lock
#      refuses a writable open but not a ,ro one; lock=off passes.
#   e. flush at exit: the guest of c. is ended by SIGTERM (exit 130):
#      blk_exit_flushes 1, blk_exit_flush_errors 0 (the guest of d. by
#      power-off: the same).
#   d. ,direct on a 4 KiB-sector loop device (losetup --sector-size 4096
#      --direct-io=on): the guest (blk_4k.sh) sees logical_block_size
#      4096, writes 7 sectors of 512 bytes at sector 3 and reads them
#      back; the host finds them in the image; no I/O errors.
#
# Needs KVM and root (device-mapper, loop): run it as
#   tests/integration/run-all.sh test_blk_durability.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
# MMVM_BLK_ENGINE=sync|io_uring: the engine of the three boots' disks
# (default: mmvm's, io_uring where the host has it).
eng=${MMVM_BLK_ENGINE:+,engine=$MMVM_BLK_ENGINE}
require_kvm
require_root
command -v losetup >/dev/null || skip "no losetup"
command -v dmsetup >/dev/null || skip "no dmsetup (scripts/install-deps)"
have_python=0
command -v python3 >/dev/null && have_python=1

dm_name=mmvm-blkdur-$$
loops=() holders=() mounts=()
cleanup() {
	local h l m
	for h in "${holders[@]}"; do kill "$h" 2>/dev/null; done
	dmsetup remove "$dm_name" 2>/dev/null
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$MMVM_WORK"
}
trap cleanup EXIT

# stat FILE KEY: a --stats value ("" if missing).
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
# field LOG PREFIX KEY: KEY=value from the guest's PREFIX lines.
field() {
	tr -d '\r' <"$1" | grep -a -o "$2 .*" | tr ' ' '\n' |
		sed -n "s/^$3=//p" | head -n 1
}

# ---- a. injected write errors: every flush after the first failure fails
# The failing storage: a device-mapper "error" target at MiB 16..24 (the
# rest linear on a loop device), or without device-mapper a loop device
# over a file on a full 20 MiB tmpfs whose first 16 MiB are allocated
# (writes past them fail on write-back: ENOSPC).
ff_img=$MMVM_WORK/ff.img
truncate -s 32M "$ff_img"
ff_loop=$(losetup -f --show "$ff_img") || { fail "a: losetup failed"; finish; }
loops+=("$ff_loop")
modprobe dm-mod 2>/dev/null
# Sectors: MiB 0..16 linear, 16..24 error, 24..32 linear (a read of the
# disk's end at boot finds storage). No udev in the outer VM: libdevmapper
# makes the node itself.
if printf '0 32768 linear %s 0\n32768 16384 error\n49152 16384 linear %s 49152\n' \
	"$ff_loop" "$ff_loop" | dmsetup create "$dm_name" --noudevsync 2>/dev/null; then
	dmsetup mknodes "$dm_name" 2>/dev/null
	ff_dev=/dev/mapper/$dm_name
	ff_how="device-mapper error target at MiB 16..24"
else
	ff_mnt=$MMVM_WORK/full
	mkdir -p "$ff_mnt" && mount -t tmpfs -o size=20M tmpfs "$ff_mnt" ||
		{ fail "a: no device-mapper and no tmpfs"; finish; }
	mounts+=("$ff_mnt")
	dd if=/dev/zero of="$ff_mnt/img" bs=1M count=16 2>/dev/null
	truncate -s 32M "$ff_mnt/img"
	dd if=/dev/zero of="$ff_mnt/fill" bs=1M 2>/dev/null
	ff_dev=$(losetup -f --show "$ff_mnt/img") || { fail "a: losetup failed"; finish; }
	loops+=("$ff_dev")
	ff_how="loop device over a full tmpfs (no device-mapper here)"
fi
[ -b "$ff_dev" ] || { fail "a: no $ff_dev"; finish; }
say "a: the disk: $ff_dev, $ff_how"
run_guest "$MMVM_WORK/ff.log" blk_flushfail --disk "$ff_dev$eng" \
	--stats "$MMVM_WORK/ff.stats"
grep -a '^MMVM-BLKFF' "$MMVM_WORK/ff.log" | tr -d '\r' | sed 's/^/    /'
first=$(field "$MMVM_WORK/ff.log" "MMVM-BLKFF done" first_rc)
later=$(field "$MMVM_WORK/ff.log" "MMVM-BLKFF done" later_failed)
of=$(field "$MMVM_WORK/ff.log" "MMVM-BLKFF done" of)
[ -n "$first" ] && [ "$first" != 0 ] && [ -n "$later" ] && [ "$later" = "$of" ] &&
	pass "a: guest: the first fsync failed (dd rc $first), and $later of the $of later fsyncs on good storage failed too" ||
	{ fail "a: guest: first fsync rc '$first' (want non-zero), later failed '$later' of '$of' (want all)"; show_log "$MMVM_WORK/ff.log" 30; }
fe=$(stat_of "$MMVM_WORK/ff.stats" blk0.blk_flush_errors)
fl=$(stat_of "$MMVM_WORK/ff.stats" blk0.blk_write_error_latched)
ffl=$(stat_of "$MMVM_WORK/ff.stats" blk0.blk_flushes)
[ "${fe:-0}" -ge 7 ] && [ "$fl" = 1 ] &&
	pass "a: --stats: blk0.blk_flushes $ffl, blk0.blk_flush_errors $fe, blk0.blk_write_error_latched $fl" ||
	fail "a: --stats: blk_flush_errors '$fe' (want >= 7), blk_write_error_latched '$fl' (want 1)"
nl=$(grep -a -c "^mmvm: --disk $ff_dev: write error" "$MMVM_WORK/ff.log")
xl=$(grep -a -c "^mmvm: --disk $ff_dev (blk0): not all" "$MMVM_WORK/ff.log")
[ "$nl" = 1 ] && [ "$xl" = 1 ] && [ "$RUN_GUEST_RC" = 5 ] &&
	pass "a: one latch line ('$(grep -a -m1 "^mmvm: --disk $ff_dev: write error" "$MMVM_WORK/ff.log" | tr -d '\r')'), exit flush refused, mmvm exit 5" ||
	{ fail "a: latch lines $nl (want 1), exit-flush lines $xl (want 1), mmvm exit $RUN_GUEST_RC (want 5)"; show_log "$MMVM_WORK/ff.log" 15; }
dmsetup remove "$dm_name" 2>/dev/null

# ---- c. a driver without FLUSH (and b. and e. around it)
nf_img=$MMVM_WORK/nf.img
truncate -s 64M "$nf_img"
nf_log=$MMVM_WORK/nf.log
"$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
	--cmdline "console=ttyS0 mmvm.test=blk_noflush" --timeout 300 \
	--disk "$nf_img$eng" --stats "$MMVM_WORK/nf.stats" </dev/null >"$nf_log" 2>&1 &
nf_pid=$!
for _ in $(seq 1 1200); do
	grep -a -q 'MMVM-BLKNF waiting\|MMVM-TEST-END' "$nf_log" && break
	kill -0 "$nf_pid" 2>/dev/null || break
	sleep 0.2
done
grep -a '^MMVM-BLKNF' "$nf_log" | tr -d '\r' | sed 's/^/    /'
if grep -a -q 'MMVM-BLKNF waiting' "$nf_log"; then
	# b. The image is in use: a second mmvm must not start on it.
	"$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--cmdline "console=ttyS0 mmvm.test=none" --timeout 60 \
		--disk "$nf_img" </dev/null >"$MMVM_WORK/second.log" 2>&1
	rc=$?
	line=$(grep -a "^mmvm: --disk $nf_img: in use" "$MMVM_WORK/second.log")
	[ "$rc" = 1 ] && [ -n "$line" ] &&
		pass "b: a second mmvm on the running guest's image: exit 1, '$line'" ||
		{ fail "b: second mmvm on a used image: exit $rc (want 1), line '$line'"; show_log "$MMVM_WORK/second.log" 10; }
	kill -TERM "$nf_pid"
else
	fail "c: the guest never got to its writes"
	show_log "$nf_log" 30
	kill -TERM "$nf_pid" 2>/dev/null
fi
wait "$nf_pid"
nf_rc=$?
wc=$(field "$nf_log" MMVM-BLKNF write_cache)
fb=$(field "$nf_log" MMVM-BLKNF flush_before)
fa=$(field "$nf_log" MMVM-BLKNF flush)
[ "$fb" = 1 ] && [ "$fa" = 0 ] && [ "$wc" = write_through ] &&
	pass "c: guest: FLUSH negotiated $fb before the filter, $fa after; queue write_cache '$wc'" ||
	fail "c: guest: FLUSH before '$fb' (1), after '$fa' (0), write_cache '$wc' (write_through)"
wt=$(stat_of "$MMVM_WORK/nf.stats" blk0.blk_writes_through)
nw=$(stat_of "$MMVM_WORK/nf.stats" blk0.blk_writes)
df=$(stat_of "$MMVM_WORK/nf.stats" blk0.blk_driver_flush)
[ "$wt" = 8 ] && [ "$nw" = 8 ] && [ "$df" = 0 ] &&
	pass "c: --stats: blk0.blk_writes_through $wt of blk0.blk_writes $nw, blk0.blk_driver_flush $df" ||
	fail "c: --stats: blk_writes_through '$wt', blk_writes '$nw' (want 8, 8), blk_driver_flush '$df' (0)"
want=$(field "$nf_log" "MMVM-BLKNF written" sha256)
got=$(dd if="$nf_img" bs=4096 skip=256 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
[ -n "$want" ] && [ "$want" = "$got" ] &&
	pass "c: the 32 KiB the guest wrote are in the image (sha256 $got)" ||
	fail "c: image holds sha256 $got, guest wrote '$want'"
ef=$(stat_of "$MMVM_WORK/nf.stats" blk0.blk_exit_flushes)
ee=$(stat_of "$MMVM_WORK/nf.stats" blk0.blk_exit_flush_errors)
[ "$nf_rc" = 130 ] && [ "$ef" = 1 ] && [ "$ee" = 0 ] &&
	pass "e: ended by SIGTERM (exit $nf_rc): blk0.blk_exit_flushes $ef, blk0.blk_exit_flush_errors $ee" ||
	fail "e: SIGTERM: exit $nf_rc (130), blk_exit_flushes '$ef' (1), blk_exit_flush_errors '$ee' (0)"

# ---- b. locks held by another process (python3 fcntl.lockf: a POSIX
# lock, whose holder has a pid), and d. in the same boot.
# hold FILE r|w: a background process holding a read or write lock on FILE.
hold() {
	local out=$MMVM_WORK/hold.$$.$RANDOM
	python3 - "$1" "$2" >"$out" 2>&1 <<'PY' &
import fcntl, os, sys, time
write = sys.argv[2] == "w"
fd = os.open(sys.argv[1], os.O_RDWR if write else os.O_RDONLY)
fcntl.lockf(fd, (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(600)
PY
	HOLDER=$!
	holders+=("$HOLDER")
	for _ in $(seq 1 100); do
		grep -q locked "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ro_img=$MMVM_WORK/ro.img lo_img=$MMVM_WORK/lockoff.img
head -c 1M /dev/urandom >"$ro_img"
head -c 1M /dev/urandom >"$lo_img"
extra=()
if [ "$have_python" = 1 ] && hold "$ro_img" r && ro_holder=$HOLDER &&
   hold "$lo_img" w && lo_holder=$HOLDER; then
	"$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--disk "$lo_img" </dev/null >"$MMVM_WORK/pid.log" 2>&1
	rc=$?
	line=$(grep -a "^mmvm: --disk $lo_img: in use: process $lo_holder holds a write lock" "$MMVM_WORK/pid.log")
	[ "$rc" = 1 ] && [ -n "$line" ] &&
		pass "b: a POSIX write lock held: exit 1, '$line'" ||
		{ fail "b: write-locked image: exit $rc (want 1), no line naming pid $lo_holder"; show_log "$MMVM_WORK/pid.log" 5; }
	"$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--disk "$ro_img" </dev/null >"$MMVM_WORK/rl.log" 2>&1
	rc=$?
	line=$(grep -a "^mmvm: --disk $ro_img: in use: process $ro_holder holds a read lock" "$MMVM_WORK/rl.log")
	[ "$rc" = 1 ] && [ -n "$line" ] &&
		pass "b: a read lock held refuses a writable disk: '$line'" ||
		{ fail "b: read-locked image opened read-write: exit $rc (want 1)"; show_log "$MMVM_WORK/rl.log" 5; }
	extra=(--disk "$ro_img,ro" --disk "$lo_img,lock=off")
else
	say "b: no python3 (or it could not lock): the other-process lock checks skipped"
fi

# ---- d. ,direct on 4 KiB logical blocks
k4_img=$MMVM_WORK/k4.img
head -c 16M /dev/zero >"$k4_img"
k4_loop=$(losetup -f --show --sector-size 4096 --direct-io=on "$k4_img" 2>/dev/null ||
	losetup -f --show --sector-size 4096 "$k4_img") ||
	{ fail "d: losetup --sector-size 4096 failed"; finish; }
loops+=("$k4_loop")
say "d: $k4_loop: logical block size $(blockdev --getss "$k4_loop"), direct-io $(cat "/sys/block/${k4_loop#/dev/}/loop/dio" 2>/dev/null)"
run_guest "$MMVM_WORK/k4.log" blk_4k --disk "$k4_loop,direct$eng" "${extra[@]}" \
	--stats "$MMVM_WORK/k4.stats"
grep -a '^MMVM-BLK4K' "$MMVM_WORK/k4.log" | tr -d '\r' | sed 's/^/    /'
lbs=$(field "$MMVM_WORK/k4.log" MMVM-BLK4K lbs)
want=$(field "$MMVM_WORK/k4.log" MMVM-BLK4K written_sha256)
back=$(field "$MMVM_WORK/k4.log" MMVM-BLK4K read_sha256)
[ "$RUN_GUEST_RC" = 0 ] && [ "$lbs" = 4096 ] && [ -n "$want" ] && [ "$want" = "$back" ] &&
	pass "d: guest: logical_block_size $lbs, 7 x 512 bytes at sector 3 read back the same (sha256 $back)" ||
	{ fail "d: mmvm exit $RUN_GUEST_RC, guest lbs '$lbs' (4096), wrote '$want', read '$back'"; show_log "$MMVM_WORK/k4.log" 30; }
sync
host=$(dd if="$k4_loop" bs=512 skip=3 count=7 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$host" = "$want" ] ||
	host=$(dd if="$k4_img" bs=512 skip=3 count=7 2>/dev/null | sha256sum | cut -d' ' -f1)
bs=$(stat_of "$MMVM_WORK/k4.stats" blk0.blk_block_size)
ioe=$(stat_of "$MMVM_WORK/k4.stats" blk0.blk_io_errors)
ef=$(stat_of "$MMVM_WORK/k4.stats" blk0.blk_exit_flushes)
[ "$host" = "$want" ] && [ "$bs" = 4096 ] && [ "$ioe" = 0 ] && [ "$ef" = 1 ] &&
	pass "d: the host image holds them; --stats: blk0.blk_block_size $bs, blk0.blk_io_errors $ioe, blk0.blk_exit_flushes $ef (power-off)" ||
	fail "d: host sha256 $host (want '$want'), blk_block_size '$bs' (4096), blk_io_errors '$ioe' (0), blk_exit_flushes '$ef' (1)"
if [ "${#extra[@]}" -gt 0 ]; then
	vdb=$(field "$MMVM_WORK/k4.log" MMVM-BLK4K vdb)
	vdc=$(field "$MMVM_WORK/k4.log" MMVM-BLK4K vdc)
	wb=$(head -c 4096 "$ro_img" | sha256sum | cut -d' ' -f1)
	wc=$(head -c 4096 "$lo_img" | sha256sum | cut -d' ' -f1)
	[ "$vdb" = "$wb" ] && [ "$vdc" = "$wc" ] &&
		pass "b: a ,ro disk beside another reader and a lock=off disk beside a writer both served" ||
		fail "b: ro disk read '$vdb' (want $wb), lock=off disk read '$vdc' (want $wc)"
fi
finish
