#!/usr/bin/env bash
# bench/report.sh: run bench/pvm_bench, keep its JSON, print the ratio table and targets,
# draw the plots (bench/pvm_report.py). See docs/benchmarks.md.
#
#   bazel run -c opt //bench:report -- [options]
#     --out DIR        where the JSON, report.md and the SVG plots go
#                      (default: <workspace>/bench/out)
#     --min-time S     --benchmark_min_time per benchmark (default 0.2)
#     --reps N         repetitions; the report uses the median (default 3)
#     --filter RE      --benchmark_filter (default: all)
#     --smoke          the reduced set pvm_bench_smoke runs (sizes up to 1 MiB)
#     --interleave     run the repetitions in random order across benchmarks
#                      (--benchmark_enable_random_interleaving): slower to set up, but
#                      spreads changes in the machine's load over all benchmarks alike
#     --no-plot        tables only
#     --no-install     do not apt-get install python3-matplotlib when it is missing
#
# Build with -c opt: a fastbuild binary measures an unoptimised simulator.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${TEST_UNDECLARED_OUTPUTS_DIR:-${BUILD_WORKSPACE_DIRECTORY:-$PWD}/bench/out}"
min_time=0.2
reps=3
filter=""
smoke=()
interleave=()
plot=1
install=1
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --smoke) smoke=(--pvm_smoke); shift ;;
    --interleave) interleave=(--benchmark_enable_random_interleaving=true); shift ;;
    --no-plot) plot=0; shift ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "report.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# The binary and the script, from the runfiles (bazel run) or next to this script.
find_file() {
  local f
  for f in "${RUNFILES_DIR:-$0.runfiles}/mmsim/bench/$1" "$0.runfiles/mmsim/bench/$1" \
           "${TEST_SRCDIR:-/nonexistent}/mmsim/bench/$1" "$here/$1"; do
    if [[ -e "$f" ]]; then echo "$f"; return 0; fi
  done
  echo "report.sh: cannot find $1 (build with: bazel build -c opt //bench:report)" >&2
  return 1
}
bench="$(find_file pvm_bench)"
report_py="$(find_file pvm_report.py)"

mkdir -p "$out"
json="$out/pvm_bench.json"
args=("${smoke[@]}" "${interleave[@]}" "--benchmark_min_time=$min_time" "--benchmark_repetitions=$reps"
      "--benchmark_out=$json" "--benchmark_out_format=json")
[[ -n "$filter" ]] && args+=("--benchmark_filter=$filter")

rev="$(git -C "${BUILD_WORKSPACE_DIRECTORY:-$here/..}" describe --always --dirty 2>/dev/null || echo unknown)"
export PVM_REPORT_REV="$rev"
echo "== tree: $rev"
echo "== load before: $(uptime)"
# Debian's libbenchmark says it was built as DEBUG: cosmetic (the measured code is -O2).
"$bench" "${args[@]}" 2>&1 | grep -v "Library was built as DEBUG" || true
echo "== load after:  $(uptime)"
[[ -s "$json" ]] || { echo "report.sh: no JSON written" >&2; exit 1; }

# Debian's matplotlib lives in /usr/bin/python3's dist-packages (not pyenv's python3).
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3
no_plot=()
if ((plot)); then
  if ! "$py" -c "import matplotlib" 2>/dev/null; then
    if ((install)) && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      echo "== installing python3-matplotlib (apt-get)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -qq python3-matplotlib >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-matplotlib >/dev/null 2>&1; } ||
        echo "report.sh: apt-get install python3-matplotlib failed; tables only" >&2
    fi
  fi
  "$py" -c "import matplotlib" 2>/dev/null || no_plot=(--no-plot)
else
  no_plot=(--no-plot)
fi
echo
"$py" "$report_py" "$json" --out "$out" "${no_plot[@]}"
