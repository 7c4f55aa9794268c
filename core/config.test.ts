import { describe, expect, it } from 'vitest';
import { ALERT_DEFAULTS, loadConfig } from './config.ts';

const base = { VIGIL_AUTH_SECRET: 'config-test-secret-0123', VIGIL_DATA_DIR: '/nonexistent-vigil-config-test' };

describe('configuration of NEWS2 completeness, risk mode and alerts', () => {
  it('counts vitals within 60 minutes of the newest reading by default, as configured otherwise', () => {
    expect(loadConfig(base).news2.maxAgeMs).toBe(60 * 60_000);
    expect(loadConfig({ ...base, VIGIL_NEWS2_MAX_AGE_MINUTES: '240' }).news2.maxAgeMs).toBe(240 * 60_000);
  });

  it.each(['0', '1441', '1.5', 'an hour'])('refuses VIGIL_NEWS2_MAX_AGE_MINUTES=%s, naming the variable', (value) => {
    expect(() => loadConfig({ ...base, VIGIL_NEWS2_MAX_AGE_MINUTES: value })).toThrow(/VIGIL_NEWS2_MAX_AGE_MINUTES/);
  });

  it('shows risk unless VIGIL_RISK_MODE=silent', () => {
    expect(loadConfig(base).riskMode).toBe('shown');
    expect(loadConfig({ ...base, VIGIL_RISK_MODE: 'silent' }).riskMode).toBe('silent');
    expect(() => loadConfig({ ...base, VIGIL_RISK_MODE: 'hidden' })).toThrow(/VIGIL_RISK_MODE/);
  });

  it('leaves the risk threshold to the model card unless VIGIL_ALERT_RISK_PERCENT is set; other alert defaults from ALERT_DEFAULTS', () => {
    const defaults = loadConfig(base).alerts;
    expect(defaults).toEqual({ news2: ALERT_DEFAULTS.news2, news2RedParameter: true, risk: null, holdMs: ALERT_DEFAULTS.holdMs });
    expect(loadConfig({ ...base, VIGIL_ALERT_RISK_PERCENT: '20' }).alerts.risk).toBe(0.2);
    expect(() => loadConfig({ ...base, VIGIL_ALERT_RISK_PERCENT: '0' })).toThrow(/VIGIL_ALERT_RISK_PERCENT/);
  });
});
