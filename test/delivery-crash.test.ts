/**
 * Done-when 1 of issue 8, end to end: the real CLI server (`serve --config`) delivers to a
 * receiver that verifies every request with `standardwebhooks` and parses it with `cloudevents`,
 * while the receiver answers 500s, times out and resets connections, and while the server is
 * SIGKILLed and restarted again and again under ingest load. Counted by event id, every
 * committed event reaches the receiver, and every attempt of an event carries the same
 * `webhook-id` (the event id).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeHttp, fetchAllEvents, freePort, greenApiMessage, http, killAllChildren, makeTempDir, releaseDataStores, removeTempDirs, sleep, startServerWith, type Server } from './helpers/process.js';
import { startReceiver, waitFor, type Answer, type Receiver } from './helpers/receiver.js';

const API_TOKEN = 'crash-delivery-api-token-0123';
const INGEST_TOKEN = 'crash-delivery-ingest-token-0123';
const SECRET = `whsec_${Buffer.from('switchboard-delivery-crash-test-key!').toString('base64')}`;
const PAYLOADS = 400;
const WORKERS = 4;
const MIN_KILLS = 4;

function randInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

describe('delivery across failures and SIGKILLs', () => {
  let dir = '';
  let receiver: Receiver;

  beforeAll(async () => {
    assertBuilt();
    dir = makeTempDir('switchboard-delivery-crash-');
    receiver = await startReceiver();
    receiver.secrets = [SECRET];
  });
  afterAll(async () => {
    await killAllChildren();
    await receiver.close();
    await closeHttp();
    await releaseDataStores();
    removeTempDirs();
  });

  it(
    'delivers every committed event, each attempt with the same webhook-id, through 500s, timeouts, resets and restarts',
    async () => {
      const started = Date.now();
      // The receiver fails half of the requests, in three ways.
      receiver.decide = (): Answer => {
        const x = Math.random();
        if (x < 0.3) return { status: 500 };
        if (x < 0.4) return 'reset';
        if (x < 0.5) return { status: 200, delayMs: 700 }; // past delivery.timeout
        return { status: 200 };
      };
      const config = join(dir, 'switchboard.json');
      writeFileSync(
        config,
        JSON.stringify({
          server: { apiToken: API_TOKEN },
          log: { level: 'warn' },
          connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
          subscriptions: [{ id: 'crm', url: receiver.url, secret: SECRET }],
          delivery: { allowPrivateTargets: true, retrySchedule: ['0ms', ...Array<string>(40).fill('100ms')], timeout: '300ms', concurrencyPerTarget: 8 },
        }),
      );
      const port = await freePort();
      const start = async (): Promise<Server> => {
        let last: unknown;
        for (let i = 0; i < 10; i++) {
          try {
            return await startServerWith(['serve', '--config', config, '--data', dir, '--port', String(port)]);
          } catch (err) {
            last = err; // the port not yet released by the killed process
            await sleep(200);
          }
        }
        throw last;
      };
      let server = await start();
      const ingestUrl = () => `${server.url}/ingest/wa`;

      // ── the load: payloads POSTed until acknowledged ──────────────────────────────────────
      let next = 0;
      const acked = new Set<number>();
      let networkErrors = 0;
      let kills = 0;
      let fatal: Error | undefined;
      const worker = async (): Promise<void> => {
        while (!fatal && (next < PAYLOADS || false)) {
          const batch: number[] = [];
          for (let n = randInt(1, 8); n > 0 && next < PAYLOADS; n--) batch.push(next++);
          const body = JSON.stringify(batch.map((i) => greenApiMessage(`DC-${i}`, i)));
          for (;;) {
            try {
              const res = await http('POST', ingestUrl(), { token: INGEST_TOKEN, body, timeoutMs: 5000 });
              if (res.status === 200) break;
              if (res.status !== 503) throw new Error(`ingest answered ${res.status}: ${res.text}`);
            } catch (err) {
              if (err instanceof Error && err.message.startsWith('ingest answered')) {
                fatal = err;
                return;
              }
              networkErrors++;
            }
            await sleep(randInt(20, 60));
          }
          for (const i of batch) acked.add(i);
          // Slow enough that the load spans several kills.
          await sleep(kills < MIN_KILLS ? randInt(60, 140) : randInt(5, 20));
        }
      };
      let loadDone = false;
      const load = Promise.all(Array.from({ length: WORKERS }, () => worker())).finally(() => {
        loadDone = true;
      });

      // ── the killer ────────────────────────────────────────────────────────────────────────
      const killer = (async () => {
        while (!fatal && (!loadDone || kills < MIN_KILLS)) {
          await sleep(randInt(800, 1600));
          const exit = await server.child.kill('SIGKILL');
          if (exit.signal !== 'SIGKILL') throw new Error(`the server exited on its own: ${JSON.stringify(exit)}\n${server.child.stderr}`);
          kills++;
          server = await start();
        }
      })().catch((err: unknown) => {
        fatal = err instanceof Error ? err : new Error(String(err));
      });
      await Promise.all([load, killer]);
      if (fatal) throw fatal;
      const loadSeconds = (Date.now() - started) / 1000;

      // ── every stored event reaches the receiver ───────────────────────────────────────────
      const events = await fetchAllEvents(server.url, API_TOKEN);
      expect(acked.size).toBe(PAYLOADS);
      expect(events).toHaveLength(PAYLOADS);
      const ids = new Set(events.map((e) => e.id));
      await waitFor(
        () => [...ids].every((id) => receiver.deliveredIds().has(id)),
        45_000,
        () => `${[...ids].filter((id) => !receiver.deliveredIds().has(id)).length} of ${ids.size} events not delivered`,
      );
      const delivered = receiver.deliveredIds();
      const missing = [...ids].filter((id) => !delivered.has(id));
      const unknown = [...delivered.keys()].filter((id) => !ids.has(id));
      expect(missing).toEqual([]);
      expect(unknown).toEqual([]);

      // Every request verified, parsed, and carried the event id as webhook-id — retries too.
      const requests = receiver.received;
      expect(requests.filter((r) => r.verifyError !== undefined).map((r) => r.verifyError)).toEqual([]);
      expect(requests.filter((r) => r.parseError !== undefined).map((r) => r.parseError)).toEqual([]);
      const webhookIds = new Map<string, Set<string>>();
      for (const r of requests) {
        const id = r.event?.id ?? '';
        webhookIds.set(id, (webhookIds.get(id) ?? new Set()).add(r.webhookId));
      }
      for (const [id, seen] of webhookIds) expect([...seen], id).toEqual([id]);
      const attemptsPerEvent = [...webhookIds.keys()].map((id) => requests.filter((r) => r.event?.id === id).length);
      const retried = attemptsPerEvent.filter((n) => n > 1).length;
      expect(retried).toBeGreaterThan(50);
      expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(networkErrors).toBeGreaterThan(0);

      // After the queue drained, nothing is pending or failed.
      await waitFor(
        async () => {
          const r = await http('GET', `${server.url}/v1/subscriptions/crm`, { token: API_TOKEN });
          const d = (r.json as { deliveries: { pending: number; failed: number } }).deliveries;
          return d.pending === 0 && d.failed === 0;
        },
        10_000,
      );
      const answers = { ok: 0, status500: 0, reset: 0, slow: 0 };
      for (const r of requests) {
        if (r.answer === 'reset') answers.reset++;
        else if (r.answer.delayMs) answers.slow++;
        else if (r.answer.status === 500) answers.status500++;
        else answers.ok++;
      }
      const summary = {
        events: PAYLOADS,
        kills,
        requests: requests.length,
        answers,
        eventsRetried: retried,
        duplicatesAccepted: [...delivered.values()].filter((n) => n > 1).length,
        networkErrors,
        loadSeconds,
        totalSeconds: (Date.now() - started) / 1000,
      };
      console.log(`delivery crash test: ${JSON.stringify(summary)}`);
      expect(summary.totalSeconds).toBeLessThan(90);
    },
    120_000,
  );
});
