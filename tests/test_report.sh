#!/usr/bin/env bash
# test_report.sh -- reports that survive, and live statistics.
#
#   test_report.sh VMEM_TOOL CHILD_LINKED CHILD_PLAIN CASE
#
# CHILD_LINKED is report_child linked with libvmem, CHILD_PLAIN the same
# without (run under `vmem run`'s preload library).  VMEM_FAULT_MODE comes
# from the environment.  Each case uses a statistics directory of its own
# (VMEM_PUBLISH_DIR), and synchronises with the child through pipes
# (report_child -w says "ready N" and waits for a line).
#
# CASE stderr:  VMEM_REPORT=1 to a program that closes fd 2 before exit:
#               the block is still on the stderr it started with, names its
#               pid, command and exit status; nothing left in the directory.
# CASE formats: VMEM_REPORT_FORMAT=json parses, csv has the same fields and
#               a header; a bad value is an error naming the variable; a
#               command line with invalid UTF-8 or cut inside a character
#               by the length limit still makes valid UTF-8 JSON.
# CASE publish: the area exists while the program runs (mode 0600), not with
#               VMEM_PUBLISH=off; removed at a clean exit (after
#               vmem_shutdown too) and after a failed start; a bad
#               VMEM_PUBLISH is an error naming it.
# CASE run:     vmem run --report over a tree: each process's block with how
#               it ended (exit status; signal 9 with its counters for the
#               one killed), a summary, json and text; nothing left after.
# CASE fullshm: a statistics directory with no room left (a tiny tmpfs,
#               mounted in a mount namespace of its own): the program runs
#               on with its counters private, leaves no file, and says one
#               line only when VMEM_PUBLISH or VMEM_PUBLISH_DIR is set.
# CASE closed-stderr: libvmem's messages and its report go to the stderr
#               the program started with, never into a file the program
#               opened after closing fd 2, nor into one it put on the
#               duplicate's number; none at all when fd 2 was closed from
#               the start.
# CASE forged: another user's file claiming a process of ours is not read
#               (as root); a file truncated while the tools read it makes
#               them say it is gone, never die of SIGBUS.
# CASE live:    vmem stat / top / map on a program paging under a cap: the
#               counters change between its two phases, the map shows
#               resident and paged-out pages.
set -u
vmem=$1 linked=$2 plain=$3 case=$4
work=$(mktemp -d /var/tmp/vmem-report-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
export VMEM_PUBLISH_DIR=$work/shm
mkdir "$work/shm"
fail() { echo "FAIL: $*"; exit 1; }
left() { ls -A "$work/shm"; }
# python3 itself, found once: what PATH names may be a wrapper script
# (pyenv's shims) that costs a shell and several programs at every call
py=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$py" ] ||
    fail "python3 names no interpreter: '$py'"

# csv_field FILE NAME: the value of column NAME in the last row of FILE.
csv_field() {
    "$py" - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(rows[-1][sys.argv[2]])
PY
}

case $case in
stderr)
    VMEM_REPORT=1 "$linked" -c -x 7 2>"$work/err"
    rc=$?
    [ "$rc" -eq 7 ] || fail "status $rc, expected 7"
    cat "$work/err"
    grep -q "^libvmem counters of pid [0-9]* (.*report_child.* -c -x 7), exited with status 7" \
        "$work/err" || fail "no labelled block on the stderr closed before exit"
    grep -q "commit charge *[0-9]* (peak 2[0-9][0-9])" "$work/err" || fail "no commit charge counted"
    [ -z "$(left)" ] || fail "left behind after a clean exit: $(left)"
    # a stderr whose reader is gone: the report must not turn the status
    # into a death by SIGPIPE (the pipe's read end closed before the start)
    rc=$(VMEM_REPORT=1 "$py" -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
print(subprocess.run([sys.argv[1], "-x", "3"], stderr=w).returncode)' "$linked")
    [ "$rc" = 3 ] || fail "status $rc with stderr a broken pipe, expected 3"
    ;;
formats)
    VMEM_REPORT=$work/r.json VMEM_REPORT_FORMAT=json "$linked" -x 3
    "$py" - "$work/r.json" <<'PY' || fail "the json report is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["processes"]
assert len(p) == 1, p
assert p[0]["end"] == "exited" and p[0]["exit_status"] == 3, p[0]
assert p[0]["counters"]["peak_commit_charge"] >= 256, p[0]
assert "report_child" in p[0]["command"]
PY
    VMEM_REPORT=$work/r.csv VMEM_REPORT_FORMAT=csv "$linked" -x 0
    VMEM_REPORT=$work/r.csv VMEM_REPORT_FORMAT=csv "$linked" -x 1
    cat "$work/r.csv"
    "$py" - "$work/r.csv" "$work/r.json" <<'PY' || fail "csv fields differ from json's"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
assert len(rows) == 3, "one header, two rows: %r" % rows
head = rows[0]
keys = list(json.load(open(sys.argv[2]))["processes"][0]["counters"])
assert head == ["pid", "command", "end", "code"] + keys, head
assert all(len(r) == len(head) for r in rows)
assert rows[1][2:4] == ["exited", "0"] and rows[2][2:4] == ["exited", "1"], rows
PY
    # a command line with invalid UTF-8, and ones cut by the 255-byte limit
    # at each byte of a 4-byte character: valid UTF-8 JSON all the same,
    # the bad bytes as U+FFFD, never half a character
    VMEM_REPORT=$work/u.json VMEM_REPORT_FORMAT=json "$linked" -x 0 -- \
        $'bad\xff\xfe|\xc3(|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98|ok\xc3\xa9'
    "$py" - "$work/u.json" <<'PY' || fail "a command line with invalid UTF-8 makes bad JSON"
import json, sys
cmd = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))["processes"][0]["command"]
want = "bad\ufffd\ufffd|\ufffd(|\ufffd\ufffd|\ufffd\ufffd\ufffd|\ufffd|ok\u00e9"
assert cmd.endswith(" -x 0 -- " + want), ascii(cmd)
PY
    for pad in "" x xx xxx; do
        long=$pad$(printf '\xf0\x9f\x98\x80%.0s' $(seq 80))
        VMEM_REPORT=$work/c.json VMEM_REPORT_FORMAT=json "$linked" -x 0 -- "$long"
        "$py" - "$work/c.json" "$linked -x 0 -- $long" <<'PY' || fail "a command line cut by the limit makes bad JSON (pad '$pad')"
import json, os, sys
cmd = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))["processes"][0]["command"]
full = os.fsdecode(os.fsencode(sys.argv[2]))
assert full.startswith(cmd), ascii(cmd)
assert len(cmd.encode()) > 255 - 4, len(cmd.encode())
PY
        rm -f "$work/c.json"
    done
    VMEM_REPORT=1 VMEM_REPORT_FORMAT=yaml "$linked" 2>"$work/err"
    [ $? -ne 0 ] || fail "VMEM_REPORT_FORMAT=yaml accepted"
    grep -q 'VMEM_REPORT_FORMAT="yaml"' "$work/err" || fail "the error does not name the variable"
    [ -z "$(left)" ] || fail "left behind: $(left)"
    ;;
publish)
    for mode in on off; do
        coproc CHILD { VMEM_PUBLISH=$mode exec "$linked" -w; }
        read -r line <&"${CHILD[0]}"
        [ "$line" = "ready 1" ] || fail "child said '$line'"
        if [ $mode = on ]; then
            f=$work/shm/vmem-stat.$CHILD_PID
            [ -f "$f" ] || fail "no area $f while the program runs"
            perm=$(stat -c %a "$f")
            [ "$perm" = 600 ] || fail "area mode $perm, expected 600"
        else
            [ -z "$(left)" ] || fail "VMEM_PUBLISH=off made $(left)"
        fi
        echo >&"${CHILD[1]}"
        read -r line <&"${CHILD[0]}"
        echo >&"${CHILD[1]}"
        wait "$CHILD_PID" || fail "child failed"
        [ -z "$(left)" ] || fail "left behind after a clean exit: $(left)"
    done
    # a program that shuts libvmem down before it exits
    "$linked" -s || fail "report_child -s failed"
    [ -z "$(left)" ] || fail "left behind after vmem_shutdown and exit: $(left)"
    # a start that fails after the area was made (a page file refused)
    : >"$work/not-a-dir"
    VMEM_MAX_RESIDENT=1M VMEM_PAGEFILE=$work/not-a-dir "$linked" 2>/dev/null
    [ -z "$(left)" ] || fail "left behind by a failed start: $(left)"
    VMEM_PUBLISH=maybe "$linked" 2>"$work/err" && fail "VMEM_PUBLISH=maybe accepted"
    grep -q 'VMEM_PUBLISH="maybe"' "$work/err" || fail "the error does not name the variable"
    ;;
run)
    # sh runs a child that exits with 5 and exec's one that kills itself
    tree="\"$plain\" -x 5 & wait; exec \"$plain\" -p 64 -k 9"
    "$vmem" run --report="$work/r.json" --report-format=json -- sh -c "$tree"
    rc=$?
    [ "$rc" -eq 137 ] || fail "vmem run returned $rc, expected 137 (SIGKILL)"
    "$py" - "$work/r.json" <<'PY' || fail "the tree's json report is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["processes"]
for q in p:
    print(q["pid"], q["command"], q["end"], q.get("exit_status", q.get("signal")))
ends = [(q["end"], q.get("exit_status", q.get("signal"))) for q in p]
assert ("exited", 5) in ends, ends
killed = [q for q in p if q["end"] == "killed"]
assert len(killed) == 1 and killed[0]["signal"] == 9, ends
assert killed[0]["counters"]["peak_commit_charge"] >= 64, killed[0]
assert "-k 9" in killed[0]["command"]
assert d["summary"]["processes"] == len(p) >= 3
s = d["summary"]["counters"]
assert s["commit_charge"] == sum(q["counters"]["commit_charge"] for q in p)
assert s["peak_working_set"] == max(q["counters"]["peak_working_set"] for q in p)
PY
    [ -z "$(left)" ] || fail "left behind after vmem run collected the tree: $(left)"
    "$vmem" run --report -- sh -c "$tree" 2>"$work/err"
    grep -v '^  ' "$work/err"
    grep -q "^libvmem counters of pid [0-9]* (.* -p 64 -k 9), killed by signal 9 (SIGKILL)" \
        "$work/err" || fail "no block for the killed process"
    grep -q "exited with status 5" "$work/err" || fail "no block for the process that exited"
    grep -q "^libvmem counters summed over [0-9]* processes" "$work/err" || fail "no summary"
    [ -z "$(left)" ] || fail "left behind: $(left)"
    ;;
fullshm)
    # the mounts vanish with the namespace, whatever happens
    if [ -z "${REPORT_TEST_NS:-}" ]; then
        if ! unshare -m true 2>"$work/err"; then
            echo "SKIP: no mount namespace here: $(cat "$work/err")"
            exit 77
        fi
        REPORT_TEST_NS=1 unshare -m "$BASH" "$0" "$@"
        exit $?
    fi
    small=$work/small
    mkdir "$small"
    if ! mount -t tmpfs -o size=64k,mode=1777 none "$small" 2>"$work/err"; then
        echo "SKIP: cannot mount a tmpfs here: $(cat "$work/err")"
        exit 77
    fi
    trap 'umount "$small" /dev/shm 2>/dev/null; rm -rf "$work"' EXIT
    dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
    VMEM_PUBLISH_DIR=$small "$linked" -x 0 2>"$work/err"
    rc=$?
    cat "$work/err"
    [ "$rc" -eq 0 ] || fail "status $rc with a full statistics directory"
    [ "$(ls -A "$small")" = fill ] || fail "left in the full directory: $(ls -A "$small")"
    [ "$(wc -l <"$work/err")" -eq 1 ] &&
        grep -q "cannot publish statistics in $small (No space left on device)" "$work/err" ||
        fail "not one line naming the directory and the error"
    # the default directory full, neither variable set: quiet
    mount -t tmpfs -o size=64k,mode=1777 none /dev/shm || fail "cannot mount over /dev/shm"
    dd if=/dev/zero of=/dev/shm/fill bs=4k 2>/dev/null
    (unset VMEM_PUBLISH_DIR; exec "$linked" -x 0) 2>"$work/err" || fail "status $? with /dev/shm full"
    [ ! -s "$work/err" ] || fail "said on stderr though nothing asked to publish: $(cat "$work/err")"
    [ "$(ls -A /dev/shm)" = fill ] || fail "left in /dev/shm: $(ls -A /dev/shm)"
    (unset VMEM_PUBLISH_DIR; VMEM_PUBLISH=on exec "$linked" -x 0) 2>"$work/err" ||
        fail "status $? with /dev/shm full and VMEM_PUBLISH=on"
    grep -q "cannot publish statistics in /dev/shm" "$work/err" || fail "VMEM_PUBLISH=on: nothing said"
    ;;
closed-stderr)
    # libvmem speaks at its start (the first call, after the file took
    # fd 2): the cap above memory, or kernel mode's cap not enforced
    say() { VMEM_MAX_RESIDENT=100T "$@"; }
    printf USERDATA >"$work/file"
    # stderr a pipe: the messages still reach it
    say "$linked" -e "$work/file" 2>&1 >/dev/null | cat >"$work/err"
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "status ${PIPESTATUS[0]}"
    cat "$work/err"
    [ "$(cat "$work/file")" = USERDATA ] || fail "the program's file was written: $(od -c "$work/file")"
    grep -q "^libvmem: " "$work/err" || fail "no message on the stderr the program started with"
    say "$linked" -e - 2>&1 >/dev/null | cat >"$work/err"
    grep -q "^libvmem: " "$work/err" || fail "no message after fd 2 was closed"
    # the report at exit too
    VMEM_REPORT=1 "$linked" -e "$work/file" 2>&1 >/dev/null | cat >"$work/err"
    [ "$(cat "$work/file")" = USERDATA ] || fail "the report went into the program's file: $(od -c "$work/file")"
    grep -q "^libvmem counters of pid" "$work/err" || fail "no report on the stderr the program started with"
    # the duplicate's number reused by the program for its file: not written
    say "$linked" -d "$work/file" 2>/dev/null || fail "status $? with -d"
    [ "$(cat "$work/file")" = USERDATA ] || fail "written through a number the program reused: $(od -c "$work/file")"
    # fd 2 closed from the start: nothing said anywhere
    say "$linked" -e "$work/file" 2>&- || fail "status $? with fd 2 closed from the start"
    [ "$(cat "$work/file")" = USERDATA ] || fail "written with fd 2 closed from the start: $(od -c "$work/file")"
    [ -z "$(left)" ] || fail "left behind: $(left)"
    ;;
live)
    if [ "${VMEM_FAULT_MODE:-thread}" = kernel ]; then
        echo "SKIP: fault mode kernel cannot page (no cap to page under)"
        exit 77
    fi
    coproc CHILD { VMEM_MAX_RESIDENT=1M exec "$linked" -p 2048 -w; }
    pid=$CHILD_PID
    read -r line <&"${CHILD[0]}"
    [ "$line" = "ready 1" ] || fail "child said '$line'"
    "$vmem" stat --format csv "$pid" >"$work/s1.csv" || fail "vmem stat failed"
    cat "$work/s1.csv"
    "$vmem" map "$pid" >"$work/map" || fail "vmem map failed"
    cat "$work/map"
    read -r _ pages _ committed resident standby pagedout _ < <(grep '^total' "$work/map" | tr -s ' ' | cut -d' ' -f1-8)
    [ "$pages" -eq 2048 ] || fail "map: $pages pages, expected 2048"
    [ "$resident" -gt 0 ] || fail "map: no resident pages"
    [ "$pagedout" -gt 0 ] || fail "map: no paged-out pages under a 1 MiB cap"
    "$vmem" top -n 1 -b >"$work/top" || fail "vmem top failed"
    cat "$work/top"
    grep -q "^ *$pid .*report_child" "$work/top" || fail "vmem top does not list $pid"
    echo >&"${CHILD[1]}"
    read -r line <&"${CHILD[0]}"
    [ "$line" = "ready 2" ] || fail "child said '$line'"
    "$vmem" stat --format csv "$pid" >"$work/s2.csv" || fail "vmem stat failed"
    cat "$work/s2.csv"
    r1=$(csv_field "$work/s1.csv" pages_read) r2=$(csv_field "$work/s2.csv" pages_read)
    w1=$(csv_field "$work/s1.csv" pages_written)
    [ "$w1" -gt 0 ] || fail "no pages written in phase 1 under the cap"
    [ "$r2" -gt "$r1" ] || fail "pages read did not grow while the program paged ($r1 -> $r2)"
    [ "$(csv_field "$work/s2.csv" end)" = running ] || fail "not running"
    "$vmem" stat "$pid" 0.01 2 >"$work/rates" || fail "vmem stat with an interval failed"
    cat "$work/rates"
    [ "$(grep -c "^ *$pid " "$work/rates")" -eq 2 ] || fail "vmem stat PID 0.01 2: not two lines"
    echo >&"${CHILD[1]}"
    wait "$pid" || fail "child failed"
    "$vmem" stat "$pid" 2>"$work/err" && fail "vmem stat of an ended process succeeded"
    grep -q "publishes no libvmem statistics" "$work/err" || fail "unclear error: $(cat "$work/err")"
    [ -z "$(left)" ] || fail "left behind: $(left)"
    ;;
forged)
    # areas written by someone else: a file of another user claiming a
    # process of ours is not listed; a file truncated and restored while
    # read is gone or read, never a crash of the reader.  The forged area
    # is a copy of the child's whose requests count as answered (-a): no
    # publisher is behind it, and a reader would wait out its time for one
    # (2 s for vmem map) whenever it found the file whole
    coproc CHILD { exec "$linked" -w -a "$work/area"; }
    read -r line <&"${CHILD[0]}"
    [ "$line" = "ready 1" ] || fail "child said '$line'"
    [ -s "$work/area" ] || fail "the child made no copy of its area"
    if [ "$(id -u)" = 0 ]; then
        cp "$work/area" "$work/shm/vmem-stat.$$"
        chown nobody "$work/shm/vmem-stat.$$"
        "$vmem" top -n 1 -b >"$work/out" || fail "vmem top failed"
        cat "$work/out"
        grep -q "^ *$$ " "$work/out" && fail "vmem top lists another user's forged area"
        "$vmem" stat $$ >/dev/null 2>&1 && fail "vmem stat read another user's forged area"
        "$vmem" map $$ >/dev/null 2>&1 && fail "vmem map read another user's forged area"
        rm -f "$work/shm/vmem-stat.$$"
    else
        echo "not root: the other user's forged area is not tried"
    fi
    # a copy of the area named for this shell, truncated and restored in a loop
    "$py" - "$work/area" "$work/shm/vmem-stat.$$" <<'PY' &
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, data)
stop = sys.argv[2] + ".stop"
while not os.path.exists(stop):
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
PY
    flipper=$!
    for i in $(seq 1 30); do
        for c in "stat $$" "map $$" "top -n 1 -b"; do
            "$vmem" $c >/dev/null 2>&1
            rc=$?
            [ $rc -lt 128 ] || { : >"$work/shm/vmem-stat.$$.stop"; wait $flipper;
                                 fail "vmem $c died with status $rc on a file truncated while read"; }
        done
    done
    : >"$work/shm/vmem-stat.$$.stop"
    wait $flipper
    rm -f "$work/shm/vmem-stat.$$" "$work/shm/vmem-stat.$$.stop"
    echo >&"${CHILD[1]}"
    read -r line <&"${CHILD[0]}"
    echo >&"${CHILD[1]}"
    wait "$CHILD_PID" || fail "child failed"
    ;;
*)
    fail "unknown case $case"
    ;;
esac
echo "ok: $case"
