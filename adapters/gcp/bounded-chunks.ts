/**
 * Splits items into request-sized chunks bounded by count and bytes (an item larger than
 * `maxBytes` travels alone, and the API decides whether it fits). Used for Bigtable MutateRows and
 * BigQuery insertAll, which both cap entries and bytes per request.
 */
export function* boundedChunks<T>(items: Iterable<T>, limits: { readonly maxCount: number; readonly maxBytes: number }, sizeOf: (item: T) => number): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length >= limits.maxCount || (chunk.length > 0 && bytes + size > limits.maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
