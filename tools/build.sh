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

# Each step says what it does; meson and ninja show their own progress
# (ninja: one [n/N] line per file).
step() { echo "== $*"; }

deps() {
    step "checking the Debian packages: ${PACKAGES[*]}"
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && { echo "   all installed"; return 0; }
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    step "installing: ${missing[*]} (apt-get update, then apt-get install)"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

build() { # DIR [meson options...]
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        step "configuring $dir: meson setup $dir $*"
        meson setup "$dir" "$@"
    fi
    step "building $dir: ninja -C $dir"
    ninja -C "$dir"
}

case "${1:-run}" in
run)
    deps
    build build
    step "the examples of the text libvmem grew from"
    ./build/examples/seed_example1; echo
    ./build/examples/seed_example2; echo
    step "demand-zero faults: libvmem (default configuration) against kernel memory"
    ./build/bench/bench_demand_zero -n 16384 -r 3
    ;;
test)
    deps
    build build
    step "the test suite: meson test -C build (several minutes; one line per test)"
    meson test -C build --print-errorlogs
    ;;
sanitize)
    deps
    build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    step "the test suite under ASan+UBSan: meson test -C build-asan"
    meson test -C build-asan --print-errorlogs
    build build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
    # Under TSan only the framework-free stress program runs: TSan's shadow
    # mappings leave Criterion no room for its process arena.
    step "the race stress program under TSan: meson test -C build-tsan --suite race"
    meson test -C build-tsan --suite race --print-errorlogs
    ;;
bench)
    deps
    build build
    step "the demand-zero benchmark: bench/run_demand_zero.sh (about three minutes)"
    bash bench/run_demand_zero.sh
    ;;
deps)
    deps
    ;;
*)
    echo "tools/build.sh: unknown command '$1'" >&2
    # the comment block at the top, as the usage
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
    ;;
esac
