#!/usr/bin/env bash
# run_programs.sh -- unmodified programs under a resident cap: libvmem
# (`vmem run`, page file and compressed store) against the kernel's swap
# and zswap, in the same run.
#
#   bench/run_programs.sh [-r REPS] [-p PROGRAMS] [-c CAPS] [-v VARIANTS] [-s DIV] [-d DIR]
#                         [-t SECS] [--quick]
#
#   -r REPS      repetitions (default 1); tables give medians
#   -p PROGRAMS  a subset of "lists sort xz sqlite" (default all four)
#   -c CAPS      cap fractions of each program's native peak RSS
#                (default "1/4 1/2")
#   -v VARIANTS  a subset of "off lz4 zstd swap zswap" (default "off lz4 swap
#                zswap"), taking turns in that order, the first rotating
#   -s DIV       inputs DIV times smaller than the default ones (default 1):
#                shorter runs for comparing libvmem's variants
#   -d DIR       where inputs, page files and the swap file go (default
#                /var/tmp; a directory of its own is made there)
#   -t SECS      a run still going after SECS (default 600) is killed and
#                recorded as a timeout
#   --quick      tiny inputs and, unless -c is given, the 1/2 cap only: a
#                smoke run of a minute or two on an idle machine
#
# Programs, each on a deterministic input made by bench/programs_input.py:
#   lists   python3 bench/lists.py (lists and dicts, then hashing them)
#   sort    LC_ALL=C sort -S BUF of a text file (BUF twice the file, so it
#           sorts in memory and its footprint is the buffer's)
#   xz      xz -9 -T1 of a semi-compressible file (xz -9 reserves ~674 MiB,
#           and touches as much of it as the input needs)
#   sqlite  sqlite3 :memory: building a table, two indexes, checks
# First each runs natively: its output (sha256) is the reference and its
# peak RSS sets the caps.  Then, per cap, four variants take turns (the
# first rotating per repetition and cap; the load average is recorded
# before each run):
#   off     vmem run --max-resident CAP, VMEM_COMPRESS=off (page file in DIR)
#   lz4     the same with VMEM_COMPRESS=lz4 (the store counts in the cap)
#   zstd    the same with VMEM_COMPRESS=zstd (not run unless -v names it)
#   swap    the kernel: a fresh cgroup-v1 memory group, memory.limit_in_bytes
#           = CAP, memsw unlimited, a swap file in DIR, zswap off
#   zswap   the same with zswap on (lz4, or lzo-rle where the kernel has no
#           lz4)
# Each run's output is compared with the native one's: a mismatch is a
# failure, printed loudly, as is a libvmem run that fails; a kernel run
# killed by the cgroup's OOM killer is recorded as OOM-killed.  libvmem's
# counters come from `vmem run --report-format json` (summed over the
# process tree), the kernel's from the group's memory.failcnt and
# memory.stat (total_pgmajfault) and /proc/vmstat's pswpin and zswpin
# (the whole machine's, over the run: other swapping processes count too).
# The cap is not the same thing on both sides: libvmem's covers the memory
# it manages (the heap and anonymous mappings), the cgroup's limit every
# page charged to the group (binaries, libraries, page cache written or
# first read by the program too); each run's peak RSS is given.
# Needs root.  Everything it makes (swap file, cgroup, DIR/vmemprograms.*)
# is removed on exit, ^C included; zswap's settings are put back.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD_DIR:-$repo/build}
vmem=$build/tools/vmem
py=/usr/bin/python3
reps=1 programs="lists sort xz sqlite" caps='' dir=/var/tmp quick=0 tlimit=600 div=1
variants=(off lz4 swap zswap)
usage() { echo "usage: $0 [-r REPS] [-p 'lists sort xz sqlite'] [-c '1/4 1/2'] [-v 'off lz4 zstd swap zswap'] [-s DIV] [-d DIR] [-t SECS] [--quick]" >&2; exit 2; }
args=()
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --*) echo "$0: unknown option $a" >&2; usage ;;
    *) args+=("$a") ;;
    esac
done
set -- "${args[@]+"${args[@]}"}"
while getopts ":r:p:c:v:s:d:t:" o; do
    case $o in
    r) reps=$OPTARG ;; p) programs=$OPTARG ;; c) caps=$OPTARG ;; d) dir=$OPTARG ;; t) tlimit=$OPTARG ;;
    v) read -r -a variants <<<"$OPTARG" ;; s) div=$OPTARG ;;
    :) echo "$0: -$OPTARG needs a value" >&2; usage ;;
    *) echo "$0: unknown option -$OPTARG" >&2; usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "$0: unexpected argument $1" >&2; usage; }
case $reps in ''|0|*[!0-9]*) echo "$0: -r: not a count above 0: $reps" >&2; exit 2 ;; esac
case $div in ''|0|*[!0-9]*) echo "$0: -s: not a divisor above 0: $div" >&2; exit 2 ;; esac
[ ${#variants[@]} -gt 0 ] || { echo "$0: -v: no variant" >&2; exit 2; }
for v in "${variants[@]}"; do
    case $v in off|lz4|zstd|swap|zswap) ;; *) echo "$0: -v: unknown variant $v (off lz4 zstd swap zswap)" >&2; exit 2 ;; esac
done
case $tlimit in ''|0|*[!0-9]*) echo "$0: -t: not a number of seconds above 0: $tlimit" >&2; exit 2 ;; esac
if [ -z "$caps" ]; then if [ "$quick" = 1 ]; then caps="1/2"; else caps="1/4 1/2"; fi; fi
for p in $programs; do
    case $p in lists|sort|xz|sqlite) ;; *) echo "$0: -p: unknown program $p (lists sort xz sqlite)" >&2; exit 2 ;; esac
done
[ -n "$programs" ] || { echo "$0: -p: no program" >&2; exit 2; }
for c in $caps; do
    if ! [[ $c =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] || [ "${BASH_REMATCH[1]}" -ge "${BASH_REMATCH[2]}" ]; then
        echo "$0: -c: not a fraction below 1: $c (e.g. 1/4)" >&2; exit 2
    fi
done
[ -n "${caps// /}" ] || { echo "$0: -c: no cap" >&2; exit 2; }
[ -d "$dir" ] || { echo "$0: -d: not a directory: $dir" >&2; exit 2; }
[ -x "$vmem" ] || { echo "$0: build first ($vmem missing; BUILD_DIR=$build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (swapon, cgroup, zswap)" >&2; exit 1; }
for t in /usr/bin/time "$py" timeout sha256sum fallocate mkswap swapon; do
    command -v "$t" >/dev/null || { echo "$0: $t not found" >&2; exit 1; }
done
case " $programs " in *" xz "*) command -v xz >/dev/null || { echo "$0: -p xz: xz not found (apt-get install -y xz-utils)" >&2; exit 1; } ;; esac
case " $programs " in *" sqlite "*) command -v sqlite3 >/dev/null || { echo "$0: -p sqlite: sqlite3 not found (apt-get install -y sqlite3)" >&2; exit 1; } ;; esac
cgroot=/sys/fs/cgroup/memory
[ -f "$cgroot/memory.limit_in_bytes" ] || { echo "$0: no cgroup-v1 memory controller at $cgroot" >&2; exit 1; }
zs=/sys/module/zswap/parameters
[ -w "$zs/enabled" ] || { echo "$0: no zswap ($zs/enabled)" >&2; exit 1; }

# input sizes: sort's file (KiB), xz's file (KiB), sqlite's rows, lists.py's
# count.  Paging multiplies a program's time by 2 to 20 here (xz's match
# finder, sort's merge: random access over the whole footprint), so the
# inputs are small enough for the default run to take about 20 minutes on
# two idle vCPUs
if [ "$quick" = 1 ]; then sort_kb=2048 xz_kb=128 sql_rows=10000 lists_n=60000
else sort_kb=$((32768 / div)) xz_kb=$((2048 / div)) sql_rows=$((200000 / div)) lists_n=$((1200000 / div)); fi

unset MALLOC_PERTURB_
export LC_ALL=C
work=$(mktemp -d "$dir/vmemprograms.XXXXXX") || exit 1
cg=$cgroot/vmemprograms.$$
swapfile=$work/swapfile
zs_enabled=$(cat "$zs"/enabled) zs_comp=$(cat "$zs"/compressor)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -d "$cg" ]; then
        while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$cg/cgroup.procs"
        for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.5; done
        [ -d "$cg" ] && echo "$0: could not remove $cg" >&2
    fi
    if grep -q "^$swapfile " /proc/swaps; then swapoff "$swapfile" || echo "$0: swapoff $swapfile failed" >&2; fi
    if [ "${kernel:-0}" = 1 ]; then
        echo "$zs_comp" >"$zs/compressor" 2>/dev/null
        echo "$zs_enabled" >"$zs/enabled"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "$0: interrupted" >&2; exit 130' INT TERM

load() { cut -d' ' -f1 /proc/loadavg; }
vmstat_get() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo "# run_programs.sh $(date -u +%FT%TZ), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# reps $reps, programs: $programs, caps: $caps, quick $quick, time limit ${tlimit}s, dir $work"

# the command of program $1 in the array cmd
set_cmd() {
    case $1 in
    lists)  cmd=("$py" "$here/lists.py" "$lists_n") ;;
    sort)   cmd=(sort -S "$((2 * sort_kb))K" -T "$work/sorttmp" "$work/sort.txt") ;;
    xz)     cmd=(xz -9 -T1 -c "$work/xz.txt") ;;
    sqlite) cmd=(sqlite3 :memory: ".read $work/sqlite.sql") ;;
    esac
}
make_input() {
    case $1 in
    sort)   mkdir -p "$work/sorttmp" && "$py" "$here/programs_input.py" sort "$sort_kb" "$work/sort.txt" ;;
    xz)     "$py" "$here/programs_input.py" xz "$xz_kb" "$work/xz.txt" ;;
    sqlite) "$py" "$here/programs_input.py" sql "$sql_rows" "$work/sqlite.sql" ;;
    esac
}
# keep the input in the page cache, the same for every variant
warm() { case $1 in sort) cat "$work/sort.txt" >/dev/null ;; xz) cat "$work/xz.txt" >/dev/null ;; esac; }

declare -A peak_kib ref_sum
# run_one PROG VARIANT CAP_KIB: one timed run; sets r_secs r_kib r_rc r_res r_extra
run_one() {
    local prog=$1 var=$2 cap_k=$3 pre=()
    set_cmd "$prog"
    warm "$prog"
    rm -f "$work/report.json" "$work/err"
    local tl=$tlimit
    local sw0 sw1 zw0 zw1
    case $var in
    off|lz4|zstd)
        pre=(env "VMEM_COMPRESS=$var" "$vmem" run --max-resident "${cap_k}K" --pagefile "$work"
             --report="$work/report.json" --report-format json --) ;;
    swap|zswap)
        [ -d "$cg" ] && { rmdir "$cg" || { echo "$0: cannot remove the previous $cg" >&2; exit 1; }; }
        mkdir "$cg" || exit 1
        echo -1 >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null
        echo $((cap_k * 1024)) >"$cg/memory.limit_in_bytes" || exit 1
        if [ "$var" = zswap ]; then echo Y >"$zs"/enabled; else echo N >"$zs"/enabled; fi || exit 1
        # shellcheck disable=SC2016 # expanded by that sh
        pre=(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg") ;;
    esac
    sw0=$(vmstat_get pswpin) zw0=$(vmstat_get zswpin)
    { /usr/bin/time -f "%e %M" -o "$work/time" timeout -k 10 "$tl" "${pre[@]}" "${cmd[@]}" \
          </dev/null 2>"$work/err"
      echo $? >"$work/rc"; } | sha256sum | cut -d' ' -f1 >"$work/sum"
    sw1=$(vmstat_get pswpin) zw1=$(vmstat_get zswpin)
    [ "$var" = zswap ] && echo N >"$zs"/enabled
    read -r r_secs r_kib < <(tail -1 "$work/time")
    r_rc=$(cat "$work/rc")
    [[ $r_secs =~ ^[0-9.]+$ ]] || r_secs=- r_kib=-
    r_res=ok r_extra=
    case $var in
    native)
        ref_sum[$prog]=$(cat "$work/sum")
        [ "$r_rc" -eq 0 ] || r_res="failed(status=$r_rc)" ;;
    off|lz4|zstd)
        if [ -s "$work/report.json" ]; then
            r_extra=$("$py" -c '
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["counters"]
print(" ".join(f"{k}={c.get(k, 0)}" for k in ("hard_faults", "pages_read", "pages_written", "transition_faults",
      "demand_zero_faults", "prefetched_pages", "prefetch_used", "prefetch_unused", "compress_stored",
      "compress_hits", "compress_rejects", "compress_ns", "decompress_ns", "trimmed_pages", "cap_overruns",
      "checksum_errors", "inpage_errors", "write_errors")))' "$work/report.json" 2>&1)
        fi ;;
    swap|zswap)
        local st
        st=$(awk '$1 == "total_pgmajfault" || $1 == "total_pgpgin" { printf "%s=%s ", $1, $2 }' "$cg/memory.stat")
        r_extra="failcnt=$(cat "$cg/memory.failcnt") max_usage_kib=$(($(cat "$cg/memory.max_usage_in_bytes") / 1024)) ${st}oom_kill=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control") pswpin=$((sw1 - sw0)) zswpin=$((zw1 - zw0))"
        rmdir "$cg" 2>/dev/null ;;
    esac
    if [ "$var" != native ]; then
        if [ "$r_rc" -eq 124 ] || { [ "$r_rc" -eq 137 ] && [ "$r_secs" != - ] && awk -v s="$r_secs" -v l="$tl" 'BEGIN { exit !(s >= l) }'; }; then
            r_res="timeout(${tl}s)"
        elif [ "$r_rc" -ne 0 ]; then
            case $var in
            swap|zswap) if [[ $r_extra =~ oom_kill=([1-9]) ]] || [ "$r_rc" -eq 137 ]; then r_res=OOM-killed; else r_res="failed(status=$r_rc)"; fi ;;
            *) r_res="FAILED(status=$r_rc)" ;;
            esac
        elif [ "$(cat "$work/sum")" != "${ref_sum[$prog]}" ]; then
            r_res=MISMATCH
        fi
    fi
    case $r_res in
    MISMATCH) echo "!!!!! MISMATCH: $prog $var cap ${cap_k} KiB: the output differs from the native run's !!!!!" ;;
    FAILED*|failed*) echo "!!!!! FAILURE: $prog $var cap ${cap_k} KiB: status $r_rc; its stderr ends:"; tail -5 "$work/err" | sed 's/^/!!   /' ;;
    esac
    if [ "$var" = lz4 ] || [ "$var" = zstd ] || [ "$var" = off ]; then
        [[ $r_extra =~ (checksum_errors|inpage_errors|write_errors|cap_overruns)=[1-9] ]] &&
            echo "!!!!! $prog $var cap ${cap_k} KiB: libvmem counted errors or overruns: $r_extra"
    fi
    return 0
}

results=$work/results # prog cap var rep secs kib res load extra...
echo
echo "## native runs (reference output, peak RSS)"
for prog in $programs; do
    make_input "$prog" || { echo "$0: cannot make the input of $prog" >&2; exit 1; }
    l=$(load)
    run_one "$prog" native 0
    [ "$r_res" = ok ] || { echo "$0: $prog fails natively ($r_res): $(tail -3 "$work/err")" >&2; exit 1; }
    peak_kib[$prog]=$r_kib
    echo "RUN $prog native - 1 $r_secs s ${r_kib}KiB $r_res load=$l"
    echo "$prog native - 1 $r_secs $r_kib $r_res $l" >>"$results"
done

maxpeak=0
for prog in $programs; do [ "${peak_kib[$prog]}" -gt "$maxpeak" ] && maxpeak=${peak_kib[$prog]}; done
swap_mb=$((2 * maxpeak / 1024 + 256))
# the kernel's variants only: swap and zswap are the machine's, not this
# run's, so a run of libvmem's variants alone leaves them as they are
case " ${variants[*]} " in *" swap "*|*" zswap "*) kernel=1 ;; *) kernel=0 ;; esac
if [ "$kernel" = 1 ]; then
    if ! { fallocate -l "${swap_mb}M" "$swapfile" && chmod 600 "$swapfile" && mkswap -q "$swapfile" >/dev/null &&
             swapon -p 32767 "$swapfile"; }; then
        echo "$0: cannot set up a ${swap_mb} MiB swap file in $work" >&2; exit 1
    fi
    { echo lz4 >"$zs"/compressor 2>/dev/null || echo lzo-rle >"$zs"/compressor; } ||
        { echo "$0: zswap has neither lz4 nor lzo-rle" >&2; exit 1; }
    echo N >"$zs"/enabled
    echo "# swap file ${swap_mb} MiB, zswap compressor $(cat "$zs"/compressor), max_pool_percent $(cat "$zs"/max_pool_percent)"
fi

echo
echo "## runs under caps: RUN program variant cap_KiB rep wall peak_RSS result load counters"
nv=${#variants[@]}
for rep in $(seq "$reps"); do
    ci=0
    for prog in $programs; do
        if [ "$rep" -gt 1 ]; then
            l=$(load)
            run_one "$prog" native 0
            echo "RUN $prog native - $rep $r_secs s ${r_kib}KiB $r_res load=$l"
            echo "$prog native - $rep $r_secs $r_kib $r_res $l" >>"$results"
        fi
        for c in $caps; do
            cap_k=$((peak_kib[$prog] * ${c%/*} / ${c#*/}))
            for k in $(seq 0 $((nv - 1))); do
                var=${variants[$(((rep + ci + k) % nv))]}
                l=$(load)
                run_one "$prog" "$var" "$cap_k"
                echo "RUN $prog $var $c=${cap_k}K $rep $r_secs s ${r_kib}KiB $r_res load=$l $r_extra"
                echo "$prog $var $c $rep $r_secs $r_kib $r_res $l $r_extra" >>"$results"
            done
            ci=$((ci + 1))
        done
    done
done

# med PROG VAR CAP FIELD: median of a column over the runs that ended well
med() { awk -v p="$1" -v v="$2" -v c="$3" -v f="$4" '$1 == p && $2 == v && $3 == c && $7 == "ok" { print $f }' "$results" | median; }
# counter PROG VAR CAP NAME: median of a counter over the runs that ended well
counter() {
    awk -v p="$1" -v v="$2" -v c="$3" -v n="$4" '$1 == p && $2 == v && $3 == c && $7 == "ok" {
        for (i = 9; i <= NF; i++) { split($i, kv, "="); if (kv[1] == n) print kv[2] } }' "$results" | median
}
# outcome PROG VAR CAP: the median wall s, or what went wrong
outcome() {
    local bad
    bad=$(awk -v p="$1" -v v="$2" -v c="$3" '$1 == p && $2 == v && $3 == c && $7 != "ok" { print $7 }' "$results" | sort | uniq -c | awk '{ printf "%s%s x%d", s, $2, $1; s = ", " }')
    if [ -n "$bad" ]; then echo "$(med "$1" "$2" "$3" 5) ($bad)"; else med "$1" "$2" "$3" 5; fi
}
k() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else if (x >= 1e6) printf "%.1fM", x / 1e6; else if (x >= 1e3) printf "%.1fk", x / 1e3; else print x }'; }

echo
echo "## wall seconds (median of $reps), ratios of medians"
echo
echo "| program (native peak RSS) | cap | native s | libvmem off | libvmem lz4 | kernel swap | kernel zswap | off / swap | lz4 / swap | lz4 / off | lz4 / zswap |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for prog in $programs; do
    n=$(med "$prog" native - 5)
    for c in $caps; do
        cap_k=$((peak_kib[$prog] * ${c%/*} / ${c#*/}))
        o=$(med "$prog" off "$c" 5) z=$(med "$prog" lz4 "$c" 5) s=$(med "$prog" swap "$c" 5) w=$(med "$prog" zswap "$c" 5)
        echo "| $prog ($((peak_kib[$prog] / 1024)) MiB) | $c = $((cap_k / 1024)) MiB | $n | $(outcome "$prog" off "$c") | $(outcome "$prog" lz4 "$c") | $(outcome "$prog" swap "$c") | $(outcome "$prog" zswap "$c") | $(ratio "$o" "$s") | $(ratio "$z" "$s") | $(ratio "$z" "$o") | $(ratio "$z" "$w") |"
    done
done
echo
echo "## counters (median of the runs that ended well)"
echo
echo "| program | cap | off: hard faults / pages read / written | lz4: hard faults / store hits / stored / compress s | swap: pgmajfault / pswpin / failcnt | zswap: pgmajfault / zswpin / pswpin |"
echo "|---|---|---:|---:|---:|---:|"
for prog in $programs; do
    for c in $caps; do
        cns=$(counter "$prog" lz4 "$c" compress_ns)
        echo "| $prog | $c | $(k "$(counter "$prog" off "$c" hard_faults)") / $(k "$(counter "$prog" off "$c" pages_read)") / $(k "$(counter "$prog" off "$c" pages_written)") | $(k "$(counter "$prog" lz4 "$c" hard_faults)") / $(k "$(counter "$prog" lz4 "$c" compress_hits)") / $(k "$(counter "$prog" lz4 "$c" compress_stored)") / $(awk -v x="$cns" 'BEGIN { if (x == "-") print "-"; else printf "%.2f", x / 1e9 }') | $(k "$(counter "$prog" swap "$c" total_pgmajfault)") / $(k "$(counter "$prog" swap "$c" pswpin)") / $(k "$(counter "$prog" swap "$c" failcnt)") | $(k "$(counter "$prog" zswap "$c" total_pgmajfault)") / $(k "$(counter "$prog" zswap "$c" zswpin)") / $(k "$(counter "$prog" zswap "$c" pswpin)") |"
    done
done
echo
echo "## libvmem's variants (median of the runs that ended well; ratios to off's medians)"
echo
echo "| program | cap | variant | wall s | / off | peak RSS MiB | hard faults | / off | store hits | stored | rejects | compress s |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for prog in $programs; do
    for c in $caps; do
        o=$(med "$prog" off "$c" 5) of=$(counter "$prog" off "$c" hard_faults)
        for v in off lz4 zstd; do
            case " ${variants[*]} " in *" $v "*) ;; *) continue ;; esac
            w=$(med "$prog" "$v" "$c" 5) hf=$(counter "$prog" "$v" "$c" hard_faults)
            rk=$(med "$prog" "$v" "$c" 6) cns=$(counter "$prog" "$v" "$c" compress_ns)
            echo "| $prog | $c | $v | $(outcome "$prog" "$v" "$c") | $(ratio "$w" "$o") | $(awk -v x="$rk" 'BEGIN { if (x == "-") print "-"; else printf "%.1f", x / 1024 }') | $(k "$hf") | $(ratio "$hf" "$of") | $(k "$(counter "$prog" "$v" "$c" compress_hits)") | $(k "$(counter "$prog" "$v" "$c" compress_stored)") | $(k "$(counter "$prog" "$v" "$c" compress_rejects)") | $(awk -v x="$cns" 'BEGIN { if (x == "-") print "-"; else printf "%.2f", x / 1e9 }') |"
        done
    done
done
bad=$(awk '$7 != "ok"' "$results" | wc -l)
echo
echo "# done $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg); runs not ok: $bad"
grep -qE ' (MISMATCH|FAILED)' "$results" && { echo "!!!!! some libvmem runs failed or gave a wrong output: see above !!!!!"; exit 1; }
exit 0
