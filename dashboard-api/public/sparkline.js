// Tiny SVG sparklines for the ward tiles: a polyline per vital, redrawn only when that patient
// changes. 200 patients × 5 vitals stay cheap because each line is one attribute update.

const SVG = 'http://www.w3.org/2000/svg';
/** Points kept per line; older ones fall off as live readings arrive. */
const MAX_POINTS = 120;

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

/**
 * Adds (t, v) when newer than the last point. Points closer than `minGapMs` to the one before the
 * last replace the last, so a line keeps hours of history however often readings arrive.
 */
export function appendPoint(series, t, v, minGapMs = 0) {
  if (v === null || v === undefined) return false;
  const n = series.t.length;
  if (n > 0 && t <= series.t[n - 1]) return false;
  if (n > 1 && t - series.t[n - 2] < minGapMs) {
    series.t[n - 1] = t;
    series.v[n - 1] = v;
    return true;
  }
  series.t.push(t);
  series.v.push(v);
  if (series.t.length > MAX_POINTS) {
    series.t.splice(0, series.t.length - MAX_POINTS);
    series.v.splice(0, series.v.length - MAX_POINTS);
  }
  return true;
}

export function drawSparkline(spark, series, fromMs, toMs) {
  const pts = [];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < series.t.length; i++) {
    if (series.t[i] < fromMs || series.v[i] === null) continue;
    min = Math.min(min, series.v[i]);
    max = Math.max(max, series.v[i]);
  }
  if (min === Infinity) {
    spark.line.setAttribute('points', '');
    return;
  }
  const span = max - min || 1;
  const width = toMs - fromMs;
  for (let i = 0; i < series.t.length; i++) {
    if (series.t[i] < fromMs || series.v[i] === null) continue;
    const x = ((series.t[i] - fromMs) / width) * 100;
    const y = 14.5 - ((series.v[i] - min) / span) * 13;
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  spark.line.setAttribute('points', pts.join(' '));
}
