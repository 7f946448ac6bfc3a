/**
 * The dashboard (issue 19) at `/`: the page and assets built by `npm run build` from
 * `dashboard/` (Preact, uPlot) into `dist/dashboard/`, served as files — no build step at run
 * time. The page authorizes itself with the session cookie of `POST /v1/sessions`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { SwitchboardError } from '../../core/index.js';
import type { App } from './openapi.js';

/** The built dashboard: the same folder from `src/` (tests) and from `dist/`. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

/** What the page may load and where it may connect: only this server. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function registerDashboard(app: App, dir = DASHBOARD_DIR): Promise<void> {
  const built = existsSync(`${dir}index.html`);
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      wildcard: false,
      index: false,
      // Asset names carry their content's hash.
      immutable: true,
      maxAge: '365d',
      setHeaders: (reply, path) => {
        if (path.endsWith('index.html')) void reply.header('cache-control', 'no-cache');
      },
    });
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    if (!built) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'the dashboard is not built: run npm run build');
    return reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').sendFile('index.html', { maxAge: 0, immutable: false });
  });
}
