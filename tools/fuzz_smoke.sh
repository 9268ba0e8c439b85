#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, --config=fuzz) and runs each for a short, bounded
# time over the scenario corpus (tests/scenarios) with the language's dictionary. Usage: tools/fuzz_smoke.sh [SECONDS] [COUNTS_FILE]
# COUNTS_FILE receives "passed failed skipped" for the CI summary (one per fuzzer).
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
counts="${2:-/dev/null}"
targets=(//sim/scenario:scenario_parser_fuzzer //sim:mmsim_fuzzer)
pass=0 fail=0
if ! bazel build --config=fuzz "${targets[@]}"; then
  echo "fuzz: build failed"
  echo "0 ${#targets[@]} 0" > "$counts"
  exit 1
fi
bin="$(bazel info --config=fuzz bazel-bin)"
for t in "${targets[@]}"; do
  exe="$bin/${t#//}"; exe="${exe/://}"
  work="$(mktemp -d)"
  echo "fuzz: $t for ${secs}s"
  if "$exe" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -dict=sim/scenario/scenario.dict "$work" tests/scenarios > "$work/log" 2>&1; then
    pass=$((pass + 1))
    grep -E "^(Done|stat::number_of_executed_units)" "$work/log" | sed "s|^|fuzz: |"
  else
    fail=$((fail + 1))
    echo "fuzz: $t FAILED"; tail -40 "$work/log"
  fi
done
echo "$pass $fail 0" > "$counts"
((fail == 0))
