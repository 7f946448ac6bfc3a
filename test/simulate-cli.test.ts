/**
 * `switchboard simulate widget|threads` posts a scenario to a running server as an app's relay
 * would; `--list` lists the scenarios of every simulator. With `--target`, a target that refuses
 * the deliveries (wrong token, 5xx) makes the command fail; TWIN, which Switchboard pulls, refuses
 * `--target`.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, INGEST_TOKEN, startTestServer, type TestServer } from './helpers/sb.js';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const run = (...args: string[]) => promisify(execFile)('node', [cli, 'simulate', ...args], { timeout: 20_000 });

describe('switchboard simulate (relayed platforms)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      connectors: [
        { id: 'w', platform: 'widget', ingestToken: INGEST_TOKEN },
        { id: 'th', platform: 'threads', ingestToken: INGEST_TOKEN },
        { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN },
        { id: 'c1', platform: 'connect1c', ingestToken: INGEST_TOKEN },
      ] as never,
    });
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

  it('exits non-zero, saying so, when the target refuses the deliveries with a wrong token; 0 when all are delivered', async () => {
    const cases: [platform: string, scenario: string, connector: string][] = [
      ['greenapi', 'answered-call', 'wa'],
      ['connect1c', 'answered-call', 'c1'],
      ['widget', 'answered-call', 'w'],
      ['threads', String(Object.keys((await import('../src/connectors/threads/scenarios.js')).THREADS_SCENARIOS)[0]), 'th'],
    ];
    for (const [platform, scenario, connector] of cases) {
      const target = `${t.url}/ingest/${connector}`;
      const refused = run(platform, scenario, '--target', target, '--token', 'wrong-token-0123456789', '--retry-delay', '50');
      await expect(refused, platform).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/refused .*HTTP 401/) });
      const ok = await run(platform, scenario, '--target', target, '--token', INGEST_TOKEN, '--retry-delay', '50');
      expect(ok.stderr, platform).toBe('');
    }
  });

  it('exits non-zero when the target answers 5xx (GREEN-API after its retries give up)', async () => {
    let hits = 0;
    const down: Server = createServer((_req, res) => {
      hits++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"SB_ERR_OVERLOADED","message":"busy"}}');
    });
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}/ingest/x`;
    try {
      await expect(run('greenapi', 'answered-call', '--target', url, '--token', INGEST_TOKEN, '--retry-delay', '50', '--give-up-after', '300')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/refused .*HTTP 503/),
      });
      expect(hits).toBeGreaterThan(1);
      await expect(run('widget', 'answered-call', '--target', url, '--token', INGEST_TOKEN)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/refused .*HTTP 503/) });
    } finally {
      await new Promise((r) => down.close(r));
    }
  });

  it('twin refuses --target and says what to do instead; --token without --target is refused', async () => {
    const started = Date.now();
    await expect(run('twin', 'handover', '--target', `${t.url}/ingest/tw`)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/twin.*--target.*connects to the simulator[\s\S]*docs\/connectors\/twin\.md/),
    });
    await expect(run('greenapi', 'answered-call', '--token', INGEST_TOKEN)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--token is sent only with --target') });
    await expect(run('widget', 'answered-call', '--target', 'ftp://example.com/x')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--target') });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
