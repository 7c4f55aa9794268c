import { randomUUID } from 'node:crypto';
import type { Alert } from '../../core/domain/alert.ts';
import { isVisible, mergeAlertUpdate } from '../../core/domain/alert.ts';
import { VigilError } from '../../core/errors.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { BigtableRow, BigtableTableOptions } from './bigtable-table.ts';
import { openBigtableTable } from './bigtable-table.ts';
import { backendError } from './google-errors.ts';

/**
 * The shared alert store on Bigtable (core/ports/alert-store.ts), for several Vigil instances.
 * Every rule that must hold across instances is one conditional mutation (CheckAndMutateRow) on
 * one row, the only atomic read-decide-write Bigtable offers:
 *
 * - `open#<patientId>`, column `episode`: the id of the patient's open alert. Opening writes it
 *   only if the row has no such cell, so one episode opens per patient; closing deletes it only
 *   if it still names the closed alert.
 * - `alert#<alertId>`: column `state` (JSON: everything but the acknowledgement), `rev` (a fresh
 *   token with every state write), `ack` (JSON `{at, by}`). A state update is written only if
 *   `rev` still holds the token it read (optimistic concurrency; a lost race re-reads and merges
 *   again), and never touches `ack`; an acknowledgement is written only if the row has no `ack`,
 *   so the first one stands.
 *
 * - `visible#<alertId>`, column `shown`: an index of the alerts the ward shows, written before the
 *   alert row and trimmed by `list` (visibility only ever ends), so each instance's refresh reads
 *   the visible alerts, not the whole history.
 *
 * Cost: an engine's decision reads `open#` and `alert#` (two point reads); a change writes one or
 * two conditional mutations; a refresh scans `visible#` and reads those alert rows. `list` of
 * everything (`include=all`) scans every `alert#` row (the history).
 */
export type BigtableAlertStoreOptions = BigtableTableOptions;

const FAMILY = 'a';
const EPISODE = 'episode';
const STATE = 'state';
const REV = 'rev';
const ACK = 'ack';
const SHOWN = 'shown';
const ALERT_PREFIX = 'alert#';
const OPEN_PREFIX = 'open#';
const VISIBLE_PREFIX = 'visible#';
// An index entry without its alert row this old is left by an instance that died between the two
// writes (a live writer writes the row milliseconds later): it is dropped.
const ORPHAN_AFTER_MS = 60_000;
// Losing the rev race this often in a row (each retry after a growing random pause, so racing
// writers spread out) means something is writing in a loop: give up loudly.
const MAX_ATTEMPTS = 25;
const backoff = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));

const alertKey = (id: string): string => `${ALERT_PREFIX}${id}`;
const openKey = (patientId: string): string => `${OPEN_PREFIX}${patientId}`;
const visibleKey = (id: string): string => `${VISIBLE_PREFIX}${id}`;

type Cells = BigtableRow['data'];
type StoredState = Omit<Alert, 'acknowledgedAt' | 'acknowledgedBy'>;

/** A filter that passes the newest cell of one column (qualifiers anchored: the filter is a regex). */
const columnFilter = (column: string) => [{ column: { name: `^${column}$`, cellLimit: 1 } }];
/** ... and only when its value is exactly `value`. */
const columnEquals = (column: string, value: string) => [
  ...columnFilter(column),
  { value: { start: { value, inclusive: true }, end: { value, inclusive: true } } },
];

export function createBigtableAlertStore(options: BigtableAlertStoreOptions): AlertStore {
  const bigtable = openBigtableTable(options, 'alert-store-bigtable', 'the alert store');
  const { table, assertOpen: open } = bigtable;
  const families = { [FAMILY]: { versions: 1 } };

  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    open();
    try {
      return await run();
    } catch (error) {
      throw backendError(error, `Bigtable ${what} (alert store)`);
    }
  };

  const readRows = async (query: { keys?: string[]; prefix?: string }): Promise<BigtableRow[]> => {
    if (query.keys && query.keys.length === 0) return [];
    const [rows] = await table.getRows({ ...query, filter: [{ column: { cellLimit: 1 } }] });
    return rows as unknown as BigtableRow[];
  };
  const cell = (data: Cells | undefined, column: string): string | undefined => {
    const value = data?.[FAMILY]?.[column]?.[0]?.value;
    return value === undefined ? undefined : value.toString();
  };
  const alertOf = (data: Cells): { alert: Alert; rev: string } | undefined => {
    const state = cell(data, STATE);
    if (state === undefined) return undefined;
    const ack = cell(data, ACK);
    const { at, by } = ack === undefined ? { at: null, by: null } : JSON.parse(ack) as { at: number; by: string };
    return { alert: { ...(JSON.parse(state) as StoredState), acknowledgedAt: at, acknowledgedBy: by }, rev: cell(data, REV) ?? '' };
  };
  /** How long ago the row's newest cell was written (cell timestamps are microseconds). */
  const writtenMsAgo = (data: Cells): number => {
    const timestamp = data[FAMILY]?.[SHOWN]?.[0]?.timestamp;
    return timestamp === undefined ? 0 : Date.now() - Number(timestamp) / 1000;
  };
  const readAlert = async (id: string): Promise<{ alert: Alert; rev: string } | undefined> => {
    const [row] = await readRows({ keys: [alertKey(id)] });
    return row ? alertOf(row.data) : undefined;
  };
  const episodeOf = async (patientId: string): Promise<string | undefined> => {
    const [row] = await readRows({ keys: [openKey(patientId)] });
    return cell(row?.data, EPISODE);
  };

  const stateCells = (alert: Alert) => {
    const { acknowledgedAt: _at, acknowledgedBy: _by, ...state } = alert;
    return { [STATE]: JSON.stringify(state), [REV]: randomUUID() };
  };
  /**
   * Writes the alert's row unless it exists; the stored alert either way. Its `visible#` index
   * entry is written first, so every alert row has one: an alert is visible from its creation
   * until it is acknowledged and closed, and never again after, so the index only has to be a
   * superset, trimmed as it is read.
   */
  const createIfAbsent = async (alert: Alert): Promise<Alert> => {
    await table.insert([{ key: visibleKey(alert.id), data: { [FAMILY]: { [SHOWN]: '1' } } }]);
    await table.row(alertKey(alert.id)).filter(columnFilter(STATE), {
      onNoMatch: [{ method: 'insert', data: { [FAMILY]: stateCells(alert) } }],
    });
    const stored = await readAlert(alert.id);
    if (!stored) throw new VigilError('BACKEND_UNAVAILABLE', 'Bigtable alert row not readable after its conditional write');
    return stored.alert;
  };
  /** Deletes `open#<patient>` only if it still names `id` (a newer episode's marker stays). */
  const releaseEpisode = async (patientId: string, id: string): Promise<void> => {
    await table.row(openKey(patientId)).filter(columnEquals(EPISODE, id), { onMatch: [{ method: 'delete' }] });
  };

  return {
    kind: 'bigtable',
    provision: () => bigtable.provision(families),
    openOnce(candidate) {
      return attempt('open of an alert episode', async () => {
        for (let i = 0; i < MAX_ATTEMPTS; i++) {
          const [claimed] = await table.row(openKey(candidate.patientId)).filter(columnFilter(EPISODE), {
            onNoMatch: [{ method: 'insert', data: { [FAMILY]: { [EPISODE]: candidate.id } } }],
          }) as unknown as [boolean];
          if (!claimed) return { opened: true, alert: await createIfAbsent(candidate) };
          const id = await episodeOf(candidate.patientId);
          // Released between our claim and this read: claim again.
          if (id === undefined) continue;
          // The winner may not have written its row yet (or died before it): the row is written
          // for it, conditionally, so the episode exists either way.
          const alert = (await readAlert(id))?.alert ?? await createIfAbsent({ ...candidate, id });
          if (alert.status === 'open') return { opened: false, alert };
          // A marker left by a closer that stopped before releasing it.
          await releaseEpisode(candidate.patientId, id);
        }
        throw new VigilError('BACKEND_UNAVAILABLE', 'alert episode could not be opened: the patient\'s episode kept changing');
      });
    },
    openFor(patientId) {
      return attempt('read of an open alert', async () => {
        const id = await episodeOf(patientId);
        if (id === undefined) return undefined;
        const alert = (await readAlert(id))?.alert;
        return alert?.status === 'open' ? alert : undefined;
      });
    },
    update(next) {
      return attempt('update of an alert', async () => {
        for (let i = 0; i < MAX_ATTEMPTS; i++) {
          const stored = await readAlert(next.id);
          if (!stored || stored.alert.status !== 'open') return undefined;
          const merged = mergeAlertUpdate(stored.alert, next);
          const [written] = await table.row(alertKey(next.id)).filter(columnEquals(REV, stored.rev), {
            // Delete then set: the row keeps one cell per column, whatever the clock says.
            onMatch: [
              { method: 'delete', data: [`${FAMILY}:${STATE}`, `${FAMILY}:${REV}`] },
              { method: 'insert', data: { [FAMILY]: stateCells(merged) } },
            ],
          }) as unknown as [boolean];
          if (!written) {
            await backoff(i);
            continue;
          }
          if (merged.status === 'closed') await releaseEpisode(merged.patientId, merged.id);
          return (await readAlert(next.id))?.alert;
        }
        throw new VigilError('BACKEND_UNAVAILABLE', 'alert update kept losing to concurrent writers');
      });
    },
    acknowledge(id, at, by) {
      return attempt('acknowledgement of an alert', async () => {
        // Alert rows are never deleted, so an alert found here still exists at the write below.
        if (!(await readAlert(id))) return undefined;
        await table.row(alertKey(id)).filter(columnFilter(ACK), {
          onNoMatch: [{ method: 'insert', data: { [FAMILY]: { [ACK]: JSON.stringify({ at, by }) } } }],
        });
        return (await readAlert(id))?.alert;
      });
    },
    get(id) {
      return attempt('read of an alert', async () => (await readAlert(id))?.alert);
    },
    listOpen() {
      return attempt('scan of open alerts', async () => {
        const markers = await readRows({ prefix: OPEN_PREFIX });
        const ids = markers.map((m) => cell(m.data, EPISODE)).filter((id): id is string => id !== undefined);
        const rows = await readRows({ keys: ids.map(alertKey) });
        return rows.map((r) => alertOf(r.data)?.alert).filter((a): a is Alert => a?.status === 'open').sort((x, y) => x.openedAt - y.openedAt);
      });
    },
    list({ visibleOnly, limit }) {
      return attempt('scan of alerts', async () => {
        const newestFirst = (alerts: Alert[]) => alerts.sort((x, y) => y.openedAt - x.openedAt).slice(0, limit);
        if (!visibleOnly) {
          return newestFirst((await readRows({ prefix: ALERT_PREFIX })).map((r) => alertOf(r.data)?.alert).filter((a): a is Alert => a !== undefined));
        }
        // The visible ones through the index: the cost follows the ward's visible alerts, not the history.
        const entries = await readRows({ prefix: VISIBLE_PREFIX });
        const ids = entries.map((e) => e.id.slice(VISIBLE_PREFIX.length));
        const found = new Map((await readRows({ keys: ids.map(alertKey) })).map((r) => [r.id.slice(ALERT_PREFIX.length), alertOf(r.data)?.alert]));
        const stale: string[] = [];
        const visible: Alert[] = [];
        for (const entry of entries) {
          const id = entry.id.slice(VISIBLE_PREFIX.length);
          const alert = found.get(id);
          if (alert && isVisible(alert)) visible.push(alert);
          else if (alert || writtenMsAgo(entry.data) > ORPHAN_AFTER_MS) stale.push(entry.id);
        }
        if (stale.length > 0) await table.mutate(stale.map((key) => ({ key, method: 'delete' })));
        return newestFirst(visible);
      });
    },
    async ping() {
      await attempt('ping', () => readRows({ keys: [openKey('')] }));
    },
    close: () => bigtable.close(),
  };
}
