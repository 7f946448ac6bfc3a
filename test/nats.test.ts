/**
 * The NATS JetStream sink against a real NATS server (127.0.0.1:4222, or NATS_URL): subjects
 * `<prefix>.<platform>.<type>`, `Nats-Msg-Id` = event id, the stream created if missing, and a
 * JetStream consumer that receives every event once — also when Switchboard is SIGKILLed before
 * its cursor is saved and republishes (JetStream drops the repeats by Nats-Msg-Id), and when the
 * NATS server itself goes away and comes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager, AckPolicy, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeHttp, fetchAllEvents, freePort, greenApiMessage, http, killAllChildren, makeTempDir, removeTempDirs, sleep, startServerWith, type Server } from './helpers/process.js';
import { API_TOKEN as LIB_API_TOKEN, chatMessage, startDeliveryServer } from './helpers/delivery.js';
import { waitFor } from './helpers/receiver.js';

/** The machine's NATS server; when it is not running, the tests start one of their own. */
let NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p));
const API_TOKEN = 'nats-test-api-token-0123456';
const INGEST_TOKEN = 'nats-test-ingest-token-0123456';

function uniq(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
}

/** Runs a nats-server of our own (for the reconnect test), on a port and store folder that survive restarts. */
async function runNatsServer(port: number, storeDir: string, extra: readonly string[] = []): Promise<ChildProcess> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed');
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...extra], { stdio: 'ignore' });
  await waitFor(
    async () => {
      try {
        const nc = await connect({ servers: `127.0.0.1:${port}`, timeout: 500 });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    () => `nats-server on ${port} did not start`,
  );
  return child;
}

/** A durable pull consumer on a stream that collects every message it receives (and acks it). */
async function collect(nc: NatsConnection, jsm: JetStreamManager, stream: string): Promise<{ messages: JsMsg[]; stop(): Promise<void> }> {
  await jsm.consumers.add(stream, { durable_name: 'test', ack_policy: AckPolicy.Explicit });
  const consumer = await jetstream(nc).consumers.get(stream, 'test');
  const iter = await consumer.consume({ max_messages: 100 });
  const messages: JsMsg[] = [];
  const done = (async () => {
    for await (const m of iter) {
      messages.push(m);
      m.ack();
    }
  })();
  return {
    messages,
    async stop() {
      await iter.close();
      await done;
    },
  };
}

async function metricValue(url: string, line: RegExp): Promise<number> {
  const text = (await http('GET', `${url}/metrics`)).text;
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('NATS JetStream sink', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];

  let ownServer: ChildProcess | undefined;

  beforeAll(async () => {
    try {
      nc = await connect({ servers: NATS_URL, timeout: 2000 });
    } catch (err) {
      if (!NATS_SERVER) throw new Error(`no NATS server at ${NATS_URL} (${(err as Error).message}) and no nats-server binary to start one; install nats-server, or run one: nats-server -a 127.0.0.1 -p 4222 -js`, { cause: err });
      const port = await freePort();
      ownServer = await runNatsServer(port, makeTempDir('switchboard-nats-own-'));
      NATS_URL = `nats://127.0.0.1:${port}`;
      nc = await connect({ servers: NATS_URL, timeout: 2000 });
    }
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    for (const s of streams) await jsm.streams.delete(s).catch(() => false);
    await nc.close();
    ownServer?.kill('SIGKILL');
    await killAllChildren();
    await closeHttp();
    removeTempDirs();
  });

  it('creates the stream and publishes every event to <prefix>.<platform>.<type> with Nats-Msg-Id = event id', async () => {
    const stream = `SBT_${uniq()}`;
    const prefix = `sbt${uniq().toLowerCase()}`;
    streams.push(stream);
    const s = await startDeliveryServer({ nats: { url: NATS_URL, stream, subjectPrefix: prefix, duplicateWindow: '5m' } });
    try {
      await s.ingest([chatMessage('79004440001', 'one'), chatMessage('79004440001', 'two'), { typeWebhook: 'incomingCall', instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' }, timestamp: 1700000000, from: '79001234567@c.us', status: 'offer', idMessage: 'NATS-CALL-1' }]);
      await waitFor(async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages === 3, 10_000);
      const info = await jsm.streams.info(stream);
      expect(info.config.subjects).toEqual([`${prefix}.>`]);
      expect(info.config.duplicate_window).toBe(5 * 60 * 1e9);
      const c = await collect(nc, jsm, stream);
      await waitFor(() => c.messages.length === 3, 10_000);
      await c.stop();
      expect(c.messages.map((m) => m.subject)).toEqual([`${prefix}.greenapi.message.created`, `${prefix}.greenapi.message.created`, `${prefix}.greenapi.call.ringing`]);
      const events = await fetchAllEvents(s.url, LIB_API_TOKEN);
      for (const [i, m] of c.messages.entries()) {
        const body = m.json<{ id: string; sequence: string; specversion: string }>();
        expect(m.headers?.get('Nats-Msg-Id')).toBe(body.id);
        expect(m.headers?.get('Content-Type')).toBe('application/cloudevents+json');
        expect(body.id).toBe(events[i]?.id);
        expect(body.sequence).toBe(events[i]?.sequence);
        expect(body.specversion).toBe('1.0');
      }
      expect(await s.metrics()).toMatch(/switchboard_nats_published_total\{result="stored"\} 3/);
      expect(await s.metrics()).toMatch(/switchboard_nats_connected 1/);
    } finally {
      await s.close();
    }
  });

  it('a consumer receives every event once when Switchboard is killed before its cursor is saved and republishes', async () => {
    assertBuilt();
    const stream = `SBT_${uniq()}`;
    const prefix = `sbt${uniq().toLowerCase()}`;
    streams.push(stream);
    const dir = makeTempDir('switchboard-nats-');
    const config = join(dir, 'switchboard.json');
    const port = await freePort();
    const writeConfig = (cursorInterval: string) =>
      writeFileSync(
        config,
        JSON.stringify({
          server: { apiToken: API_TOKEN },
          log: { level: 'warn' },
          connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
          nats: { url: NATS_URL, stream, subjectPrefix: prefix, cursorInterval },
        }),
      );
    const start = async (): Promise<Server> => {
      let last: unknown;
      for (let i = 0; i < 10; i++) {
        try {
          return await startServerWith(['serve', '--config', config, '--data', dir, '--port', String(port)]);
        } catch (err) {
          last = err;
          await sleep(200);
        }
      }
      throw last;
    };
    const ingest = async (server: Server, from: number, to: number) => {
      for (let i = from; i < to; i += 25) {
        const body = JSON.stringify(Array.from({ length: Math.min(25, to - i) }, (_, k) => greenApiMessage(`NATS-${i + k}`, i + k)));
        for (;;) {
          const res = await http('POST', `${server.url}/ingest/wa`, { token: INGEST_TOKEN, body }).catch(() => undefined);
          if (res?.status === 200) break;
          await sleep(50);
        }
      }
    };
    const streamCount = async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages ?? -1;

    // 1. The cursor is saved only once an hour: everything published stays unsaved.
    writeConfig('1h');
    let server = await start();
    await ingest(server, 0, 100);
    await waitFor(async () => (await streamCount()) === 100, 15_000, () => 'stream did not reach 100 messages');
    const consumer = await collect(nc, jsm, stream);
    // 2. Killed before the cursor was saved: the restart republishes all 100; JetStream drops them.
    await server.child.kill('SIGKILL');
    server = await start();
    await waitFor(async () => (await metricValue(server.url, /switchboard_nats_published_total\{result="duplicate"\} (\d+)/)) === 100, 15_000, () => 'no republish seen');
    expect(await streamCount()).toBe(100);
    expect(await metricValue(server.url, /switchboard_nats_published_total\{result="stored"\} (\d+)/)).toBe(0);

    // 3. Under load with a realistic interval, killed again and again.
    await server.child.kill('SIGKILL');
    writeConfig('200ms');
    server = await start();
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      await ingest(server, 100 + round * 100, 200 + round * 100);
      await sleep(50 + Math.floor(Math.random() * 150));
      await server.child.kill('SIGKILL');
      kills++;
      server = await start();
    }
    await waitFor(async () => (await streamCount()) === 400, 20_000, () => 'stream did not reach 400 messages');
    // The stream holds all 400 (earlier instances published them), but this instance may still be
    // republishing from its cursor under load: wait until it has caught up (its lag stays 0).
    const caughtUp = async () => (await metricValue(server.url, /switchboard_nats_connected (\d+)/)) === 1 && (await metricValue(server.url, /switchboard_nats_lag (\d+)/)) === 0;
    await waitFor(async () => (await caughtUp()) && (await sleep(300), await caughtUp()), 20_000, () => 'the sink did not catch up');

    // 4. A graceful stop saves the cursor: the next start republishes nothing.
    await server.child.kill('SIGTERM');
    server = await start();
    await ingest(server, 400, 410);
    await waitFor(async () => (await streamCount()) === 410, 10_000);
    // The counter goes up once the publishing window's acknowledgements are in, after the stream has them.
    await waitFor(async () => (await metricValue(server.url, /switchboard_nats_published_total\{result="stored"\} (\d+)/)) === 10, 10_000);
    await sleep(300);
    expect(await metricValue(server.url, /switchboard_nats_published_total\{result="duplicate"\} (\d+)/)).toBe(0);
    expect(await metricValue(server.url, /switchboard_nats_published_total\{result="stored"\} (\d+)/)).toBe(10);

    // The consumer saw every stored event exactly once, in sequence order.
    await waitFor(() => consumer.messages.length >= 410, 10_000, () => `${consumer.messages.length}/410 consumed`);
    await sleep(300);
    await consumer.stop();
    const events = await fetchAllEvents(server.url, API_TOKEN);
    expect(events).toHaveLength(410);
    const consumed = consumer.messages.map((m) => m.headers?.get('Nats-Msg-Id'));
    expect(consumed).toEqual(events.map((e) => e.id));
    expect(consumer.messages.map((m) => m.json<{ sequence: string }>().sequence)).toEqual(events.map((e) => e.sequence));
    expect(kills).toBe(3);
    await server.child.kill('SIGTERM');
  }, 90_000);

  it.skipIf(!NATS_SERVER)('skips (logs and counts) an event larger than the server max_payload instead of stopping', async () => {
    const port = await freePort();
    const storeDir = makeTempDir('switchboard-nats-store-');
    const conf = join(storeDir, 'nats.conf');
    writeFileSync(conf, 'max_payload: 4096\n');
    const natsServer = await runNatsServer(port, storeDir, ['-c', conf]);
    const url = `nats://127.0.0.1:${port}`;
    const s = await startDeliveryServer({ nats: { url } });
    const own = await connect({ servers: url });
    try {
      await s.ingest([chatMessage('79004440003', 'small one'), chatMessage('79004440003', 'x'.repeat(8000)), chatMessage('79004440003', 'small two')]);
      const ownJsm = await jetstreamManager(own);
      await waitFor(async () => /switchboard_nats_published_total\{result="stored"\} 2/.test(await s.metrics()), 10_000);
      expect(await s.metrics()).toMatch(/switchboard_nats_published_total\{result="too-large"\} 1/);
      expect((await ownJsm.streams.info('SWITCHBOARD')).state.messages).toBe(2);
    } finally {
      await own.close();
      await s.close();
      natsServer.kill('SIGKILL');
    }
  });

  it.skipIf(!NATS_SERVER)('keeps publishing after the NATS server goes away and comes back', async () => {
    const port = await freePort();
    const storeDir = makeTempDir('switchboard-nats-store-');
    let natsServer = await runNatsServer(port, storeDir);
    const url = `nats://127.0.0.1:${port}`;
    const s = await startDeliveryServer({ nats: { url, stream: 'SWITCHBOARD', timeout: '1s' } });
    const own = await connect({ servers: url });
    const ownJsm = await jetstreamManager(own);
    try {
      await s.ingest(Array.from({ length: 20 }, (_, i) => chatMessage('79004440002', `before ${i}`)));
      await waitFor(async () => (await ownJsm.streams.info('SWITCHBOARD').catch(() => undefined))?.state.messages === 20, 10_000);
      await own.close();
      natsServer.kill('SIGKILL');
      await new Promise((r) => natsServer.once('exit', r));
      // Events keep being committed while NATS is down.
      await s.ingest(Array.from({ length: 20 }, (_, i) => chatMessage('79004440002', `during ${i}`)));
      await waitFor(async () => /switchboard_nats_connected 0/.test(await s.metrics()), 10_000);
      await sleep(500);
      natsServer = await runNatsServer(port, storeDir);
      const again = await connect({ servers: url });
      const againJsm = await jetstreamManager(again);
      await waitFor(async () => (await againJsm.streams.info('SWITCHBOARD').catch(() => undefined))?.state.messages === 40, 20_000, () => 'the sink did not catch up after the restart');
      const c = await collect(again, againJsm, 'SWITCHBOARD');
      await waitFor(() => c.messages.length === 40, 10_000);
      await c.stop();
      const events = await fetchAllEvents(s.url, LIB_API_TOKEN);
      expect(c.messages.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual(events.map((e) => e.id));
      await again.close();
    } finally {
      await s.close();
      natsServer.kill('SIGKILL');
    }
  }, 60_000);
});
