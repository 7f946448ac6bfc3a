import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { SQLITE_MIGRATIONS, SqliteStore, type SqliteStoreOptions } from '../src/server/store/sqlite/index.js';
import { ev, storeConformance } from './store-conformance.js';

/**
 * The writer thread's entry as compiled (`npm run build`, which `npm test` runs first): a worker
 * thread cannot load the `.ts` sources vitest runs, so thread mode points at `dist/`.
 */
const WRITER_URL = new URL('../dist/server/store/sqlite/writer-thread.js', import.meta.url);
const THREAD: Partial<SqliteStoreOptions> = { writer: 'thread', writerUrl: WRITER_URL };

function harness(extra: Partial<SqliteStoreOptions>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
    const path = join(dir, 'sb.db');
    let current = new SqliteStore({ path, ...extra });
    return {
      get store() {
        return current;
      },
      async reopen() {
        current = new SqliteStore({ path, ...extra });
        return current;
      },
      async cleanup() {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance('SQLite', harness({}));
storeConformance('SQLite (writer thread)', harness(THREAD));

it('opens SQLite in WAL mode with synchronous=FULL by default and records migrations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  const store = new SqliteStore({ path });
  await store.open();
  await store.close();
  const db = new Database(path);
  expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
  const files = readdirSync(SQLITE_MIGRATIONS).filter((f) => /^\d+_.+\.sql$/.test(f)).map((f) => parseInt(f, 10)).sort((a, b) => a - b);
  expect(files.slice(0, 3)).toEqual([1, 2, 3]);
  expect(versions.map((v) => v.version)).toEqual(files);
  db.close();
  // synchronous is per connection: check on a live store through a second handle of ours.
  const live = new SqliteStore({ path });
  await live.open();
  const inner = (live as unknown as { db: Database.Database }).db;
  expect(inner.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
  await live.close();
  const relaxed = new SqliteStore({ path, durability: 'normal' });
  await relaxed.open();
  expect((relaxed as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(1); // 1 = NORMAL
  await relaxed.close();
  rmSync(dir, { recursive: true, force: true });
});

it.each([
  ['inline', {}],
  ['writer thread', THREAD],
] as const)('fails fast with a busy StoreError on a database another connection holds locked, and answers ping false until a write goes through (%s)', async (_mode, extra: Partial<SqliteStoreOptions>) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  const store = new SqliteStore({ path, ...extra });
  await store.open();
  const batch = { connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: [ev()], quarantine: [] };
  expect(await store.ping()).toBe(true);
  const other = new Database(path);
  other.exec('BEGIN EXCLUSIVE');
  const started = Date.now();
  await expect(store.commit([batch])).rejects.toMatchObject({ code: 'SB_ERR_STORE_BUSY', kind: 'busy', retryAfterSec: 1 });
  expect(Date.now() - started).toBeLessThan(1000); // not the old 5 s blocking wait
  expect(await store.ping()).toBe(false); // the write probe meets the lock too
  // Reads go on: WAL readers do not wait for the writer.
  expect(await store.latestSequence()).toBe(0);
  expect((await store.projections.listCalls({ limit: 10 })).rows).toEqual([]);
  // The projection and delivery tables answer a lock as the contract says: a busy StoreError, not a raw SQLite error.
  await expect(store.delivery.saveSinkCursor('nats:x', 1)).rejects.toMatchObject({ code: 'SB_ERR_STORE_BUSY', kind: 'busy' });
  await expect(store.projections.rebuild()).rejects.toMatchObject({ code: 'SB_ERR_STORE_BUSY', kind: 'busy' });
  other.exec('COMMIT');
  other.close();
  expect(await store.ping()).toBe(false); // probed less than a second ago: not yet again
  const [r] = await store.commit([batch]); // a commit going through clears the failure
  expect(r?.stored[0]?.seq).toBe(1);
  expect(await store.ping()).toBe(true);
  await store.close();
  expect(await store.ping()).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

it('runs the writer on a worker thread: commits land through it and are read on the main connection; a crash of the thread fails the pending commits (io), and a new thread takes over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  const store = new SqliteStore({ path, ...THREAD });
  expect(store.writerMode).toBe('thread');
  await store.open();
  const batch = (e = ev()) => ({ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: [e], quarantine: [] });
  const [r] = await store.commit([batch()]);
  expect(r?.stored[0]?.seq).toBe(1);
  expect(await store.latestSequence()).toBe(1);
  // The writer has its own connection with synchronous=FULL; the main one only reads.
  expect(await store.ping()).toBe(true);
  // The thread dies (a test hook: process.exit in the worker) with a commit sent after it unanswered.
  const link = (store as unknown as { link: { call(m: string, a: unknown[]): Promise<unknown> } }).link;
  const crash = link.call('__crash', []).then(() => 'answered', (err: unknown) => err);
  const pending = store.commit([batch()]);
  await expect(pending).rejects.toMatchObject({ code: 'SB_ERR_STORE', kind: 'io', message: expect.stringMatching(/writer thread stopped/) });
  expect(await crash).toMatchObject({ kind: 'io' });
  // Reads go on; the next write (or readiness probe) starts a new writer thread on a new
  // connection, which takes writes again, the sequence going on from the store's.
  expect(await store.latestSequence()).toBe(1);
  const [again] = await store.commit([batch()]);
  expect(again?.stored[0]?.seq).toBe(2);
  await store.delivery.saveSinkCursor('nats:x', 2);
  expect(await store.delivery.sinkCursor('nats:x')).toBe(2);
  expect(await store.ping()).toBe(true);
  // A thread that dies again within a second is not replaced at once: writes fail until then.
  const link2 = (store as unknown as { link: { call(m: string, a: unknown[]): Promise<unknown> } }).link;
  await link2.call('__crash', []).catch(() => undefined);
  await expect(store.commit([batch()])).rejects.toMatchObject({ kind: 'io', message: expect.stringMatching(/writer thread stopped/) });
  expect(await store.ping()).toBe(false);
  await new Promise((r) => setTimeout(r, 1_100));
  expect(await store.ping()).toBe(true);
  const [third] = await store.commit([batch()]);
  expect(third?.stored[0]?.seq).toBe(3);
  await store.close();
  expect(await store.ping()).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

it('runs :memory: databases and the .ts sources with the writer inline, and closes with the writes in flight answered', async () => {
  expect(new SqliteStore({ path: ':memory:', writer: 'thread' }).writerMode).toBe('inline');
  expect(new SqliteStore({ path: '/tmp/x.db' }).writerMode).toBe('inline'); // vitest runs src/*.ts
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const store = new SqliteStore({ path: join(dir, 'sb.db'), ...THREAD });
  await store.open();
  const commits = Array.from({ length: 20 }, () => store.commit([{ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: [ev()], quarantine: [] }]));
  const closing = store.close();
  const results = await Promise.all(commits);
  await closing;
  expect(results.map((r) => r[0]?.stored[0]?.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  const db = new Database(join(dir, 'sb.db'));
  expect((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(20);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

it('with the writer on its thread, the WAL is copied into the database file while it writes (the checkpointer thread), and emptied at close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  const store = new SqliteStore({ path, ...THREAD });
  await store.open();
  const fileSize = () => statSync(path).size;
  const before = fileSize();
  // Well past the 1,000 pages at which a writer with automatic checkpoints would copy them itself.
  for (let i = 0; i < 20; i++) await store.commit([{ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: Array.from({ length: 200 }, () => ev()), quarantine: [] }]);
  await expect.poll(fileSize, { timeout: 5000 }).toBeGreaterThan(before + 1_000_000);
  await store.close();
  // Closed: the last checkpoint emptied the WAL.
  expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});
