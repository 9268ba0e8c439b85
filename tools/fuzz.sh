#!/usr/bin/env bash
# Long, random fuzzing of the scenario parser or of the whole simulator (parser +
# interpreter + kernel + hardware model, ASan + UBSan), for finding new bugs. Unlike CI's
# reproducible step (tools/fuzz_smoke.sh) every run draws a new seed.
#
# Usage: tools/fuzz.sh [mmsim|parser] [SECONDS] [JOBS]
# A crash leaves its input in fuzz-findings/<target>/crash-*. To turn it into a regression:
#   1. minimise it:  bazel-bin/sim/mmsim_fuzzer -minimize_crash=1 -runs=10000 FILE
#   2. copy the minimised input to tests/fuzz/regressions/<what-it-found> (a leading
#      `# ...` comment line saying what it found keeps it a readable scenario);
#   3. `bazel test //sim:mmsim_fuzzer_test //sim/scenario:scenario_parser_fuzzer_test`
#      now fails on it; fix the bug, and the tests and CI's fuzz step keep it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-mmsim}"
secs="${2:-600}"
jobs="${3:-1}"
case "$which" in
  mmsim) target=//sim:mmsim_fuzzer ;;
  parser) target=//sim/scenario:scenario_parser_fuzzer ;;
  *) echo "tools/fuzz.sh: unknown target '$which' (expected mmsim or parser)" >&2; exit 2 ;;
esac
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "tools/fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2; exit 2; }
[[ "$jobs" =~ ^[0-9]+$ ]] || { echo "tools/fuzz.sh: JOBS must be a whole number, got '$jobs'" >&2; exit 2; }
tools/install_deps.sh
bazel build --config=fuzz "$target"
exe="$(bazel info --config=fuzz bazel-bin)/${target#//}"; exe="${exe/://}"
out="fuzz-findings/$which"
mkdir -p "$out/corpus"
echo "fuzz: $target for ${secs}s, $jobs job(s); findings in $out/"
exec "$exe" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -jobs="$jobs" \
  -workers="$jobs" -artifact_prefix="$out/" -dict=sim/scenario/scenario.dict \
  "$out/corpus" tests/scenarios tests/fuzz/regressions
