#!/usr/bin/env bash
# Runs mmsim on one scenario with the debug_vm checker on; the test passes on exit 0.
set -u
mmsim="$1"; scenario="$2"; shift 2
exec "$mmsim" --check "$@" "$scenario"
