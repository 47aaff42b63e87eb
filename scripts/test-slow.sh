#!/usr/bin/env bash
# The suites too slow for every CI run (scripts/test.sh), run before a release or after a
# change to what they cover:
#   - the ThreadSanitizer pass (build-tsan/, RelWithDebInfo): the unit tests and fuzz-corpus
#     replays (CTest), and the black-box files that drive the serving threads, the audit
#     committer, the store copier and the fleet cache's upkeep concurrently; run it after any
#     change to code that more than one thread touches
#   - the black-box suite against the sanitizer build with its store on PostgreSQL, and
#     against the Release build on SQLite (scripts/test.sh runs it on SQLite under the
#     sanitizers and on PostgreSQL in Release)
#   - the external auditors' slow parts (tests marked slow in
#     tests/blackbox/test_external_auditors.py: testssl.sh on the admin listener and on a
#     listener that requires client certificates, sqlmap on the portal's sign-in form),
#     against the Release build on SQLite
#   - clang-tidy on each source by itself (scripts/lint.sh on a folder configured without unity
#     files, build-lint/), where misc-unused-using-decls sees every source
# Reuses the builds scripts/test.sh made (build-asan/, build-release/), building them (and
# build-tsan/) if absent or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

echo "=== clang-tidy on each source by itself"
./scripts/configure.sh release build-lint -DCMAKE_UNITY_BUILD=OFF
./scripts/lint.sh build-lint

# build NAME: configures and builds NAME's folder. Called as a command of its own, so that a
# failed build stops the script (set -e does not reach into a command substitution).
build() {
  local dir
  dir=$(./scripts/configure.sh --dir "$1")
  ./scripts/configure.sh "$1" "$dir"
  cmake --build "$dir"
}

export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1
tsan=$(./scripts/configure.sh --dir tsan)
build tsan
echo "=== $tsan unit tests under ThreadSanitizer"
./scripts/pg-test-server.sh run ctest --test-dir "$tsan" --output-on-failure --no-tests=error -j2
echo "=== $tsan black-box (concurrent serving, audit, streams)"
PROVGATE_BIN="$PWD/$tsan/provgate" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  tests/blackbox/test_serving_core.py tests/blackbox/test_lifecycle.py tests/blackbox/test_audit_durability.py \
  tests/blackbox/test_api_stream.py

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan=$(./scripts/configure.sh --dir asan)
build asan
echo "=== $asan black-box on postgres"
PROVGATE_BIN="$PWD/$asan/provgate" PROVGATE_BLACKBOX_STORE=postgres \
  ./scripts/pg-test-server.sh run /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
release=$(./scripts/configure.sh --dir release)
build release
echo "=== $release black-box on sqlite"
PROVGATE_BIN="$PWD/$release/provgate" PROVGATE_BLACKBOX_REPEAT=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/blackbox
echo "=== $release external auditors (slow parts)"
PROVGATE_BIN="$PWD/$release/provgate" PROVGATE_SLOW_TESTS=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider -m slow tests/blackbox/test_external_auditors.py
echo "all slow tests passed"
