#!/usr/bin/env bash
# virtio-rng end to end, for the modes 2plain, 2 and 3: the guest's
# /sys/class/misc/hw_random/rng_current names the virtio device and
# /dev/hwrng gives 4096 bytes that look random (guest test rng.sh).
#
# Needs KVM: tests/integration/run-all.sh test_virtio_rng.sh
# Env: MMVM_RNG_VERSIONS (default "2 3"), and lib.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT_RNG:-300}
versions=${MMVM_RNG_VERSIONS:-2plain 2 3}

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

for v in $versions; do
	log=$MMVM_WORK/rng-$v.log
	transport_opts "$v" || { fail "unknown mode $v"; continue; }
	run_guest "$log" rng --rng "${TRANSPORT_OPTS[@]}" \
		--stats "$MMVM_WORK/rng-$v.stats"
	line=$(grep -a -o "MMVM-RNG .*" "$log" | tr -d '\r')
	if [ "$RUN_GUEST_RC" = 0 ] && [ "$(guest_test_rc "$log")" = 0 ]; then
		pass "virtio-mmio $v: $line ($RUN_GUEST_SECONDS s)"
		grep -E "^rng0\.(irqs_legacy|irqs_msi_1|isr_reads|queue_notify_exits|notifies_0|doorbells_kvm_0) " \
			"$MMVM_WORK/rng-$v.stats" | tr '\n' ' ' | sed 's/^/    stats: /'
		echo
	else
		fail "virtio-mmio $v: mmvm exit $RUN_GUEST_RC: $line"
		show_log "$log" 40
	fi
done

finish
