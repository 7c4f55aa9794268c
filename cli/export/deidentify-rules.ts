import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VigilError } from '../../core/errors.ts';

/**
 * The de-identification rules of `vigil export --deidentify` that are computed outside the
 * database: keyed hashes for ids and a keyed per-patient date shift. Both come from one secret
 * key, so the same key gives the same extract ids and shifts (extracts can be joined across
 * runs), and without the key neither can be reversed or recomputed from a known patient id.
 */

/** At least 32 characters: a key short enough to guess would let anyone hash known ids and find them. */
export const MIN_KEY_LENGTH = 32;
/** Dates move forward by 100 to 110 years, whole days: shifted dates can never be mistaken for real ones. */
export const SHIFT_MIN_DAYS = 36_500;
export const SHIFT_SPAN_DAYS = 3_650;
/** Safe Harbor: ages over 89 are aggregated into one group, shown as 90 ("90 or older"). */
export const AGE_CAP_YEARS = 90;

/** The key from `--key-file` (its contents, surrounding whitespace trimmed) or VIGIL_EXPORT_KEY; refuses to go on without one. */
export async function readExportKey(options: { keyFile?: string | undefined; env: NodeJS.ProcessEnv }): Promise<Buffer> {
  let key: string | undefined;
  let from: string;
  if (options.keyFile !== undefined) {
    from = `--key-file ${options.keyFile}`;
    try {
      key = (await readFile(options.keyFile, 'utf8')).trim();
    } catch (cause) {
      throw new VigilError('CONFIG_INVALID', `${from}: cannot read the key file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
    }
  } else {
    from = 'VIGIL_EXPORT_KEY';
    key = options.env.VIGIL_EXPORT_KEY?.trim();
  }
  if (!key) {
    throw new VigilError('CONFIG_INVALID', 'a de-identified export needs a secret key: --key-file <file> or VIGIL_EXPORT_KEY (e.g. `openssl rand -base64 48 > export.key`); ids are replaced by keyed hashes and dates shifted by keyed offsets, so without a key they could be recomputed from known ids');
  }
  if (key.length < MIN_KEY_LENGTH) throw new VigilError('CONFIG_INVALID', `${from}: the key must be at least ${MIN_KEY_LENGTH} characters (it is ${key.length})`);
  return Buffer.from(key, 'utf8');
}

/** What a hashed id stands for; part of the hash input, so a patient id and an admission id never share a hash. */
export type IdKind = 'patient' | 'admission';

/** The extract's id for a Vigil id: HMAC-SHA256 over kind and id, 128 bits in hex. */
export function keyedId(key: Buffer, kind: IdKind, id: string): string {
  return createHmac('sha256', key).update(`${kind}\u0000${id}`).digest('hex').slice(0, 32);
}

/** Days every date of this patient moves by: one keyed offset per patient, so intervals within a patient are kept. */
export function shiftDaysOf(key: Buffer, patientId: string): number {
  const digest = createHmac('sha256', key).update(`date-shift\u0000${patientId}`).digest();
  return SHIFT_MIN_DAYS + (digest.readUInt32BE(0) % SHIFT_SPAN_DAYS);
}
