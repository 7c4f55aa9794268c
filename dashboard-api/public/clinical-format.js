import bands from './news2-bands.js';

// How values read on the ward. NEWS2 bands come from the server's scoring chart (news2-bands.js
// is made from core/domain/news2.ts), so what is underlined here is what the scorer counted.

export const NEWS2_BANDS = bands;

/** Minutes without a reading after which a patient's device counts as stale. */
export const STALE_AFTER_MS = 5 * 60 * 1000;

export const LEVEL_LABEL = { low: 'Low', 'low-medium': 'Low-med', medium: 'Medium', high: 'High' };

export const VITALS = [
  { key: 'heartRate', label: 'HR', unit: 'bpm', band: 'heartRate', digits: 0 },
  { key: 'respiratoryRate', label: 'RR', unit: '/min', band: 'respiratoryRate', digits: 0 },
  { key: 'spo2', label: 'SpO₂', unit: '%', band: 'spo2Scale1', digits: 0 },
  { key: 'systolic', label: 'BP', unit: 'mmHg', band: 'systolic', digits: 0 },
  { key: 'temperatureC', label: 'Temp', unit: '°C', band: 'temperatureC', digits: 1 },
];

/** NEWS2 points of one value on a band table ([inclusive upper, points], null = no upper bound). */
export function bandPoints(value, table) {
  if (value === null || value === undefined || !table) return null;
  for (const [upper, points] of table) if (upper === null || value <= upper) return points;
  return table.at(-1)[1];
}

export function formatValue(value, digits = 0) {
  return value === null || value === undefined ? '–' : Number(value).toFixed(digits);
}

export function formatVital(latest, vital) {
  if (!latest) return '–';
  if (vital.key === 'systolic') return latest.systolic === null ? '–' : `${formatValue(latest.systolic)}/${formatValue(latest.diastolic)}`;
  return formatValue(latest[vital.key], vital.digits);
}

export function formatAge(ms) {
  if (!Number.isFinite(ms)) return 'never';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min ago`;
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** NEWS2 parameters as the tiles name them (the API's `missing` names). */
export const PARAMETER_LABEL = {
  respiratoryRate: 'RR', spo2: 'SpO₂', onOxygen: 'air/O₂', systolic: 'BP', heartRate: 'HR', consciousness: 'ACVPU', temperature: 'temperature',
};

/**
 * The NEWS2 badge of a summary: an incomplete score is a lower bound ("NEWS2 ≥ 2 · incomplete")
 * and is never coloured as a reassuring low: a low incomplete score gets the neutral
 * `incomplete` band; a higher one keeps its colour, as the truth is at least that.
 */
export function news2Badge(news2) {
  if (!news2) return { band: 'none', text: 'NEWS2 –' };
  const level = LEVEL_LABEL[news2.level] ?? news2.level;
  if (news2.complete) return { band: news2.level, text: `NEWS2 ${news2.score} · ${level}` };
  return { band: news2.level === 'low' ? 'incomplete' : news2.level, text: `NEWS2 ≥ ${news2.score} · incomplete` };
}

/** "Incomplete: no SpO₂, temperature · set 12 min old", or '' for a complete score. */
export function incompleteText(news2, now) {
  if (!news2 || news2.complete) return '';
  const missing = (news2.missing ?? []).map((p) => PARAMETER_LABEL[p] ?? p);
  const what = missing.length > 0 ? `no ${missing.join(', ')}` : 'completeness not recorded';
  const age = now - Date.parse(news2.observedAt ?? '');
  return `Incomplete: ${what}${Number.isFinite(age) ? ` · set ${formatAge(age).replace(' ago', ' old')}` : ''}`;
}

/** The model's risk when the server shows it; undefined when not scored or silent (VIGIL_RISK_MODE). */
export function shownRisk(risk) {
  return risk && risk.mode !== 'silent' ? risk : undefined;
}

export function formatPercent(p) {
  return p === null || p === undefined ? '–' : `${Math.round(p * 100)}%`;
}

/** Short names of the model's factors, as the tiles name the vitals. */
export const FACTOR_LABEL = {
  heartRate: 'HR', respiratoryRate: 'RR', spo2: 'SpO₂', bloodPressure: 'BP', systolic: 'BP', temperature: 'Temp',
  temperatureC: 'Temp', consciousness: 'ACVPU', oxygen: 'O₂', onOxygen: 'O₂', age: 'Age', news2: 'NEWS2',
};

/** The model's strongest reasons, e.g. "RR 25 ▲, SpO₂ 91 ▲" (▲ raises the risk, ▼ lowers it). */
export function topFactors(risk, count = 3) {
  if (!shownRisk(risk) || !Array.isArray(risk.factors) || risk.factors.length === 0) return '';
  return [...risk.factors]
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, count)
    .map((f) => `${FACTOR_LABEL[f.feature] ?? f.feature}${f.value === null || f.value === undefined ? '' : ` ${Math.round(f.value * 10) / 10}`} ${f.contribution >= 0 ? '▲' : '▼'}`)
    .join(', ');
}

/** Sort key: the model's risk once any patient has one, NEWS2 before that. */
export function riskOrder(useModel) {
  return (a, b) => {
    if (useModel) {
      const d = (b.risk?.score ?? -1) - (a.risk?.score ?? -1);
      if (d !== 0) return d;
    }
    const n = (b.news2?.score ?? -1) - (a.news2?.score ?? -1);
    if (n !== 0) return n;
    return a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0;
  };
}
