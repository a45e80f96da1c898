#!/usr/bin/env bash
# run_demand_zero.sh -- runs bench_demand_zero once per libvmem configuration
# (the configuration is read from the environment once per process) and
# prints a markdown table of the RESULT lines.
#
#   bench/run_demand_zero.sh [-n PAGES] [-s SLOW_PAGES] [-r REPS] [-h]
#
#   -n PAGES       pages per pass, 2..4194304 (default 65536 = 256 MiB)
#   -s SLOW_PAGES  pages per pass for the slow configuration, 2..4194304
#                  (default PAGES/4, at least 2)
#   -r REPS        measured repetitions per case, 1..1000 (default 5)
#   -h             print this help and exit
#
# Configurations (mode, VMEM_FAULT_THREADS, VMEM_ZERO_CLUSTER,
# VMEM_FAULT_SPIN_US):
#   thread, fault threads cpu (one pinned per CPU) and 1 (one unpinned),
#     each with cluster 1, 16 and 64 (64: sequential only), spin 0;
#   thread, fault threads cpu, cluster 16, spin 50;
#   signal, cluster 1, 16 and 64 (64: sequential only);
#   kernel.
# The one slow configuration, thread with 1 fault thread and cluster 1,
# takes a userfaultfd round trip per page that often includes a cross-CPU
# wake-up (~45 us), so it uses SLOW_PAGES pages to keep the whole script
# under about three minutes on a 2-vCPU machine; the table's "pages" column
# says which size a row used.  The bench program does not print the fault
# thread setting: the table's "ft=" is the value the script set.
#
# Environment: BUILD_DIR (default <repo>/build), BENCH_TIMEOUT (seconds per
# run, default 300).  The raw output goes to bench/out/ (git-ignored).
# Exit status: 0, 1 if a run failed, 2 on bad usage.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
bin=$build/bench/bench_demand_zero
timeout_s=${BENCH_TIMEOUT:-300}

pages=65536
slow_pages=
reps=5

usage() {
    echo "usage: $0 [-n PAGES] [-s SLOW_PAGES] [-r REPS] [-h]"
}
show_help() {
    # The comment block at the top of this file, from line 2.
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}
while getopts ":n:s:r:h" opt; do
    case $opt in
    n) pages=$OPTARG ;;
    s) slow_pages=$OPTARG ;;
    r) reps=$OPTARG ;;
    h) show_help; exit 0 ;;
    :) echo "$0: option -$OPTARG needs an argument" >&2; usage >&2; exit 2 ;;
    *) echo "$0: unknown option -$OPTARG" >&2; usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
    echo "$0: unexpected argument '$1'" >&2; usage >&2; exit 2
fi
# Plain decimal numbers only (at most 9 digits: no overflow, and 10#
# keeps a leading zero from meaning octal).
for v in "$pages" "$reps" "$timeout_s" ${slow_pages:+"$slow_pages"}; do
    case $v in
    ''|*[!0-9]*|??????????*) echo "$0: not a number: '$v'" >&2; usage >&2; exit 2 ;;
    esac
done
pages=$((10#$pages)); reps=$((10#$reps)); timeout_s=$((10#$timeout_s))
[ -n "$slow_pages" ] && slow_pages=$((10#$slow_pages))
# The ranges bench_demand_zero accepts.
if [ "$pages" -lt 2 ] || [ "$pages" -gt 4194304 ]; then
    echo "$0: PAGES must be 2..4194304" >&2; usage >&2; exit 2
fi
if [ -n "$slow_pages" ] && { [ "$slow_pages" -lt 2 ] || [ "$slow_pages" -gt 4194304 ]; }; then
    echo "$0: SLOW_PAGES must be 2..4194304" >&2; usage >&2; exit 2
fi
if [ "$reps" -lt 1 ] || [ "$reps" -gt 1000 ]; then
    echo "$0: REPS must be 1..1000" >&2; usage >&2; exit 2
fi
if [ "$timeout_s" -lt 1 ]; then
    echo "$0: BENCH_TIMEOUT must be at least 1" >&2; exit 2
fi
[ -n "$slow_pages" ] || slow_pages=$((pages / 4))
[ "$slow_pages" -ge 2 ] || slow_pages=2

if [ ! -x "$bin" ]; then
    echo "$0: $bin not found; build first: cd $repo && (test -d build || meson setup build) && ninja -C build" >&2
    exit 1
fi

outdir=$repo/bench/out
mkdir -p "$outdir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log=$outdir/demand_zero-$stamp.log
: >"$log"

# mode fault-threads cluster spin patterns pages-class ("-": not set)
configs=(
    "thread cpu 1 0 all full"
    "thread cpu 16 0 all full"
    "thread cpu 64 0 seq full"
    "thread 1 1 0 all slow"
    "thread 1 16 0 all full"
    "thread 1 64 0 seq full"
    "thread cpu 16 50 all full"
    "signal - 1 - all full"
    "signal - 16 - all full"
    "signal - 64 - seq full"
    "kernel - - - all full"
)

failed=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
for c in "${configs[@]}"; do
    read -r mode ft cluster spin pat class <<<"$c"
    n=$pages
    [ "$class" = slow ] && n=$slow_pages
    vars=(VMEM_FAULT_MODE="$mode")
    [ "$ft" != - ] && vars+=(VMEM_FAULT_THREADS="$ft")
    [ "$cluster" != - ] && vars+=(VMEM_ZERO_CLUSTER="$cluster")
    [ "$spin" != - ] && vars+=(VMEM_FAULT_SPIN_US="$spin")
    cmd=("$bin" -k -n "$n" -r "$reps" -p "$pat")
    echo "## config: ${vars[*]} ${cmd[*]}" >>"$log"
    echo "running: ${vars[*]} bench_demand_zero ${cmd[*]:1}" >&2
    t0=$(date +%s)
    errf=$(mktemp)
    timeout -k 10 "$timeout_s" env -u VMEM_FAULT_MODE -u VMEM_FAULT_THREADS \
        -u VMEM_ZERO_CLUSTER -u VMEM_FAULT_SPIN_US -u VMEM_REPORT "${vars[@]}" "${cmd[@]}" >>"$log" 2>"$errf"
    rc=$?
    cat "$errf" >>"$log"
    if [ $rc -ne 0 ]; then
        failed=1
        why="exit status $rc"
        [ $rc -eq 124 ] && why="timed out after ${timeout_s}s (hang?)"
        [ $rc -gt 128 ] && [ $rc -ne 124 ] && why="killed by signal $((rc - 128))"
        echo "FAILED mode=$mode ft=$ft cluster=$cluster spin=$spin: $why" | tee -a "$log" >&2
        tail -n 5 "$errf" | sed 's/^/    /' >&2
    fi
    rm -f "$errf"
    echo "   done in $(( $(date +%s) - t0 ))s" >&2
done
total=$(( $(date +%s) - t_start ))

echo "Command: \`bench/run_demand_zero.sh -n $pages -s $slow_pages -r $reps\`" \
     "($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPUs, Linux $(uname -r)," \
     "${total}s; raw output: bench/out/${log##*/})"
echo "Load average before the run: $load_before (anything else running on the machine skews the figures)."
grep -m1 '^# clock: ' "$log" | sed 's/^# clock: /Clock: /'
grep -m1 '^# transparent_hugepage: ' "$log" | sed 's/^# transparent_hugepage: /Transparent huge pages: /'
echo
echo "Medians of $reps repetitions; ratio = libvmem / kernel; ft = VMEM_FAULT_THREADS" \
     "(as set by this script), c = VMEM_ZERO_CLUSTER, spin = VMEM_FAULT_SPIN_US;" \
     "app threads: threads touching the pages.  p50/p99: per-touch latency." \
     "libvmem faults: demand-zero faults libvmem counted in one pass; mean fault µs:" \
     "mean of that many slowest touches (every touch on the kernel back-end)."
echo
echo "| config | pattern | app threads | pages | ns/page libvmem | ns/page kernel | ratio | p50 µs libvmem / kernel | p50 ratio | p99 µs libvmem / kernel | p99 ratio | libvmem faults | mean fault µs libvmem / kernel |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk '
/^## config:/ {
    # The fault thread setting is not in the RESULT line: take the one
    # this script set (the library default, cpu, if none).
    ft = "cpu"
    if (match($0, /VMEM_FAULT_THREADS=[^ ]+/))
        ft = substr($0, RSTART + 19, RLENGTH - 19)
}
/^# WARNING/ { print "warning: " $0 > "/dev/stderr" }
/^RESULT / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    if (f["mode"] == "thread")      cfg = sprintf("thread ft=%s c=%s spin=%s", ft, f["cluster"], f["spin_us"])
    else if (f["mode"] == "signal") cfg = sprintf("signal c=%s", f["cluster"])
    else                            cfg = f["mode"]
    printf "| %s | %s | %s | %s | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f | %.1f / %.1f | %.2f | %s | %s |\n",
        cfg, f["pattern"], f["threads"], f["pages"], f["vmem_ns"], f["kern_ns"], f["ratio"],
        f["vmem_p50_us"], f["kern_p50_us"], f["p50_ratio"],
        f["vmem_p99_us"], f["kern_p99_us"], f["p99_ratio"], f["vmem_dz_faults"],
        (f["vmem_dz_faults"] > 0 ? sprintf("%.1f / %.1f", f["vmem_fault_us"], f["kern_fault_us"]) : "-")
}
/^FAILED / { printf "| %s | FAILED | | | | | | | | | | | |\n", substr($0, 8) }
' "$log"

exit $failed
