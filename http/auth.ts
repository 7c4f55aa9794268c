import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import { createSigner } from 'fast-jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import { ROLES } from '../core/domain/principal.ts';
import type { Principal, Role } from '../core/domain/principal.ts';
import { VigilError } from '../core/errors.ts';
import type { SessionRevocations } from '../core/ports/session-revocations.ts';
import { createJwksKeys } from './jwks.ts';
import type { VerifiedClaims } from './token-verifier.ts';
import { createTokenVerifier } from './token-verifier.ts';

/**
 * API authentication and roles.
 *
 * Tokens are JWTs sent as `Authorization: Bearer <JWT>`: HS256 with VIGIL_AUTH_SECRET (`sub`,
 * `role`, `exp`), or RS256/ES256 from the hospital's identity provider (VIGIL_AUTH_JWKS_URL, role
 * from VIGIL_AUTH_ROLE_CLAIM); token-verifier.ts has the rules every token must pass.
 *
 * A browser signs in through `GET /login?token=<JWT>` (a clinician or admin token) or
 * `GET /login?code=<one-time code>` (the link `vigil start` prints), which sets a session cookie
 * (HttpOnly, SameSite=Strict, with its own id); the cookie counts only for clinician GET routes,
 * so it can never post readings or change a profile on its own. `POST /logout` revokes the
 * session in a list every instance shares (core/ports/session-revocations.ts).
 *
 * Every route states who may call it in `config.access`; a route that does not is refused (500)
 * rather than left open by accident.
 */
// Who may call is a domain notion every HTTP surface (dashboard, FHIR, readings) shares: core/domain/principal.ts.
export { ROLES };
export type { Principal, Role };

/** What the caller proved itself with, and until when it holds (the stream closes then). */
export interface Credential {
  readonly kind: 'bearer' | 'session';
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** The session behind a cookie or a page token minted from it; revoked at sign-out. */
  readonly sessionId?: string;
}

/**
 * Route access levels. `admin` may do everything a clinician may (the ward, profiles, the stream)
 * plus the admin routes; `device` routes are for devices only, so every stored reading has a device
 * identity behind it; `analyst` works in the warehouse (`vigil sql`, `POST /v1/sql`, read-only),
 * not on the ward; `clinician-or-analyst` routes serve results to both (FHIR `GET /fhir/Observation`,
 * for an EHR or a notebook; bearer token only); `session` routes take the session cookie only (a clinician's or admin's), never
 * a bearer token.
 */
export type Access = 'public' | 'authenticated' | 'device' | 'clinician' | 'admin' | 'analyst' | 'clinician-or-analyst' | 'session';

const ALLOWED: Readonly<Record<Exclude<Access, 'public'>, readonly Role[]>> = {
  authenticated: ROLES,
  device: ['device'],
  clinician: ['clinician', 'admin'],
  admin: ['admin'],
  analyst: ['analyst'],
  'clinician-or-analyst': ['clinician', 'admin', 'analyst'],
  session: ['clinician', 'admin'],
};

export const SESSION_COOKIE = 'vigil_session';
/** One shift: a clinician signs in again after this, or earlier when the sign-in token expires. */
export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;
/** Lifetime of the one-time sign-in code `vigil start` prints. */
export const SIGN_IN_CODE_SECONDS = 5 * 60;
/** Lifetime of the bearer token the ward page uses for its few writes (acknowledgements). */
export const PAGE_TOKEN_SECONDS = 10 * 60;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    credential: Credential | null;
  }
  interface FastifyInstance {
    /** A single-use sign-in code for `/login?code=`, valid SIGN_IN_CODE_SECONDS (for the start-up banner). */
    issueSignInCode(principal?: Principal): string;
    /** A short-lived clinician bearer token bound to the caller's session (`GET /v1/session/token`). */
    mintPageToken(request: FastifyRequest): { token: string; expiresAt: string };
    /** True while the credential still holds: not expired, and its session not signed out. */
    credentialHolds(credential: Credential): Promise<boolean>;
    /** Every route registered after auth, with its declared access (for the route-table test and audits). */
    readonly routeTable: readonly RouteEntry[];
  }
}

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
}

export interface SignClaims {
  readonly sub: string;
  readonly role: Role;
  /** Seconds, or a span such as "12h" or "7d". */
  readonly expiresIn: number | string;
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
}

/** Signs an HS256 API token. Used by the CLI (the simulated ward's device token) and by tests. */
export function signToken(secret: string, claims: SignClaims): string {
  return sign(secret, { sub: claims.sub, role: claims.role }, claims.expiresIn, claims);
}

/**
 * Session cookies carry `use: "session"`, and only the cookie may carry it: a session copied into
 * an Authorization header is refused, so the cookie's GET-only reach cannot be widened. Page
 * tokens minted from a session carry `use: "page"` and the session's id in `sid`.
 */
const SESSION_USE = 'session';
const PAGE_USE = 'page';

function sign(secret: string, payload: Record<string, string>, expiresIn: number | string, scope: { audience?: string | undefined; issuer?: string | undefined } = {}): string {
  const span = typeof expiresIn === 'number' ? expiresIn * 1000 : expiresIn;
  return createSigner({
    key: secret,
    algorithm: 'HS256',
    expiresIn: span,
    ...(scope.audience ? { aud: scope.audience } : {}),
    ...(scope.issuer ? { iss: scope.issuer } : {}),
  })(payload);
}

const newId = (): string => randomBytes(18).toString('base64url');

export interface AuthOptions {
  readonly auth: VigilConfig['auth'];
  readonly revocations: SessionRevocations;
}

/** Registers cookie support, the access check on every route, `/login`, `/logout` and `/v1/me`. */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { auth, revocations } = options;
  const scope = { audience: auth.audience, issuer: auth.issuer };
  const verify = createTokenVerifier({
    ...auth,
    jwks: auth.jwksUrl
      ? createJwksKeys({
          url: auth.jwksUrl,
          cacheMs: auth.jwksCacheSeconds * 1000,
          onRefresh: ({ ok, keys }) => (ok ? app.log.info({ keys }, 'identity provider keys refreshed') : app.log.warn({ keys }, 'identity provider keys could not be refreshed')),
        })
      : undefined,
  });
  const signInCodes = new Map<string, { principal: Principal; expiresAt: number }>();

  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // Automatic HEAD routes share their GET route's options.
      if (method === 'HEAD' && route.config?.access !== undefined && routeTable.some((r) => r.method === 'GET' && r.url === route.url)) continue;
      routeTable.push({ method, url: route.url, access: route.config?.access });
    }
  });

  app.register(fastifyCookie);
  app.decorateRequest('principal', null);
  app.decorateRequest('credential', null);

  app.decorate('issueSignInCode', (principal: Principal = { sub: 'clinician@local', role: 'clinician' }) => {
    const now = Date.now();
    for (const [code, entry] of signInCodes) if (entry.expiresAt <= now) signInCodes.delete(code);
    const code = newId();
    signInCodes.set(code, { principal, expiresAt: now + SIGN_IN_CODE_SECONDS * 1000 });
    return code;
  });

  app.decorate('mintPageToken', (request: FastifyRequest) => {
    const principal = request.principal;
    const credential = request.credential;
    if (!principal || credential?.kind !== 'session' || credential.sessionId === undefined) {
      throw new VigilError('UNAUTHENTICATED', 'only a session cookie can mint a page token');
    }
    // Never outlives the session, and only ever clinician-level: an admin's page gets no admin token.
    const expiresAt = Math.min(Date.now() + PAGE_TOKEN_SECONDS * 1000, credential.expiresAt);
    const seconds = Math.max(1, Math.floor((expiresAt - Date.now()) / 1000));
    const token = sign(auth.secret, { sub: principal.sub, role: 'clinician', use: PAGE_USE, sid: credential.sessionId }, seconds, scope);
    return { token, expiresAt: new Date(Date.now() + seconds * 1000).toISOString() };
  });

  const credentialHolds = async (credential: Credential): Promise<boolean> =>
    credential.expiresAt > Date.now() && !(credential.sessionId !== undefined && await revocations.isRevoked(credential.sessionId));
  app.decorate('credentialHolds', credentialHolds);

  async function principalOf(reply: FastifyReply, token: string, kind: 'bearer' | 'session'): Promise<{ principal: Principal; credential: Credential }> {
    let claims: VerifiedClaims;
    try {
      claims = await verify(token);
    } catch (error) {
      if (error instanceof VigilError && error.code === 'UNAUTHENTICATED') throw unauthenticated(reply, error.message, error.cause);
      throw error;
    }
    if ((claims.use === SESSION_USE) !== (kind === 'session')) {
      throw unauthenticated(reply, kind === 'session' ? 'not a session cookie' : 'a session cookie is not a bearer token');
    }
    if (!ROLES.includes(claims.role as Role)) throw unauthenticated(reply, 'token has an unknown role');
    const sessionId = kind === 'session' ? claims.jti : claims.use === PAGE_USE ? claims.sid : undefined;
    if ((kind === 'session' || claims.use === PAGE_USE) && sessionId === undefined) throw unauthenticated(reply, 'session token without a session id');
    const credential: Credential = { kind, expiresAt: claims.expiresAt, ...(sessionId === undefined ? {} : { sessionId }) };
    if (sessionId !== undefined && await revocations.isRevoked(sessionId)) throw unauthenticated(reply, 'session signed out');
    return { principal: { sub: claims.sub, role: claims.role as Role }, credential };
  }

  async function authenticate(request: FastifyRequest, reply: FastifyReply, access: Exclude<Access, 'public'>) {
    const header = request.headers.authorization;
    const cookie = request.cookies[SESSION_COOKIE];
    if (access === 'session') {
      if (header !== undefined) throw unauthenticated(reply, 'this route takes the session cookie only, not a bearer token');
      if (cookie) return principalOf(reply, cookie, 'session');
      throw unauthenticated(reply, 'missing session cookie');
    }
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw unauthenticated(reply, 'Authorization header must be "Bearer <token>"');
      return principalOf(reply, match[1]!, 'bearer');
    }
    const allowCookie = access === 'clinician' && (request.method === 'GET' || request.method === 'HEAD');
    if (allowCookie && cookie) return principalOf(reply, cookie, 'session');
    throw unauthenticated(reply, 'missing bearer token');
  }

  // onRequest runs before the body is read: an unauthenticated client cannot make us parse 1 MiB.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === undefined) throw new VigilError('INTERNAL', 'route declares no access level');
    if (access === 'public') return;
    const { principal, credential } = await authenticate(request, reply, access);
    request.principal = principal;
    request.credential = credential;
    if (!ALLOWED[access].includes(principal.role)) {
      throw new VigilError('FORBIDDEN', `role "${principal.role}" may not use this route`, { details: [{ required: ALLOWED[access] }] });
    }
  });

  const startSession = (request: FastifyRequest, reply: FastifyReply, principal: Principal, maxAge: number) => {
    const session = sign(auth.secret, { sub: principal.sub, role: principal.role, use: SESSION_USE, jti: newId() }, maxAge, scope);
    request.log.info({ sub: principal.sub, role: principal.role }, 'session started');
    return reply
      .header('cache-control', 'no-store')
      // The sign-in URL carries a token or code: do not hand it to whatever the page links to.
      .header('referrer-policy', 'no-referrer')
      .setCookie(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', path: '/', maxAge })
      .redirect('/', 303);
  };

  app.get('/login', {
    config: { access: 'public' },
    schema: {
      querystring: {
        type: 'object',
        properties: { token: { type: 'string', maxLength: 8192 }, code: { type: 'string', maxLength: 128 } },
      },
    },
  }, async (request, reply) => {
    const { token, code } = request.query as { token?: string; code?: string };
    if (code) {
      const entry = signInCodes.get(code);
      // Single use: gone whether or not it was still valid.
      signInCodes.delete(code);
      if (!entry || entry.expiresAt <= Date.now()) throw unauthenticated(reply, 'sign-in code unknown, used or expired');
      return startSession(request, reply, entry.principal, SESSION_MAX_AGE_SECONDS);
    }
    if (!token) throw unauthenticated(reply, 'missing token parameter');
    const { principal, credential } = await principalOf(reply, token, 'bearer');
    if (!ALLOWED.clinician.includes(principal.role)) {
      throw new VigilError('FORBIDDEN', `role "${principal.role}" cannot sign in to the dashboard`);
    }
    const maxAge = Math.max(1, Math.min(SESSION_MAX_AGE_SECONDS, Math.floor((credential.expiresAt - Date.now()) / 1000)));
    return startSession(request, reply, principal, maxAge);
  });

  app.post('/logout', { config: { access: 'public' } }, async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) {
      try {
        const { principal, credential } = await principalOf(reply, cookie, 'session');
        await revocations.revoke(credential.sessionId!, credential.expiresAt);
        request.log.info({ sub: principal.sub }, 'session signed out');
      } catch (error) {
        // An expired, forged or already revoked cookie has nothing left to revoke.
        if (!(error instanceof VigilError && error.code === 'UNAUTHENTICATED')) throw error;
      }
    }
    return reply.header('cache-control', 'no-store').clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send();
  });

  app.get('/v1/me', { config: { access: 'authenticated' } }, async (request) => request.principal);
}

function unauthenticated(reply: FastifyReply, message: string, cause?: unknown): VigilError {
  reply.header('www-authenticate', 'Bearer');
  return new VigilError('UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}
