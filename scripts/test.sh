#!/usr/bin/env bash
# Builds provgate twice and runs every test against each build:
#   build-asan: Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#   build:      RelWithDebInfo with hardening flags (what operators run)
# Each pass runs the unit tests and fuzz-corpus replays (CTest) and the black-box tests
# (pytest against the real binary over real TLS).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

run_pass() {
  local dir=$1 type=$2 sanitize=$3
  echo "=== $dir: $type, sanitizers $sanitize"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DPROVGATE_SANITIZE="$sanitize" >/dev/null
  cmake --build "$dir"
  (cd "$dir" && ctest --output-on-failure -j2)
  PROVGATE_BIN="$PWD/$dir/provgate" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_pass build-asan Debug ON
run_pass build RelWithDebInfo OFF
echo "all tests passed"
