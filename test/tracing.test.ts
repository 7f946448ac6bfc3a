/**
 * OpenTelemetry tracing (issue 18): one trace from the ingest request (continuing the sender's
 * `traceparent`) through normalize and commit to each delivery attempt, whose own `traceparent`
 * reaches the webhook receiver; off by default; exported over OTLP/HTTP to a real collector
 * endpoint on loopback. Spans are read from the SDK's in-memory exporter.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSwitchboard, type SwitchboardConfigInput } from '../src/index.js';
import { testStoreFor } from './helpers/postgres.js';
import { API_TOKEN, INGEST_TOKEN, waMessage } from './helpers/sb.js';
import { startReceiver, waitFor, type Receiver } from './helpers/receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SENDER_TRACE = 'a3ce929d0e0e47364bf92f3577b34da6';
const SENDER_SPAN = '00f067aa0ba902b7';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(config: SwitchboardConfigInput, provider?: BasicTracerProvider) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-tracing-'));
  const store = await testStoreFor(dir, join(dir, 'sb.db')); // SQLite, or a PostgreSQL database (SWITCHBOARD_TEST_STORE)
  const sb = createSwitchboard(
    {
      server: { port: 0, apiToken: API_TOKEN },
      store: store.store,
      connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }],
      dataDir: dir,
      ...config,
      delivery: { allowPrivateTargets: true, retrySchedule: ['0ms', '50ms', '50ms'], timeout: '2s' },
    },
    { logger: pino({ level: 'silent' }), processMetrics: false, env: {}, ...(provider ? { tracerProvider: provider } : {}) },
  );
  await sb.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await sb.close();
    await store.release();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(close);
  const ingest = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sb.url ?? ''}/ingest/wa`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const events = async () => ((await (await fetch(`${sb.url ?? ''}/v1/events`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as { events: Record<string, unknown>[] }).events;
  return { sb, ingest, events, close };
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  r.secrets = [SECRET];
  cleanups.push(() => r.close());
  return r;
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('follows a payload from the sender’s traceparent through normalize and commit to every delivery attempt, and passes the attempt’s traceparent to the receiver', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const hook = await receiver();
    hook.decide = ({ n }) => ({ status: n === 1 ? 500 : 200 });
    const t = await start({ subscriptions: [{ id: 'crm', url: hook.url, secret: SECRET }] }, provider);

    const res = await t.ingest(waMessage('traced'), { traceparent: `00-${SENDER_TRACE}-${SENDER_SPAN}-01` });
    expect(res.status).toBe(200);
    await waitFor(() => hook.received.some((r) => r.ok), 10_000, () => `${hook.received.length} requests`);
    await waitFor(() => exporter.getFinishedSpans().filter((s) => s.name === 'webhook POST').length === 2, 10_000);

    const spans = exporter.getFinishedSpans();
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([SENDER_TRACE]));
    const ingest = spans.find((s) => s.name === 'POST /ingest/:connectorId');
    expect(ingest?.kind).toBe(SpanKind.SERVER);
    expect(parentOf(ingest as ReadableSpan)).toBe(SENDER_SPAN);
    expect(ingest?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/ingest/:connectorId', 'http.response.status_code': 200, 'switchboard.connector.id': 'wa' });
    const ingestId = ingest?.spanContext().spanId;
    const normalize = spans.find((s) => s.name === 'switchboard.normalize');
    const commit = spans.find((s) => s.name === 'switchboard.commit');
    expect(parentOf(normalize as ReadableSpan)).toBe(ingestId);
    expect(normalize?.attributes).toMatchObject({ 'switchboard.payloads': 1, 'switchboard.events': 1, 'switchboard.rejected': 0 });
    expect(parentOf(commit as ReadableSpan)).toBe(ingestId);
    expect(commit?.attributes).toMatchObject({ 'switchboard.events': 1, 'switchboard.events.stored': 1 });

    // The stored event carries the ingest's context: the delivery attempts continue it.
    const [event] = await t.events();
    expect(event?.traceparent).toBe(`00-${SENDER_TRACE}-${ingestId}-01`);

    const attempts = spans.filter((s) => s.name === 'webhook POST').sort((a, b) => Number(a.attributes['switchboard.delivery.attempt']) - Number(b.attributes['switchboard.delivery.attempt']));
    expect(attempts.map((s) => [s.kind, parentOf(s), s.attributes['switchboard.delivery.attempt'], s.attributes['http.response.status_code'], s.status.code])).toEqual([
      [SpanKind.CLIENT, ingestId, 1, 500, SpanStatusCode.ERROR],
      [SpanKind.CLIENT, ingestId, 2, 200, SpanStatusCode.UNSET],
    ]);
    expect(attempts[0]?.attributes).toMatchObject({ 'url.full': hook.url, 'switchboard.subscription.id': 'crm', 'switchboard.event.id': event?.id });
    // Each request names its own attempt as the parent; the signature still verifies.
    expect(hook.received.map((r) => r.headers.traceparent)).toEqual(attempts.map((s) => `00-${SENDER_TRACE}-${s.spanContext().spanId}-01`));
    expect(hook.received.every((r) => r.verifiedWith === 0)).toBe(true);
  });

  it('gives a batch that no request brought (sb.ingest, pulled connectors, replay) a trace of its own', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await start({}, new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    await t.sb.ingest('wa', waMessage('library'));
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'ingest wa');
    expect(root?.parentSpanContext).toBeUndefined();
    expect(spans.filter((s) => parentOf(s) === root?.spanContext().spanId).map((s) => s.name).sort()).toEqual(['switchboard.commit', 'switchboard.normalize']);
    const [event] = await t.events();
    expect(event?.traceparent).toBe(`00-${root?.spanContext().traceId}-${root?.spanContext().spanId}-01`);
  });

  it('is off by default: no trace context on events, none sent to receivers unless the sender’s event had one', async () => {
    const hook = await receiver();
    const t = await start({ subscriptions: [{ id: 'crm', url: hook.url, secret: SECRET }] });
    expect((await t.ingest(waMessage('untraced'), { traceparent: `00-${SENDER_TRACE}-${SENDER_SPAN}-01` })).status).toBe(200);
    await waitFor(() => hook.received.length === 1, 10_000);
    const [event] = await t.events();
    expect(event && 'traceparent' in event).toBe(false);
    expect(hook.received[0]?.headers.traceparent).toBeUndefined();
  });

  it('exports over OTLP/HTTP to the configured endpoint, with the service name, and flushes on close', async () => {
    const posts: { path: string | undefined; type: string | undefined; body: string }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({ path: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => collector.close(() => r())));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const t = await start({ tracing: { enabled: true, endpoint, serviceName: 'switchboard-test', headers: { 'x-api-key': 'collector-key' } } });
    expect((await t.ingest(waMessage('exported'))).status).toBe(200);
    await t.close();

    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((p) => p.path === '/v1/traces' && p.type?.startsWith('application/json'))).toBe(true);
    type Otlp = { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] };
    const batches = posts.map((p) => JSON.parse(p.body) as Otlp);
    const resources = batches.flatMap((b) => b.resourceSpans);
    expect(resources.every((r) => r.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'switchboard-test'))).toBe(true);
    const names = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)));
    expect(names.sort()).toEqual(['POST /ingest/:connectorId', 'switchboard.commit', 'switchboard.normalize']);
  });
});
