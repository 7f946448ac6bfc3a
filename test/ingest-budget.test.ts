/**
 * Bytes in flight (server.maxBytesInFlight): request bodies being read and the batches they
 * became, until their commit settles, share one byte budget. Past it ingest answers 503 with
 * Retry-After — before the body is read when Content-Length tells, else as soon as the budget is
 * crossed while reading — and the budget is released when the commit settles.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, ingestHeaders, INGEST_TOKEN, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

const BUDGET = 1024 * 1024;
const BODY_BYTES = 300 * 1024;

/** A GREEN-API message of exactly BODY_BYTES bytes. */
function message(text: string): string {
  const json = JSON.stringify(waMessage(text));
  return JSON.stringify(waMessage(text + 'x'.repeat(BODY_BYTES - json.length)));
}

/** The value of a metric without labels in the Prometheus text. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/** A POST whose headers (with Content-Length) and the first third of the body are sent; `finish` sends the rest and resolves with the answer. */
function holdRequest(url: string, body: string): { finish(): Promise<{ status: number; body: string }> } {
  const u = new URL(`${url}/ingest/wa`);
  const bytes = Buffer.from(body);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...ingestHeaders(), 'content-length': String(bytes.length) } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
  });
  req.write(bytes.subarray(0, Math.floor(bytes.length / 3)));
  return {
    finish() {
      req.end(bytes.subarray(Math.floor(bytes.length / 3)));
      return answer;
    },
  };
}

describe('bytes in flight', () => {
  let t: TestServer;
  const metrics = async () => (await fetch(`${t.url}/metrics`)).text();
  const storedTexts = async () =>
    ((await (await fetch(`${t.url}/v1/events?type=message.created&limit=1000`, { headers: apiHeaders })).json()) as { events: { data: { text: string } }[] }).events.map((e) => e.data.text.replace(/x+$/, ''));

  beforeAll(async () => {
    t = await startTestServer({ server: { maxBytesInFlight: BUDGET, bodyLimit: 4 * 1024 * 1024 } } as never);
  });
  afterAll(async () => t.close());

  it('answers 503 + Retry-After past the budget, before reading the body or while reading it, and releases the budget after the commit', async () => {
    // Three bodies being read hold 900 KiB of the 1 MiB budget.
    const holding = [0, 1, 2].map((i) => holdRequest(t.url, message(`held-${i}`)));
    while (metric(await metrics(), 'switchboard_ingest_bytes_in_flight') < 3 * BODY_BYTES) await new Promise((r) => setImmediate(r));

    // With Content-Length: refused before the body is read.
    const refused = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: message(`refused-${i}`) })));
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const e = (await res.json()) as { error: { code: string; message: string } };
      expect(e.error.code).toBe('SB_ERR_OVERLOADED');
      expect(e.error.message).toContain('server.maxBytesInFlight');
    }
    // Without Content-Length (chunked): refused once the budget is crossed while reading.
    const chunks = Buffer.from(message('chunked'));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < chunks.length; i += 16 * 1024) controller.enqueue(chunks.subarray(i, i + 16 * 1024));
        controller.close();
      },
    });
    const chunked = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(503);
    expect(chunked.headers.get('retry-after')).toMatch(/^\d+$/);

    // The held bodies complete: all three are taken.
    const done = await Promise.all(holding.map((h) => h.finish()));
    expect(done.map((d) => d.status)).toEqual([200, 200, 200]);

    // The budget is released once their commits settled: a new request is taken.
    expect(metric(await metrics(), 'switchboard_ingest_bytes_in_flight')).toBe(0);
    const after = await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: message('after') });
    expect(after.status).toBe(200);

    // Nothing accepted was lost, nothing refused was stored; the overload metric counted every 503.
    expect((await storedTexts()).sort()).toEqual(['after', 'held-0', 'held-1', 'held-2']);
    expect(metric(await metrics(), 'switchboard_overload_rejections_total')).toBeGreaterThanOrEqual(9);
  });

  it('a burst: every answer is 200 or 503 with Retry-After, and every 200 is stored', async () => {
    const before = (await storedTexts()).length;
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: message(`burst-${i}`) })));
    const ok = answers.filter((r) => r.status === 200).length;
    for (const r of answers) {
      expect([200, 503]).toContain(r.status);
      if (r.status === 503) expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(ok).toBeGreaterThan(0);
    expect((await storedTexts()).length).toBe(before + ok);
    expect(metric(await metrics(), 'switchboard_ingest_bytes_in_flight')).toBe(0);
  });

  it('a body larger than the whole budget is taken when nothing else is in flight', async () => {
    const big = JSON.stringify(waMessage(`alone-${'y'.repeat(BUDGET + 1000)}`));
    expect((await fetch(`${t.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: big })).status).toBe(200);
  });
});
