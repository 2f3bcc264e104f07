/**
 * Least-squares fit of a per-call time against a size: y = fixed + perUnit * x. Weighted by 1/y²
 * (relative residuals) so sizes from 1 to 2^18 pages all count, not only the largest; r² is the
 * weighted coefficient of determination (1 for points on a line).
 */
export interface Fit {
  fixedNs: number;
  perUnitNs: number;
  r2: number;
}

export interface Point {
  x: number;
  y: number;
}

export function fitLine(points: readonly Point[]): Fit {
  if (points.length < 2) throw new Error(`fitLine: need at least 2 points, got ${points.length}`);
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    const w = weight(p);
    sw += w;
    sx += w * p.x;
    sy += w * p.y;
  }
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    const w = weight(p);
    sxx += w * (p.x - mx) ** 2;
    sxy += w * (p.x - mx) * (p.y - my);
    syy += w * (p.y - my) ** 2;
  }
  if (sxx === 0) throw new Error('fitLine: every point has the same size');
  const perUnitNs = sxy / sxx;
  const fixedNs = my - perUnitNs * mx;
  let res = 0;
  for (const p of points) res += weight(p) * (p.y - fixedNs - perUnitNs * p.x) ** 2;
  return { fixedNs, perUnitNs, r2: syy > 0 ? 1 - res / syy : 1 };
}

const weight = (p: Point): number => 1 / Math.max(p.y, 1) ** 2;
