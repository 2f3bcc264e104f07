-- title: Estimated time per lane and cost item
-- description: The cost model (table cost_model, documented in src/report/cost-model.ts) applied to each
--   lane's run-total counters, largest items first, with the write/collect side of Wine's
--   "write-path ns / collect-path µs" split.
-- params: none
SELECT
  lane,
  side,
  item,
  units,
  round(est_ns / 1e3, 1) AS est_us
FROM v_cost_estimate
WHERE units > 0
ORDER BY lane_id, est_ns DESC;
