import { describe, expect, it } from 'vitest';
import { OverloadedError, StoreError, SwitchboardError } from '../src/core/index.js';
import { EventBus } from '../src/server/bus.js';
import { toHttpAnswer } from '../src/server/http/errors.js';
import { createMetrics } from '../src/server/metrics.js';
import { GroupCommitter } from '../src/server/pipeline.js';
import { SqliteStore } from '../src/server/store/sqlite/index.js';
import { ev } from './store-conformance.js';

describe('group commit and backpressure', () => {
  it('commits concurrent batches in one transaction and refuses work beyond the bound with 503 + Retry-After', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const metrics = createMetrics({ defaultMetrics: false });
    const committer = new GroupCommitter(store, new EventBus(), metrics, { maxPendingEvents: 10, maxBatchEvents: 100 });
    const batch = (n: number) => ({ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: Array.from({ length: n }, () => ev()), quarantine: [] });
    const a = committer.submit(batch(4));
    const b = committer.submit(batch(4));
    const c = committer.submit(batch(4)); // 12 > 10 pending
    await expect(c).rejects.toBeInstanceOf(OverloadedError);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.stored.every(Boolean) && rb.stored.every(Boolean)).toBe(true);
    const groups = await metrics.commitBatchEvents.get();
    const count = groups.values.find((v) => v.metricName === 'switchboard_commit_batch_items_count')?.value;
    expect(count).toBe(1); // both batches in one transaction
    expect(committer.backlog).toBe(0);
    await committer.close();
    await expect(committer.submit(batch(1))).rejects.toMatchObject({ code: 'SB_ERR_STORE_CLOSED' });
    await store.close();
  });

  it('hands the next group to the store while one commits (at most maxInFlight), and publishes in commit order', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    // The real store, its commits held at a gate so that the test sees what is in flight.
    const gates: (() => void)[] = [];
    const calls: number[] = [];
    const realCommit = store.commit.bind(store);
    store.commit = async (batches, options) => {
      calls.push(batches.reduce((n, b) => n + b.events.length, 0));
      await new Promise<void>((open) => gates.push(open));
      return realCommit(batches, options);
    };
    const bus = new EventBus();
    const published: number[] = [];
    bus.subscribe((committed) => published.push(...committed.map((c) => c.stored.seq)));
    const committer = new GroupCommitter(store, bus, createMetrics({ defaultMetrics: false }), { maxPendingEvents: 100, maxBatchEvents: 100, maxInFlight: 2 });
    const batch = (n: number) => ({ connectorId: 'c1', receivedAt: '2026-01-01T00:00:00.000Z', events: Array.from({ length: n }, () => ev()), quarantine: [] });
    const tick = () => new Promise((r) => setImmediate(r));
    const a = committer.submit(batch(1));
    await tick();
    const b = committer.submit(batch(2));
    await tick();
    const c = committer.submit(batch(3));
    const d = committer.submit(batch(4));
    await tick();
    // A and B are with the store; C and D wait, together, for one of them to return.
    expect(calls).toEqual([1, 2]);
    gates.shift()?.();
    await a;
    await tick();
    expect(calls).toEqual([1, 2, 7]);
    gates.shift()?.();
    gates.shift()?.();
    const results = await Promise.all([b, c, d]);
    expect(results.flatMap((r) => r.stored.map((s) => s?.seq))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(published).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await committer.close();
    await store.close();
  });

  it('maps errors to HTTP answers in one place', () => {
    expect(toHttpAnswer(new OverloadedError('full', 2))).toMatchObject({ status: 503, headers: { 'retry-after': '2' } });
    expect(toHttpAnswer(new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'token abc was wrong'))).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: { code: 'SB_ERR_AUTH_REQUIRED', message: 'unauthorized' } } });
    expect(toHttpAnswer(Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' })).status).toBe(413);
    expect(toHttpAnswer(new Error('secret internals'))).toEqual({ status: 500, headers: {}, body: { error: { code: 'SB_ERR_INTERNAL', message: 'internal error; see the server log' } } });
  });

  it('answers store failures that pass with 503 + Retry-After', () => {
    expect(toHttpAnswer(new StoreError('locked', { kind: 'busy' }))).toMatchObject({ status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'SB_ERR_STORE_BUSY' } } });
    expect(toHttpAnswer(new StoreError('full', { kind: 'full' }))).toMatchObject({ status: 503, headers: { 'retry-after': '10' }, body: { error: { code: 'SB_ERR_STORE_FULL' } } });
    expect(toHttpAnswer(new StoreError('closed', { closed: true }))).toMatchObject({ status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'SB_ERR_STORE_CLOSED' } } });
    expect(toHttpAnswer(new StoreError('io'))).toMatchObject({ status: 500, headers: {}, body: { error: { code: 'SB_ERR_STORE' } } });
  });
});
