/* global ResizeObserver */
import { getJson, putProfile } from './api.js';
import { NEWS2_BANDS, formatPercent, formatTime, formatValue, incompleteText, news2Badge, shownRisk, topFactors } from './clinical-format.js';
import { showModelProvenance } from './model-provenance.js';

export const WINDOWS = { '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000 };
/** Rows of accepted readings the table lists (newest); every rejected one in the window is listed too. */
const TABLE_ROWS = 300;

// Band shading by NEWS2 points, light enough that the line stays readable on top.
const BAND_FILL = { 1: 'rgba(253, 224, 71, 0.40)', 2: 'rgba(249, 115, 22, 0.30)', 3: 'rgba(185, 28, 28, 0.22)' };
/** NEWS2 aggregate: 5–6 medium, 7+ high (the response thresholds of the RCP chart). */
const NEWS2_LEVEL_BANDS = [[4, 0], [6, 2], [null, 3]];

const CHARTS = [
  { id: 'hr', title: 'Heart rate (bpm)', source: 'vitals', bands: NEWS2_BANDS.heartRate, range: [30, 160], series: [{ key: 'heartRate', label: 'HR', stroke: '#1d4ed8' }] },
  { id: 'rr', title: 'Respiratory rate (/min)', source: 'vitals', bands: NEWS2_BANDS.respiratoryRate, range: [4, 36], series: [{ key: 'respiratoryRate', label: 'RR', stroke: '#7c3aed' }] },
  { id: 'spo2', title: 'SpO₂ (%) · scale 1 bands', source: 'vitals', bands: NEWS2_BANDS.spo2Scale1, range: [80, 100], series: [{ key: 'spo2', label: 'SpO₂', stroke: '#0e7490' }] },
  { id: 'bp', title: 'Blood pressure (mmHg) · systolic bands', source: 'vitals', bands: NEWS2_BANDS.systolic, range: [60, 230], series: [{ key: 'systolic', label: 'Systolic', stroke: '#b91c1c' }, { key: 'diastolic', label: 'Diastolic', stroke: '#6b7280' }] },
  { id: 'temp', title: 'Temperature (°C)', source: 'vitals', bands: NEWS2_BANDS.temperatureC, range: [34, 41], series: [{ key: 'temperatureC', label: 'Temp', stroke: '#c2410c' }] },
  { id: 'news2', title: 'NEWS2 score', source: 'risk', bands: NEWS2_LEVEL_BANDS, range: [0, 14], series: [{ key: 'news2Score', label: 'NEWS2', stroke: '#111827', stepped: true }] },
  { id: 'risk', title: 'Model risk (%)', source: 'risk', bands: null, range: [0, 100], series: [{ key: 'riskPercent', label: 'Risk', stroke: '#9333ea' }] },
];

let uplotLoaded;
/** uPlot is loaded on first use: the ward itself does not need it, so its first paint does not wait. */
function loadUPlot() {
  uplotLoaded ??= new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/assets/vendor/uplot/uPlot.min.css';
    const script = document.createElement('script');
    script.src = '/assets/vendor/uplot/uPlot.iife.min.js';
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => reject(new Error('charting library failed to load'));
    document.head.append(css, script);
  });
  return uplotLoaded;
}

function shadeBands(table) {
  return (u) => {
    if (!table) return;
    const { ctx, bbox } = u;
    const [min, max] = [u.scales.y.min, u.scales.y.max];
    let lower = -Infinity;
    ctx.save();
    for (const [upperRaw, points] of table) {
      const upper = upperRaw === null ? Infinity : upperRaw;
      const lo = Math.max(lower, min);
      const hi = Math.min(upper, max);
      lower = upper;
      if (!BAND_FILL[points] || hi <= lo) continue;
      const yTop = u.valToPos(hi, 'y', true);
      const yBottom = u.valToPos(lo, 'y', true);
      ctx.fillStyle = BAND_FILL[points];
      ctx.fillRect(bbox.left, yTop, bbox.width, yBottom - yTop);
    }
    ctx.restore();
  };
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

/**
 * One patient: trend charts of every vital and of the risk over the chosen window, with the
 * NEWS2 bands shaded, and the raw readings including the rejected ones. Live: new summaries from
 * the stream extend the charts and refresh the header.
 */
export async function showPatientView({ section, patientId, windowKey, summary, onBack, onWindow }) {
  const span = WINDOWS[windowKey] ?? WINDOWS['6h'];
  const to = Date.now();
  const from = to - span;
  section.textContent = '';

  const back = el('button', { className: 'back', type: 'button', textContent: '← Ward (Esc)' });
  back.addEventListener('click', onBack);
  const badge = el('span', { className: 'badge news2 band-none' });
  const risk = el('span', { className: 'risk' });
  const choice = el('div', { className: 'window-choice', role: 'group', ariaLabel: 'Time window' });
  for (const key of Object.keys(WINDOWS)) {
    const button = el('button', { type: 'button', textContent: key });
    button.setAttribute('aria-pressed', String(key === windowKey));
    button.addEventListener('click', () => onWindow(key));
    choice.append(button);
  }
  const title = el('h1', { tabIndex: -1, textContent: `Patient ${patientId}` });
  const incomplete = el('p', { className: 'news2-incomplete', hidden: true });
  section.append(el('div', { className: 'patient-head' }, back, title, badge, risk, el('span', { className: 'spacer' }), choice), incomplete, profileControls(patientId));
  const provenance = el('div', { hidden: true });
  section.append(provenance);
  showModelProvenance(provenance);
  const legend = el('p', { className: 'legend-bands' }, 'NEWS2 bands:');
  for (const [points, label] of [[1, '1 point'], [2, '2 points'], [3, '3 points']]) {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = BAND_FILL[points];
    legend.append(swatch, label);
  }
  const status = el('p', { className: 'muted', textContent: 'Loading…', role: 'status' });
  const chartsBox = el('div', { className: 'charts' });
  section.append(legend, status, chartsBox);
  const tableTitle = el('h2', { textContent: 'Readings (rejected ones marked)' });
  const tableBox = el('div', { className: 'table-wrap', tabIndex: 0 });
  section.append(tableTitle, tableBox);
  title.focus();

  const renderHeader = (s) => {
    const news2 = news2Badge(s?.news2);
    badge.className = `badge news2 band-${news2.band}`;
    badge.textContent = news2.text;
    incomplete.textContent = incompleteText(s?.news2, Date.now());
    incomplete.hidden = incomplete.textContent === '';
    const factors = topFactors(s?.risk);
    const shown = shownRisk(s?.risk);
    risk.hidden = s?.risk?.mode === 'silent';
    risk.textContent = typeof shown?.score === 'number' ? `Risk ${formatPercent(shown.score)}${factors ? ` (${factors})` : ''}` : 'Risk model: not scored';
  };
  renderHeader(summary);

  const range = `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to + 60_000).toISOString())}&limit=20000`;
  const base = `/v1/patients/${encodeURIComponent(patientId)}`;
  const [uPlot, vitals, scores, rejected] = await Promise.all([
    loadUPlot(),
    getJson(`${base}/vitals?${range}`),
    getJson(`${base}/risk?${range}`),
    getJson(`${base}/rejected?${range}`),
  ]);
  const truncated = vitals.headers.get('x-vigil-truncated') === 'true' || scores.headers.get('x-vigil-truncated') === 'true';
  status.textContent = `${vitals.body.length} readings, ${rejected.body.length} rejected, ${scores.body.length} scores in the last ${windowKey}.`
    + (truncated ? ' Only the oldest 20,000 are drawn: choose a shorter window for the newest.' : '');
  if (truncated) status.className = 'notice';

  const rows = {
    vitals: vitals.body.map((r) => ({ ...r, t: Date.parse(r.observedAt) })),
    risk: scores.body.map((r) => ({ ...r, t: Date.parse(r.scoredAt), riskPercent: r.riskScore === null ? null : r.riskScore * 100 })),
  };
  // Silent risk mode (VIGIL_RISK_MODE): no risk chart at all, not an empty one.
  const silent = summary?.risk?.mode === 'silent' || scores.body.some((r) => r.riskMode === 'silent');
  const charts = CHARTS.filter((def) => !(silent && def.id === 'risk')).map((def) => {
    const box = el('figure', { className: 'chart' }, el('h2', { textContent: def.title }));
    box.style.margin = '0';
    chartsBox.append(box);
    const data = [rows[def.source].map((r) => r.t / 1000), ...def.series.map((s) => rows[def.source].map((r) => r[s.key] ?? null))];
    const plot = new uPlot({
      width: Math.max(300, box.clientWidth - 16),
      height: 170,
      scales: {
        x: { time: true, range: () => [from / 1000, Math.max(to, Date.now()) / 1000] },
        y: { range: (_u, min, max) => [Math.min(def.range[0], min ?? def.range[0]), Math.max(def.range[1], max ?? def.range[1])] },
      },
      axes: [{ stroke: '#374151' }, { stroke: '#374151', size: 44 }],
      legend: { show: def.series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...def.series.map((s) => ({
        label: s.label, stroke: s.stroke, width: 1.5, spanGaps: true,
        ...(s.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
        points: { show: rows[def.source].length < 120 },
      }))],
      hooks: { drawClear: [shadeBands(def.bands)] },
    }, data, box);
    if (def.id === 'risk' && !rows.risk.some((r) => r.riskPercent !== null)) {
      box.append(el('p', { className: 'muted', textContent: 'No model risk in this window: the patient is scored with NEWS2 only.' }));
    }
    return { def, plot, data, box };
  });

  tableBox.append(readingsTable(vitals.body, rejected.body));

  const resize = new ResizeObserver(() => {
    for (const c of charts) c.plot.setSize({ width: Math.max(300, c.box.clientWidth - 16), height: 170 });
  });
  resize.observe(chartsBox);

  return {
    update(s) {
      renderHeader(s);
      if (!s.latest) return;
      const t = Date.parse(s.latest.observedAt) / 1000;
      for (const c of charts) {
        const x = c.def.source === 'vitals' ? t : Date.parse(s.news2?.observedAt ?? shownRisk(s.risk)?.scoredAt ?? '') / 1000;
        if (!Number.isFinite(x) || x <= (c.data[0].at(-1) ?? -Infinity)) continue;
        const value = (key) => (key === 'news2Score' ? s.news2?.score : key === 'riskPercent' ? (shownRisk(s.risk)?.score ?? null) * 100 : s.latest[key]) ?? null;
        c.data[0].push(x);
        c.def.series.forEach((series, i) => c.data[i + 1].push(value(series.key)));
        c.plot.setData(c.data);
      }
    },
    destroy() {
      resize.disconnect();
      for (const c of charts) c.plot.destroy();
    },
  };
}

/**
 * The clinician's NEWS2 settings for this patient: SpO₂ scale 2 (prescribed target 88–92 %) and
 * baseline confusion (chronic: only new confusion scores 3). Each change is saved at once and
 * applies from the next scoring.
 */
function profileControls(patientId) {
  const scale = el('select', { id: 'profile-spo2-scale', disabled: true },
    el('option', { value: '1', textContent: 'Scale 1' }), el('option', { value: '2', textContent: 'Scale 2 (target 88–92 %)' }));
  const confusion = el('input', { type: 'checkbox', id: 'profile-baseline-confusion', disabled: true });
  const state = el('span', { className: 'muted', role: 'status' });
  const box = el('p', { className: 'profile' },
    el('label', { htmlFor: scale.id, textContent: 'SpO₂ ' }), scale, ' ',
    confusion, el('label', { htmlFor: confusion.id, textContent: ' Confusion is this patient’s baseline' }), ' ', state);
  const show = (profile) => {
    scale.value = String(profile.spo2Scale);
    confusion.checked = profile.baselineConfusion === true;
    state.textContent = profile.updatedBy ? `set by ${profile.updatedBy} at ${formatTime(profile.updatedAt)}` : '';
    scale.disabled = false;
    confusion.disabled = false;
  };
  const save = async (changes) => {
    scale.disabled = true;
    confusion.disabled = true;
    state.textContent = 'Saving…';
    try {
      show(await putProfile(patientId, changes));
    } catch (error) {
      state.textContent = `Not saved: ${error.message}`;
      scale.disabled = false;
      confusion.disabled = false;
    }
  };
  scale.addEventListener('change', () => save({ spo2Scale: Number(scale.value) }));
  confusion.addEventListener('change', () => save({ baselineConfusion: confusion.checked }));
  getJson(`/v1/patients/${encodeURIComponent(patientId)}/profile`).then(({ body }) => show(body), (error) => {
    state.textContent = `Profile not loaded: ${error.message}`;
  });
  return box;
}

function readingsTable(accepted, rejected) {
  const rows = [
    ...accepted.slice(-TABLE_ROWS).map((r) => ({
      t: Date.parse(r.observedAt), time: r.observedAt, device: r.deviceId, hr: formatValue(r.heartRate), rr: formatValue(r.respiratoryRate),
      spo2: formatValue(r.spo2), bp: r.systolic === null ? '–' : `${formatValue(r.systolic)}/${formatValue(r.diastolic)}`,
      temp: formatValue(r.temperatureC, 1), o2: r.onOxygen === null ? '–' : r.onOxygen ? 'O₂' : 'air', acvpu: r.consciousness ?? '–', reason: null,
    })),
    ...rejected.map((d) => {
      const r = d.reading ?? {};
      const time = r.observedAt ?? d.receivedAt;
      const raw = (v) => (v === null || v === undefined ? '–' : String(v));
      return {
        t: Date.parse(time), time, device: raw(r.deviceId), hr: raw(r.heartRate), rr: raw(r.respiratoryRate), spo2: raw(r.spo2),
        bp: raw(r.bloodPressure), temp: r.temperature == null ? '–' : `${r.temperature}${r.temperatureUnit === 'F' ? ' °F' : ''}`,
        o2: r.onOxygen == null ? '–' : r.onOxygen ? 'O₂' : 'air', acvpu: raw(r.consciousness), reason: `Rejected: ${d.reason}`,
      };
    }),
  ].sort((a, b) => b.t - a.t);
  const table = el('table', { className: 'readings' });
  const head = el('tr');
  for (const name of ['Time', 'HR', 'RR', 'SpO₂', 'BP', 'Temp °C', 'O₂', 'ACVPU', 'Device', 'Status']) {
    head.append(el('th', { scope: 'col', textContent: name, className: name === 'Status' ? 'reason' : '' }));
  }
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr', { className: r.reason ? 'rejected' : '' });
    tr.append(
      el('td', { textContent: `${new Date(r.t).toLocaleDateString([], { month: 'short', day: 'numeric' })} ${formatTime(r.time)}` }),
      ...[r.hr, r.rr, r.spo2, r.bp, r.temp, r.o2, r.acvpu, r.device].map((v) => el('td', { textContent: v })),
      el('td', { className: 'reason', textContent: r.reason ?? 'accepted' }),
    );
    body.append(tr);
  }
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colSpan: 10, textContent: 'No readings in this window.' })));
  table.append(body);
  return table;
}
