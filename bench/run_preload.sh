#!/usr/bin/env bash
# run_preload.sh -- unmodified programs under libvmem-preload.so.
#
#   bench/run_preload.sh [-r REPS]
#
# (a) overhead without memory pressure: python3 building lists and dicts
#     (footprint ~200 MiB), natively and under `vmem run` with a 1 GiB cap
#     (above the footprint: no paging); median wall time of REPS (default 3).
# (b) the same program under a cap of 1/4 and 1/2 of its native peak RSS:
#     libvmem (`vmem run --max-resident`) against the kernel's own swap in a
#     cgroup-v1 memory group (memory.limit_in_bytes = the cap, a 4 GiB swap
#     file in /var/tmp).  A kernel OOM kill or failure is recorded as such.
# Needs root.  The swap file and cgroup are removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
vmem=${BUILD_DIR:-$repo/build}/tools/vmem
reps=3
while getopts ":r:" o; do case $o in r) reps=$OPTARG ;; *) echo "usage: $0 [-r REPS]" >&2; exit 2 ;; esac; done
[ -x "$vmem" ] || { echo "$0: build first ($vmem missing)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root" >&2; exit 1; }
unset MALLOC_PERTURB_
work=$(mktemp -d /var/tmp/vmem-preload-bench.XXXXXX)
cg=/sys/fs/cgroup/memory/vmempreload
swapfile=$work/swapfile
cleanup() {
    [ -d "$cg" ] && { for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p"; done; sleep 0.5; rmdir "$cg"; }
    grep -q "^$swapfile " /proc/swaps && swapoff "$swapfile"
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

prog=(/usr/bin/python3 "$here/lists.py")
/usr/bin/python3 "$here/lists.py" >"$work/expected"

# run LABEL CMD...: wall seconds and peak RSS KiB of one run -> "$secs $kib $status"
timed() {
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    local ok=ok
    cmp -s "$work/out" "$work/expected" || ok=wrong-output
    echo "$(tail -1 "$work/t") $rc $ok"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "## (a) no memory pressure, $reps runs each (median wall s)"
nat=() pre=()
timed "$vmem" run --max-resident 1G -- "${prog[@]}" >/dev/null # warm the page cache
for i in $(seq "$reps"); do
    nat+=("$(timed "${prog[@]}")")
    pre+=("$(timed "$vmem" run --max-resident 1G -- "${prog[@]}")")
done
n_med=$(printf '%s\n' "${nat[@]}" | awk '{print $1}' | median)
p_med=$(printf '%s\n' "${pre[@]}" | awk '{print $1}' | median)
echo "native:  ${nat[*]}"
echo "preload: ${pre[*]}"
echo "| program | native s | libvmem-preload s | ratio |"
echo "|---|---:|---:|---:|"
echo "| python3 lists+dicts | $n_med | $p_med | $(awk -v a="$p_med" -v b="$n_med" 'BEGIN { printf "%.3f", a / b }') |"

foot_kib=$(printf '%s\n' "${nat[@]}" | awk '{print $2}' | median)
echo
echo "## (b) under a cap; native peak RSS $foot_kib KiB"
fallocate -l 4G "$swapfile" && chmod 600 "$swapfile" && mkswap -q "$swapfile" >/dev/null && swapon "$swapfile" ||
    { echo "$0: cannot set up swap" >&2; exit 1; }
mkdir "$cg"
echo "| cap | libvmem s | libvmem peak RSS KiB | libvmem result | kernel swap s | kernel peak RSS KiB | kernel result |"
echo "|---|---:|---:|---|---:|---:|---|"
for frac in 4 2; do
    cap_kib=$((foot_kib / frac))
    cap_m=$((cap_kib / 1024))
    sync; echo 3 >/proc/sys/vm/drop_caches
    v=($(timed "$vmem" run --max-resident "${cap_m}M" --pagefile /var/tmp -- "${prog[@]}"))
    echo $((cap_m << 20)) >"$cg/memory.limit_in_bytes"
    echo 0 >"$cg/memory.failcnt"
    sync; echo 3 >/proc/sys/vm/drop_caches
    k=($(timed sh -c 'echo $$ > '"$cg"'/cgroup.procs && exec "$@"' sh "${prog[@]}"))
    kres=${k[3]}
    [ "${k[2]}" -eq 137 ] && kres="killed (SIGKILL, OOM)"
    [ "${k[2]}" -ne 0 ] && [ "${k[2]}" -ne 137 ] && kres="failed, status ${k[2]}"
    vres=${v[3]}
    [ "${v[2]}" -ne 0 ] && vres="failed, status ${v[2]}"
    echo "| 1/$frac = $cap_m MiB | ${v[0]} | ${v[1]} | $vres | ${k[0]} | ${k[1]} | $kres |"
done
