/**
 * The store tail (src/server/tail.ts) of a store several instances share: an instance's own
 * commit read back by the tail before the commit call returned (its own NOTIFY poked the read
 * first) went out as another instance's. The bus's listeners are then told again that it is this
 * instance's — the caller-name lookups react to this instance's commits only, and missed one
 * before (a flaky `greenapi.test.ts` on PostgreSQL).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type Committed } from '../src/server/bus.js';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { StoreTail } from '../src/server/tail.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { ev } from './store-conformance.js';

describe('the store tail', () => {
  let db: TestDatabase;
  let store: PostgresStore;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresStore({ url: db.url, poolSize: 2 });
    await store.open();
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it("tells the listeners an own commit is this instance's also when a read published it first", async () => {
    const bus = new EventBus();
    bus.reset(await store.latestSequence());
    const tail = new StoreTail(store, bus, pino({ level: 'silent' }));
    const heard: Committed[] = [];
    bus.subscribe((events) => heard.push(...events));

    // Committed, and read back by a poke before the committer hands the result over.
    const events = [ev(), ev()];
    const [result] = await store.commit([{ connectorId: 'c1', receivedAt: new Date().toISOString(), events, quarantine: [] }]);
    tail.poke();
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(2);
    expect(heard.map((c) => c.local)).toEqual([false, false]);

    // The committer's hand-over comes late: the same events again, as this instance's.
    const own: Committed[] = (result?.stored ?? []).map((stored, i) => ({ stored: stored!, event: events[i]! }));
    tail.committed(own);
    expect(heard.slice(2).map((c) => [c.stored.seq, c.local])).toEqual(own.map((c) => [c.stored.seq, true]));
    // Published once: the window has each event once, and the latest sequence is unchanged.
    expect(bus.latestSequence).toBe(own[1]?.stored.seq);
    expect(bus.readAfter(0, 10)?.length ?? 0).toBeLessThanOrEqual(2);

    // In the usual order (hand-over first), the read publishes them as this instance's, once.
    const next = [ev()];
    const [r2] = await store.commit([{ connectorId: 'c1', receivedAt: new Date().toISOString(), events: next, quarantine: [] }]);
    tail.committed([{ stored: r2!.stored[0]!, event: next[0]! }]);
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(5);
    expect(heard[4]?.local).toBe(true);
    await tail.close();
  });
});
