#!/usr/bin/env bash
# test_install.sh BUILD_DIR -- an installed libvmem is usable as README.md
# says: `meson install --destdir` into a temporary directory, then a
# program built with `pkg-config --cflags --libs libvmem` (PKG_CONFIG_PATH
# at the installed .pc file, its prefix moved under DESTDIR) runs with
# LD_LIBRARY_PATH unset, and the installed `vmem run` finds the installed
# libvmem-preload.so.  Exit status 0, 1, or 77 (skipped, with the reason)
# without pkg-config or a C compiler.
set -u
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
command -v pkg-config >/dev/null || { echo "skip: pkg-config is not installed"; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "skip: no C compiler ($cc)"; exit 77; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

if ! meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/log" 2>&1; then
    echo "FAIL: meson install --destdir:"
    tail -n 20 "$tmp/log"
    exit 1
fi
pc=$(find "$tmp/root" -name libvmem.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no libvmem.pc installed"; exit 1; }
echo "ok: installed; $pc"

cat >"$tmp/app.c" <<'EOF'
#include <memoryapi.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char *p = VirtualAlloc(NULL, 8, MEM_COMMIT, PAGE_READWRITE);
    if (!p)
        return 1;
    memcpy(p, "1337", 5);
    printf("stored %s\n", p);
    return VirtualFree(p, 0, MEM_RELEASE) ? 0 : 1;
}
EOF
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# the tree was installed for PREFIX and lies in DESTDIR/PREFIX
prefix=$(pkg-config --variable=prefix libvmem) || { echo "FAIL: pkg-config libvmem"; exit 1; }
flags=$(pkg-config --define-variable=prefix="$tmp/root$prefix" --cflags --libs libvmem) ||
    { echo "FAIL: pkg-config --cflags --libs libvmem"; exit 1; }
echo "ok: pkg-config libvmem: $flags"
# shellcheck disable=SC2086
if ! "$cc" "$tmp/app.c" -o "$tmp/app" $flags 2>"$tmp/cc.log"; then
    echo "FAIL: $cc app.c \$(pkg-config --cflags --libs libvmem):"
    cat "$tmp/cc.log"
    exit 1
fi
out=$(env -u LD_LIBRARY_PATH "$tmp/app" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "stored 1337" ]; then
    echo "ok: the program runs without LD_LIBRARY_PATH"
else
    echo "FAIL: the program built with pkg-config: status $rc, output: $out"
    ldd "$tmp/app" | sed 's/^/    /'
    fail=1
fi
# It must use the installed libvmem, not one the loader finds elsewhere.
lib=$(env -u LD_LIBRARY_PATH ldd "$tmp/app" | awk '/libvmem\.so/ { print $3 }')
case $lib in
"$tmp/root"/*) echo "ok: it loads the installed $lib" ;;
*) echo "FAIL: the program loads libvmem from '$lib', not from the installed tree"; fail=1 ;;
esac

vmem=$(find "$tmp/root" -path '*/bin/vmem' | head -n 1)
if [ -z "$vmem" ]; then
    echo "FAIL: no bin/vmem installed"
    fail=1
else
    preload=$(env -u LD_LIBRARY_PATH "$vmem" run -- sh -c 'echo "$LD_PRELOAD"' 2>&1)
    case $preload in
    "$tmp/root"/*libvmem-preload.so*) echo "ok: the installed vmem run uses $preload" ;;
    *) echo "FAIL: the installed vmem run: LD_PRELOAD is '$preload'"; fail=1 ;;
    esac
fi
exit $fail
