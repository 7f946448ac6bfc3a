/**
 * DESIGN §5 "Ack after commit", end to end: the real CLI server is SIGKILLed again and again
 * under sustained ingest and restarted on the same data folder and port; senders retry whatever
 * was not acknowledged. Afterwards every acknowledged payload is stored exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  closeHttp,
  fetchAllEvents,
  freePort,
  greenApiMessage,
  http,
  killAllChildren,
  makeTempDir,
  readApiToken,
  releaseDataStores,
  removeTempDirs,
  sleep,
  startServer,
  type Server,
} from './helpers/process.js';
import { TEST_STORE } from './helpers/postgres.js';

const WORKERS = 8;
/** On PostgreSQL (the suite's second pass), where a commit and a restart take longer here, half as many: the same 5 kills. */
const MIN_PAYLOADS = TEST_STORE === 'postgres' ? 1500 : 3000;
const MAX_PAYLOADS = 6000;
const MIN_KILLS = 5;
/** Pause of each sender between two batches, so that the load outlasts several kill cycles. */
const PACE_MS: readonly [number, number] = [20, 80];
const KILL_EVERY_MS: readonly [number, number] = [300, 900];

function randInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

interface IngestAnswer {
  accepted: number;
  duplicates: number;
  events: number;
  rejected: unknown[];
}

function isIngestAnswer(v: unknown): v is IngestAnswer {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.accepted === 'number' && typeof o.duplicates === 'number' && typeof o.events === 'number' && Array.isArray(o.rejected);
}

async function startWithRetry(dataDir: string, port: number): Promise<Server> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startServer(dataDir, port);
    } catch (err) {
      last = err; // e.g. the port not yet released by the killed process
      await sleep(200);
    }
  }
  throw last;
}

describe('crash safety (SIGKILL under load)', () => {
  let dataDir = '';

  beforeAll(() => {
    assertBuilt();
    dataDir = makeTempDir('switchboard-crash-');
  });

  afterAll(async () => {
    await killAllChildren();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it(
    'stores every acknowledged payload exactly once across repeated SIGKILLs',
    async () => {
      const started = Date.now();
      const port = await freePort();
      let server = await startWithRetry(dataDir, port);
      const token = readApiToken(dataDir);
      const ingestUrl = `${server.url}/ingest/greenapi`;

      // ── the load ──────────────────────────────────────────────────────────────────────────
      const payloads: string[] = []; // index → JSON of the payload with idMessage MSG-<index>
      const acked = new Set<number>();
      let kills = 0;
      let inFlight = 0;
      const inFlightAtKill: number[] = [];
      const stats = { requests: 0, networkErrors: 0, non200: new Map<number, number>(), acceptedSum: 0, duplicateSum: 0 };
      let fatal: Error | undefined;

      const nextBatch = (): number[] | undefined => {
        const n = payloads.length;
        if (fatal || n >= MAX_PAYLOADS || (n >= MIN_PAYLOADS && kills >= MIN_KILLS)) return undefined;
        const size = Math.min(randInt(1, 20), MAX_PAYLOADS - n);
        const batch: number[] = [];
        for (let i = 0; i < size; i++) {
          const index = payloads.length;
          payloads.push(JSON.stringify(greenApiMessage(`MSG-${index}`, index)));
          batch.push(index);
        }
        return batch;
      };

      /** POSTs one batch until it is acknowledged with a 200 that accounts for every payload. */
      const deliver = async (batch: readonly number[]): Promise<void> => {
        const body = `[${batch.map((i) => payloads[i] as string).join(',')}]`;
        for (;;) {
          if (fatal) return;
          stats.requests++;
          inFlight++;
          let answer: Awaited<ReturnType<typeof http>> | undefined;
          try {
            answer = await http('POST', ingestUrl, { token, body, timeoutMs: 10_000 });
          } catch {
            stats.networkErrors++; // refused while down, reset by the kill, …
          } finally {
            inFlight--;
          }
          if (!answer) {
            await sleep(randInt(20, 80));
            continue;
          }
          const { status, json, text } = answer;
          if (status === 200) {
            if (!isIngestAnswer(json) || json.accepted + json.duplicates !== batch.length || json.rejected.length !== 0) {
              fatal = new Error(`unexpected 200 answer for a batch of ${batch.length}: ${text}`);
              return;
            }
            stats.acceptedSum += json.accepted;
            stats.duplicateSum += json.duplicates;
            for (const i of batch) acked.add(i);
            return;
          }
          stats.non200.set(status, (stats.non200.get(status) ?? 0) + 1);
          if (status !== 429 && status !== 503) {
            fatal = new Error(`POST /ingest/greenapi answered ${status}: ${text}`);
            return;
          }
          await sleep(randInt(20, 80));
        }
      };

      const worker = async (): Promise<void> => {
        for (let batch = nextBatch(); batch; batch = nextBatch()) {
          await deliver(batch);
          // Enough payloads but not yet enough kills: keep the load going, more slowly, so that
          // a slow machine (slow restarts) still sees every kill under load before MAX_PAYLOADS.
          const slow = payloads.length >= MIN_PAYLOADS && kills < MIN_KILLS;
          await sleep(slow ? randInt(150, 300) : randInt(PACE_MS[0], PACE_MS[1]));
        }
      };

      let loadDone = false;
      const load = Promise.all(Array.from({ length: WORKERS }, () => worker())).finally(() => {
        loadDone = true;
      });

      // ── the killer ────────────────────────────────────────────────────────────────────────
      const killer = (async () => {
        try {
          await killLoop();
        } catch (err) {
          // Stop the senders too, so that nothing keeps running after the test fails.
          fatal = err instanceof Error ? err : new Error(String(err));
        }
      })();
      async function killLoop(): Promise<void> {
        while (!loadDone && !fatal) {
          await sleep(randInt(KILL_EVERY_MS[0], KILL_EVERY_MS[1]));
          if (loadDone || fatal) break;
          // Prefer a moment with requests on the wire (senders pause between batches).
          for (let waited = 0; inFlight === 0 && waited < 200 && !loadDone; waited++) await sleep(1);
          inFlightAtKill.push(inFlight);
          const exit = await server.child.kill('SIGKILL');
          if (exit.signal !== 'SIGKILL') throw new Error(`server exited on its own before the kill: ${JSON.stringify(exit)}\n${server.child.stderr}`);
          kills++;
          server = await startWithRetry(dataDir, port);
        }
      }

      await Promise.all([load, killer]);
      if (fatal) throw fatal;
      const loadSeconds = (Date.now() - started) / 1000;

      // One more kill right after the last acknowledgement: what was acked must survive it too.
      await server.child.kill('SIGKILL');
      server = await startWithRetry(dataDir, port);

      // ── the checks ────────────────────────────────────────────────────────────────────────
      const total = payloads.length;
      expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(total).toBeGreaterThanOrEqual(MIN_PAYLOADS);
      expect(total).toBeLessThanOrEqual(MAX_PAYLOADS);
      expect(acked.size).toBe(total);
      // The kills did interrupt the load: some requests were lost and retried.
      expect(stats.networkErrors).toBeGreaterThan(0);

      const events = await fetchAllEvents(server.url, token);
      const perMessage = new Map<string, number>();
      const ids = new Set<string>();
      let previous = 0n;
      for (const e of events) {
        expect(e.type).toBe('message.created');
        const seq = BigInt(e.sequence);
        expect(seq > previous, `sequence ${e.sequence} after ${previous}`).toBe(true);
        previous = seq;
        ids.add(e.id);
        const messageId = String(e.data.messageId);
        perMessage.set(messageId, (perMessage.get(messageId) ?? 0) + 1);
      }
      const duplicated = [...perMessage].filter(([, n]) => n > 1).map(([id]) => id);
      const missing = [...acked].map((i) => `MSG-${i}`).filter((id) => !perMessage.has(id));
      const unknown = [...perMessage.keys()].filter((id) => !/^MSG-\d+$/.test(id) || Number(id.slice(4)) >= total);
      expect(duplicated, 'messages stored more than once').toEqual([]);
      expect(missing, 'acknowledged messages not stored').toEqual([]);
      expect(unknown, 'stored messages never sent').toEqual([]);
      expect(ids.size).toBe(events.length);
      expect(events.length).toBe(total);
      // Every payload was newly accepted exactly once or found already committed (ack lost to a kill).
      expect(stats.acceptedSum).toBeLessThanOrEqual(total);
      expect(stats.acceptedSum + stats.duplicateSum).toBeGreaterThanOrEqual(total);

      // Ids are stable across restarts: an early payload sent again is a duplicate.
      const again = await http('POST', `${server.url}/ingest/greenapi`, { token, body: payloads[0] as string });
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ accepted: 0, duplicates: 1, events: 0, rejected: [] });
      const againBatch = await http('POST', `${server.url}/ingest/greenapi`, { token, body: `[${payloads.slice(0, 20).join(',')}]` });
      expect(againBatch.json).toMatchObject({ accepted: 0, duplicates: 20, events: 0 });

      const summary = {
        payloads: total,
        kills,
        inFlightAtKill,
        requests: stats.requests,
        networkErrors: stats.networkErrors,
        non200: Object.fromEntries(stats.non200),
        acceptedInAcks: stats.acceptedSum,
        duplicatesInAcks: stats.duplicateSum,
        loadSeconds,
        totalSeconds: (Date.now() - started) / 1000,
      };
      console.log(`crash test: ${JSON.stringify(summary)}`);
    },
    180_000,
  );
});
