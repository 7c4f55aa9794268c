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
    expect(defaults).toEqual({ news2: ALERT_DEFAULTS.news2, news2RedParameter: true, risk: null, holdMs: ALERT_DEFAULTS.holdMs, refreshMs: 1_000 });
    expect(loadConfig({ ...base, VIGIL_ALERT_REFRESH_MS: '250' }).alerts.refreshMs).toBe(250);
    expect(loadConfig({ ...base, VIGIL_ALERT_RISK_PERCENT: '20' }).alerts.risk).toBe(0.2);
    expect(() => loadConfig({ ...base, VIGIL_ALERT_RISK_PERCENT: '0' })).toThrow(/VIGIL_ALERT_RISK_PERCENT/);
  });
});


describe('MLLP configuration: plain MLLP stays on loopback unless explicitly and insecurely opened', () => {
  it('binds plain MLLP to loopback by default, even when HTTP listens on every interface', () => {
    const mllp = loadConfig({ VIGIL_HOST: '0.0.0.0' }).mllp;
    expect(mllp).toMatchObject({ host: '127.0.0.1', tls: null, insecurePlaintext: false });
    expect(mllp).toMatchObject({ maxConnections: 512, maxConnectionsPerPeer: 32, reservedConnections: 32, trustedPeers: [], idleTimeoutMs: 300_000 });
  });

  it('opens plain MLLP beyond loopback only through VIGIL_MLLP_INSECURE_PLAINTEXT_BIND, and flags it', () => {
    expect(loadConfig({ VIGIL_MLLP_INSECURE_PLAINTEXT_BIND: '0.0.0.0' }).mllp).toMatchObject({ host: '0.0.0.0', insecurePlaintext: true });
    expect(loadConfig({ VIGIL_MLLP_INSECURE_PLAINTEXT_BIND: '127.0.0.2' }).mllp).toMatchObject({ host: '127.0.0.2', insecurePlaintext: false });
  });

  it('with TLS binds VIGIL_MLLP_HOST (else VIGIL_HOST) and needs all three files and the certificate mapping', () => {
    const files = { VIGIL_MLLP_TLS_CERT: '/x/cert.pem', VIGIL_MLLP_TLS_KEY: '/x/key.pem', VIGIL_MLLP_TLS_CA: '/x/ca.pem' };
    expect(loadConfig({ ...files, VIGIL_MLLP_CERT_SENDERS: 'gw=A' }).mllp).toMatchObject({
      host: '0.0.0.0', tls: { certPath: '/x/cert.pem', keyPath: '/x/key.pem', caPath: '/x/ca.pem' }, certificateSenders: 'gw=A', insecurePlaintext: false,
    });
    expect(loadConfig({ ...files, VIGIL_MLLP_CERT_SENDERS: 'gw=A', VIGIL_MLLP_HOST: '10.1.2.3' }).mllp.host).toBe('10.1.2.3');
    expect(() => loadConfig({ VIGIL_MLLP_TLS_CERT: '/x/cert.pem', VIGIL_MLLP_TLS_KEY: '/x/key.pem' })).toThrow(/go together/);
    expect(() => loadConfig(files)).toThrow(/VIGIL_MLLP_CERT_SENDERS.*is required/);
    expect(() => loadConfig({ ...files, VIGIL_MLLP_CERT_SENDERS: 'gw=A', VIGIL_MLLP_INSECURE_PLAINTEXT_BIND: '0.0.0.0' })).toThrow(/cannot be combined/);
  });

  it('reads the connection limits', () => {
    const mllp = loadConfig({
      VIGIL_MLLP_MAX_CONNECTIONS: '100', VIGIL_MLLP_MAX_CONNECTIONS_PER_PEER: '4', VIGIL_MLLP_RESERVED_CONNECTIONS: '10',
      VIGIL_MLLP_TRUSTED_PEERS: '10.0.0.5, 10.0.0.6', VIGIL_MLLP_IDLE_TIMEOUT_S: '60',
    }).mllp;
    expect(mllp).toMatchObject({ maxConnections: 100, maxConnectionsPerPeer: 4, reservedConnections: 10, trustedPeers: ['10.0.0.5', '10.0.0.6'], idleTimeoutMs: 60_000 });
    expect(() => loadConfig({ VIGIL_MLLP_MAX_CONNECTIONS: '10', VIGIL_MLLP_RESERVED_CONNECTIONS: '10' })).toThrow(/VIGIL_MLLP_RESERVED_CONNECTIONS/);
  });
});

describe('the embedded bus is named embedded, and its old name still works', () => {
  it('defaults to embedded and reads memory as embedded', () => {
    expect(loadConfig({}).bus.kind).toBe('embedded');
    expect(loadConfig({ VIGIL_BUS: 'embedded' }).bus.kind).toBe('embedded');
    expect(loadConfig({ VIGIL_BUS: 'memory' }).bus.kind).toBe('embedded');
    expect(() => loadConfig({ VIGIL_BUS: 'rabbit' })).toThrow(/VIGIL_BUS.*rabbit.*embedded, memory, pubsub, kafka/);
  });
});

describe('retention settings', () => {
  it('keeps readings forever and the audit log six years by default, purging hourly', () => {
    expect(loadConfig({ VIGIL_AUTH_SECRET: 'x'.repeat(16) }).retention).toEqual({ days: 0, auditDays: 2190, purgeIntervalMs: 3_600_000 });
  });

  it('reads the three variables, and refuses negative days naming the variable', () => {
    const config = loadConfig({ VIGIL_RETENTION_DAYS: '30', VIGIL_AUDIT_RETENTION_DAYS: '3650', VIGIL_RETENTION_PURGE_INTERVAL_S: '60' });
    expect(config.retention).toEqual({ days: 30, auditDays: 3650, purgeIntervalMs: 60_000 });
    expect(() => loadConfig({ VIGIL_RETENTION_DAYS: '-1' })).toThrow(/VIGIL_RETENTION_DAYS/);
  });
});
