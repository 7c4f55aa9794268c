import { createDecoder, createVerifier } from 'fast-jwt';
import { VigilError } from '../core/errors.ts';
import type { JwksAlgorithm, JwksKeys } from './jwks.ts';

/**
 * Verifies API tokens: HS256 signed with VIGIL_AUTH_SECRET (Vigil's own, the embedded default) and,
 * when VIGIL_AUTH_JWKS_URL is set, RS256/ES256 tokens from the hospital's identity provider. The
 * header's `alg` picks the key source, and each source accepts only its own algorithms, so a public
 * key can never be used as an HMAC secret.
 *
 * On top of the signature: `exp` is required; `iat` in the future (beyond the clock skew) is
 * refused; a token living longer than the configured maximum (exp − iat, or exp − now without
 * iat) is refused; `aud` and `iss` must match when configured.
 */
export interface VerifiedClaims {
  readonly sub: string;
  /** The role claim as found (validated by the caller). */
  readonly role: unknown;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  readonly use?: string;
  /** Session id (`jti` of a session cookie; `sid` of a token minted from one). */
  readonly jti?: string;
  readonly sid?: string;
}

export interface TokenPolicy {
  readonly secret: string;
  readonly maxLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
  readonly roleClaim: string;
  readonly jwks?: JwksKeys | undefined;
}

export type TokenVerifier = (token: string) => Promise<VerifiedClaims>;

const decodeHeader = createDecoder({ complete: true });

export function createTokenVerifier(policy: TokenPolicy): TokenVerifier {
  // The skew is tolerated for `iat` only: an expired token stays expired.
  const common = { requiredClaims: ['sub', 'exp'] };
  const hs256 = createVerifier({ ...common, key: policy.secret, algorithms: ['HS256'] });
  const byProvider = new Map<string, (token: string) => Record<string, unknown>>();
  const providerVerifier = (alg: JwksAlgorithm, pem: string) => {
    const id = `${alg}\n${pem}`;
    let verify = byProvider.get(id);
    if (!verify) {
      verify = createVerifier({ ...common, key: pem, algorithms: [alg] }) as (token: string) => Record<string, unknown>;
      if (byProvider.size > 32) byProvider.clear();
      byProvider.set(id, verify);
    }
    return verify;
  };

  return async (token) => {
    let header: { alg?: unknown; kid?: unknown };
    try {
      header = (decodeHeader(token) as { header: { alg?: unknown; kid?: unknown } }).header;
    } catch (cause) {
      throw invalid('invalid token', cause);
    }
    let claims: Record<string, unknown>;
    let fromProvider = false;
    try {
      if (header.alg === 'HS256') {
        claims = hs256(token) as Record<string, unknown>;
      } else if ((header.alg === 'RS256' || header.alg === 'ES256') && policy.jwks) {
        const pem = await policy.jwks.keyFor(typeof header.kid === 'string' ? header.kid : undefined, header.alg);
        claims = providerVerifier(header.alg, pem)(token);
        fromProvider = true;
      } else {
        throw invalid(`tokens signed with ${String(header.alg)} are not accepted`);
      }
    } catch (error) {
      if (error instanceof VigilError) throw error;
      const expired = (error as { code?: string }).code === 'FAST_JWT_EXPIRED';
      throw invalid(expired ? 'token expired' : 'invalid token', error);
    }
    return checkClaims(claims, policy, fromProvider);
  };
}

function checkClaims(claims: Record<string, unknown>, policy: TokenPolicy, fromProvider: boolean): VerifiedClaims {
  const now = Date.now();
  const { sub, exp, iat } = claims;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('token has no subject');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('token has no expiry');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw invalid('token has an invalid iat');
  if (typeof iat === 'number' && iat * 1000 > now + policy.clockSkewSeconds * 1000) throw invalid('token issued in the future');
  const issuedAt = typeof iat === 'number' ? iat * 1000 : now;
  if (exp * 1000 - issuedAt > policy.maxLifetimeSeconds * 1000) {
    throw invalid(`token lifetime exceeds the maximum (VIGIL_AUTH_MAX_LIFETIME_SECONDS=${policy.maxLifetimeSeconds})`);
  }
  if (policy.audience !== undefined) {
    const aud = claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(policy.audience)) throw invalid('token audience does not match');
  }
  if (policy.issuer !== undefined && claims.iss !== policy.issuer) throw invalid('token issuer does not match');
  return {
    sub,
    role: fromProvider ? roleFrom(claims, policy.roleClaim) : claims.role,
    expiresAt: exp * 1000,
    ...(typeof claims.use === 'string' ? { use: claims.use } : {}),
    ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
    ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
  };
}

/** The role from a claim path such as `role`, or `realm_access.roles` (an array: the first Vigil role wins). */
function roleFrom(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (Array.isArray(value)) return value.find((v) => ['admin', 'clinician', 'analyst', 'device'].includes(v as string));
  return value;
}

function invalid(message: string, cause?: unknown): VigilError {
  return new VigilError('UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}
