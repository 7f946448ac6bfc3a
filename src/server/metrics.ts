/**
 * Prometheus metrics (prom-client), one registry per Switchboard instance so that several
 * instances in one process (tests, embedding) do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'switchboard_process_' });
  const registers = [registry];
  return {
    registry,
    ingestItems: new Counter({
      name: 'switchboard_ingest_items_total',
      help: 'Native payloads received, by connector and result (accepted, duplicate, rejected).',
      labelNames: ['connector', 'result'] as const,
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'switchboard_commit_seconds',
      help: 'Time of one group commit (transaction and fsync).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    commitBatchEvents: new Histogram({
      name: 'switchboard_commit_batch_items',
      help: 'Events and quarantined items per group commit.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
      registers,
    }),
    ingestRefused: new Counter({
      name: 'switchboard_ingest_refused_total',
      help: 'POST /ingest requests refused, by connector ("(unknown)" when not configured) and reason: auth, unknown-connector, content-type, too-large.',
      labelNames: ['connector', 'reason'] as const,
      registers,
    }),
    overloads: new Counter({ name: 'switchboard_overload_rejections_total', help: 'Ingest calls refused with 503 because the commit queue was full.', registers }),
    streamClients: new Gauge({ name: 'switchboard_stream_clients', help: 'Open SSE connections on /v1/stream.', registers }),
    connectorUp: new Gauge({ name: 'switchboard_connector_up', help: '1 when a pulled connector is connected.', labelNames: ['connector'] as const, registers }),
    httpErrors: new Counter({ name: 'switchboard_http_errors_total', help: 'HTTP answers with an error status, by code.', labelNames: ['code'] as const, registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
