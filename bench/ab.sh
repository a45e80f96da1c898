#!/usr/bin/env bash
# ab.sh BUILD_A BUILD_B [REPS] -- two builds of libvmem (for example the
# tree before and after a change: `git worktree add /tmp/a REV && meson
# setup /tmp/a/build --buildtype=release && ninja -C /tmp/a/build`),
# measured interleaved in one run, so that both meet the same machine state:
#
#   paging      bench_paging -b vmem -s 256M under a 64 MiB cap, workloads
#               seq, randread (16,384 touches) and zipf, page file in
#               /var/tmp: pages per second and p50 latency;
#   demand-zero bench_demand_zero -n 65536 -p seq -t 1 (thread mode,
#               default cluster): libvmem's ns per page against the kernel
#               anonymous memory measured in the same process (ratio);
#   preload     python3 building lists and dicts (~200 MiB) under
#               `vmem run --max-resident 48M`: wall seconds.
#
# The two builds take turns going first (A then B in odd repetitions, B
# then A in even ones).  MEASURES (default "paging demand-zero preload")
# picks a subset.  Prints one line per run, then the median of each measure
# per build and B/A.  Data checks stay on: a run that finds wrong data
# reports errors.
set -eu
a=$1 b=$2 reps=${3:-3}
measures=" ${MEASURES:-paging demand-zero preload} "
for d in "$a" "$b"; do
    for f in bench/bench_paging bench/bench_demand_zero tools/vmem; do
        [ -x "$d/$f" ] || { echo "$0: $d/$f missing (build it first)" >&2; exit 1; }
    done
done
unset MALLOC_PERTURB_
work=$(mktemp -d /var/tmp/vmem-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
field() { grep -oE "(^| )$1=[0-9.]+" | head -1 | cut -d= -f2; }
out=$work/lines
for rep in $(seq 1 "$reps"); do
    order="A B"
    [ $((rep % 2)) -eq 0 ] && order="B A"
    for v in $order; do
        d=$a
        [ "$v" = B ] && d=$b
        if [[ $measures == *" paging "* ]]; then
            for w in seq randread zipf; do
                ops=""
                [ "$w" = randread ] && ops="-o 16384"
                r=$(VMEM_MAX_RESIDENT=64M VMEM_PAGEFILE=/var/tmp \
                    "$d/bench/bench_paging" -b vmem -s 256M -w "$w" $ops | grep '^RESULT')
                echo "rep=$rep build=$v measure=paging-$w pages_per_sec=$(echo "$r" | field pages_per_sec) p50_us=$(echo "$r" | field p50_us) errors=$(echo "$r" | field errors)"
            done
        fi
        if [[ $measures == *" demand-zero "* ]]; then
            r=$(VMEM_FAULT_MODE=thread "$d/bench/bench_demand_zero" -k -n 65536 -r 3 -p seq -t 1 | grep '^RESULT')
            echo "rep=$rep build=$v measure=demand-zero vmem_ns=$(echo "$r" | field vmem_ns) kern_ns=$(echo "$r" | field kern_ns) ratio=$(echo "$r" | field ratio)"
        fi
        if [[ $measures == *" preload "* ]]; then
            t0=$(date +%s.%N)
            "$d/tools/vmem" run --max-resident 48M --pagefile "$work" -- /usr/bin/python3 "$(dirname "$0")/lists.py" >"$work/py.out"
            t1=$(date +%s.%N)
            echo "rep=$rep build=$v measure=preload-python secs=$(echo "$t1 - $t0" | bc) output=$(cut -c1-12 "$work/py.out" | tr ' ' _)"
        fi
    done
done | tee "$out"
echo
echo "medians of $reps (B/A: above 1 means B is higher)"
python3 - "$out" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if line.startswith("rep=")]
keys = {"paging-seq": "pages_per_sec", "paging-randread": "pages_per_sec", "paging-zipf": "pages_per_sec",
        "demand-zero": "ratio", "preload-python": "secs"}
for m, k in keys.items():
    if not any(r["measure"] == m for r in rows):
        continue
    med = {}
    for v in "AB":
        xs = [float(r[k]) for r in rows if r["measure"] == m and r["build"] == v]
        med[v] = statistics.median(xs) if xs else float("nan")
    errs = sum(int(r.get("errors", "0") or 0) for r in rows if r["measure"] == m)
    print("%-16s %-14s A %10.2f  B %10.2f  B/A %.3f%s" % (m, k, med["A"], med["B"], med["B"] / med["A"],
          "  ERRORS %d" % errs if errs else ""))
PY
