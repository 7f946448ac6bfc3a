import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';
import { EVENT_TYPES } from '../src/core/index.js';

interface Answer {
  accepted: number;
  duplicates: number;
  events: number;
  rejected: { index: number; code: string; reason: string; quarantineId: string }[];
}
interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}
interface EventsPage {
  events: { id: string; type: string; subject: string; platform: string; sequence: string; data: Record<string, unknown> }[];
  next: string | null;
}

describe('HTTP surface', () => {
  let t: TestServer;
  const post = (body: string, headers: Record<string, string> = ingestHeaders(), connector = 'wa') => fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers, body });
  const get = (path: string, headers: Record<string, string> = apiHeaders) => fetch(`${t.url}${path}`, { headers });

  beforeAll(async () => {
    t = await startTestServer({ server: { bodyLimit: 4096 } });
  });
  afterAll(async () => t.close());

  it('answers /healthz, /readyz and /metrics', async () => {
    expect((await get('/healthz', {})).status).toBe(200);
    const ready = await get('/readyz', {});
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', store: true });
    const metrics = await (await get('/metrics', {})).text();
    expect(metrics).toContain('switchboard_ingest_items_total');
    expect(metrics).toContain('switchboard_commit_seconds');
  });

  it('stores a payload once: a second delivery is counted as a duplicate', async () => {
    const body = JSON.stringify(waMessage('once'));
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: 1, duplicates: 0, events: 1, rejected: [] });
    const second = await post(body);
    expect(await second.json()).toEqual({ accepted: 0, duplicates: 1, events: 0, rejected: [] });
    const page = (await (await get('/v1/events?type=message.created')).json()) as EventsPage;
    expect(page.events.filter((e) => e.data.text === 'once')).toHaveLength(1);
  });

  it('refuses missing and wrong ingest credentials with 401 and no detail', async () => {
    const body = JSON.stringify(waMessage());
    const missing = await post(body, { 'content-type': 'application/json' });
    const wrong = await post(body, ingestHeaders('application/json', 'not-the-token-at-all'));
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    const a = (await missing.json()) as ErrorBody;
    const b = (await wrong.json()) as ErrorBody;
    expect(a).toEqual({ error: { code: 'SB_ERR_AUTH_REQUIRED', message: 'unauthorized' } });
    expect(b).toEqual(a);
    // The API token is not an ingest token.
    expect((await post(body, ingestHeaders('application/json', API_TOKEN))).status).toBe(401);
  });

  it('takes the token after any scheme, as GREEN-API sends its webhookUrlToken', async () => {
    const ok = await post(JSON.stringify(waMessage()), { authorization: 'Basic test-ingest-token-0123456789', 'content-type': 'application/json' });
    expect(ok.status).toBe(200);
  });

  it('answers 404 for an unknown connector, 415 for a wrong content type, 413 over the size limit', async () => {
    const unknown = await post('{}', ingestHeaders(), 'nope');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('SB_ERR_INGEST_UNKNOWN_CONNECTOR');
    const wrongType = await post('a=b', ingestHeaders('application/x-www-form-urlencoded'));
    expect(wrongType.status).toBe(415);
    const e415 = (await wrongType.json()) as ErrorBody;
    expect(e415.error.code).toBe('SB_ERR_INGEST_CONTENT_TYPE');
    expect(e415.error.message).toContain('application/json');
    const big = await post(JSON.stringify([waMessage('x'.repeat(5000))]));
    expect(big.status).toBe(413);
    expect(((await big.json()) as ErrorBody).error.code).toBe('SB_ERR_INGEST_TOO_LARGE');
  });

  it('answers malformed JSON with 400 naming the problem, and keeps it in the quarantine', async () => {
    const res = await post('{"typeWebhook": "incomingCall",');
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('SB_ERR_INGEST_MALFORMED');
    expect(body.error.message).toMatch(/malformed JSON: .*JSON/);
    const q = (await (await get('/v1/quarantine?connector=wa')).json()) as { items: { id: string; raw: string; reason: string }[] };
    const kept = q.items.find((i) => i.id === body.error.quarantineId);
    expect(kept?.raw).toBe('{"typeWebhook": "incomingCall",');
    expect(kept?.reason).toContain('malformed JSON');
  });

  it('answers a payload that is not a GREEN-API notification with 400 and a precise reason', async () => {
    const res = await post(JSON.stringify({ hello: 'world' }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
    expect(body.error.message).toContain('typeWebhook');
  });

  it('stores the good items of a batch and reports the bad one (JSON array and NDJSON)', async () => {
    const good1 = waMessage('batch-1');
    const good2 = waMessage('batch-2');
    const res = await post(JSON.stringify([good1, { typeWebhook: 'incomingCall' }, good2]));
    expect(res.status).toBe(200);
    const a = (await res.json()) as Answer;
    expect(a.accepted).toBe(2);
    expect(a.rejected).toHaveLength(1);
    expect(a.rejected[0]).toMatchObject({ index: 1, code: 'SB_ERR_INGEST_INVALID_PAYLOAD' });
    expect(a.rejected[0]?.quarantineId).toMatch(/^\d+$/);

    const nd = [JSON.stringify(waMessage('nd-1')), '{oops', '', JSON.stringify(waMessage('nd-2'))].join('\n');
    const res2 = await post(nd, ingestHeaders('application/x-ndjson'));
    expect(res2.status).toBe(200);
    const b = (await res2.json()) as Answer;
    expect(b.accepted).toBe(2);
    expect(b.rejected).toEqual([expect.objectContaining({ index: 1, code: 'SB_ERR_INGEST_MALFORMED', reason: expect.stringContaining('line 2') })]);
    const texts = ((await (await get('/v1/events?type=message.created&limit=1000')).json()) as EventsPage).events.map((e) => e.data.text);
    expect(texts).toEqual(expect.arrayContaining(['batch-1', 'batch-2', 'nd-1', 'nd-2']));
    // None of the bad input stopped the server.
    expect((await get('/healthz', {})).status).toBe(200);
  });

  it('stores unknown native types as native.unmapped', async () => {
    const res = await post(JSON.stringify({ typeWebhook: 'someFutureWebhook', instanceData: { idInstance: 1101 }, timestamp: 1700000000, foo: 1 }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as Answer).accepted).toBe(1);
    const page = (await (await get('/v1/events?type=native.unmapped')).json()) as EventsPage;
    const e = page.events.find((x) => (x.data.native as Record<string, unknown>).typeWebhook === 'someFutureWebhook');
    expect(e).toBeDefined();
    expect(e?.data.reason).toEqual(expect.any(String));
  });

  it('guards /v1 with the API token in the header (access_token is for the stream only: test/stream-auth.test.ts)', async () => {
    expect((await get('/v1/events', {})).status).toBe(401);
    expect((await get('/v1/events', { authorization: 'Bearer wrong-token-xyz' })).status).toBe(401);
    expect((await get(`/v1/events?access_token=${API_TOKEN}`, {})).status).toBe(401);
  });

  it('filters and pages /v1/events, finds one event, and validates the query', async () => {
    for (let i = 0; i < 5; i++) await post(JSON.stringify(waMessage(`page-${i}`)));
    const first = (await (await get('/v1/events?type=message.*&limit=2')).json()) as EventsPage;
    expect(first.events).toHaveLength(2);
    expect(first.next).toBe(first.events[1]?.sequence);
    const second = (await (await get(`/v1/events?type=message.*&limit=2&after=${first.next}`)).json()) as EventsPage;
    expect(Number(second.events[0]?.sequence)).toBeGreaterThan(Number(first.next));
    expect(((await (await get('/v1/events?platform=twin')).json()) as EventsPage).events).toHaveLength(0);
    expect(((await (await get('/v1/events?subject=conversation/*&limit=1000')).json()) as EventsPage).events.length).toBeGreaterThan(5);

    const one = first.events[0];
    const byId = await get(`/v1/events/${one?.id ?? ''}`);
    expect(byId.status).toBe(200);
    expect(((await byId.json()) as { id: string }).id).toBe(one?.id);
    expect((await get('/v1/events/00000000-0000-8000-8000-000000000000')).status).toBe(404);

    const bad = await get('/v1/events?after=abc');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.message).toContain('after');
    expect((await get('/v1/events?limit=5000')).status).toBe(400);
  });

  it('gives /v1/events newest first with order=desc, paged by before; the stream refuses both', async () => {
    for (let i = 0; i < 4; i++) await post(JSON.stringify(waMessage(`desc-${i}`)));
    const all = ((await (await get('/v1/events?type=message.*&limit=1000')).json()) as EventsPage).events.map((e) => e.sequence);
    const newest = (await (await get('/v1/events?type=message.*&order=desc&limit=2')).json()) as EventsPage;
    expect(newest.events.map((e) => e.sequence)).toEqual(all.slice(-2).reverse());
    expect(newest.next).toBe(all[all.length - 2]);
    const older = (await (await get(`/v1/events?type=message.*&order=desc&limit=2&before=${newest.next}`)).json()) as EventsPage;
    expect(older.events.map((e) => e.sequence)).toEqual(all.slice(-4, -2).reverse());
    expect((await get('/v1/events?order=sideways')).status).toBe(400);
    expect((await get('/v1/stream?order=desc')).status).toBe(400);
  });

  it('lists connectors with their counts, and serves the data schemas', async () => {
    const body = (await (await get('/v1/connectors')).json()) as { connectors: { id: string; platform: string; events: number; quarantined: number; state: string }[] };
    const wa = body.connectors.find((c) => c.id === 'wa');
    expect(wa).toMatchObject({ platform: 'greenapi', state: 'listening' });
    expect(wa?.events).toBeGreaterThan(0);
    expect(wa?.quarantined).toBeGreaterThan(0);
    const schema = (await (await get('/v1/schemas/call.ended')).json()) as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['callId', 'outcome', 'reason']));
    expect((await get('/v1/schemas/call.nope')).status).toBe(404);
  });

  it("lists every type's data schema, and each event's dataschema resolves to a JSON Schema 2020-12 with that $id", async () => {
    const list = (await (await get('/v1/schemas')).json()) as { schemas: { type: string; dataschema: string; url: string }[] };
    expect(list.schemas.map((s) => s.type).sort()).toEqual([...EVENT_TYPES].sort());
    const stored = (await (await get('/v1/events?limit=1')).json()) as { events: { type: string; dataschema: string }[] };
    const event = stored.events[0];
    expect(event).toBeDefined();
    const entry = list.schemas.find((s) => s.type === event?.type);
    expect(entry?.dataschema).toBe(event?.dataschema);
    // By its URL, and by the URN itself.
    for (const path of [entry?.url, `/v1/schemas/${encodeURIComponent(String(event?.dataschema))}`, `/v1/schemas/${String(event?.dataschema)}`]) {
      const res = await get(String(path));
      expect(res.status, String(path)).toBe(200);
      const schema = (await res.json()) as Record<string, unknown>;
      expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: event?.dataschema, type: 'object' });
    }
  });

  it('serves the dashboard page and answers unknown routes with a JSON 404', async () => {
    const page = await get('/', {});
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Switchboard');
    const nf = await get('/nope', {});
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as ErrorBody).error.code).toBe('SB_ERR_NOT_FOUND');
  });
});

describe('ids are stable across restarts', () => {
  it('a payload delivered before and after a restart is one event', async () => {
    const t = await startTestServer();
    const body = JSON.stringify(waMessage('restart'));
    const res = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body });
    expect(((await res.json()) as Answer).accepted).toBe(1);
    await t.sb.close();
    const t2 = await startTestServer({ store: t.store });
    const again = await fetch(`${t2.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body });
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await t2.close();
    await t.close();
  });
});

describe('CORS on /ingest for browser relays', () => {
  it('answers the preflight for an allowed origin only, and lets the POST through', async () => {
    const t = await startTestServer({ connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: 'test-ingest-token-0123456789', corsOrigins: ['https://app.example.com'] }] as never });
    const preflight = (origin: string) =>
      fetch(`${t.url}/ingest/wa`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const foreign = await preflight('https://evil.example.net');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: { ...ingestHeaders(), origin: 'https://app.example.com' }, body: JSON.stringify(waMessage('cors')) });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    await t.close();
  });
});
