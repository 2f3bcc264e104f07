-- pteplay run database, schema version 3: secondary indexes.
-- Built by RunStore.finish() after the load (maintaining them during the load costs 3-4x in insert rate,
-- performance-notes.md), so a run that is still going or crashed may not have them.

-- Changes by first page: vpn = ?, vpn BETWEEN ? AND ? (the entries also hold the primary key, so a lane_id
-- filter needs no table lookup). vpn alone, not (lane_id, vpn): the sort that builds it is ~25% cheaper.
-- Runs that start before a page and cover it cannot be found by this index (page-history.sql reads the lane).
CREATE INDEX IF NOT EXISTS pte_change_by_vpn ON pte_change (vpn);
-- No index on pte_change.pos: within a lane pos never decreases as seq grows, so the rows of a trace
-- position are found by binary search over the primary key (src/store/time-travel.ts seqAtPos); building
-- such an index took ~40% of finish() (docs/performance.md). To seek in time in SQL, filter by seq.
-- Ops by lane and position.
CREATE INDEX IF NOT EXISTS op_result_by_pos ON op_result (lane_id, pos);
