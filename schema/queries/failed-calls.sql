-- title: Failed syscalls
-- description: Every op or tracker-driver call that returned an error, per lane, with its trace position.
-- params: none
SELECT
  l.name AS lane,
  o.pos,
  o.pid,
  o.origin,
  o.call,
  o.args,
  o.errno
FROM op_result o
JOIN lane l ON l.lane_id = o.lane_id
WHERE o.errno IS NOT NULL
ORDER BY o.lane_id, o.pos, o.op_id;
