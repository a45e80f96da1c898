#!/usr/bin/env bash
# ab_integrity.sh BASE_BUILD NEW_BUILD [REPS] -- page-in cost of two builds
# of libvmem, interleaved in one run (same machine state), and of the new
# one with page-file checksums off: bench_paging -b vmem, F = 256 MiB under
# a 64 MiB cap, workloads seq, randread, zipf.  Prints one line per run.
set -eu
base=$1 new=$2 reps=${3:-3}
for rep in $(seq 1 "$reps"); do
    for w in seq randread zipf; do
        for v in base new new-nocsum; do
            b=$new ck=on
            [ "$v" = base ] && b=$base
            [ "$v" = new-nocsum ] && ck=off
            ops=""
            [ "$w" = randread ] && ops="-o 16384"
            r=$(VMEM_PAGEFILE_CHECKSUM=$ck VMEM_MAX_RESIDENT=64M VMEM_PAGEFILE=/var/tmp \
                "$b/bench/bench_paging" -b vmem -s 256M -w "$w" $ops | grep '^RESULT')
            echo "rep=$rep workload=$w build=$v $(echo "$r" | grep -oE 'pages_per_sec=[0-9]+|p50_us=[0-9.]+|p99_us=[0-9.]+|errors=[0-9]+' | tr '\n' ' ')"
        done
    done
done
