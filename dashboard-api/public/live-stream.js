/* global setTimeout, clearTimeout */
import { sessionAlive } from './api.js';

const MAX_RETRY_MS = 30_000;

/**
 * The live connection: EventSource on /v1/stream (the session cookie goes with it). The browser
 * reconnects by itself after a network drop; when the server refused the stream (the readyState
 * goes to CLOSED, e.g. the session expired), this checks the session and either signs out or
 * tries again with a growing delay. Every (re)connection starts with a fresh snapshot, announced
 * by `onStatus('live', { fresh: true })`.
 */
export function connectLive({ onPatient, onPatientLeft, onAlert, onStatus }) {
  let source;
  let retryMs = 1000;
  let timer;

  const open = () => {
    onStatus(source ? 'reconnecting' : 'connecting');
    source = new EventSource('/v1/stream');
    source.addEventListener('open', () => {
      retryMs = 1000;
      onStatus('live', { fresh: true });
    });
    source.addEventListener('patient', (event) => onPatient(JSON.parse(event.data)));
    source.addEventListener('alert', (event) => onAlert(JSON.parse(event.data)));
    // Discharged (ADT): the tile goes; the patient's history stays readable by id.
    source.addEventListener('patient-left', (event) => onPatientLeft?.(JSON.parse(event.data).patientId));
    // The server ends the stream when the session expires or is signed out: sign in again.
    source.addEventListener('session-expired', () => {
      source.close();
      onStatus('offline');
      location.assign('/signin');
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CONNECTING) {
        onStatus('reconnecting');
        return;
      }
      source.close();
      onStatus('offline');
      sessionAlive().then((alive) => {
        if (!alive) location.assign('/signin');
        else retryLater();
      }, retryLater);
    });
  };
  const retryLater = () => {
    clearTimeout(timer);
    timer = setTimeout(open, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };

  open();
  return { close: () => { clearTimeout(timer); source?.close(); } };
}
