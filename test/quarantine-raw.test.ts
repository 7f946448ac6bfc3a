/**
 * The quarantine keeps input as received: the whole body when it could not be read, the exact
 * slice of an array body or the line of an NDJSON body that was the bad item — never a
 * re-serialization (which would turn `1e400` into `null` and lose the spacing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

interface Rejected {
  index: number;
  code: string;
  quarantineId: string;
}
interface QuarantineItem {
  id: string;
  raw: string;
  rawEncoding?: string;
  contentType?: string;
}

describe('the quarantine keeps the raw body', () => {
  let t: TestServer;
  const post = (body: string, contentType = 'application/json') => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(contentType), body });
  const kept = async (id: string | undefined) => {
    const q = (await (await fetch(`${t.url}/v1/quarantine?limit=1000`, { headers: apiHeaders })).json()) as { items: QuarantineItem[] };
    return q.items.find((i) => i.id === id);
  };

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.close());

  it('a single invalid payload: the body verbatim (1e400, spacing, escapes)', async () => {
    const body = '{ "typeWebhook" : "incomingCall",\n  "a": 1e400, "b": "\\u0041", "c": 1.50 }';
    const res = await post(body);
    expect(res.status).toBe(400);
    const e = (await res.json()) as { error: { code: string; rejected: Rejected[] } };
    expect(e.error.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
    const item = await kept(e.error.rejected[0]?.quarantineId);
    expect(item?.raw).toBe(body);
    expect(item?.rawEncoding).toBeUndefined();
  });

  it('an item of a JSON array: the exact slice of the body that was that item', async () => {
    const bad = '{"typeWebhook":"incomingCall", "a":1e400,"s":"]},[\\"x"}';
    const body = `[ ${JSON.stringify(waMessage('raw-good'))} ,\n ${bad}  ]`;
    const res = await post(body);
    expect(res.status).toBe(200);
    const a = (await res.json()) as { accepted: number; rejected: Rejected[] };
    expect(a.accepted).toBe(1);
    expect(a.rejected.map((r) => r.index)).toEqual([1]);
    expect((await kept(a.rejected[0]?.quarantineId))?.raw).toBe(bad);
  });

  it('a line of an NDJSON body: that line', async () => {
    const bad = '{"typeWebhook":"incomingCall","a":1e400}';
    const res = await post([JSON.stringify(waMessage('raw-nd-good')), bad].join('\n'), 'application/x-ndjson');
    const a = (await res.json()) as { rejected: Rejected[] };
    expect((await kept(a.rejected[0]?.quarantineId))?.raw).toBe(bad);
  });
});
