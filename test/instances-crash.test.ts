/**
 * Issue 16's failover test: three `switchboard serve` processes on one PostgreSQL database, with
 * one GREEN-API polling connector on the simulator, one webhook subscription, webhook senders
 * spread over the instances (retrying on another when one fails), and the instance that owns the
 * poller SIGKILLed twice under load. Afterwards:
 *   - every acknowledged payload and every polled notification is stored exactly once;
 *   - polling moved to another instance within 15 s of each kill, and the simulator's queue
 *     drained with no delete before its events were committed;
 *   - every event reached the subscription;
 *   - an SSE client on an instance never killed saw every event in sequence order with no gap.
 */
import { join } from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import { normalizeGreenApi } from '../src/connectors/greenapi/normalize.js';
import { GreenApiSimulator } from '../src/connectors/greenapi/simulator.js';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { assertBuilt, closeHttp, fetchAllEvents, freePort, getJson, greenApiMessage, killAllChildren, makeTempDir, removeTempDirs, sleep, startServerWith, type Server } from './helpers/process.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';

const CONNECTOR = 'wa';
const INSTANCE = '1101000002';
const INSTANCE_TOKEN = 'a75b3a66374942c5b3c019c698abc2067e151558acbd412e8b';
const API_TOKEN = 'sb-instances-crash-test-token';
const INGEST_TOKEN = 'sb-instances-crash-ingest-token';
const WID = '79876543211@c.us';
const NOTIFICATIONS = 1_000;
const WEBHOOKS = 1_000;
const TAKEOVER_LIMIT_MS = 15_000;

function notification(n: number): Record<string, unknown> {
  const chatId = `7911${String(1_000_000 + (n % 997)).padStart(7, '0')}@c.us`;
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: Number(INSTANCE), wid: WID, typeInstance: 'whatsapp' },
    timestamp: 1_700_000_000 + n,
    idMessage: `POLL${n.toString(16).toUpperCase().padStart(12, '0')}`,
    senderData: { chatId, sender: chatId, senderName: `Client ${n}` },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: `polled #${n}` } },
  };
}

const idsOf = (body: unknown) => normalizeGreenApi(body, { connectorId: CONNECTOR, receivedAt: '2024-01-01T00:00:00.000Z' }).map((e) => e.id);

interface Instance {
  readonly n: number;
  readonly dir: string;
  readonly port: number;
  server: Server | undefined;
  killed: boolean;
}

/** An SSE reader that keeps every event it gets until told to stop. */
function follow(url: string): { events: { id: string; seq: number }[]; stop(): void; done: Promise<void> } {
  const abort = new AbortController();
  const events: { id: string; seq: number }[] = [];
  const done = (async () => {
    try {
      const res = await fetch(`${url}/v1/stream?after=0`, { headers: { authorization: `Bearer ${API_TOKEN}` }, signal: abort.signal });
      const parser = createParser({
        onEvent: (m: EventSourceMessage) => {
          const e = JSON.parse(m.data) as { id: string; sequence: string };
          events.push({ id: e.id, seq: Number(e.sequence) });
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body ?? []) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // Stopped, or the instance was killed.
    }
  })();
  return { events, stop: () => abort.abort(), done };
}

describe('three instances on one PostgreSQL database, the poller owner SIGKILLed twice', () => {
  let db: TestDatabase;
  let sim: GreenApiSimulator;
  let check: PostgresStore;
  let receiver: Receiver;
  const instances: Instance[] = [];

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    receiver = await startReceiver();
    check = new PostgresStore({ url: db.url, poolSize: 2 });
  });

  afterAll(async () => {
    await killAllChildren();
    await sim?.close();
    await check?.close();
    await receiver?.close();
    await closeHttp();
    await db?.drop();
    removeTempDirs();
  });

  it('stores everything once, moves polling within 15 s, delivers every event, and streams them in order', async () => {
    // The simulator's delete check: every event of the notification is in the store already.
    let opened = false;
    const committed = async (body: Record<string, unknown>): Promise<boolean> => {
      if (!opened) {
        await check.open();
        opened = true;
      }
      for (const id of idsOf(body)) if (!(await check.getEvent(id))) return false;
      return true;
    };
    sim = new GreenApiSimulator({ instances: [{ idInstance: INSTANCE, apiTokenInstance: INSTANCE_TOKEN, wid: WID }], verifyDelete: (_i, body) => committed(body) });
    const apiUrl = await sim.start();
    const polled = Array.from({ length: NOTIFICATIONS }, (_, n) => notification(n));
    for (const body of polled) sim.enqueue(INSTANCE, body);

    const start = async (inst: Instance): Promise<Server> => {
      let last: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          return await startServerWith(['serve', '--config', join(inst.dir, 'sb.yaml'), '--data', inst.dir]);
        } catch (err) {
          last = err; // e.g. the port not yet released by the killed process
          await sleep(200);
        }
      }
      throw last;
    };
    for (let n = 0; n < 3; n++) {
      const inst: Instance = { n, dir: makeTempDir(`switchboard-instance-${n}-`), port: await freePort(), server: undefined, killed: false };
      writeFileSync(
        join(inst.dir, 'sb.yaml'),
        stringify({
          server: { port: inst.port, apiToken: API_TOKEN },
          store: { postgres: db.url },
          log: { level: 'warn' },
          delivery: { allowPrivateTargets: true, retrySchedule: ['0ms', '100ms', '200ms', '500ms', '1s', '2s', '5s'], timeout: '2s' },
          subscriptions: [{ id: 'all', url: receiver.url }],
          connectors: [
            {
              id: CONNECTOR,
              platform: 'greenapi',
              ingestToken: INGEST_TOKEN,
              callerNames: false,
              polling: { apiUrl, idInstance: INSTANCE, apiTokenInstance: INSTANCE_TOKEN, receiveTimeout: 5, maxRequestsPerSecond: 100 },
            },
          ],
        }),
      );
      instances.push(inst);
    }
    for (const inst of instances) inst.server = await start(inst);
    const urlOf = (inst: Instance) => `http://127.0.0.1:${inst.port}`;
    const streams = instances.map((inst) => follow(urlOf(inst)));

    // Webhook senders: each payload to the next live instance, again to another when it fails.
    const acked = new Set<string>();
    let sending = true;
    const sender = (async () => {
      for (let n = 0; n < WEBHOOKS; n++) {
        const body = JSON.stringify(greenApiMessage(`HOOK${n.toString(16).toUpperCase().padStart(12, '0')}`, n));
        for (let attempt = 0; ; attempt++) {
          const inst = instances[(n + attempt) % 3] as Instance;
          try {
            const res = await fetch(`${urlOf(inst)}/ingest/${CONNECTOR}`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5_000) });
            if (res.status === 200) {
              acked.add(body);
              break;
            }
          } catch {
            // killed meanwhile: the next instance
          }
          await sleep(50);
        }
        await sleep(8);
      }
      sending = false;
    })();

    type ConnectorView = { id: string; state: string; owner: string | null; instance: string };
    const viewOf = async (inst: Instance): Promise<ConnectorView | undefined> => {
      try {
        const body = (await getJson(`${urlOf(inst)}/v1/connectors`, API_TOKEN)) as { connectors: ConnectorView[] };
        return body.connectors.find((c) => c.id === CONNECTOR);
      } catch {
        return undefined;
      }
    };
    /** The live instance whose poller is connected. */
    const owner = async (): Promise<Instance | undefined> => {
      for (const inst of instances) {
        if (inst.server === undefined) continue;
        const v = await viewOf(inst);
        if (v?.state === 'connected' && v.owner === v.instance) return inst;
      }
      return undefined;
    };

    const takeovers: number[] = [];
    for (let kill = 0; kill < 2; kill++) {
      await waitFor(async () => (await owner()) !== undefined, 30_000, () => 'no instance polls');
      await sleep(1_500 + kill * 500); // under load: webhooks and polled notifications in flight
      const victim = (await owner()) as Instance;
      expect(sim.queueLength(INSTANCE), 'the queue drained before the kill: make it longer').toBeGreaterThan(0);
      const exit = await victim.server?.child.kill('SIGKILL');
      expect(exit?.signal).toBe('SIGKILL');
      victim.server = undefined;
      victim.killed = true;
      const killedAt = Date.now();
      await waitFor(async () => {
        const o = await owner();
        return o !== undefined && o !== victim;
      }, 30_000, () => 'polling did not move');
      takeovers.push(Date.now() - killedAt);
      victim.server = await start(victim);
    }

    await sender;
    expect(sending).toBe(false);
    await waitFor(() => sim.queueLength(INSTANCE) === 0, 120_000, () => `${sim.queueLength(INSTANCE)} notifications left`);

    // ── what was stored ────────────────────────────────────────────────────────────────────────
    const survivor = instances.find((i) => !i.killed) as Instance;
    const stored = await fetchAllEvents(urlOf(survivor), API_TOKEN);
    const storedIds = stored.map((e) => e.id);
    expect(new Set(storedIds).size).toBe(storedIds.length);
    const expected = new Set<string>();
    for (const body of polled) for (const id of idsOf(body)) expected.add(id);
    for (const text of acked) for (const id of idsOf(JSON.parse(text))) expected.add(id);
    expect(acked.size).toBe(WEBHOOKS);
    // Every acknowledged payload and every polled notification, once (plus the connectors' own connector.* events).
    const payloadEvents = stored.filter((e) => !e.type.startsWith('connector.'));
    expect(new Set(payloadEvents.map((e) => e.id))).toEqual(expected);
    expect(takeovers.every((ms) => ms <= TAKEOVER_LIMIT_MS), `takeovers ${takeovers.join(', ')} ms`).toBe(true);
    expect(sim.stats.violations, 'deletes before commit').toBe(0);

    // ── delivered, and streamed ────────────────────────────────────────────────────────────────
    await waitFor(() => storedIds.every((id) => receiver.deliveredIds().has(id)), 60_000, () => `${receiver.deliveredIds().size} of ${storedIds.length} delivered`);
    const stream = streams[survivor.n] as ReturnType<typeof follow>;
    await waitFor(() => stream.events.length >= stored.length, 20_000, () => `the stream has ${stream.events.length} of ${stored.length}`);
    for (const s of streams) s.stop();
    expect(stream.events.map((e) => e.id)).toEqual(storedIds);
    const seqs = stream.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  }, 300_000);
});
