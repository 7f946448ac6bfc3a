/**
 * The connector runtime against a scripted Source: the runtime's contract (backoff, cursors,
 * ack after commit, status as data and as connector.* events), independent of any platform; and
 * its backoff with the real GREEN-API poller against a loopback server that answers only 500.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { RetryableError, SwitchboardError } from '../src/core/index.js';
import { greenApiPoller } from '../src/connectors/greenapi/poller.js';
import { connectorFor } from '../src/connectors/registry.js';
import type { Source, SourceBatch, SourceSignal } from '../src/connectors/types.js';
import { EventBus } from '../src/server/bus.js';
import { createMetrics } from '../src/server/metrics.js';
import { GroupCommitter, Pipeline } from '../src/server/pipeline.js';
import { backoffDelay } from '../src/core/index.js';
import { ConnectorRuntime, type BackoffOptions } from '../src/server/runtime.js';
import { SqliteStore } from '../src/server/store/sqlite/index.js';
import { captureLogs } from './helpers/logs.js';
import { waMessage } from './helpers/sb.js';

type Step = { batch: unknown[]; cursor: string } | { fail: Error };

const SMALL_BACKOFF: BackoffOptions = { initialMs: 5, maxMs: 20, authFailedMs: 30 };

/** A runtime for a greenapi connector `src` over the given source, on an in-memory store. */
async function runtimeOver(makeSource: (cursor: string | undefined, signal: (s: SourceSignal) => void) => Source, options: { backoff?: BackoffOptions; logger?: Logger } = {}) {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const metrics = createMetrics({ defaultMetrics: false });
  const bus = new EventBus();
  const committer = new GroupCommitter(store, bus, metrics, { maxPendingEvents: 1000, maxBatchEvents: 1000 });
  const pipeline = new Pipeline(committer, metrics);
  const definition = connectorFor('greenapi');
  if (!definition) throw new Error('greenapi connector missing');
  const runtime = new ConnectorRuntime({ id: 'src', definition, settings: {} }, makeSource, { pipeline, committer, store, metrics, logger: options.logger ?? pino({ level: 'silent' }), backoff: options.backoff ?? SMALL_BACKOFF });
  return { store, runtime };
}

async function setup(script: Step[], options: { logger?: Logger } = {}) {
  const log = { connects: 0, cursorsSeen: [] as (string | undefined)[], acks: [] as { cursor: string; storedBefore: number }[] };
  const { store, runtime } = await runtimeOver(
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
    options,
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

  it('waits longer after every failed read though connect succeeds, reconnects at once on a lost connection, and starts the backoff over only after a successful read', async () => {
    const reset = () => ({ fail: new RetryableError('connection reset') });
    const logs = captureLogs('debug');
    const { store, runtime, log } = await setup(
      [
        reset(), reset(), reset(), reset(), // connect succeeded, every read failed: blips, then a reconnect
        reset(), reset(), // the new connect succeeded too; its reads fail as well
        { batch: [waMessage('b1')], cursor: 'c-1' }, // real progress
        { fail: new RetryableError('pipe closed', { connectionLost: true }) }, // lost: reconnect at once
        { batch: [waMessage('b2')], cursor: 'c-2' },
      ],
      { logger: logs.logger },
    );
    runtime.start();
    await expect.poll(() => log.acks.length, { timeout: 5000 }).toBe(2);
    await runtime.stop();
    // The attempt number (and so the backoff cap) grew across the reconnect; the read reset it.
    const attempts = logs.lines().filter((l) => l.connector === 'src' && typeof l.waitMs === 'number').map((l) => l.attempt);
    expect(attempts).toEqual([0, 1, 2, 3, 4, 5, 0]);
    expect(log.connects).toBe(3);
    expect(runtime.status()).toMatchObject({ errors: 7, consecutiveErrors: 0 });
    await store.close();
  });

  it('backoff is jittered in the upper half of its base, grows, and is capped (the one backoff of the runtime, the NATS sink and the client)', () => {
    const o = { initialMs: 500, maxMs: 20_000, authFailedMs: 60_000 };
    expect(backoffDelay(0, o, () => 1)).toBe(500);
    expect(backoffDelay(0, o, () => 0)).toBe(250);
    expect(backoffDelay(3, o, () => 1)).toBe(4000);
    expect(backoffDelay(20, o, () => 1)).toBe(20_000);
    // Never a burst of immediate retries after many failures: at least half the cap.
    expect(backoffDelay(20, o, () => 0)).toBe(10_000);
    expect(backoffDelay(5, o, () => 0.5)).toBe(12_000);
  });
});

describe('GREEN-API polling of an instance that answers only errors', () => {
  it('backs off further with every failed receive, although its connect always succeeds', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const settings = { polling: { apiUrl: `http://127.0.0.1:${port}`, idInstance: '7700000001', apiTokenInstance: 'backoff-test-token', receiveTimeout: 5, maxRequestsPerSecond: 100 } };
    const { store, runtime } = await runtimeOver(
      (cursor, signal) => {
        const source = greenApiPoller({ connectorId: 'src', settings, cursor, signal });
        if (!source) throw new Error('no poller');
        return source;
      },
      { backoff: { initialMs: 10, maxMs: 1000, authFailedMs: 1000 } },
    );
    try {
      runtime.start();
      await expect.poll(() => requests, { timeout: 15_000 }).toBeGreaterThanOrEqual(8);
      // By now the waits are drawn from [0, 1 s]: a 1.5 s window holds a few requests. A backoff
      // that starts over at every connect (the caps never pass 40 ms) makes dozens.
      const before = requests;
      await new Promise((r) => setTimeout(r, 1500));
      expect(requests - before).toBeLessThan(15);
      // Every failed receive counted towards the backoff: none was forgotten at a connect.
      expect(runtime.status().consecutiveErrors).toBeGreaterThanOrEqual(8);
    } finally {
      await runtime.stop();
      server.close();
      await store.close();
    }
  });
});
