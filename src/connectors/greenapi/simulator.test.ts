/**
 * The GREEN-API simulator behaves as PLATFORMS.md "GREEN-API" says: FIFO queue, the head comes
 * back until deleted, long polls, 401, the getContactInfo limit, seeded faults that never lose a
 * notification, verifyDelete, and a webhook sender that retries until HTTP 200.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeGreenApi } from './normalize.js';
import { SCENARIOS } from './scenarios.js';
import { GreenApiSimulator, GreenApiWebhookSender, type SimulatorOptions } from './simulator.js';

const ID = '1101000001';
const TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef01';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startSim(extra: Partial<SimulatorOptions> = {}): Promise<{ sim: GreenApiSimulator; url: string }> {
  const sim = new GreenApiSimulator({ instances: [{ idInstance: ID, apiTokenInstance: TOKEN }], ...extra });
  const url = await sim.start();
  cleanup.push(() => sim.close());
  return { sim, url };
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** One HTTP exchange; a dropped connection gives status 0. */
async function http(url: string, init?: RequestInit): Promise<Answer> {
  try {
    const res = await fetch(url, init);
    return { status: res.status, text: await res.text(), headers: res.headers };
  } catch {
    return { status: 0, text: '', headers: new Headers() };
  }
}

interface Notification {
  receiptId: number;
  body: Record<string, unknown>;
}

const receiveUrl = (url: string, timeout?: number | string, token = TOKEN, id = ID) =>
  `${url}/waInstance${id}/receiveNotification/${token}${timeout === undefined ? '' : `?receiveTimeout=${timeout}`}`;
const deleteUrl = (url: string, receiptId: number | string, token = TOKEN) => `${url}/waInstance${ID}/deleteNotification/${token}/${receiptId}`;
const contactUrl = (url: string, token = TOKEN) => `${url}/waInstance${ID}/getContactInfo/${token}`;

async function receive(url: string, timeout = 5): Promise<Notification | null> {
  const a = await http(receiveUrl(url, timeout));
  expect(a.status).toBe(200);
  return JSON.parse(a.text) as Notification | null;
}

async function del(url: string, receiptId: number): Promise<boolean> {
  const a = await http(deleteUrl(url, receiptId), { method: 'DELETE' });
  expect(a.status).toBe(200);
  return (JSON.parse(a.text) as { result: boolean }).result;
}

function contactInfo(url: string, chatId: string, token = TOKEN): Promise<Answer> {
  return http(contactUrl(url, token), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ chatId }) });
}

const note = (n: number): Record<string, unknown> => ({
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: Number(ID), wid: '79876543210@c.us', typeInstance: 'whatsapp' },
  timestamp: 1717002000 + n,
  idMessage: `MSG${n}`,
  senderData: { chatId: '79001234567@c.us', chatName: 'Ivan', sender: '79001234567@c.us', senderName: 'Ivan', senderContactName: '' },
  messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: `text ${n}` } },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GreenApiSimulator: the notification queue', () => {
  it('answers the FIFO head until it is deleted, with increasing receiptIds, and deletes anywhere', async () => {
    const { sim, url } = await startSim();
    const ids = [1, 2, 3, 4].map((n) => sim.enqueue(ID, note(n)));
    expect(ids).toEqual([1, 2, 3, 4]);
    expect(sim.queueLength(ID)).toBe(4);

    // Not deleted → the same oldest notification again (redelivery).
    const first = await receive(url);
    const again = await receive(url);
    expect(first).toEqual({ receiptId: 1, body: note(1) });
    expect(again).toEqual(first);

    expect(await del(url, 1)).toBe(true);
    expect((await receive(url))?.receiptId).toBe(2);
    // Deleting a later receipt first is allowed; the head stays.
    expect(await del(url, 3)).toBe(true);
    expect((await receive(url))?.receiptId).toBe(2);
    expect(await del(url, 2)).toBe(true);
    expect(await del(url, 2)).toBe(false); // already deleted
    expect(await del(url, 99)).toBe(false); // never existed
    expect(await receive(url)).toEqual({ receiptId: 4, body: note(4) });
    expect(await del(url, 4)).toBe(true);
    expect(sim.queueLength(ID)).toBe(0);
    // Receipt ids keep increasing after the queue emptied.
    expect(sim.enqueue(ID, note(5))).toBe(5);

    expect(sim.stats).toMatchObject({ receive: 5, deliveries: 5, delete: 4, deleteUnknown: 2, violations: 0 });
    expect(sim.stats.faults).toEqual({});
  });

  it('long-polls an empty queue and wakes up on enqueue', async () => {
    const { sim, url } = await startSim();
    const t0 = Date.now();
    const pending = receive(url, 30);
    await sleep(150);
    sim.enqueue(ID, note(1));
    const got = await pending;
    const took = Date.now() - t0;
    expect(got).toEqual({ receiptId: 1, body: note(1) });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2000);
  });

  it.concurrent('answers null after receiveTimeout seconds on an empty queue', async ({ expect }) => {
    const { url } = await startSim();
    const t0 = Date.now();
    const a = await http(receiveUrl(url, 5));
    const took = Date.now() - t0;
    expect(a.status).toBe(200);
    expect(a.text).toBe('null');
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(6500);
  });

  it('validates receiveTimeout: 5..60, fractions accepted, absent means 5', async () => {
    const { sim, url } = await startSim();
    sim.enqueue(ID, note(1));
    for (const bad of [4, 61, 0, -5, 'abc', '1e3']) expect((await http(receiveUrl(url, bad))).status, String(bad)).toBe(400);
    for (const good of [5, 5.5, 60, undefined]) {
      const a = await http(receiveUrl(url, good));
      expect(a.status, String(good)).toBe(200);
      expect((JSON.parse(a.text) as Notification).receiptId).toBe(1);
    }
    expect(sim.stats.badRequests).toBe(6);
    expect((await http(deleteUrl(url, 'x'), { method: 'DELETE' })).status).toBe(400);
  });

  it('answers 401 for a wrong token or an unknown instance, and counts them', async () => {
    const { sim, url } = await startSim();
    sim.enqueue(ID, note(1));
    expect((await http(receiveUrl(url, 5, 'wrong'))).status).toBe(401);
    expect((await http(receiveUrl(url, 5, TOKEN, '9999999999'))).status).toBe(401);
    expect((await http(deleteUrl(url, 1, 'wrong'), { method: 'DELETE' })).status).toBe(401);
    expect((await contactInfo(url, '79001234567@c.us', 'wrong')).status).toBe(401);
    expect(sim.stats.unauthorized).toBe(4);
    expect(sim.queueLength(ID)).toBe(1);
    expect(sim.stats.contactInfoCalls).toEqual([]);
    // Unknown method names, wrong verbs.
    expect((await http(`${url}/waInstance${ID}/sendMessage/${TOKEN}`)).status).toBe(404);
    expect((await http(deleteUrl(url, 1), { method: 'GET' })).status).toBe(405);
  });

  it('splices a raw body into the answer as is', async () => {
    const { sim, url } = await startSim({ verifyDelete: (_id, body) => 'rawBody' in body || 'typeWebhook' in body });
    sim.enqueueRaw(ID, '{"typeWebhook":"incomingCall","status":42}');
    sim.enqueueRaw(ID, '"not an object"');
    sim.enqueueRaw(ID, '{"typeWebhook":');
    expect(await receive(url)).toEqual({ receiptId: 1, body: { typeWebhook: 'incomingCall', status: 42 } });
    expect(await del(url, 1)).toBe(true);
    expect(await receive(url)).toEqual({ receiptId: 2, body: 'not an object' });
    expect(await del(url, 2)).toBe(true);
    const broken = await http(receiveUrl(url));
    expect(broken.text).toBe('{"receiptId":3,"body":{"typeWebhook":}');
    expect(() => JSON.parse(broken.text) as unknown).toThrow();
    expect(await del(url, 3)).toBe(true);
    expect(sim.stats.violations).toBe(0);
  });

  it('calls verifyDelete with the body before removing it, and counts violations', async () => {
    const seen: { id: string; body: Record<string, unknown>; queued: number }[] = [];
    let sim: GreenApiSimulator | undefined;
    const started = await startSim({
      verifyDelete: async (id, body) => {
        seen.push({ id, body, queued: sim?.queueLength(ID) ?? -1 });
        await sleep(5);
        return body['idMessage'] !== 'MSG2';
      },
    });
    sim = started.sim;
    const { url } = started;
    for (const n of [1, 2, 3]) sim.enqueue(ID, note(n));
    for (const r of [1, 2, 3]) expect(await del(url, r)).toBe(true);
    expect(await del(url, 3)).toBe(false); // unknown receipts are not verified
    expect(seen.map((s) => s.id)).toEqual([ID, ID, ID]);
    expect(seen.map((s) => s.body)).toEqual([note(1), note(2), note(3)]);
    expect(seen.map((s) => s.queued)).toEqual([3, 2, 1]); // called BEFORE the removal
    expect(sim.stats.violations).toBe(1);
    expect(sim.queueLength(ID)).toBe(0);
  });

  it('enforces 100 receive requests per second per instance with 429 + Retry-After', async () => {
    const { sim, url } = await startSim();
    sim.enqueue(ID, note(1));
    const answers = await Promise.all(Array.from({ length: 130 }, () => http(receiveUrl(url))));
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    expect(ok).toBe(100);
    expect(limited).toHaveLength(30);
    expect(limited[0]?.headers.get('retry-after')).toBe('1');
    expect(sim.stats.rateLimited).toBe(30);
    expect(sim.queueLength(ID)).toBe(1);
  });

  it('close() answers a pending long poll at once', async () => {
    const sim = new GreenApiSimulator({ instances: [{ idInstance: ID, apiTokenInstance: TOKEN }] });
    const url = await sim.start();
    const t0 = Date.now();
    const pending = http(receiveUrl(url, 60));
    await sleep(50);
    await sim.close();
    const a = await pending;
    expect([200, 0]).toContain(a.status);
    if (a.status === 200) expect(a.text).toBe('null');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('GreenApiSimulator: getContactInfo', () => {
  it.concurrent('answers the documented shape and allows one call per second per instance', async ({ expect }) => {
    const { sim, url } = await startSim({ contacts: { '79001234567@c.us': { name: 'Ivan', contactName: 'Ivan Petrov' } } });
    const t0 = Date.now();
    const a = await contactInfo(url, '79001234567@c.us');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual({
      avatar: '',
      name: 'Ivan',
      contactName: 'Ivan Petrov',
      email: '',
      category: '',
      description: '',
      products: [],
      chatId: '79001234567@c.us',
      lastSeen: null,
      isArchive: false,
      isDisappearing: false,
      isMute: false,
      messageExpiration: 0,
      muteExpiration: null,
      isBusiness: false,
    });
    const b = await contactInfo(url, '79007654321@c.us');
    expect(b.status).toBe(429);
    expect(b.headers.get('retry-after')).toBe('1');
    await sleep(1050 - (Date.now() - t0));
    const c = await contactInfo(url, '79007654321@c.us');
    expect(c.status).toBe(200);
    expect(JSON.parse(c.text)).toMatchObject({ name: '', contactName: '', chatId: '79007654321@c.us' });
    expect(sim.stats.contactInfoCalls.map((x) => [x.idInstance, x.chatId])).toEqual([
      [ID, '79001234567@c.us'],
      [ID, '79007654321@c.us'],
      [ID, '79007654321@c.us'],
    ]);
    const [t1, t2, t3] = sim.stats.contactInfoCalls.map((x) => x.at);
    expect((t2 ?? 0) - (t1 ?? 0)).toBeLessThan(1000);
    expect((t3 ?? 0) - (t1 ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(sim.stats.rateLimited).toBe(1);
    expect((await http(contactUrl(url), { method: 'POST', body: '{}' })).status).toBe(400);
  });
});

describe('GreenApiSimulator: faults', () => {
  const FAULTS = { serverError: 0.1, tooManyRequests: 0.05, quotaExceeded: 0.03, dropConnection: 0.05, slow: 0.05, slowMs: 15, emptyAnswer: 0.1, seed: 42 };

  it.concurrent('injects seeded faults at roughly the configured rates and never loses or reorders a notification', async ({ expect }) => {
    const { sim, url } = await startSim({ faults: FAULTS, limits: { requestsPerSecond: 0 } });
    for (let n = 0; n < 200; n++) sim.enqueue(ID, note(n));

    const got: number[] = [];
    let requests = 0;
    let nulls = 0;
    const statuses: Record<number, number> = {};
    const count = (s: number) => {
      requests++;
      statuses[s] = (statuses[s] ?? 0) + 1;
    };
    // A small consumer: retries anything but 200; keeps polling on null; deletes after "commit".
    while (got.length < 200) {
      const r = await http(receiveUrl(url, 5));
      count(r.status);
      if (r.status !== 200) {
        await sleep(1);
        continue;
      }
      const n = JSON.parse(r.text) as Notification | null;
      if (n === null) {
        nulls++;
        continue;
      }
      got.push(Number(String(n.body['idMessage']).slice(3)));
      for (;;) {
        const d = await http(deleteUrl(url, n.receiptId), { method: 'DELETE' });
        count(d.status);
        if (d.status === 200) {
          expect(JSON.parse(d.text)).toEqual({ result: true, reason: '' });
          break;
        }
        await sleep(1);
      }
    }
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(sim.queueLength(ID)).toBe(0);
    expect(sim.stats.delete).toBe(200);
    expect(sim.stats.deleteUnknown).toBe(0);

    const f = sim.stats.faults;
    const rate = (k: string) => (f[k] ?? 0) / requests;
    expect(requests).toBeGreaterThan(300);
    for (const k of ['serverError', 'tooManyRequests', 'quotaExceeded', 'dropConnection', 'slow'] as const) {
      expect(rate(k), k).toBeGreaterThan(FAULTS[k] * 0.5);
      expect(rate(k), k).toBeLessThan(FAULTS[k] * 1.6);
    }
    // emptyAnswer only applies to receive requests on a non-empty queue.
    expect(f['emptyAnswer']).toBe(nulls);
    expect(nulls).toBeGreaterThan(10);
    expect(statuses[0]).toBe(f['dropConnection']);
    expect(statuses[466]).toBe(f['quotaExceeded']);
    expect(statuses[429]).toBe(f['tooManyRequests']);
    expect((statuses[500] ?? 0) + (statuses[502] ?? 0) + (statuses[503] ?? 0)).toBe(f['serverError']);
    expect(statuses[500] && statuses[502] && statuses[503]).toBeTruthy();
  });

  it('repeats the same faults for the same seed and request sequence; setFaults switches them off', async () => {
    const run = async () => {
      const { sim, url } = await startSim({ faults: { ...FAULTS, slow: 0, seed: 7 } });
      sim.enqueue(ID, note(1));
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await http(receiveUrl(url))).status);
      sim.setFaults({});
      for (let i = 0; i < 10; i++) expect((await http(receiveUrl(url))).status).toBe(200);
      expect(sim.queueLength(ID)).toBe(1);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.filter((s) => s !== 200).length).toBeGreaterThan(0);
  });
});

// ─── webhook sender ─────────────────────────────────────────────────────────────────────────────

interface Receiver {
  url: string;
  hits: { auth: string | undefined; contentType: string | undefined; body: Record<string, unknown> }[];
}

/** A local webhook endpoint; `answer(i)` decides the i-th request's fate (0-based). */
async function receiver(answer: (i: number, res: ServerResponse) => void): Promise<Receiver> {
  const hits: Receiver['hits'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = hits.length;
      hits.push({ auth: req.headers.authorization, contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      answer(i, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest/greenapi`, hits };
}

describe('GreenApiWebhookSender', () => {
  it('POSTs in order with "<scheme> <token>", retrying the same notification until HTTP 200', async () => {
    const r = await receiver((i, res) => {
      res.statusCode = i < 2 ? 500 : i === 2 ? 204 : 200; // 204 is not 200: not delivered
      res.end();
    });
    const sender = new GreenApiWebhookSender({ url: r.url, token: 'wh-secret', retryDelayMs: 20 });
    cleanup.push(() => sender.close());
    for (const n of [1, 2, 3]) sender.send(note(n));
    await sender.drain();
    expect(r.hits.map((h) => h.body['idMessage'])).toEqual(['MSG1', 'MSG1', 'MSG1', 'MSG1', 'MSG2', 'MSG3']);
    expect(new Set(r.hits.map((h) => h.auth))).toEqual(new Set(['Bearer wh-secret']));
    expect(r.hits[0]?.contentType).toBe('application/json');
    expect(r.hits[0]?.body).toEqual(note(1));
    expect(sender.stats).toMatchObject({ sent: 3, attempts: 6, failures: 3, statuses: { 200: 3, 204: 1, 500: 2 }, errors: 0, gaveUp: 0 });
  });

  it('retries after a timeout or a refused connection; no token, no Authorization; custom scheme', async () => {
    const r = await receiver((i, res) => {
      if (i === 0) return; // never answers: the sender times out
      res.statusCode = 200;
      res.end('{}');
    });
    const sender = new GreenApiWebhookSender({ url: r.url, timeoutMs: 150, retryDelayMs: 20 });
    cleanup.push(() => sender.close());
    sender.send(note(1));
    await sender.drain();
    expect(r.hits.map((h) => h.body['idMessage'])).toEqual(['MSG1', 'MSG1']);
    expect(r.hits[0]?.auth).toBeUndefined();
    expect(sender.stats).toMatchObject({ sent: 1, attempts: 2, failures: 1, errors: 1 });

    const refused = new GreenApiWebhookSender({ url: 'http://127.0.0.1:1/x', token: 't', scheme: 'Basic', retryDelayMs: 10, giveUpAfterMs: 60 });
    cleanup.push(() => refused.close());
    refused.send(note(2));
    await refused.drain();
    expect(refused.stats.sent).toBe(0);
    expect(refused.stats.gaveUp).toBe(1);
    expect(refused.stats.attempts).toBeGreaterThanOrEqual(2);

    const r2 = await receiver((_i, res) => res.end());
    const custom = new GreenApiWebhookSender({ url: r2.url, token: 't2', scheme: 'Basic' });
    cleanup.push(() => custom.close());
    custom.send(note(3));
    await custom.drain();
    expect(r2.hits[0]?.auth).toBe('Basic t2');
  });

  it('gives up after giveUpAfterMs and goes on with the next notification; close() stops', async () => {
    const r = await receiver((i, res) => {
      res.statusCode = r.hits[i]?.body['idMessage'] === 'MSG1' ? 503 : 200;
      res.end();
    });
    const sender = new GreenApiWebhookSender({ url: r.url, retryDelayMs: 20, giveUpAfterMs: 100 });
    cleanup.push(() => sender.close());
    sender.send(note(1));
    sender.send(note(2));
    await sender.drain();
    expect(sender.stats).toMatchObject({ sent: 1, gaveUp: 1 });
    expect(r.hits.map((h) => h.body['idMessage']).slice(-2)).toEqual(['MSG1', 'MSG2']);
    expect(sender.stats.attempts).toBe(r.hits.length);

    const failing = await receiver((_i, res) => {
      res.statusCode = 500;
      res.end();
    });
    const s2 = new GreenApiWebhookSender({ url: failing.url, retryDelayMs: 60_000 });
    s2.send(note(1));
    s2.send(note(2));
    while (s2.stats.attempts < 1 || failing.hits.length < 1) await sleep(5);
    await sleep(20);
    const t0 = Date.now();
    const drained = s2.drain();
    await s2.close();
    await drained;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(s2.stats).toMatchObject({ sent: 0, attempts: 1, failures: 1, discarded: 2 });
    expect(() => s2.send(note(3))).toThrow(/closed/);
  });
});

// ─── scenarios ──────────────────────────────────────────────────────────────────────────────────

describe('GREEN-API scenarios', () => {
  const opts = { idInstance: ID, wid: '79876543210@c.us', now: 1717000000000 };
  const ctx = { connectorId: 'sim', receivedAt: '2026-01-01T00:00:00.000Z' };

  it('has the required scenarios, and each one normalizes without error', () => {
    for (const name of ['answered-call', 'missed-call', 'rejected-call', 'messages', 'duplicates', 'out-of-order', 'state-changes', 'all'])
      expect(SCENARIOS[name], name).toBeDefined();
    for (const [name, s] of Object.entries(SCENARIOS)) {
      const bodies = s.notifications(opts);
      expect(bodies.length, name).toBeGreaterThan(0);
      for (const b of bodies) {
        const events = normalizeGreenApi(b, ctx);
        expect(events.length, `${name}: ${String(b['typeWebhook'])}`).toBeGreaterThan(0);
        expect((b['instanceData'] as Record<string, unknown>)['idInstance']).toBe(Number(ID));
      }
    }
  });

  it('builds calls as two notifications with the same idMessage, and differs by `now`', () => {
    const statuses = (name: string) => SCENARIOS[name]!.notifications(opts).map((b) => [b['typeWebhook'], b['status']]);
    expect(statuses('answered-call')).toEqual([['incomingCall', 'offer'], ['incomingCall', 'pickUp']]);
    expect(statuses('missed-call')).toEqual([['incomingCall', 'offer'], ['incomingCall', 'declined']]);
    expect(statuses('rejected-call')).toEqual([['incomingCall', 'offer'], ['incomingCall', 'hungUp']]);
    expect(statuses('out-of-order').slice(0, 2)).toEqual([['incomingCall', 'pickUp'], ['incomingCall', 'offer']]);
    const call = SCENARIOS['answered-call']!.notifications(opts);
    expect(call[0]?.['idMessage']).toMatch(/^[0-9A-F]{32}$/);
    expect(call[1]?.['idMessage']).toBe(call[0]?.['idMessage']);
    // The call ends at `now` (a simulator never stamps the future): offer 12 s before, pickUp now.
    expect([call[0]?.['timestamp'], call[1]?.['timestamp']]).toEqual([1717000000 - 12, 1717000000]);
    expect(SCENARIOS['answered-call']!.notifications({ ...opts, now: opts.now + 1000 })[0]?.['idMessage']).not.toBe(call[0]?.['idMessage']);
    expect(SCENARIOS['answered-call']!.notifications(opts)).toEqual(call); // deterministic

    const dup = SCENARIOS['duplicates']!.notifications(opts);
    expect(dup[1]).toEqual(dup[0]);
    expect(dup[1]).not.toBe(dup[0]);
    const msgTypes = SCENARIOS['messages']!.notifications(opts).map((b) => `${String(b['typeWebhook'])}/${String((b['messageData'] as Record<string, unknown> | undefined)?.['typeMessage'] ?? b['status'])}`);
    expect(msgTypes).toEqual(
      expect.arrayContaining([
        'incomingMessageReceived/textMessage',
        'outgoingMessageReceived/textMessage',
        'outgoingAPIMessageReceived/extendedTextMessage',
        'incomingMessageReceived/documentMessage',
        'incomingMessageReceived/locationMessage',
        'outgoingMessageStatus/delivered',
        'outgoingMessageStatus/read',
      ]),
    );
    const types = SCENARIOS['state-changes']!.notifications(opts).map((b) => b['typeWebhook']);
    expect(types).toContain('stateInstanceChanged');
    expect(types).toContain('quotaExceeded');

    const all = SCENARIOS['all']!.notifications(opts);
    const parts = Object.entries(SCENARIOS).filter(([n]) => n !== 'all').reduce((s, [, sc]) => s + sc.notifications(opts).length, 0);
    expect(all).toHaveLength(parts);
  });

  it('enqueueScenario puts a scenario in the queue with the instance wid', async () => {
    const sim = new GreenApiSimulator({ instances: [{ idInstance: ID, apiTokenInstance: TOKEN, wid: '79990000000@c.us' }] });
    expect(sim.enqueueScenario(ID, 'missed-call', opts.now)).toEqual([1, 2]);
    const q = sim.queued(ID);
    expect(q.map((x) => x.body['status'])).toEqual(['offer', 'declined']);
    expect((q[0]?.body['instanceData'] as Record<string, unknown>)['wid']).toBe('79990000000@c.us');
    expect(() => sim.enqueueScenario(ID, 'nope')).toThrow(/unknown scenario/);
    expect(() => sim.enqueue('42', note(1))).toThrow(/unknown idInstance/);
    await sim.close();
  });
});
