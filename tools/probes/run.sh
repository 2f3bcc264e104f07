#!/usr/bin/env bash
# Build and run the pteplay kernel probes against THIS machine's kernel and write the
# machine-readable fixture. Must run as root on x86-64 (pagemap PFNs are not used, but
# userfaultfd with EVENT_FORK needs CAP_SYS_PTRACE).
#
#   bash tools/probes/run.sh              # writes test/fixtures/kernel-probes-$(uname -r | cut -d. -f1,2).json
#   bash tools/probes/run.sh OUT.json     # custom output path
#   CASES="D1 D7" bash tools/probes/run.sh /tmp/x.json   # subset
#
# Each case runs in its own process; a crashing case is recorded as {"case":..,"error":..}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ver="$(uname -r | cut -d. -f1,2)"
out="${1:-$root/test/fixtures/kernel-probes-$ver.json}"
bin="$(mktemp -d)/probes"
gcc -O1 -Wall -o "$bin" "$here/probes.c" -lpthread

cases="${CASES:-$("$bin" list)}"
tmp="$(mktemp -d)"

# The SWAP case needs a swap device. If none is active and zram0 is unused, set up a
# 64 MiB zram swap just for that case and tear it down afterwards (PROBE_NO_SWAP_SETUP=1 skips).
swap_setup=0
swap_on() {
  [ "${PROBE_NO_SWAP_SETUP:-0}" = 1 ] && return 0
  [ "$(tail -n +2 /proc/swaps | wc -l)" = 0 ] || return 0
  [ -e /sys/block/zram0/disksize ] && [ "$(cat /sys/block/zram0/disksize)" = 0 ] || return 0
  if echo 64M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0; then
    swap_setup=1
  fi
}
swap_off() {
  if [ "$swap_setup" = 1 ]; then
    swapoff /dev/zram0 || true
    echo 1 >/sys/block/zram0/reset || true
    swap_setup=0
  fi
}
trap swap_off EXIT

for c in $cases; do
  [ "$c" = SWAP ] && swap_on
  if ! timeout 60 "$bin" "$c" >"$tmp/$c.json" 2>"$tmp/$c.err"; then
    echo "case $c failed: $(head -c 300 "$tmp/$c.err")" >&2
  fi
  [ "$c" = SWAP ] && swap_off
done

thp() { cat "/sys/kernel/mm/transparent_hugepage/$1" 2>/dev/null || echo unknown; }
CASES_LIST="$cases" TMPD="$tmp" OUT="$out" \
KREL="$(uname -r)" KMACH="$(uname -m)" \
THP_ENABLED="$(thp enabled)" THP_DEFRAG="$(thp defrag)" THP_ZERO="$(thp use_zero_page)" \
THP_SHMEM="$(thp shmem_enabled)" \
python3 - <<'EOF'
import json, os, re
tmp = os.environ["TMPD"]
cases = []
for c in os.environ["CASES_LIST"].split():
    raw = open(os.path.join(tmp, c + ".json")).read()
    err = open(os.path.join(tmp, c + ".err")).read()
    try:
        d = json.loads(raw)
    except Exception as e:
        d = {"case": c, "error": "invalid JSON: %s; stderr: %s" % (e, err[:300])}
    if err.strip():
        d["stderr"] = err.strip()[:500]
    cases.append(d)
sel = lambda s: (re.search(r"\[(\S+)\]", s) or [None, s])[1]
meta = {
    "generator": "tools/probes/run.sh",
    "kernel_release_major_minor": ".".join(os.environ["KREL"].split(".")[:2]),
    "machine": os.environ["KMACH"],
    "config": {
        "CONFIG_MEM_SOFT_DIRTY": False,
        "CONFIG_PT_RECLAIM": True,
        "CONFIG_PER_VMA_LOCK": True,
    },
    "thp": {
        "enabled": sel(os.environ["THP_ENABLED"]),
        "defrag": sel(os.environ["THP_DEFRAG"]),
        "use_zero_page": os.environ["THP_ZERO"],
        "shmem_enabled": sel(os.environ["THP_SHMEM"]),
    },
    "swap": "no swap device is configured on the reference machine; run.sh enables a temporary 64 MiB zram swap for the SWAP case only (see that case's 'swap devices' observation)",
    "conventions": {
        "page_indices": "relative to each mapping's base; regions are [start, end) page indices",
        "pagemap": "runs [start, end, flags] with flags from bits 55 soft_dirty, 56 exclusive, 57 uffd_wp, 58 guard, 61 file, 62 swap, 63 present",
        "scan_readings": {
            "fast": "category_mask = return_mask = WRITTEN",
            "gen": "category_anyof_mask = WRITTEN, return_mask = WRITTEN, category_mask = 0",
            "full": "return_mask = all categories (0x1ff), no masks",
        },
        "walk_end": "page index relative to base; 'unchanged' = the kernel did not write it back",
        "faults": "minflt/majflt = getrusage(RUSAGE_THREAD) deltas around one access by the accessing thread",
        "msgs": "sync WP messages read by a monitor thread that un-protects each faulting page (UFFDIO_WRITEPROTECT mode 0)",
    },
}
# Config flags above are from /proc/config.gz of the reference machine; re-read if present.
try:
    import gzip
    cfg = gzip.open("/proc/config.gz", "rt").read()
    for k in list(meta["config"]):
        meta["config"][k] = bool(re.search(r"^%s=y" % k, cfg, re.M))
except Exception:
    pass
json.dump({"meta": meta, "cases": cases}, open(os.environ["OUT"], "w"), indent=1, sort_keys=False)
open(os.environ["OUT"], "a").write("\n")
print("wrote", os.environ["OUT"], "with", len(cases), "cases")
EOF
rm -rf "$tmp" "$(dirname "$bin")"
