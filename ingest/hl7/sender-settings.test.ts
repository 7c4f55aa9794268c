import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import type { RecordingServer } from './mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './mllp-test-support.ts';
import { parseHl7Timestamp } from '../../core/wire/hl7/hl7-timestamp.ts';
import { oruToReadings, parseHeader } from './oru-to-readings.ts';
import { parseSenderSettings, settingsFor } from './sender-settings.ts';

const GE_SETTINGS = JSON.stringify({
  'GE-B40': { timezone: 'America/Chicago', unitAliases: { bpm: '/min', rpm: '/min', mmHg: 'mm[Hg]', degF: '[degF]' } },
});

/** The wall clock of `t` in `zone` as a zoneless HL7 time, the way a GE B40 writes OBR-7 / OBX-14. */
function zonelessTime(t: number, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(t).map((p) => [p.type, p.value]));
  return `${parts.year}${parts.month}${parts.day}${parts.hour}${parts.minute}${parts.second}`;
}

/** A GE-style ORU^R01: local times without offset, units as text (`bpm`, `mmHg`, `degF`). */
function geMessage(sender: string, controlId: string, time: string): string {
  return [
    `MSH|^~\\&|${sender}|ICU|VIGIL|HOSP|${time}||ORU^R01|${controlId}|P|2.3`,
    'PID|1||P0031^^^HOSP^MR',
    `OBR|1|||VITALS|||${time}`,
    `OBX|1|NM|8867-4^Heart rate^LN||88|bpm|||||F|||${time}`,
    `OBX|2|NM|9279-1^Respiratory rate^LN||18|rpm|||||F|||${time}`,
    `OBX|3|NM|8480-6^Systolic^LN||132|mmHg|||||F|||${time}`,
    `OBX|4|NM|8462-4^Diastolic^LN||84|mmHg|||||F|||${time}`,
    `OBX|5|NM|8310-5^Temperature^LN||100.4|degF|||||F|||${time}`,
  ].join('\r');
}

let running: RecordingServer | undefined;
afterEach(async () => {
  await running?.server.close();
  running = undefined;
});

describe('per-sender settings over MLLP (VIGIL_MLLP_SENDER_SETTINGS)', () => {
  it('reads a GE-style zoneless message in the sender\'s zone with its unit aliases; another sender stays strict', async () => {
    running = await startRecordingServer({
      allowedSenders: [{ application: 'GE-B40' }, { application: 'MONITOR' }],
      senderSettings: parseSenderSettings(GE_SETTINGS),
    });
    const client = await connectRaw(running.port);
    const observed = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000;
    const time = zonelessTime(observed, 'America/Chicago');

    client.send(frameMllp(geMessage('GE-B40', 'GE-1', time)));
    expect(msaOf(await client.nextAck()), 'the configured GE sender must be accepted').toMatchObject({ code: 'AA', controlId: 'GE-1' });
    expect(running.published).toEqual([expect.objectContaining({
      deviceId: 'GE-B40', patientId: 'P0031', observedAt: observed,
      heartRate: 88, respiratoryRate: 18, bloodPressure: '132/84', temperature: 38, temperatureUnit: 'C',
    })]);

    // The same bytes from a sender without settings: refused as before (strict default).
    client.send(frameMllp(geMessage('MONITOR', 'ST-1', time)));
    const strict = msaOf(await client.nextAck());
    expect(strict).toMatchObject({ code: 'AE', controlId: 'ST-1' });
    expect(strict.text).toMatch(/unit "bpm" is not valid|no UTC offset/);
    expect(running.published).toHaveLength(1);
    client.end();
  });

  it('finds the settings by MSH-3.1 or MSH-3.2, preferring APP@FACILITY over APP', () => {
    const map = parseSenderSettings(JSON.stringify({ EfficiaCM: { timezone: 'Europe/Paris' }, 'EfficiaCM@WARD7': { timezone: 'Asia/Tokyo' } }));
    const header = (msh3: string, msh4: string) => {
      const parsed = parseHeader(`MSH|^~\\&|${msh3}|${msh4}|VIGIL||20261122100000||ORU^R01|1|P|2.6`);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.header;
    };
    expect(settingsFor(map, header('^EfficiaCM', 'WARD1'))).toEqual({ timezone: 'Europe/Paris' });
    expect(settingsFor(map, header('^EfficiaCM', '^WARD7'))).toEqual({ timezone: 'Asia/Tokyo' });
    expect(settingsFor(map, header('OTHER', 'WARD7'))).toBeUndefined();
  });

  it('applies an alias only to the spelling configured, and only where that unit fits the vital', () => {
    const parsed = parseHeader(['MSH|^~\\&|GE-B40|ICU|VIGIL|HOSP|20261122100000||ORU^R01|1|P|2.3', 'PID|1||P1', 'OBR|1|||V|||20261122100000',
      'OBX|1|NM|59408-5^SpO2^LN||97|bpm'].join('\r'));
    if (!parsed.ok) throw new Error(parsed.reason);
    const result = oruToReadings(parsed.message, parsed.header, Date.UTC(2026, 10, 23), parseSenderSettings(GE_SETTINGS).get('GE-B40'));
    expect(result).toMatchObject({ ok: false, ackCode: 'AE', location: 'OBX^1^6' });
    expect(!result.ok && result.reason).toMatch(/unit "bpm" is not valid for spo2/);
  });
});

describe('zoneless times with a configured zone', () => {
  it('converts with the zone\'s offset at that date, and refuses the skipped and the repeated hour', () => {
    expect(parseHl7Timestamp('20261122100000', 'America/Chicago')).toEqual({ ok: true, epochMs: Date.UTC(2026, 10, 22, 16) });
    expect(parseHl7Timestamp('20260715120000.5', 'Europe/Paris')).toEqual({ ok: true, epochMs: Date.UTC(2026, 6, 15, 10, 0, 0, 500) });
    expect(parseHl7Timestamp('20261122100000+0100', 'America/Chicago')).toEqual({ ok: true, epochMs: Date.UTC(2026, 10, 22, 9) });
    expect(parseHl7Timestamp('20260308023000', 'America/Chicago')).toMatchObject({ ok: false, reason: expect.stringMatching(/does not exist/) });
    expect(parseHl7Timestamp('20261101013000', 'America/Chicago')).toMatchObject({ ok: false, reason: expect.stringMatching(/occurs twice/) });
    expect(parseHl7Timestamp('20261122100000')).toMatchObject({ ok: false, reason: expect.stringMatching(/no UTC offset/) });
  });
});

describe('parseSenderSettings', () => {
  it('reads JSON or a path to a JSON file, empty meaning none', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-sender-settings-'));
    const file = path.join(dir, 'senders.json');
    writeFileSync(file, GE_SETTINGS);
    expect(parseSenderSettings(file).get('GE-B40')).toEqual(parseSenderSettings(GE_SETTINGS).get('GE-B40'));
    expect(parseSenderSettings(GE_SETTINGS).get('GE-B40')).toMatchObject({ timezone: 'America/Chicago', unitAliases: { bpm: '/min' } });
    expect(parseSenderSettings('').size).toBe(0);
  });

  it.each([
    ['not JSON, not a file', '/nonexistent/senders.json', /neither JSON nor a readable file/],
    ['broken JSON', '{"GE":', /not valid JSON/],
    ['an array', '[]', /JSON object keyed by sender/],
    ['an unknown zone', '{"GE":{"timezone":"Mars/Olympus"}}', /IANA zone/],
    ['an alias to a unit Vigil does not accept', '{"GE":{"unitAliases":{"bpm":"beats"}}}', /must name a unit Vigil accepts/],
    ['an unknown key', '{"GE":{"timeZone":"Europe/Paris"}}', /unknown keys timeZone/],
  ])('stops start-up on %s', (_name, text, reason) => {
    expect(() => parseSenderSettings(text)).toThrow(reason);
  });
});
