import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { VigilError } from '../core/errors.ts';

/**
 * Serves the ward page (`dashboard-api/public/index.html`) at `GET /` and the files beside it
 * under `GET /assets/*`, for signed-in clinicians (the session cookie from `/login` is enough).
 * Files are read per request: they are few and small, and a page edit shows without a restart.
 */
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

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

export function registerDashboardPage(app: FastifyInstance, publicDir: string = PUBLIC_DIR): void {
  app.get('/', { config: { access: 'clinician' } }, async (_request, reply) => {
    const page = await readPublic(publicDir, 'index.html');
    return pageHeaders(reply).type(CONTENT_TYPES['.html']!).send(page ?? PLACEHOLDER);
  });

  app.get('/assets/*', { config: { access: 'clinician' } }, async (request, reply) => {
    const relative = (request.params as { '*': string })['*'];
    const type = CONTENT_TYPES[path.extname(relative).toLowerCase()];
    const body = type ? await readPublic(publicDir, relative) : undefined;
    if (!type || body === undefined) throw new VigilError('NOT_FOUND', 'no such asset');
    return pageHeaders(reply).type(type).send(body);
  });
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
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
