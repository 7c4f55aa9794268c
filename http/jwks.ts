import { createPublicKey } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { VigilError } from '../core/errors.ts';

/**
 * The hospital identity provider's signing keys, read from its JWKS URL.
 *
 * Keys are cached for `cacheMs`; a token naming a `kid` the cache does not hold triggers a refetch
 * (the provider rotated its keys), but at most once per `minRefetchMs`, so a stream of tokens with
 * made-up `kid`s cannot turn Vigil into a request amplifier against the provider. When a refresh
 * fails, the keys already known keep working until the provider answers again.
 */
export type JwksAlgorithm = 'RS256' | 'ES256';

export interface JwksKeys {
  /** The PEM public key for `kid` usable with `alg`; throws UNAUTHENTICATED when there is none. */
  keyFor(kid: string | undefined, alg: JwksAlgorithm): Promise<string>;
}

interface CachedKey {
  readonly kid: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly pem: string;
}

const MAX_JWKS_BYTES = 1_048_576;

export function createJwksKeys(options: {
  url: string;
  cacheMs: number;
  minRefetchMs?: number;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  onRefresh?: (outcome: { ok: boolean; keys: number }) => void;
  /** Epoch milliseconds; injectable so the refetch interval can be tested without racing the clock. */
  now?: () => number;
}): JwksKeys & { readonly fetches: () => number } {
  const minRefetchMs = options.minRefetchMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  let keys: CachedKey[] | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let fetches = 0;

  async function load(): Promise<void> {
    attemptedAt = now();
    fetches++;
    try {
      const res = await doFetch(options.url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
      if (!res.ok) throw new Error(`JWKS answered HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS document too large');
      keys = parseJwks(JSON.parse(text) as unknown);
      fetchedAt = now();
      options.onRefresh?.({ ok: true, keys: keys.length });
    } catch (cause) {
      options.onRefresh?.({ ok: false, keys: keys?.length ?? 0 });
      if (keys === undefined) throw new VigilError('BACKEND_UNAVAILABLE', 'the identity provider\'s keys (VIGIL_AUTH_JWKS_URL) cannot be read', { cause });
    }
  }
  const refresh = (): Promise<void> => (inFlight ??= load().finally(() => { inFlight = undefined; }));

  const find = (kid: string | undefined, alg: JwksAlgorithm): CachedKey | undefined => {
    const usable = (keys ?? []).filter((k) => (alg === 'RS256' ? k.kty === 'RSA' : k.kty === 'EC' && k.crv === 'P-256'));
    if (kid !== undefined) return usable.find((k) => k.kid === kid);
    return usable.length === 1 ? usable[0] : undefined;
  };

  return {
    fetches: () => fetches,
    async keyFor(kid, alg) {
      if (now() - fetchedAt > options.cacheMs) await refresh().catch(rethrowUnlessCached);
      let key = find(kid, alg);
      if (!key && now() - attemptedAt >= minRefetchMs) {
        await refresh().catch(rethrowUnlessCached);
        key = find(kid, alg);
      }
      if (!key) throw new VigilError('UNAUTHENTICATED', 'token signed with an unknown key');
      return key.pem;
    },
  };

  function rethrowUnlessCached(error: unknown): void {
    if (keys === undefined) throw error;
  }
}

function parseJwks(document: unknown): CachedKey[] {
  const list = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new Error('JWKS document has no "keys" array');
  const keys: CachedKey[] = [];
  for (const jwk of list as (JsonWebKey & { kid?: unknown; use?: unknown })[]) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    // Only public parts: a JWKS that leaks a private key must not make us hold it.
    const { kty, n, e, crv, x, y } = jwk;
    try {
      const pem = createPublicKey({ key: { kty, n, e, crv, x, y } as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, kty, crv, pem });
    } catch {
      // An unusable entry is skipped; the others still work.
    }
  }
  return keys;
}
