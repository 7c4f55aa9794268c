import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { openBus } from '../wiring/open-backends.ts';
import { busTopology } from '../wiring/provision.ts';
import { writeCohortCsv } from '../../simulators/cohort-csv.ts';
import { runSimulation } from '../../simulators/live-readings.ts';
import type { ReadingSink } from '../../simulators/reading-sink.ts';
import { COHORT_SHIFTS, COHORT_SHIFT_NAMES, isCohortShiftName } from '../../simulators/shift-presets.ts';
import { createHttpSink } from '../../simulators/sink-http.ts';
import { DEFAULT_FAULT_RATES, NO_FAULTS } from '../../simulators/simulation-parameters.ts';
import type { FaultRates } from '../../simulators/simulation-parameters.ts';
import { createWard } from '../../simulators/ward.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const FAULT_NAMES = Object.keys(NO_FAULTS) as (keyof FaultRates)[];

function describe(rates: FaultRates): string {
  return FAULT_NAMES.map((name) => `${name}=${rates[name]}`).join(',');
}

const help = `Usage: vigil simulate [options]                      live readings into the edge or the bus
       vigil simulate --write-csv <dir> [--cohort N] [--shift <name>]
                                                    an offline cohort as CSVs

A seeded simulated ward (simulators/README.md describes the generative process). The same
--seed gives the same patients, readings and CSVs, byte for byte.

Live mode (default):
  --patients <n>        beds / patients (default VIGIL_SIMULATE or 24)
  --seed <n>            seed (default VIGIL_SIMULATE_SEED or 42)
  --interval-ms <ms>    one reading per patient every <ms> (default VIGIL_SIMULATE_INTERVAL_MS or 2000)
  --rate <n>            or: <n> readings per second across the ward (benchmarks); overrides --interval-ms
  --duration <span>     stop after e.g. 30s, 5m, 1h or plain milliseconds (default: until Ctrl-C)
  --time-scale <x>      simulated physiology time per real time (default 60: a real minute is a
                        simulated hour, so deteriorations show within minutes)
  --target http|bus     where readings go (default http)
  --url <url>           edge base URL for --target http (default http://127.0.0.1:$PORT)
  --token <jwt>         device token; without it one is signed with VIGIL_AUTH_SECRET
  --concurrency <n>     HTTP requests in flight (default 4)
  --faults <spec>       device faults: "default" (${describe(DEFAULT_FAULT_RATES)}),
                        one rate for all (e.g. 0.05), or per fault (e.g. dropField=0.1,malformed=0.02);
                        faults: dropField, duplicate, late, malformed, fahrenheitDevices (default none)

Cohort mode:
  --write-csv <dir>     write patients.csv, admissions.csv, icustays.csv, vitals.csv, outcomes.csv,
                        profiles.csv (simulators/README.md, "Cohort files")
  --cohort <n>          admissions in the cohort (default 1000)
  --shift <name>        a shifted cohort (simulators/shift-presets.ts): ${COHORT_SHIFT_NAMES.join(', ')}
  --raw-jsonl           also write readings.jsonl (every delivery's ingest JSON, faults included)
  --seed, --faults      as above

Progress goes to stderr; a summary line to stdout.

Environment:
  VIGIL_BUS (embedded|pubsub|kafka) and its variables for --target bus; VIGIL_DATA_DIR (the embedded
  bus file); PORT; VIGIL_AUTH_SECRET (signs the device token); VIGIL_SIMULATE, VIGIL_SIMULATE_SEED,
  VIGIL_SIMULATE_INTERVAL_MS.`;

/** "default", one rate for every fault, or name=rate pairs merged over no faults. */
export function parseFaults(spec: string | undefined): FaultRates {
  if (spec === undefined || spec === 'none') return NO_FAULTS;
  if (spec === 'default') return DEFAULT_FAULT_RATES;
  const rate = (text: string, name: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`--faults: ${name} must be a rate between 0 and 1, got "${text}"`);
    return value;
  };
  if (!spec.includes('=')) {
    const all = rate(spec, 'the rate');
    return Object.fromEntries(FAULT_NAMES.map((name) => [name, all])) as unknown as FaultRates;
  }
  const rates: Record<string, number> = { ...NO_FAULTS };
  for (const pair of spec.split(',')) {
    const [name = '', value = ''] = pair.split('=').map((s) => s.trim());
    if (!(FAULT_NAMES as string[]).includes(name)) throw new UsageError(`--faults: unknown fault "${name}" (expected ${FAULT_NAMES.join(', ')})`);
    rates[name] = rate(value, name);
  }
  return rates as unknown as FaultRates;
}

/** "30s", "5m", "1h", "250ms" or plain milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--duration: expected e.g. 30s, 5m, 1h or milliseconds, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

function positiveNumber(text: string | undefined, option: string, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${option} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  }
  return value;
}

const simulate: CliCommand = {
  name: 'simulate',
  summary: 'a simulated ward, and its CSVs and outcomes',
  help,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      patients: { type: 'string' }, seed: { type: 'string' }, 'interval-ms': { type: 'string' }, rate: { type: 'string' },
      duration: { type: 'string' }, 'time-scale': { type: 'string' }, target: { type: 'string' }, url: { type: 'string' },
      token: { type: 'string' }, concurrency: { type: 'string' }, faults: { type: 'string' },
      'write-csv': { type: 'string' }, cohort: { type: 'string' }, 'raw-jsonl': { type: 'boolean' }, shift: { type: 'string' },
    });
    const config = loadConfig();
    const seedText = values.seed;
    const seed = seedText === undefined ? config.simulate.seed : Number(seedText);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${seedText}"`);
    const faults = parseFaults(values.faults);

    if (values.shift !== undefined && values['write-csv'] === undefined) throw new UsageError('--shift applies to a cohort: use it with --write-csv <dir>');
    if (values['write-csv'] !== undefined) {
      const admissions = positiveNumber(values.cohort, 'cohort', true) ?? 1000;
      const shift = values.shift;
      if (shift !== undefined && !isCohortShiftName(shift)) throw new UsageError(`--shift: unknown shift "${shift}" (expected one of ${COHORT_SHIFT_NAMES.join(', ')})`);
      const started = performance.now();
      const summary = await writeCohortCsv({
        dir: values['write-csv'], seed, admissions, faults, rawJsonl: values['raw-jsonl'] ?? false,
        ...(shift !== undefined ? { parameters: COHORT_SHIFTS[shift] } : {}),
        onProgress: (done, total) => process.stderr.write(`cohort: ${done}/${total} admissions\n`),
      });
      console.log(`wrote ${summary.admissions} admissions${shift !== undefined ? ` (shift ${shift})` : ''} (${summary.events} events, ${summary.vitalsRows} vitals rows) to ${values['write-csv']} in ${Math.round(performance.now() - started)} ms: ${summary.files.join(', ')}`);
      return 0;
    }

    const target = values.target ?? 'http';
    if (target !== 'http' && target !== 'bus') throw new UsageError(`--target must be http or bus, got "${target}"`);
    const patients = positiveNumber(values.patients, 'patients', true) ?? config.simulate.patients;
    if (patients < 1) throw new UsageError('the ward needs at least one patient (VIGIL_SIMULATE is 0)');
    const ward = createWard({ patients, seed, faults, timeScale: positiveNumber(values['time-scale'], 'time-scale') ?? 60 });
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const logger = createLogger({ level: config.logLevel, name: 'vigil-simulate', destination: process.stderr });

    let sink: ReadingSink;
    let close = async (): Promise<void> => {};
    if (target === 'http') {
      const url = values.url ?? `http://127.0.0.1:${config.http.port}`;
      let token = values.token;
      if (token === undefined) {
        if (config.auth.generated) throw new UsageError('--target http needs --token or VIGIL_AUTH_SECRET (to sign a device token)');
        const { signToken } = await import('../../http/auth.ts');
        token = signToken(config.auth.secret, {
          sub: 'vigil-simulate', role: 'device', expiresIn: Math.min(7 * 24 * 3600, config.auth.maxLifetimeSeconds),
          audience: config.auth.audience, issuer: config.auth.issuer,
        });
      }
      sink = createHttpSink({ url, token, signal: controller.signal, concurrency: positiveNumber(values.concurrency, 'concurrency', true) ?? 4 });
    } else {
      const bus = await openBus(config, logger);
      await bus.provision(busTopology(config));
      const { createBusSink } = await import('../../simulators/sink-bus.ts');
      sink = createBusSink({ bus, topic: config.bus.readingsTopic, signal: controller.signal });
      close = () => bus.close();
    }

    const started = performance.now();
    let lastProgress = started;
    try {
      const stats = await runSimulation({
        ward, sink, signal: controller.signal,
        intervalMs: positiveNumber(values['interval-ms'], 'interval-ms') ?? config.simulate.intervalMs,
        ...(values.rate !== undefined ? { readingsPerSecond: positiveNumber(values.rate, 'rate')! } : {}),
        ...(values.duration !== undefined ? { durationMs: parseDuration(values.duration) } : {}),
        onBatch: (s) => {
          if (performance.now() - lastProgress < 5000) return;
          lastProgress = performance.now();
          process.stderr.write(`simulate: ${s.written} sent, ${s.accepted} accepted, ${s.rejected} rejected, ${s.retries} retries\n`);
        },
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(`simulated ${patients} patients for ${seconds.toFixed(1)} s: ${stats.written} readings sent (${(stats.written / seconds).toFixed(0)}/s), ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.retries} retries`);
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await close();
    }
  },
};

export default simulate;
