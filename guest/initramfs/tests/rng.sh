# virtio-rng: /dev/hwrng is backed by the virtio device and gives data.
# Prints: MMVM-RNG current=<name> bytes=<n> distinct=<n>
cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
bytes=$(head -c 4096 /dev/hwrng | wc -c)
# 64 random bytes as hex words: nearly all distinct if really random.
distinct=$(head -c 64 /dev/hwrng | od -An -tx2 | tr -s ' ' '\n' |
	grep . | sort -u | wc -l)
echo "MMVM-RNG current=$cur bytes=$bytes distinct=$distinct"
case "$cur" in virtio_rng*) ;; *) exit 1 ;; esac
[ "$bytes" = 4096 ] && [ "$distinct" -gt 24 ]
