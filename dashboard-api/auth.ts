import fastifyCookie from '@fastify/cookie';
import fastifyJwt from '@fastify/jwt';
import { createSigner } from 'fast-jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../core/errors.ts';

/**
 * API authentication and roles.
 *
 * Tokens are HS256 JWTs (`sub`, `role`, `exp` required) sent as `Authorization: Bearer <JWT>`.
 * A browser signs in once through `GET /login?token=<JWT>`, which exchanges a clinician or admin
 * token for a short-lived session cookie (HttpOnly, SameSite=Strict); the cookie counts only for
 * clinician GET routes, so it can never post readings or change a profile on its own.
 *
 * Every route states who may call it in `config.access`; a route that does not is refused (500)
 * rather than left open by accident.
 */
export const ROLES = ['device', 'clinician', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly sub: string;
  readonly role: Role;
}

/**
 * Route access levels. `admin` may do everything a clinician may (the ward, profiles, the stream)
 * plus the admin routes; `device` routes are for devices only, so every stored reading has a device
 * identity behind it; `analyst` works in the warehouse (`vigil sql`), not on the ward.
 */
export type Access = 'public' | 'authenticated' | 'device' | 'clinician' | 'admin';

const ALLOWED: Readonly<Record<Exclude<Access, 'public'>, readonly Role[]>> = {
  authenticated: ROLES,
  device: ['device'],
  clinician: ['clinician', 'admin'],
  admin: ['admin'],
};

export const SESSION_COOKIE = 'vigil_session';
/** One shift: a clinician signs in again after this, or earlier when the sign-in token expires. */
export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Signs an API token. `expiresIn` is seconds, or a span such as "12h" or "7d".
 * Used by `npm start` to print a sign-in link, and by tests.
 */
export function signToken(secret: string, claims: { sub: string; role: Role; expiresIn: number | string }): string {
  return sign(secret, { sub: claims.sub, role: claims.role }, claims.expiresIn);
}

/**
 * Session cookies carry `use: "session"`, and only the cookie may carry it: a session copied into
 * an Authorization header is refused, so the cookie's GET-only reach cannot be widened.
 */
const SESSION_USE = 'session';

function sign(secret: string, payload: Record<string, string>, expiresIn: number | string): string {
  const span = typeof expiresIn === 'number' ? expiresIn * 1000 : expiresIn;
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: span })(payload);
}

/** Registers cookie and JWT support, the access check on every route, `/login` and `/logout`. */
export function registerAuth(app: FastifyInstance, secret: string): void {
  app.register(fastifyCookie);
  app.register(fastifyJwt, {
    secret,
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'role', 'exp'] },
  });
  app.decorateRequest('principal', null);

  // onRequest runs before the body is read: an unauthenticated client cannot make us parse 1 MiB.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === undefined) throw new VigilError('INTERNAL', 'route declares no access level');
    if (access === 'public') return;
    const allowCookie = access === 'clinician' && (request.method === 'GET' || request.method === 'HEAD');
    const principal = authenticate(app, request, reply, allowCookie);
    if (!ALLOWED[access].includes(principal.role)) {
      request.principal = principal;
      throw new VigilError('FORBIDDEN', `role "${principal.role}" may not use this route`, { details: [{ required: ALLOWED[access] }] });
    }
    request.principal = principal;
  });

  app.get('/login', {
    config: { access: 'public' },
    schema: { querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 8192 } } } },
  }, async (request, reply) => {
    const { token } = request.query as { token?: string };
    if (!token) throw unauthenticated(reply, 'missing token parameter');
    const principal = verifyToken(app, reply, token, 'bearer');
    if (!ALLOWED.clinician.includes(principal.role)) {
      throw new VigilError('FORBIDDEN', `role "${principal.role}" cannot sign in to the dashboard`);
    }
    const tokenExp = (app.jwt.decode<{ exp: number }>(token)?.exp ?? 0) * 1000;
    const maxAge = Math.max(1, Math.min(SESSION_MAX_AGE_SECONDS, Math.floor((tokenExp - Date.now()) / 1000)));
    const session = sign(secret, { sub: principal.sub, role: principal.role, use: SESSION_USE }, maxAge);
    return reply
      .header('cache-control', 'no-store')
      // The sign-in URL carries a token: do not hand it to whatever the page links to.
      .header('referrer-policy', 'no-referrer')
      .setCookie(SESSION_COOKIE, session, {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
        maxAge,
      })
      .redirect('/', 303);
  });

  app.post('/logout', { config: { access: 'public' } }, async (_request, reply) =>
    reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send());

  app.get('/v1/me', { config: { access: 'authenticated' } }, async (request) => request.principal);
}

function authenticate(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, allowCookie: boolean): Principal {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthenticated(reply, 'Authorization header must be "Bearer <token>"');
    return verifyToken(app, reply, match[1]!, 'bearer');
  }
  const cookie = allowCookie ? request.cookies[SESSION_COOKIE] : undefined;
  if (cookie) return verifyToken(app, reply, cookie, 'session');
  throw unauthenticated(reply, 'missing bearer token');
}

function verifyToken(app: FastifyInstance, reply: FastifyReply, token: string, kind: 'bearer' | 'session'): Principal {
  let claims: { sub?: unknown; role?: unknown; use?: unknown };
  try {
    claims = app.jwt.verify(token);
  } catch (error) {
    const expired = (error as { code?: string }).code === 'FAST_JWT_EXPIRED';
    throw unauthenticated(reply, expired ? 'token expired' : 'invalid token', error);
  }
  if ((claims.use === SESSION_USE) !== (kind === 'session')) {
    throw unauthenticated(reply, kind === 'session' ? 'not a session cookie' : 'a session cookie is not a bearer token');
  }
  const { sub, role } = claims;
  if (typeof sub !== 'string' || sub.length === 0) throw unauthenticated(reply, 'token has no subject');
  if (!ROLES.includes(role as Role)) throw unauthenticated(reply, 'token has an unknown role');
  return { sub, role: role as Role };
}

function unauthenticated(reply: FastifyReply, message: string, cause?: unknown): VigilError {
  reply.header('www-authenticate', 'Bearer');
  return new VigilError('UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}
