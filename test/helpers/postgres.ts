/**
 * A fresh PostgreSQL database per test, made and dropped with the client tools (`createdb`,
 * `dropdb`) on the server that `SWITCHBOARD_TEST_POSTGRES` names (default: the local one,
 * `postgres://postgres@127.0.0.1:5432/postgres`, trust auth; `.ci/run` starts it when it is down).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { PostgresStore } from '../../src/server/store/postgres/index.js';
import { SqliteStore } from '../../src/server/store/sqlite/index.js';
import type { Store } from '../../src/server/store/types.js';

const run = promisify(execFile);

/** The server's URL, with the database part ignored. */
export const TEST_POSTGRES = process.env.SWITCHBOARD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function connectionArgs(): string[] {
  const u = new URL(TEST_POSTGRES);
  return ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
}

function env(): NodeJS.ProcessEnv {
  const u = new URL(TEST_POSTGRES);
  return u.password ? { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } : process.env;
}

export interface TestDatabase {
  /** The new database's URL. */
  readonly url: string;
  readonly name: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'sb_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await run('createdb', [...connectionArgs(), name], { env: env() });
  const u = new URL(TEST_POSTGRES);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      await run('dropdb', [...connectionArgs(), '--force', '--if-exists', name], { env: env() });
    },
  };
}

/** Which store the servers of the tests use: `SWITCHBOARD_TEST_STORE=postgres` runs them on PostgreSQL (one database per data folder). */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.SWITCHBOARD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

const databases = new Map<string, TestDatabase>();

/**
 * The store config of a test server whose data folder is `dir`: SQLite in it, or — under
 * `SWITCHBOARD_TEST_STORE=postgres` — a fresh PostgreSQL database kept for that folder (a restart
 * on the same folder finds the same database). `release(keep)` drops it unless `keep`.
 */
export async function testStoreFor(dir: string, sqlitePath: string): Promise<{ store: { sqlite: string } | { postgres: string }; release(keep?: boolean): Promise<void> }> {
  if (TEST_STORE === 'sqlite') return { store: { sqlite: sqlitePath }, release: async () => undefined };
  let db = databases.get(dir);
  if (!db) {
    db = await createTestDatabase('sb_suite');
    databases.set(dir, db);
  }
  const own = db;
  return {
    store: { postgres: own.url },
    async release(keep = false) {
      if (keep) return;
      databases.delete(dir);
      await own.drop();
    },
  };
}

/**
 * Opens the store a test server on data folder `dir` uses (SQLite in `sqlitePath`, or the folder's
 * PostgreSQL database), runs `fn` on it and closes it — for a test that must put the store in a
 * state the API refuses to make (the server on that folder closed meanwhile).
 */
export async function withTestStore<T>(dir: string, sqlitePath: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const { store: where } = await testStoreFor(dir, sqlitePath);
  const store: Store = 'sqlite' in where ? new SqliteStore({ path: where.sqlite }) : new PostgresStore({ url: where.postgres, poolSize: 1 });
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
