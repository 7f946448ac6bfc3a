import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { SQLITE_MIGRATIONS, SqliteStore } from '../src/server/store/sqlite/index.js';
import { storeConformance } from './store-conformance.js';

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
