/**
 * 1С-Коннект through a real Switchboard: the pipe simulator started by the CLI, and the HTTP relay.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { apiHeaders, INGEST_TOKEN, startTestServer, type TestServer } from '../../../test/helpers/sb.js';

const cli = new URL('../../../dist/cli/main.js', import.meta.url).pathname;

async function types(t: TestServer, query: string): Promise<string[]> {
  const page = (await (await fetch(`${t.url}/v1/events?limit=1000${query}`, { headers: apiHeaders })).json()) as { events: { type: string }[] };
  return page.events.map((e) => e.type);
}

describe('1С-Коннект connector', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('`switchboard simulate connect1c answered-call` plays its scenario to a connector on the pipe', async () => {
    const child = spawn('node', [cli, 'simulate', 'connect1c', 'answered-call'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out, { timeout: 10_000 }).toContain('Ctrl-C');
    const pipe = /pipe: "([^"]+)"/.exec(out)?.[1];
    expect(pipe).toBeTruthy();
    const t = await startTestServer({ connectors: [{ id: 'office', platform: 'connect1c', pipe }] as never });
    cleanup.push(() => t.close());
    await expect.poll(() => types(t, '&type=call.*'), { timeout: 10_000 }).toEqual(expect.arrayContaining(['call.ringing', 'call.answered', 'call.ended']));
  });

  it('the HTTP relay takes several events in one XML body, and refuses a DTD with a precise 400', async () => {
    const t = await startTestServer({ connectors: [{ id: 'office', platform: 'connect1c', ingestToken: INGEST_TOKEN }] as never });
    cleanup.push(() => t.close());
    const { stdout } = await promisify(execFile)('node', [cli, 'simulate', 'connect1c', 'missed-call', '--target', `${t.url}/ingest/office`, '--token', INGEST_TOKEN]);
    expect(stdout).toMatch(/HTTP 200/);
    expect(await types(t, '&type=call.ended')).toEqual(['call.ended']);
    const bomb = '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Event ID="x">&b;</Event>';
    const res = await fetch(`${t.url}/ingest/office`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/xml' }, body: bomb });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/DTD|DOCTYPE|entity/i);
  });
});
