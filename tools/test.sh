#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test with Bazel.
# Extra arguments go to `bazel test` (e.g. --config=asan, and target patterns: without
# any, every test).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
for arg in "$@"; do
  if [[ "$arg" == //* ]]; then exec bazel test "$@"; fi  # targets given: just those
done
exec bazel test "$@" //...
