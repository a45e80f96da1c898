#!/usr/bin/env bash
# run_compress.sh -- the compressed store (VMEM_COMPRESS) against libvmem's
# page file and the kernel's zswap.
#
#   bench/run_compress.sh [-s SIZE] [-r REPS] [-d DIR] [-p PARTS]
#
# Part "fault" (bench_compress): a SIZE footprint (default 256M) of pages
# that compress ~8:1, cap SIZE/4, uniform random page reads, each timed:
#   store   libvmem, VMEM_COMPRESS=lz4, VMEM_COMPRESS_MAX=75% (the store
#           holds nearly every page that left: faults served from RAM);
#   ssd     libvmem, VMEM_COMPRESS=off: hard faults from the page file in DIR;
#   zswap   the kernel: mmap'd memory in a cgroup-v1 memory group limited to
#           the cap (+ bookkeeping), a swap file in DIR, zswap enabled with
#           lz4 for the run, or lzo-rle where the kernel has no lz4 (its
#           settings are restored on exit).
# The three take turns, the first of each round rotating; the table gives the
# median of REPS (default 5) per-run p50 and mean touch latencies, and
# their ratios to the store's.
# Part "lists": python3 bench/lists.py under `vmem run` with a cap of 1/3 of
# its native peak RSS, with VMEM_COMPRESS=lz4 and off, alternating; median
# wall seconds.
# Needs root.  Everything it creates (swap file, cgroup, DIR/vmemcompress.*)
# is removed on exit; zswap's enabled/compressor are put back.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bench=$build/bench/bench_compress
vmem=$build/tools/vmem
size=256M reps=5 dir=/var/tmp parts="fault lists"
while getopts ":s:r:d:p:" o; do
    case $o in
    s) size=$OPTARG ;; r) reps=$OPTARG ;; d) dir=$OPTARG ;; p) parts=$OPTARG ;;
    *) echo "usage: $0 [-s SIZE] [-r REPS] [-d DIR] [-p 'fault lists']" >&2; exit 2 ;;
    esac
done
[ -x "$bench" ] && [ -x "$vmem" ] || { echo "$0: build first ($bench, $vmem)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (swapon, cgroup, zswap)" >&2; exit 1; }
case $reps in ''|*[!0-9]*) echo "$0: -r: not a count: $reps" >&2; exit 2 ;; esac
bytes=$(numfmt --from=iec "$size" 2>/dev/null) || { echo "$0: -s: not a size: $size" >&2; exit 2; }
cap_m=$((bytes / 4 >> 20))
zs=/sys/module/zswap/parameters
cg=/sys/fs/cgroup/memory/vmemcompress
work=$(mktemp -d "$dir/vmemcompress.XXXXXX") || exit 1
swapfile=$work/swapfile
zs_enabled=$(cat $zs/enabled 2>/dev/null) zs_comp=$(cat $zs/compressor 2>/dev/null)
cleanup() {
    [ -d "$cg" ] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p"; done
                      sleep 0.5; rmdir "$cg"; }
    grep -q "^$swapfile " /proc/swaps && swapoff "$swapfile"
    [ -n "$zs_comp" ] && echo "$zs_comp" >$zs/compressor
    [ -n "$zs_enabled" ] && echo "$zs_enabled" >$zs/enabled
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
field() { tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

case " $parts " in *" fault "*)
fallocate -l $((2 * bytes)) "$swapfile" && chmod 600 "$swapfile" && mkswap -q "$swapfile" >/dev/null &&
    swapon -p 32767 "$swapfile" || { echo "$0: cannot set up swap" >&2; exit 1; }
mkdir "$cg" || exit 1
# lz4 where the kernel has it, else lzo-rle (the closest in speed)
{ echo lz4 >$zs/compressor 2>/dev/null || echo lzo-rle >$zs/compressor; } && echo Y >$zs/enabled ||
    { echo "$0: cannot enable zswap with lz4 or lzo-rle" >&2; exit 1; }
# bench_compress's own memory besides the footprint: latencies 8 B/op,
# page tables 8 B/page, 4 MiB for the binary, libc and stacks
slack=$((8 * bytes / 4096 / 2 + 8 * bytes / 4096 + (4 << 20)))
echo "# footprint $size, cap $cap_m MiB (cgroup limit + $((slack >> 10)) KiB bookkeeping), zswap $(cat $zs/compressor), max_pool_percent $(cat $zs/max_pool_percent)"
run() { # kind -> RESULT line
    sync; echo 3 >/proc/sys/vm/drop_caches
    case $1 in
    store) VMEM_MAX_RESIDENT=${cap_m}M VMEM_COMPRESS=lz4 VMEM_COMPRESS_MAX=75% VMEM_PAGEFILE=$work \
               "$bench" -b vmem -s "$size" ;;
    ssd)   VMEM_MAX_RESIDENT=${cap_m}M VMEM_COMPRESS=off VMEM_PAGEFILE=$work "$bench" -b vmem -s "$size" ;;
    zswap) echo $(((cap_m << 20) + slack)) >"$cg/memory.limit_in_bytes"
           sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$bench" -b kernel -s "$size" ;;
    esac | grep '^RESULT'
}
kinds=(store ssd zswap)
declare -A p50 mean
for r in $(seq "$reps"); do
    for k in 0 1 2; do
        kind=${kinds[$(((r + k) % 3))]}
        line=$(run "$kind")
        echo "$kind: $line"
        p50[$kind]+="$(echo "$line" | field p50_us) "
        mean[$kind]+="$(echo "$line" | field mean_us) "
    done
done
echo
echo "| page comes back from | p50 µs (median of $reps) | mean µs | p50 / store's | mean / store's |"
echo "|---|---:|---:|---:|---:|"
sp=$(echo ${p50[store]} | tr ' ' '\n' | median) sm=$(echo ${mean[store]} | tr ' ' '\n' | median)
for kind in store ssd zswap; do
    p=$(echo ${p50[$kind]} | tr ' ' '\n' | median) m=$(echo ${mean[$kind]} | tr ' ' '\n' | median)
    echo "| $kind | $p | $m | $(awk -v a="$p" -v b="$sp" 'BEGIN { printf "%.2f", a / b }') | $(awk -v a="$m" -v b="$sm" 'BEGIN { printf "%.2f", a / b }') |"
done
swapoff "$swapfile"
echo "$zs_enabled" >$zs/enabled
;; esac

case " $parts " in *" lists "*)
prog=(/usr/bin/python3 "$here/lists.py")
"${prog[@]}" >"$work/expected"
foot_kib=$(/usr/bin/time -f %M "${prog[@]}" 2>&1 >/dev/null | tail -1)
lcap=$((foot_kib / 3 / 1024))
echo
echo "# python3 lists.py: native peak RSS $foot_kib KiB, cap 1/3 = $lcap MiB"
declare -A wall
for r in $(seq "$reps"); do
    for k in 0 1; do
        c=$([ $(((r + k) % 2)) = 0 ] && echo lz4 || echo off)
        sync; echo 3 >/proc/sys/vm/drop_caches
        VMEM_COMPRESS=$c VMEM_REPORT="$work/report.$c.$r" /usr/bin/time -f %e -o "$work/t" \
            "$vmem" run --max-resident "${lcap}M" --pagefile "$work" -- "${prog[@]}" >"$work/out" 2>/dev/null
        rc=$?
        cmp -s "$work/out" "$work/expected" || { echo "$c: WRONG OUTPUT (status $rc)"; continue; }
        s=$(tail -1 "$work/t")
        echo "$c: $s s, $(grep -E 'hard faults|pages read' "$work/report.$c.$r" | tr -s ' ' | tr '\n' ';')"
        wall[$c]+="$s "
    done
done
lz=$(echo ${wall[lz4]} | tr ' ' '\n' | median) off=$(echo ${wall[off]} | tr ' ' '\n' | median)
echo
echo "| python3 lists.py, cap $lcap MiB | wall s (median of $reps) |"
echo "|---|---:|"
echo "| VMEM_COMPRESS=lz4 | $lz |"
echo "| VMEM_COMPRESS=off | $off |"
echo "| off / lz4 | $(awk -v a="$off" -v b="$lz" 'BEGIN { printf "%.2f", a / b }') |"
;; esac
