#!/usr/bin/env bash
# Crash consistency of virtio-blk writes and flushes (issue 26), measured
# the way file-system people measure it (xfstests' log-writes tests): a
# device-mapper log-writes target under the disk image records, in the
# order the storage saw them, every write mmvm makes and every flush it
# asks for (a write enters the log only once a flush has covered it).
# Replaying the log up to any FLUSH entry gives the disk as it would be
# after a power cut right after that flush; the guest's fsync() only
# returns once mmvm's flush (fdatasync of the image) has completed.
#
#   host:  loop devices over $MMVM_WORK/data.img (64 MiB) and log.img
#          (256 MiB, sparse), "log-writes" over them, mkfs.ext4 on it,
#          mark "mkfs";
#   guest: blk_crash.sh: N rounds of "append record k, fsync, print
#          MMVM-CRASH acked k" (crashrec, guest/initramfs/helpers), plus
#          writes no fsync covers; meanwhile the host logs a mark
#          "acked-k" as soon as it reads each acked line;
#   host:  removes the target, then replays the log onto a zeroed file
#          with tools/logreplay.c, stopping at the mark "mkfs" and at every
#          FLUSH entry after it; at each stop a copy has its journal
#          replayed (e2fsck -E journal_only, what mounting after the crash
#          would do) and must pass fsck.ext4 -fn, and debugfs reads the
#          records back (crashrec check).
# Passes when: every fsck passes; every record k the guest saw acked is
# intact at the last flush before the mark "acked-k" (the flush that
# acknowledged it is in the log, after the writes it covers) and at every
# flush after that (acknowledged data never disappears); replaying the
# whole log gives back the data device byte for byte (the log, and the
# replay, miss nothing).
# MMVM_BLK_ENGINE=sync|io_uring: the disk's engine (default: mmvm's,
# io_uring where the host has it); run it once with each.
#
# Needs root, KVM and the dm-log-writes module (skipped without):
#   tests/integration/run-all.sh test_blk_crash.sh
# CRASH_ROUNDS (default 12) sets N.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

rounds=${CRASH_ROUNDS:-12}
require_root
require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm
for t in cc dmsetup losetup blockdev mkfs.ext4 e2fsck debugfs; do
	command -v "$t" >/dev/null || skip "no $t (scripts/install-deps)"
done
modprobe dm-log-writes 2>/dev/null ||
	skip "cannot load the dm-log-writes module (kernel $(uname -r))"
dmsetup targets 2>/dev/null | grep -q '^log-writes' ||
	skip "device-mapper has no log-writes target"

tools=$MMVM_REPO/tests/integration/tools
cc -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -o "$MMVM_WORK/logreplay" \
	"$tools/logreplay.c" || { fail "cannot build tools/logreplay.c"; finish; }
initrd_with_helpers crashrec || finish
lr=$MMVM_WORK/logreplay
cr=$MMVM_WORK/crashrec

data=$MMVM_WORK/data.img
log=$MMVM_WORK/log.img
dm=mmvm-crash-$$
data_loop='' log_loop=''
cleanup() {
	local _
	if dmsetup info "$dm" >/dev/null 2>&1; then
		for _ in 1 2 3 4 5; do
			dmsetup remove "$dm" 2>/dev/null && break
			sleep 1
		done
	fi
	[ -n "$log_loop" ] && losetup -d "$log_loop" 2>/dev/null
	[ -n "$data_loop" ] && losetup -d "$data_loop" 2>/dev/null
	rm -rf "$MMVM_WORK"
}
trap cleanup EXIT

truncate -s 64M "$data"
truncate -s 256M "$log"
data_loop=$(losetup -f --show "$data") &&
	log_loop=$(losetup -f --show "$log") ||
	{ fail "losetup failed"; finish; }
sectors=$(blockdev --getsz "$data_loop")
# No udev in the outer VM: libdevmapper makes the node itself.
dmsetup create "$dm" --noudevsync \
	--table "0 $sectors log-writes $data_loop $log_loop" ||
	{ fail "dmsetup create log-writes failed"; finish; }
dev=/dev/mapper/$dm
[ -b "$dev" ] || dmsetup mknodes "$dm" 2>/dev/null
[ -b "$dev" ] || { fail "no $dev after dmsetup create"; finish; }
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" ||
	{ fail "mkfs.ext4 on $dev failed"; finish; }
dmsetup message "$dm" 0 mark mkfs || { fail "cannot mark the log"; finish; }

# --- the guest -------------------------------------------------------------
console=$MMVM_WORK/guest.log
: >"$console"
(
	GUEST_CMDLINE_EXTRA="mmvm.crash_n=$rounds" run_guest "$console" \
		blk_crash --disk "$dev${MMVM_BLK_ENGINE:+,engine=$MMVM_BLK_ENGINE}"
	echo "$RUN_GUEST_RC $RUN_GUEST_SECONDS" >"$MMVM_WORK/rc"
) &
guest=$!
# mark_acked: a mark "acked-k" for every new acked line. A mark lands in
# the log after every flush that had completed when it was sent; the
# guest printed "acked k" after its fsync's flush completed, so the
# flush that acknowledged k is before the mark, however late it comes.
marked=0
mark_acked() {
	local k
	for k in $(tr -d '\r' <"$console" |
		   sed -n 's/^.*MMVM-CRASH acked \([0-9][0-9]*\)$/\1/p'); do
		[ "$k" -gt "$marked" ] || continue
		dmsetup message "$dm" 0 mark "acked-$k" ||
			fail "cannot mark acked-$k"
		marked=$k
	done
}
while kill -0 "$guest" 2>/dev/null; do
	mark_acked
	sleep 0.2
done
wait "$guest"
mark_acked
read -r grc gsecs <"$MMVM_WORK/rc" 2>/dev/null || grc="?" gsecs="?"
tr -d '\r' <"$console" >"$MMVM_WORK/guest.txt"
acked=$(sed -n 's/^.*MMVM-CRASH acked \([0-9][0-9]*\)$/\1/p' "$MMVM_WORK/guest.txt")
nacked=$(wc -w <<<"$acked")
if [ "$grc" = 0 ] && [ "$(guest_test_rc "$MMVM_WORK/guest.txt")" = 0 ] &&
   [ "$nacked" = "$rounds" ]; then
	pass "guest: $rounds rounds of append + fsync, $nacked acked ($gsecs s)"
else
	fail "guest: mmvm exit $grc, guest test rc '$(guest_test_rc "$MMVM_WORK/guest.txt")'," \
		"$nacked of $rounds records acked"
	show_log "$MMVM_WORK/guest.txt" 30
fi

# Removing the target logs what no flush covered yet and a last mark,
# and rewrites the super block's entry count.
dmsetup remove "$dm" || { fail "dmsetup remove $dm failed"; finish; }
losetup -d "$log_loop" && log_loop=
losetup -d "$data_loop" && data_loop=

# --- the log ---------------------------------------------------------------
list=$MMVM_WORK/list.txt
"$lr" --list "$log" >"$list" || { fail "logreplay --list failed"; finish; }
nentries=$(awk '/^#/ { print $2; exit }' "$list")
mkfs_at=$(awk '!/^#/ && $4 == "MARK" && $5 == "mkfs" { print $1; exit }' "$list")
[ -n "$mkfs_at" ] || { fail "no mark 'mkfs' in the log"; finish; }
# Stops: the mark "mkfs", then every FLUSH entry after it.
stops=$(awk -v m="$mkfs_at" '!/^#/ && ($1 == m || ($1 > m && $4 ~ /FLUSH/)) { print $1 }' "$list")
nflush_all=$(awk '!/^#/ && $4 ~ /FLUSH/' "$list" | wc -l)
nstops=$(wc -w <<<"$stops")
say "log: $nentries entries, $nflush_all FLUSH entries ($((nstops - 1)) after the mark mkfs)," \
	"$(awk '!/^#/ && $4 == "MARK"' "$list" | wc -l) marks"

replay=$MMVM_WORK/replay.img
snap=$MMVM_WORK/snap.img
truncate -s "$(stat -c %s "$data")" "$replay"
# check_stop IDX: replays up to entry IDX (from where the last stop left
# off), checks a copy and records its intact records in $MMVM_WORK/at.IDX.
from=0 nfsck=0 nbad=0 t0=$(date +%s)
check_stop() {
	local at=$1 out
	out=$("$lr" --from "$from" --replay-to "$at" "$log" "$replay" 2>&1) || {
		fail "replay to entry $at: $out"; return 1; }
	from=$((at + 1))
	cp --sparse=always "$replay" "$snap"
	e2fsck -E journal_only -y "$snap" >"$MMVM_WORK/jr.txt" 2>&1
	[ $? -le 1 ] || { fail "entry $at: journal replay failed"
		show_log "$MMVM_WORK/jr.txt" 10; nbad=$((nbad + 1)); return 0; }
	if ! fsck.ext4 -fn "$snap" >"$MMVM_WORK/fsck.txt" 2>&1; then
		fail "entry $at: fsck.ext4 -fn found errors"
		show_log "$MMVM_WORK/fsck.txt" 15
		nbad=$((nbad + 1))
		return 0
	fi
	nfsck=$((nfsck + 1))
	rm -f "$MMVM_WORK/rec.bin"
	debugfs -R "dump /records $MMVM_WORK/rec.bin" "$snap" >/dev/null 2>&1
	out=
	[ -f "$MMVM_WORK/rec.bin" ] && out=$("$cr" check "$MMVM_WORK/rec.bin")
	out=${out#intact=}
	out=${out%% *}
	echo "${out//,/ }" >"$MMVM_WORK/at.$at"
}
for s in $stops; do
	check_stop "$s" || break
done
secs=$(($(date +%s) - t0))
[ "$nbad" = 0 ] && [ "$nfsck" = "$nstops" ] &&
	pass "$nfsck stops replayed (the mark mkfs and $((nstops - 1)) FLUSH entries), each passes fsck.ext4 -fn after its journal replay ($secs s)" ||
	fail "$nfsck of $nstops stops replayed and passed fsck.ext4 -fn"

# has STOP K: is record K intact at STOP?
has() { grep -qw "$2" "$MMVM_WORK/at.$1" 2>/dev/null; }

# Acked at the flush before its mark, and never lost after.
lost=0 late=0 first_flush=
for k in $acked; do
	m=$(awk -v n="acked-$k" '!/^#/ && $4 == "MARK" && $5 == n { print $1; exit }' "$list")
	cover=$(awk -v m="${m:-0}" -v f="$mkfs_at" '!/^#/ && $1 > f && $1 < m && $4 ~ /FLUSH/ { c = $1 } END { print c }' "$list")
	if [ -z "$m" ] || [ -z "$cover" ] || ! has "$cover" "$k"; then
		late=$((late + 1))
		[ "$late" -le 3 ] &&
			say "  record $k: not intact at the last flush (entry '${cover:-none}') before its mark (entry '${m:-none}')"
	fi
	[ "$k" = 1 ] && first_flush=$cover
	for s in $stops; do
		[ -n "$cover" ] && [ "$s" -gt "$cover" ] || continue
		has "$s" "$k" && continue
		lost=$((lost + 1))
		[ "$lost" -le 3 ] && say "  record $k: intact at entry $cover, gone at entry $s"
		break
	done
done
[ "$nacked" -gt 0 ] && [ "$late" = 0 ] &&
	pass "each of the $nacked acked records is intact at the last flush before its mark (record 1 from entry $first_flush)" ||
	fail "$late of $nacked acked records are not intact at the flush that acknowledged them"
if [ "$lost" != 0 ]; then
	fail "$lost acked records disappear at a later flush"
elif [ "$nacked" -gt 0 ] && [ "$late" = 0 ]; then
	pass "no acked record disappears at a later flush"
else
	say "  whether acked records stay at later flushes: not checked for the $late found at no flush"
fi

# The whole log against the data device: nothing missing from either.
last=$((nentries - 1))
if out=$("$lr" --from "$from" --replay-to "$last" "$log" "$replay" 2>&1) &&
   cmp -s "$replay" "$data"; then
	pass "replaying all $nentries entries gives the data device byte for byte"
else
	fail "full replay: ${out:-differs from the data device}"
fi
finish
