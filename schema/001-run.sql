-- pteplay run database, schema version 4: tables.
--
-- One file per run. A run replays one trace into several lanes; each lane is an independent simulated
-- system with one dirty-page tracker configuration. Conventions:
--   * every table is STRICT; composite keys are WITHOUT ROWID;
--   * enums are lookup tables with a `label` (path, why, pte_level, counter), filled by pteplay from its
--     own label maps when the file is created, so a JOIN turns a code into the name the code uses;
--   * pages are 4 KiB page numbers (vpn = byte address >> 12), never byte addresses;
--   * times are in ns; NULL means unknown (never NaN);
--   * names starting with `_` are internal helpers, not a stable interface.
-- The views users query are in 002-views.sql; secondary indexes (003-indexes.sql) are built when the
-- run finishes, not during the load.
-- PRAGMA user_version holds the schema version (4), as does meta.schema_version. Version 4 added
-- pte_change.vpn_steps (rows of several changes) and dropped the index pte_change_by_vpn; version 3 added
-- pagemap_read_entry, pagemap_scan_region, op_result.walk_end_vpn and uffd_msg.pages; pteplay reads
-- files of versions 1 to 3 too (without them).

-- Run-level facts, one row per key. Keys written by pteplay:
--   pteplay_version   version of pteplay that wrote the file
--   schema_version    4 (this file)
--   kernel_profile    kernel behaviour profile the lanes simulated (e.g. "6.12")
--   trace_path        trace file as given on the command line
--   trace_sha256      SHA-256 of the trace file (hex), '' when not computed
--   options_json      the run's options as a JSON object
--   started_at        ISO-8601 UTC time the run started
--   finished_at       ISO-8601 UTC time the run ended ('' while running)
--   status            running | complete | failed
--   committed_pos     trace position (0-based record number) up to which every lane's rows are stored;
--                     rows for later positions are committed only with a later committed_pos, so after
--                     a crash the file holds exactly the rows up to committed_pos
--   cost_table_kind   which table priced the run (cost_model): default (the literature table of
--                     src/report/cost-model.ts) | calibration (replay --costs FILE); absent in runs
--                     written before it existed, which the default priced
--   cost_table_path   the calibration file as given to --costs (calibration only)
--   cost_table_kernel  kernel release (uname -r) the calibration was measured on
--   cost_table_cpu    CPU model name of the calibration
--   cost_table_date   ISO-8601 time of the calibration
CREATE TABLE meta (
  -- the key (see above)
  key   TEXT PRIMARY KEY NOT NULL,
  -- its value, as text (numbers in decimal)
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per lane: a simulated system with one tracker configuration.
CREATE TABLE lane (
  -- lane number, as in every other table's lane_id (0-based, in the order the run created them)
  lane_id     INTEGER PRIMARY KEY NOT NULL,
  -- the lane's name as shown in reports, e.g. "soft-dirty", "uffd-sync+unpop", "uffd-async"
  name        TEXT NOT NULL UNIQUE,
  -- tracker mechanism: soft-dirty | uffd-sync | uffd-async (or another tracker the run supports)
  tracker     TEXT NOT NULL,
  -- the lane's full configuration (features, kernel knobs, collect method) as a JSON object
  config_json TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- Lookup: the kernel path that changed a page-table entry (src/mm/cause.ts Path / PATH_LABELS).
CREATE TABLE path (
  -- the code stored in pte_change.path
  code  INTEGER PRIMARY KEY NOT NULL,
  -- the kernel path, lower case, e.g. "do_anonymous_page", "clear_soft_dirty", "uffd_wp"
  label TEXT NOT NULL UNIQUE
) STRICT;

-- Lookup: why a tracker's answer for a page differs from the truth (src/mm/cause.ts Why / WHY_LABELS).
CREATE TABLE why (
  -- the code stored in collect_page.why and collect_why.why
  code  INTEGER PRIMARY KEY NOT NULL,
  -- the kernel rule, e.g. "new-vma-softdirty", "thp-granularity", "unpopulated-no-marker"
  label TEXT NOT NULL UNIQUE
) STRICT;

-- Lookup: page-table level of a pte_change row.
CREATE TABLE pte_level (
  -- 0 = PTE (4 KiB entry), 1 = PMD (huge entry, or the presence of a PTE table)
  code  INTEGER PRIMARY KEY NOT NULL,
  -- "pte" or "pmd"
  label TEXT NOT NULL UNIQUE
) STRICT;

-- Lookup: the cost counters (src/lanes/results.ts COUNTER_NAMES, docs/kernel-rules.md §5.3).
CREATE TABLE counter (
  -- counter name as used in collect_cost.counter and counter_total.counter, e.g. "fault_wp_reuse"
  name  TEXT PRIMARY KEY NOT NULL,
  -- position in pteplay's counter array (display order)
  ord   INTEGER NOT NULL UNIQUE,
  -- group: fault | uffd | pgtable | walk | syscall
  grp   TEXT NOT NULL,
  -- unit of the value: "count" or "ns"
  unit  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The per-operation cost model the report uses to turn counters into estimated time
-- (src/report/cost-model.ts, which documents where every number comes from). One row per
-- (item, counter): an item is charged ns_each for every unit of each of its counters.
CREATE TABLE cost_model (
  -- cost item, e.g. "minor_fault", "uffd_sync_round_trip", "tlb_flush_full"
  item    TEXT NOT NULL,
  -- a counter that drives the item (counter.name)
  counter TEXT NOT NULL REFERENCES counter(name),
  -- estimated ns per unit of the counter
  ns_each REAL NOT NULL,
  -- which side of the Wine-style split the item belongs to: write (the faulting thread) | collect (the tracker's reset and read-out)
  side    TEXT NOT NULL CHECK (side IN ('write', 'collect')),
  -- where ns_each comes from (measured figure and conversion, or "assumption: ...")
  source  TEXT NOT NULL,
  PRIMARY KEY (item, counter)
) STRICT, WITHOUT ROWID;

-- Page-table entry changes, per lane, run-length encoded: one change covers `count` consecutive entries at
-- one level that made the identical transition at the same trace position. PTE changes (level 0) cover
-- pages vpn .. vpn+count-1; PMD changes (level 1) cover `count` 2 MiB slots starting at vpn (the first page
-- the slot maps), each slot 512 pages. A row is one change (vpn_steps NULL) or several (vpn_steps a JSON
-- array of k steps): consecutive changes seq .. seq+k of the lane with the same pos, time_ns, pid, level,
-- old, new and path at scattered, ascending pages (a tracker re-arming the pages written in an interval).
-- Step i is a number d > 0 or a pair [d, n]: change seq+i+1 starts at page (vpn of change seq+i) + d and
-- covers `count` entries (n for a pair). At most 1024 changes per row. Use v_pte_change for one row per entry with
-- decoded states: it expands both.
-- State words (old, new) are pteplay's 16-bit entry encoding (src/mm/pte.ts):
--   bits 0-1 kind (0 none, 1 marker, 2 present, 3 swap/migration), bit 2 W, 3 D, 4 A, 5 SD (soft-dirty),
--   6 UW (uffd-wp), bits 7-8 page (0 anon, 1 file, 2 shmem, 3 zero page), 9 anon-exclusive, 10 guard marker,
--   11 poison marker, 12 migration entry, 13 PROT_NONE; PMD rows: bit 15 = points to a PTE table, 0 = hole.
CREATE TABLE pte_change (
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- order of the (first) change within the lane (increasing; a row of several changes has seq .. seq+k)
  seq     INTEGER NOT NULL,
  -- trace position (0-based record number) of the access or op that caused the change; within a lane it
  -- never decreases as seq increases, so a range of positions is a range of seq
  pos     INTEGER NOT NULL,
  -- trace time of that record in ns, NULL when the trace has no time
  time_ns REAL,
  -- process whose page table changed
  pid     INTEGER NOT NULL,
  -- first page number of the (first) change's run (PMD rows: the first page of the first 2 MiB slot)
  vpn     INTEGER NOT NULL,
  -- number of consecutive entries in the (first) change's run (>= 1): pages for PTE rows, 2 MiB slots for PMD rows
  count   INTEGER NOT NULL CHECK (count >= 1),
  -- pte_level.code: 0 = PTE, 1 = PMD
  level   INTEGER NOT NULL REFERENCES pte_level(code),
  -- entry state before the change (state word, see above)
  old     INTEGER NOT NULL,
  -- entry state after the change (same encoding)
  new     INTEGER NOT NULL,
  -- path.code: the kernel path that made the change
  path    INTEGER NOT NULL REFERENCES path(code),
  -- NULL: the row is one change. Else a JSON array of k >= 1 steps d or [d, count]: the row also holds
  -- changes seq+1 .. seq+k, change seq+i+1 at page (page of change seq+i) + d (see above)
  vpn_steps TEXT,
  PRIMARY KEY (lane_id, seq)
) STRICT, WITHOUT ROWID;

-- Outcome of every op: the trace's own ops (mmap, madvise, fork, ...) as each lane executed them, and the
-- syscalls each lane's tracker driver issued (clear_refs, UFFDIO_WRITEPROTECT, PAGEMAP_SCAN, ...).
CREATE TABLE op_result (
  -- insertion order (rowid)
  op_id   INTEGER PRIMARY KEY,
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- trace position of the op (driver calls: of the protocol op that caused them)
  pos     INTEGER NOT NULL,
  -- process the call ran in
  pid     INTEGER NOT NULL,
  -- 'trace' for ops in the trace, 'driver' for calls the lane's tracker protocol made
  origin  TEXT NOT NULL CHECK (origin IN ('trace', 'driver')),
  -- syscall or ioctl name as users know it: mmap, clear_refs, UFFDIO_WRITEPROTECT, PAGEMAP_SCAN, ...
  call    TEXT NOT NULL,
  -- arguments as short text, for people (the trace has the exact values)
  args    TEXT NOT NULL,
  -- return value (address, number of regions, 0), -1 on error
  ret     INTEGER NOT NULL,
  -- errno name on failure (EINVAL, EPERM, ...), NULL on success
  errno   TEXT,
  -- PAGEMAP_SCAN: arg.walk_end as the kernel wrote it back, in pages (the end of the range, or where
  -- the walk stopped when the vec or max_pages ran out); NULL for other calls and when the kernel did
  -- not write it (argument errors, ENOTTY)
  walk_end_vpn INTEGER
) STRICT;

-- What each pagemap_read record of the trace returned, per lane (every lane has its own page tables):
-- the 64-bit /proc/PID/pagemap entries as runs of consecutive pages with the same entry, in address
-- order, covering every entry read (op_result.ret / 8 of them, from page offset / 8). The PFN field
-- (bits 0-54) reads 0, as for a reader without CAP_SYS_ADMIN. The read's op_result row has the same
-- lane_id and pos, origin 'trace'. The trackers' own pagemap reads are not stored here (their verdicts
-- are in collect_page).
CREATE TABLE pagemap_read_entry (
  -- lane.lane_id
  lane_id    INTEGER NOT NULL REFERENCES lane(lane_id),
  -- trace position of the pagemap_read record
  pos        INTEGER NOT NULL,
  -- process whose pagemap was read
  pid        INTEGER NOT NULL,
  -- first page of the run
  vpn        INTEGER NOT NULL,
  -- number of pages (entries) in the run (>= 1)
  count      INTEGER NOT NULL CHECK (count >= 1),
  -- bit 63 PM_PRESENT: a page is mapped (PTE or huge PMD)
  present    INTEGER NOT NULL CHECK (present IN (0, 1)),
  -- bit 62 PM_SWAP: a swap or migration entry, or a PTE marker (uffd-wp, guard)
  swap       INTEGER NOT NULL CHECK (swap IN (0, 1)),
  -- bit 61 PM_FILE: a page-cache or shmem page (also the huge zero page), or a migration entry of one
  file       INTEGER NOT NULL CHECK (file IN (0, 1)),
  -- bit 58 PM_GUARD_REGION: a MADV_GUARD_INSTALL marker (v6.15)
  guard      INTEGER NOT NULL CHECK (guard IN (0, 1)),
  -- bit 57 PM_UFFD_WP: uffd-wp protected (PTE bit, swap bit or marker)
  uffd_wp    INTEGER NOT NULL CHECK (uffd_wp IN (0, 1)),
  -- bit 56 PM_MMAP_EXCLUSIVE: the page is mapped exactly once
  exclusive  INTEGER NOT NULL CHECK (exclusive IN (0, 1)),
  -- bit 55 PM_SOFT_DIRTY: the entry is soft-dirty, or the VMA has VM_SOFTDIRTY
  soft_dirty INTEGER NOT NULL CHECK (soft_dirty IN (0, 1)),
  PRIMARY KEY (lane_id, pos, vpn)
) STRICT, WITHOUT ROWID;

-- What each pagemap_scan record of the trace (ioctl PAGEMAP_SCAN) copied to its vec, per lane: the
-- struct page_region entries in order (op_result.ret of them; after an EPERM the ones copied before the
-- error). walk_end is op_result.walk_end_vpn of the row with the same lane_id and pos, origin 'trace'.
-- The trackers' own scans are not stored here (their verdicts are in collect_page).
CREATE TABLE pagemap_scan_region (
  -- lane.lane_id
  lane_id    INTEGER NOT NULL REFERENCES lane(lane_id),
  -- trace position of the pagemap_scan record
  pos        INTEGER NOT NULL,
  -- process whose pagemap was scanned
  pid        INTEGER NOT NULL,
  -- index of the region in the vec (0-based)
  idx        INTEGER NOT NULL,
  -- first page of the region (page_region.start / 4096)
  start_vpn  INTEGER NOT NULL,
  -- page after the region's last page (page_region.end / 4096): the region is [start_vpn, end_vpn)
  end_vpn    INTEGER NOT NULL,
  -- page_region.categories: PAGE_IS_* bits, masked by the call's return_mask (page_category names them)
  categories INTEGER NOT NULL,
  PRIMARY KEY (lane_id, pos, idx)
) STRICT, WITHOUT ROWID;

-- One row per lane per collect: the tracker's answer compared with ground truth.
-- GT_w = pages written since the tracker's last reset; GT_c = pages whose content may have changed.
CREATE TABLE collect (
  -- lane.lane_id
  lane_id           INTEGER NOT NULL REFERENCES lane(lane_id),
  -- 0-based index of the collect within the run (the same collect has the same index in every lane)
  collect_idx       INTEGER NOT NULL,
  -- trace position of the collect op
  pos               INTEGER NOT NULL,
  -- trace time of the collect in ns, NULL when the trace has no time
  time_ns           REAL,
  -- process whose memory was collected (a collect over the whole program gives one row per live process)
  pid               INTEGER NOT NULL,
  -- first page examined
  start_vpn         INTEGER NOT NULL,
  -- one past the last page examined: the range is [start_vpn, end_vpn)
  end_vpn           INTEGER NOT NULL,
  -- the collect's label from the trace, NULL if none
  label             TEXT,
  -- how the lane read the dirty set: "pagemap bit 55", "uffd WP messages", "PAGEMAP_SCAN WRITTEN", ...
  method            TEXT NOT NULL,
  -- interval length in accesses: accesses this process made since its previous collect
  interval_accesses INTEGER NOT NULL,
  -- interval length in trace time (ns) since the previous collect op (the same for every process of one collect), NULL when the trace has no time
  interval_ns       REAL,
  -- pages the tracker reported dirty
  reported          INTEGER NOT NULL,
  -- pages written in the interval (GT_w)
  true_w            INTEGER NOT NULL,
  -- pages whose content may have changed in the interval (GT_c)
  true_c            INTEGER NOT NULL,
  -- reported and written
  tp                INTEGER NOT NULL,
  -- reported but not written (false positives against GT_w)
  fp                INTEGER NOT NULL,
  -- written but not reported (false negatives against GT_w)
  fn                INTEGER NOT NULL,
  -- reported but content unchanged (false positives against GT_c)
  fp_c              INTEGER NOT NULL,
  -- content changed but not reported (false negatives against GT_c)
  fn_c              INTEGER NOT NULL,
  -- errno names of the collect's own calls that failed, as a JSON array ('[]' when none)
  errors            TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (lane_id, collect_idx)
) STRICT, WITHOUT ROWID;

-- False pages of a collect counted by cause (the simulator's per-collect summary; CollectResult.fpWhy/fnWhy).
-- Against write truth (GT_w). The page-level detail is in collect_page.
CREATE TABLE collect_why (
  -- lane.lane_id
  lane_id     INTEGER NOT NULL,
  -- collect.collect_idx
  collect_idx INTEGER NOT NULL,
  -- 'fp' = reported but not written, 'fn' = written but not reported
  side        TEXT NOT NULL CHECK (side IN ('fp', 'fn')),
  -- why.code: the cause
  why         INTEGER NOT NULL REFERENCES why(code),
  -- number of pages
  pages       INTEGER NOT NULL,
  PRIMARY KEY (lane_id, collect_idx, side, why),
  FOREIGN KEY (lane_id, collect_idx) REFERENCES collect(lane_id, collect_idx)
) STRICT, WITHOUT ROWID;

-- Per-page outcome of a collect, run-length encoded: one row covers pages vpn .. vpn+count-1 that
-- share all values. Runs of one collect do not overlap. The key starts with collect_idx because collects
-- arrive in that order (every lane's collect k before any lane's collect k+1): rows append at the end of
-- the B-tree instead of in the middle of each lane's part (~25% cheaper to insert).
CREATE TABLE collect_page (
  -- lane.lane_id
  lane_id     INTEGER NOT NULL,
  -- collect.collect_idx
  collect_idx INTEGER NOT NULL,
  -- first page of the run
  vpn         INTEGER NOT NULL,
  -- number of pages in the run (>= 1)
  count       INTEGER NOT NULL CHECK (count >= 1),
  -- 1 if the tracker reported the pages dirty
  reported    INTEGER NOT NULL CHECK (reported IN (0, 1)),
  -- 1 if the pages were written in the interval (GT_w)
  gt_w        INTEGER NOT NULL CHECK (gt_w IN (0, 1)),
  -- 1 if the pages' content may have changed in the interval (GT_c)
  gt_c        INTEGER NOT NULL CHECK (gt_c IN (0, 1)),
  -- why.code: the tracker-side reason for its answer (meaningful where reported <> gt_w)
  why         INTEGER NOT NULL REFERENCES why(code),
  PRIMARY KEY (collect_idx, lane_id, vpn),
  FOREIGN KEY (lane_id, collect_idx) REFERENCES collect(lane_id, collect_idx)
) STRICT, WITHOUT ROWID;

-- Cost counters of the collect's process accumulated in its interval (since its previous collect), long format:
-- one row per (lane, collect, counter), zeros included. Summed over a lane's collects it covers what
-- the collected processes did up to their last collect (not a process that exited before a collect);
-- counter_total has the whole run.
CREATE TABLE collect_cost (
  -- lane.lane_id
  lane_id     INTEGER NOT NULL,
  -- collect.collect_idx
  collect_idx INTEGER NOT NULL,
  -- counter.name
  counter     TEXT NOT NULL REFERENCES counter(name),
  -- counter value (a count, or ns for stall_ns)
  value       REAL NOT NULL,
  PRIMARY KEY (lane_id, collect_idx, counter),
  FOREIGN KEY (lane_id, collect_idx) REFERENCES collect(lane_id, collect_idx)
) STRICT, WITHOUT ROWID;

-- Cost counters for the whole run (up to meta.committed_pos), one row per (lane, counter), zeros included.
CREATE TABLE counter_total (
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- counter.name
  counter TEXT NOT NULL REFERENCES counter(name),
  -- counter value (a count, or ns for stall_ns)
  value   REAL NOT NULL,
  PRIMARY KEY (lane_id, counter)
) STRICT, WITHOUT ROWID;
