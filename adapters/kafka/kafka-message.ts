import type { IHeaders } from 'kafkajs';

/**
 * A message's bus id: its partition and offset. Unique per published message within a topic, the
 * same on every delivery, and known to the publisher from the broker's answer.
 */
export function messageIdOf(partition: number, offset: string): string {
  return `${partition}-${offset}`;
}

/** Kafka headers back to the port's string attributes (a repeated header keeps its last value). */
export function attributesOf(headers: IHeaders | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (!headers) return attributes;
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    attributes[name] = last === undefined || last === null ? '' : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return attributes;
}
