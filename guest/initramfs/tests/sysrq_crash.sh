# Crash the kernel on purpose (SysRq c): the host must see the panic
# through pvpanic and exit 2.
echo "MMVM-SYSRQ crashing"
echo 1 >/proc/sys/kernel/sysrq 2>/dev/null
echo c >/proc/sysrq-trigger
echo "MMVM-SYSRQ still alive"
exit 1
