/* Snapshot of a running VM's KVM counters, taken by "rr server" when the
 * guest marks the edge of a workload (see kvm_snapshot.c). */
#ifndef BENCH_RR_KVM_SNAPSHOT_H
#define BENCH_RR_KVM_SNAPSHOT_H

/* Writes the snapshot for mark TAG as described by state directory DIR.
 * Returns 0, or -1 after printing a one-line error. */
int kvm_snapshot(const char *dir, const char *tag);

#endif
