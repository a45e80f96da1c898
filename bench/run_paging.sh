#!/usr/bin/env bash
# run_paging.sh -- paging: libvmem against the kernel's own swap and raw io_uring.
#
#   bench/run_paging.sh [-q] [-s SIZE] [-r REPS] [-d DIR] [-p PARTS] [-m ROWS]
#                       [-o OPS] [-c CLUSTER] [-S SLACK_MIB] [-h]
#
# Footprint F = SIZE (default 1G), cap C = F/4.  Three parts (-p, default
# "rawio kernel vmem"):
#   rawio   bench_rawio: 4 KiB reads on an F-byte file in DIR (O_DIRECT if the
#           file system allows): random at depth 1 and 2 with 1 and 2 threads,
#           and sequential at depth 1;
#   kernel  bench_paging -b kernel in a cgroup-v1 memory group limited to C
#           (plus the program's own bookkeeping, see -S), with a 4 GiB swap
#           file in DIR as the only swap this script adds (swap unlimited);
#   vmem    bench_paging -b vmem with VMEM_MAX_RESIDENT=C and
#           VMEM_PAGEFILE=DIR/vmembench.PID/pagefile (a fresh directory), no
#           cgroup.  A probe run first checks that libvmem keeps to the cap;
#           until libvmem pages, those rows read "libvmem paging not
#           available yet".
# Rows (-m, "workload:threads ..."), default
#   "seq:1 randread:1 randwrite:1 zipf:1 randread:2 zipf:2".
# Page touches (-o): randread/randwrite default F/16 KiB (a quarter of the
# pages), zipf F/4 KiB (one per page), seq always 2 passes.  Every run is
# repeated REPS times (default 3); the tables give the median and the best
# (max ops/s) or min (latency) of the repetitions.  Caches are dropped
# before every run.
#
# -q: quick run, SIZE 256M and REPS 1 (explicit -s/-r still win).
# -c: VMEM_CLUSTER for the libvmem runs (default: libvmem's own).
# -S: MiB added to the cgroup limit for what bench_paging allocates besides
#     the footprint (its arrays, page tables, stacks); default computed per
#     run; -S 0 sets the limit to exactly C.
#
# Needs root (swapon, cgroup, drop_caches).  Everything it creates (swap
# file, cgroup /sys/fs/cgroup/memory/vmembench, DIR/vmembench.PID/) is
# removed on exit, also on failure or interruption, and checked.
# Environment: BUILD_DIR (default <repo>/build), BENCH_TIMEOUT (seconds per
# run, default 600).  Raw output: bench/out/paging-STAMP.log (git-ignored).
# VMEM_* variables set reach the libvmem runs (VMEM_FAULT_MODE,
# VMEM_READAHEAD and VMEM_PREFETCH_INSTALL are shown in the log).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
paging=$build/bench/bench_paging
rawio=$build/bench/bench_rawio
timeout_s=${BENCH_TIMEOUT:-600}
cgroot=/sys/fs/cgroup/memory
cg=$cgroot/vmembench
swap_size=4G

orig_args=("$@")
size_arg= reps_arg= quick=0 dir=/var/tmp parts="rawio kernel vmem"
rows="seq:1 randread:1 randwrite:1 zipf:1 randread:2 zipf:2"
ops_arg= cluster= slack_arg=

usage() {
    echo "usage: $0 [-q] [-s SIZE] [-r REPS] [-d DIR] [-p PARTS] [-m ROWS] [-o OPS] [-c CLUSTER] [-S SLACK_MIB] [-h]"
}
die_usage() { echo "$0: $*" >&2; usage >&2; exit 2; }

# SIZE with an optional K/M/G suffix -> bytes (empty on error).
to_bytes() {
    local s=$1 n m=1
    case $s in
    *[kK]) n=${s%?}; m=1024 ;;
    *[mM]) n=${s%?}; m=$((1024 * 1024)) ;;
    *[gG]) n=${s%?}; m=$((1024 * 1024 * 1024)) ;;
    *) n=$s ;;
    esac
    case $n in ''|*[!0-9]*) return 1 ;; esac
    [ ${#n} -le 12 ] || return 1
    echo $((10#$n * m))
}
is_uint() { case $1 in ''|*[!0-9]*) return 1 ;; esac; [ ${#1} -le 9 ]; }

while getopts ":qs:r:d:p:m:o:c:S:h" opt; do
    case $opt in
    q) quick=1 ;;
    s) size_arg=$OPTARG ;;
    r) reps_arg=$OPTARG ;;
    d) dir=$OPTARG ;;
    p) parts=$OPTARG ;;
    m) rows=$OPTARG ;;
    o) ops_arg=$OPTARG ;;
    c) cluster=$OPTARG ;;
    S) slack_arg=$OPTARG ;;
    h) usage; sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    :) die_usage "option -$OPTARG needs an argument" ;;
    *) die_usage "unknown option -$OPTARG" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die_usage "unexpected argument '$1'"

size_s=${size_arg:-$([ $quick = 1 ] && echo 256M || echo 1G)}
reps=${reps_arg:-$([ $quick = 1 ] && echo 1 || echo 3)}
size=$(to_bytes "$size_s") || die_usage "-s: not a size: '$size_s'"
[ "$size" -ge $((16 << 20)) ] && [ $((size % (64 << 10))) -eq 0 ] ||
    die_usage "-s: the footprint must be at least 16M and a multiple of 64K"
is_uint "$reps" && [ "$reps" -ge 1 ] || die_usage "-r: not a repetition count: '$reps'"
[ -z "$ops_arg" ] || { is_uint "$ops_arg" && [ "$ops_arg" -ge 1 ]; } || die_usage "-o: not a count: '$ops_arg'"
[ -z "$cluster" ] || is_uint "$cluster" || die_usage "-c: not a page count: '$cluster'"
[ -z "$slack_arg" ] || is_uint "$slack_arg" || die_usage "-S: not a MiB count: '$slack_arg'"
for p in $parts; do
    case $p in rawio|kernel|vmem) ;; *) die_usage "-p: unknown part '$p' (rawio, kernel, vmem)" ;; esac
done
for r in $rows; do
    case $r in
    seq:[12]|randread:[12]|randwrite:[12]|zipf:[12]) ;;
    *) die_usage "-m: bad row '$r' (workload:threads, workload seq|randread|randwrite|zipf, threads 1|2)" ;;
    esac
done
has_part() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }

pages=$((size / 4096))
cap=$((size / 4))
cap_pages=$((cap / 4096))
mib() { echo $(($1 >> 20)); }

# ---- preflight -------------------------------------------------------------
for b in bench_paging:"$paging" bench_rawio:"$rawio"; do
    if [ ! -x "${b#*:}" ]; then
        echo "$0: ${b#*:} not found; build first: cd $repo && (test -d build || meson setup build) && ninja -C build" >&2
        exit 1
    fi
done
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (swapon, cgroups, drop_caches)" >&2; exit 1; }
[ -d "$dir" ] || { echo "$0: -d: $dir is not a directory" >&2; exit 1; }
dir=$(cd "$dir" && pwd)
if has_part kernel; then
    if ! awk '$2 == "/sys/fs/cgroup/memory" && $3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { ok = 1 } END { exit !ok }' /proc/mounts; then
        echo "$0: no cgroup v1 memory controller at $cgroot (needed for the kernel-swap runs; -p to skip them)" >&2
        exit 1
    fi
    if [ -d "$cg" ]; then
        rmdir "$cg" 2>/dev/null || { echo "$0: $cg exists and is in use; another run?" >&2; exit 1; }
        echo "note: removed a stale $cg" >&2
    fi
fi
need=$((size + 64 * 1024 * 1024))
has_part kernel && need=$((need + $(to_bytes $swap_size)))
has_part vmem && need=$((need + size))
avail=$(( $(df -Pk "$dir" | awk 'NR == 2 { print $4 }') * 1024 ))
[ "$avail" -ge "$need" ] ||
    { echo "$0: $dir has $(mib "$avail") MiB free; this run needs about $(mib $need) MiB" >&2; exit 1; }

# ---- everything this script creates, and its clean-up ------------------------
work=$dir/vmembench.$$
swapfile=$work/swapfile
rawfile=$work/rawio.dat
pfdir=$work/pagefile
swap_on=0 child= cleaned=0

cleanup() {
    [ $cleaned = 1 ] && return
    cleaned=1
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        child=
    fi
    local left=()
    if [ -d "$cg" ]; then
        local p
        for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        local i
        for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.5; done
        [ -d "$cg" ] && left+=("cgroup $cg")
    fi
    if [ $swap_on = 1 ] || grep -q "^$swapfile " /proc/swaps 2>/dev/null; then
        swapoff "$swapfile" || left+=("swap $swapfile still on")
    fi
    rm -rf "$work"
    [ -e "$work" ] && left+=("$work")
    grep -q "^$swapfile " /proc/swaps 2>/dev/null && left+=("swap $swapfile")
    if [ ${#left[@]} -eq 0 ]; then
        echo "clean-up: nothing left behind (no swap file, no cgroup $cg, no $work)" >&2
    else
        echo "clean-up: LEFT BEHIND: ${left[*]}" >&2
    fi
}
trap 'echo "interrupted" >&2; cleanup; exit 130' INT
trap 'echo "terminated" >&2; cleanup; exit 143' TERM HUP
trap cleanup EXIT

mkdir -m 700 "$work" || exit 1
outdir=$repo/bench/out
mkdir -p "$outdir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log=$outdir/paging-$stamp.log
: >"$log"
say() { echo "$*" | tee -a "$log" >&2; }

# Runs "$@" in the background (so that signals reach the traps at once),
# stdout+stderr to $runout; sets rc.
runout=$work/run.out
run_child() {
    "$@" >"$runout" 2>&1 &
    child=$!
    wait "$child"
    rc=$?
    child=
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# Block-device counters of DIR's file system (sectors read, written).
devname=$(basename "$(findmnt -no SOURCE -T "$dir" 2>/dev/null | head -1)" 2>/dev/null)
devstat=/sys/class/block/$devname/stat
[ -n "$devname" ] && [ -r "$devstat" ] || devstat=
dev_sectors() { if [ -n "$devstat" ]; then awk '{ print $3, $7 }' "$devstat"; else echo "0 0"; fi; }
vmstat_swap() { awk '$1 == "pswpin" { i = $2 } $1 == "pswpout" { o = $2 } END { print i + 0, o + 0 }' /proc/vmstat; }

ops_for() { # workload -> bench_paging -o argument (empty for seq)
    case $1 in
    seq) echo "" ;;
    zipf) echo "${ops_arg:-$pages}" ;;
    *) echo "${ops_arg:-$((pages / 4))}" ;;
    esac
}

# ---- header -----------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
{
    echo "# run_paging.sh $(printf '%q ' ${orig_args[@]+"${orig_args[@]}"})F=$size_s reps=$reps dir=$dir parts=\"$parts\" rows=\"$rows\""
    echo "# date $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) vCPUs; $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo); Linux $(uname -r)"
    echo "# footprint $(mib $size) MiB ($pages pages), cap $(mib $cap) MiB ($cap_pages pages)"
    echo "# vm.page-cluster $(cat /proc/sys/vm/page-cluster) (swap readahead 2^N pages), vm.swappiness $(cat /proc/sys/vm/swappiness), THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), zswap $(cat /sys/module/zswap/parameters/enabled 2>/dev/null || echo n/a)"
    echo "# dir $dir on $(findmnt -no SOURCE,FSTYPE -T "$dir" | tr -s ' ' ' ') (device stats: ${devstat:-none}); load average before: $load_before"
    echo "# swaps active before: $(awk 'NR > 1 { printf "%s ", $1 } END { if (NR < 2) printf "none" }' /proc/swaps)"
} | tee -a "$log" >&2

# ---- part 1: raw io_uring ---------------------------------------------------
if has_part rawio; then
    say "== raw io_uring reads on $rawfile ($(mib $size) MiB)"
    run_child "$rawio" -f "$rawfile" -s "$size" -n 1
    cat "$runout" >>"$log"
    if [ $rc -ne 0 ]; then
        say "FAILED creating $rawfile (exit $rc): $(tail -n 2 "$runout")"
    else
        raw_ops=$((pages < 32768 ? pages : 32768))
        for cfg in "rand 1 1" "rand 1 2" "rand 2 1" "rand 2 2" "seq 1 1"; do
            read -r m d t <<<"$cfg"
            for r in $(seq 1 "$reps"); do
                drop_caches
                run_child timeout -k 10 "$timeout_s" "$rawio" -f "$rawfile" -s "$size" -m "$m" -d "$d" -t "$t" -n "$raw_ops" -x "$r"
                cat "$runout" >>"$log"
                if [ $rc -eq 0 ] && grep -q '^RESULT rawio ' "$runout"; then
                    echo "ROW part=rawio rep=$r $(grep '^RESULT rawio ' "$runout" | sed 's/^RESULT rawio //')" >>"$log"
                    echo "   rawio $m depth=$d threads=$t rep $r: $(grep -o 'iops=[^ ]* p50_us=[^ ]* p99_us=[^ ]*' "$runout")" >&2
                else
                    echo "ROW part=rawio rep=$r mode=$m depth=$d threads=$t failed=$rc" >>"$log"
                    say "FAILED rawio $m depth=$d threads=$t (exit $rc): $(tail -n 2 "$runout")"
                fi
            done
        done
    fi
    rm -f "$rawfile"
fi

# ---- part 2: the kernel's swap, in a memory cgroup ------------------------------
if has_part kernel; then
    say "== kernel swap: $swapfile ($swap_size), cgroup $cg limited to $(mib $cap) MiB + bookkeeping"
    if ! { fallocate -l "$swap_size" "$swapfile" && chmod 600 "$swapfile" &&
           mkswap "$swapfile" >/dev/null && swapon -p 32767 "$swapfile"; }; then
        say "FAILED to enable swap on $swapfile; skipping the kernel runs"
    elif ! mkdir "$cg"; then
        swap_on=1
        say "FAILED to create $cg; skipping the kernel runs"
    else
        swap_on=1
        memsw=0
        [ -e "$cg/memory.memsw.limit_in_bytes" ] && memsw=1
        echo "# cgroup $cg: memory.swappiness $(cat "$cg/memory.swappiness"), memsw accounting $([ $memsw = 1 ] && echo yes || echo no), swap limit: none" | tee -a "$log" >&2
        for row in $rows; do
            w=${row%:*} t=${row#*:}
            o=$(ops_for "$w")
            nops=${o:-$((2 * pages))}
            # What bench_paging allocates besides the footprint: gen[] 4 B/page,
            # latencies 4 B/op, zipf's permutation 4 B/page, page tables 8 B/page,
            # and 2 MiB for stacks, libc data and the binary's and libraries'
            # page cache (charged to the group after drop_caches; measured
            # 1.9 MiB in an unlimited group).
            if [ -n "$slack_arg" ]; then
                slack=$((slack_arg << 20))
            else
                slack=$((4 * pages + 4 * nops + 8 * pages + (2 << 20)))
                [ "$w" = zipf ] && slack=$((slack + 4 * pages))
            fi
            limit=$((cap + slack))
            for r in $(seq 1 "$reps"); do
                echo "$limit" >"$cg/memory.limit_in_bytes" || { say "cannot set memory.limit_in_bytes"; break; }
                drop_caches
                echo 0 >"$cg/memory.max_usage_in_bytes"
                [ $memsw = 1 ] && echo 0 >"$cg/memory.memsw.max_usage_in_bytes"
                fc0=$(cat "$cg/memory.failcnt")
                read -r si0 so0 <<<"$(vmstat_swap)"
                read -r dr0 dw0 <<<"$(dev_sectors)"
                t0=$(date +%s.%N)
                # A child shell (not this script) joins the cgroup, then becomes
                # timeout, whose child bench_paging stays in it.
                run_child bash -c 'echo $$ >"$1/cgroup.procs" || exit 97; shift; exec "$@"' \
                    _ "$cg" timeout -k 10 "$timeout_s" "$paging" -b kernel -s "$size" -w "$w" -t "$t" ${o:+-o "$o"} -x "$r"
                t1=$(date +%s.%N)
                read -r si1 so1 <<<"$(vmstat_swap)"
                read -r dr1 dw1 <<<"$(dev_sectors)"
                cgmax=$(cat "$cg/memory.max_usage_in_bytes")
                swmax=0
                [ $memsw = 1 ] && swmax=$(cat "$cg/memory.memsw.max_usage_in_bytes")
                fc1=$(cat "$cg/memory.failcnt")
                cat "$runout" >>"$log"
                extra="pswpin=$((si1 - si0)) pswpout=$((so1 - so0)) dev_read_mib=$(( (dr1 - dr0) / 2048 )) dev_write_mib=$(( (dw1 - dw0) / 2048 )) cg_limit_mib=$(awk -v b="$limit" 'BEGIN { printf "%.1f", b / 1048576 }') cg_max_mib=$(awk -v b="$cgmax" 'BEGIN { printf "%.1f", b / 1048576 }') memsw_max_mib=$(awk -v b="$swmax" 'BEGIN { printf "%.1f", b / 1048576 }') failcnt=$((fc1 - fc0)) wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
                if [ $rc -eq 0 ] && grep -q '^RESULT ' "$runout"; then
                    echo "ROW part=kernel rep=$r $(grep '^RESULT ' "$runout" | sed 's/^RESULT //') $extra" >>"$log"
                    echo "   kernel $w threads=$t rep $r: $(grep -o 'pages_per_sec=[^ ]* p50_us=[^ ]* p99_us=[^ ]*' "$runout") rss_max_mib=$(grep -o 'rss_max_mib=[^ ]*' "$runout" | cut -d= -f2) $extra" >&2
                else
                    why="exit $rc"
                    [ $rc -eq 3 ] && why="VERIFICATION FAILED"
                    [ $rc -eq 124 ] && why="timed out after ${timeout_s}s"
                    [ $rc -eq 97 ] && why="could not join the cgroup"
                    echo "ROW part=kernel rep=$r workload=$w threads=$t failed=$rc" >>"$log"
                    say "FAILED kernel $w threads=$t: $why: $(grep -m3 -e '^ERROR' -e 'bench_paging:' "$runout" | tr '\n' ' ')"
                fi
            done
        done
    fi
fi

# ---- part 3: libvmem ------------------------------------------------------------
if has_part vmem; then
    mkdir -p "$pfdir"
    venv=(VMEM_MAX_RESIDENT="$cap" VMEM_PAGEFILE="$pfdir")
    [ -n "$cluster" ] && venv+=(VMEM_CLUSTER="$cluster")
    say "== libvmem: ${venv[*]}${VMEM_FAULT_MODE:+ VMEM_FAULT_MODE=$VMEM_FAULT_MODE}${VMEM_READAHEAD:+ VMEM_READAHEAD=$VMEM_READAHEAD}${VMEM_PREFETCH_INSTALL:+ VMEM_PREFETCH_INSTALL=$VMEM_PREFETCH_INSTALL}"
    # The probe: 64 MiB against a 16 MiB cap must stay under the cap and write
    # the page file.
    run_child timeout -k 10 120 env VMEM_MAX_RESIDENT=16M VMEM_PAGEFILE="$pfdir" \
        ${cluster:+VMEM_CLUSTER=$cluster} "$paging" -b vmem -s 64M -w randread -o 20000
    { echo "# probe (exit $rc):"; cat "$runout"; } >>"$log"
    field() { grep -m1 '^RESULT ' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    peak=$(field peak_working_set "$runout")
    written=$(field total_pages_written "$runout")
    vmem_ok=1
    if [ $rc -eq 3 ]; then
        vmem_state="libvmem paging FAILED verification in the probe"
        vmem_ok=0
    elif [ $rc -ne 0 ] || [ -z "$peak" ]; then
        vmem_state="libvmem paging not available yet (probe exit $rc: $(grep -m1 -v '^#' "$runout" | cut -c1-120))"
        vmem_ok=0
    elif [ "$peak" -gt $((4096 + 41)) ] || [ "${written:-0}" -eq 0 ]; then
        vmem_state="libvmem paging not available yet (probe: peak working set $peak pages against a cap of 4096, $written pages written)"
        vmem_ok=0
    fi
    rm -rf "${pfdir:?}"/* 2>/dev/null
    if [ $vmem_ok = 0 ]; then
        say "$vmem_state"
        echo "VMEMSTATE $vmem_state" >>"$log"
    else
        for row in $rows; do
            w=${row%:*} t=${row#*:}
            o=$(ops_for "$w")
            for r in $(seq 1 "$reps"); do
                drop_caches
                read -r dr0 dw0 <<<"$(dev_sectors)"
                t0=$(date +%s.%N)
                run_child timeout -k 10 "$timeout_s" env "${venv[@]}" "$paging" -b vmem -s "$size" -w "$w" -t "$t" ${o:+-o "$o"} -x "$r"
                t1=$(date +%s.%N)
                read -r dr1 dw1 <<<"$(dev_sectors)"
                cat "$runout" >>"$log"
                leftover=$(ls -A "$pfdir" | head -5 | tr '\n' ' ')
                if [ -n "$leftover" ]; then
                    say "warning: libvmem left files in the page-file directory: $leftover(removed)"
                    rm -rf "${pfdir:?}"/*
                fi
                extra="dev_read_mib=$(( (dr1 - dr0) / 2048 )) dev_write_mib=$(( (dw1 - dw0) / 2048 )) wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
                if [ $rc -eq 0 ] && grep -q '^RESULT ' "$runout"; then
                    p=$(field peak_working_set "$runout")
                    np=""
                    [ "${p:-0}" -gt $((cap_pages + cap_pages / 100)) ] && np=" notpaging=1"
                    echo "ROW part=vmem rep=$r $(grep '^RESULT ' "$runout" | sed 's/^RESULT //') $extra$np" >>"$log"
                    echo "   vmem $w threads=$t rep $r: $(grep -o 'pages_per_sec=[^ ]* p50_us=[^ ]* p99_us=[^ ]*' "$runout") peak_working_set=$p$np" >&2
                else
                    why="exit $rc"
                    [ $rc -eq 3 ] && why="VERIFICATION FAILED"
                    [ $rc -eq 124 ] && why="timed out after ${timeout_s}s"
                    echo "ROW part=vmem rep=$r workload=$w threads=$t failed=$rc" >>"$log"
                    say "FAILED vmem $w threads=$t: $why: $(grep -m3 -e '^ERROR' -e 'bench_paging:' "$runout" | tr '\n' ' ')"
                fi
            done
        done
    fi
fi
total=$(( $(date +%s) - t_start ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- tables -----------------------------------------------------------------------
{
echo
cmdline=bench/run_paging.sh
for a in ${orig_args[@]+"${orig_args[@]}"}; do
    case $a in *[!A-Za-z0-9_./:=-]*|'') cmdline="$cmdline \"$a\"" ;; *) cmdline="$cmdline $a" ;; esac
done
echo "Command: \`$cmdline\` (F = $(mib $size) MiB, cap C = $(mib $cap) MiB, $reps repetitions; $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) vCPUs, Linux $(uname -r), ${total}s; raw output: bench/out/${log##*/})"
echo "Load average before the run: $load_before, after: $load_after (anything else running skews the figures); vm.page-cluster $(cat /proc/sys/vm/page-cluster)."
awk -v reps="$reps" -v cap_pages="$cap_pages" -v rows="$rows" -v parts="$parts" '
function isort(a, n,    i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
function nsplit(s, a,    n, i) { n = split(s, a, " "); for (i = 1; i <= n; i++) a[i] = a[i] + 0; return n }
function med(s,    a, n) { n = nsplit(s, a); if (n == 0) return ""; isort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function mn(s,    a, n) { n = nsplit(s, a); if (n == 0) return ""; isort(a, n); return a[1] }
function mx(s,    a, n) { n = nsplit(s, a); if (n == 0) return ""; isort(a, n); return a[n] }
function add(k, f, v) { if ((k, f) in vals) vals[k, f] = vals[k, f] " " v; else vals[k, f] = v }
function get(k, f) { return ((k, f) in vals) ? vals[k, f] : "" }
function fmt(x, d) { return x == "" ? "-" : sprintf("%." d "f", x) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
/^VMEMSTATE / { vmemstate = substr($0, 11) }
/^ROW / {
    delete f
    for (i = 2; i <= NF; i++) { eq = index($i, "="); f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
    if (f["part"] == "rawio") { k = "rawio " f["mode"] " " f["depth"] " " f["threads"]; if (!(k in seen)) { seen[k] = 1; rawkeys[++nraw] = k } }
    else k = f["part"] " " f["workload"] " " f["threads"]
    if ("failed" in f) { failed[k]++; next }
    if ("notpaging" in f) notpaging[k]++
    if (("errors" in f) && f["errors"] + 0 > 0) errs[k] += f["errors"]
    for (x in f) if (x != "part" && x != "rep" && x != "backend" && x != "workload" && x != "threads" && x != "mode" && x != "depth" && x != "file") add(k, x, f[x])
}
END {
    if (parts ~ /rawio/) {
        print ""
        print "Raw io_uring 4 KiB reads (bench_rawio, O_DIRECT = " (get(rawkeys[1], "odirect") ~ /1/ ? "yes" : "no") "): median (best) of the repetitions."
        print ""
        print "| mode | depth | threads | IOPS median (best) | p50 µs median (min) | p99 µs median (min) |"
        print "|---|---:|---:|---:|---:|---:|"
        for (i = 1; i <= nraw; i++) {
            k = rawkeys[i]; split(k, p, " ")
            if (get(k, "iops") == "") { printf "| %s | %s | %s | FAILED | | |\n", p[2], p[3], p[4]; continue }
            printf "| %s | %s | %s | %.0f (%.0f) | %.1f (%.1f) | %.1f (%.1f) |\n", p[2], p[3], p[4],
                med(get(k, "iops")), mx(get(k, "iops")), med(get(k, "p50_us")), mn(get(k, "p50_us")),
                med(get(k, "p99_us")), mn(get(k, "p99_us"))
        }
    }
    nrows = split(rows, R, " ")
    if (parts ~ /kernel|vmem/) {
        print ""
        print "Paging: kernel swap (cgroup v1 limit C + bookkeeping, swap file) against libvmem (VMEM_MAX_RESIDENT=C, VMEM_PAGEFILE). ops/s: page touches per second in the workload phase, median (best); p50/p99: per-touch latency, medians; RSS max: sampled every 10 ms, median; libvmem counters: workload phase, medians; pages/read I/O = pages_read / read_ios (clustering); MiB written = pages_written x 4 KiB (dirty pages evicted); ratios: libvmem / kernel of the medians."
        print ""
        print "| workload | threads | kernel ops/s | kernel p50 µs | kernel p99 µs | kernel RSS max MiB | libvmem ops/s | libvmem p50 µs | libvmem p99 µs | libvmem RSS max MiB | hard faults | pages read | pages written | read I/Os | pages/read I/O | MiB written | ws max pages | ops/s ratio | p50 ratio | p99 ratio |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= nrows; i++) {
            split(R[i], wt, ":"); kk = "kernel " wt[1] " " wt[2]; kv = "vmem " wt[1] " " wt[2]
            if (parts !~ /kernel/) kcols = "| - | - | - | - "
            else if (get(kk, "pages_per_sec") == "") kcols = "| FAILED | | | "
            else kcols = sprintf("| %.0f (%.0f) | %.2f | %.1f | %.1f ", med(get(kk, "pages_per_sec")), mx(get(kk, "pages_per_sec")),
                    med(get(kk, "p50_us")), med(get(kk, "p99_us")), med(get(kk, "rss_max_mib")))
            kerr = (kk in errs) ? " **" errs[kk] " verification errors**" : ""
            if (parts !~ /vmem/) vcols = "| - | - | - | - | - | - | - | - | - | - | - | - | - | - "
            else if (vmemstate != "") vcols = "| " (i == 1 ? vmemstate : "not available") " | | | | | | | | | | | - | - | - "
            else if (get(kv, "pages_per_sec") == "") vcols = "| FAILED | | | | | | | | | | | - | - | - "
            else {
                pr = med(get(kv, "pages_read")); ri = med(get(kv, "read_ios"))
                vcols = sprintf("| %.0f (%.0f)%s | %.2f | %.1f | %.1f | %.0f | %.0f | %.0f | %.0f | %s | %.1f | %.0f | %s | %s | %s ",
                    med(get(kv, "pages_per_sec")), mx(get(kv, "pages_per_sec")), (kv in notpaging) ? " (not paging: peak > cap)" : "",
                    med(get(kv, "p50_us")), med(get(kv, "p99_us")), med(get(kv, "rss_max_mib")),
                    med(get(kv, "hard_faults")), pr, med(get(kv, "pages_written")), ri, ratio(pr, ri),
                    med(get(kv, "pages_written")) * 4096 / 1048576, med(get(kv, "ws_max_pages")),
                    ratio(med(get(kv, "pages_per_sec")), med(get(kk, "pages_per_sec"))),
                    ratio(med(get(kv, "p50_us")), med(get(kk, "p50_us"))), ratio(med(get(kv, "p99_us")), med(get(kk, "p99_us"))))
                if (kv in errs) vcols = vcols " **" errs[kv] " verification errors**"
            }
            print "| " wt[1] " | " wt[2] " " kcols kerr vcols "|"
        }
    }
    if (parts ~ /kernel/) {
        print ""
        print "Kernel-swap details (medians): majflt = major faults in the workload phase; swap-ins/outs = pswpin/pswpout (whole run: populate, workload, verify); device MiB = reads/writes of the swap device in the whole run; cgroup max = memory.max_usage_in_bytes against the limit; mem+swap max = memory.memsw.max_usage_in_bytes; populate/verify: seconds of those phases."
        print ""
        print "| workload | threads | majflt | swap-ins | swap-outs | device MiB read / written | cgroup max / limit MiB | mem+swap max MiB | RSS max MiB | populate s | workload s | verify s |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= nrows; i++) {
            split(R[i], wt, ":"); kk = "kernel " wt[1] " " wt[2]
            if (get(kk, "pages_per_sec") == "") { printf "| %s | %s | FAILED | | | | | | | | | |\n", wt[1], wt[2]; continue }
            printf "| %s | %s | %.0f | %.0f | %.0f | %.0f / %.0f | %.1f / %.1f | %.1f | %.1f | %.2f | %.2f | %.2f |\n", wt[1], wt[2],
                med(get(kk, "majflt")), med(get(kk, "pswpin")), med(get(kk, "pswpout")),
                med(get(kk, "dev_read_mib")), med(get(kk, "dev_write_mib")), med(get(kk, "cg_max_mib")), med(get(kk, "cg_limit_mib")),
                med(get(kk, "memsw_max_mib")), med(get(kk, "rss_max_mib")), med(get(kk, "populate_secs")), med(get(kk, "secs")), med(get(kk, "verify_secs"))
        }
    }
}' "$log"
} | tee -a "$log"

failed=0
grep -q '^ROW .* failed=' "$log" && failed=1
exit $failed
