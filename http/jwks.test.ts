import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwksKeys } from './jwks.ts';
import type { ReadSideApp } from '../dashboard-api/test-fixtures.ts';
import { readSideApp, testConfig } from '../dashboard-api/test-fixtures.ts';

/** A JWKS served by the test itself on loopback, standing in for the hospital's identity provider. */
interface TestKey { kid: string; alg: 'RS256' | 'ES256'; privateKey: KeyObject; publicJwk: object }

function testKey(kid: string, alg: 'RS256' | 'ES256'): TestKey {
  const { privateKey, publicKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg } };
}

function signWith(key: TestKey, claims: object, kid: string | undefined = key.kid): string {
  const now = Math.floor(Date.now() / 1000);
  return createSigner({ key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: key.alg, ...(kid ? { kid } : {}) })({ iat: now, exp: now + 600, ...claims });
}

let server: Server;
let url: string;
let served: TestKey[] = [];
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: served.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('identity-provider tokens (VIGIL_AUTH_JWKS_URL)', () => {
  const rsa = testKey('rsa-1', 'RS256');
  const ec = testKey('ec-1', 'ES256');
  const stranger = testKey('rsa-1', 'RS256'); // same kid, key not published
  let ctx: ReadSideApp;

  beforeAll(async () => {
    served = [rsa, ec];
    ctx = readSideApp({ config: testConfig({ VIGIL_AUTH_JWKS_URL: url, VIGIL_AUTH_ROLE_CLAIM: 'vigil.role', VIGIL_AUTH_ISSUER: 'https://idp.test' }) });
    await ctx.app.ready();
  });
  afterAll(async () => {
    await ctx.app.close();
    await ctx.audit.close();
  });
  const get = (token: string, url = '/v1/patients') => ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it.each([['RS256', rsa], ['ES256', ec]] as const)('accepts a %s token, with the role from the configured claim', async (_alg, key) => {
    const res = await get(signWith(key, { sub: 'nurse@hospital', iss: 'https://idp.test', vigil: { role: 'clinician' } }));
    expect(res.statusCode, res.body).toBe(200);
    const me = await get(signWith(key, { sub: 'nurse@hospital', iss: 'https://idp.test', vigil: { role: 'clinician' } }), '/v1/me');
    expect(me.json()).toEqual({ sub: 'nurse@hospital', role: 'clinician' });
  });

  it('ignores a top-level "role" when the role claim is configured elsewhere', async () => {
    const res = await get(signWith(rsa, { sub: 'x', iss: 'https://idp.test', role: 'admin' }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('token has an unknown role');
  });

  it('refuses a token signed by a key the provider does not publish, and one with the wrong issuer', async () => {
    expect((await get(signWith(stranger, { sub: 'x', iss: 'https://idp.test', vigil: { role: 'admin' } }))).statusCode).toBe(401);
    expect((await get(signWith(rsa, { sub: 'x', iss: 'https://other.test', vigil: { role: 'admin' } }))).statusCode).toBe(401);
  });

  it('refuses an HS256 token signed with the provider\'s public key as the secret (algorithm confusion)', async () => {
    const pem = createPublicKeyPem(rsa);
    const now = Math.floor(Date.now() / 1000);
    const forged = createSigner({ key: pem, algorithm: 'HS256' })({ sub: 'x', iss: 'https://idp.test', role: 'admin', vigil: { role: 'admin' }, iat: now, exp: now + 60 });
    expect((await get(forged)).statusCode).toBe(401);
  });

  it('still accepts HS256 tokens signed with VIGIL_AUTH_SECRET alongside', async () => {
    const own = createSigner({ key: 'test-secret-0123456789abcdef', algorithm: 'HS256', expiresIn: 60_000 })({ sub: 'local', role: 'clinician', iss: 'https://idp.test' });
    expect((await get(own)).statusCode).toBe(200);
  });
});

describe('JWKS key cache', () => {
  it('refetches on an unknown kid (rotation), but at most once per interval', async () => {
    const first = testKey('k1', 'RS256');
    const rotated = testKey('k2', 'ES256');
    served = [first];
    requests = 0;
    // A hand-moved clock: on a busy machine 20 rejections can outlast any real interval.
    let clock = 1_000_000;
    const keys = createJwksKeys({ url, cacheMs: 60_000, minRefetchMs: 10_000, now: () => clock });
    await keys.keyFor('k1', 'RS256');
    expect(requests).toBe(1);
    served = [rotated];
    // Within the interval an unknown kid gets no refetch, however many tokens name one.
    clock += 9_999;
    for (let i = 0; i < 20; i++) await expect(keys.keyFor(`made-up-${i}`, 'RS256')).rejects.toThrow('unknown key');
    expect(requests).toBe(1);
    // After it, the rotated key is fetched and found.
    clock += 1;
    await expect(keys.keyFor('k2', 'ES256')).resolves.toContain('BEGIN PUBLIC KEY');
    expect(requests).toBe(2);
  });

  it('refetches when the cache is older than its TTL, and keeps known keys when the provider is down', async () => {
    const key = testKey('k3', 'RS256');
    served = [key];
    requests = 0;
    let down = false;
    let clock = 1_000_000;
    const keys = createJwksKeys({
      url, cacheMs: 1_000, minRefetchMs: 0, now: () => clock,
      fetch: async (input, init) => (down ? Promise.reject(new Error('connection refused')) : fetch(input, init)),
    });
    await keys.keyFor('k3', 'RS256');
    clock += 999;
    await keys.keyFor('k3', 'RS256');
    expect(requests, 'still fresh: no refetch').toBe(1);
    clock += 2;
    await keys.keyFor('k3', 'RS256');
    expect(requests, 'older than the TTL: refetched').toBe(2);
    down = true;
    clock += 1_001;
    await expect(keys.keyFor('k3', 'RS256')).resolves.toContain('BEGIN PUBLIC KEY');
  });

  it('says the provider is unavailable (503) when no key was ever fetched', async () => {
    const keys = createJwksKeys({ url: 'http://127.0.0.1:1/jwks.json', cacheMs: 60_000, timeoutMs: 2_000 });
    await expect(keys.keyFor('k', 'RS256')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('never uses a key of the wrong type for the algorithm', async () => {
    served = [testKey('ec-only', 'ES256')];
    const keys = createJwksKeys({ url, cacheMs: 60_000 });
    await expect(keys.keyFor('ec-only', 'RS256')).rejects.toThrow('unknown key');
  });
});

function createPublicKeyPem(key: TestKey): string {
  return createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
