#!/usr/bin/env bash
# The suites too slow for every CI run (scripts/test.sh), run before a release or after a
# change to what they cover:
#   - the black-box suite against the sanitizer build with its store on PostgreSQL, and
#     against the Release build on SQLite (scripts/test.sh runs it on SQLite under the
#     sanitizers and on PostgreSQL in Release)
#   - the external auditors' slow parts (tests marked slow in
#     tests/blackbox/test_external_auditors.py: testssl.sh on the admin listener and on a
#     listener that requires client certificates, sqlmap on the portal's sign-in form),
#     against the Release build on SQLite
#   - clang-tidy on each source by itself (scripts/lint.sh on a folder configured without unity
#     files, build-lint/), where misc-unused-using-decls sees every source
# Reuses the builds scripts/test.sh made (build-asan/, build-release/), building them if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

echo "=== clang-tidy on each source by itself"
./scripts/configure.sh release build-lint -DCMAKE_UNITY_BUILD=OFF
./scripts/lint.sh build-lint

build() {
  local name=$1 dir
  dir=$(./scripts/configure.sh --dir "$name")
  ./scripts/configure.sh "$name" "$dir"
  cmake --build "$dir"
  echo "$dir"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan=$(build asan | tail -n1)
echo "=== $asan black-box on postgres"
PROVGATE_BIN="$PWD/$asan/provgate" PROVGATE_BLACKBOX_STORE=postgres \
  ./scripts/pg-test-server.sh run /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
release=$(build release | tail -n1)
echo "=== $release black-box on sqlite"
PROVGATE_BIN="$PWD/$release/provgate" PROVGATE_BLACKBOX_REPEAT=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
echo "=== $release external auditors (slow parts)"
PROVGATE_BIN="$PWD/$release/provgate" PROVGATE_SLOW_TESTS=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider -m slow tests/blackbox/test_external_auditors.py
echo "all slow tests passed"
