/**
 * The TWIN connector end to end: the official `centrifuge` client inside a real Switchboard,
 * against the Centrifugo-protocol simulator with its IAM login.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { apiHeaders, startTestServer, type TestServer } from '../../../test/helpers/sb.js';
import { TwinSimulator } from './simulator.js';

interface StoredEvent {
  type: string;
  subject: string;
  sequence: string;
  data: Record<string, unknown> & { native?: { channel?: string; offset?: number; data?: unknown } };
}

async function allEvents(t: TestServer, query = ''): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let after = '0';
  for (;;) {
    const page = (await (await fetch(`${t.url}/v1/events?limit=1000&after=${after}${query}`, { headers: apiHeaders })).json()) as { events: StoredEvent[]; next: string | null };
    out.push(...page.events);
    if (!page.next) return out;
    after = page.next;
  }
}

const EMAIL = 'operator@example.com';
const PASSWORD = 'correct horse';
const CHANNEL = 'notifications';

function message(i: number): { event: string; data: Record<string, unknown> } {
  return { event: 'chatMessageCreated', data: { id: `m-${i}`, chatId: `chat-${i % 7}`, text: `message ${i}`, createdAt: '2026-01-01T10:00:00Z', isClient: i % 2 === 0 } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TWIN connector', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function sim(options: ConstructorParameters<typeof TwinSimulator>[0] = {}) {
    const s = new TwinSimulator({ users: { [EMAIL]: PASSWORD }, historySize: 100_000, pingIntervalMs: 2000, ...options });
    const urls = await s.start();
    cleanup.push(() => s.close());
    return { s, ...urls };
  }

  async function server(connector: Record<string, unknown>, store?: TestServer['store']): Promise<TestServer> {
    const t = await startTestServer({ connectors: [{ id: 'twin-ops', platform: 'twin', reconnect: { minDelayMs: 20, maxDelayMs: 150 }, ...connector }] as never, ...(store ? { store } : {}) });
    cleanup.push(() => t.close());
    return t;
  }

  it('stores 5,000 publications exactly once through 50+ dropped connections and a token expiry; a lost history shows as connector.gap-detected', async () => {
    const { s, wsUrl, iamUrl } = await sim();
    const t = await server({ url: wsUrl, auth: { email: EMAIL, password: PASSWORD, iamUrl } });
    await expect.poll(() => s.connections, { timeout: 10_000 }).toBe(1);

    let drops = 0;
    for (let chunk = 0; chunk < 100; chunk++) {
      for (let i = 0; i < 50; i++) s.publish(CHANNEL, message(chunk * 50 + i));
      if (chunk % 2 === 1) {
        // Drop a live connection each time: wait for the reconnect first.
        await expect.poll(() => s.connections, { timeout: 10_000, interval: 5 }).toBe(1);
        s.dropConnections();
        drops++;
      }
      if (chunk === 50) s.expireTokens();
      await sleep(chunk % 10 === 0 ? 60 : 15);
    }
    expect(drops).toBe(50);
    await expect.poll(async () => (await allEvents(t, '&type=message.created')).length, { timeout: 60_000, interval: 500 }).toBe(5000);
    const messages = await allEvents(t, '&type=message.created');
    const offsets = messages.map((e) => e.data.native?.offset ?? -1);
    expect(new Set(offsets).size).toBe(5000);
    expect(Math.min(...offsets)).toBe(1);
    expect(Math.max(...offsets)).toBe(5000);
    expect(s.stats.drops).toBeGreaterThanOrEqual(50);
    // The expired token was replaced by a fresh login, presented on the reconnect.
    expect(s.stats.logins).toBeGreaterThanOrEqual(2);
    expect(s.stats.recovered).toBeGreaterThanOrEqual(40);
    expect((await allEvents(t, '&type=connector.gap-detected'))).toHaveLength(0);

    // The client is away while the server's history forgets what it missed.
    s.dropConnections();
    for (let i = 5000; i < 5010; i++) s.publish(CHANNEL, message(i));
    s.trimHistory(CHANNEL, 2);
    await expect.poll(async () => (await allEvents(t, '&type=connector.gap-detected')).length, { timeout: 10_000 }).toBe(1);
    const [gap] = await allEvents(t, '&type=connector.gap-detected');
    expect(gap?.data).toMatchObject({ connectorId: 'twin-ops', stream: CHANNEL, from: '5000', to: '5010' });
    expect(gap?.data.reason).toEqual(expect.stringContaining('could not recover'));
  }, 120_000);

  it('after a restart, resumes from the saved position and recovers what it missed', async () => {
    const { s, wsUrl, iamUrl } = await sim();
    const connector = { url: wsUrl, auth: { email: EMAIL, password: PASSWORD, iamUrl } };
    const first = await startTestServer({ connectors: [{ id: 'twin-ops', platform: 'twin', reconnect: { minDelayMs: 20, maxDelayMs: 150 }, ...connector }] as never });
    await expect.poll(() => s.connections, { timeout: 10_000 }).toBe(1);
    for (let i = 0; i < 10; i++) s.publish(CHANNEL, message(i));
    await expect.poll(async () => (await allEvents(first, '&type=message.created')).length, { timeout: 10_000 }).toBe(10);
    await first.sb.close();
    for (let i = 10; i < 30; i++) s.publish(CHANNEL, message(i));
    const second = await server(connector, first.store);
    cleanup.push(() => first.close());
    await expect.poll(async () => (await allEvents(second, '&type=message.created')).length, { timeout: 10_000 }).toBe(30);
    expect(await allEvents(second, '&type=connector.gap-detected')).toHaveLength(0);
  });

  it('bad credentials: connector.auth-failed, no tight retry loop, the process keeps serving', async () => {
    const { s, wsUrl, iamUrl } = await sim();
    const t = await server({ url: wsUrl, auth: { email: EMAIL, password: 'wrong', iamUrl } });
    await expect.poll(async () => (await allEvents(t, '&type=connector.auth-failed')).length, { timeout: 10_000 }).toBe(1);
    await sleep(1500);
    expect(s.stats.failedLogins).toBe(1);
    const [failed] = await allEvents(t, '&type=connector.auth-failed');
    expect(failed?.data.reason).toMatch(/TWIN login refused for operator@example.com \(HTTP 401\)/);
    const status = (await (await fetch(`${t.url}/v1/connectors`, { headers: apiHeaders })).json()) as { connectors: { id: string; state: string }[] };
    expect(status.connectors.find((c) => c.id === 'twin-ops')?.state).toBe('auth-failed');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('a server that closes with an auth code is reported as connector.auth-failed for a static token', async () => {
    const { s, wsUrl } = await sim();
    const token = s.issueToken();
    const t = await server({ url: wsUrl, auth: { token } });
    await expect.poll(() => s.connections, { timeout: 10_000 }).toBe(1);
    s.dropConnections({ code: 3500, reason: 'invalid token' });
    await expect.poll(async () => (await allEvents(t, '&type=connector.auth-failed')).length, { timeout: 10_000 }).toBe(1);
    const [failed] = await allEvents(t, '&type=connector.auth-failed');
    expect(failed?.data.reason).toMatch(/3500/);
  });

  it('quarantines malformed publications, stores unknown events as native.unmapped, and sends the operator typing', async () => {
    const { s, wsUrl, iamUrl } = await sim();
    const t = await server({ url: wsUrl, auth: { email: EMAIL, password: PASSWORD, iamUrl } });
    await expect.poll(() => s.connections, { timeout: 10_000 }).toBe(1);
    s.publish(CHANNEL, { nothing: 'here' });
    s.publish(CHANNEL, 'just a string');
    s.publish(CHANNEL, { event: 'someFutureEvent', data: { x: 1 } });
    s.publish(CHANNEL, message(1));
    await expect.poll(async () => (await allEvents(t, '&type=message.created')).length, { timeout: 10_000 }).toBe(1);
    expect((await allEvents(t, '&type=native.unmapped')).map((e) => e.data.reason)).toEqual([expect.stringContaining('someFutureEvent')]);
    const q = (await (await fetch(`${t.url}/v1/quarantine?connector=twin-ops`, { headers: apiHeaders })).json()) as { items: { reason: string }[] };
    expect(q.items).toHaveLength(2);
    for (const item of q.items) expect(item.reason).toMatch(/event|action|object/);

    await expect(t.sb.command('twin-ops', 'typing', { chatId: 'chat-1' })).resolves.toEqual({ sent: true });
    await expect.poll(() => s.stats.received.length, { timeout: 10_000 }).toBe(1);
    expect(s.stats.received[0]).toEqual({ event: 'typing', data: { chatId: 'chat-1' } });
    await expect(t.sb.command('twin-ops', 'dance', {})).rejects.toMatchObject({ code: 'SB_ERR_NOT_FOUND' });
  });

  it('`switchboard simulate twin handover` serves a scenario that a configured connector receives', async () => {
    const cli = new URL('../../../dist/cli/main.js', import.meta.url).pathname;
    const child = spawn('node', [cli, 'simulate', 'twin', 'handover', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out, { timeout: 10_000 }).toContain('Ctrl-C');
    const line = /- (\{ id: twin-sim.*\})$/m.exec(out)?.[1] ?? '';
    const url = /url: "([^"]+)"/.exec(line)?.[1];
    const iamUrl = /iamUrl: "([^"]+)"/.exec(line)?.[1];
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/centrifugo\/connection\/websocket$/);
    const t = await server({ url, auth: { email: 'operator@example.com', password: 'simulator', iamUrl } });
    await expect.poll(async () => (await allEvents(t, '&type=conversation.*')).length, { timeout: 10_000 }).toBeGreaterThan(2);
    expect((await allEvents(t, '&type=message.created')).length).toBeGreaterThan(0);
  });
});
