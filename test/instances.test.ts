/**
 * Several instances on one PostgreSQL database (issue 16): ingest on any of them; the live stream
 * of each shows every instance's events in sequence order with no gap; a webhook subscription is
 * served by all of them and each event is sent once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchboard, type Switchboard } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';
import { API_TOKEN, apiHeaders, ingestHeaders, INGEST_TOKEN, waMessage, waMessageFrom } from './helpers/sb.js';
import { readStream } from './helpers/sse.js';

describe('three instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  const instances: { sb: Switchboard; url: string; dir: string }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await startReceiver();
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'sb-instance-'));
      const sb = createSwitchboard(
        {
          server: { port: 0, apiToken: API_TOKEN },
          store: { postgres: db.url },
          connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
          delivery: { allowPrivateTargets: true, retrySchedule: ['0ms', '50ms', '100ms'], timeout: '2s' },
          log: { level: 'silent' },
          dataDir: dir,
        },
        { logger: pino({ level: 'silent' }), processMetrics: false, env: {} },
      );
      await sb.start();
      instances.push({ sb, url: sb.url ?? '', dir });
    }
  });

  afterAll(async () => {
    for (const i of instances) {
      await i.sb.close();
      rmSync(i.dir, { recursive: true, force: true });
    }
    await receiver?.close();
    await db?.drop();
  });

  it('ingest on any instance; each one streams every event in sequence order, and a webhook goes out once per event', async () => {
    const [a, b, c] = instances as [(typeof instances)[number], (typeof instances)[number], (typeof instances)[number]];
    const created = await fetch(`${a.url}/v1/subscriptions`, { method: 'POST', headers: { ...apiHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url }) });
    expect(created.status).toBe(201);
    const total = 300;
    // Streams on every instance, opened before the ingest (from the start of the fresh database:
    // a stream "from now" that one instance handled after the first commit would miss it).
    const streams = instances.map((i) => readStream(`${i.url}/v1/stream?after=0`, {}, total, 30_000));
    await new Promise((r) => setTimeout(r, 300));
    // 300 messages, 20 requests at a time, spread over the three instances.
    const payloads = Array.from({ length: total }, (_, n) => waMessage(`m${n}`));
    for (let k = 0; k < total; k += 20) {
      await Promise.all(
        payloads.slice(k, k + 20).map(async (p, j) => {
          const target = instances[(k + j) % 3] as (typeof instances)[number];
          const res = await fetch(`${target.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(p) });
          expect(res.status).toBe(200);
        }),
      );
    }
    const stored = (await (await fetch(`${c.url}/v1/events?limit=1000`, { headers: apiHeaders })).json()) as { events: { sequence: string; id: string }[] };
    expect(stored.events).toHaveLength(total);
    const order = stored.events.map((e) => e.id);
    for (const received of await Promise.all(streams)) {
      // Every event, each once, in the store's order: no gap, no repeat, whoever ingested it.
      expect(received.map((e) => e.data.id)).toEqual(order);
      const seqs = received.map((e) => Number(e.data.sequence));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    // The subscription is served by all three: each event is sent once (no instance died).
    await waitFor(() => receiver.deliveredIds().size === total, 20_000, () => `${receiver.deliveredIds().size} of ${total} delivered`);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.filter((r) => r.ok)).toHaveLength(total);
    expect([...receiver.deliveredIds().values()].every((n) => n === 1)).toBe(true);
    // Resume on another instance from a position read on the first: the rest, no repeat.
    const middle = stored.events[149] as { sequence: string };
    const rest = await readStream(`${b.url}/v1/stream`, { 'last-event-id': middle.sequence }, total - 150);
    expect(rest.map((e) => e.data.id)).toEqual(order.slice(150));
  });

  it('an erasure on one instance empties every instance\'s live window: a follower on another instance that had not read an erased event never gets it', async () => {
    const [a, b] = instances as [(typeof instances)[number], (typeof instances)[number]];
    const ingest = async (p: Record<string, unknown>) => expect((await fetch(`${a.url}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(p) })).status).toBe(200);
    const newest = async () => ((await (await fetch(`${b.url}/v1/events?limit=1&order=desc`, { headers: apiHeaders })).json()) as { events: { sequence: string }[] }).events[0]?.sequence ?? '0'.repeat(16);
    const person = '79005550101';
    const other = '79005550202';
    const tag = `erase-${process.pid}`;
    // A follower on b (in process: it reads only when asked) takes the first event, then waits.
    const follower = b.sb.events({ after: await newest() });
    const first = follower.next();
    await ingest(waMessageFrom(`${tag}-1`, other, 'one'));
    expect((await first).value).toMatchObject({ subject: `conversation/${other}@c.us` });
    // Two more reach b's live window while the follower does not read: one names the person.
    await ingest(waMessageFrom(`${tag}-2`, person, 'two'));
    await ingest(waMessageFrom(`${tag}-3`, other, 'three'));
    const third = await newest();
    const erased = await fetch(`${a.url}/v1/erasures`, { method: 'POST', headers: { ...apiHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ phone: person, requestedBy: 'test' }) });
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { counts: { events: number } }).counts.events).toBe(1);
    // One more after the erasure: once b streams it, b has had the erasure's notification (they
    // arrive in commit order) — and the follower must go from 'one' to 'three' and 'four'.
    await ingest(waMessageFrom(`${tag}-4`, other, 'four'));
    expect(await readStream(`${b.url}/v1/stream`, { 'last-event-id': third }, 1)).toHaveLength(1);
    const rest: string[] = [];
    for (let i = 0; i < 2; i++) rest.push(JSON.stringify((await follower.next()).value));
    await follower.return(undefined);
    expect(rest.map((e) => /"textMessage":"(\w+)"/.exec(e)?.[1] ?? e)).toEqual(['three', 'four']);
    expect(rest.join('')).not.toContain(person);
  });
});
