#!/usr/bin/env bash
# A libFuzzer campaign over the project's fuzz targets (fuzz/targets.cmake):
#
#   scripts/fuzz.sh [options] [SECONDS] [TARGET...]
#
# Builds the targets with clang in build-fuzz/ (every library instrumented for coverage, with
# ASan), then runs each TARGET (default: all of them) for SECONDS (default 60) and
# prints a table: target, seconds, executions, exec/s, coverage (cov/ft of libFuzzer's last
# status line), new inputs and crashes.
#
# The committed corpus fuzz/corpus/NAME is read, never written: new inputs go to a scratch
# corpus build-fuzz/corpus/NAME, kept between runs. --keep-corpus merges the scratch corpus
# into the committed one afterwards (libFuzzer -merge=1: only inputs that add coverage).
# A crash leaves its input in build-fuzz/artifacts/NAME/ and makes the script exit 1; add it
# to fuzz/corpus/NAME/ with the fix, so that CTest's replay keeps it fixed.
#
# Options:
#   --jobs N        libFuzzer -jobs (independent fuzzing runs per target; default 1)
#   --workers N     libFuzzer -workers (how many of those run at once; default 1)
#   --keep-corpus   merge new coverage into fuzz/corpus/NAME
#   --no-build      use build-fuzz/ as it is
#   --build-dir D   build folder (default build-fuzz)
#   -- ARGS         further libFuzzer flags for every target (e.g. -- -max_len=4096)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60 jobs=1 workers=1 keep=0 build=1 dir=build-fuzz
targets=() extra=()
while (($#)); do
  case $1 in
    --jobs) jobs=${2:?}; shift ;;
    --workers) workers=${2:?}; shift ;;
    --keep-corpus) keep=1 ;;
    --no-build) build=0 ;;
    --build-dir) dir=${2:?}; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    *) if [[ $1 =~ ^[0-9]+$ ]]; then seconds=$1; else targets+=("$1"); fi ;;
  esac
  shift
done

mapfile -t all < <(sed -n 's/^provgate_fuzz_target(\([a-z_0-9]*\) .*/\1/p' fuzz/targets.cmake)
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: no fuzz target '$t' (${all[*]})" >&2; exit 2; }
done

if ((build)); then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  ./scripts/configure.sh fuzz "$dir" "${launcher[@]}"
  cmake --build "$dir" --target "${targets[@]/%/_fuzz}"
fi

dir=$(realpath "$dir")
root=$PWD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}

# One target's campaign; its log(s) in $dir/logs/NAME/.
run_target() {
  local t=$1 bin=$dir/fuzz/${1}_fuzz scratch=$dir/corpus/$1 artifacts=$dir/artifacts/$1/
  local logs=$dir/logs/$1
  mkdir -p "$scratch" "$artifacts" "$logs"
  rm -f "$logs"/*.log
  # New inputs go to the first corpus folder: the scratch one.
  local args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts"
              "${extra[@]}" "$scratch" "$root/fuzz/corpus/$t")
  if ((jobs > 1)); then
    # libFuzzer writes each job's output to fuzz-N.log in the working folder.
    (cd "$logs" && "$bin" -jobs="$jobs" -workers="$workers" "${args[@]}" >main.log 2>&1) || true
  else
    "$bin" "${args[@]}" >"$logs/fuzz-0.log" 2>&1 || true
  fi
  if ((keep)); then
    "$bin" -merge=1 "fuzz/corpus/$t" "$scratch" >"$logs/merge.txt" 2>&1
  fi
}

# The summary row of one target from its logs: sums over jobs, coverage of the best job.
summary_row() {
  local t=$1 secs=$2 logs=$dir/logs/$1 artifacts=$dir/artifacts/$1
  local crashes
  crashes=$(find "$artifacts" -maxdepth 1 -type f \
              \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) \
              -newer "$logs" | wc -l)
  awk -v t="$t" -v secs="$secs" -v crashes="$crashes" '
    /^stat::number_of_executed_units:/ { execs += $2 }
    /^stat::new_units_added:/ { added += $2 }
    /^#[0-9]+.*cov: [0-9]+ ft: [0-9]+/ {
      for (i = 1; i < NF; i++) {
        if ($i == "cov:" && $(i + 1) > cov) cov = $(i + 1)
        if ($i == "ft:" && $(i + 1) > ft) ft = $(i + 1)
      }
    }
    /^==[0-9]+==ERROR|^SUMMARY: AddressSanitizer|deadly signal/ { errors++ }
    END {
      if (errors > crashes) crashes = errors
      rate = secs > 0 ? execs / secs : 0
      printf "| %s | %d | %d | %d | %d | %d | %d | %d |\n", t, secs, execs, rate, cov, ft, added, crashes
    }' "$logs"/fuzz-*.log
}

rows=()
failed=0
for t in "${targets[@]}"; do
  echo "=== $t: ${seconds}s, jobs=$jobs workers=$workers" >&2
  mkdir -p "$dir/logs/$t"
  touch "$dir/logs/$t"  # crashes newer than this mark are this run's
  start=$(date +%s)
  run_target "$t"
  row=$(summary_row "$t" $(($(date +%s) - start)))
  rows+=("$row")
  [[ $row =~ \|\ ([0-9]+)\ \|$ ]] && ((BASH_REMATCH[1] > 0)) && failed=1
done

echo
echo "| target | seconds | executions | exec/s | cov | ft | new inputs | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
if ((failed)); then
  echo "crashes found: inputs in $dir/artifacts/<target>/, logs in $dir/logs/<target>/" >&2
  exit 1
fi
