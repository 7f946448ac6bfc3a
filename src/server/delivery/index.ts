/**
 * The delivery feature (docs/delivery.md): signed outgoing webhooks with an outbox written in
 * the commit transaction, retries and replay; and the NATS JetStream sink when `nats` is set.
 */
import { Lease, leaseTiming } from '../lease.js';
import type { Feature, FeatureContext } from '../feature.js';
import { createDeliveryMetrics, createNatsMetrics } from './metrics.js';
import { NatsSink } from './nats.js';
import { subscriptionRoutes } from './routes.js';
import type { Resolver } from './safety.js';
import { Webhooks } from './webhooks.js';

export { Webhooks } from './webhooks.js';
export { NatsSink, natsSubject } from './nats.js';
export { buildRequest, parseRetryAfter, signingSecrets } from './worker.js';
export { generateSecret, signatureHeader, signatureOf, secretProblem } from './signing.js';
export { nonPublicReason, resolvedProblem, safeLookup, urlProblem } from './safety.js';

export interface DeliveryFeature extends Feature {
  readonly webhooks: Webhooks;
}

/** Creates the delivery feature; `resolver` replaces the system name resolution (tests). */
export function createDelivery(ctx: FeatureContext, options: { resolver?: Resolver } = {}): DeliveryFeature {
  const metrics = createDeliveryMetrics(ctx.metrics.registry, () => ctx.store.delivery);
  const hooks = new Webhooks({
    config: ctx.config,
    store: ctx.store.delivery,
    bus: ctx.bus,
    logger: ctx.logger,
    metrics,
    // Read when the worker starts: tracing is loaded by the server's start.
    get tracing() {
      return ctx.tracing;
    },
    ...(options.resolver ? { resolver: options.resolver } : {}),
  });
  const nats = ctx.config.nats
    ? new NatsSink({
        config: ctx.config.nats,
        db: () => ctx.store.delivery,
        bus: ctx.bus,
        logger: ctx.logger,
        metrics: createNatsMetrics(ctx.metrics.registry),
        // A store several instances share: one of them at a time publishes.
        lease: ctx.store.leases && ctx.store.instanceId ? new Lease(ctx.store.leases, `sink:nats:${ctx.config.nats.stream}`, ctx.store.instanceId, ctx.logger, leaseTiming(ctx.config.store.leaseTtl)) : undefined,
      })
    : undefined;
  return {
    name: 'delivery',
    webhooks: hooks,
    routes: (v1) => subscriptionRoutes(v1, hooks),
    async start({ background }) {
      await hooks.start(background);
      if (background) nats?.start();
    },
    async close() {
      await nats?.close();
      await hooks.close();
    },
  };
}
