#!/usr/bin/env bash
# Static checks of the C++ sources; fails on any finding. scripts/test.sh runs it first.
#   1. Formatting: clang-format --dry-run -Werror (.clang-format) over src/, fuzz/ and bench/.
#   2. clang-tidy (.clang-tidy: the checks and why others are off) over every translation unit
#      of src/, fuzz/ and bench/ except the *_test.cpp files, whose checks would double the run
#      time for code that the tests themselves exercise; the headers they include are checked
#      through the other files.
# Both skip the folders in EXCLUDED (empty: everything is checked); clang-tidy also those in
# TIDY_EXCLUDED.
# Usage: scripts/lint.sh [--format-only] [BUILD_DIR]
# BUILD_DIR holds the compile_commands.json clang-tidy reads; by default the release build's
# folder, configured here exactly as scripts/test.sh configures it (nothing is built).
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
format_only=0
if [[ ${1:-} == --format-only ]]; then
  format_only=1
  shift
fi
failed=0

# --- formatting
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

# --- clang-tidy
build=${1:-}
if [[ -z $build ]]; then
  build=$(./scripts/configure.sh --dir release)
  ./scripts/configure.sh release "$build"
fi
[[ -f $build/compile_commands.json ]] || { echo "no $build/compile_commands.json" >&2; exit 2; }
mapfile -t tidy_files < <(python3 - "$build/compile_commands.json" "$PWD" <<'EOF'
import json, os, sys
root = sys.argv[2] + os.sep
files = {e["file"] for e in json.load(open(sys.argv[1]))}
for f in sorted(files):
    rel = os.path.relpath(f, root)
    if rel.split(os.sep)[0] in ("src", "fuzz", "bench") and not rel.endswith("_test.cpp"):
        print(rel)
EOF
)
tidy_excluded=("${EXCLUDED[@]}" "${TIDY_EXCLUDED[@]}")
tidy_excluded_re=$(IFS='|'; echo "^(${tidy_excluded[*]:-//none//})/")
mapfile -t tidy_files < <(printf '%s\n' "${tidy_files[@]}" | grep -Ev "$tidy_excluded_re")
# Headers count like the files that include them, outside EXCLUDED (.clang-tidy's
# HeaderFilterRegex names them all).
checked_dirs=()
for d in src/*/ fuzz/ bench/; do
  d=${d%/}
  [[ " ${tidy_excluded[*]} " == *" $d "* ]] || checked_dirs+=("$d")
done
header_re=$(IFS='|'; echo "/(${checked_dirs[*]})/.*\.hpp$")
echo "=== clang-tidy: ${#tidy_files[@]} files, $jobs at a time (not checked: ${tidy_excluded[*]:-none})"
start=$SECONDS
# GCC-only warning flags in the compile commands (-Wno-restrict) are not clang-tidy's concern.
if ! printf '%s\n' "${tidy_files[@]}" |
     xargs -P "$jobs" -n 4 "$CLANG_TIDY" -p "$build" --quiet --header-filter="$header_re" \
       --extra-arg=-Wno-unknown-warning-option; then
  echo "clang-tidy: findings above (fix them; NOLINT(check) with the reason only for a false positive)" >&2
  failed=1
fi
echo "clang-tidy took $((SECONDS - start)) s"
exit "$failed"
