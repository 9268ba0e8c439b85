#!/usr/bin/env bash
# CI's fuzz step: builds the libFuzzer targets (clang, --config=fuzz) and runs each for a
# fixed number of inputs with a fixed seed, starting from the checked-in corpus
# (tests/scenarios) and every input that ever crashed a fuzzer (tests/fuzz/regressions),
# so the step is reproducible: the same tree gives the same inputs. Long random fuzzing,
# whose findings become regression inputs, is tools/fuzz.sh.
# Usage: tools/fuzz_smoke.sh [RUNS_SCALE] [COUNTS_FILE]
#   RUNS_SCALE  multiplies the per-target input counts below (default 1)
#   COUNTS_FILE receives "passed failed skipped" for the CI summary (one per fuzzer)
set -uo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"
counts="${2:-/dev/null}"
# target:inputs (about 20 s each on a 2-core machine)
targets=(//sim/scenario:scenario_parser_fuzzer:30000 //sim:mmsim_fuzzer:3000)
pass=0 fail=0
labels=("${targets[@]%:*}")
if ! bazel build --config=fuzz "${labels[@]}"; then
  echo "fuzz: build failed"
  echo "0 ${#targets[@]} 0" > "$counts"
  exit 1
fi
bin="$(bazel info --config=fuzz bazel-bin)"
for spec in "${targets[@]}"; do
  t="${spec%:*}"; runs=$(( ${spec##*:} * scale ))
  exe="$bin/${t#//}"; exe="${exe/://}"
  work="$(mktemp -d)"
  echo "fuzz: $t, $runs inputs, seed 1"
  # The seeds go in as a sorted file list, not as directories: libFuzzer orders its
  # corpus by size only, so inputs of equal size would come in the directories' order,
  # which differs from one file system to the next (a fresh clone fuzzed differently).
  find tests/scenarios tests/fuzz/regressions -type f -name '*.mms' | LC_ALL=C sort | paste -sd, > "$work.seeds"
  # -max_total_time only guards against a machine far slower than expected.
  if "$exe" -seed=1 -runs="$runs" -max_total_time=300 -timeout=20 -rss_limit_mb=4096 \
      -print_final_stats=1 -dict=sim/scenario/scenario.dict -seed_inputs="@$work.seeds" \
      "$work" > "$work/log" 2>&1; then
    pass=$((pass + 1))
    grep -E "^(Done|stat::number_of_executed_units)" "$work/log" | sed "s|^|fuzz: |"
  else
    fail=$((fail + 1))
    echo "fuzz: $t FAILED (reproduce: tools/fuzz_smoke.sh; the crashing input is below)"
    tail -40 "$work/log"
  fi
done
echo "$pass $fail 0" > "$counts"
((fail == 0))
