/* global setInterval */
import { acknowledgeAlert, getJson, signOut } from './api.js';
import { formatPercent, formatTime } from './clinical-format.js';
import { connectLive } from './live-stream.js';
import { showModelProvenance } from './model-provenance.js';
import { WINDOWS, showPatientView } from './patient-view.js';
import { SPARK_HOURS, createWardView } from './ward-view.js';

// The ward page: `#/` is the ward, `#/patient/<id>?w=6h` one patient. Everything live arrives
// over one EventSource; nothing polls the server.

const $ = (id) => document.getElementById(id);
const wardSection = $('ward');
const patientSection = $('patient');
const alertsBox = $('alerts');
const alerts = new Map();
let patientView;
let lastOpened;

const ward = createWardView({ container: $('tiles'), empty: $('ward-empty'), count: $('ward-count'), onOpen: (id) => openPatient(id) });

function openPatient(patientId, windowKey = '6h') {
  location.hash = `#/patient/${encodeURIComponent(patientId)}?w=${windowKey}`;
}

function route() {
  const match = /^#\/patient\/([^?]+)(?:\?w=(\w+))?$/.exec(location.hash);
  patientView?.then((view) => view?.destroy());
  patientView = undefined;
  if (!match) {
    patientSection.hidden = true;
    patientSection.textContent = '';
    wardSection.hidden = false;
    document.title = 'Vigil · Ward';
    if (lastOpened) ward.focusPatient(lastOpened);
    return;
  }
  const patientId = decodeURIComponent(match[1]);
  const windowKey = WINDOWS[match[2]] ? match[2] : '6h';
  lastOpened = patientId;
  wardSection.hidden = true;
  patientSection.hidden = false;
  document.title = `Vigil · ${patientId}`;
  patientView = showPatientView({
    section: patientSection, patientId, windowKey, summary: ward.summaryOf(patientId),
    onBack: () => { location.hash = '#/'; },
    onWindow: (key) => openPatient(patientId, key),
  }).catch((error) => {
    patientSection.append(Object.assign(document.createElement('p'), { className: 'notice', textContent: `Could not load the patient: ${error.message}` }));
    return undefined;
  });
}

/** Most urgent first; an alert only for incomplete observations is the least urgent. */
const REASON_TEXT = {
  news2: (a) => `NEWS2 ${a.peakNews2}`,
  'news2-red-parameter': () => 'single parameter 3',
  risk: (a) => `risk ${formatPercent(a.peakRisk)}`,
  'observations-incomplete': () => 'observations incomplete',
};
const onlyIncomplete = (alert) => alert.reasons.every((r) => r === 'observations-incomplete');

function renderAlerts() {
  const visible = [...alerts.values()].filter((a) => a.visible)
    .sort((a, b) => Number(onlyIncomplete(a)) - Number(onlyIncomplete(b)) || (a.openedAt < b.openedAt ? 1 : -1));
  alertsBox.hidden = visible.length === 0;
  alertsBox.textContent = '';
  for (const alert of visible) {
    const item = document.createElement('div');
    item.className = `alert ${alert.status}${alert.acknowledgedAt ? ' acknowledged' : ''}${onlyIncomplete(alert) ? ' incomplete' : ''}`;
    item.dataset.alertId = alert.id;
    const link = Object.assign(document.createElement('a'), { href: `#/patient/${encodeURIComponent(alert.patientId)}?w=6h`, textContent: alert.patientId });
    const what = alert.reasons.map((r) => (REASON_TEXT[r] ?? (() => r))(alert)).join(', ');
    const state = alert.status === 'open'
      ? `open since ${formatTime(alert.openedAt)}${alert.belowSince ? ', settling' : ''}`
      : `closed ${formatTime(alert.closedAt)}, not acknowledged`;
    const text = document.createElement('span');
    text.textContent = `${what} · ${state}${alert.acknowledgedAt ? ` · acknowledged by ${alert.acknowledgedBy} at ${formatTime(alert.acknowledgedAt)}` : ''}`;
    item.append(link, text);
    if (!alert.acknowledgedAt) {
      const ack = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Acknowledge' });
      ack.setAttribute('aria-label', `Acknowledge alert for ${alert.patientId}`);
      ack.addEventListener('click', async () => {
        ack.disabled = true;
        try {
          onAlert(await acknowledgeAlert(alert.id));
        } catch {
          ack.disabled = false;
        }
      });
      item.append(ack);
    }
    alertsBox.append(item);
  }
  const byPatient = new Map(visible.map((a) => [a.patientId, a]));
  ward.setAlerts(byPatient);
}

function onAlert(alert) {
  const known = alerts.get(alert.id);
  // Events can cross an acknowledgement's answer: an acknowledged alert never becomes unacknowledged.
  if (known?.acknowledgedAt && !alert.acknowledgedAt) return;
  alerts.set(alert.id, alert);
  renderAlerts();
}

function setConnection(state) {
  const box = $('connection');
  box.className = `connection ${state}`;
  box.querySelector('.label').textContent = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline, retrying' }[state];
}

let trendsRequested = false;
connectLive({
  onStatus(state, info) {
    setConnection(state);
    // Sparkline history after the first snapshot, so the two do not compete for the first paint.
    if (state === 'live' && !trendsRequested) {
      trendsRequested = true;
      getJson(`/v1/ward/trends?hours=${SPARK_HOURS}`).then(({ body }) => ward.setTrends(body), () => {});
    }
    // A fresh snapshot follows; alerts that disappeared meanwhile must not linger.
    if (info?.fresh) alerts.clear();
  },
  onPatient(summary) {
    ward.upsert(summary);
    if (patientView && summary.patientId === lastOpened && !patientSection.hidden) patientView.then((view) => view?.update(summary));
  },
  onPatientLeft(patientId) {
    ward.remove(patientId);
  },
  onAlert,
});

setInterval(() => ward.tick(), 5_000);
showModelProvenance($('model-provenance'));

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !patientSection.hidden) {
    event.preventDefault();
    location.hash = '#/';
  }
});
$('signout').addEventListener('submit', (event) => {
  event.preventDefault();
  signOut();
});
window.addEventListener('hashchange', route);
route();
