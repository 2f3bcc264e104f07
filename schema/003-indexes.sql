-- pteplay run database, schema version 1: secondary indexes.
-- Built by RunStore.finish() after the load (maintaining them during the load costs 3-4x in insert rate,
-- performance-notes.md), so a run that is still going or crashed may not have them.

-- Page history: the changes that cover a page (schema/queries/page-history.sql).
CREATE INDEX IF NOT EXISTS pte_change_by_vpn ON pte_change (lane_id, vpn);
-- Changes by trace position (seek in time).
CREATE INDEX IF NOT EXISTS pte_change_by_pos ON pte_change (lane_id, pos);
-- Ops by lane and position.
CREATE INDEX IF NOT EXISTS op_result_by_pos ON op_result (lane_id, pos);
