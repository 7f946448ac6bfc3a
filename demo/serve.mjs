#!/usr/bin/env node
/**
 * The call widget demo: three small HTTP servers on loopback, three origins.
 *
 * - the app page (`index.html` + `app.js`, which uses `src/client`), with `/sb/*` relayed to the
 *   Switchboard server so that the page posts to its own origin (see "Cross-origin" below);
 * - the fake call widget (`widget.html` + `widget.js`), which posts a scenario's web messages to
 *   the page with `postMessage`;
 * - a foreign frame (`foreign.html`), which posts widget-shaped messages the page must ignore.
 *
 * The page's scripts are bundled from the sources with esbuild when the demo starts (nothing is
 * written to disk).
 *
 *   node demo/serve.mjs --server http://127.0.0.1:8080 --token "$(cat data/api-token)" \
 *     [--connector widget-web] [--scenario answered-call] [--port 8090] [--direct]
 *
 * Cross-origin: a page forwarding to a Switchboard on another origin needs CORS on `/ingest`
 * (a preflight, because of `Authorization`). Until the server answers it, put Switchboard behind
 * the app's own origin, as this demo does with `/sb/`; `--direct` posts to `--server` itself.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/check-size.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RELAY_PREFIX = '/sb';

function listen(handler, host, port) {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      try {
        handler(req, res);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      }
    });
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, origin: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}` });
    });
  });
}

function serveFiles(files) {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const file = files[path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(file.body);
  };
}

/** Relays `/sb/<rest>` to `<server>/<rest>`: method, auth and body in, status, Retry-After and body out. */
function relay(target, req, res) {
  const url = new URL(target.replace(/\/+$/, '') + (req.url ?? '/').slice(RELAY_PREFIX.length));
  const headers = {};
  for (const h of ['authorization', 'content-type', 'content-length']) if (req.headers[h]) headers[h] = req.headers[h];
  const up = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: req.method, headers }, (upRes) => {
    const out = {};
    for (const h of ['content-type', 'retry-after']) if (upRes.headers[h]) out[h] = upRes.headers[h];
    res.writeHead(upRes.statusCode ?? 502, out);
    upRes.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`relay: ${err.message}`);
  });
  req.pipe(up);
}

/**
 * Starts the demo's three origins.
 * @param {import('./serve.d.mts').DemoOptions} [options]
 * @returns {Promise<import('./serve.d.mts').Demo>}
 */
export async function startDemo(options = {}) {
  const { server, token, connector = 'widget-web', scenario = 'answered-call', host = '127.0.0.1', direct = false, flushMs = 500, port = 0 } = options;
  const [app, widget] = await Promise.all([bundle({ entry: join(here, 'app.js') }), bundle({ entry: join(here, 'widget.js') })]);
  const html = (name) => ({ type: 'text/html; charset=utf-8', body: readFileSync(join(here, name)) });
  const js = (code) => ({ type: 'text/javascript; charset=utf-8', body: Buffer.from(code) });

  const appFiles = serveFiles({ '/': html('index.html'), '/index.html': html('index.html'), '/app.js': js(app.code) });
  const appSide = await listen(
    (req, res) => (server && (req.url ?? '').startsWith(`${RELAY_PREFIX}/`) ? relay(server, req, res) : appFiles(req, res)),
    host,
    port,
  );
  const widgetSide = await listen(serveFiles({ '/widget.html': html('widget.html'), '/widget.js': js(widget.code) }), host, 0);
  const foreignSide = await listen(serveFiles({ '/foreign.html': html('foreign.html') }), host, 0);

  const pageUrl = (extra = {}) => {
    const q = new URLSearchParams({ connector, widget: widgetSide.origin, foreign: foreignSide.origin, scenario, flushMs: String(flushMs) });
    if (server) q.set('server', direct ? server : `${appSide.origin}${RELAY_PREFIX}`);
    if (token) q.set('token', token);
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return `${appSide.origin}/?${q}`;
  };

  return {
    appOrigin: appSide.origin,
    widgetOrigin: widgetSide.origin,
    foreignOrigin: foreignSide.origin,
    pageUrl,
    async close() {
      await Promise.all(
        [appSide, widgetSide, foreignSide].map(
          ({ server: s }) =>
            new Promise((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const arg = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const demo = await startDemo({
    server: arg('server'),
    token: arg('token'),
    connector: arg('connector') ?? 'widget-web',
    scenario: arg('scenario') ?? 'answered-call',
    port: Number(arg('port') ?? 0),
    direct: args.includes('--direct'),
  });
  process.stdout.write(
    [
      'Call widget demo:',
      `  page           ${demo.pageUrl()}`,
      `  fake widget    ${demo.widgetOrigin}/widget.html`,
      `  foreign frame  ${demo.foreignOrigin}/foreign.html`,
      arg('server') ? '' : '  (no --server/--token: events stay in the page)',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.close();
}
