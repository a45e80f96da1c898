#!/usr/bin/env bash
# test_vmem_doc.sh VMEM DOC -- the manual of the vmem command stays true:
# the output of `VMEM --help`, and of `VMEM SUB --help` for every SUB that
# `VMEM --help` lists, must each be one fenced block of DOC (docs/vmem.md),
# verbatim.  And every fenced block in DOC that looks like a help text
# ("usage: vmem SUB ...") must be a sub-command that still exists.
# For each mismatch it prints what the binary says and, when DOC has a block
# with the same first line, the difference.  Exit status 0 or 1; 2 on bad usage.
set -u

[ $# -eq 2 ] || { echo "usage: $0 VMEM DOC" >&2; exit 2; }
vmem=$1 doc=$2
[ -x "$vmem" ] || { echo "$0: $vmem: not an executable" >&2; exit 2; }
[ -r "$doc" ] || { echo "$0: $doc: cannot read" >&2; exit 2; }

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Each fenced block of DOC (between lines that start with ```) into
# $tmp/block.N, its lines as they are.
mkdir "$tmp/blocks"
awk -v dir="$tmp/blocks" '
    /^```/ { if (open) { close(f); open = 0 } else { f = dir "/block." ++n; printf "" > f; open = 1 }
             next }
    open   { print > f }
' "$doc" || exit 2

fail=0

# check NAME FILE: FILE (a help text) is exactly one of DOC's blocks.
check() {
    local name=$1 help=$2 b
    if [ ! -s "$help" ]; then
        echo "FAIL: '$name --help' printed nothing"
        fail=1
        return
    fi
    for b in "$tmp"/blocks/block.*; do
        [ -e "$b" ] && cmp -s "$b" "$help" && { echo "ok: '$name --help' is in $doc"; return; }
    done
    fail=1
    echo "FAIL: the output of '$name --help' is not a fenced block of $doc, verbatim:"
    local first near=
    first=$(head -n 1 "$help")
    for b in "$tmp"/blocks/block.*; do
        [ -e "$b" ] && [ "$(head -n 1 "$b")" = "$first" ] && { near=$b; break; }
    done
    if [ -n "$near" ]; then
        echo "--- the block of $doc that starts like it, +++ what the binary prints:"
        diff -u "$near" "$help" | tail -n +3
    else
        sed 's/^/    /' "$help"
    fi
}

if ! "$vmem" --help >"$tmp/help" 2>"$tmp/err"; then
    echo "FAIL: 'vmem --help' failed:"
    cat "$tmp/err"
    exit 1
fi
check vmem "$tmp/help"

# The sub-commands: the indented lines under "commands:", up to a blank line.
subs=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [^ ]/ { print $1 }' "$tmp/help")
if [ -z "$subs" ]; then
    echo "FAIL: found no sub-commands in 'vmem --help'"
    exit 1
fi
for sub in $subs; do
    if ! "$vmem" "$sub" --help >"$tmp/help.$sub" 2>"$tmp/err"; then
        echo "FAIL: 'vmem $sub --help' failed:"
        cat "$tmp/err"
        fail=1
        continue
    fi
    check "vmem $sub" "$tmp/help.$sub"
done

# A help text in DOC for a sub-command that is gone.
for b in "$tmp"/blocks/block.*; do
    [ -e "$b" ] || continue
    sub=$(awk 'NR == 1 && $1 == "usage:" && $2 == "vmem" && $3 != "COMMAND" { print $3 }' "$b")
    [ -n "$sub" ] || continue
    if ! printf '%s\n' $subs | grep -qx -- "$sub"; then
        echo "FAIL: $doc has the help of 'vmem $sub', which 'vmem --help' does not list"
        fail=1
    fi
done

exit $fail
