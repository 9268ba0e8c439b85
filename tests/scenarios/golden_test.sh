#!/usr/bin/env bash
# tests/scenarios/golden_test.sh MMSIM SCENARIO GOLDEN: mmsim's whole standard output for
# SCENARIO must equal GOLDEN byte for byte. After an intended change, regenerate with
#   bazel-bin/sim/mmsim SCENARIO > GOLDEN
# and say so in the commit.
set -u
mmsim="$1" scenario="$2" golden="$3"
out="${TEST_TMPDIR:-$(mktemp -d)}/actual.out"
"$mmsim" "$scenario" > "$out"
rc=$?
if [[ $rc != 0 ]]; then echo "FAIL: mmsim exited $rc"; exit 1; fi
if ! diff -u "$golden" "$out"; then
  echo "FAIL: output differs from $golden (regenerate: bazel-bin/sim/mmsim $scenario > $golden)"
  exit 1
fi
echo "ok: $(wc -l < "$out") lines match"
