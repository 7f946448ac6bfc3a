/**
 * Sequence visibility with several writers on one PostgreSQL database: a follower that reads
 * `seq > last` over and over while three stores (three pools, as three instances would have)
 * commit concurrently must see every event exactly once, in sequence order — never one that
 * becomes visible later with a smaller sequence than one it has already read.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import type { SwitchboardEvent } from '../src/core/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { ev } from './store-conformance.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('a follower sees every event of concurrent writers once, in sequence order, with no gap behind it', async () => {
  const writers = [0, 1, 2].map(() => new PostgresStore({ url: db.url, poolSize: 3 }));
  const follower = new PostgresStore({ url: db.url, poolSize: 1 });
  for (const s of [...writers, follower]) await s.open();
  try {
    const acked: number[] = [];
    let writing = true;
    // Each writer: 60 commits of 1–20 events, two commits in flight at a time, a few ids shared between writers (duplicates).
    const shared: SwitchboardEvent[] = Array.from({ length: 30 }, () => ev());
    const write = async (store: PostgresStore, w: number) => {
      for (let i = 0; i < 30; i++) {
        const commitOne = async (k: number) => {
          const events = Array.from({ length: 1 + ((i * 7 + w * 3 + k) % 20) }, () => ev());
          if ((i + w) % 5 === 0) events.push(shared[(i + k) % shared.length] as SwitchboardEvent);
          const [r] = await store.commit([{ connectorId: `c${w}`, receivedAt: new Date().toISOString(), events, quarantine: [] }]);
          for (const s of r?.stored ?? []) if (s) acked.push(s.seq);
        };
        await Promise.all([commitOne(0), commitOne(1)]);
      }
    };
    const seen: number[] = [];
    const follow = async () => {
      let last = 0;
      for (;;) {
        const done = !writing;
        const page = await follower.queryEvents({ after: last, limit: 50 });
        for (const e of page) seen.push(e.seq);
        if (page.length > 0) last = page[page.length - 1]?.seq ?? last;
        // One last full read after the writers stopped: everything is visible then.
        if (done && page.length === 0) return;
      }
    };
    const following = follow();
    await Promise.all(writers.map((s, w) => write(s, w)));
    writing = false;
    await following;

    const all = (await follower.queryEvents({ limit: 100_000 })).map((e) => e.seq);
    expect(acked.length).toBeGreaterThan(1000);
    // Every acknowledged event is stored once; duplicates of the shared ids were not stored again.
    expect(new Set(acked).size).toBe(acked.length);
    expect([...acked].sort((a, b) => a - b)).toEqual(all);
    // The follower read them all, each once, in increasing order: had one become visible after a
    // larger one was read, the follower (reading only `seq > last`) would have skipped it.
    expect(seen).toEqual(all);
  } finally {
    for (const s of [...writers, follower]) await s.close();
  }
});
