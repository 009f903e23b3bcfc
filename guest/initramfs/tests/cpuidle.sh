# What the guest's idle loop is: the cpuidle driver and governor (with
# mmvm --cpus N,pin the CPUID hint KVM_HINTS_REALTIME makes cpuidle-haltpoll
# bind; without it there is none), each CPU's idle states and how often
# they were entered, whether the kernel is tickless when idle, and the
# command line (which pin must not change). Then stays up mmvm.idle=N
# seconds (default 3) so the host can look at the vCPU threads.
# Prints:
#   MMVM-CPUIDLE driver=<name> governor=<name> nohz_idle=<0|1> cpus=<online>
#   MMVM-CPUIDLE-STATE cpu=<n> state=<name> usage=<n>   (one per state)
#   MMVM-CPUIDLE-CMDLINE <the guest's /proc/cmdline>
#   MMVM-CPUIDLE-UP seconds=<N>          (then the host looks)
idle=3
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.idle=*) idle=${arg#mmvm.idle=} ;; esac
done
sys=/sys/devices/system/cpu
driver=$(cat $sys/cpuidle/current_driver 2>/dev/null || echo missing)
# current_governor_ro is there unless cpuidle_sysfs_switch was given.
governor=$(cat $sys/cpuidle/current_governor_ro 2>/dev/null ||
	cat $sys/cpuidle/current_governor 2>/dev/null || echo missing)
nohz=$(zcat /proc/config.gz 2>/dev/null | grep -c '^CONFIG_NO_HZ_IDLE=y$')
online=$(cat $sys/online)
echo "MMVM-CPUIDLE driver=$driver governor=$governor nohz_idle=$nohz cpus=$online"
# Let every CPU go idle a little so the states' counts mean something.
sleep 1
for st in $sys/cpu[0-9]*/cpuidle/state[0-9]*; do
	[ -d "$st" ] || continue
	cpu=${st#$sys/cpu}
	cpu=${cpu%%/*}
	echo "MMVM-CPUIDLE-STATE cpu=$cpu state=$(cat "$st/name") usage=$(cat "$st/usage")"
done
echo "MMVM-CPUIDLE-CMDLINE $(cat /proc/cmdline)"
echo "MMVM-CPUIDLE-UP seconds=$idle"
sleep "$idle"
[ "$driver" != missing ] && [ "$nohz" = 1 ]
