/**
 * The bad-input catalogue (`test/bad-input/cases.ts`) against a real server: every case gets its
 * status, its code and a reason naming what was wrong, and is kept in the quarantine — the bytes as
 * they came — when the catalogue says so. A good payload sent after the whole catalogue is still
 * accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, CATALOGUE_CONNECTORS, INGEST_TOKEN, type BadInputCase } from './bad-input/cases.js';
import { apiHeaders, startTestServer, type TestServer } from './helpers/sb.js';

interface QuarantineItem {
  readonly id: string;
  readonly connectorId: string;
  readonly code: string;
  readonly reason: string;
  readonly raw: string;
  readonly rawEncoding?: string;
}

describe('the bad-input catalogue', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ connectors: CATALOGUE_CONNECTORS as never });
  });
  afterAll(async () => t?.close());

  async function quarantined(connector: string): Promise<QuarantineItem[]> {
    const res = await fetch(`${t.url}/v1/quarantine?connector=${connector}&limit=1000`, { headers: apiHeaders });
    return ((await res.json()) as { items: QuarantineItem[] }).items;
  }

  function bytesOf(item: QuarantineItem): Uint8Array {
    return item.rawEncoding === 'base64' ? Uint8Array.from(Buffer.from(item.raw, 'base64')) : new TextEncoder().encode(item.raw);
  }

  it('has at least 60 cases across the five platforms, each named once', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(new Set(CASES.map((c) => c.connector))).toEqual(new Set(CATALOGUE_CONNECTORS.map((c) => c.id)));
  });

  it.each(CASES.map((c): [string, BadInputCase] => [c.name, c]))('%s', async (_name, c) => {
    const before = (await quarantined(c.connector)).length;
    if (c.via === 'library') {
      const result = await t.sb.ingest(c.connector, JSON.parse(String(c.body)) as unknown);
      expect(result.rejected.map((r) => r.code)).toEqual([c.code]);
      expect(result.rejected[0]?.reason).toMatch(c.reason);
    } else {
      const res = await fetch(`${t.url}/ingest/${c.connector}`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': c.contentType }, body: c.body });
      const answer = (await res.json()) as { error?: { code?: string; message?: string } };
      expect({ status: res.status, code: answer.error?.code }).toEqual({ status: c.status, code: c.code });
      expect(answer.error?.message).toMatch(c.reason);
    }
    const after = await quarantined(c.connector);
    if (!c.quarantined) {
      expect(after).toHaveLength(before);
      return;
    }
    expect(after).toHaveLength(before + 1);
    const entry = after[after.length - 1] as QuarantineItem;
    expect(entry.code).toBe(c.code);
    expect(entry.reason).toMatch(c.reason);
    const sent = c.raw !== undefined ? new TextEncoder().encode(c.raw) : typeof c.body === 'string' ? new TextEncoder().encode(c.body) : c.body;
    expect(Buffer.from(bytesOf(entry)).equals(Buffer.from(sent)), 'the quarantine keeps the bytes as received').toBe(true);
  });

  it('still accepts good input after the whole catalogue', async () => {
    const res = await fetch(`${t.url}/ingest/wa`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ typeWebhook: 'incomingCall', instanceData: { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' }, timestamp: 1717002000, from: '79001234567@c.us', status: 'offer', idMessage: 'CATALOGUE-GOOD' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1 });
  });
});
