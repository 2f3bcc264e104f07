-- pteplay run database, schema version 4: secondary indexes.
-- Built by RunStore.finish() after the load (maintaining them during the load costs 3-4x in insert rate,
-- performance-notes.md), so a run that is still going or crashed may not have them.

-- No index on pte_change.vpn (versions 1-3 had pte_change_by_vpn ON pte_change (vpn)): no query of pteplay
-- used it (a page's history reads its lane in seq order: page-history.sql, pteplay play), it could not
-- find the runs that start before a page or the changes of a row's vpn_steps, and it was a fifth of the
-- bench's database (docs/performance.md). To look at pages, filter one lane by seq, or CREATE INDEX on a
-- copy of the file.
-- No index on pte_change.pos: within a lane pos never decreases as seq grows, so the rows of a trace
-- position are found by binary search over the primary key (src/store/time-travel.ts seqAtPos); building
-- such an index took ~40% of finish() (docs/performance.md). To seek in time in SQL, filter by seq.
-- Ops by lane and position.
CREATE INDEX IF NOT EXISTS op_result_by_pos ON op_result (lane_id, pos);
