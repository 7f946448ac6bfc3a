/**
 * Delivery metrics, registered in the instance's registry (`GET /metrics`): the webhook ones
 * always (subscriptions may be added at any time through the API), the NATS ones only with a
 * NATS sink.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryStore } from '../store/types.js';

export function createDeliveryMetrics(registry: Registry, db: () => DeliveryStore | undefined) {
  const registers = [registry];
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
    queueDepth: new Gauge({
      name: 'switchboard_delivery_queue_depth',
      help: 'Pending webhook deliveries (waiting for their first attempt or a retry), by subscription.',
      labelNames: ['subscription'] as const,
      registers,
      async collect() {
        const d = db();
        if (!d) return;
        this.reset();
        try {
          for (const [id, c] of await d.counts()) this.set({ subscription: id }, c.pending);
        } catch {
          // the store is closed
        }
      },
    }),
    failedDeliveries: new Gauge({
      name: 'switchboard_delivery_failed',
      help: 'Deliveries whose retries are exhausted (listed by GET /v1/subscriptions/:id/deliveries?status=failed), by subscription.',
      labelNames: ['subscription'] as const,
      registers,
      async collect() {
        const d = db();
        if (!d) return;
        this.reset();
        try {
          for (const [id, c] of await d.counts()) this.set({ subscription: id }, c.failed);
        } catch {
          // the store is closed
        }
      },
    }),
    subscriptionEnabled: new Gauge({
      name: 'switchboard_subscription_enabled',
      help: '1 when a webhook subscription is enabled, 0 when disabled (by the API, the config, a 410 or failing longer than delivery.disableAfter).',
      labelNames: ['subscription'] as const,
      registers,
      async collect() {
        const d = db();
        if (!d) return;
        this.reset();
        try {
          for (const s of await d.list()) this.set({ subscription: s.id }, s.enabled ? 1 : 0);
        } catch {
          // the store is closed
        }
      },
    }),
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
