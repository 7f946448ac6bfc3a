import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, ingestHeaders, startTestServer, waCall, waMessage, type TestServer } from './helpers/sb.js';
import { readStream } from './helpers/sse.js';


describe('GET /v1/stream', () => {
  let t: TestServer;
  const ingest = (payloads: unknown[]) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(payloads) });

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('resumes after Last-Event-ID with exactly the later events, in order, while new ones arrive', async () => {
    await ingest(Array.from({ length: 20 }, (_, i) => waMessage(`sse-${i}`)));
    const first = await readStream(`${t.url}/v1/stream?after=0`, {}, 10);
    expect(first).toHaveLength(10);
    const lastSeen = first[9]?.id ?? '';
    expect(lastSeen).toMatch(/^\d{16}$/);

    // While the client is away and while it reconnects, more events are committed.
    const writer = (async () => {
      for (let i = 0; i < 10; i++) {
        await ingest([waMessage(`sse-late-${i}`)]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const second = await readStream(`${t.url}/v1/stream`, { 'last-event-id': lastSeen }, 20);
    await writer;

    const all = (await (await fetch(`${t.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as { events: { sequence: string }[] };
    const expected = all.events.map((e) => e.sequence).filter((s) => s > lastSeen);
    expect(expected).toHaveLength(20);
    expect(second.map((r) => r.id)).toEqual(expected);
    // `id:` is the sequence, `event:` the type, `data:` the CloudEvent.
    for (const r of [...first, ...second]) {
      expect(r.id).toBe(r.data.sequence);
      expect(r.event).toBe(r.data.type);
    }
    const seen = [...first, ...second].map((r) => r.id);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters by type pattern, also with ?after=', async () => {
    const before = ((await (await fetch(`${t.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as { events: { sequence: string }[] }).events.at(-1)?.sequence ?? '0';
    await ingest([waMessage('noise-1'), waCall('CALL-1', 'offer'), waMessage('noise-2'), waCall('CALL-1', 'pickUp'), waMessage('noise-3')]);
    const calls = await readStream(`${t.url}/v1/stream?after=${before}&type=call.*`, {}, 3);
    expect(calls.map((c) => c.event)).toEqual(['call.ringing', 'call.answered', 'call.ended']);
    const ended = await readStream(`${t.url}/v1/stream?after=${before}&type=call.ended,message.created`, {}, 4);
    expect(ended.map((c) => c.event)).toEqual(['message.created', 'message.created', 'call.ended', 'message.created']);
  });

  it('a filtered stream sends nothing for events that do not match', async () => {
    const pending = readStream(`${t.url}/v1/stream?type=operator.*,call.rated`, {}, 1, 3000);
    await new Promise((r) => setTimeout(r, 200));
    await ingest([waMessage('unrelated')]);
    const got = await pending;
    expect(got).toHaveLength(0);
  });

  it('refuses a malformed Last-Event-ID with 400', async () => {
    const res = await fetch(`${t.url}/v1/stream`, { headers: { ...apiHeaders, 'last-event-id': 'abc' } });
    expect(res.status).toBe(400);
  });
});
