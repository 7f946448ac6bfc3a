import { expect, it } from 'vitest';
import { StoreError } from '../src/core/index.js';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { createTestDatabase } from './helpers/postgres.js';
import { ev, storeConformance } from './store-conformance.js';

storeConformance(
  'PostgreSQL',
  async () => {
    const db = await createTestDatabase();
    let current = new PostgresStore({ url: db.url, poolSize: 4 });
    return {
      get store() {
        return current;
      },
      async reopen() {
        current = new PostgresStore({ url: db.url, poolSize: 4 });
        return current;
      },
      async cleanup() {
        await current.close();
        await db.drop();
      },
    };
  },
);

it('says which server it could not reach, without the password, as an io failure', async () => {
  const store = new PostgresStore({ url: 'postgres://switchboard:s3cret@127.0.0.1:1/none' });
  const err: unknown = await store.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).kind).toBe('io');
  expect((err as StoreError).message).toMatch(/^cannot open PostgreSQL store at postgres:\/\/switchboard:\*{8}@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  expect((err as StoreError).message).not.toContain('s3cret');
  expect(await store.ping()).toBe(false);
});

it('instances starting together on a new database apply the migrations once', async () => {
  const db = await createTestDatabase();
  const stores = [0, 1, 2, 3].map(() => new PostgresStore({ url: db.url, poolSize: 2 }));
  try {
    await Promise.all(stores.map((s) => s.open()));
    for (const s of stores) expect(await s.ping()).toBe(true);
    const [a] = await (stores[0] as PostgresStore).commit([{ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: [ev()], quarantine: [] }]);
    expect((await (stores[3] as PostgresStore).getEvent(a?.stored[0]?.id ?? ''))?.seq).toBe(a?.stored[0]?.seq);
  } finally {
    for (const s of stores) await s.close();
    await db.drop();
  }
});
