#!/usr/bin/env bash
# Installs what mmsim needs from Debian 12's registry, if it is missing. Idempotent.
set -euo pipefail
need=()
command -v bazel >/dev/null 2>&1 || need+=(bazel-bootstrap)
# chromium, chromium-driver, python3-selenium: the --html page's browser test
# (//tests/html:browser_test, headless, in CI's default pass).
for p in libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev pkg-config g++ python3 clang libclang-rt-14-dev \
         chromium chromium-driver python3-selenium; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  echo "mmsim: installing ${need[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
