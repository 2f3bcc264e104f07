-- title: History of one page in one lane
-- description: Every page-table change that covered page :vpn in lane :lane (a lane name), in order, with the
--   kernel path: PTE changes of the page and PMD changes of the 2 MiB slot that holds it. Filters the run-length encoded pte_change table by range,
--   reading the lane's rows once in seq order (primary key) instead of expanding every run as v_pte_change does.
-- params: :lane (lane name, e.g. 'soft-dirty'), :vpn (page number = address >> 12)
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
FROM pte_change c
JOIN lane l ON l.lane_id = c.lane_id
JOIN pte_level lv ON lv.code = c.level
JOIN path p ON p.code = c.path
WHERE l.name = :lane AND c.vpn <= :vpn AND :vpn < c.vpn + c.count * iif(c.level = 1, 512, 1)
ORDER BY c.seq;
