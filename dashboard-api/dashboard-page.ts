import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NEWS2_BANDS } from '../core/domain/news2.ts';
import { VigilError } from '../core/errors.ts';
import { toVigilError, sendError } from '../http/http-errors.ts';

/**
 * The ward page and what it loads:
 * - `GET /` (signed-in clinicians): `public/index.html`. Without a session the browser is sent to
 *   the sign-in page; a signed-in role that may not see the ward gets a plain 403 page.
 * - `GET /signin` (public): `public/signin.html`, a form that takes a clinician token to `/login`.
 * - `GET /assets/*` (clinicians): the files beside index.html; `assets/vendor/uplot/*` from the
 *   installed uPlot package (no CDN: wards often have no internet); `assets/news2-bands.js` (an
 *   ES module, so it preloads with the others) and `.json` are the scoring chart of
 *   core/domain/news2.ts, so the page draws exactly the bands the scorer uses.
 * Files are read per request: they are few and small, and a page edit shows without a restart.
 */
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot'));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const PLACEHOLDER = '<!doctype html><meta charset="utf-8"><title>Vigil</title><p>Signed in. The ward page is not installed; the API is under <code>/v1/</code>.</p>';
const FORBIDDEN_PAGE = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Vigil: not for this role</title>'
  + '<body style="font:16px system-ui,sans-serif;margin:3rem;color:#111"><h1>The ward is for clinicians</h1>'
  + '<p>You are signed in with a role that cannot see patient data on the ward.</p>'
  + '<p><a href="/signin">Sign in as a clinician</a></p></body></html>';

/** Chart bands as JSON: `Infinity` (the open top row) becomes null. */
const NEWS2_BANDS_JSON = JSON.stringify(NEWS2_BANDS, (_key, value: unknown) => (value === Infinity ? null : value));

/** The ward's own files and uPlot's, by the path under `/assets/`. */
function assetLocation(publicDir: string, relative: string): { dir: string; file: string } {
  const vendor = 'vendor/uplot/';
  return relative.startsWith(vendor) ? { dir: UPLOT_DIR, file: relative.slice(vendor.length) } : { dir: publicDir, file: relative };
}

export function registerDashboardPage(app: FastifyInstance, publicDir: string = PUBLIC_DIR): void {
  app.get('/', {
    config: { access: 'clinician' },
    // The access check runs before the handler; a browser (it asks for HTML) gets pages, API
    // clients the usual JSON errors.
    errorHandler: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const vigilError = toVigilError(error);
      const browser = (request.headers.accept ?? '').includes('text/html');
      if (browser && vigilError.code === 'UNAUTHENTICATED' && request.headers.authorization === undefined) {
        return reply.header('cache-control', 'no-store').redirect('/signin', 303);
      }
      if (browser && vigilError.code === 'FORBIDDEN') return pageHeaders(reply).code(403).type(CONTENT_TYPES['.html']!).send(FORBIDDEN_PAGE);
      return sendError(reply, vigilError);
    },
  }, async (_request, reply) => {
    const page = await readPublic(publicDir, 'index.html');
    return pageHeaders(reply).type(CONTENT_TYPES['.html']!).send(page ?? PLACEHOLDER);
  });

  app.get('/signin', { config: { access: 'public' } }, async (_request, reply) => {
    const page = await readPublic(publicDir, 'signin.html');
    if (page === undefined) throw new VigilError('NOT_FOUND', 'no sign-in page installed');
    return pageHeaders(reply).type(CONTENT_TYPES['.html']!).send(page);
  });

  app.get('/assets/news2-bands.json', { config: { access: 'clinician' } }, async (_request, reply) =>
    pageHeaders(reply).type(CONTENT_TYPES['.json']!).send(NEWS2_BANDS_JSON));
  app.get('/assets/news2-bands.js', { config: { access: 'clinician' } }, async (_request, reply) =>
    pageHeaders(reply).type(CONTENT_TYPES['.js']!).send(`export default ${NEWS2_BANDS_JSON};\n`));

  app.get('/assets/*', { config: { access: 'clinician' } }, async (request, reply) => {
    const relative = (request.params as { '*': string })['*'];
    const type = CONTENT_TYPES[path.extname(relative).toLowerCase()];
    const { dir, file } = assetLocation(publicDir, relative);
    const body = type ? await readPublic(dir, file) : undefined;
    if (!type || body === undefined) throw new VigilError('NOT_FOUND', 'no such asset');
    return pageHeaders(reply).type(type).send(body);
  });
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    // Everything the page uses comes from here; inline script is never needed.
    .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'");
}

/** The file under `dir`, or undefined when missing or when the path would leave `dir`. */
async function readPublic(dir: string, relative: string): Promise<Buffer | undefined> {
  const full = path.resolve(dir, relative);
  if (!full.startsWith(path.resolve(dir) + path.sep)) return undefined;
  try {
    return await readFile(full);
  } catch {
    return undefined;
  }
}
