#!/usr/bin/env bash
# Configures one of the project's builds, each in its own folder and with every option set,
# so that no build inherits an option another one left in a shared CMake cache:
#
#   scripts/configure.sh demo [DIR]      build/          RelWithDebInfo, hardened, no tests;
#                                                        warnings are not errors (scripts/demo.sh)
#   scripts/configure.sh asan [DIR]      build-asan/     Debug + ASan/UBSan, tests, warnings are
#                                                        errors (scripts/test.sh)
#   scripts/configure.sh tsan [DIR]      build-tsan/     RelWithDebInfo + ThreadSanitizer, tests,
#                                                        warnings are errors (scripts/test-slow.sh)
#   scripts/configure.sh release [DIR]   build-release/  Release (-O3), hardened, tests, warnings
#                                                        are errors (scripts/test.sh)
#   scripts/configure.sh fuzz [DIR]      build-fuzz/     RelWithDebInfo with clang, libFuzzer
#                                                        targets, every library instrumented,
#                                                        ASan, no tests (scripts/fuzz.sh)
#   scripts/configure.sh --dir NAME      prints NAME's default folder
#
# Extra arguments after DIR go to cmake (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
set -euo pipefail
cd "$(dirname "$0")/.."

default_dir() {
  case $1 in
    demo) echo build ;;
    asan) echo build-asan ;;
    tsan) echo build-tsan ;;
    release) echo build-release ;;
    fuzz) echo build-fuzz ;;
    *) echo "unknown build '$1' (demo, asan, tsan, release or fuzz)" >&2; return 2 ;;
  esac
}

if [[ ${1:-} == --dir ]]; then
  default_dir "${2:-}"
  exit
fi
name=${1:?usage: scripts/configure.sh demo|asan|tsan|release|fuzz [DIR] [cmake args...]}
dir=$(default_dir "$name")
shift
if (($#)) && [[ $1 != -* ]]; then
  dir=$1
  shift
fi

case $name in
  demo) options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROVGATE_SANITIZE=OFF -DPROVGATE_TSAN=OFF -DPROVGATE_TESTS=OFF
                 -DPROVGATE_BENCH=OFF -DPROVGATE_WERROR=OFF) ;;
  asan) options=(-DCMAKE_BUILD_TYPE=Debug -DPROVGATE_SANITIZE=ON -DPROVGATE_TSAN=OFF -DPROVGATE_TESTS=ON
                 -DPROVGATE_BENCH=ON -DPROVGATE_WERROR=ON) ;;
  tsan) options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROVGATE_SANITIZE=OFF -DPROVGATE_TSAN=ON
                 -DPROVGATE_TESTS=ON -DPROVGATE_BENCH=OFF -DPROVGATE_WERROR=ON) ;;
  release) options=(-DCMAKE_BUILD_TYPE=Release -DPROVGATE_SANITIZE=OFF -DPROVGATE_TSAN=OFF -DPROVGATE_TESTS=ON
                    -DPROVGATE_BENCH=ON -DPROVGATE_WERROR=ON) ;;
  # libFuzzer needs clang (the compiler is chosen when the folder is first configured).
  # PROVGATE_FUZZ adds the sanitizers itself; jemalloc would hide allocations from ASan.
  fuzz) export CC=clang CXX=clang++
        options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROVGATE_SANITIZE=OFF -DPROVGATE_TSAN=OFF -DPROVGATE_TESTS=OFF
                 -DPROVGATE_BENCH=OFF -DPROVGATE_WERROR=OFF -DPROVGATE_JEMALLOC=OFF
                 -DPROVGATE_FUZZ=ON) ;;
esac
# The test passes build in unity mode (up to 16 sources of a target compiled as one file): the
# Boost, OpenSSL and standard headers are then parsed a tenth as often, which makes the build
# and clang-tidy (scripts/lint.sh) several times faster. The demo build compiles each source on
# its own, so a source that leans on a neighbour's includes still fails there.
case $name in
  asan|tsan|release) options+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16) ;;
  *) options+=(-DCMAKE_UNITY_BUILD=OFF) ;;
esac
exec cmake -S . -B "$dir" -G Ninja -DPROVGATE_FUZZ=OFF "${options[@]}" "$@" >/dev/null
