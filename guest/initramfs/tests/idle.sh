# Stays up for mmvm.idle=N seconds (default 5) after init printed its
# MMVM-GUEST line, so the host can look at the running mmvm process.
idle=5
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.idle=*) idle=${arg#mmvm.idle=} ;; esac
done
echo "MMVM-IDLE start seconds=$idle"
sleep "$idle"
echo "MMVM-IDLE end"
