#!/bin/sh
# Record a workload with perf the way the fixtures in this directory were recorded, and write the
# `perf script` text that `pteplay import perf` reads.
#
#   traces/real/record-perf.sh OUT.perf.txt[.gz] -- command [args...]
#
# Needs perf and permission to use tracepoints (root, or kernel.perf_event_paranoid <= -1 and a
# readable tracefs). No hardware PMU is needed: only tracepoints and software events are used.
# Environment: PERF (perf binary, default perf), PERF_EXTRA (extra perf record options, e.g. "-a"),
# PERF_FIELDS (a perf script -F list, e.g. "pid,tid,time,event,trace"; default: perf's default layout),
# PERF_DATA (keep the perf.data file at this path instead of deleting it).
set -eu

if [ $# -lt 3 ] || [ "$2" != "--" ]; then
  echo "usage: $0 OUT.perf.txt[.gz] -- command [args...]" >&2
  exit 64
fi
out=$1
shift 2
perf=${PERF:-perf}
if [ -n "${PERF_DATA:-}" ]; then
  data=$PERF_DATA
else
  data=$(mktemp "${TMPDIR:-/tmp}/pteplay-perf.XXXXXX")
  trap 'rm -f "$data" "$data.old"' EXIT
fi

ev="-e exceptions:page_fault_user -e exceptions:page_fault_kernel"
for s in mmap munmap mprotect madvise mremap brk; do
  ev="$ev -e syscalls:sys_enter_$s -e syscalls:sys_exit_$s"
done
ev="$ev -e task:task_newtask -e sched:sched_process_fork -e sched:sched_process_exec -e sched:sched_process_exit"

# -d: also record PERF_RECORD_MMAP2 for data mappings (stack, heap, .data/.bss, anonymous), not only
#     executable ones, so that the mappings exec creates are known.
# -c 1: every event is a sample (the default for tracepoints, made explicit).
# shellcheck disable=SC2086
"$perf" record -q -d -c 1 $ev ${PERF_EXTRA:-} -o "$data" -- "$@"

fields=
[ -n "${PERF_FIELDS:-}" ] && fields="-F $PERF_FIELDS"
# shellcheck disable=SC2086
case "$out" in
  *.gz) "$perf" script -i "$data" $fields --show-mmap-events | gzip -9 > "$out" ;;
  *) "$perf" script -i "$data" $fields --show-mmap-events > "$out" ;;
esac
echo "$0: wrote $out ($(wc -c < "$out") bytes)" >&2
