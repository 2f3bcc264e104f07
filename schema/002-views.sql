-- pteplay run database, schema version 4: views (the interface for ad-hoc SQL).
-- Every column is documented in the comment above it. Views that expand run-length encoded rows
-- (v_pte_change, v_false_positive, v_false_negative) read their whole base table; to look at one page,
-- filter the base table by range instead (see schema/queries/page-history.sql).
-- MiB = 2^20 bytes; a page is 4 KiB, so MiB = pages / 256.

-- One row per entry for every page-table entry change: per page for PTE changes, per 2 MiB slot for PMD
-- changes, with the path and level as labels and the states decoded as src/mm/pte.ts describePte() does.
CREATE VIEW v_pte_change AS
WITH RECURSIVE _change(lane_id, seq, pos, pid, vpn, count, level, old, new, path) AS (
  -- every row's first change, then the other changes of rows with vpn_steps
  SELECT lane_id, seq, pos, pid, vpn, count, level, old, new, path FROM pte_change
  UNION ALL
  SELECT c.lane_id, c.seq + s.key + 1, c.pos, c.pid,
    c.vpn + sum(iif(s.type = 'array', json_extract(s.value, '$[0]'), s.value)) OVER (PARTITION BY c.lane_id, c.seq ORDER BY s.key),
    iif(s.type = 'array', json_extract(s.value, '$[1]'), c.count), c.level, c.old, c.new, c.path
  FROM pte_change c, json_each(c.vpn_steps) s WHERE c.vpn_steps IS NOT NULL
),
_entry(lane_id, seq, pos, pid, vpn, step, last, level, old, new, old_state, new_state, path) AS (
  SELECT lane_id, seq, pos, pid, vpn, iif(level = 1, 512, 1), vpn + (count - 1) * iif(level = 1, 512, 1), level, old, new,
    CASE
      WHEN (old & 32768) <> 0 THEN 'table'
      WHEN (old & 3) = 0 THEN 'none'
      WHEN (old & 3) = 1 THEN 'marker' || iif(old & 64, ' uffd-wp', '') || iif(old & 1024, ' guard', '')
        || iif(old & 2048, ' poison', '') || iif(old & 32, ' SD', '')
      ELSE iif((old & 3) = 3, iif(old & 4096, 'migration', 'swap'),
               'present ' || CASE (old >> 7) & 3 WHEN 0 THEN 'anon' WHEN 1 THEN 'file' WHEN 2 THEN 'shmem' ELSE 'zero' END)
        || iif(old & 4, ' W', '') || iif(old & 8, ' D', '') || iif(old & 16, ' A', '') || iif(old & 32, ' SD', '')
        || iif(old & 64, ' UW', '') || iif(old & 512, ' excl', '')
    END,
    CASE
      WHEN (new & 32768) <> 0 THEN 'table'
      WHEN (new & 3) = 0 THEN 'none'
      WHEN (new & 3) = 1 THEN 'marker' || iif(new & 64, ' uffd-wp', '') || iif(new & 1024, ' guard', '')
        || iif(new & 2048, ' poison', '') || iif(new & 32, ' SD', '')
      ELSE iif((new & 3) = 3, iif(new & 4096, 'migration', 'swap'),
               'present ' || CASE (new >> 7) & 3 WHEN 0 THEN 'anon' WHEN 1 THEN 'file' WHEN 2 THEN 'shmem' ELSE 'zero' END)
        || iif(new & 4, ' W', '') || iif(new & 8, ' D', '') || iif(new & 16, ' A', '') || iif(new & 32, ' SD', '')
        || iif(new & 64, ' UW', '') || iif(new & 512, ' excl', '')
    END,
    path
  FROM _change
  UNION ALL
  SELECT lane_id, seq, pos, pid, vpn + step, step, last, level, old, new, old_state, new_state, path FROM _entry WHERE vpn < last
)
SELECT
  -- lane.lane_id
  e.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- seq of the change this entry belongs to (order of changes within the lane; a pte_change row with
  -- vpn_steps holds the changes pte_change.seq .. seq + k)
  e.seq AS seq,
  -- trace position of the access or op that caused the change
  e.pos AS pos,
  -- process whose page table changed
  e.pid AS pid,
  -- the page (PMD entries: the first page of the 2 MiB slot)
  e.vpn AS vpn,
  -- pages the entry maps: 1 for a PTE, 512 for a PMD slot
  e.step AS pages,
  -- "pte" or "pmd"
  lv.label AS level,
  -- state word before (encoding in the pte_change comment)
  e.old AS old,
  -- state word after
  e.new AS new,
  -- the state before, decoded: e.g. "none", "present anon W D A SD excl", "marker uffd-wp", "swap SD", "table"
  e.old_state AS old_state,
  -- the state after, decoded
  e.new_state AS new_state,
  -- path.code of the kernel path that made the change
  e.path AS path_code,
  -- the kernel path, e.g. "do_anonymous_page", "clear_soft_dirty"
  pa.label AS path
FROM _entry e
JOIN lane l ON l.lane_id = e.lane_id
JOIN pte_level lv ON lv.code = e.level
JOIN path pa ON pa.code = e.path;

-- Accuracy of every lane at every collect, against write truth (GT_w) and content truth (GT_c).
CREATE VIEW v_collect_accuracy AS
SELECT
  -- lane.lane_id
  c.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- tracker mechanism of the lane
  l.tracker AS tracker,
  -- 0-based collect index (same collect in every lane)
  c.collect_idx AS collect_idx,
  -- the collect's label from the trace, NULL if none
  c.label AS label,
  -- trace position of the collect
  c.pos AS pos,
  -- how the lane read the dirty set
  c.method AS method,
  -- pages reported dirty
  c.reported AS reported,
  -- pages written in the interval (GT_w)
  c.true_w AS true_w,
  -- pages whose content may have changed (GT_c)
  c.true_c AS true_c,
  -- reported and written
  c.tp AS tp,
  -- reported, not written
  c.fp AS fp,
  -- written, not reported
  c.fn AS fn,
  -- reported, content unchanged
  c.fp_c AS fp_c,
  -- content changed, not reported
  c.fn_c AS fn_c,
  -- tp / (tp + fp); NULL when nothing was reported
  CASE WHEN c.tp + c.fp > 0 THEN CAST(c.tp AS REAL) / (c.tp + c.fp) END AS precision,
  -- tp / (tp + fn); NULL when nothing was written
  CASE WHEN c.tp + c.fn > 0 THEN CAST(c.tp AS REAL) / (c.tp + c.fn) END AS recall,
  -- JSON array of errno names of the collect's failed calls ('[]' when none)
  c.errors AS errors
FROM collect c
JOIN lane l ON l.lane_id = c.lane_id;

-- False pages counted by cause, per lane and collect (from the simulator's per-collect summary).
CREATE VIEW v_false_by_cause AS
SELECT
  -- lane.lane_id
  w.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- collect index
  w.collect_idx AS collect_idx,
  -- 'fp' (reported, not written) or 'fn' (written, not reported)
  w.side AS side,
  -- why.code of the cause
  w.why AS why_code,
  -- the cause, e.g. "new-vma-softdirty"
  y.label AS cause,
  -- number of pages
  w.pages AS pages
FROM collect_why w
JOIN lane l ON l.lane_id = w.lane_id
JOIN why y ON y.code = w.why;

-- Internal: one row per false page (reported <> written) of every collect, runs expanded, with labels.
CREATE VIEW _false_page AS
WITH RECURSIVE _f(lane_id, collect_idx, vpn, last, reported, gt_c, why) AS (
  SELECT lane_id, collect_idx, vpn, vpn + count - 1, reported, gt_c, why FROM collect_page WHERE reported <> gt_w
  UNION ALL
  SELECT lane_id, collect_idx, vpn + 1, last, reported, gt_c, why FROM _f WHERE vpn < last
)
SELECT f.lane_id, l.name AS lane, f.collect_idx, c.label AS collect_label, f.vpn, f.reported, f.why AS why_code,
  y.label AS cause, f.gt_c AS content_changed
FROM _f f
JOIN lane l ON l.lane_id = f.lane_id
JOIN collect c ON c.lane_id = f.lane_id AND c.collect_idx = f.collect_idx
JOIN why y ON y.code = f.why;

-- One row per false-positive page (reported dirty, not written in the interval), with its cause.
CREATE VIEW v_false_positive AS
SELECT
  -- lane.lane_id
  p.lane_id AS lane_id,
  -- lane name
  p.lane AS lane,
  -- collect index
  p.collect_idx AS collect_idx,
  -- the collect's label, NULL if none
  p.collect_label AS collect_label,
  -- the page
  p.vpn AS vpn,
  -- why.code of the cause
  p.why_code AS why_code,
  -- the cause, e.g. "new-vma-softdirty", "thp-granularity"
  p.cause AS cause,
  -- 1 if the page's content may still have changed (GT_c): a false positive for write truth only
  p.content_changed AS content_changed
FROM _false_page p
WHERE p.reported = 1;

-- One row per false-negative page (written in the interval, not reported), with its cause.
CREATE VIEW v_false_negative AS
SELECT
  -- lane.lane_id
  p.lane_id AS lane_id,
  -- lane name
  p.lane AS lane,
  -- collect index
  p.collect_idx AS collect_idx,
  -- the collect's label, NULL if none
  p.collect_label AS collect_label,
  -- the page
  p.vpn AS vpn,
  -- why.code of the cause
  p.why_code AS why_code,
  -- the cause, e.g. "unpopulated-no-marker", "registration-lost"
  p.cause AS cause,
  -- 1 if the page's content changed too (GT_c): a miss that loses data in a migration or dump
  p.content_changed AS content_changed
FROM _false_page p
WHERE p.reported = 0;

-- Dirty pages and MiB per interval per lane, and the rate, always with the interval it was measured over
-- (a longer interval gives a lower rate: a page counts once however often it is written).
CREATE VIEW v_dirty_rate AS
SELECT
  -- lane.lane_id
  c.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- collect index: the interval ends at this collect
  c.collect_idx AS collect_idx,
  -- the collect's label, NULL if none
  c.label AS label,
  -- interval length in accesses
  c.interval_accesses AS interval_accesses,
  -- interval length in ms of trace time, NULL when the trace has no time
  c.interval_ns / 1e6 AS interval_ms,
  -- pages the tracker reported dirty (what a migration or dump would copy)
  c.reported AS reported_pages,
  -- the same in MiB
  c.reported / 256.0 AS reported_mib,
  -- reported MiB per second of trace time, NULL without a positive interval time
  CASE WHEN c.interval_ns > 0 THEN (c.reported / 256.0) / (c.interval_ns / 1e9) END AS reported_mib_s,
  -- pages actually written (GT_w)
  c.true_w AS written_pages,
  -- the same in MiB
  c.true_w / 256.0 AS written_mib,
  -- written MiB per second of trace time, NULL without a positive interval time
  CASE WHEN c.interval_ns > 0 THEN (c.true_w / 256.0) / (c.interval_ns / 1e9) END AS written_mib_s
FROM collect c
JOIN lane l ON l.lane_id = c.lane_id;

-- Internal: estimated ns per unit of every counter (sum over the cost items it drives).
CREATE VIEW _counter_ns AS
SELECT counter, SUM(ns_each) AS ns_each FROM cost_model GROUP BY counter;

-- Faults by kind per lane over the whole run, with the cost model's estimate.
CREATE VIEW v_fault_cost AS
SELECT
  -- lane.lane_id
  t.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- fault kind: the counter name without "fault_" (missing, cow, wp_reuse, uffd_sync, uffd_async, marker, ...)
  substr(t.counter, 7) AS kind,
  -- number of faults
  CAST(t.value AS INTEGER) AS faults,
  -- estimated ns per fault of this kind (cost_model), NULL if the model does not price it
  n.ns_each AS ns_each,
  -- estimated total ns (faults * ns_each), NULL if not priced
  t.value * n.ns_each AS est_ns
FROM counter_total t
JOIN counter k ON k.name = t.counter AND k.grp = 'fault'
JOIN lane l ON l.lane_id = t.lane_id
LEFT JOIN _counter_ns n ON n.counter = t.counter;

-- Estimated time per lane and cost item over the whole run (counter_total x cost_model).
CREATE VIEW v_cost_estimate AS
SELECT
  -- lane.lane_id
  t.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- cost item, e.g. "minor_fault", "uffd_sync_round_trip"
  m.item AS item,
  -- 'write' (paid by the faulting thread) or 'collect' (paid by the tracker's reset and read-out)
  m.side AS side,
  -- units charged: the sum of the item's counters
  SUM(t.value) AS units,
  -- estimated ns
  SUM(t.value * m.ns_each) AS est_ns
FROM counter_total t
JOIN cost_model m ON m.counter = t.counter
JOIN lane l ON l.lane_id = t.lane_id
GROUP BY t.lane_id, m.item;

-- One row per lane: accuracy summed over all collects, and the estimated cost split Wine-style.
CREATE VIEW v_lane_summary AS
SELECT
  -- lane.lane_id
  l.lane_id AS lane_id,
  -- lane name
  l.name AS lane,
  -- tracker mechanism
  l.tracker AS tracker,
  -- number of collects
  (SELECT COUNT(*) FROM collect c WHERE c.lane_id = l.lane_id) AS collects,
  -- pages reported dirty, summed over collects
  (SELECT SUM(reported) FROM collect c WHERE c.lane_id = l.lane_id) AS reported,
  -- pages written (GT_w), summed over collects
  (SELECT SUM(true_w) FROM collect c WHERE c.lane_id = l.lane_id) AS true_w,
  -- true positives, summed
  (SELECT SUM(tp) FROM collect c WHERE c.lane_id = l.lane_id) AS tp,
  -- false positives, summed
  (SELECT SUM(fp) FROM collect c WHERE c.lane_id = l.lane_id) AS fp,
  -- false negatives, summed
  (SELECT SUM(fn) FROM collect c WHERE c.lane_id = l.lane_id) AS fn,
  -- estimated write-path ns (faults and round trips) over the run
  (SELECT SUM(est_ns) FROM v_cost_estimate e WHERE e.lane_id = l.lane_id AND e.side = 'write') AS write_ns,
  -- estimated collect-path ns (resets, read-outs, TLB flushes) over the run
  (SELECT SUM(est_ns) FROM v_cost_estimate e WHERE e.lane_id = l.lane_id AND e.side = 'collect') AS collect_ns
FROM lane l;
