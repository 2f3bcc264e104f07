#!/usr/bin/env bash
# Build the real-kernel executor of the differential tester (test/95-kreplay-diff.test.ts).
#   bash tools/kreplay/build.sh [OUT]     # default: tools/kreplay/kreplay (git-ignored)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/kreplay}"
gcc -O1 -Wall -Wextra -Wno-unused-function -Wno-sign-compare -o "$out" "$here/kreplay.c" -lpthread
