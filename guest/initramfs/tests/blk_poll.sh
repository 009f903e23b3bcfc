# Bounded polling (mmvm --disk IMG,poll=US; host side:
# tests/integration/test_blk_poll.sh). Two readers at once keep a request
# coming while the worker polls; then the guest idles, framed by lines the
# host reads the mmvm process's CPU time at:
#   MMVM-POLL io rc=<dd status> md5=<of the first 4 MiB>
#   MMVM-POLL idle-begin / MMVM-POLL idle-end (mmvm.poll_idle=N s, 6)
idle=6
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.poll_idle=*) idle=${arg#mmvm.poll_idle=} ;; esac
done
dd if=/dev/vda of=/dev/null bs=4k count=1500 skip=2048 iflag=direct \
	2>/dev/null &
p=$!
md5=$(dd if=/dev/vda bs=4k count=1024 iflag=direct 2>/dev/null | md5sum |
	cut -d' ' -f1)
wait "$p"
echo "MMVM-POLL io rc=$? md5=$md5"
echo "MMVM-POLL idle-begin"
sleep "$idle"
echo "MMVM-POLL idle-end"
# Time for the host to read the CPU time before the VM goes away.
sleep 2
