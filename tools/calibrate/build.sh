#!/usr/bin/env bash
# Build the kernel-cost timer of `pteplay calibrate` (src/calibrate/helper.ts builds it at first use).
#   bash tools/calibrate/build.sh [OUT]     # default: tools/calibrate/calibrate (git-ignored)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/calibrate}"
gcc -O2 -Wall -Wextra -Wno-unused-function -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers -o "$out" "$here/calibrate.c" -lpthread
