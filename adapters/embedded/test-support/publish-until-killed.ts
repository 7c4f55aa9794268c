/**
 * Child process of the bus "survives kill -9" test: publishes numbered messages forever and
 * reports each one whose publish resolved (a line "confirmed <n>") until the parent kills it.
 * Usage: node publish-until-killed.ts <bus file> <topic>
 */
import { createSqliteBus } from '../bus-sqlite.ts';

const [file, topic] = process.argv.slice(2);
if (!file || !topic) throw new Error('usage: publish-until-killed.ts <bus file> <topic>');
const bus = createSqliteBus({ path: file });
const encoder = new TextEncoder();
let n = 0;
for (;;) {
  // Several publishes in flight at once, as an ingest server has, so group commit is exercised.
  const batch = Array.from({ length: 8 }, () => {
    const i = n++;
    return bus.publish(topic, [{ data: encoder.encode(String(i)), attributes: { n: String(i) } }]).then(() => i);
  });
  for (const i of await Promise.all(batch)) process.stdout.write(`confirmed ${i}\n`);
}
