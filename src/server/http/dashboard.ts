/**
 * The dashboard (issue 19) at `/`: the page and assets built by `npm run build` from
 * `dashboard/` (Preact, uPlot) into `dist/dashboard/`, served as files with `@fastify/send` — no
 * build step at run time. (Not `@fastify/static`: for one page and a few hashed assets it would
 * add 8 MiB of resident memory, against the server's 200 MB budget.) The page authorizes itself
 * with the session cookie of `POST /v1/sessions`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../core/index.js';
import type { App } from './openapi.js';

/** The built dashboard: the same folder from `src/` (tests) and from `dist/`. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

/** What the page may load and where it may connect: only this server. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const YEAR_MS = 365 * 86_400_000;

/** Sends a file of the built dashboard (or its 404, 304, 416 as `send` decides). */
async function sendFile(req: FastifyRequest, reply: FastifyReply, root: string, path: string, page: boolean): Promise<FastifyReply> {
  const { statusCode, headers, stream, type } = await send(req.raw, path, page ? { root, index: false, cacheControl: false } : { root, index: false, dotfiles: 'deny', maxAge: YEAR_MS, immutable: true });
  // Not there, or outside the folder (a path with `..`): the same answer as for any unknown route.
  if (type === 'error' && (statusCode === 404 || statusCode === 403)) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`);
  void reply.code(statusCode).headers(headers);
  if (page) void reply.header('cache-control', 'no-cache').header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  return reply.send(stream);
}

export async function registerDashboard(app: App, dir = DASHBOARD_DIR): Promise<void> {
  const built = existsSync(`${dir}index.html`);
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    if (!built) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'the dashboard is not built: run npm run build');
    return sendFile(req, reply, dir, '/index.html', true);
  });
  // Asset names carry their content's hash: cached for a year, never revalidated.
  app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => sendFile(req, reply, `${dir}assets`, `/${req.params.file}`, false));
}
