-- title: Lanes side by side at every collect
-- description: One row per collect and lane: reported vs written pages, FP/FN, precision/recall and the
--   reported dirty rate with its interval, ordered so the lanes of one collect are adjacent.
-- params: none
SELECT
  a.collect_idx,
  a.label,
  a.lane,
  a.reported,
  a.true_w,
  a.fp,
  a.fn,
  a.fn_c,
  round(a.precision, 3) AS precision,
  round(a.recall, 3) AS recall,
  r.interval_accesses,
  round(r.interval_ms, 3) AS interval_ms,
  round(r.reported_mib_s, 2) AS reported_mib_s
FROM v_collect_accuracy a
JOIN v_dirty_rate r ON r.lane_id = a.lane_id AND r.collect_idx = a.collect_idx
ORDER BY a.collect_idx, a.lane_id;
