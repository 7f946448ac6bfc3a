/**
 * Prometheus metrics (prom-client), one registry per Switchboard instance so that several
 * instances in one process (tests, embedding) do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The `route` of requests that matched no route (the path itself is never a label). */
export const UNMATCHED_ROUTE = '(unmatched)';

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  // prom-client's own names begin process_ and nodejs_: switchboard_process_cpu_seconds_total, …
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
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
    overloads: new Counter({
      name: 'switchboard_overload_rejections_total',
      help: 'Ingest calls refused with 503 because the commit queue (server.maxPendingEvents) or the bytes in flight (server.maxBytesInFlight) were full.',
      registers,
    }),
    ingestBytesInFlight: new Gauge({
      name: 'switchboard_ingest_bytes_in_flight',
      help: 'Bytes of /ingest bodies being read or waiting for their commit; bounded by server.maxBytesInFlight.',
      registers,
    }),
    storeErrors: new Counter({
      name: 'switchboard_store_errors_total',
      help: 'Failed commit transactions, by kind: busy (locked by another connection; each retry counts), full (disk or size limit full), io (I/O error, read-only or damaged file), closed, batch (what one request carried; its group is split so that the others commit).',
      labelNames: ['kind'] as const,
      registers,
    }),
    streamClients: new Gauge({ name: 'switchboard_stream_clients', help: 'Open SSE connections on /v1/stream.', registers }),
    connectorUp: new Gauge({
      name: 'switchboard_connector_up',
      help: 'One series per configured connector. A pulled one (polling, WebSocket, pipe): 1 while connected, 0 before the first connect and while reconnecting. A push-only one: 1 while the HTTP server takes its ingest (listening, ingestToken set), else 0.',
      labelNames: ['connector'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: `HTTP requests by method, route pattern (e.g. /ingest/:connectorId; "${UNMATCHED_ROUTE}" when none matched) and status. Streams (/v1/stream) are not timed: see switchboard_stream_clients.`,
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    httpErrors: new Counter({ name: 'switchboard_http_errors_total', help: 'HTTP answers with an error status, by code.', labelNames: ['code'] as const, registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
