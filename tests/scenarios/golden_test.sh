#!/usr/bin/env bash
# Runs mmsim on a scenario and compares its whole output with a golden file, byte for
# byte (mmsim's output is deterministic for a scenario and seed). After an intended
# change, regenerate the golden:
#   bazel-bin/sim/mmsim tests/scenarios/NAME.mms > tests/scenarios/golden/NAME.out
set -u
mmsim="$1"; scenario="$2"; golden="$3"
out="${TEST_TMPDIR:-/tmp}/$(basename "$golden")"
"$mmsim" --check "$scenario" > "$out"
status=$?
if [ "$status" -ne 0 ]; then
  echo "mmsim exited with status $status on $scenario" >&2
  cat "$out" >&2
  exit 1
fi
if ! diff -u "$golden" "$out"; then
  echo "output of $scenario differs from $golden (regenerate it if the change is intended)" >&2
  exit 1
fi
