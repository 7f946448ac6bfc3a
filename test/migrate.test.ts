/**
 * `switchboard migrate --to postgres://…` (issue 16): a SQLite store — events of calls and chats,
 * quarantine, a subscription with its secret, a cursor, kv — copied into PostgreSQL by the CLI,
 * SIGKILLed halfway and run again: the second run resumes, and the target then holds the same
 * events with the same sequences, the same quarantine, subscription, cursor and kv, and the same
 * projections as the source. A database that holds another store's events is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeGreenApi } from '../src/connectors/greenapi/normalize.js';
import type { SwitchboardEvent } from '../src/core/index.js';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { SqliteStore } from '../src/server/store/sqlite/index.js';
import type { Store } from '../src/server/store/types.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { assertBuilt, runCli } from './helpers/process.js';

const instanceData = { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' };
const wa = (payload: Record<string, unknown>): SwitchboardEvent[] => normalizeGreenApi({ instanceData, ...payload }, { connectorId: 'wa', receivedAt: '2026-01-01T00:00:00.000Z' });

/** 1,500 payloads: per chat a call (offer, then its end) and messages both ways. */
function payloads(): SwitchboardEvent[][] {
  const out: SwitchboardEvent[][] = [];
  for (let n = 0; out.length < 1500; n++) {
    const chat = `7900${String(1_000_000 + (n % 40)).padStart(7, '0')}@c.us`;
    const t = 1_700_000_000 + n * 10;
    if (n % 4 === 0) {
      out.push(wa({ typeWebhook: 'incomingCall', from: chat, status: 'offer', timestamp: t, idMessage: `CALL${n}` }));
      out.push(wa({ typeWebhook: 'incomingCall', from: chat, status: n % 8 === 0 ? 'pickUp' : 'hangUp', timestamp: t + 5, idMessage: `CALL${n}` }));
    } else {
      out.push(
        wa({ typeWebhook: 'incomingMessageReceived', timestamp: t, idMessage: `MSG${n}`, senderData: { chatId: chat, sender: chat, senderName: `Client ${n % 40}` }, messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: `hello ${n}` } } }),
      );
    }
  }
  return out;
}

async function everything(store: Store) {
  const events = (await store.queryEvents({ limit: 100_000 })).map((e) => [e.seq, e.json]);
  const page = async <T>(list: (after: string | undefined) => Promise<{ rows: T[]; next: string | null }>) => {
    const rows: T[] = [];
    for (let after: string | undefined; ; ) {
      const p = await list(after);
      rows.push(...p.rows);
      if (!p.next) return rows;
      after = p.next;
    }
  };
  const byId = <T extends { id?: string; callId?: string; conversationId?: string }>(rows: T[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    events,
    quarantine: await store.listQuarantine({ limit: 1000 }),
    subscriptions: (await store.delivery.list()).map((s) => ({ id: s.id, url: s.url, secrets: s.secrets, filters: s.filters, enabled: s.enabled })),
    cursor: await store.getCursor('wa'),
    kv: await store.kvGet('wa', 'contacts', '79001000001@c.us'),
    calls: byId(await page((after) => store.projections.listCalls({ limit: 500, after }))),
    conversations: byId(await page((after) => store.projections.listConversations({ limit: 500, after }))),
  };
}

describe('switchboard migrate', () => {
  let dir: string;
  let db: TestDatabase;
  let source: Awaited<ReturnType<typeof everything>>;

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sb-migrate-'));
    db = await createTestDatabase();
    const store = new SqliteStore({ path: join(dir, 'switchboard.db'), writer: 'inline' });
    await store.open();
    const batches = payloads();
    for (let i = 0; i < batches.length; i += 100) {
      await store.commit(batches.slice(i, i + 100).map((events, j) => ({ connectorId: 'wa', receivedAt: '2026-01-01T00:00:01.000Z', events, quarantine: [], ...(i + j === batches.length - 1 ? { cursor: 'receipt-42' } : {}) })));
    }
    await store.commit([{ connectorId: 'wa', receivedAt: '2026-01-01T00:00:02.000Z', events: [], quarantine: [{ connectorId: 'wa', receivedAt: '2026-01-01T00:00:02.000Z', code: 'SB_ERR_INGEST_MALFORMED', reason: 'bad', raw: '{"a":\u0000' }] }]);
    await store.kvPut('wa', 'contacts', '79001000001@c.us', '{"name":"Anna"}', '2026-01-01T00:00:03.000Z');
    await store.delivery.put({ id: 'crm', origin: 'api', url: 'https://crm.example.com/hook', filters: { types: ['call.*'] }, mode: 'structured', ordered: false, secrets: [{ secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, expiresAt: null }], description: undefined, enabled: true, disabledReason: undefined });
    source = await everything(store);
    await store.close();
    expect(source.events.length).toBeGreaterThan(1500);
    expect(source.calls.length).toBeGreaterThan(100);
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('copies everything, resumes after a SIGKILL, and ends with the same events, state and projections', async () => {
    const target = new PostgresStore({ url: db.url, poolSize: 1 });
    await target.open();
    try {
      // Small chunks, killed once some are in.
      const first = runCli(['migrate', '--to', db.url, '--data', dir, '--chunk', '20', '--no-progress']);
      for (let i = 0; i < 500 && (await target.latestSequence()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await first.kill('SIGKILL');
      const halfway = await target.latestSequence();
      expect(halfway).toBeGreaterThan(0);
      expect(halfway).toBeLessThan(source.events.length);

      const second = runCli(['migrate', '--to', db.url, '--data', dir]);
      const exit = await second.exited;
      expect(exit.code, second.stderr).toBe(0);
      expect(second.stderr).toContain(`resuming after sequence ${halfway}`);
      expect(second.stdout).toMatch(/^migrated \d+ events \(resumed after sequence \d+\), 1 quarantined, 1 subscriptions, 1 cursors, 1 kv entries; projections of \d+ calls, conversations and operators brought up to date/);

      const copied = await everything(target);
      expect(copied.events).toEqual(source.events);
      expect(copied.quarantine).toEqual(source.quarantine);
      expect(copied.subscriptions).toEqual(source.subscriptions);
      expect(copied.cursor).toBe('receipt-42');
      expect(copied.kv).toEqual(source.kv);
      expect(copied.calls).toEqual(source.calls);
      expect(copied.conversations).toEqual(source.conversations);

      // Run again: nothing more to copy, nothing doubled.
      const third = runCli(['migrate', '--to', db.url, '--data', dir, '--no-progress']);
      expect((await third.exited).code, third.stderr).toBe(0);
      expect(third.stdout).toMatch(/^migrated 0 events/);
      expect((await everything(target)).events).toHaveLength(source.events.length);
    } finally {
      await target.close();
    }
  });

  it('refuses a database that holds another store, and a store that is not SQLite', async () => {
    const other = await createTestDatabase();
    try {
      const store = new PostgresStore({ url: other.url });
      await store.open();
      await store.commit([{ connectorId: 'x', receivedAt: '2026-01-01T00:00:00.000Z', events: wa({ typeWebhook: 'incomingCall', from: '7@c.us', status: 'offer', timestamp: 1, idMessage: 'OTHER' }), quarantine: [] }]);
      await store.close();
      const refused = runCli(['migrate', '--to', other.url, '--data', dir, '--no-progress']);
      expect((await refused.exited).code).toBe(1);
      expect(refused.stderr).toMatch(/holds events that are not this store's/);
      const notUrl = runCli(['migrate', '--to', 'mysql://x@y/z', '--data', dir]);
      expect((await notUrl.exited).code).toBe(1);
      expect(notUrl.stderr).toContain('store.postgres');
    } finally {
      await other.drop();
    }
  });
});
