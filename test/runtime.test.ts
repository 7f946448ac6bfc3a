/**
 * The connector runtime against a scripted Source: the runtime's contract (backoff, cursors,
 * ack after commit, status as data and as connector.* events), independent of any platform.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RetryableError, SwitchboardError } from '../src/core/index.js';
import { connectorFor } from '../src/connectors/registry.js';
import type { Source, SourceBatch, SourceSignal } from '../src/connectors/types.js';
import { EventBus } from '../src/server/bus.js';
import { createMetrics } from '../src/server/metrics.js';
import { GroupCommitter, Pipeline } from '../src/server/pipeline.js';
import { ConnectorRuntime, backoffDelay } from '../src/server/runtime.js';
import { SqliteStore } from '../src/server/store/sqlite.js';
import { waMessage } from './helpers/sb.js';

type Step = { batch: unknown[]; cursor: string } | { fail: Error };

async function setup(script: Step[]) {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const metrics = createMetrics({ defaultMetrics: false });
  const bus = new EventBus();
  const committer = new GroupCommitter(store, bus, metrics, { maxPendingEvents: 1000, maxBatchEvents: 1000 });
  const pipeline = new Pipeline(committer, metrics);
  const definition = connectorFor('greenapi');
  if (!definition) throw new Error('greenapi connector missing');
  const log = { connects: 0, cursorsSeen: [] as (string | undefined)[], acks: [] as { cursor: string; storedBefore: number }[] };
  const runtime = new ConnectorRuntime(
    { id: 'src', definition, settings: {} },
    (cursor: string | undefined, _signal: (s: SourceSignal) => void): Source => ({
      async connect() {
        log.connects++;
        log.cursorsSeen.push(cursor);
      },
      async read(abort): Promise<SourceBatch | null> {
        const step = script.shift();
        if (!step) {
          await new Promise((r) => abort.addEventListener('abort', r, { once: true }));
          return null;
        }
        if ('fail' in step) throw step.fail;
        return {
          items: step.batch,
          cursor: step.cursor,
          ack: async () => {
            log.acks.push({ cursor: step.cursor, storedBefore: (await store.queryEvents({ types: ['message.created'], limit: 1000 })).length });
          },
        };
      },
      async close() {},
    }),
    { pipeline, committer, store, metrics, logger: pino({ level: 'silent' }), backoff: { initialMs: 5, maxMs: 20, authFailedMs: 30 } },
  );
  return { store, runtime, log };
}

describe('connector runtime', () => {
  it('acks only after the commit, saves cursors, retries a blip on the same source, reconnects after repeated errors and resumes from the saved cursor', async () => {
    const reset = () => ({ fail: new RetryableError('connection reset') });
    const { store, runtime, log } = await setup([
      { batch: [waMessage('r1'), waMessage('r2')], cursor: 'c-1' },
      reset(), // a blip: retried on the same source
      { batch: [waMessage('r3')], cursor: 'c-2' },
      reset(), reset(), reset(), reset(), // four in a row: the source is closed and reconnected
      { batch: [waMessage('r4')], cursor: 'c-3' },
    ]);
    runtime.start();
    await expect.poll(() => log.acks.length, { timeout: 5000 }).toBe(3);
    await runtime.stop();
    // Each ack saw its batch already stored.
    expect(log.acks).toEqual([{ cursor: 'c-1', storedBefore: 2 }, { cursor: 'c-2', storedBefore: 3 }, { cursor: 'c-3', storedBefore: 4 }]);
    expect(await store.getCursor('src')).toBe('c-3');
    expect(log.connects).toBe(2);
    expect(log.cursorsSeen).toEqual([undefined, 'c-2']);
    const ops = (await store.queryEvents({ types: ['connector.*'], limit: 100 })).map((e) => (JSON.parse(e.json) as { type: string }).type);
    expect(ops).toEqual(['connector.connected', 'connector.disconnected', 'connector.connected']);
    expect(runtime.status()).toMatchObject({ transport: 'pull', state: 'stopped', errors: 5, lastError: 'connection reset' });
    await store.close();
  });

  it('reports refused credentials as connector.auth-failed and backs off instead of spinning', async () => {
    const auth = () => ({ fail: new SwitchboardError('SB_ERR_CONNECTOR_AUTH', 'bad password') });
    const { store, runtime, log } = await setup([auth(), auth(), auth()]);
    runtime.start();
    await expect.poll(() => log.connects, { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    await runtime.stop();
    const failed = (await store.queryEvents({ types: ['connector.auth-failed'], limit: 100 })).map((e) => (JSON.parse(e.json) as { data: { reason: string } }).data.reason);
    expect(failed.slice(0, 3)).toEqual(['bad password', 'bad password', 'bad password']);
    expect(runtime.status()).toMatchObject({ errors: 3 });
    await store.close();
  });

  it('backoff is jittered, grows, and is capped', () => {
    const o = { initialMs: 500, maxMs: 20_000, authFailedMs: 60_000 };
    expect(backoffDelay(0, o, () => 1)).toBe(500);
    expect(backoffDelay(3, o, () => 1)).toBe(4000);
    expect(backoffDelay(20, o, () => 1)).toBe(20_000);
    expect(backoffDelay(20, o, () => 0)).toBe(250);
    expect(backoffDelay(5, o, () => 0.5)).toBe(8000);
  });
});
