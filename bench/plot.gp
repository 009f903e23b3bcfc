# gnuplot script for docs/benchmarks.png, fed by bench/report.py's data file:
#   gnuplot -e "dat='FILE'; png='OUT.png'" bench/plot.gp
# Left: TCP_RR trans/s (median, min-max bars). Right: exits per transaction,
# stacked: the I/O path's exact parts (notifications, EOIs, exits to the
# VMM) and the rest (HLT, timer ticks, ...).
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
plot dat using 5:xtic(1) title "notifications" lc rgb "#4878a8", \
     '' using 6 title "EOI writes" lc rgb "#e49444", \
     '' using 7 title "exits to the VMM (ISR read/ACK)" lc rgb "#d1615d", \
     '' using 8 title "other: HLT, timer ticks, interrupt window, ..." lc rgb "#6a9f58"
unset multiplot
