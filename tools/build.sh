#!/usr/bin/env bash
# tools/build.sh -- set up, build, run, test and benchmark libvmem.
#
#   bash tools/build.sh [run]      install what is missing, build, and run the
#                                  main job: the examples and a short
#                                  demand-zero benchmark against the kernel
#   bash tools/build.sh test       build and run the test suite (meson test)
#   bash tools/build.sh sanitize   the test suite under ASan+UBSan; the race
#                                  stress program under TSan
#   bash tools/build.sh bench      the full demand-zero benchmark
#   bash tools/build.sh deps       only install the Debian packages needed
#
# Build directories: build/ (release with debug info), build-asan/,
# build-tsan/.  Installing packages needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(meson ninja-build pkg-config gcc libc6-dev liburing-dev libcriterion-dev
          python3 xz-utils time gnuplot-nox fuse3 libfuse3-dev
          liblz4-dev libzstd-dev)

deps() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() { # DIR [meson options...]
    local dir=$1
    shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
    ninja -C "$dir" >/dev/null
}

case "${1:-run}" in
run)
    deps
    build build
    echo "== the examples of the text libvmem grew from"
    ./build/examples/seed_example1; echo
    ./build/examples/seed_example2; echo
    echo "== demand-zero faults: libvmem (default configuration) against kernel memory"
    ./build/bench/bench_demand_zero -n 16384 -r 3 | grep -v '^REP'
    ;;
test)
    deps
    build build
    meson test -C build --print-errorlogs
    ;;
sanitize)
    deps
    build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    meson test -C build-asan --print-errorlogs
    build build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
    # Under TSan only the framework-free stress program runs: TSan's shadow
    # mappings leave Criterion no room for its process arena.
    meson test -C build-tsan --suite race --print-errorlogs
    ;;
bench)
    deps
    build build
    bash bench/run_demand_zero.sh
    ;;
deps)
    deps
    ;;
*)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
