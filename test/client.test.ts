/**
 * The browser module in Node: origin filtering with a fake window, typed handlers and patterns,
 * direct input, the error callback (never a throw, over a fuzz of malformed input), the forwarder
 * against a real local HTTP server that fails on purpose, and against a real Switchboard, whose
 * precise 400 for a malformed push reaches `onError` (issue 6, done-when 3).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ClientError, createListener, forwardTo, mobileCode, type FetchLike, type HandleResult, type WindowLike } from '../src/client/index.js';
import { THREADS_SCENARIOS } from '../src/connectors/threads/scenarios.js';
import { WIDGET_SCENARIOS } from '../src/connectors/widget/scenarios.js';
import { INGEST_TOKEN, apiHeaders, startTestServer, type TestServer } from './helpers/sb.js';

const WIDGET = 'https://widget.example.com';

/** A window double: an EventTarget for `message`/`pagehide`, and a document for visibility. */
function fakeWindow() {
  const target = new EventTarget();
  const docTarget = new EventTarget();
  const doc = Object.assign(docTarget, { visibilityState: 'visible' });
  const win = Object.assign(target, { document: doc }) as unknown as WindowLike & EventTarget;
  return {
    win,
    post(data: unknown, origin: string) {
      target.dispatchEvent(Object.assign(new Event('message'), { data, origin }));
    },
    hide() {
      doc.visibilityState = 'hidden';
      docTarget.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

const web = (subject: string, type: string, data?: unknown, timestamp?: number) => ({ subject, payload: { type, data }, ...(timestamp ? { timestamp } : {}) });
const state = (subject: string, s: string, timestamp?: number) => web(subject, 'state', { state: s }, timestamp);

function collectErrors() {
  const errors: { error: ClientError; input: unknown }[] = [];
  return { errors, onError: (error: ClientError, input: unknown) => void errors.push({ error, input }) };
}

describe('listener: the window', () => {
  it('takes message events from the widget origin only, and ignores those without subject/payload silently', () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ widgetOrigins: [`${WIDGET}/`], onError });
    const seen: string[] = [];
    l.on('*', (e) => void seen.push(`${e.type} ${e.subject}`));
    const w = fakeWindow();
    const detach = l.attachWindow(w.win);
    w.post(state('s-1', 'ringing'), WIDGET);
    w.post(state('evil', 'ringing'), 'https://evil.example.com');
    w.post(state('evil', 'ringing'), 'https://widget.example.com.evil.io');
    w.post(state('evil', 'ringing'), 'null');
    w.post({ type: 'resize', height: 300 }, WIDGET);
    w.post({ subject: 's-1' }, WIDGET);
    w.post('not json', WIDGET);
    w.post(JSON.stringify(state('s-1', 'connected')), WIDGET);
    w.post(web('s-1', 'state', 'broken'), WIDGET);
    expect(seen).toEqual(['call.ringing call/s-1', 'call.answered call/s-1']);
    expect(l.stats()).toMatchObject({ handled: 2, foreign: 3, ignored: 3, invalid: 1 });
    // A { subject, payload } from the widget that is malformed is reported, never thrown.
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
    expect(errors[0]?.error.message).toMatch(/at payload\.data: expected an object with a state/);
    detach();
    w.post(state('s-1', 'ended'), WIDGET);
    expect(seen).toHaveLength(2);
  });

  it('stamps web messages without a time with the receipt time, so that two equal chat lines stay two', () => {
    let now = Date.UTC(2026, 0, 15, 9, 0, 0);
    const l = createListener({ widgetOrigins: [WIDGET], now: () => now });
    const w = fakeWindow();
    l.attachWindow(w.win);
    const events: { id: string; time: string }[] = [];
    l.on('message.created', (e) => void events.push({ id: e.id, time: e.time }));
    w.post(web('s-2', 'chat', { message: 'Да' }), WIDGET);
    now += 1500;
    w.post(web('s-2', 'chat', { message: 'Да' }), WIDGET);
    expect(events).toHaveLength(2);
    expect(events[0]?.id).not.toBe(events[1]?.id);
    expect(events.map((e) => e.time)).toEqual(['2026-01-15T09:00:00.000Z', '2026-01-15T09:00:01.500Z']);
  });
});

describe('listener: handlers', () => {
  it('types handlers by pattern and matches exact types, prefixes, lists and everything', () => {
    const l = createListener();
    const got: Record<string, string[]> = { exact: [], prefix: [], list: [], all: [] };
    l.on('call.ended', (e) => {
      expectTypeOf(e.data.outcome).toEqualTypeOf<'answered' | 'missed' | 'rejected' | 'failed'>();
      got.exact!.push(`${e.data.outcome}/${e.data.reason}`);
    });
    l.on('call.*', (e) => {
      expectTypeOf(e.data.callId).toEqualTypeOf<string>();
      got.prefix!.push(e.type);
    });
    l.on('message.*', (e) => {
      expectTypeOf(e.data.conversationId).toEqualTypeOf<string>();
    });
    const off = l.on('call.ringing,message.created' as 'call.ringing', () => void got.list!.push('x'));
    l.on('*', (e) => void got.all!.push(e.type));
    for (const m of WIDGET_SCENARIOS['missed-call']!.mobile({ now: 1768469400000 })) l.handle(m);
    expect(got.exact).toEqual(['missed/no-operator']);
    expect(got.prefix).toEqual(['call.ringing', 'call.ended', 'call.closed']);
    expect(got.list).toEqual(['x']);
    off();
    l.handle(mobileCode('RINGING', 'c-2'));
    expect(got.list).toEqual(['x']);
    expect(got.all).toEqual(['call.ringing', 'call.ended', 'call.closed', 'call.ringing']);
  });

  it('reports a handler that throws and still runs the others', () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ onError });
    const ran: string[] = [];
    l.on('call.*', () => {
      throw new Error('boom');
    });
    l.on('call.*', (e) => void ran.push(e.type));
    expect(l.handle(mobileCode('RINGING', 'c-3')).status).toBe('handled');
    expect(ran).toEqual(['call.ringing']);
    expect(errors.map((e) => e.error.code)).toEqual(['SB_ERR_CLIENT_HANDLER']);
    expect(errors[0]?.error.message).toMatch(/boom/);
  });

  it('hands out an event once even when the widget repeats it', () => {
    const l = createListener();
    const seen: string[] = [];
    l.on('*', (e) => void seen.push(e.id));
    const m = { code: 'CONNECTED', callId: 'c-4', timestamp: 1768469405000 };
    l.handle(m);
    l.handle({ ...m });
    expect(seen).toHaveLength(1);
    expect(l.stats().duplicates).toBe(1);
  });
});

describe('listener: direct input', () => {
  it('adapts mobile SDK codes (stamped by mobileCode) and follows the call lifecycle', () => {
    const l = createListener();
    const before = Date.now();
    const m = mobileCode('FEEDBACK_RATE', 'c-5', { rate: 4 });
    expect(m.timestamp).toBeGreaterThanOrEqual(before);
    expect(m).toMatchObject({ code: 'FEEDBACK_RATE', callId: 'c-5', data: { rate: 4 } });
    expect(mobileCode('RINGING', 'c-5')).not.toHaveProperty('data');
    for (const msg of WIDGET_SCENARIOS['redirected-call']!.mobile({ now: 1768469400000 })) l.handle(msg);
    // Out of order and repeated: a late RINGING and CONNECTED change nothing.
    l.handle({ code: 'RINGING', callId: `call-${(1768469400000).toString(36)}`, timestamp: 1768469400500 });
    const [call] = l.calls();
    expect(call).toMatchObject({ state: 'closed', redirects: 1, outcome: 'answered', ratingSkipped: true });
    expect(l.callState(call!.callId)).toBe(call);
    expect(l.callState('nope')).toBeUndefined();
  });

  it('parses Threads pushes: every scenario maps, a push of another sender is "not-threads" and not an error', () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ onError });
    const types: string[] = [];
    l.on('*', (e) => void types.push(e.type));
    for (const name of ['handover', 'survey', 'schedule', 'close-request']) {
      const sc = THREADS_SCENARIOS[name]!;
      types.length = 0;
      for (const p of sc.pushes({ now: 1768469400000 })) expect(l.threadsPush(p).status).toBe('handled');
      expect(types, name).toEqual(sc.types);
    }
    expect(l.threadsPush({ origin: 'fcm-marketing', type: 'PROMO' })).toEqual({ status: 'not-threads' });
    expect(l.handle({ origin: 'other', title: 'hi' })).toEqual({ status: 'not-threads' });
    expect(l.threadsPush(JSON.stringify({ origin: 'THREADS', type: 'THREAD_OPENED', threadId: 9 })).status).toBe('handled');
    expect(l.stats().notThreads).toBe(2);
    expect(errors).toEqual([]);
    // Every readInMessageIds form, a missing uuid, display:false, an unknown type.
    const read = (ids: unknown) => (l.threadsPush({ origin: 'threads', type: 'MESSAGES_READ', threadId: 1, readInMessageIds: ids }) as Extract<HandleResult, { status: 'handled' }>).events[0];
    for (const form of ['a,b', '[a, b]', ['a', 'b']]) expect(read(form)?.data).toMatchObject({ messageIds: ['a', 'b'], status: 'read' });
    const hidden = l.threadsPush({ origin: 'threads', type: 'MESSAGE', providerId: 'p-1', threadId: 1, display: false, text: 'x' });
    expect(hidden.status === 'handled' && hidden.events[0]?.data).toMatchObject({ messageId: 'p-1', hidden: true });
    const unknown = l.threadsPush({ origin: 'threads', type: 'SOMETHING_NEW', threadId: 1 });
    expect(unknown.status === 'handled' && unknown.events[0]?.type).toBe('native.unmapped');
  });

  it('reports malformed pushes and messages through onError, naming the field', () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ onError });
    const bad = THREADS_SCENARIOS.malformed!.pushes({ now: 1768469400000 });
    for (const p of bad) expect(l.threadsPush(p).status).toBe('invalid');
    expect(l.handle('{"code":')).toMatchObject({ status: 'invalid' });
    expect(l.handle(42)).toMatchObject({ status: 'invalid' });
    expect(l.handle({ code: 'RINGING' })).toMatchObject({ status: 'invalid' });
    expect(errors.map((e) => e.error.code)).toEqual(['SB_ERR_INGEST_INVALID_PAYLOAD', 'SB_ERR_INGEST_INVALID_PAYLOAD', 'SB_ERR_INGEST_MALFORMED', 'SB_ERR_INGEST_INVALID_PAYLOAD', 'SB_ERR_INGEST_INVALID_PAYLOAD']);
    expect(errors[0]?.error.message).toMatch(/threads SURVEY: at text: malformed JSON/);
    expect(errors[0]?.input).toBe(bad[0]);
    expect(errors[1]?.error.message).toMatch(/MESSAGE_EDITED: expected the message's uuid, providerId or backendId/);
    expect(errors[4]?.error.message).toMatch(/at callId/);
    expect(errors.every((e) => e.error instanceof ClientError)).toBe(true);
  });

  it('never throws, whatever it is given (a fuzz of malformed input), and reports every invalid input once', () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ widgetOrigins: [WIDGET], onError });
    const w = fakeWindow();
    l.attachWindow(w.win);
    l.on('*', () => undefined);
    const cyclic: Record<string, unknown> = { subject: 's', payload: { type: 'chat' } };
    cyclic.self = cyclic;
    const throwing = { get subject(): string { throw new Error('getter'); }, payload: {} };
    const trap = new Proxy({}, { has() { throw new Error('has trap'); }, get() { throw new Error('get trap'); } });
    const fixed: unknown[] = [
      undefined, null, true, 0, -1, NaN, Infinity, '', ' ', '{}', '[]', 'null', '{"subject":1}', [], [1, 2], {}, { code: null }, { callId: {} }, { code: 'RINGING', callId: 'c', timestamp: 'yesterday' },
      { code: 'RINGING', callId: 'c', timestamp: -5 }, { code: 'RINGING', callId: 'c', timestamp: 1e20 }, { code: 'RINGING', callId: 'c\nx' }, { code: '', callId: 'c' }, { code: 'RINGING', callId: 'c', data: 'x' },
      { subject: '', payload: {} }, { subject: 's', payload: null }, { subject: 's', payload: { type: 'state', data: { state: 7 } } }, { subject: 's', payload: { type: ['x'] } }, { subject: 's', payload: { type: 'feedback', data: { rating: 'five' } } },
      { origin: 'threads' }, { origin: 'threads', type: '' }, { origin: 'threads', type: 'A\nB' }, { origin: 'threads', type: 'SURVEY', text: 5 }, { origin: 'threads', type: 'SCHEDULE', text: '{' }, { origin: 'threads', type: 'MESSAGES_READ', readInMessageIds: {} },
      { origin: 'threads', type: 'MESSAGE_DELETED' }, { origin: 'threads', type: 'MESSAGE', threadId: 'a\nb' }, { origin: 'threads', type: 'MESSAGE', receivedDate: 'not a date', attachments: [null, 1, 'x'], quickReplies: [{}] },
      { origin: 42 }, { origin: null, type: 'MESSAGE' }, cyclic, throwing, trap, '\ud800', { subject: '\ud800', payload: { type: 'chat', data: { message: '\udfff' } } },
      Object.create(null) as unknown, new Date(), /re/, () => 1, Symbol('s'), 10n,
    ];
    let seed = 42;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const atoms: unknown[] = [undefined, null, '', 'x', 0, 1.5, -1, true, [], {}, 'RINGING', 'threads', 'state', 'ringing', '\n', 1e300];
    const keys = ['subject', 'payload', 'type', 'data', 'state', 'code', 'callId', 'timestamp', 'origin', 'threadId', 'uuid', 'text', 'readInMessageIds', 'operator', 'rating', 'id'];
    const gen = (depth: number): unknown => {
      if (depth > 2 || rnd(3) === 0) return atoms[rnd(atoms.length)];
      const o: Record<string, unknown> = {};
      for (let i = rnd(5); i >= 0; i--) o[keys[rnd(keys.length)]!] = gen(depth + 1);
      return o;
    };
    const inputs = [...fixed, ...Array.from({ length: 120 }, () => gen(0))];
    let invalid = 0;
    for (const input of inputs) {
      for (const feed of [(x: unknown) => l.handle(x), (x: unknown) => l.threadsPush(x)]) {
        let r: HandleResult | undefined;
        expect(() => (r = feed(input))).not.toThrow();
        expect(['handled', 'invalid', 'not-threads', 'ignored']).toContain(r?.status);
        if (r?.status === 'invalid') invalid++;
      }
      expect(() => w.post(input, WIDGET)).not.toThrow();
    }
    expect(inputs.length).toBeGreaterThanOrEqual(100);
    expect(invalid).toBeGreaterThan(100);
    expect(errors.length).toBe(l.stats().invalid);
    expect(errors.every((e) => e.error instanceof ClientError && e.error.message.length > 0)).toBe(true);
  });

  it('survives an onError that throws itself', () => {
    const l = createListener({
      onError: () => {
        throw new Error('app bug');
      },
    });
    expect(() => l.handle(null)).not.toThrow();
  });
});

// ─── the forwarder against a real local HTTP server ─────────────────────────────────────────

interface Received {
  at: number;
  auth: string | undefined;
  type: string | undefined;
  body: unknown[];
}

/** A local ingest endpoint whose answers the test scripts: a status (+ headers) or a dropped socket. */
async function fakeIngest(script: (n: number, body: unknown[]) => { status: number; headers?: Record<string, string>; body?: unknown } | 'drop') {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as unknown[];
      received.push({ at: Date.now(), auth: req.headers.authorization, type: req.headers['content-type'], body });
      const answer = script(received.length, body);
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { accepted: body.length, duplicates: 0, rejected: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const items = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ code: 'RINGING', callId: `c-${from + i}`, timestamp: 1768469400000 + i }));

describe('forwarder', () => {
  it('batches by size and by time, as JSON arrays with the connector token', async () => {
    const ingest = await fakeIngest(() => ({ status: 200 }));
    try {
      const f = forwardTo({ url: `${ingest.url}/`, connectorId: 'widget-web', token: 'tok-1', batchSize: 50, flushMs: 30 });
      for (const it of items(120)) f.push(it);
      await f.drained();
      expect(ingest.received.map((r) => r.body.length)).toEqual([50, 50, 20]);
      expect(ingest.received.every((r) => r.auth === 'Bearer tok-1' && r.type === 'application/json')).toBe(true);
      expect(ingest.received.flatMap((r) => r.body)).toEqual(items(120));
      expect(f.status()).toMatchObject({ queued: 0, sent: 120, dropped: 0, attempt: 0 });
      // Fewer than a batch wait flushMs, then leave together.
      const t0 = Date.now();
      f.push(items(1, 500)[0]);
      f.push(items(1, 501)[0]);
      await f.drained();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
      expect(ingest.received.at(-1)?.body).toHaveLength(2);
      await f.close();
    } finally {
      await ingest.close();
    }
  });

  it('retries network errors, 503 and 429 with growing jittered backoff, honouring Retry-After, and loses nothing', async () => {
    const ingest = await fakeIngest((n) => (n === 1 ? { status: 503, body: { error: { code: 'SB_ERR_OVERLOADED', message: 'busy' } } } : n === 2 ? 'drop' : n === 3 ? { status: 429, headers: { 'retry-after': '1' } } : n === 4 ? { status: 502 } : { status: 200 }));
    try {
      const { errors, onError } = collectErrors();
      const f = forwardTo({ url: ingest.url, connectorId: 'w', token: 't', batchSize: 10, flushMs: 0, backoff: { minMs: 40, maxMs: 2000 }, onError });
      for (const it of items(5)) f.push(it);
      await f.drained();
      const gaps = ingest.received.slice(1).map((r, i) => r.at - ingest.received[i]!.at);
      expect(ingest.received).toHaveLength(5);
      expect(ingest.received.every((r) => r.body.length === 5)).toBe(true);
      expect(gaps[0]).toBeGreaterThanOrEqual(15); // 40 ms base, half jittered
      expect(gaps[1]).toBeGreaterThanOrEqual(35); // 80 ms base
      expect(gaps[2]).toBeGreaterThanOrEqual(950); // Retry-After: 1
      expect(f.status()).toMatchObject({ sent: 5, dropped: 0, attempt: 0, queued: 0 });
      expect(errors).toEqual([]);
    } finally {
      await ingest.close();
    }
  });

  it('drops and reports input the server refuses (400, 401), without retrying; splits a 413', async () => {
    const ingest = await fakeIngest((n, body) =>
      n === 1 ? { status: 400, body: { error: { code: 'SB_ERR_INGEST_INVALID_PAYLOAD', message: 'widget: at callId: expected …' } } } : n === 2 ? { status: 401, body: { error: { code: 'SB_ERR_AUTH_REQUIRED', message: 'unauthorized' } } } : body.length > 2 ? { status: 413 } : { status: 200 },
    );
    try {
      const { errors, onError } = collectErrors();
      const f = forwardTo({ url: ingest.url, connectorId: 'w', token: 't', batchSize: 3, flushMs: 0, backoff: { minMs: 10 }, onError });
      for (const it of items(3)) f.push(it);
      await f.drained();
      for (const it of items(3, 10)) f.push(it);
      await f.drained();
      for (const it of items(5, 20)) f.push(it);
      await f.drained();
      expect(errors.map((e) => [e.error.code, e.error.status])).toEqual([
        ['SB_ERR_CLIENT_REJECTED', 400],
        ['SB_ERR_CLIENT_REJECTED', 401],
      ]);
      expect(errors[0]?.error.message).toBe('w answered 400: widget: at callId: expected …');
      expect(errors[0]?.input).toEqual(items(3));
      // 413 of 3 → halves of 2, then 1; every item of the third round arrives.
      expect(ingest.received.slice(2).filter((r) => r.body.length <= 2).flatMap((r) => r.body)).toEqual(items(5, 20));
      expect(f.status()).toMatchObject({ sent: 5, dropped: 6, queued: 0 });
    } finally {
      await ingest.close();
    }
  });

  it('keeps memory bounded while the server is unreachable: the oldest are dropped and reported', async () => {
    const closed = await fakeIngest(() => ({ status: 200 }));
    await closed.close(); // nothing listens there any more
    const { errors, onError } = collectErrors();
    const f = forwardTo({ url: closed.url, connectorId: 'w', token: 't', batchSize: 2, flushMs: 0, maxQueue: 5, backoff: { minMs: 20, maxMs: 40 }, onError });
    for (const it of items(8)) f.push(it);
    await expect.poll(() => f.status().attempt, { timeout: 5000 }).toBeGreaterThan(0);
    expect(f.status().queued).toBe(5);
    expect(f.status().lastError).toBeTruthy();
    expect(errors.map((e) => e.error.code)).toEqual(['SB_ERR_CLIENT_QUEUE_FULL', 'SB_ERR_CLIENT_QUEUE_FULL', 'SB_ERR_CLIENT_QUEUE_FULL']);
    expect(errors.map((e) => (e.input as { callId: string }).callId)).toEqual(['c-0', 'c-1', 'c-2']);
    await f.close();
  });

  it('on page hide sends the queue with keepalive in chunks within 64 KB; what does not fit stays', async () => {
    const calls: { body: string; keepalive: boolean | undefined }[] = [];
    const fetch: FetchLike = async (_url, init) => {
      calls.push({ body: init.body, keepalive: init.keepalive });
      return { status: 200, headers: { get: () => null }, text: async () => JSON.stringify({ accepted: (JSON.parse(init.body) as unknown[]).length, duplicates: 0, rejected: [] }) };
    };
    const f = forwardTo({ url: 'https://sb.example.com', connectorId: 'w', token: 't', flushMs: 600_000, batchSize: 50, fetch });
    const big = (i: number) => ({ code: 'GREET', callId: `c-${i}`, timestamp: i, data: { text: 'я'.repeat(5000) } }); // ~10 KB each
    for (let i = 0; i < 10; i++) f.push(big(i));
    const l = createListener({ forward: { widget: f } });
    const w = fakeWindow();
    l.attachWindow(w.win);
    w.hide();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.keepalive === true)).toBe(true);
    expect(calls.reduce((n, c) => n + Buffer.byteLength(c.body), 0)).toBeLessThanOrEqual(64_000);
    const leftAfterHide = f.status().queued;
    expect(leftAfterHide).toBeGreaterThan(0);
    expect(leftAfterHide).toBeLessThan(10);
    await f.flush();
    expect(f.status()).toMatchObject({ queued: 0, sent: 10 });
    expect(calls.at(-1)?.keepalive).toBeUndefined();
    await l.close();
  });
});

// ─── against a real Switchboard ───────────────────────────────────────────────────────────────

describe('listener + forwarder → a real Switchboard', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      connectors: [
        { id: 'widget-app', platform: 'widget', ingestToken: INGEST_TOKEN },
        { id: 'threads-app', platform: 'threads', ingestToken: `${INGEST_TOKEN}-threads` },
        { id: 'widget-late', platform: 'widget', ingestToken: INGEST_TOKEN },
      ],
    });
  });
  afterAll(async () => srv?.close());

  async function stored(connector: string): Promise<{ id: string; type: string; time: string }[]> {
    const res = await fetch(`${srv.url}/v1/events?connector=${connector}&limit=1000`, { headers: apiHeaders });
    return ((await res.json()) as { events: { id: string; type: string; time: string }[] }).events;
  }

  it('stores what the page heard, with the ids the page computed, through one forwarder per connector', async () => {
    const { errors, onError } = collectErrors();
    const l = createListener({
      onError,
      forward: {
        widget: { url: srv.url, connectorId: 'widget-app', token: INGEST_TOKEN, flushMs: 10 },
        threads: { url: srv.url, connectorId: 'threads-app', token: `${INGEST_TOKEN}-threads`, flushMs: 10 },
      },
    });
    const ids: string[] = [];
    l.on('*', (e) => void ids.push(e.id));
    const now = Date.now();
    for (const m of WIDGET_SCENARIOS['answered-call']!.mobile({ now })) l.handle(m);
    for (const p of THREADS_SCENARIOS.handover!.pushes({ now })) l.threadsPush(p);
    await l.flush();
    const all = [...(await stored('widget-app')), ...(await stored('threads-app'))];
    expect(all.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(all.length).toBe(WIDGET_SCENARIOS['answered-call']!.mobileTypes.length + THREADS_SCENARIOS.handover!.types.length);
    expect(errors).toEqual([]);
    expect(l.stats().forwarders).toMatchObject({ widget: { sent: 8, dropped: 0 }, threads: { sent: 17, dropped: 0 } });
    await l.close();
  });

  it('a widget message with an event id and no time: page and store agree on its time and id, though it is forwarded an hour after it was heard', async () => {
    const { errors, onError } = collectErrors();
    const heardAt = Date.now() - 3_600_000; // the page was offline for an hour
    let clock = heardAt;
    const l = createListener({
      widgetOrigins: [WIDGET],
      now: () => clock,
      onError,
      forward: { widget: { url: srv.url, connectorId: 'widget-late', token: INGEST_TOKEN, flushMs: 600_000 } },
    });
    const w = fakeWindow();
    l.attachWindow(w.win);
    const page: { id: string; type: string; time: string }[] = [];
    l.on('*', (e) => void page.push({ id: e.id, type: e.type, time: e.time }));
    w.post({ ...state('s-late', 'ringing'), eventId: 'ev-ringing' }, WIDGET);
    clock += 90_000;
    l.handle({ ...state('s-late', 'connected'), id: 'ev-connected' });
    clock = Date.now();
    await l.flush();
    expect(page.map((e) => e.time)).toEqual([new Date(heardAt).toISOString(), new Date(heardAt + 90_000).toISOString()]);
    expect((await stored('widget-late')).map(({ id, type, time }) => ({ id, type, time }))).toEqual(page);
    expect(errors).toEqual([]);
    await l.close();
  });

  it('a malformed push: reported in the app, forwarded, and answered by the server with a precise 400 that reaches onError', async () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ onError, forward: { threads: { url: srv.url, connectorId: 'threads-app', token: `${INGEST_TOKEN}-threads`, flushMs: 10 } } });
    const [badSurvey] = THREADS_SCENARIOS.malformed!.pushes({ now: Date.now() });
    expect(l.threadsPush(badSurvey).status).toBe('invalid');
    await l.flush();
    expect(errors.map((e) => [e.error.code, e.error.status])).toEqual([
      ['SB_ERR_INGEST_INVALID_PAYLOAD', undefined],
      ['SB_ERR_CLIENT_REJECTED', 400],
    ]);
    const local = errors[0]!.error.message;
    expect(local).toMatch(/^threads SURVEY: at text: malformed JSON/);
    expect(errors[1]?.error.message).toBe(`threads-app answered 400: ${local}`);
    expect(errors[1]?.input).toEqual(badSurvey);
    // The server kept it in its quarantine.
    const q = (await (await fetch(`${srv.url}/v1/quarantine?connector=threads-app`, { headers: apiHeaders })).json()) as { items: { reason: string }[] };
    expect(q.items.some((i) => i.reason.includes('at text: malformed JSON'))).toBe(true);
    await l.close();
  });

  it('a bad token: the server answers 401, the batch is dropped and reported once', async () => {
    const { errors, onError } = collectErrors();
    const l = createListener({ onError, forward: { widget: { url: srv.url, connectorId: 'widget-app', token: 'wrong', flushMs: 10 } } });
    l.handle(mobileCode('RINGING', 'c-401'));
    l.handle(mobileCode('CANCELLED', 'c-401'));
    await l.flush();
    expect(errors.map((e) => [e.error.code, e.error.status])).toEqual([['SB_ERR_CLIENT_REJECTED', 401]]);
    expect(l.stats().forwarders.widget).toMatchObject({ dropped: 2, sent: 0 });
    await l.close();
  });
});

describe('the browser module stays portable', () => {
  const root = new URL('../src/client/', import.meta.url).pathname;
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') && !f.endsWith('.test.ts') ? [join(dir, f)] : []));
  it('imports only the core and the widget and Threads normalizers; no Node built-ins, no DOM globals assumed', () => {
    const allowed = /^\.\/|^\.\.\/core\/index\.js$|^\.\.\/connectors\/(widget|threads)\/normalize\.js$/;
    for (const file of files(root)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) expect(m[1], `${file} imports ${m[1]}`).toMatch(allowed);
      expect(text, file).not.toMatch(/\bprocess\.|\bBuffer\b|require\(|\bdocument\.|\bnavigator\./);
    }
  });
});
