-- Lookup tables for every enum the run stores, the final page-table state of each lane, and the views
-- built on them.

-- Every 16-bit state word (pte_change.old/new, final_page.state) with its decoded text.
CREATE TABLE pte_state (
  -- the state word (src/mm/pte.ts encoding; 0..65535)
  state INTEGER PRIMARY KEY,
  -- decoded: "none", "present anon W D A SD excl", "marker uffd-wp", "swap SD", "table", ...
  label TEXT NOT NULL
) STRICT;

-- The entry kinds (state bits 0-1).
CREATE TABLE entry_kind (
  -- state & 3
  code  INTEGER PRIMARY KEY,
  -- none, marker, present, swap
  label TEXT NOT NULL
) STRICT;

-- The single-bit flags of a state word.
CREATE TABLE pte_bit (
  -- the bit's value (a power of two)
  bit         INTEGER PRIMARY KEY,
  -- short name: W, D, A, SD, UW, excl, guard, poison, migration, protnone, table
  label       TEXT NOT NULL,
  -- what it means, in the kernel's terms
  description TEXT NOT NULL
) STRICT;

-- The PAGEMAP_SCAN page categories (PAGE_IS_*, include/uapi/linux/fs.h): the bits of
-- pagemap_scan_region.categories.
CREATE TABLE page_category (
  -- the bit's value (a power of two): 1 PAGE_IS_WPALLOWED ... 256 PAGE_IS_GUARD
  bit   INTEGER PRIMARY KEY,
  -- the name as traces spell it: wpallowed, written, file, present, swapped, pfnzero, huge, soft_dirty, guard
  label TEXT NOT NULL
) STRICT;

-- Tracker kinds a lane can use (lane.tracker).
CREATE TABLE tracker_kind (
  -- lane.tracker value
  name        TEXT PRIMARY KEY,
  -- the mechanism and how the lane drives it
  description TEXT NOT NULL
) STRICT;

-- errno names op_result.errno can hold, with their numbers on x86-64 Linux.
CREATE TABLE errno (
  -- e.g. EINVAL
  name TEXT PRIMARY KEY,
  -- the number (EINVAL = 22)
  code INTEGER NOT NULL
) STRICT;

-- Trace op kinds (the JSONL "op" values; op_result.call uses kernel names for the same calls).
CREATE TABLE op_kind (
  -- the trace record's op, e.g. mmap, uffdio_writeprotect, pagemap_scan, collect
  name TEXT PRIMARY KEY
) STRICT;

-- The page tables of every lane at the end of the run, run-length encoded: `count` consecutive pages
-- (level 0) or 2 MiB slots (level 1, huge entries) with the same state. Holes and none entries are left out.
CREATE TABLE final_page (
  -- lane.lane_id
  lane_id INTEGER NOT NULL REFERENCES lane(lane_id),
  -- process
  pid     INTEGER NOT NULL,
  -- first page of the run
  vpn     INTEGER NOT NULL,
  -- entries in the run: pages (level 0) or 2 MiB slots (level 1)
  count   INTEGER NOT NULL,
  -- pte_level.code: 0 PTE, 1 huge PMD (or hugetlb) entry
  level   INTEGER NOT NULL,
  -- pte_state.state
  state   INTEGER NOT NULL,
  PRIMARY KEY (lane_id, pid, vpn)
) STRICT, WITHOUT ROWID;

-- Every change of every page, one row per page and change, in page order then time order (expands the
-- run-length encoded pte_change like v_pte_change; on a large run filter with the indexed canned query
-- schema/queries/page-history.sql instead).
CREATE VIEW v_page_history AS
SELECT
  -- lane name
  h.lane AS lane,
  -- process
  h.pid AS pid,
  -- the page (PMD changes: the first page of the 2 MiB slot)
  h.vpn AS vpn,
  -- order of the change within the lane
  h.seq AS seq,
  -- trace position of the access or op that caused it
  h.pos AS pos,
  -- "pte" or "pmd"
  h.level AS level,
  -- the state before, decoded
  h.old_state AS old_state,
  -- the state after, decoded
  h.new_state AS new_state,
  -- the kernel path that made the change
  h.path AS path
FROM v_pte_change h
ORDER BY h.lane_id, h.pid, h.vpn, h.seq;

-- A page-types-like summary (tools/mm/page-types): pages per final state per lane, with MiB.
CREATE VIEW v_page_types AS
SELECT
  -- lane name
  l.name AS lane,
  -- process
  f.pid AS pid,
  -- the state word
  f.state AS state,
  -- the state decoded, e.g. "present anon W D A SD excl"
  s.label AS flags,
  -- pages in this state (a huge entry counts its 512 pages)
  sum(f.count * iif(f.level = 1, 512, 1)) AS pages,
  -- the same in MiB
  round(sum(f.count * iif(f.level = 1, 512, 1)) * 4096.0 / 1048576, 3) AS mib
FROM final_page f
JOIN lane l ON l.lane_id = f.lane_id
JOIN pte_state s ON s.state = f.state
GROUP BY f.lane_id, f.pid, f.state
ORDER BY f.lane_id, f.pid, pages DESC;

-- One row per region a pagemap_scan record of the trace returned, with the lane's name, the categories
-- by name and the call's outcome (its op_result row).
CREATE VIEW v_pagemap_scan_region AS
SELECT
  -- lane.lane_id
  r.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- trace position of the pagemap_scan record
  r.pos AS pos,
  -- process whose pagemap was scanned
  r.pid AS pid,
  -- index of the region in the vec (0-based)
  r.idx AS idx,
  -- first page of the region
  r.start_vpn AS start_vpn,
  -- page after the region's last page
  r.end_vpn AS end_vpn,
  -- pages in the region
  r.end_vpn - r.start_vpn AS pages,
  -- the categories by name, in bit order and '|'-separated, e.g. "written|present"
  (SELECT group_concat(c.label, '|') FROM page_category c WHERE (r.categories & c.bit) <> 0) AS categories,
  -- the ioctl's return value: the number of regions, or -1 (then errno says why)
  o.ret AS ret,
  -- errno name when the ioctl failed (EPERM: the regions before the failure were copied), else NULL
  o.errno AS errno,
  -- arg.walk_end written back, in pages
  o.walk_end_vpn AS walk_end_vpn
FROM pagemap_scan_region r
JOIN lane l ON l.lane_id = r.lane_id
LEFT JOIN op_result o ON o.lane_id = r.lane_id AND o.pos = r.pos AND o.origin = 'trace' AND o.call = 'PAGEMAP_SCAN';
