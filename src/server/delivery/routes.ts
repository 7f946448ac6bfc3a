/**
 * `/v1/subscriptions` (docs/delivery.md): list, create, read, change, delete, rotate the
 * secret, list deliveries with their attempts, replay a range.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod/mini';
import { jsonSyntaxMessage, SwitchboardError } from '../../core/index.js';
import { errorResponses, idParams, named } from '../http/api-schemas.js';
import { answerInvalidBody } from '../http/openapi.js';
import type { V1Scope } from '../feature.js';
import { formatSequence } from '../store/types.js';
import { filtersSchema, parseDuration, SUBSCRIPTION_MODES, subscriptionFields, subscriptionId, webhookSecret } from './config.js';
import type { AttemptRow, DeliveryStatus, OutboxRow, Subscription } from './types.js';
import { secretHint } from './signing.js';
import type { Webhooks } from './webhooks.js';

/** Bodies that fail their schema are answered SB_ERR_SUBSCRIPTION_INVALID, `<what>: at <field>: …`. */
function body<T extends z.ZodMiniType>(schema: T, what: string): T {
  return answerInvalidBody(schema, { code: 'SB_ERR_SUBSCRIPTION_INVALID', what });
}

const createSchema = body(z.strictObject({ id: z.optional(subscriptionId), ...subscriptionFields }), 'subscription');

const patchSchema = body(z.strictObject({
  enabled: z.optional(z.boolean()),
  url: z.optional(subscriptionFields.url),
  filters: z.optional(filtersSchema),
  mode: z.optional(z.enum(SUBSCRIPTION_MODES)),
  ordered: z.optional(z.boolean()),
  description: z.optional(z.string().check(z.maxLength(500))),
}), 'subscription change');

const sequenceValue = z.pipe(
  z.unknown().check(z.refine((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,16}$/.test(v)), 'a sequence (a non-negative integer, or its digits as a string)')),
  z.transform((v) => Number(v)),
);
const timeValue = z.pipe(
  z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time such as "2024-05-01T10:00:00Z"')),
  z.transform((s) => new Date(s).toISOString()),
);
const replaySchema = body(z.strictObject({
  fromSequence: z.optional(sequenceValue),
  toSequence: z.optional(sequenceValue),
  fromTime: z.optional(timeValue),
  toTime: z.optional(timeValue),
  onlyFailed: z.optional(z.boolean()),
}), 'replay');

const rotateSchema = body(z.strictObject({
  secret: z.optional(webhookSecret),
  previousValidFor: z.optional(z.unknown().check(z.refine((v) => parseDuration(v) !== undefined, 'a duration such as "1h" or "24h"'))),
}), 'secret rotation');

const deliveriesQuery = z.object({
  status: z.optional(z.enum(['pending', 'delivered', 'failed'])),
  after: z.optional(z.string().check(z.regex(/^\d{1,16}$/))),
  limit: z.optional(z.string().check(z.regex(/^\d{1,4}$/))),
  attempts: z.optional(z.string().check(z.regex(/^\d{1,3}$/))),
  access_token: z.optional(z.string()),
});

const counts = z.object({ pending: z.number(), delivered: z.number(), failed: z.number() });
const nullableText = z.nullable(z.string());

const subscriptionSchema = named(
  'Subscription',
  z.object({
    id: z.string(),
    url: z.string(),
    filters: filtersSchema,
    mode: z.enum(SUBSCRIPTION_MODES),
    ordered: z.boolean(),
    enabled: z.boolean(),
    disabledReason: nullableText,
    disabledAt: nullableText,
    failingSince: nullableText,
    origin: z.enum(['config', 'api']),
    description: nullableText,
    secrets: z.array(z.object({ hint: z.string(), expiresAt: nullableText })),
    deliveries: counts,
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  'A webhook subscription (docs/delivery.md); its secrets only as hints.',
);
const subscriptionWithSecret = z.extend(subscriptionSchema, { secret: z.string().check(z.describe('The signing secret (whsec_…): shown once.')) });
const subscriptionsList = z.object({ subscriptions: z.array(subscriptionSchema) });

const deliverySchema = named(
  'Delivery',
  z.object({
    id: z.string(),
    eventId: z.string(),
    sequence: z.string(),
    type: nullableText,
    subject: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    round: z.number(),
    nextAttemptAt: nullableText,
    lastStatus: z.nullable(z.number()),
    lastError: nullableText,
    createdAt: z.string(),
    updatedAt: z.string(),
    deliveredAt: nullableText,
    attemptLog: z.array(z.object({ round: z.number(), attempt: z.number(), at: z.string(), durationMs: z.number(), status: z.nullable(z.number()), error: nullableText, result: z.string() })),
  }),
  'One event to one subscription, with its attempts.',
);
/** One delivery as `GET …/deliveries` and the retry route answer it. */
export type DeliveryView = z.infer<typeof deliverySchema>;

const deliveryParams = z.object({ id: z.string(), did: z.string().check(z.regex(/^\d{1,16}$/), z.describe("The delivery's id (`id` of GET …/deliveries).")) });
const deliveriesPage = z.object({ deliveries: z.array(deliverySchema), next: nullableText });

const replayAccepted = z.object({
  subscription: z.string(),
  fromSequence: z.optional(z.number()),
  toSequence: z.optional(z.number()),
  fromTime: z.optional(z.string()),
  toTime: z.optional(z.string()),
  onlyFailed: z.optional(z.boolean()),
  enqueued: z.number(),
  alreadyPending: z.number(),
  matched: z.number(),
});

/** Words for a body that is not JSON, per route. */
const WHAT: Record<string, string> = {
  'POST /v1/subscriptions': 'subscription',
  'PATCH /v1/subscriptions/:id': 'subscription change',
  'POST /v1/subscriptions/:id/secret/rotate': 'secret rotation',
  'POST /v1/subscriptions/:id/replay': 'replay',
};

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
    // Bodies are parsed here, so that bad JSON is answered with this area's code and a clear
    // message; an empty body counts as `{}` (every field of a change or a rotation is optional).
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, raw, done) => {
      const text = typeof raw === 'string' ? raw : raw.toString('utf8');
      if (text.trim() === '') return done(null, {});
      try {
        done(null, JSON.parse(text) as unknown);
      } catch (err) {
        const what = WHAT[`${req.method} ${req.routeOptions.url ?? ''}`] ?? 'body';
        done(new SwitchboardError('SB_ERR_SUBSCRIPTION_INVALID', `${what}: the body is not JSON (${jsonSyntaxMessage(err)})`), undefined);
      }
    });
    const v1 = scope.withTypeProvider<ZodTypeProvider>();
    const tags = ['subscriptions'];
    const params = idParams;

    const view = async (sub: Subscription) => subscriptionView(sub, await webhooks.db.countsOf(sub.id));

    v1.get('/v1/subscriptions', { schema: { tags, summary: 'Every subscription, with its delivery counts (secrets as hints)', response: { 200: subscriptionsList, ...errorResponses } } }, async () => ({ subscriptions: await Promise.all((await webhooks.list()).map(view)) }));

    v1.post('/v1/subscriptions', { schema: { tags, summary: 'Create a subscription; the answer carries its signing secret, once', body: createSchema, response: { 201: subscriptionWithSecret, ...errorResponses } } }, async (req, reply) => {
      const input = req.body;
      const { subscription, secret } = await webhooks.create(input);
      return reply.code(201).send({ ...(await view(subscription)), secret });
    });

    v1.get('/v1/subscriptions/:id', { schema: { tags, summary: 'A subscription', params, response: { 200: subscriptionSchema, ...errorResponses } } }, async (req) => view(await webhooks.get(req.params.id)));

    v1.patch('/v1/subscriptions/:id', { schema: { tags, summary: 'Change a subscription (enable, disable, url, filters, mode, ordering)', params, body: patchSchema, response: { 200: subscriptionSchema, ...errorResponses } } }, async (req) => {
      const input = req.body;
      return view(await webhooks.patch(req.params.id, input));
    });

    v1.delete('/v1/subscriptions/:id', { schema: { tags, summary: 'Delete a subscription and its deliveries', params, response: { 204: z.null(), ...errorResponses } } }, async (req, reply) => {
      await webhooks.delete(req.params.id);
      return reply.code(204).send(null);
    });

    v1.post('/v1/subscriptions/:id/secret/rotate', { schema: { tags, summary: 'Rotate the signing secret; the previous one stays valid for previousValidFor (default 24h)', params, body: rotateSchema, response: { 200: subscriptionWithSecret, ...errorResponses } } }, async (req) => {
      const input = req.body;
      const validFor = input.previousValidFor === undefined ? 86_400_000 : (parseDuration(input.previousValidFor) as number);
      const { subscription, secret } = await webhooks.rotate(req.params.id, input.secret, validFor);
      return { ...(await view(subscription)), secret };
    });

    v1.get('/v1/subscriptions/:id/deliveries', { schema: { tags, summary: 'Deliveries of a subscription with their attempts, newest first', params, querystring: deliveriesQuery, response: { 200: deliveriesPage, ...errorResponses } } }, async (req) => {
      const sub = await webhooks.get(req.params.id);
      const q = req.query;
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

    v1.post(
      '/v1/subscriptions/:id/deliveries/:did/retry',
      { schema: { tags, summary: 'Send one delivery now: a pending one skips the rest of its wait, a failed one starts a new round', params: deliveryParams, response: { 202: deliverySchema, ...errorResponses } } },
      async (req, reply) => {
        const row = await webhooks.retryNow(req.params.id, Number(req.params.did));
        const attempts = await webhooks.db.attemptsOf(row.did, 20);
        const type = JSON.parse((await webhooks.db.eventBody(row.seq)) ?? '{}') as { type?: string };
        return reply.code(202).send(deliveryView({ ...row, type: type.type ?? null }, attempts));
      },
    );

    v1.post('/v1/subscriptions/:id/replay', { schema: { tags, summary: 'Deliver a range of stored events again (by sequence or time; only the failed ones if asked)', params, body: replaySchema, response: { 202: replayAccepted, ...errorResponses } } }, async (req, reply) => {
      const range = req.body;
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
