#!/usr/bin/env bash
# Lints the sources (scripts/lint.sh), then builds provgate twice and runs the tests
# against each build:
#   build-asan:    Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#   build-release: Release (-O3) with hardening flags: the build type CMake users and
#                  packagers ask for, and the optimisation level at which GCC's flow-based
#                  warnings reach furthest, so a build that passes here with warnings as
#                  errors passes at -O2 (RelWithDebInfo, scripts/demo.sh) too in practice
# Each pass runs the unit tests and fuzz-corpus replays (CTest; finding no test is an error)
# and the black-box tests (pytest against the real binary over real TLS), each backend once:
# the sanitizer build's on SQLite, the release build's on PostgreSQL (plus, on SQLite, the
# tests marked `once`: a listener's TLS). The other combinations, the ThreadSanitizer pass
# (a third build) and the suites too slow for every run are in scripts/test-slow.sh.
# Each build has its own folder and sets every option (scripts/configure.sh), so running
# scripts/demo.sh in between changes nothing here; tests/scripts checks exactly that
# sequence first.
# The unit tests run with a throw-away PostgreSQL 15 (scripts/pg-test-server.sh sets
# PROVGATE_TEST_PG_URL), so every storage contract suite runs on both backends in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

# Formatting and clang-tidy first: a finding fails the run before anything is built.
./scripts/lint.sh

/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/scripts

# run_pass NAME BACKEND...: builds NAME, runs CTest, then the black-box suite on each BACKEND.
run_pass() {
  local name=$1 dir backend
  shift
  dir=$(./scripts/configure.sh --dir "$name")
  echo "=== $dir ($name)"
  ./scripts/configure.sh "$name" "$dir"
  cmake --build "$dir"
  ./scripts/pg-test-server.sh run ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2
  for backend in "$@"; do
    echo "=== $dir black-box on $backend"
    # Tests marked `once` (a listener's TLS) run only in the Release pass, on SQLite.
    if [[ $backend == postgres ]]; then
      PROVGATE_BIN="$PWD/$dir/provgate" PROVGATE_BLACKBOX_STORE=postgres PROVGATE_BLACKBOX_REPEAT=1 \
        ./scripts/pg-test-server.sh run /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
    else
      PROVGATE_BIN="$PWD/$dir/provgate" PROVGATE_BLACKBOX_REPEAT=1 \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
    fi
  done
  if [[ $name == release ]]; then
    echo "=== $dir black-box tests marked once, on sqlite"
    PROVGATE_BIN="$PWD/$dir/provgate" /usr/bin/python3 -m pytest -q -p no:cacheprovider -m once tests/blackbox
  fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_pass asan sqlite
run_pass release postgres
# Three nodes on a PostgreSQL primary with a synchronous standby, behind HAProxy (docs/cluster.md).
PROVGATE_BIN="$PWD/$(./scripts/configure.sh --dir release)/provgate" ./scripts/test-cluster.sh
echo "all tests passed"
