#!/usr/bin/env bash
# test_packages.sh SRCDIR -- README.md's set-up paragraph names exactly the
# Debian packages tools/build.sh installs (its PACKAGES list), in order.
set -u
[ $# -eq 1 ] || { echo "usage: $0 SRCDIR" >&2; exit 2; }
src=$1
# PACKAGES=(a b
#           c d)
script=$(awk '/^PACKAGES=\(/ { on = 1 } on { print } on && /\)/ { exit }' "$src/tools/build.sh" |
         sed 's/^PACKAGES=(//; s/).*//' | tr -s ' \n' '\n' | grep -v '^$')
# "The first installs `a b\nc d` if missing"
readme=$(awk '/^The first installs `/ { on = 1 } on { print } on && /` if/ { exit }' "$src/README.md" |
         tr '\n' ' ' | sed 's/.*installs `//; s/`.*//' | tr -s ' ' '\n' | grep -v '^$')
if [ -z "$script" ] || [ -z "$readme" ]; then
    echo "FAIL: no package list found (tools/build.sh PACKAGES=(...), README 'The first installs \`...\`')"
    exit 1
fi
if [ "$script" != "$readme" ]; then
    echo "FAIL: README.md's package list differs from tools/build.sh's:"
    diff <(echo "$readme") <(echo "$script") | sed 's/^/    /'
    exit 1
fi
echo "ok: README.md lists the packages tools/build.sh installs:" $script
