#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test with Bazel.
# Extra arguments go to `bazel test` (e.g. --config=asan, or a target pattern).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
if (($#)) && [[ "$1" == //* ]]; then exec bazel test "$@"; fi
exec bazel test "$@" //...
