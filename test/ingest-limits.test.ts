/**
 * Limits at parse time (server.limits): a payload nested too deep or holding too many keys and
 * elements is refused on its own with a 400 naming the limit and the value found, kept in the
 * quarantine as received — and never reaches the shared commit, where it would fail the
 * unrelated requests committed with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult } from '../src/server/pipeline.js';
import { INGEST_TOKEN, apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

/** The 200 answer of /ingest. */
type Answer = IngestResult;
interface ErrorBody {
  error: { code: string; message: string; quarantineId?: string; rejected?: Answer['rejected'] };
}
interface QuarantineItem {
  id: string;
  code: string;
  reason: string;
  raw: string;
}

/** JSON text of arrays nested `n` levels deep. */
const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/** A GREEN-API message whose unknown field `extra` holds `depth - 1` nested arrays: the payload is `depth` levels deep. */
function deepMessage(depth: number, text = 'deep'): string {
  const json = JSON.stringify(waMessage(text));
  return `${json.slice(0, -1)},"extra":${nested(depth - 1)}}`;
}

describe('limits at parse time', () => {
  let t: TestServer;
  const post = (body: string, contentType = 'application/json', connector = 'wa') => fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: ingestHeaders(contentType), body });
  const quarantined = async (id: string | undefined) => {
    const q = (await (await fetch(`${t.url}/v1/quarantine?limit=1000`, { headers: apiHeaders })).json()) as { items: QuarantineItem[] };
    return q.items.find((i) => i.id === id);
  };
  const texts = async () => ((await (await fetch(`${t.url}/v1/events?type=message.created&limit=1000`, { headers: apiHeaders })).json()) as { events: { data: { text?: string } }[] }).events.map((e) => e.data.text);

  beforeAll(async () => {
    t = await startTestServer({ connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }, { id: 'threads', platform: 'threads', ingestToken: INGEST_TOKEN }] as never });
  });
  afterAll(async () => t.close());

  it('refuses a payload nested 4,501 levels deep with 400 naming the limit, and keeps it as received', async () => {
    const body = deepMessage(4501);
    expect(body.length).toBeLessThan(10_000);
    const res = await post(body);
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.code).toBe('SB_ERR_INGEST_LIMIT');
    expect(e.error.message).toContain('nested 4,501 levels deep; the limit is 64');
    const kept = await quarantined(e.error.rejected?.[0]?.quarantineId);
    expect(kept?.code).toBe('SB_ERR_INGEST_LIMIT');
    expect(kept?.raw).toBe(body);
  });

  it('[good, deep]: the good item is stored, the deep one rejected with its index', async () => {
    const good = JSON.stringify(waMessage('good-beside-deep'));
    const deep = deepMessage(4501, 'deep-beside-good');
    const res = await post(`[${good}, ${deep}]`);
    expect(res.status).toBe(200);
    const a = (await res.json()) as Answer;
    expect(a).toMatchObject({ accepted: 1, duplicates: 0, events: 1 });
    expect(a.rejected).toEqual([expect.objectContaining({ index: 1, code: 'SB_ERR_INGEST_LIMIT', reason: 'payload 2: nested 4,501 levels deep; the limit is 64 (server.limits.maxDepth)' })]);
    expect((await quarantined(a.rejected[0]?.quarantineId))?.raw).toBe(deep);
    expect(await texts()).toContain('good-beside-deep');
    expect(await texts()).not.toContain('deep-beside-good');
  });

  it('answers a 10,000-deep array with 400, not 500, and an NDJSON line alone', async () => {
    const res = await post(nested(10_000));
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.code).toBe('SB_ERR_INGEST_LIMIT');
    expect(e.error.message).toContain('nested 9,999 levels deep');

    const nd = [JSON.stringify(waMessage('nd-before-deep')), deepMessage(300), JSON.stringify(waMessage('nd-after-deep'))].join('\n');
    const res2 = await post(nd, 'application/x-ndjson');
    expect(res2.status).toBe(200);
    const a = (await res2.json()) as Answer;
    expect(a.accepted).toBe(2);
    expect(a.rejected).toEqual([expect.objectContaining({ index: 1, code: 'SB_ERR_INGEST_LIMIT', reason: expect.stringContaining('nested 300 levels deep') })]);
  });

  it('quarantines a deep invalid payload as received, not as "[object Object]"', async () => {
    const body = `{"hello":${nested(5000)}}`;
    const res = await post(body);
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.code).toBe('SB_ERR_INGEST_LIMIT');
    expect((await quarantined(e.error.rejected?.[0]?.quarantineId))?.raw).toBe(body);
  });

  it('applies the same limit to the JSON string a normalizer parses (Threads SURVEY text)', async () => {
    const survey = { origin: 'threads', type: 'SURVEY', threadId: 9304, text: `{"id":12,"questions":${nested(4500)}}` };
    const res = await post(JSON.stringify(survey), 'application/json', 'threads');
    expect(res.status).toBe(400);
    const e = (await res.json()) as ErrorBody;
    expect(e.error.code).toBe('SB_ERR_INGEST_LIMIT');
    expect(e.error.message).toBe('threads SURVEY: at text: nested 4,501 levels deep; the limit is 64 (server.limits.maxDepth)');
    expect((await quarantined(e.error.rejected?.[0]?.quarantineId))?.raw).toBe(JSON.stringify(survey));
  });

  it('a deep payload does not fail the unrelated requests committed with it', async () => {
    const goods = Array.from({ length: 120 }, (_, i) => post(JSON.stringify(waMessage(`concurrent-${i}`))));
    const deeps = Array.from({ length: 3 }, (_, i) => post(deepMessage(4501, `concurrent-deep-${i}`)));
    const answers = await Promise.all([...goods, ...deeps]);
    expect(answers.slice(0, 120).map((r) => r.status)).toEqual(Array(120).fill(200));
    expect(answers.slice(120).map((r) => r.status)).toEqual([400, 400, 400]);
    const stored = await texts();
    for (let i = 0; i < 120; i++) expect(stored).toContain(`concurrent-${i}`);
  });

  it('library ingest: a deep object is rejected, not thrown, and the good one beside it stored', async () => {
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    const r = await t.sb.ingest('wa', [waMessage('library-good'), { ...waMessage('library-deep'), extra: deep }]);
    expect(r.accepted).toBe(1);
    expect(r.rejected).toEqual([expect.objectContaining({ index: 1, code: 'SB_ERR_INGEST_LIMIT', reason: expect.stringContaining('nested 5,002 levels deep') })]);
  });
});

describe('server.limits', () => {
  it('are configurable: depth and keys plus elements per payload, each named in the refusal', async () => {
    const t = await startTestServer({ server: { limits: { maxDepth: 8, maxKeys: 50 } } } as never);
    try {
      const post = (body: string) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body });
      expect((await post(JSON.stringify(waMessage('within-limits')))).status).toBe(200);
      const deep = await post(deepMessage(9));
      expect(deep.status).toBe(400);
      expect(((await deep.json()) as ErrorBody).error.message).toContain('nested 9 levels deep; the limit is 8 (server.limits.maxDepth)');
      const wide = { ...waMessage('wide'), extra: Array.from({ length: 40 }, (_, i) => i) };
      const res = await post(JSON.stringify(wide));
      expect(res.status).toBe(400);
      const e = (await res.json()) as ErrorBody;
      expect(e.error.code).toBe('SB_ERR_INGEST_LIMIT');
      // 7 keys at the top, 3 in instanceData, 3 in senderData, 2 + 1 in messageData, 40 elements.
      expect(e.error.message).toContain('holds 56 keys and array elements; the limit is 50 (server.limits.maxKeys)');
    } finally {
      await t.close();
    }
  });

  it('refuses limits that are not positive integers, naming the key', async () => {
    await expect(startTestServer({ server: { limits: { maxDepth: 0 } } } as never)).rejects.toThrow(/server\.limits\.maxDepth/);
  });
});
