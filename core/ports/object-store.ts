/**
 * The object store port: batch files land here before warehouse load jobs
 * (local folder embedded, Cloud Storage at scale).
 *
 * Promises (checked by the object-store contract suite): `put` is atomic (readers see the whole
 * object or none), `get` of a missing key rejects with a not-found VigilError, `list` returns keys
 * under a prefix sorted, `delete` of a missing key is not an error.
 */
export interface ObjectStore {
  readonly kind: string;
  provision(): Promise<void>;
  put(key: string, body: Uint8Array | NodeJS.ReadableStream, contentType?: string): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /** A URI the warehouse can load from, e.g. gs://bucket/key or file:///abs/path. */
  uri(key: string): string;
  close(): Promise<void>;
}
