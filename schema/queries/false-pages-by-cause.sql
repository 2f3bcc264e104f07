-- title: False positives and negatives by cause, per lane, over the whole run
-- description: Pages each lane reported but nobody wrote (fp) and pages written but not reported (fn), summed
--   over all collects and grouped by the kernel rule that caused them. Against write truth (GT_w).
-- params: none
SELECT
  lane,
  side,
  cause,
  SUM(pages) AS pages,
  COUNT(DISTINCT collect_idx) AS collects
FROM v_false_by_cause
GROUP BY lane_id, side, why_code
ORDER BY lane_id, side, pages DESC;
