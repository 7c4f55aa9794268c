import { Bigtable } from '@google-cloud/bigtable';
import type { Table } from '@google-cloud/bigtable';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Association, AssociationKind, DeviceAssociations } from '../../core/ports/device-associations.ts';
import { escapeId, unescapeId } from './bigtable-row-keys.ts';
import { backendError, createIfMissing } from './google-errors.ts';

/**
 * Bed and device associations on Bigtable (core/ports/device-associations.ts), shared by every
 * Vigil host. Two kinds of rows, family `a`, one cell per column (the newest version is read):
 *
 *   k#<kind>#<key>#<from, 13 digits>    one interval: columns `patient`, `source`, `to` ('' while open)
 *   p#<patient>#<kind>#<key>#<from>     the patient's index of their intervals (no value of its own)
 *   h#i#<heldId>                          a held reading: `device`, `bed`, `observedAt`, `reading`
 *   h#device#<deviceId>#<heldId>          its index by device, and by bed (h#bed#<bed>#<heldId>)
 *
 * Ids are percent-escaped (`#`, `%`), so a key prefix matches one bed or patient only. Bigtable has
 * no transactions across rows: an `associate` writes the ends of the intervals it closes before
 * the interval it opens, so a reader between the two sees nobody in the bed, never two patients;
 * a crash between them leaves the ends written and the ADT message unanswered (AA only after the
 * last write), and the sender's redelivery writes the rest. Writes to one bed or patient are
 * serialised by the edge applying ADT one event at a time; two edge instances recording events of
 * one patient at the same moment may interleave (adapters/gcp/README.md).
 */
export interface BigtableDeviceAssociationsOptions {
  readonly projectId: string;
  readonly instanceId: string;
  readonly tableId: string;
  readonly logger: Logger;
}

const FAMILY = 'a';
const FROM_DIGITS = 13;
type Row = { id: string; data: Record<string, Record<string, { value: string | Buffer }[]>> };

const fromText = (ms: number): string => String(ms).padStart(FROM_DIGITS, '0');
const keyPrefix = (kind: AssociationKind, key: string): string => `k#${kind}#${escapeId(key)}#`;
const intervalKey = (kind: AssociationKind, key: string, from: number): string => `${keyPrefix(kind, key)}${fromText(from)}`;
const patientPrefix = (patientId: string): string => `p#${escapeId(patientId)}#`;
const indexKey = (a: Pick<Association, 'kind' | 'key' | 'from' | 'patientId'>): string =>
  `${patientPrefix(a.patientId)}${a.kind}#${escapeId(a.key)}#${fromText(a.from)}`;

export function createBigtableDeviceAssociations(options: BigtableDeviceAssociationsOptions): DeviceAssociations {
  for (const name of ['projectId', 'instanceId', 'tableId'] as const) {
    if (!options?.[name]) throw new VigilError('CONFIG_INVALID', `createBigtableDeviceAssociations needs ${name}`);
  }
  const logger = options.logger.child({ component: 'device-associations-bigtable' });
  const client = new Bigtable({ projectId: options.projectId, metricsEnabled: !process.env.BIGTABLE_EMULATOR_HOST });
  const table: Table = client.instance(options.instanceId).table(options.tableId);
  const rule = { versions: 1 };
  let closed = false;
  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'the device association store is closed');
  };

  async function scan(prefix: string): Promise<Row[]> {
    open();
    try {
      const [rows] = await table.getRows({ prefix, filter: [{ column: { cellLimit: 1 } }] });
      return rows as unknown as Row[];
    } catch (error) {
      throw backendError(error, 'Bigtable read of the device association store');
    }
  }

  async function mutate(entries: Parameters<Table['mutate']>[0]): Promise<void> {
    open();
    if (Array.isArray(entries) && entries.length === 0) return;
    try {
      await table.mutate(entries);
    } catch (error) {
      throw backendError(error, 'Bigtable write to the device association store');
    }
  }

  const cell = (row: Row, column: string): string => row.data[FAMILY]?.[column]?.[0]?.value?.toString() ?? '';

  function toAssociation(row: Row): Association {
    const [, kind, key, from] = row.id.split('#');
    const to = cell(row, 'to');
    return { kind: kind as AssociationKind, key: unescapeId(key!), from: Number(from), to: to === '' ? null : Number(to), patientId: cell(row, 'patient'), source: cell(row, 'source') };
  }

  const intervalsOfKey = async (kind: AssociationKind, key: string): Promise<Association[]> => (await scan(keyPrefix(kind, key))).map(toAssociation);

  async function intervalsOfPatient(patientId: string): Promise<Association[]> {
    const index = await scan(patientPrefix(patientId));
    const found: Association[] = [];
    for (const entry of index) {
      const [, , kind, key, from] = entry.id.split('#');
      const rows = await scan(intervalKey(kind as AssociationKind, unescapeId(key!), Number(from)));
      const interval = rows[0] ? toAssociation(rows[0]) : undefined;
      // An index entry whose interval moved to another patient (a merge under way) is not theirs.
      if (interval && interval.patientId === patientId) found.push(interval);
    }
    return found.sort((a, b) => a.from - b.from || a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key));
  }

  const setTo = (a: Association, to: number | null) => ({
    key: intervalKey(a.kind, a.key, a.from), method: 'insert' as const,
    data: { [FAMILY]: { to: to === null ? '' : String(to) } },
  });

  function write(a: Association) {
    return [
      { key: indexKey(a), method: 'insert' as const, data: { [FAMILY]: { i: '' } } },
      { key: intervalKey(a.kind, a.key, a.from), method: 'insert' as const, data: { [FAMILY]: { patient: a.patientId, source: a.source, to: a.to === null ? '' : String(a.to) } } },
    ];
  }

  const covers = (a: Association, at: number): boolean => a.from < at && (a.to === null || a.to > at);

  return {
    kind: 'bigtable',
    async provision() {
      open();
      try {
        const created = await createIfMissing(() => table.create({ families: [{ name: FAMILY, rule }] }));
        if (created === 'created') {
          logger.info({ table: options.tableId }, 'Bigtable device association table created');
          return;
        }
        const [existing] = await table.getFamilies();
        if (!existing.some((f) => f.id === FAMILY)) await createIfMissing(() => table.createFamily(FAMILY, { rule }));
      } catch (error) {
        throw backendError(error, `Bigtable provision of table ${options.tableId} (the instance must exist)`);
      }
    },
    async associate(a) {
      const ofKey = await intervalsOfKey(a.kind, a.key);
      if (ofKey.some((held) => held.from === a.from && held.patientId === a.patientId)) return;
      const ends = ofKey.filter((held) => covers(held, a.from)).map((held) => setTo(held, a.from));
      if (a.kind === 'bed') {
        const beds = (await intervalsOfPatient(a.patientId)).filter((held) => held.kind === 'bed' && covers(held, a.from));
        ends.push(...beds.map((held) => setTo(held, a.from)));
      }
      const next = ofKey.filter((held) => held.from > a.from).sort((x, y) => x.from - y.from)[0];
      await mutate(ends);
      await mutate(write({ ...a, to: next?.from ?? null }));
    },
    async endPatient(patientId, at) {
      const open = (await intervalsOfPatient(patientId)).filter((held) => held.to === null && held.from <= at);
      await mutate(open.map((held) => setTo(held, at)));
    },
    async retract(kind, key, from) {
      const held = (await intervalsOfKey(kind, key)).find((a) => a.from === from);
      if (!held) return;
      const reopen = [
        ...(await intervalsOfKey(kind, key)),
        ...(await intervalsOfPatient(held.patientId)).filter((a) => a.kind === kind),
      ].filter((a) => a.to === from && !(a.key === key && a.from === from));
      await mutate([
        { key: intervalKey(kind, key, from), method: 'delete' as const },
        { key: indexKey(held), method: 'delete' as const },
      ]);
      await mutate(reopen.map((a) => setTo(a, null)));
    },
    async reopenPatient(patientId, at) {
      const ended = (await intervalsOfPatient(patientId)).filter((held) => held.to === at);
      await mutate(ended.map((held) => setTo(held, null)));
    },
    async patientAt(kind, key, at) {
      const holding = (await intervalsOfKey(kind, key))
        .filter((a) => a.from <= at && (a.to === null || a.to > at))
        .sort((x, y) => y.from - x.from)[0];
      return holding?.patientId;
    },
    ofPatient: intervalsOfPatient,
    async reassignPatient(fromPatient, toPatient) {
      for (const a of await intervalsOfPatient(fromPatient)) {
        // New index first, then the interval's owner, then the old index: a reader never loses it.
        await mutate([{ key: indexKey({ ...a, patientId: toPatient }), method: 'insert' as const, data: { [FAMILY]: { i: '' } } }]);
        await mutate([{ key: intervalKey(a.kind, a.key, a.from), method: 'insert' as const, data: { [FAMILY]: { patient: toPatient } } }]);
        await mutate([{ key: indexKey(a), method: 'delete' as const }]);
      }
    },
    async hold(readings) {
      for (const r of readings) {
        const data = { [FAMILY]: { device: r.deviceId, bed: r.bed ?? '', observedAt: String(r.observedAt), reading: r.reading } };
        // The reading first, then its indexes: an index never points at nothing.
        await mutate([{ key: `h#i#${escapeId(r.heldId)}`, method: 'insert' as const, data }]);
        await mutate([
          { key: `h#device#${escapeId(r.deviceId)}#${escapeId(r.heldId)}`, method: 'insert' as const, data: { [FAMILY]: { i: '' } } },
          ...(r.bed ? [{ key: `h#bed#${escapeId(r.bed)}#${escapeId(r.heldId)}`, method: 'insert' as const, data: { [FAMILY]: { i: '' } } }] : []),
        ]);
      }
    },
    async heldFor(kind, key) {
      const index = await scan(`h#${kind}#${escapeId(key)}#`);
      const held = [];
      for (const entry of index) {
        const heldId = unescapeId(entry.id.split('#')[3]!);
        const row = (await scan(`h#i#${escapeId(heldId)}`)).find((r) => r.id === `h#i#${escapeId(heldId)}`);
        if (!row) continue; // dropped meanwhile
        const bed = cell(row, 'bed');
        held.push({ heldId, deviceId: cell(row, 'device'), bed: bed === '' ? null : bed, observedAt: Number(cell(row, 'observedAt')), reading: cell(row, 'reading') });
      }
      return held.sort((a, b) => a.observedAt - b.observedAt || a.heldId.localeCompare(b.heldId));
    },
    async dropHeld(heldIds) {
      for (const heldId of heldIds) {
        const key = `h#i#${escapeId(heldId)}`;
        const row = (await scan(key)).find((r) => r.id === key);
        if (!row) continue;
        const bed = cell(row, 'bed');
        await mutate([
          { key: `h#device#${escapeId(cell(row, 'device'))}#${escapeId(heldId)}`, method: 'delete' as const },
          ...(bed ? [{ key: `h#bed#${escapeId(bed)}#${escapeId(heldId)}`, method: 'delete' as const }] : []),
        ]);
        await mutate([{ key, method: 'delete' as const }]);
      }
    },
    async ping() {
      await scan('k#ping#');
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
