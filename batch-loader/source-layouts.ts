import { VigilError } from '../core/errors.ts';
import type { TableSpec } from '../core/warehouse-schema.ts';
import type { DateFormat } from './parse-csv-date.ts';

/**
 * The CSV layouts `vigil load` reads. A layout says how source headers map to warehouse columns
 * (core/warehouse-schema.ts) and which date formats its files use. Headers match case-insensitively.
 */
export type LayoutName = 'vigil' | 'mimic';

export interface SourceLayout {
  readonly name: LayoutName;
  readonly description: string;
  /** Date formats this source writes (parse-csv-date.ts). */
  readonly dateFormats: readonly DateFormat[];
  /** Lower-case source header → warehouse column name. */
  columnFor(header: string): string | undefined;
}

/**
 * MIMIC-III → Vigil, the one place the mapping is declared. A source column maps into a table
 * only when its target is one of that table's columns (SUBJECT_ID is patient_id everywhere).
 * Columns not listed (ROW_ID, DOD_HOSP, LANGUAGE, ...) are ignored, and the load says so.
 */
export const MIMIC_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  subject_id: 'patient_id',
  hadm_id: 'admission_id',
  icustay_id: 'icustay_id',
  gender: 'gender',
  dob: 'date_of_birth',
  dod: 'date_of_death',
  expire_flag: 'expire_flag',
  admittime: 'admitted_at',
  dischtime: 'discharged_at',
  deathtime: 'died_at',
  admission_type: 'admission_type',
  admission_location: 'admission_location',
  discharge_location: 'discharge_location',
  insurance: 'insurance',
  diagnosis: 'diagnosis',
  hospital_expire_flag: 'hospital_expire_flag',
  first_careunit: 'first_careunit',
  last_careunit: 'last_careunit',
  intime: 'icu_intime',
  outtime: 'icu_outtime',
  los: 'los_days',
});

export const LAYOUTS: Readonly<Record<LayoutName, SourceLayout>> = Object.freeze({
  vigil: {
    name: 'vigil',
    description: "Vigil's own layout: headers are the warehouse column names; ISO 8601 dates",
    dateFormats: ['iso'],
    columnFor: (header: string) => header,
  },
  mimic: {
    name: 'mimic',
    description: 'MIMIC-III: SUBJECT_ID, HADM_ID, ADMITTIME, ...; ISO or US month-first (M/D/YYYY H:MM) dates',
    dateFormats: ['iso', 'us'],
    columnFor: (header: string) => MIMIC_COLUMNS[header],
  },
});

/** Where each CSV field goes: a warehouse column, or nowhere (ignored). */
export interface ColumnPlan {
  readonly layout: SourceLayout;
  /** Per source field index: the target column name, or undefined when ignored. */
  readonly targets: readonly (string | undefined)[];
  readonly ignored: readonly string[];
}

/**
 * Maps a header to the table. With no layout given, the layout whose mapping covers the table's
 * key columns is chosen (Vigil's first); a header neither covers is refused rather than guessed.
 */
export function planColumns(header: readonly string[], table: TableSpec, layoutName?: LayoutName): ColumnPlan {
  const normalized = header.map((h) => h.trim().toLowerCase());
  const candidates = layoutName ? [LAYOUTS[layoutName]] : [LAYOUTS.vigil, LAYOUTS.mimic];
  const columnNames = new Set(table.columns.map((c) => c.name));
  let lastMissing: string[] = [];
  for (const layout of candidates) {
    const targets = normalized.map((h) => {
      const target = layout.columnFor(h);
      return target !== undefined && columnNames.has(target) ? target : undefined;
    });
    const mapped = new Set(targets.filter((t): t is string => t !== undefined));
    const missing = table.columns.filter((c) => c.required && !mapped.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      lastMissing = missing;
      continue;
    }
    const seen = new Set<string>();
    for (const [i, target] of targets.entries()) {
      if (target === undefined) continue;
      if (seen.has(target)) {
        throw new VigilError('VALIDATION_FAILED', `header maps two fields to ${target} (the second is "${header[i]}")`);
      }
      seen.add(target);
    }
    const ignored = header.filter((_, i) => targets[i] === undefined);
    return { layout, targets, ignored };
  }
  const tried = candidates.map((l) => l.name).join(' or ');
  throw new VigilError(
    'VALIDATION_FAILED',
    `the header does not fit the ${tried} layout of table ${table.name}: no field for ${lastMissing.join(', ')} ` +
      `(header: ${describeHeader(header)})${layoutName ? '' : '; choose one with --layout vigil|mimic'}`,
    { details: { missing: lastMissing } },
  );
}

/**
 * The header as an error may show it: fields that look like column names, and a placeholder for
 * any other, so a file that is not a CSV at all (a key, a password file) is not echoed to a
 * terminal or a log.
 */
export function describeHeader(header: readonly string[]): string {
  const shown = header.slice(0, 40).map((field, i) => (/^[A-Za-z_][A-Za-z0-9_ .()-]{0,63}$/.test(field) ? field : `<field ${i + 1} not shown>`));
  return header.length > 40 ? `${shown.join(', ')}, … ${header.length - 40} more` : shown.join(', ');
}
