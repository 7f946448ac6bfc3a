/**
 * GREEN-API polling, ack after commit, end to end: the real CLI server polls 10,000 notifications
 * from the simulator (in this process) while the simulator injects faults and the server is
 * SIGKILLed again and again and restarted on the same data folder and port. Afterwards every
 * notification is stored exactly once and deleted from the queue, and the simulator's
 * `verifyDelete` — which reads the server's store (its SQLite file, read-only, or its PostgreSQL
 * database) — found every notification's events committed before its delete.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { normalizeGreenApi } from '../src/connectors/greenapi/normalize.js';
import { GreenApiSimulator, type GreenApiFaults } from '../src/connectors/greenapi/simulator.js';
import { PostgresStore } from '../src/server/store/postgres/index.js';
import { TEST_STORE } from './helpers/postgres.js';
import {
  assertBuilt,
  closeHttp,
  fetchAllEvents,
  freePort,
  getJson,
  killAllChildren,
  makeTempDir,
  releaseDataStores,
  removeTempDirs,
  sleep,
  startServerWith,
  useDataStore,
  type Server,
} from './helpers/process.js';

/**
 * 10,000 on SQLite. The connector's own limit (100 requests/s: receive + delete) makes the drain
 * ~50 notifications/s whatever the store, so the suite's second pass, on PostgreSQL, drains 3,000
 * with 7 kills instead of 10 — each kill costing the poller's lease (`store.leaseTtl`, 3 s here)
 * besides the restart.
 */
const TOTAL = TEST_STORE === 'postgres' ? 3_000 : 10_000;
const MIN_KILLS = 5;
/** Kills in quick succession at the start: each 1–3 s after the previous start. */
const EARLY_KILLS = 3;
/** Then kills spread over the rest of the drain: one in each of this many equal stretches of the queue. */
const SPREAD_KILLS = TEST_STORE === 'postgres' ? 3 : 6;
/** A killed server's successor gets at least this long before the next kill. */
const MIN_KILL_GAP_MS = 1_000;
/** From the first start to an empty queue. */
const DRAIN_DEADLINE_MS = 420_000;

const CONNECTOR = 'wa-poll';
const INSTANCE = '1101000001';
const INSTANCE_TOKEN = 'd75b3a66374942c5b3c019c698abc2067e151558acbd412e8a';
const API_TOKEN = 'sb-polling-crash-test-token';
const WID = '79876543210@c.us';

/**
 * Every kind except quotaExceeded (a 466 waits 60 s). The rates are small because each fault
 * costs the poller a wait (a 5xx or a dropped connection 0.25–0.5 s of backoff, a 429 its
 * Retry-After of 1 s, a slow answer slowMs) and 10,000 notifications take over 20,000 requests:
 * these still inject about 150 faults and add about 40 s. With 3,000 notifications the rates are
 * doubled, so that each kind is still expected several times (the rarest, 429, about 6 times).
 */
const RATE = TOTAL < 10_000 ? 2 : 1;
const FAULTS: GreenApiFaults = {
  serverError: 0.002 * RATE,
  tooManyRequests: 0.0005 * RATE,
  dropConnection: 0.001 * RATE,
  slow: 0.002 * RATE,
  slowMs: 150,
  emptyAnswer: 0.01 * RATE,
  seed: 7,
};
const FAULT_KINDS = ['serverError', 'tooManyRequests', 'dropConnection', 'slow', 'emptyAnswer'] as const;

type Body = Record<string, unknown>;

function randInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The key a notification is told apart by: `idMessage|typeWebhook|status`. */
function nativeKey(body: unknown): string {
  if (!isRecord(body)) return `?${JSON.stringify(body)}`;
  return `${String(body.idMessage)}|${String(body.typeWebhook)}|${typeof body.status === 'string' ? body.status : ''}`;
}

/** The ids of the events a notification normalizes to (ids do not depend on the receipt time). */
function eventIdsOf(body: unknown): string[] {
  return normalizeGreenApi(body, { connectorId: CONNECTOR, receivedAt: '2024-01-01T00:00:00.000Z' }).map((e) => e.id);
}

/**
 * 10,000 distinct notifications: incoming text messages, and incoming calls as offer + final
 * status pairs (pickUp gives two events, declined and hungUp one), with the final status a few
 * notifications after its offer.
 */
function makeNotifications(total: number): Body[] {
  const instanceData = { idInstance: Number(INSTANCE), wid: WID, typeInstance: 'whatsapp' };
  const out: Body[] = [];
  const pendingEnds: { at: number; body: Body }[] = [];
  const finals = ['pickUp', 'declined', 'hungUp'] as const;
  for (let n = 0; out.length < total; n++) {
    const due = pendingEnds[0];
    if (due && due.at <= n) {
      out.push(due.body);
      pendingEnds.shift();
      continue;
    }
    const phone = `7900${String(1_000_000 + (n % 4999)).padStart(7, '0')}`;
    const chatId = `${phone}@c.us`;
    const timestamp = 1_700_000_000 + n;
    // A call needs two slots; near the end only messages fit.
    if (n % 5 >= 3 && out.length + pendingEnds.length + 2 <= total) {
      const idMessage = `CALL${n.toString(16).toUpperCase().padStart(28, '0')}`;
      const call = (status: string, dt: number): Body => ({ from: chatId, typeWebhook: 'incomingCall', instanceData: { ...instanceData }, status, timestamp: timestamp + dt, idMessage });
      out.push(call('offer', 0));
      pendingEnds.push({ at: n + randInt(1, 4), body: call(finals[n % finals.length] as string, randInt(5, 60)) });
      continue;
    }
    if (out.length + pendingEnds.length >= total) continue; // only the pending ends remain
    out.push({
      typeWebhook: 'incomingMessageReceived',
      instanceData: { ...instanceData },
      timestamp,
      idMessage: `MSG${n.toString(16).toUpperCase().padStart(13, '0')}`,
      senderData: { chatId, chatName: `Client ${n % 4999}`, sender: chatId, senderName: `Client ${n % 4999}`, senderContactName: '' },
      messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: `hello #${n}`, isForwarded: false, forwardingScore: 0 } },
    });
  }
  return out;
}

/**
 * Read-only view of the server's SQLite file for `verifyDelete`; opened on first use, once the
 * server has created the file. A WAL reader sees every committed transaction.
 */
class CommittedCheck {
  private db: Database.Database | undefined;
  private count: Database.Statement<[string], { n: number }> | undefined;
  private pg: Promise<PostgresStore> | undefined;
  checks = 0;
  readonly failures: string[] = [];

  /** On the SQLite file `path`, or on the PostgreSQL database `postgresUrl` when given. */
  constructor(
    private readonly path: string,
    private readonly postgresUrl: string | undefined,
  ) {}

  /** True when every event `body` normalizes to is in the events table. */
  async committed(body: unknown): Promise<boolean> {
    const ids = eventIdsOf(body);
    if (this.postgresUrl !== undefined) {
      this.pg ??= (async () => {
        const pg = new PostgresStore({ url: this.postgresUrl as string, poolSize: 2 });
        await pg.open();
        return pg;
      })();
      const pg = await this.pg;
      for (const id of ids) if (!(await pg.getEvent(id))) return false;
      return true;
    }
    if (!this.count) {
      if (!existsSync(this.path)) return false;
      this.db = new Database(this.path, { readonly: true, fileMustExist: true, timeout: 5_000 });
      this.count = this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM events WHERE id IN (SELECT value FROM json_each(?))');
    }
    const row = this.count.get(JSON.stringify(ids));
    return row !== undefined && row.n === ids.length;
  }

  /** The simulator's verifyDelete: records why a check failed. */
  readonly verify = async (_idInstance: string, body: Body): Promise<boolean> => {
    this.checks++;
    let ok: boolean;
    try {
      ok = await this.committed(body);
      if (!ok && this.failures.length < 20) this.failures.push(`not committed: ${nativeKey(body)}`);
    } catch (err) {
      ok = false;
      if (this.failures.length < 20) this.failures.push(`${nativeKey(body)}: ${(err as Error).message}`);
    }
    return ok;
  };

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.count = undefined;
    const pg = this.pg;
    this.pg = undefined;
    await (await pg)?.close();
  }
}

describe('GREEN-API polling crash safety (SIGKILL while draining a faulty queue)', () => {
  let dir = '';
  let sim: GreenApiSimulator | undefined;
  let check: CommittedCheck | undefined;

  beforeAll(() => {
    assertBuilt();
    dir = makeTempDir('switchboard-greenapi-crash-');
  });

  afterAll(async () => {
    await killAllChildren();
    await sim?.close();
    await check?.close();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it(
    `stores every one of ${TOTAL.toLocaleString('en')} notifications exactly once and deletes none before its commit (${TEST_STORE})`,
    async () => {
      const dbPath = join(dir, 'sb.db');
      const postgresUrl = await useDataStore(dir); // under SWITCHBOARD_TEST_STORE=postgres
      check = new CommittedCheck(dbPath, postgresUrl);
      sim = new GreenApiSimulator({ instances: [{ idInstance: INSTANCE, apiTokenInstance: INSTANCE_TOKEN, wid: WID }], faults: FAULTS, verifyDelete: check.verify });
      const apiUrl = await sim.start();

      // ── the queue, and what it must become ───────────────────────────────────────────────
      const notifications = makeNotifications(TOTAL);
      const expectedPerKey = new Map<string, number>();
      const expectedIds = new Set<string>();
      for (const body of notifications) {
        const key = nativeKey(body);
        const ids = eventIdsOf(body);
        expect(expectedPerKey.has(key), `notification ${key} generated twice`).toBe(false);
        expectedPerKey.set(key, ids.length);
        for (const id of ids) expectedIds.add(id);
        sim.enqueue(INSTANCE, body);
      }
      const expectedEvents = [...expectedPerKey.values()].reduce((a, b) => a + b, 0);
      expect(expectedPerKey.size).toBe(TOTAL);
      expect(expectedIds.size).toBe(expectedEvents);
      expect(sim.queueLength(INSTANCE)).toBe(TOTAL);

      // ── the server ───────────────────────────────────────────────────────────────────────
      const port = await freePort();
      const configPath = join(dir, 'sb.yaml');
      writeFileSync(
        configPath,
        stringify({
          server: { port, apiToken: API_TOKEN },
          store: postgresUrl === undefined ? { sqlite: dbPath } : { postgres: postgresUrl, leaseTtl: '3s' },
          log: { level: 'warn' },
          connectors: [
            {
              id: CONNECTOR,
              platform: 'greenapi',
              callerNames: false,
              polling: { apiUrl, idInstance: INSTANCE, apiTokenInstance: INSTANCE_TOKEN, receiveTimeout: 5, maxRequestsPerSecond: 100 },
            },
          ],
        }),
      );
      const args = ['serve', '--config', configPath, '--data', dir];
      const start = async (): Promise<Server> => {
        let last: unknown;
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            return await startServerWith(args);
          } catch (err) {
            last = err; // e.g. the port not yet released by the killed process
            await sleep(200);
          }
        }
        throw last;
      };

      const started = Date.now();
      const deadline = started + DRAIN_DEADLINE_MS;
      let server = await start();
      let restartMs = 0;
      const kills: { queueLength: number; headCommitted: boolean; atSeconds: number }[] = [];

      /** Fails on the deadline, or when the server died without being killed. */
      const guard = (): void => {
        if (!server.child.running) {
          throw new Error(`the server exited on its own (queue ${sim?.queueLength(INSTANCE)} left)\nstderr:\n${server.child.stderr.slice(-4000)}`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `the queue did not drain within ${DRAIN_DEADLINE_MS / 1000} s: ${sim?.queueLength(INSTANCE)} of ${TOTAL} left after ${kills.length} kills; ` +
              `simulator stats ${JSON.stringify({ ...sim?.stats, contactInfoCalls: undefined })}\nstderr:\n${server.child.stderr.slice(-4000)}`,
          );
        }
      };

      // ── the kills: a few quick ones, then spread over the drain, the last near its end ─────
      /** When to kill next: so long after the last start, or once the queue is this short. */
      type KillPlan = { afterMs: number } | { queueAtMost: number };
      const stretch = Math.floor((TOTAL - 1_000) / SPREAD_KILLS);
      const plan: KillPlan[] = [
        ...Array.from({ length: EARLY_KILLS }, () => ({ afterMs: randInt(1_000, 3_000) })),
        ...Array.from({ length: SPREAD_KILLS }, (_, i) => ({ queueAtMost: TOTAL - 1_000 - i * stretch - randInt(0, stretch - 1) })),
        { queueAtMost: randInt(20, 150) },
      ];
      let lastStart = Date.now();
      const due = (p: KillPlan): boolean =>
        Date.now() - lastStart >= ('afterMs' in p ? p.afterMs : MIN_KILL_GAP_MS) && ('queueAtMost' in p ? (sim?.queueLength(INSTANCE) ?? 0) <= p.queueAtMost : true);
      for (const p of plan) {
        while (!due(p)) {
          guard();
          if (sim.queueLength(INSTANCE) === 0) break;
          await sleep(5);
        }
        // A random moment in the receive → commit → delete cycle, not just after a delete.
        await sleep(randInt(0, 250));
        if (sim.queueLength(INSTANCE) === 0) break;
        guard();
        const exit = await server.child.kill('SIGKILL');
        expect(exit.signal, `the server exited on its own before the kill\n${server.child.stderr}`).toBe('SIGKILL');
        // Killed between the commit and the delete: the head will come back and must dedupe.
        const head = sim.queued(INSTANCE)[0];
        kills.push({ queueLength: sim.queueLength(INSTANCE), headCommitted: head !== undefined && (await check.committed(head.body)), atSeconds: (Date.now() - started) / 1000 });
        const t = Date.now();
        server = await start();
        restartMs += Date.now() - t;
        lastStart = Date.now();
      }

      // ── the rest of the drain ────────────────────────────────────────────────────────────
      while (sim.queueLength(INSTANCE) > 0) {
        guard();
        await sleep(20);
      }
      const drainSeconds = (Date.now() - started) / 1000;

      // ── the checks ───────────────────────────────────────────────────────────────────────
      const stats = sim.stats;
      expect(sim.queueLength(INSTANCE)).toBe(0);
      expect(check.failures, 'notifications deleted before their events were committed').toEqual([]);
      expect(stats.violations).toBe(0);
      expect(check.checks).toBeGreaterThanOrEqual(TOTAL);
      // The check can say no: a notification never queued has no committed events.
      expect(await check.committed({ ...notifications[0], idMessage: 'NEVER-QUEUED' })).toBe(false);
      expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(stats.delete).toBe(TOTAL);
      expect(stats.deliveries).toBeGreaterThanOrEqual(TOTAL);
      for (const kind of FAULT_KINDS) expect(stats.faults[kind] ?? 0, `${kind} faults injected`).toBeGreaterThan(0);
      expect(stats.unauthorized).toBe(0);
      expect(stats.badRequests).toBe(0);

      const events = await fetchAllEvents(server.url, API_TOKEN);
      const storedPerKey = new Map<string, number>();
      const seenIds = new Set<string>();
      const duplicateIds: string[] = [];
      const unexpectedIds: string[] = [];
      let previous = 0n;
      let notificationEvents = 0;
      for (const e of events) {
        const seq = BigInt(e.sequence);
        expect(seq > previous, `sequence ${e.sequence} after ${previous}`).toBe(true);
        previous = seq;
        if (seenIds.has(e.id)) duplicateIds.push(e.id);
        seenIds.add(e.id);
        if (e.type.startsWith('connector.')) continue; // connected / disconnected, one per start or outage
        notificationEvents++;
        if (!expectedIds.has(e.id)) unexpectedIds.push(`${e.id} ${e.type}`);
        const key = nativeKey(e.data.native);
        storedPerKey.set(key, (storedPerKey.get(key) ?? 0) + 1);
      }
      const missing = [...expectedPerKey.keys()].filter((k) => !storedPerKey.has(k));
      const extra = [...storedPerKey.keys()].filter((k) => !expectedPerKey.has(k));
      const wrongCount = [...expectedPerKey].filter(([k, n]) => storedPerKey.has(k) && storedPerKey.get(k) !== n).map(([k, n]) => `${k}: ${storedPerKey.get(k)} events, expected ${n}`);
      const missingIds = [...expectedIds].filter((id) => !seenIds.has(id));
      expect(duplicateIds, 'event ids stored twice').toEqual([]);
      expect(missing.slice(0, 20), `${missing.length} notifications not stored`).toEqual([]);
      expect(extra.slice(0, 20), `${extra.length} stored notifications never queued`).toEqual([]);
      expect(wrongCount.slice(0, 20), `${wrongCount.length} notifications stored with the wrong number of events`).toEqual([]);
      expect(unexpectedIds.slice(0, 20), 'events no notification yields').toEqual([]);
      expect(missingIds.slice(0, 20), 'expected events not stored').toEqual([]);
      expect(notificationEvents).toBe(expectedEvents);

      // Nothing was malformed, so nothing may sit in the quarantine.
      const quarantine = (await getJson(`${server.url}/v1/quarantine?limit=10`, API_TOKEN)) as { items: unknown[] };
      expect(quarantine.items).toEqual([]);

      const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, stats.faults[k] ?? 0]));
      const summary = {
        notifications: TOTAL,
        events: notificationEvents,
        kills: kills.length,
        killsBetweenCommitAndDelete: kills.filter((k) => k.headCommitted).length,
        killedAt: kills.map((k) => `${k.atSeconds.toFixed(1)}s/${k.queueLength}`),
        seconds: drainSeconds,
        restartSeconds: restartMs / 1000,
        notificationsPerSecond: Math.round(TOTAL / drainSeconds),
        receiveRequests: stats.receive,
        deliveries: stats.deliveries,
        redeliveries: stats.deliveries - stats.delete,
        deletes: stats.delete,
        deleteUnknown: stats.deleteUnknown,
        rateLimited: stats.rateLimited,
        faults,
        faultsTotal: Object.values(faults).reduce((a, b) => a + b, 0),
        violations: stats.violations,
        verifyChecks: check.checks,
      };
      console.log(`greenapi polling crash test: ${JSON.stringify(summary)}`);
    },
    600_000,
  );
});
