#!/usr/bin/env bash
# Static checks of the C++ sources; fails on any finding. scripts/test.sh runs it first.
#   1. Formatting: clang-format --dry-run -Werror (.clang-format) over src/, fuzz/ and bench/.
#   2. clang-tidy (.clang-tidy: the checks and why others are off) over every source of src/,
#      fuzz/ and bench/ except the unit tests' (*_test.cpp and the helpers only they use), whose
#      checks would double the run time for code that the tests themselves exercise; the
#      headers they include are checked through the other files. It reads the translation
#      units of a unity build (scripts/configure.sh): most of its time goes into parsing the
#      Boost, OpenSSL and standard headers, once per translation unit, and a unity file parses
#      them once for up to 16 sources. A finding in a source is reported as in any header;
#      bugprone-suspicious-include, which a unity file's own `#include "x.cpp"` would trip, is
#      replaced by a search for sources that include a .cpp file. misc-unused-using-decls
#      looks only at a translation unit's own file, so here it sees only the sources compiled
#      on their own; scripts/test-slow.sh runs this script once more on a build folder
#      configured without unity files, where it sees every source.
# Both skip the folders in EXCLUDED (empty: everything is checked); clang-tidy also those in
# TIDY_EXCLUDED.
# Usage: scripts/lint.sh [--format-only | --list] [BUILD_DIR]
# BUILD_DIR holds the compile_commands.json clang-tidy reads; by default the release build's
# folder, configured here exactly as scripts/test.sh configures it (nothing is built; CMake
# writes the unity files when it configures).
# clang-tidy runs LINT_JOBS (default 2) files at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

# Folders not checked (generated or vendored code would go here; there is none).
EXCLUDED=()
# Folders formatted but not put through clang-tidy (none: every folder is checked).
TIDY_EXCLUDED=()

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
jobs=${LINT_JOBS:-2}
format_only=0 list_only=0
if [[ ${1:-} == --format-only ]]; then
  format_only=1
  shift
elif [[ ${1:-} == --list ]]; then
  list_only=1
  shift
fi
failed=0

# --- formatting (not with --list)
if ((!list_only)); then
  excluded_re=$(IFS='|'; echo "^(${EXCLUDED[*]:-//none//})/")
  mapfile -t format_files < <(git ls-files -- 'src/*.cpp' 'src/*.hpp' 'fuzz/*.cpp' 'fuzz/*.hpp' \
                                'bench/*.cpp' 'bench/*.hpp' | grep -Ev "$excluded_re")
  echo "=== clang-format: ${#format_files[@]} files (not checked: ${EXCLUDED[*]:-none})"
  if ! "$CLANG_FORMAT" --dry-run -Werror --style=file "${format_files[@]}"; then
    echo "clang-format: the files above differ from .clang-format; run" \
         "'clang-format -i <file>' on them" >&2
    failed=1
  fi
  ((format_only)) && exit "$failed"
fi

# --- clang-tidy
build=${1:-}
if [[ -z $build ]]; then
  build=$(./scripts/configure.sh --dir release)
  ./scripts/configure.sh release "$build"
fi
[[ -f $build/compile_commands.json ]] || { echo "no $build/compile_commands.json" >&2; exit 2; }
tidy_excluded=("${EXCLUDED[@]}" "${TIDY_EXCLUDED[@]}")
tidy_excluded_re=$(IFS='|'; echo "^(${tidy_excluded[*]:-//none//})/")
# A translation unit is checked when it is one of our sources, or a unity file holding one,
# outside the unit tests' target and the excluded folders. Generated sources are compiled on
# their own (provgate_module): nothing is built before this runs. --list prints each
# unit with the sources it covers ("UNIT<tab>SOURCE") instead of checking.
units() {
  python3 - "$build/compile_commands.json" "$PWD" "$tidy_excluded_re" "$list_only" <<'EOF'
import json, os, re, sys
root, excluded, listing = sys.argv[2] + os.sep, re.compile(sys.argv[3]), sys.argv[4] == "1"
def rel(path):
    return os.path.relpath(path, root)
def ours(path):
    return rel(path).split(os.sep)[0] in ("src", "fuzz", "bench") and not excluded.search(rel(path))
units = {}
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if "provgate_unit_tests.dir" in f or f.endswith("_test.cpp"):
        continue
    if os.sep + "Unity" + os.sep in f:
        sources = [s for s in re.findall(r'^#include "(.*)"$', open(f).read(), re.M)
                   if ours(s) and not s.endswith("_test.cpp")]
        if sources:
            units[f] = sources
    elif ours(f):
        units[rel(f)] = [f]
for unit in sorted(units):
    for source in units[unit] if listing else [None]:
        print(f"{unit}\t{rel(source)}" if listing else unit)
EOF
}
if ((list_only)); then
  units
  exit
fi
mapfile -t tidy_files < <(units)
# Headers count like the files that include them, outside EXCLUDED (.clang-tidy's
# HeaderFilterRegex names them all).
checked_dirs=()
for d in src/*/ fuzz/ bench/; do
  d=${d%/}
  [[ " ${tidy_excluded[*]} " == *" $d "* ]] || checked_dirs+=("$d")
done
# Anchored at the root: a generated source in the build folder is not ours to fix.
root_re=$(printf '%s' "$PWD" | sed 's/[][\.*^$+?(){}|]/\\&/g')
header_re=$(IFS='|'; echo "^$root_re/(${checked_dirs[*]})/.*\.(hpp|cpp)$")
echo "=== clang-tidy: ${#tidy_files[@]} files, $jobs at a time (not checked: ${tidy_excluded[*]:-none})"
start=$SECONDS
# GCC-only warning flags in the compile commands (-Wno-restrict) are not clang-tidy's concern.
if ! printf '%s\n' "${tidy_files[@]}" |
     xargs -P "$jobs" -n 1 "$CLANG_TIDY" -p "$build" --quiet --header-filter="$header_re" \
       --checks=-bugprone-suspicious-include --extra-arg=-Wno-unknown-warning-option; then
  echo "clang-tidy: findings above (fix them; NOLINT(check) with the reason only for a false positive)" >&2
  failed=1
fi
echo "clang-tidy took $((SECONDS - start)) s"
# What bugprone-suspicious-include would find in our own sources.
if git grep -nE '^\s*#\s*include\s*[<"][^>"]*\.(c|cc|cpp|cxx)[>"]' -- src fuzz bench; then
  echo "the sources above include a source file; include its header instead" >&2
  failed=1
fi
exit "$failed"
