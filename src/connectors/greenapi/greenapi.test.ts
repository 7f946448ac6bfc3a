/**
 * The GREEN-API connector against its simulator and a real Switchboard on loopback: webhooks
 * with GREEN-API's retry behaviour, polling with malformed notifications, several instances,
 * and caller names within the rate limit.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { apiHeaders, startTestServer, type TestServer } from '../../../test/helpers/sb.js';
import { GreenApiClient } from './client.js';
import { GreenApiSimulator, GreenApiWebhookSender } from './simulator.js';
import { SCENARIOS } from './scenarios.js';

interface EventsPage {
  events: { type: string; subject: string; data: Record<string, unknown> & { native?: unknown } }[];
  next: string | null;
}

async function allEvents(t: TestServer, query = ''): Promise<EventsPage['events']> {
  const out: EventsPage['events'] = [];
  let after = '0';
  for (;;) {
    const page = (await (await fetch(`${t.url}/v1/events?limit=1000&after=${after}${query}`, { headers: apiHeaders })).json()) as EventsPage;
    out.push(...page.events);
    if (!page.next) return out;
    after = page.next;
  }
}

const INSTANCE = '1101000001';
const API_TOKEN_INSTANCE = 'sim-token-abc';
const WEBHOOK_TOKEN = 'webhook-url-token-123';

function call(idMessage: string, from: string, status: string, timestamp = 1717000000): Record<string, unknown> {
  return { typeWebhook: 'incomingCall', instanceData: { idInstance: Number(INSTANCE), wid: '79876543210@c.us', typeInstance: 'whatsapp' }, timestamp, from, status, idMessage };
}

describe('GREEN-API connector', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function server(connectors: Record<string, unknown>[]): Promise<TestServer> {
    const t = await startTestServer({ connectors: connectors as never });
    cleanup.push(() => t.close());
    return t;
  }

  async function simulator(opts: ConstructorParameters<typeof GreenApiSimulator>[0]): Promise<GreenApiSimulator> {
    const sim = new GreenApiSimulator(opts);
    await sim.start();
    cleanup.push(() => sim.close());
    return sim;
  }

  it('webhooks: delivered with the webhookUrlToken, duplicates give one event; a missing or wrong token gives 401 and stores nothing', async () => {
    const t = await server([{ id: 'wa-hook', platform: 'greenapi', ingestToken: WEBHOOK_TOKEN }]);
    const url = `${t.url}/ingest/wa-hook`;
    const scenario = SCENARIOS.duplicates?.notifications({ idInstance: INSTANCE, wid: '79876543210@c.us', now: 1717000000000 }) ?? [];
    expect(scenario.length).toBeGreaterThan(2);

    for (const token of [undefined, 'not-the-webhook-token']) {
      const bad = new GreenApiWebhookSender({ url, ...(token ? { token } : {}), retryDelayMs: 20, giveUpAfterMs: 100, timeoutMs: 2000 });
      bad.send(scenario[0] as Record<string, unknown>);
      await bad.drain();
      expect(bad.stats.sent).toBe(0);
      expect(bad.stats.statuses[401]).toBeGreaterThan(0);
      await bad.close();
    }
    expect(await allEvents(t)).toHaveLength(0);

    const good = new GreenApiWebhookSender({ url, token: WEBHOOK_TOKEN, retryDelayMs: 20, timeoutMs: 5000 });
    for (const n of scenario) good.send(n);
    // GREEN-API retries until 200: every notification, duplicates included, is answered 200.
    await good.drain();
    expect(good.stats.sent).toBe(scenario.length);
    await good.close();
    const events = await allEvents(t);
    const ids = new Set(events.map((e) => JSON.stringify([e.type, e.subject, (e.data.native as Record<string, unknown>).status ?? ''])));
    expect(ids.size).toBe(events.length);
    // The duplicate message and the duplicate call end each gave one event.
    const messages = events.filter((e) => e.type === 'message.created');
    expect(new Set(messages.map((m) => m.data.messageId)).size).toBe(messages.length);
    expect(events.filter((e) => e.type === 'call.ended')).toHaveLength(1);
  });

  it('polling: stores and deletes every notification, quarantines malformed ones with a precise reason and goes on', async () => {
    const sim = await simulator({ instances: [{ idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE }] });
    const polling = { apiUrl: sim.url, idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE, receiveTimeout: 5, maxNotificationBytes: 4096 };
    sim.enqueue(INSTANCE, call('GOOD-1', '79001112233@c.us', 'offer'));
    sim.enqueueRaw(INSTANCE, '{"typeWebhook": "incomingCall", "from": ');
    sim.enqueue(INSTANCE, { instanceData: { idInstance: 1 }, timestamp: 1717000000, idMessage: 'X' });
    sim.enqueue(INSTANCE, { ...call('BAD-TYPES', '79001112233@c.us', 'offer'), from: 79001112233 });
    sim.enqueue(INSTANCE, { ...call('HUGE', '79001112233@c.us', 'offer'), padding: 'x'.repeat(10_000) });
    sim.enqueue(INSTANCE, call('GOOD-1', '79001112233@c.us', 'pickUp'));
    const t = await server([{ id: 'wa-poll', platform: 'greenapi', callerNames: false, polling }]);
    await expect.poll(() => sim.queueLength(INSTANCE), { timeout: 15_000 }).toBe(0);
    expect(sim.stats.delete).toBe(6);

    const events = await allEvents(t, '&type=call.*');
    expect(events.map((e) => e.type)).toEqual(['call.ringing', 'call.answered', 'call.ended']);
    const q = (await (await fetch(`${t.url}/v1/quarantine?connector=wa-poll`, { headers: apiHeaders })).json()) as { items: { reason: string; code: string }[] };
    const reasons = q.items.map((i) => i.reason);
    expect(reasons).toHaveLength(4);
    expect(reasons[0]).toMatch(/malformed JSON/);
    expect(reasons[1]).toMatch(/typeWebhook/);
    expect(reasons[2]).toMatch(/at from: expected string, found number 79001112233/);
    expect(reasons[3]).toMatch(/over polling.maxNotificationBytes \(4096\)/);
    const status = (await (await fetch(`${t.url}/v1/connectors`, { headers: apiHeaders })).json()) as { connectors: { id: string; state: string; quarantined: number }[] };
    expect(status.connectors.find((c) => c.id === 'wa-poll')).toMatchObject({ state: 'connected', quarantined: 4 });
  });

  it('polling: several instances at once, each deleted only after its commit', async () => {
    const instances = [
      { idInstance: '1101000001', apiTokenInstance: 'token-one' },
      { idInstance: '1101000002', apiTokenInstance: 'token-two' },
    ];
    let t: TestServer | undefined;
    let premature = 0;
    const sim = await simulator({
      instances,
      verifyDelete: async (_id, body) => {
        const events = t ? await allEvents(t, `&subject=call/${String(body.idMessage)}`) : [];
        if (events.length === 0) premature++;
        return events.length > 0;
      },
    });
    for (let i = 0; i < 20; i++) for (const inst of instances) sim.enqueue(inst.idInstance, call(`${inst.idInstance}-C${i}`, '79001112233@c.us', 'offer'));
    t = await server(instances.map((inst, i) => ({ id: `wa-${i}`, platform: 'greenapi', callerNames: false, polling: { apiUrl: sim.url, ...inst, receiveTimeout: 5 } })));
    await expect.poll(() => sim.queueLength('1101000001') + sim.queueLength('1101000002'), { timeout: 15_000 }).toBe(0);
    expect(premature).toBe(0);
    expect(sim.stats.violations).toBe(0);
    const events = await allEvents(t, '&type=call.ringing');
    expect(events).toHaveLength(40);
    expect(new Set(events.map((e) => e.subject)).size).toBe(40);
  });

  it('caller names: 100 calls from 20 numbers ask getContactInfo at most 20 times, never twice within a second, and never hold up the queue', async () => {
    const numbers = Array.from({ length: 20 }, (_, i) => `7900000${String(i).padStart(4, '0')}@c.us`);
    const contacts: Record<string, { name?: string; contactName?: string }> = {};
    numbers.forEach((n, i) => {
      // contactName, then name, then the number.
      contacts[n] = i % 3 === 0 ? { contactName: `Contact ${i}`, name: `Profile ${i}` } : i % 3 === 1 ? { name: `Profile ${i}` } : {};
    });
    const sim = await simulator({ instances: [{ idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE }], contacts });
    for (let i = 0; i < 100; i++) {
      const from = numbers[i % 20] as string;
      sim.enqueue(INSTANCE, call(`CALL-${i}`, from, 'offer', 1717000000 + i));
      sim.enqueue(INSTANCE, call(`CALL-${i}`, from, i % 2 ? 'pickUp' : 'declined', 1717000030 + i));
    }
    const t = await server([{ id: 'wa-names', platform: 'greenapi', polling: { apiUrl: sim.url, idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE, receiveTimeout: 5 } }]);
    await expect.poll(() => sim.queueLength(INSTANCE), { timeout: 15_000 }).toBe(0);
    // The queue drained long before the names (20 lookups take over 20 s): enrichment never delays an ack.
    expect(sim.stats.contactInfoCalls.length).toBeLessThan(20);
    await expect.poll(async () => (await allEvents(t, '&type=contact.updated')).length, { timeout: 40_000, interval: 500 }).toBe(20);
    const calls = sim.stats.contactInfoCalls;
    expect(calls).toHaveLength(20);
    expect(new Set(calls.map((c) => c.chatId)).size).toBe(20);
    for (let i = 1; i < calls.length; i++) expect((calls[i] as { at: number }).at - (calls[i - 1] as { at: number }).at).toBeGreaterThanOrEqual(1000);
    expect(sim.stats.rateLimited).toBe(0);

    const names = Object.fromEntries((await allEvents(t, '&type=contact.updated')).map((e) => [e.data.contactId, e.data.name]));
    expect(names[numbers[0] as string]).toBe('Contact 0');
    expect(names[numbers[1] as string]).toBe('Profile 1');
    expect(names[numbers[2] as string]).toBe('79000000002');
  }, 90_000);

  it('caller names are cached in the store: after a restart the same numbers are not asked again', async () => {
    const numbers = ['79001230001@c.us', '79001230002@c.us'];
    const sim = await simulator({ instances: [{ idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE }], contacts: { [numbers[0] as string]: { name: 'Anna' } } });
    const connector = { id: 'wa-cache', platform: 'greenapi', polling: { apiUrl: sim.url, idInstance: INSTANCE, apiTokenInstance: API_TOKEN_INSTANCE, receiveTimeout: 5 } };
    numbers.forEach((n, i) => sim.enqueue(INSTANCE, call(`FIRST-${i}`, n, 'offer')));
    const first = await startTestServer({ connectors: [connector] as never });
    await expect.poll(async () => (await allEvents(first, '&type=contact.updated')).length, { timeout: 10_000 }).toBe(2);
    await first.sb.close();
    numbers.forEach((n, i) => sim.enqueue(INSTANCE, call(`SECOND-${i}`, n, 'offer')));
    const second = await startTestServer({ connectors: [connector] as never, store: first.store });
    cleanup.push(async () => {
      await second.close();
      await first.close();
    });
    await expect.poll(() => sim.queueLength(INSTANCE), { timeout: 10_000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    expect(sim.stats.contactInfoCalls).toHaveLength(2);
    expect((await allEvents(second, '&type=contact.updated')).map((e) => e.data.name).sort()).toEqual(['79001230002', 'Anna']);
  });

  it('`switchboard simulate greenapi <scenario> --target` delivers a scenario as webhooks', async () => {
    const t = await server([{ id: 'wa-sim', platform: 'greenapi', ingestToken: WEBHOOK_TOKEN }]);
    const cli = new URL('../../../dist/cli/main.js', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)('node', [cli, 'simulate', 'greenapi', 'answered-call', '--target', `${t.url}/ingest/wa-sim`, '--token', WEBHOOK_TOKEN]);
    expect(stdout).toContain('delivered 2');
    expect((await allEvents(t, '&type=call.*')).map((e) => e.type)).toEqual(['call.ringing', 'call.answered', 'call.ended']);
  });
});

describe('GREEN-API client errors', () => {
  it('never quote a getContactInfo answer that is not JSON: it names the person, and the message reaches the log', async () => {
    const answers = ['{"name":"Anastasia Privatova","contactName":"Anastasia Priv', 'Anastasia Privatova 79161234567'];
    const server = createServer((_req, res) => res.end(answers.shift() ?? 'null'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = new GreenApiClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, idInstance: '1101', apiTokenInstance: 'token' });
      const messages: string[] = [];
      for (let i = 0; i < 2; i++) messages.push(await client.contactInfo('79161234567@c.us').then(() => 'answered', (err: Error) => err.message));
      expect(messages[0]).toMatch(/^getContactInfo answered malformed JSON \(59 bytes\): Unterminated string/);
      expect(messages[1]).toMatch(/^getContactInfo answered malformed JSON \(31 bytes\): Unexpected token 'A' \(not valid JSON\)$/);
      for (const m of messages) expect(m).not.toMatch(/Anastasia|7916/);
    } finally {
      server.close();
    }
  });
});
