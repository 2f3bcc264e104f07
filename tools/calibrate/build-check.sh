#!/usr/bin/env bash
# Build the real executor of `pteplay calibrate --check` (src/calibrate/check-real.ts builds it on first use).
#   bash tools/calibrate/build-check.sh [OUT]     # default: tools/calibrate/check (git-ignored)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/check}"
gcc -O2 -Wall -Wextra -Wno-unused-function -Wno-sign-compare -o "$out" "$here/check.c" -lpthread
