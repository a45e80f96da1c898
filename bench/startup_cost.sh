#!/usr/bin/env bash
# startup_cost.sh -- what starting paging costs per process, by cap:
# `vmem run --max-resident C -- /bin/true` for each cap C, median wall time
# and median peak RSS (GNU time's %M) of REPS runs.
#
#   bench/startup_cost.sh [-r REPS] [-t VMEM_TOOL] [CAP...]
#
# CAPs default to 4G 16G 100G 1T 16T; VMEM_TOOL to build/tools/vmem (its
# preload library is found next to it).  Prints one markdown table row per
# cap.  A run that fails (an OOM kill) prints its status instead.
set -u
here=$(cd "$(dirname "$0")" && pwd)
vmem=$here/../build/tools/vmem
reps=5
while getopts ":r:t:" o; do
    case $o in
    r) reps=$OPTARG ;;
    t) vmem=$OPTARG ;;
    *) echo "usage: $0 [-r REPS] [-t VMEM_TOOL] [CAP...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
caps=("$@")
[ ${#caps[@]} -gt 0 ] || caps=(4G 16G 100G 1T 16T)
[ -x "$vmem" ] || { echo "$0: $vmem missing (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| cap | wall time (s, median of $reps) | peak RSS (MiB, median) |"
echo "|---|---|---|"
for cap in "${caps[@]}"; do
    secs=() kib=() failed=""
    for ((i = 0; i < reps; i++)); do
        t0=$(date +%s.%N)
        /usr/bin/time -f "%M" -o "$tmp" "$vmem" run --max-resident "$cap" -- /bin/true 2>/dev/null
        rc=$?
        t1=$(date +%s.%N)
        if [ $rc -ne 0 ]; then
            failed="failed (exit $rc)"
            break
        fi
        secs+=("$(echo "$t1 - $t0" | bc -l)")
        kib+=("$(tail -1 "$tmp")")
    done
    if [ -n "$failed" ]; then
        echo "| $cap | $failed | |"
        continue
    fi
    s=$(printf '%s\n' "${secs[@]}" | median)
    k=$(printf '%s\n' "${kib[@]}" | median)
    printf '| %s | %.3f | %.1f |\n' "$cap" "$s" "$(echo "$k / 1024" | bc -l)"
done
