# virtio-console guest side (host side: tests/integration/test_virtio_console.sh).
# Runs a shell on /dev/hvc0: its commands come from mmvm's stdin, its output
# goes to mmvm's stdout. Returns when the host sends "exit".
[ -c /dev/hvc0 ] || { echo "MMVM-CONSOLE FAIL no /dev/hvc0"; exit 1; }
echo "MMVM-CONSOLE ready" >/dev/hvc0
sh </dev/hvc0 >/dev/hvc0 2>&1
rc=$?
echo "MMVM-CONSOLE shell exited rc=$rc"
exit $rc
