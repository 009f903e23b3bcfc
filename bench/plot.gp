# gnuplot script for docs/benchmarks.png, fed by bench/report.py's data file:
#   gnuplot -e "dat='FILE'; png='OUT.png'" bench/plot.gp
# Left: TCP_RR trans/s (median, min-max bars). Right: exits per transaction,
# stacked by kind.
set terminal pngcairo size 1200,560 font "DejaVu Sans,10"
set output png
set multiplot layout 1,2 title "TCP request/response (32 B / 1024 B), nested KVM: mmvm vs QEMU"
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set xtics rotate by -25 noenhanced
set yrange [0:*]
set title "transactions / s (median, min-max)"
unset key
plot dat using 0:2:xtic(1) with boxes lc rgb "#4878a8", \
     dat using 0:2:3:4 with yerrorbars lc rgb "black" pt -1
set title "KVM exits per transaction"
set key below horizontal noenhanced
set style data histogram
set style histogram rowstacked
set boxwidth 0.6 relative
plot dat using 5:xtic(1) title "HLT" lc rgb "#4878a8", \
     '' using 6 title "host interrupt" lc rgb "#e49444", \
     '' using 7 title "MMIO to VMM" lc rgb "#d1615d", \
     '' using 8 title "port I/O to VMM" lc rgb "#85b6b2", \
     '' using 9 title "other (in-kernel MMIO, MSR, ...)" lc rgb "#6a9f58"
unset multiplot
