import { getJson } from './api.js';

// What the risk score is, beside the risk figures (GET /v1/model): target, horizon, trained on
// simulated data, and whether this site validated it. Its own module so the ward and patient
// views each add one line. Fetched once per page.

let pending;

export function loadModelProvenance() {
  pending ??= getJson('/v1/model').then(({ body }) => body, () => null);
  return pending;
}

/** A note element; when the provenance cannot be read it says so rather than staying silent. */
export function provenanceNote(provenance) {
  const note = document.createElement('p');
  note.setAttribute('role', 'note');
  note.className = `provenance ${provenance?.validatedLocally ? 'validated' : 'not-validated'}`;
  note.textContent = provenance?.summary
    ?? 'What the risk score is could not be loaded: treat it as trained on simulated data and not validated at this site.';
  return note;
}

/** Fills `container` (shown once filled) with the note. */
export async function showModelProvenance(container) {
  container.replaceChildren(provenanceNote(await loadModelProvenance()));
  container.hidden = false;
}
