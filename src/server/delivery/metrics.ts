/**
 * Delivery metrics, registered in the instance's registry (`GET /metrics`): the webhook ones
 * always (subscriptions may be added at any time through the API), the NATS ones only with a
 * NATS sink.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryStore } from '../store/types.js';

/**
 * A store read shared by the gauges of one scrape (prom-client collects them one after another):
 * reused while it runs and for a moment after, so that a scrape groups the outbox once.
 */
function sharedRead<T>(read: () => Promise<T>, ttlMs = 500): () => Promise<T> {
  let last: { readonly at: number; readonly value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) last = { at: now, value: read() };
    return last.value;
  };
}

/** A per-subscription gauge whose values are read from the store at each scrape (none while the store is closed). */
function storeGauge(registers: Registry[], name: string, help: string, values: () => Promise<Iterable<readonly [string, number]>>) {
  return new Gauge({
    name,
    help,
    labelNames: ['subscription'] as const,
    registers,
    async collect() {
      this.reset();
      try {
        for (const [subscription, v] of await values()) this.set({ subscription }, v);
      } catch {
        // the store is closed
      }
    },
  });
}

export function createDeliveryMetrics(registry: Registry, db: () => DeliveryStore | undefined) {
  const registers = [registry];
  const counts = sharedRead(async () => (await db()?.counts()) ?? new Map<string, Record<'pending' | 'delivered' | 'failed', number>>());
  return {
    deliveries: new Counter({
      name: 'switchboard_deliveries_total',
      help: 'Webhook delivery attempts by subscription and result: delivered, failed (will retry), exhausted (no retry left), gone (410, subscription disabled).',
      labelNames: ['subscription', 'result'] as const,
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'switchboard_delivery_attempt_seconds',
      help: 'Duration of webhook delivery attempts.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    inFlight: new Gauge({ name: 'switchboard_delivery_in_flight', help: 'Webhook requests in flight.', registers }),
    queueDepth: storeGauge(registers, 'switchboard_delivery_queue_depth', 'Pending webhook deliveries (waiting for their first attempt or a retry), by subscription.', async () =>
      [...(await counts())].map(([id, c]) => [id, c.pending] as const),
    ),
    failedDeliveries: storeGauge(registers, 'switchboard_delivery_failed', 'Deliveries whose retries are exhausted (listed by GET /v1/subscriptions/:id/deliveries?status=failed), by subscription.', async () =>
      [...(await counts())].map(([id, c]) => [id, c.failed] as const),
    ),
    subscriptionEnabled: storeGauge(
      registers,
      'switchboard_subscription_enabled',
      '1 when a webhook subscription is enabled, 0 when disabled (by the API, the config, a 410 or failing longer than delivery.disableAfter).',
      async () => ((await db()?.list()) ?? []).map((sub) => [sub.id, sub.enabled ? 1 : 0] as const),
    ),
    subscriptionsDisabled: new Counter({
      name: 'switchboard_subscriptions_disabled_total',
      help: 'Subscriptions disabled automatically, by reason: gone (the target answered 410) or failing (longer than delivery.disableAfter).',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}

export type DeliveryMetrics = ReturnType<typeof createDeliveryMetrics>;

/** NATS sink metrics, registered only when `nats` is configured. */
export function createNatsMetrics(registry: Registry) {
  const registers = [registry];
  return {
    natsPublished: new Counter({
      name: 'switchboard_nats_published_total',
      help: 'Events published to NATS JetStream, by result: stored, duplicate (already in the stream: a republish after a crash), too-large (over the server max_payload, skipped).',
      labelNames: ['result'] as const,
      registers,
    }),
    natsConnected: new Gauge({ name: 'switchboard_nats_connected', help: '1 while the NATS connection is up.', registers }),
    natsLag: new Gauge({ name: 'switchboard_nats_lag', help: 'Committed events not yet acknowledged by JetStream.', registers }),
  };
}

export type NatsMetrics = ReturnType<typeof createNatsMetrics>;
