// Tiny SVG sparklines for the ward tiles: a polyline per vital, redrawn only when that patient
// changes. 200 patients × 5 vitals stay cheap because each line is one attribute update.

const SVG = 'http://www.w3.org/2000/svg';
/** Points kept per line: past this the older half is thinned, so a line is bounded yet spans hours. */
const MAX_POINTS = 160;

export function createSparkline() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 100 16');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(SVG, 'polyline');
  svg.append(line);
  return { svg, line };
}

/** Adds (t, v) when newer than the last point; drops points before `fromMs` and thins old ones. */
export function appendPoint(series, t, v, fromMs) {
  if (v === null || v === undefined) return false;
  const n = series.t.length;
  if (n > 0 && t <= series.t[n - 1]) return false;
  series.t.push(t);
  series.v.push(v);
  let old = 0;
  while (old < series.t.length && series.t[old] < fromMs) old++;
  if (old > 0) {
    series.t.splice(0, old);
    series.v.splice(0, old);
  }
  if (series.t.length > MAX_POINTS) {
    // Every other point of the older half goes: recent detail stays, history keeps its shape.
    const half = Math.floor(series.t.length / 2);
    const keep = (_x, i) => i >= half || i % 2 === 0;
    series.t = series.t.filter(keep);
    series.v = series.v.filter(keep);
  }
  return true;
}

/** Draws the series over [fromMs, toMs], or over its own span when it is shorter. */
export function drawSparkline(spark, series, fromMs, toMs) {
  let first = -1;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < series.t.length; i++) {
    if (series.t[i] < fromMs) continue;
    if (first < 0) first = i;
    min = Math.min(min, series.v[i]);
    max = Math.max(max, series.v[i]);
  }
  if (first < 0 || series.t.length - first < 2) {
    spark.line.setAttribute('points', '');
    return;
  }
  const start = series.t[first];
  const width = Math.max(toMs - start, 1);
  const span = max - min || 1;
  const pts = [];
  for (let i = first; i < series.t.length; i++) {
    const x = ((series.t[i] - start) / width) * 100;
    const y = 14.5 - ((series.v[i] - min) / span) * 13;
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  spark.line.setAttribute('points', pts.join(' '));
}
