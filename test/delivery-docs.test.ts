/**
 * docs/delivery.md's receiver example, run as written: it verifies and parses what Switchboard
 * sends, and refuses what is not signed with its secret.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, freePort } from './helpers/process.js';
import { chatMessage, startDeliveryServer } from './helpers/delivery.js';
import { waitFor } from './helpers/receiver.js';

const SECRET = `whsec_${Buffer.from('the receiver example in docs/delivery.md').toString('base64')}`;

describe('docs/delivery.md', () => {
  // Under node_modules so that the example's imports resolve from the repository's packages.
  const dir = join(REPO_ROOT, 'node_modules', '.cache', `delivery-docs-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the receiver example verifies, parses and deduplicates deliveries, and refuses unsigned requests', async () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'delivery.md'), 'utf8');
    const code = /<!-- receiver-example -->\n```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(code, 'a ```js block after <!-- receiver-example -->').toBeDefined();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'receiver.mjs');
    writeFileSync(file, code ?? '');
    const port = await freePort();
    const child = spawn(process.execPath, [file], { env: { ...process.env, SWITCHBOARD_WEBHOOK_SECRET: SECRET, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const s = await startDeliveryServer({ subscriptions: [{ id: 'docs', url: `http://127.0.0.1:${port}/hooks/switchboard`, secret: SECRET }] });
    try {
      await waitFor(() => out.includes('listening on'), 10_000, () => `the example did not start: ${err}`);
      const forged = await fetch(`http://127.0.0.1:${port}/hooks/switchboard`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, body: '{}' });
      expect(forged.status).toBe(401);
      const message = chatMessage('79006660001', 'from the docs');
      await s.ingest([message]);
      await waitFor(() => /received message\.created/.test(out), 10_000, () => `stdout: ${out}\nstderr: ${err}`);
      expect(out).toMatch(/received message\.created conversation\/79006660001@c\.us [0-9a-f-]{36} \d{16}/);
      // The receiver printed before its answer reached Switchboard: a replay asked before the
      // delivery is recorded finds the row still pending and leaves it (alreadyPending).
      await waitFor(async () => (await s.api<{ deliveries: { status: string }[] }>('GET', '/v1/subscriptions/docs/deliveries')).json.deliveries[0]?.status === 'delivered', 10_000);
      // A replay is delivered again (same id) and the example handles it once.
      const replay = await s.api<{ enqueued: number }>('POST', '/v1/subscriptions/docs/replay', {});
      expect(replay.json.enqueued).toBe(1);
      await waitFor(async () => (await s.api<{ deliveries: { round: number; status: string }[] }>('GET', '/v1/subscriptions/docs/deliveries')).json.deliveries[0]?.round === 2, 10_000);
      await waitFor(async () => (await s.api<{ deliveries: { status: string }[] }>('GET', '/v1/subscriptions/docs/deliveries')).json.deliveries[0]?.status === 'delivered', 10_000);
      expect(out.match(/received /g)).toHaveLength(1);
      expect(err).toBe('');
    } finally {
      child.kill('SIGTERM');
      await s.close();
    }
  });
});
