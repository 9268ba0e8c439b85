#!/usr/bin/env bash
# The main job: installs what is missing, builds mmsim and runs it. With no arguments it
# runs the built-in guided scenario; otherwise arguments go to mmsim (flags, FILE.mms or -).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
bazel build -c opt --ui_event_filters=-info,-stdout --noshow_progress //sim:mmsim >&2
exec bazel-bin/sim/mmsim "$@"
