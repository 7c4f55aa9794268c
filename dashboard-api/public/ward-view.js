/* global requestAnimationFrame, getComputedStyle, HTMLElement, performance */
import {
  LEVEL_LABEL, NEWS2_BANDS, STALE_AFTER_MS, VITALS, bandPoints, formatAge, formatPercent, formatVital, incompleteText, news2Badge, riskOrder,
  shownRisk, topFactors,
} from './clinical-format.js';
import { appendPoint, createSparkline, drawSparkline } from './sparkline.js';

/** Hours of history the sparklines show. */
export const SPARK_HOURS = 4;

/**
 * The ward: one tile per patient, highest risk first. Tiles are built once and then only their
 * changed text is touched; re-sorting is batched into one animation frame and moves tiles only
 * when the order really changed, keeping keyboard focus where it was.
 */
export function createWardView({ container, empty, count, onOpen }) {
  const tiles = new Map();
  let alertsByPatient = new Map();
  let order = [];
  let frame = 0;
  const dirty = new Set();
  // Trends can arrive before the stream has announced a patient.
  const pendingTrends = new Map();
  let trendBucketMs = 0;

  const applyTrend = (tile, trend, bucketMs) => {
    for (const vital of VITALS) {
      const live = tile.cells[vital.key].series;
      const t = [];
      const v = [];
      trend.t.forEach((time, i) => {
        // Only whole buckets before the live points; a bucket mean stands at its middle.
        if (trend[vital.key][i] !== null && (live.t.length === 0 || time + bucketMs <= live.t[0])) {
          t.push(time + bucketMs / 2);
          v.push(trend[vital.key][i]);
        }
      });
      live.t.unshift(...t);
      live.v.unshift(...v);
    }
    drawSparks(tile);
  };

  const build = (patientId) => {
    const el = document.createElement('article');
    el.className = 'tile band-none';
    el.tabIndex = 0;
    el.setAttribute('role', 'listitem');
    el.dataset.patientId = patientId;
    const head = document.createElement('div');
    head.className = 'tile-head';
    const name = document.createElement('h2');
    name.textContent = patientId;
    const bed = chip('badge bed-chip', '');
    bed.hidden = true;
    const alertChip = chip('badge alert-chip', 'ALERT');
    const staleChip = chip('badge stale-chip', 'STALE');
    const news2 = chip('badge news2 band-none', 'NEWS2 –');
    head.append(name, bed, alertChip, staleChip, news2);
    const meta = document.createElement('p');
    meta.className = 'meta';
    const risk = document.createElement('span');
    risk.className = 'risk';
    const fresh = document.createElement('span');
    fresh.className = 'fresh';
    meta.append(risk, fresh);
    const incomplete = document.createElement('p');
    incomplete.className = 'news2-incomplete';
    incomplete.hidden = true;
    const vitals = document.createElement('dl');
    vitals.className = 'vitals';
    const cells = {};
    for (const vital of VITALS) {
      const box = document.createElement('div');
      box.className = 'vital';
      const dt = document.createElement('dt');
      dt.textContent = vital.label;
      const dd = document.createElement('dd');
      dd.textContent = '–';
      const spark = createSparkline();
      box.append(dt, dd, spark.svg);
      vitals.append(box);
      cells[vital.key] = { dd, spark, series: { t: [], v: [] } };
    }
    const other = document.createElement('div');
    other.className = 'vital';
    const otherDt = document.createElement('dt');
    otherDt.textContent = 'ACVPU · O₂';
    const otherDd = document.createElement('dd');
    other.append(otherDt, otherDd);
    vitals.append(other);
    const factors = document.createElement('p');
    factors.className = 'factors';
    el.append(head, incomplete, meta, vitals, factors);
    el.addEventListener('click', () => onOpen(patientId));
    const tile = { el, bed, alertChip, staleChip, news2, incomplete, risk, factors, fresh, cells, otherDd, summary: null, observedMs: NaN };
    tiles.set(patientId, tile);
    const trend = pendingTrends.get(patientId);
    if (trend) {
      pendingTrends.delete(patientId);
      applyTrend(tile, trend, trendBucketMs);
    }
    return tile;
  };

  const renderTile = (tile) => {
    if (!tile) return; // left the ward before the frame was drawn
    const s = tile.summary;
    // The bed from ADT (PV1-3); absent for patients no ADT feed has placed.
    tile.bed.textContent = s.bed ? `Bed ${s.bed}` : '';
    tile.bed.hidden = !s.bed;
    const badge = news2Badge(s.news2);
    tile.el.classList.remove('band-none', 'band-low', 'band-low-medium', 'band-medium', 'band-high', 'band-incomplete');
    tile.el.classList.add(`band-${badge.band}`);
    tile.news2.className = `badge news2 band-${badge.band}`;
    tile.news2.textContent = badge.text;
    const risk = shownRisk(s.risk);
    const model = risk?.score ?? null;
    tile.risk.textContent = '';
    // Silent mode: the model is scored for validation only; the ward shows nothing of it.
    tile.risk.hidden = s.risk?.mode === 'silent';
    if (model !== null) {
      const strong = document.createElement('strong');
      strong.textContent = `Risk ${formatPercent(model)}`;
      tile.risk.append(strong, ` · ${s.risk.model ?? 'model'}`);
    } else {
      tile.risk.textContent = 'Model risk –';
    }
    const latest = s.latest;
    tile.observedMs = latest ? Date.parse(latest.observedAt) : NaN;
    for (const vital of VITALS) {
      const cell = tile.cells[vital.key];
      cell.dd.textContent = formatVital(latest, vital);
      const points = latest ? bandPoints(latest[vital.key], NEWS2_BANDS[vital.band]) : null;
      cell.dd.className = points ? `scored-${points}` : '';
      if (latest) appendPoint(cell.series, tile.observedMs, latest[vital.key], Date.now() - SPARK_HOURS * 3_600_000);
    }
    tile.otherDd.textContent = latest ? `${latest.consciousness ?? '–'} · ${latest.onOxygen === null ? '–' : latest.onOxygen ? 'O₂' : 'air'}` : '–';
    tile.otherDd.className = latest && latest.consciousness && latest.consciousness !== 'A' ? 'scored-3' : '';
    drawSparks(tile);
    renderFreshness(tile, Date.now());
    renderAlert(tile);
    tile.el.setAttribute('aria-label', describe(tile));
  };

  const drawSparks = (tile) => {
    const now = Date.now();
    for (const vital of VITALS) drawSparkline(tile.cells[vital.key].spark, tile.cells[vital.key].series, now - SPARK_HOURS * 3_600_000, now);
  };

  const renderFreshness = (tile, now) => {
    const incomplete = incompleteText(tile.summary?.news2, now);
    tile.incomplete.textContent = incomplete;
    tile.incomplete.hidden = incomplete === '';
    const age = now - tile.observedMs;
    const stale = !(age <= STALE_AFTER_MS);
    tile.el.classList.toggle('stale', stale);
    tile.staleChip.hidden = !stale;
    tile.fresh.textContent = Number.isFinite(age) ? `${stale ? 'No reading for ' + formatAge(age).replace(' ago', '') : formatAge(age)}` : 'No reading yet';
  };

  const renderAlert = (tile) => {
    const alert = alertsByPatient.get(tile.el.dataset.patientId);
    // An alert only for an incomplete set is less urgent than a score or risk alert: its own style and word.
    const onlyIncomplete = alert !== undefined && alert.reasons.every((r) => r === 'observations-incomplete');
    tile.el.classList.toggle('alerting', alert !== undefined && !onlyIncomplete);
    tile.el.classList.toggle('alerting-incomplete', onlyIncomplete);
    tile.alertChip.hidden = alert === undefined;
    tile.alertChip.className = `badge alert-chip${onlyIncomplete ? ' incomplete' : ''}`;
    tile.alertChip.textContent = onlyIncomplete ? 'OBS INCOMPLETE' : 'ALERT';
    // Factors name only vitals outside their normal band; a risk alert without one came from the
    // vitals' course over the last hours, and the tile says so rather than showing no reason.
    const factors = topFactors(tile.summary?.risk);
    const trendOnly = factors === '' && alert !== undefined && alert.reasons.includes('risk');
    tile.factors.textContent = trendOnly ? 'Risk from the trend of the last hours: no vital outside its normal range' : factors;
    tile.factors.hidden = tile.factors.textContent === '';
  };

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(flush);
  };

  const flush = () => {
    frame = 0;
    for (const patientId of dirty) renderTile(tiles.get(patientId));
    dirty.clear();
    const summaries = [...tiles.values()].map((t) => t.summary);
    const useModel = summaries.some((s) => typeof shownRisk(s.risk)?.score === 'number');
    const next = summaries.sort(riskOrder(useModel)).map((s) => s.patientId);
    if (next.length !== order.length || next.some((id, i) => id !== order[i])) {
      const focused = document.activeElement;
      const fragment = document.createDocumentFragment();
      for (const id of next) fragment.append(tiles.get(id).el);
      container.append(fragment);
      if (focused instanceof HTMLElement && container.contains(focused) && document.activeElement !== focused) focused.focus({ preventScroll: true });
      order = next;
    }
    // For the first-paint figure of the browser test (performance timeline, no globals).
    if (tiles.size > 0 && performance.getEntriesByName('vigil:first-tiles').length === 0) performance.mark('vigil:first-tiles');
    empty.hidden = tiles.size > 0;
    count.textContent = `${tiles.size} patients`;
  };

  container.addEventListener('keydown', (event) => {
    const tile = event.target.closest?.('.tile');
    if (!tile) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(tile.dataset.patientId);
      return;
    }
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() };
    if (moves[event.key] === undefined) return;
    event.preventDefault();
    const index = order.indexOf(tile.dataset.patientId) + moves[event.key];
    const target = tiles.get(order[Math.max(0, Math.min(order.length - 1, index))]);
    target?.el.focus();
  });

  const columns = () => getComputedStyle(container).gridTemplateColumns.split(' ').length || 1;

  return {
    upsert(summary) {
      const tile = tiles.get(summary.patientId) ?? build(summary.patientId);
      tile.summary = summary;
      dirty.add(summary.patientId);
      schedule();
    },
    /** A patient left the ward (ADT discharge): their tile goes. */
    remove(patientId) {
      const tile = tiles.get(patientId);
      if (!tile) return;
      tiles.delete(patientId);
      tile.el.remove();
      dirty.delete(patientId);
      schedule();
    },
    setAlerts(byPatient) {
      alertsByPatient = byPatient;
      for (const tile of tiles.values()) renderAlert(tile);
    },
    /** History from /v1/ward/trends: fills the sparklines behind the live points. */
    setTrends(trends) {
      trendBucketMs = trends.bucketMs;
      for (const trend of trends.patients) {
        const tile = tiles.get(trend.patientId);
        if (tile) applyTrend(tile, trend, trends.bucketMs);
        else pendingTrends.set(trend.patientId, trend);
      }
    },
    /** Ages and staleness move with the clock, not with events. */
    tick() {
      const now = Date.now();
      for (const tile of tiles.values()) if (tile.summary) renderFreshness(tile, now);
    },
    focusPatient(patientId) {
      tiles.get(patientId)?.el.focus();
    },
    summaryOf: (patientId) => tiles.get(patientId)?.summary,
  };
}

function chip(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  if (className.includes('alert') || className.includes('stale')) el.hidden = true;
  return el;
}

function describe(tile) {
  const s = tile.summary;
  const parts = [`Patient ${s.patientId}`];
  if (s.bed) parts.push(`bed ${s.bed}`);
  if (s.news2?.complete) parts.push(`NEWS2 ${s.news2.score}, ${LEVEL_LABEL[s.news2.level]} risk`);
  else if (s.news2) parts.push(`NEWS2 at least ${s.news2.score}, observations incomplete`);
  if (typeof shownRisk(s.risk)?.score === 'number') parts.push(`model risk ${formatPercent(s.risk.score)}`);
  if (!tile.staleChip.hidden) parts.push('stale device');
  if (!tile.alertChip.hidden) parts.push(tile.alertChip.textContent === 'ALERT' ? 'alert' : 'alert: observations incomplete');
  return parts.join(', ');
}
