/**
 * Defect 4, as a fault test: another process holds the SQLite database locked (`BEGIN EXCLUSIVE`)
 * while the real CLI server runs on it. The server must not freeze: `/healthz` and reads answer
 * while the lock is held, an ingest waits (asynchronously) and succeeds after the release or is
 * answered `503` + `Retry-After` (`SB_ERR_STORE_BUSY`) — never `500` — and nothing acknowledged
 * is lost. The lock is held by a better-sqlite3 connection in this test process: a second process
 * beside the server's. Delivery, which writes outside the commit, records an attempt that ends
 * while the database is locked once the lock goes, and does not send it again.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatMessage, startDeliveryServer } from './helpers/delivery.js';
import { assertBuilt, closeHttp, fetchAllEvents, freePort, greenApiMessage, killAllChildren, makeTempDir, readApiToken, removeTempDirs, sleep, startServer, type Server } from './helpers/process.js';
import { startReceiver } from './helpers/receiver.js';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly json: unknown;
}

describe('a database locked by another process', () => {
  let dataDir = '';
  let server: Server;
  let token = '';
  // Its own connections: a stalled server must not hold up the next call on a shared socket.
  const agent = new Agent({ connections: 32, pipelining: 0 });
  const call = async (method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> => {
    const res = await request(`${server.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body,
      headersTimeout: 30_000,
    });
    const text = await res.body.text();
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const acked = new Set<string>();
  let n = 0;
  const ingest = async (): Promise<Answer> => {
    const id = `LOCK-${++n}`;
    const a = await call('POST', '/ingest/greenapi', JSON.stringify(greenApiMessage(id, n)));
    if (a.status === 200) acked.add(id);
    return a;
  };

  beforeAll(async () => {
    assertBuilt();
    dataDir = makeTempDir('switchboard-locked-');
    server = await startServer(dataDir, await freePort());
    token = readApiToken(dataDir);
  });
  afterAll(async () => {
    await killAllChildren();
    await agent.close();
    await closeHttp();
    removeTempDirs();
  });

  /** Holds the write lock of the server's database from this process until `release()`. */
  function lockDatabase(): { release(): void; readonly held: boolean } {
    const db = new Database(join(dataDir, 'switchboard.db'));
    db.exec('BEGIN EXCLUSIVE');
    let held = true;
    return {
      get held() {
        return held;
      },
      release() {
        db.exec('COMMIT');
        db.close();
        held = false;
      },
    };
  }

  it('answers /healthz and reads while locked; an ingest waits and is stored after the release', async () => {
    expect((await ingest()).status).toBe(200);
    const lock = lockDatabase();
    const releasing = sleep(3_000).then(() => lock.release());
    const pending = ingest(); // waits for the lock
    await sleep(300);
    const health = await call('GET', '/healthz');
    const answeredWhileLocked = lock.held;
    const read = await call('GET', '/v1/events?limit=5');
    const readWhileLocked = lock.held;
    const ready = await call('GET', '/readyz');
    const readyWhileLocked = lock.held;
    expect(health.status).toBe(200);
    expect(answeredWhileLocked, '/healthz answered only after the lock was released').toBe(true);
    expect(read.status).toBe(200);
    expect(readWhileLocked, 'GET /v1/events answered only after the lock was released').toBe(true);
    // Not ready while no commit can go through.
    expect(readyWhileLocked).toBe(true);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not-ready', store: false });

    const answer = await pending;
    await releasing;
    if (answer.status !== 200) {
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toMatch(/^\d+$/);
    }
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect((await ingest()).status).toBe(200);
  });

  it('answers 503 + Retry-After (SB_ERR_STORE_BUSY) when the lock outlasts the commit wait, never 500, and loses nothing acknowledged', async () => {
    const lock = lockDatabase();
    const releasing = sleep(7_000).then(() => lock.release());
    const answers = await Promise.all([ingest(), sleep(100).then(ingest), sleep(200).then(ingest)]);
    const allWhileLocked = lock.held;
    const health = await call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(allWhileLocked, 'the ingests were answered only after the lock was released').toBe(true);
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(a.json).toMatchObject({ error: { code: 'SB_ERR_STORE_BUSY' } });
    }
    await releasing;
    // After the release everything works again, and every acknowledged payload is there once.
    for (let i = 0; i < 5; i++) expect((await ingest()).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    const events = await fetchAllEvents(server.url, token);
    const ids = events.map((e) => String(e.data.messageId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of acked) expect(ids).toContain(id);
  });
});

describe('delivery while the database is locked', () => {
  it('records an attempt that ends while another connection holds the lock after the release, without sending it again', async () => {
    const receiver = await startReceiver();
    receiver.decide = () => ({ status: 200, delayMs: 400 });
    const s = await startDeliveryServer({ subscriptions: [{ id: 'crm', url: receiver.url }] });
    try {
      await s.ingest([chatMessage('79001112233', 'while locked')]);
      for (let i = 0; i < 200 && receiver.received.length === 0; i++) await sleep(10);
      expect(receiver.received).toHaveLength(1);
      // The attempt is in flight; it ends (200 after 400 ms) while the lock is held.
      const other = new Database(join(s.dir, 'sb.db'));
      other.exec('BEGIN EXCLUSIVE');
      await sleep(1_500);
      other.exec('COMMIT');
      other.close();
      let log: { deliveries: { status: string; attempts: number; lastStatus: number | null }[] } = { deliveries: [] };
      for (let i = 0; i < 100 && log.deliveries[0]?.status !== 'delivered'; i++) {
        await sleep(20);
        log = (await s.api<typeof log>('GET', '/v1/subscriptions/crm/deliveries')).json;
      }
      expect(log.deliveries).toMatchObject([{ status: 'delivered', attempts: 1, lastStatus: 200 }]);
      await sleep(300);
      expect(receiver.received).toHaveLength(1); // not sent again
    } finally {
      await s.close();
      await receiver.close();
    }
  });
});
