/**
 * GET /metrics of a real running server: one `switchboard_` prefix on the process metrics, HTTP
 * request durations by route pattern and status, a `switchboard_connector_up` series for every
 * connector from the start, and NATS metrics only when NATS is configured.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { GreenApiSimulator } from '../src/connectors/greenapi/simulator.js';
import { createDeliveryMetrics } from '../src/server/delivery/metrics.js';
import { SqliteStore } from '../src/server/store/sqlite/index.js';
import { apiHeaders, ingestHeaders, startTestServer, waMessage, type TestServer } from './helpers/sb.js';

interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of one metric in the Prometheus text format. */
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const address = s.address();
  await new Promise((r) => s.close(r));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

describe('GET /metrics', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function server(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
    const t = await startTestServer(...args);
    cleanup.push(() => t.close());
    return t;
  }
  const metrics = async (t: TestServer) => (await fetch(`${t.url}/metrics`)).text();

  it('names the Node process metrics with one switchboard_ prefix', async () => {
    const t = await server({}, { processMetrics: true });
    const text = await metrics(t);
    expect(text).toMatch(/^switchboard_process_cpu_seconds_total \S+$/m);
    expect(text).toMatch(/^switchboard_process_resident_memory_bytes \S+$/m);
    expect(text).toMatch(/^switchboard_nodejs_eventloop_lag_seconds \S+$/m);
    expect(text).not.toContain('switchboard_process_process_');
    expect(text).not.toContain('switchboard_process_nodejs_');
  });

  it('times HTTP requests by route pattern, method and status, with one label for every unmatched route', async () => {
    const t = await server();
    const post = (connector: string) => fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(waMessage()) });
    expect((await post('wa')).status).toBe(200);
    expect((await post('wa')).status).toBe(200);
    expect((await post('not-configured')).status).toBe(404);
    expect((await fetch(`${t.url}/no/such/route`)).status).toBe(404);
    expect((await fetch(`${t.url}/another-missing-route?x=1`)).status).toBe(404);
    expect((await fetch(`${t.url}/v1/events/00000000-0000-8000-8000-000000000000`, { headers: apiHeaders })).status).toBe(404);
    const text = await metrics(t);
    const name = 'switchboard_http_request_duration_seconds_count';
    expect(valueOf(text, name, { method: 'POST', route: '/ingest/:connectorId', status: '200' })).toBe(2);
    expect(valueOf(text, name, { method: 'POST', route: '/ingest/:connectorId', status: '404' })).toBe(1);
    expect(valueOf(text, name, { method: 'GET', route: '(unmatched)', status: '404' })).toBe(2);
    expect(valueOf(text, name, { method: 'GET', route: '/v1/events/:id', status: '404' })).toBe(1);
    expect(samples(text, 'switchboard_http_request_duration_seconds_bucket').length).toBeGreaterThan(0);
    // Never a raw URL: ids and unknown paths cannot grow the series.
    const routes = new Set(samples(text, name).map((s) => s.labels.route));
    for (const raw of ['/ingest/wa', '/ingest/not-configured', '/no/such/route', '/another-missing-route']) expect(routes.has(raw)).toBe(false);
    expect(text).not.toContain('00000000-0000-8000-8000-000000000000');
  });

  it('has a switchboard_connector_up series for every connector from the start: 0 until a pulled one connects, 1 for a push one that takes ingest', async () => {
    const sim = new GreenApiSimulator({ instances: [{ idInstance: '7700000011', apiTokenInstance: 'metrics-sim-token' }] });
    await sim.start();
    cleanup.push(() => sim.close());
    sim.enqueue('7700000011', waMessage('answered at once'));
    const dead = await closedPort();
    const t = await server({
      connectors: [
        { id: 'wa-push', platform: 'greenapi', ingestToken: 'metrics-ingest-token-0123' },
        { id: 'wa-dead', platform: 'greenapi', callerNames: false, polling: { apiUrl: `http://127.0.0.1:${dead}`, idInstance: '7700000012', apiTokenInstance: 'x', receiveTimeout: 5 } },
        { id: 'wa-live', platform: 'greenapi', callerNames: false, polling: { apiUrl: sim.url, idInstance: '7700000011', apiTokenInstance: 'metrics-sim-token', receiveTimeout: 5 } },
      ] as never,
    });
    const up = async (connector: string) => valueOf(await metrics(t), 'switchboard_connector_up', { connector });
    expect(await up('wa-push')).toBe(1);
    expect(await up('wa-dead')).toBe(0);
    await expect.poll(() => up('wa-live'), { timeout: 15_000 }).toBe(1);
    expect(await up('wa-dead')).toBe(0);
    expect(samples(await metrics(t), 'switchboard_connector_up').map((s) => s.labels.connector).sort()).toEqual(['wa-dead', 'wa-live', 'wa-push']);
  });

  it('registers the NATS metrics only when NATS is configured', async () => {
    const without = await server();
    const text = await metrics(without);
    expect(text).not.toContain('switchboard_nats_');
    expect(text).toContain('switchboard_deliveries_total');
    const port = await closedPort();
    const withNats = await server({ nats: { url: `nats://127.0.0.1:${port}` } });
    const natsText = await metrics(withNats);
    expect(natsText).toMatch(/^switchboard_nats_connected 0$/m);
    expect(natsText).toContain('# TYPE switchboard_nats_published_total counter');
    expect(natsText).toMatch(/^switchboard_nats_lag \d+$/m);
  });
});

describe('delivery gauges', () => {
  it('read the outbox counts once per scrape for both the queue-depth and the failed gauges', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    try {
      await store.delivery.put({ id: 's1', origin: 'api', url: 'https://example.com/hook', filters: {}, mode: 'structured', ordered: false, secrets: [], description: undefined, enabled: true, disabledReason: undefined });
      let reads = 0;
      const d = store.delivery;
      const counting = new Proxy(d, {
        get(target, key) {
          if (key === 'counts') {
            return async () => {
              reads++;
              return target.counts();
            };
          }
          const v: unknown = Reflect.get(target, key);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const registry = new Registry();
      createDeliveryMetrics(registry, () => counting);
      const text = await registry.metrics();
      expect(reads).toBe(1);
      expect(samples(text, 'switchboard_delivery_queue_depth')).toEqual([{ labels: { subscription: 's1' }, value: 0 }]);
      expect(samples(text, 'switchboard_delivery_failed')).toEqual([{ labels: { subscription: 's1' }, value: 0 }]);
      expect(samples(text, 'switchboard_subscription_enabled')).toEqual([{ labels: { subscription: 's1' }, value: 1 }]);
    } finally {
      await store.close();
    }
  });
});
