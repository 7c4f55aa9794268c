/* global setTimeout */
// Same-origin calls of the ward page. Reads carry the session cookie; the few writes
// (acknowledging an alert) carry a short-lived bearer token the page asks for first, because the
// cookie alone may only read (see dashboard-api/alerts/alert-routes.ts).

export class SignedOutError extends Error {}

function toSignIn() {
  // Let the current code path finish: the redirect replaces the page anyway.
  setTimeout(() => location.assign('/signin'), 0);
  return new SignedOutError('session ended');
}

export async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) throw toSignIn();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { body: await res.json(), headers: res.headers };
}

let pageToken;

async function bearer() {
  if (!pageToken || Date.parse(pageToken.expiresAt) - Date.now() < 60_000) {
    pageToken = (await getJson('/v1/session/token')).body;
  }
  return `Bearer ${pageToken.token}`;
}

export async function acknowledgeAlert(id) {
  const res = await fetch(`/v1/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { authorization: await bearer() } });
  if (res.status === 401) throw toSignIn();
  if (!res.ok) throw new Error(`acknowledge: HTTP ${res.status}`);
  return res.json();
}

/** Changes how NEWS2 scores a patient: `{spo2Scale: 1|2}` and/or `{baselineConfusion: bool}`. */
export async function putProfile(patientId, changes) {
  const res = await fetch(`/v1/patients/${encodeURIComponent(patientId)}/profile`, {
    method: 'PUT', headers: { authorization: await bearer(), 'content-type': 'application/json' }, body: JSON.stringify(changes),
  });
  if (res.status === 401) throw toSignIn();
  if (!res.ok) throw new Error(`profile: HTTP ${res.status}`);
  return res.json();
}

/** True while the session cookie is still accepted. */
export async function sessionAlive() {
  const res = await fetch('/v1/session/token', { credentials: 'same-origin' });
  return res.status !== 401;
}

export async function signOut() {
  await fetch('/logout', { method: 'POST' });
  location.assign('/signin');
}
