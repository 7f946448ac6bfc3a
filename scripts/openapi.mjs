/**
 * Writes docs/openapi.json from the route schemas (`npm run openapi`, after the build): starts
 * Switchboard on a temporary data folder and a free loopback port, fetches /openapi.json, stops.
 * test/openapi.test.ts fails when the committed file differs from what the server serves.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createSwitchboard } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-openapi-'));
const sb = createSwitchboard({ server: { port: 0, host: '127.0.0.1' }, store: { sqlite: join(dir, 'sb.db') }, connectors: [] }, { logger: pino({ level: 'silent' }), processMetrics: false, env: {} });
try {
  await sb.start({ background: false });
  const res = await fetch(`${sb.url}/openapi.json`);
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  const out = new URL('../docs/openapi.json', import.meta.url);
  writeFileSync(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
  console.log(`wrote ${out.pathname}`);
} finally {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}
