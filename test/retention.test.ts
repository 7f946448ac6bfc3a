/**
 * Issue 17, retention (docs/privacy.md): a pass removes exactly the events past their window — the
 * default, a connector's, a type pattern's (first match wins) — while ingest runs; the calls and
 * conversations whose last event went go with them, the others stay; the quarantine has its own
 * window; undelivered webhooks of removed events are marked failed; a reader resuming before the
 * horizon is told (410 on /v1/events, a `gap` message on the stream). Runs on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { resolveConfig } from '../src/server/config.js';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Retention } from '../src/server/retention.js';
import { HORIZON_KV } from '../src/server/store/retention-plan.js';
import { freePort, makeTempDir, removeTempDirs } from './helpers/process.js';
import { withTestStore } from './helpers/postgres.js';
import { API_TOKEN, INGEST_TOKEN, apiHeaders, ingestHeaders, retentionStartPassDone, startTestServer, waCallFrom, waMessageFrom, type TestServer } from './helpers/sb.js';

const DAY = 86_400_000;
const message = waMessageFrom;
const call = waCallFrom;

interface ApiEvent {
  id: string;
  sequence: string;
  type: string;
  data: { native?: { idMessage?: string } };
}

describe('retention', () => {
  const T0 = Date.now();
  let clock = T0;
  let s: TestServer;
  const ingest = async (connector: string, body: unknown) => {
    const res = await fetch(`${s.url}/ingest/${connector}`, { method: 'POST', headers: ingestHeaders(), body: typeof body === 'string' ? body : JSON.stringify(body) });
    return res.status;
  };
  const get = async <T>(path: string): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${s.url}${path}`, { headers: apiHeaders });
    return { status: res.status, json: (await res.json()) as T };
  };
  const allEvents = async (): Promise<ApiEvent[]> => {
    const out: ApiEvent[] = [];
    for (let after = '0'; ; ) {
      const page = (await get<{ events: ApiEvent[]; next: string | null }>(`/v1/events?after=${after}&limit=500`)).json;
      out.push(...page.events);
      if (page.next === null) return out;
      after = page.next;
    }
  };

  beforeAll(async () => {
    s = await startTestServer(
      {
        connectors: [
          { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN, callerNames: false },
          { id: 'wa2', platform: 'greenapi', ingestToken: INGEST_TOKEN, callerNames: false },
        ],
        // The default 90 days; wa2's events 10 days; calls 30 days, on any connector (the type
        // pattern wins over the connector); the quarantine 20 days.
        retention: { events: '90d', connectors: { wa2: '10d' }, types: { 'call.*': '30d' }, quarantine: '20d', interval: '1h', chunk: 3 },
        subscriptions: [{ id: 'hook', url: `http://127.0.0.1:${await freePort()}/hook` }],
        // The first attempt an hour after the commit: every delivery stays pending here.
        delivery: { allowPrivateTargets: true, retrySchedule: ['1h'] },
        server: { apiToken: API_TOKEN },
      },
      { now: () => new Date(clock) },
    );
  });
  afterAll(async () => {
    await s?.close();
  });

  it('removes exactly what the windows say while ingest runs, with the projections of what went entirely', async () => {
    // The job's own pass at the start (on PostgreSQL once this instance holds the lease) runs
    // with the real time: it must be over before events "100 days old" come in.
    await retentionStartPassDone(s.url);
    // 100 days ago: A's first message and call, B's and D's messages on wa2, a malformed payload.
    clock = T0 - 100 * DAY;
    expect(await ingest('wa', [message('A-1', '79001111111', 'first of A'), call('CALL-A-1', '79001111111', 'offer'), call('CALL-A-1', '79001111111', 'pickUp')])).toBe(200);
    expect(await ingest('wa2', [message('B-1', '79002222222', 'first of B'), message('D-1', '79004444444', 'only of D')])).toBe(200);
    // And 300 more of D's, so that the pass takes many chunks (3 events each) while ingest goes on.
    expect(await ingest('wa2', Array.from({ length: 300 }, (_, n) => message(`BULK-${n}`, '79004444444', `more of D ${n}`)))).toBe(200);
    expect(await ingest('wa', '{"typeWebhook":"incomingMessageReceived","senderData":{"chatId":"79001111111@c.us"}')).toBe(400);
    // 25 days ago: A's second message and call.
    clock = T0 - 25 * DAY;
    expect(await ingest('wa', [message('A-2', '79001111111', 'second of A'), call('CALL-A-2', '79001111111', 'offer'), call('CALL-A-2', '79001111111', 'hangUp')])).toBe(200);
    // 5 days ago: B again on wa2, C on wa.
    clock = T0 - 5 * DAY;
    expect(await ingest('wa2', [message('B-2', '79002222222', 'second of B')])).toBe(200);
    expect(await ingest('wa', [message('C-1', '79003333333', 'first of C')])).toBe(200);

    const before = await allEvents();
    const nativeOf = (e: ApiEvent) => e.data.native?.idMessage ?? '';
    const goneNative = new Set(['A-1', 'CALL-A-1', 'B-1', 'D-1']);
    const gone = { has: (id: string) => goneNative.has(id) || id.startsWith('BULK-') };
    const expectedGone = before.filter((e) => gone.has(nativeOf(e)));
    expect(expectedGone.length).toBeGreaterThanOrEqual(5); // a message each, and the call's events
    const calls0 = (await get<{ calls: { callId: string }[] }>('/v1/calls')).json.calls.map((c) => c.callId).sort();
    expect(calls0).toHaveLength(2);
    const conversations0 = (await get<{ conversations: { connectorId: string; conversationId: string }[] }>('/v1/conversations')).json.conversations.map((c) => `${c.connectorId}/${c.conversationId}`).sort();
    expect(conversations0).toHaveLength(4); // A and C on wa, B and D on wa2
    expect((await get<{ items: unknown[] }>('/v1/quarantine')).json.items).toHaveLength(1);

    // The pass, now, with ingest going on: 3 events per transaction, fresh events arriving between.
    clock = T0;
    const fresh: string[] = [];
    let passing = true;
    const load = (async () => {
      for (let n = 0; passing || n < 20; n++) {
        const id = `FRESH-${n}`;
        expect(await ingest(n % 2 === 0 ? 'wa' : 'wa2', [message(id, `7900555${String(n).padStart(4, '0')}`, `fresh ${n}`)])).toBe(200);
        fresh.push(id);
      }
    })();
    const result = await s.sb.applyRetention(new Date(T0));
    passing = false;
    const duringPass = fresh.length;
    await load;
    expect(duringPass).toBeGreaterThan(0); // acknowledged while the pass ran

    expect(result.events).toBe(expectedGone.length);
    // It read nothing but what it removed: what a longer window keeps is not read at each pass.
    expect(result.scanned).toBe(result.events);
    expect(result.quarantine).toBe(1);
    const after = await allEvents();
    const kept = before.filter((e) => !gone.has(nativeOf(e))).map((e) => e.id);
    expect(after.map((e) => e.id)).toEqual([...kept, ...after.filter((e) => nativeOf(e).startsWith('FRESH-')).map((e) => e.id)]);
    expect(after.filter((e) => nativeOf(e).startsWith('FRESH-')).map(nativeOf).sort()).toEqual([...fresh].sort());
    for (const e of expectedGone) expect((await get(`/v1/events/${e.id}`)).status).toBe(404);

    // The call whose events all went is gone; the other stays. D's conversation (its only
    // message went) is gone; A's and B's, with messages left, stay.
    const calls1 = (await get<{ calls: { callId: string }[] }>('/v1/calls')).json.calls.map((c) => c.callId);
    expect(calls1).toHaveLength(1);
    expect(calls0).toContain(calls1[0]);
    const conversations1 = (await get<{ conversations: { connectorId: string; conversationId: string }[] }>('/v1/conversations?limit=1000')).json.conversations.map((c) => `${c.connectorId}/${c.conversationId}`);
    for (const c of conversations0) expect(conversations1.includes(c), c).toBe(!c.includes('79004444444'));
    expect(result.projections).toBe(2);
    expect((await get<{ items: unknown[] }>('/v1/quarantine')).json.items).toEqual([]);

    // The removed events' deliveries, still pending, are marked failed; the others wait.
    const deliveries = (await get<{ deliveries: { eventId: string; status: string; lastError: string | null }[] }>('/v1/subscriptions/hook/deliveries?limit=1000')).json.deliveries;
    const goneIds = new Set(expectedGone.map((e) => e.id));
    for (const d of deliveries) {
      if (goneIds.has(d.eventId)) expect([d.status, d.lastError]).toEqual(['failed', 'the event was removed by retention before it was delivered']);
      else expect(d.status).toBe('pending');
    }
    expect(deliveries.filter((d) => goneIds.has(d.eventId))).toHaveLength(goneIds.size);
    expect(result.undelivered).toBe(goneIds.size);

    // A second pass at the same time finds nothing more.
    const again = await s.sb.applyRetention(new Date(T0));
    expect([again.events, again.quarantine, again.projections]).toEqual([0, 0, 0]);
    expect(again.horizon).toBe(result.horizon);
    expect(result.horizon).toBe(Math.max(...expectedGone.map((e) => Number(e.sequence))));

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain(`switchboard_retention_removed_total{what="events"} ${result.events}`);
    expect(metrics).toContain(`switchboard_retention_horizon ${result.horizon}`);
  });

  it('tells a reader resuming before the horizon: 410 on /v1/events, a gap message on the stream', async () => {
    const horizon = (await s.sb.applyRetention(new Date(T0))).horizon;
    expect(horizon).toBeGreaterThan(1);
    const gone = await get<{ error: { code: string; message: string; horizon: string } }>('/v1/events?after=1');
    expect(gone.status).toBe(410);
    expect(gone.json.error.code).toBe('SB_ERR_EVENTS_GONE');
    expect(Number(gone.json.error.horizon)).toBe(horizon); // a sequence, as the API writes them
    expect(gone.json.error.message).toContain(`resume with after=${horizon}`);
    expect((await get(`/v1/events?after=${horizon}`)).status).toBe(200);
    expect((await get('/v1/events?after=0')).status).toBe(200);

    const stream = await fetch(`${s.url}/v1/stream`, { headers: { ...apiHeaders, 'last-event-id': '1' } });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\nid: ')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const gap = /event: gap\ndata: (.*)\n/.exec(text);
    expect(gap, text).not.toBeNull();
    const body = JSON.parse((gap as RegExpExecArray)[1] as string) as { after: string; horizon: string; reason: string };
    expect([Number(body.after), Number(body.horizon), body.reason]).toEqual([1, horizon, 'retention']);
    // The gap comes first, then what is left after the resume point.
    expect(text.indexOf('event: gap')).toBeLessThan(text.indexOf('\nid: '));
  });
});

describe('retention of connector state', () => {
  afterAll(() => removeTempDirs());

  it('removes cached caller names not written within their connector\'s window, of configured and of removed connectors, and never its own horizon', async () => {
    const dir = makeTempDir('sb-retention-kv-');
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY).toISOString();
    await withTestStore(dir, join(dir, 'sb.db'), async (store) => {
      const entries: [string, string, number][] = [
        ['wa', '79001111111@c.us', 100], // past the default 90 days: goes
        ['wa', '79003333333@c.us', 25], // within it: stays
        ['wa2', '79002222222@c.us', 20], // past wa2's 10 days: goes
        ['wa2', '79004444444@c.us', 5], // stays
        ['gone', '79005555555@c.us', 95], // a connector no longer configured, past the default: goes
        ['gone', '79006666666@c.us', 30], // stays
      ];
      for (const [connector, chatId, days] of entries) await store.kvPut(connector, 'contact-info', chatId, JSON.stringify({ name: chatId }), ago(days));
      await store.kvPut(HORIZON_KV.connectorId, HORIZON_KV.namespace, HORIZON_KV.key, '42', ago(365));
      const config = resolveConfig({ retention: { events: '90d', connectors: { wa2: '10d' }, chunk: 1 } }, { env: {} }).retention;
      const registry = new Registry();
      const job = new Retention(store, config, pino({ level: 'silent' }), registry);
      const result = await job.pass(undefined, now);
      expect(result.connectorState).toBe(3);
      const left = [];
      for (const [connector, chatId] of entries) if (await store.kvGet(connector, 'contact-info', chatId)) left.push(chatId);
      expect(left).toEqual(['79003333333@c.us', '79004444444@c.us', '79006666666@c.us']);
      expect(await store.retention.horizon()).toBe(42);
      expect(await registry.metrics()).toContain('switchboard_retention_removed_total{what="connector_state"} 3');
      expect((await job.pass(undefined, now)).connectorState).toBe(0);
    });
  });
});

describe('retention config', () => {
  it('names what is wrong', () => {
    const issues = (cfg: unknown) => {
      try {
        resolveConfig(cfg as never, { env: {} });
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return '';
    };
    expect(issues({ retention: { events: 'soon' } })).toMatch(/retention\.events/);
    expect(issues({ retention: { types: { 'message.*': '10ms' } } })).toMatch(/retention\.types\.message\.\*.*at least 1 s/s);
    expect(issues({ retention: { forever: true } })).toMatch(/retention/);
    expect(issues({ retention: { events: '90d', connectors: { wa: '30d' }, types: { 'call.*': '1d' }, quarantine: '7d' } })).toBe('');
  });
});
