/**
 * `switchboard simulate widget|threads` posts a scenario to a running server as an app's relay
 * would; `--list` lists the scenarios of every simulator.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, INGEST_TOKEN, startTestServer, type TestServer } from './helpers/sb.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const run = (...args: string[]) => promisify(execFile)('node', [cli, 'simulate', ...args]);

describe('switchboard simulate (relayed platforms)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ connectors: [{ id: 'w', platform: 'widget', ingestToken: INGEST_TOKEN }, { id: 'th', platform: 'threads', ingestToken: INGEST_TOKEN }] as never });
  });
  afterAll(async () => t.close());

  const types = async (connector: string) =>
    ((await (await fetch(`${t.url}/v1/events?limit=1000&connector=${connector}`, { headers: apiHeaders })).json()) as { events: { type: string }[] }).events.map((e) => e.type);

  it('widget: web messages and mobile codes of a scenario reach the server', async () => {
    const [first] = Object.keys((await import('../src/connectors/widget/scenarios.js')).WIDGET_SCENARIOS);
    const web = await run('widget', String(first), '--target', `${t.url}/ingest/w`, '--token', INGEST_TOKEN);
    expect(web.stdout).toMatch(/sent \d+ messages .* \d+ accepted/);
    const mobile = await run('widget', String(first), '--target', `${t.url}/ingest/w`, '--token', INGEST_TOKEN, '--form', 'mobile');
    expect(mobile.stdout).toMatch(/sent \d+ messages/);
    expect(await types('w')).toContain('call.ringing');
  });

  it('threads: a scenario of pushes reaches the server', async () => {
    const [first] = Object.keys((await import('../src/connectors/threads/scenarios.js')).THREADS_SCENARIOS);
    const out = await run('threads', String(first), '--target', `${t.url}/ingest/th`, '--token', INGEST_TOKEN);
    expect(out.stdout).toMatch(/sent \d+ messages .* \d+ accepted/);
    expect((await types('th')).length).toBeGreaterThan(0);
  });

  it('lists scenarios, and says what is missing without --target', async () => {
    for (const platform of ['greenapi', 'twin', 'connect1c', 'widget', 'threads']) expect((await run(platform, '--list')).stdout).toContain(`scenarios of ${platform}:`);
    await expect(run('widget', 'nonexistent-scenario', '--target', 'http://127.0.0.1:1/')).rejects.toMatchObject({ stderr: expect.stringContaining('no scenario "nonexistent-scenario"') });
    const [first] = Object.keys((await import('../src/connectors/threads/scenarios.js')).THREADS_SCENARIOS);
    await expect(run('threads', String(first))).rejects.toMatchObject({ stderr: expect.stringContaining('--target URL is required') });
  });
});
