#!/bin/sh
# Record the valgrind lackey fixture traces/real/lackey-mmap-demo.txt.gz from mmap-demo.c
# (see the "valgrind lackey" section of traces/real/README.md).
#
#   traces/real/record-lackey.sh            # writes traces/real/lackey-mmap-demo.txt.gz
#   traces/real/record-lackey.sh ./prog a b # records any program instead, to ./lackey-prog.txt.gz
#
# Needs gcc and valgrind (3.19 was used for the fixture). The program's own output goes to the
# terminal; the lackey log (memory accesses and syscalls) goes to the --log-file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$#" -eq 0 ]; then
  gcc -O1 -o "$tmp/mmap-demo" "$here/mmap-demo.c"
  out="$here/lackey-mmap-demo.txt.gz"
  # Run from the temporary directory so that the logged command line is ./mmap-demo.
  cd "$tmp"
  set -- ./mmap-demo
else
  out="$PWD/lackey-$(basename "$1").txt.gz"
fi

valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-file="$tmp/lackey.txt" "$@"
gzip -9 -n -c "$tmp/lackey.txt" > "$out"
echo "wrote $out ($(wc -c < "$out") bytes, $(gzip -dc "$out" | wc -l) lines)"
