/**
 * `/v1/subscriptions` (docs/delivery.md): list, create, read, change, delete, rotate the
 * secret, list deliveries with their attempts, replay a range.
 */
import * as z from 'zod/mini';
import { SwitchboardError, describeIssues } from '../../core/index.js';
import type { V1Scope } from '../feature.js';
import { formatSequence } from '../store/types.js';
import { filtersSchema, parseDuration, SUBSCRIPTION_MODES, subscriptionFields, subscriptionId, webhookSecret } from './config.js';
import type { AttemptRow, DeliveryStatus, OutboxRow, Subscription } from './types.js';
import { secretHint } from './signing.js';
import type { Webhooks } from './webhooks.js';

const createSchema = z.strictObject({ id: z.optional(subscriptionId), ...subscriptionFields });

const patchSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  url: z.optional(subscriptionFields.url),
  filters: z.optional(filtersSchema),
  mode: z.optional(z.enum(SUBSCRIPTION_MODES)),
  ordered: z.optional(z.boolean()),
  description: z.optional(z.string().check(z.maxLength(500))),
});

const sequenceValue = z.pipe(
  z.unknown().check(z.refine((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,16}$/.test(v)), 'a sequence (a non-negative integer, or its digits as a string)')),
  z.transform((v) => Number(v)),
);
const timeValue = z.pipe(
  z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time such as "2024-05-01T10:00:00Z"')),
  z.transform((s) => new Date(s).toISOString()),
);
const replaySchema = z.strictObject({
  fromSequence: z.optional(sequenceValue),
  toSequence: z.optional(sequenceValue),
  fromTime: z.optional(timeValue),
  toTime: z.optional(timeValue),
  onlyFailed: z.optional(z.boolean()),
});

const rotateSchema = z.strictObject({
  secret: z.optional(webhookSecret),
  previousValidFor: z.optional(z.unknown().check(z.refine((v) => parseDuration(v) !== undefined, 'a duration such as "1h" or "24h"'))),
});

const deliveriesQuery = z.object({
  status: z.optional(z.enum(['pending', 'delivered', 'failed'])),
  after: z.optional(z.string().check(z.regex(/^\d{1,16}$/))),
  limit: z.optional(z.string().check(z.regex(/^\d{1,4}$/))),
  attempts: z.optional(z.string().check(z.regex(/^\d{1,3}$/))),
  access_token: z.optional(z.string()),
});

function parseBody<T>(schema: z.ZodMiniType<T>, raw: unknown, what: string): T {
  let body: unknown = raw ?? {};
  if (typeof raw === 'string') {
    if (raw.trim() === '') body = {};
    else {
      try {
        body = JSON.parse(raw) as unknown;
      } catch (err) {
        throw new SwitchboardError('SB_ERR_SUBSCRIPTION_INVALID', `${what}: the body is not JSON (${(err as Error).message})`);
      }
    }
  }
  const r = schema.safeParse(body);
  if (!r.success) throw new SwitchboardError('SB_ERR_SUBSCRIPTION_INVALID', `${what}: ${describeIssues(r.error.issues, body)}`);
  return r.data;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A subscription as the API shows it: secrets only as hints. */
export function subscriptionView(sub: Subscription, counts: Record<DeliveryStatus, number>) {
  return {
    id: sub.id,
    url: sub.url,
    filters: sub.filters,
    mode: sub.mode,
    ordered: sub.ordered,
    enabled: sub.enabled,
    disabledReason: sub.disabledReason ?? null,
    disabledAt: sub.disabledAt ?? null,
    failingSince: sub.failingSince ?? null,
    origin: sub.origin,
    description: sub.description ?? null,
    secrets: sub.secrets.map((s) => ({ hint: secretHint(s.secret), expiresAt: s.expiresAt })),
    deliveries: counts,
    createdAt: sub.createdAt,
    updatedAt: sub.updatedAt,
  };
}

function attemptView(a: AttemptRow) {
  return { round: a.round, attempt: a.attempt, at: a.started_at, durationMs: a.duration_ms, status: a.status, error: a.error, result: a.result };
}

function deliveryView(r: OutboxRow & { type: string | null }, attempts: readonly AttemptRow[]) {
  return {
    id: String(r.did),
    eventId: r.event_id,
    sequence: formatSequence(r.seq),
    type: r.type,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    round: r.rounds,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_at) : null,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
    attemptLog: attempts.map(attemptView),
  };
}

export async function subscriptionRoutes(v1: V1Scope, webhooks: Webhooks): Promise<void> {
  await v1.register(async (scope) => {
    // Bodies are parsed here, so that bad JSON is answered with this area's code and a clear message.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    const view = async (sub: Subscription) => subscriptionView(sub, await webhooks.db.countsOf(sub.id));

    scope.get('/v1/subscriptions', async () => ({ subscriptions: await Promise.all((await webhooks.list()).map(view)) }));

    scope.post('/v1/subscriptions', async (req, reply) => {
      const input = parseBody(createSchema, req.body, 'subscription');
      const { subscription, secret } = await webhooks.create(input);
      return reply.code(201).send({ ...(await view(subscription)), secret });
    });

    scope.get<{ Params: { id: string } }>('/v1/subscriptions/:id', async (req) => view(await webhooks.get(req.params.id)));

    scope.patch<{ Params: { id: string } }>('/v1/subscriptions/:id', async (req) => {
      const input = parseBody(patchSchema, req.body, 'subscription change');
      return view(await webhooks.patch(req.params.id, input));
    });

    scope.delete<{ Params: { id: string } }>('/v1/subscriptions/:id', async (req, reply) => {
      await webhooks.delete(req.params.id);
      return reply.code(204).send();
    });

    scope.post<{ Params: { id: string } }>('/v1/subscriptions/:id/secret/rotate', async (req) => {
      const input = parseBody(rotateSchema, req.body, 'secret rotation');
      const validFor = input.previousValidFor === undefined ? 86_400_000 : (parseDuration(input.previousValidFor) as number);
      const { subscription, secret } = await webhooks.rotate(req.params.id, input.secret, validFor);
      return { ...(await view(subscription)), secret };
    });

    scope.get<{ Params: { id: string } }>('/v1/subscriptions/:id/deliveries', async (req) => {
      const sub = await webhooks.get(req.params.id);
      const r = deliveriesQuery.safeParse(req.query);
      if (!r.success) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `invalid query: ${describeIssues(r.error.issues, req.query)}`);
      const q = r.data;
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (limit < 1 || limit > 1000) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `invalid query: at limit: expected 1..1000, found ${q.limit}`);
      const attempts = q.attempts === undefined ? 20 : Number(q.attempts);
      const rows = await webhooks.db.listDeliveries({ subscriptionId: sub.id, status: q.status, after: q.after === undefined ? undefined : Number(q.after), limit });
      const last = rows[rows.length - 1];
      return {
        deliveries: await Promise.all(rows.map(async (row) => deliveryView(row, attempts > 0 ? await webhooks.db.attemptsOf(row.did, attempts) : []))),
        next: rows.length === limit && last ? String(last.did) : null,
      };
    });

    scope.post<{ Params: { id: string } }>('/v1/subscriptions/:id/replay', async (req, reply) => {
      const range = parseBody(replaySchema, req.body, 'replay');
      if (range.fromSequence !== undefined && range.toSequence !== undefined && range.fromSequence > range.toSequence) {
        throw new SwitchboardError('SB_ERR_SUBSCRIPTION_INVALID', `replay: at toSequence: expected a sequence >= fromSequence (${range.fromSequence}), found ${range.toSequence}`);
      }
      if (range.fromTime !== undefined && range.toTime !== undefined && range.fromTime > range.toTime) {
        throw new SwitchboardError('SB_ERR_SUBSCRIPTION_INVALID', `replay: at toTime: expected a time not before fromTime (${range.fromTime}), found ${range.toTime}`);
      }
      const result = await webhooks.replay(req.params.id, range);
      return reply.code(202).send({ subscription: req.params.id, ...range, ...result });
    });
  });
}
