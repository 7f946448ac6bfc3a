import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { SQLITE_MIGRATIONS, SqliteStore } from '../src/server/store/sqlite/index.js';
import { ev, storeConformance } from './store-conformance.js';

storeConformance('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  let current = new SqliteStore({ path });
  return {
    get store() {
      return current;
    },
    async reopen() {
      current = new SqliteStore({ path });
      return current;
    },
    async cleanup() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

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

it('fails fast with a busy StoreError on a database another connection holds locked, and answers ping false until a write goes through', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const path = join(dir, 'sb.db');
  const store = new SqliteStore({ path });
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
