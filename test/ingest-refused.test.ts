/**
 * Refused ingest is visible: counted per connector and reason in /metrics, and logged at warn at
 * most once per connector per interval, with the number of refusals the log left out, and never
 * the presented token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs } from './helpers/logs.js';
import { INGEST_TOKEN, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

const WRONG = 'wrong-token-SECRET-5f1c9a';

describe('refused ingest', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const t of servers.splice(0)) await t.close();
  });

  async function server(options: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
    const t = await startTestServer({ server: { bodyLimit: 4096 } }, options);
    servers.push(t);
    return t;
  }

  const post = (t: TestServer, headers: Record<string, string>, body = JSON.stringify(waMessage()), connector = 'wa') => fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers, body });
  const metrics = async (t: TestServer) => (await fetch(`${t.url}/metrics`)).text();

  it('counts refusals in /metrics by connector and reason: auth, unknown-connector, content-type, too-large', async () => {
    const t = await server();
    expect((await post(t, ingestHeaders('application/json', WRONG))).status).toBe(401);
    expect((await post(t, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await post(t, ingestHeaders(), '{}', 'no-such-connector')).status).toBe(404);
    expect((await post(t, ingestHeaders('text/plain'))).status).toBe(415);
    expect((await post(t, ingestHeaders(), JSON.stringify([waMessage('x'.repeat(5000))]))).status).toBe(413);
    expect((await post(t, ingestHeaders())).status).toBe(200);
    const text = await metrics(t);
    expect(text).toContain('switchboard_ingest_refused_total{connector="wa",reason="auth"} 2');
    expect(text).toContain('switchboard_ingest_refused_total{connector="(unknown)",reason="unknown-connector"} 1');
    expect(text).toContain('switchboard_ingest_refused_total{connector="wa",reason="content-type"} 1');
    expect(text).toContain('switchboard_ingest_refused_total{connector="wa",reason="too-large"} 1');
    // The id asked for is not a label: random ids cannot grow the series.
    expect(text).not.toContain('no-such-connector');
    expect(text).not.toContain(WRONG);
  });

  it('logs a burst of wrong tokens once per connector at warn, then how many it left out, never with the token', async () => {
    const logs = captureLogs('info');
    const t = await server({ logger: logs.logger, refusalLogIntervalMs: 2000 });
    const burst = await Promise.all(Array.from({ length: 20 }, () => post(t, { authorization: `Bearer ${WRONG}`, 'content-type': 'application/json' })));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(401));
    const refusals = () => logs.lines().filter((l) => l.connector === 'wa' && l.reason === 'auth');
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ level: 40, status: 401 });
    // At the end of the interval, one line tells how many refusals were not logged.
    await expect.poll(() => refusals().length, { timeout: 15_000 }).toBe(2);
    expect(refusals()[1]).toMatchObject({ level: 40, suppressed: 19 });
    const text = logs.text();
    expect(text).not.toContain(WRONG);
    expect(text).not.toContain(INGEST_TOKEN);
    expect(text.toLowerCase()).not.toContain('authorization');
    expect(text.toLowerCase()).not.toContain('bearer');
  });
});
