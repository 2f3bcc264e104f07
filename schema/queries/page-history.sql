-- title: History of one page in one lane
-- description: Every page-table change that covered page :vpn in lane :lane (a lane name), in order, with the
--   kernel path: PTE changes of the page and PMD changes of the 2 MiB slot that holds it. Filters the run-length encoded pte_change table by range,
--   reading the lane's rows once in seq order (primary key) instead of expanding every run as v_pte_change does
--   (rows with vpn_steps are expanded, into their changes only). Needs schema version 4 (pteplay state / play read older files).
-- params: :lane (lane name, e.g. 'soft-dirty'), :vpn (page number = address >> 12)
WITH c AS (
  SELECT c.seq, c.pos, c.pid, c.vpn, c.count, c.level, c.old, c.new, c.path
  FROM pte_change c JOIN lane l ON l.lane_id = c.lane_id
  WHERE l.name = :lane
  UNION ALL
  SELECT c.seq + s.key + 1, c.pos, c.pid,
    c.vpn + sum(iif(s.type = 'array', json_extract(s.value, '$[0]'), s.value)) OVER (PARTITION BY c.seq ORDER BY s.key),
    iif(s.type = 'array', json_extract(s.value, '$[1]'), c.count), c.level, c.old, c.new, c.path
  FROM pte_change c JOIN lane l ON l.lane_id = c.lane_id, json_each(c.vpn_steps) s
  WHERE l.name = :lane AND c.vpn_steps IS NOT NULL
)
SELECT
  c.seq,
  c.pos,
  c.pid,
  lv.label AS level,
  c.old,
  c.new,
  p.label AS path,
  c.vpn AS run_first_vpn,
  c.count * iif(c.level = 1, 512, 1) AS run_pages
FROM c
JOIN pte_level lv ON lv.code = c.level
JOIN path p ON p.code = c.path
WHERE c.vpn <= :vpn AND :vpn < c.vpn + c.count * iif(c.level = 1, 512, 1)
ORDER BY c.seq;
