#!/usr/bin/env bash
# test_vmem_cli.sh VMEM VERSION [SANITIZE] -- the vmem command's option handling, the
# same in every sub-command (tools/opt.h): --opt=value and --opt value,
# errors that name the option in one line (plus "try 'vmem CMD --help'"),
# options checked before anything starts, exit statuses, --version and
# `vmem help CMD`; `vmem trace`'s status and output file rules; `vmem bench`
# interrupted by SIGINT.  Prints one line per check; exit status 0 or 1.
# SANITIZE (meson's b_sanitize, default none): in a sanitizer build the
# preload library cannot run in an uninstrumented program, so the checks
# that run a program under `vmem run` are skipped (saying so).
set -u

[ $# -ge 2 ] || { echo "usage: $0 VMEM VERSION [SANITIZE]" >&2; exit 2; }
vmem=$1 version=$2 sanitize=${3:-none}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0

# run NAME EXPECTED-STATUS ARGS...: runs vmem ARGS, output in $tmp/out and
# $tmp/err, checks the status.
run() {
    local name=$1 want=$2
    shift 2
    "$vmem" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $name: 'vmem $*' exited with $rc, expected $want"
        sed 's/^/    stderr: /' "$tmp/err" | head -n 5
        fail=1
        return 1
    fi
    return 0
}

# has NAME FILE TEXT: FILE contains TEXT.
has() {
    if grep -qF -- "$3" "$2"; then
        return 0
    fi
    echo "FAIL: $1: no '$3' in:"
    sed 's/^/    /' "$2" | head -n 8
    fail=1
    return 1
}

# short_error NAME OPTION: $tmp/err is one line naming OPTION and the try
# line: not the whole usage.
short_error() {
    local n
    n=$(wc -l <"$tmp/err")
    if [ "$n" -ne 2 ] || ! head -n 1 "$tmp/err" | grep -qF -- "$2" ||
       ! tail -n 1 "$tmp/err" | grep -q "^try 'vmem [a-z]* --help'$"; then
        echo "FAIL: $1: expected one line naming '$2' and a try line, got:"
        sed 's/^/    /' "$tmp/err" | head -n 8
        fail=1
        return 1
    fi
    echo "ok: $1"
}

ok() { echo "ok: $1"; }

# ---- one parser: --opt=value, --opt value, unknown and missing --------------
if [ "$sanitize" = none ]; then
    run "run --max-resident=16M" 0 run --max-resident=16M -- true && ok "run --max-resident=16M"
    run "run --max-resident 1.5G" 0 run --max-resident 1.5G true && ok "run --max-resident 1.5G"
    run "run --policy=fifo" 0 run --policy=fifo --prefetch=none true && ok "run --policy=fifo"
else
    echo "skip: programs under vmem run: a $sanitize build's preload library needs an instrumented program"
fi
for cmd in run bench sim trace; do
    run "$cmd --bogus" "$([ $cmd = run ] || [ $cmd = trace ] && echo 125 || echo 2)" \
        $cmd --bogus && short_error "$cmd: unknown option" "'--bogus'"
done
run "run --policy (no value)" 125 run --policy && short_error "run: missing value" "'--policy'"
run "bench --cap (no value)" 2 bench --cap && short_error "bench: missing value" "'--cap'"
run "sim --frames (no value)" 2 sim --gen seq:5 --frames && short_error "sim: missing value" "'--frames'"
run "trace -o (no value)" 125 trace -o && short_error "trace: missing value" "'-o'"
run "bench --help=x" 2 bench --help=x && short_error "bench: a flag with a value" "'--help'"
run "bench --seed=x" 2 bench --seed=x && short_error "bench: bad number" "--seed"
run "bench --cap=0" 2 bench --cap=0 && short_error "bench: --cap 0" "--cap"
run "sim operand after options" 0 sim --policy=fifo --frames=2 --gen=seq:5 &&
    has "sim --opt=value" "$tmp/out" "fifo" && ok "sim --opt=value"
run "sim --seed bad" 2 sim --seed=-1 --gen seq:5 && short_error "sim: bad seed" "--seed"

# ---- vmem run: every option checked before CMD starts, status 125 ----------
run "run --policy bogus" 125 run --policy bogus -- touch "$tmp/ran" &&
    has "run --policy bogus" "$tmp/err" "bogus" && has "run --policy bogus lists" "$tmp/err" "clock" &&
    has "run --policy bogus lists" "$tmp/err" "s3fifo" && ok "run --policy bogus: 125, policies listed"
[ -e "$tmp/ran" ] && { echo "FAIL: run --policy bogus ran the program"; fail=1; }
run "run --max-resident 0" 125 run --max-resident 0 -- touch "$tmp/ran" &&
    short_error "run --max-resident 0" "--max-resident" && has "run --max-resident 0" "$tmp/err" "no cap"
run "run --max-resident 1.1K" 125 run --max-resident 1.1K -- touch "$tmp/ran" &&
    short_error "run: a fraction of a byte" "--max-resident"
run "run --prefetch bogus" 125 run --prefetch bogus -- touch "$tmp/ran" &&
    has "run --prefetch bogus" "$tmp/err" "adaptive" && ok "run --prefetch bogus"
VMEM_TRIM=bogus "$vmem" run -- touch "$tmp/ran" 2>"$tmp/err"
rc=$?
if [ $rc -eq 125 ] && grep -q VMEM_TRIM "$tmp/err"; then ok "run: a bad VMEM_* variable is refused"
else echo "FAIL: run with VMEM_TRIM=bogus: status $rc"; cat "$tmp/err"; fail=1; fi
[ -e "$tmp/ran" ] && { echo "FAIL: vmem run ran the program despite a bad option"; fail=1; }
run "run without CMD" 125 run --max-resident 64M && short_error "run: no command" "no command"

# ---- version, help ----------------------------------------------------------
run "--version" 0 --version && has "--version" "$tmp/out" "$version" && ok "vmem --version"
run "version" 0 version && has "version" "$tmp/out" "$version" && ok "vmem version"
for cmd in run bench sim trace; do
    "$vmem" $cmd --help >"$tmp/a" 2>&1
    if run "help $cmd" 0 help $cmd && cmp -s "$tmp/a" "$tmp/out"; then ok "vmem help $cmd"
    else echo "FAIL: 'vmem help $cmd' differs from 'vmem $cmd --help'"; fail=1; fi
done
run "help nosuch" 2 help nosuch && has "help nosuch" "$tmp/err" "nosuch" && ok "vmem help nosuch"

# ---- outputs checked before the work: an error with the path ---------------
run "sim --plot unwritable" 2 sim --plot "$tmp/no/such/dir/p.png" --gen seq:5 &&
    has "sim --plot unwritable" "$tmp/err" "$tmp/no/such/dir/p.png" &&
    if [ -s "$tmp/out" ]; then echo "FAIL: sim --plot unwritable wrote to stdout"; fail=1
    else ok "sim --plot to an unwritable path"; fi
run "bench --csv unwritable" 2 bench --csv "$tmp/no/such/dir/r.csv" &&
    has "bench --csv unwritable" "$tmp/err" "$tmp/no/such/dir/r.csv" && ok "bench --csv to an unwritable path"

# ---- vmem run: what libvmem would refuse at start is refused up front (125) --
# refused NAME WHAT [VAR=VALUE...] -- ARGS...: vmem ARGS exits 125 naming
# WHAT, before the program starts.
refused() {
    local name=$1 what=$2
    shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    rm -f "$tmp/ran"
    env "${envs[@]}" "$vmem" "$@" -- touch "$tmp/ran" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$?
    if [ $rc -ne 125 ] || [ -e "$tmp/ran" ]; then
        echo "FAIL: $name: status $rc (expected 125)$([ -e "$tmp/ran" ] && echo ', the program ran')"
        sed 's/^/    stderr: /' "$tmp/err" | head -n 5
        fail=1
    elif grep -qF -- "$what" "$tmp/err"; then ok "$name"
    else echo "FAIL: $name: the message does not name '$what':"; sed 's/^/    /' "$tmp/err"; fail=1
    fi
}
refused "run --max-resident 1" "--max-resident" -- run --max-resident 1
refused "run --max-resident 255K" "--max-resident" -- run --max-resident 255K
refused "run VMEM_MAX_RESIDENT=100K" "VMEM_MAX_RESIDENT" VMEM_MAX_RESIDENT=100K -- run
refused "run VMEM_PAGEFILE_MAX=1" "VMEM_PAGEFILE_MAX" VMEM_MAX_RESIDENT=64M VMEM_PAGEFILE_MAX=1 -- run
refused "run --pagefile /proc" "/proc" -- run --max-resident 64M --pagefile /proc
refused "run --pagefile /proc/self/nothere" "/proc/self" -- run --max-resident 64M \
    --pagefile /proc/self/nothere
refused "run TMPDIR=/nonexistent with a cap" "/nonexistent" TMPDIR=$tmp/nonexistent -- \
    run --max-resident 64M
echo x >"$tmp/afile"
refused "run TMPDIR=a file with a cap" "$tmp/afile" TMPDIR=$tmp/afile -- run --max-resident 64M
if [ "$(id -u)" != 0 ]; then
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    refused "run --pagefile read-only directory" "$tmp/ro" -- run --max-resident 64M --pagefile "$tmp/ro"
elif mkdir "$tmp/ro" && mount -t tmpfs -o ro,size=1M none "$tmp/ro" 2>/dev/null; then
    refused "run --pagefile read-only tmpfs" "$tmp/ro" -- run --max-resident 64M --pagefile "$tmp/ro"
    refused "run --pagefile read-only tmpfs/new" "$tmp/ro" -- run --max-resident 64M --pagefile "$tmp/ro/new"
    umount "$tmp/ro"
else
    echo "skip: a read-only page-file directory: cannot mount a read-only tmpfs"
fi
if [ -n "$(ls -A "$tmp/ro" 2>/dev/null)" ]; then echo "FAIL: the page-file check left a file"; fail=1; fi
refused "run --report=FILE in no directory" "$tmp/no/such/dir/rep" -- run --report="$tmp/no/such/dir/rep"
refused "run --report=a directory" "$tmp" -- run --report="$tmp"
if [ "$sanitize" = none ]; then
    echo keep >"$tmp/rep.old"
    run "run --report=an existing file" 0 run --report="$tmp/rep.old" -- true &&
        if [ "$(head -n 1 "$tmp/rep.old")" = keep ] && [ "$(wc -l <"$tmp/rep.old")" -gt 1 ]; then
            ok "run --report=an existing file: appended to"
        else echo "FAIL: run --report changed the start of an existing file"; fail=1; fi
fi
# libvmem failing to start inside the tree all the same (here a process of
# CMD's with a cap of its own below the minimum): 125, never 127 ("not found")
if [ "$sanitize" = none ]; then
    run "run: libvmem fails to start in CMD" 125 run -- sh -c 'VMEM_MAX_RESIDENT=1 exec true' &&
        has "run: libvmem fails to start in CMD" "$tmp/err" "libvmem-preload" &&
        has "run: libvmem fails to start in CMD" "$tmp/err" "125" &&
        ok "run: libvmem failing to start in CMD gives 125"
fi

# ---- vmem trace ---------------------------------------------------------------
if ! command -v valgrind >/dev/null; then
    echo "skip: vmem trace checks: valgrind is not installed"
else
    t=$tmp/t.bin
    run "trace returns CMD's status" 3 trace -o "$t" -- sh -c 'exit 3' &&
        [ -s "$t" ] && ok "trace: CMD's exit status"
    echo keep >"$tmp/old.bin"
    run "trace refuses an existing file" 125 trace -o "$tmp/old.bin" -- true &&
        has "trace refuses" "$tmp/err" "--force" &&
        if [ "$(cat "$tmp/old.bin")" = keep ]; then ok "trace: an existing file is refused, untouched"
        else echo "FAIL: trace changed an existing file"; fail=1; fi
    run "trace --force" 0 trace --force --output="$tmp/old.bin" -- true &&
        if [ "$(head -c 4 "$tmp/old.bin")" != keep ]; then ok "trace --force overwrites"
        else echo "FAIL: trace --force left the old file"; fail=1; fi
    run "trace killed CMD" 143 trace -o "$tmp/k.bin" -- sh -c 'kill -TERM $$' &&
        ok "trace: 128+N for a CMD killed by signal N"
    run "trace no accesses" 125 trace -o "$tmp/e.bin" -- "$tmp/no-such-program" &&
        has "trace no accesses" "$tmp/err" "no accesses" &&
        if [ -e "$tmp/e.bin" ]; then echo "FAIL: trace left an empty trace"; fail=1
        else ok "trace: an empty trace is an error"; fi
fi

# ---- vmem bench: a line per run off a terminal; SIGINT prints what it has --
"$vmem" bench --size 4M --cap 1M --workload seq,uniform,loop --policy fifo,clock \
    >"$tmp/bout" 2>"$tmp/berr" </dev/null &
pid=$!
# wait for the first run's line (the tool's own progress, not a delay)
while kill -0 $pid 2>/dev/null && ! grep -q "run 1/6 done" "$tmp/berr"; do
    sleep 0.1
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ] && grep -q "^interrupted" "$tmp/bout" && grep -q "^workload seq" "$tmp/bout"
then ok "bench: SIGINT prints the results so far and exits 130"
else
    echo "FAIL: bench after SIGINT: status $rc (expected 130), output:"
    sed 's/^/    /' "$tmp/bout" "$tmp/berr" | head -n 20
    fail=1
fi
grep -q "run 1/6 done: seq fifo" "$tmp/berr" && ok "bench: a line per run when stderr is no terminal" ||
    { echo "FAIL: bench printed no per-run line"; fail=1; }

exit $fail
