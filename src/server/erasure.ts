/**
 * Erasure on request (docs/privacy.md): `POST /v1/erasures` with a phone number, a platform user id
 * or a contact id removes every event, quarantine entry, projection row, outbox row and cached
 * caller name that names the person, in steps the store makes durable one by one. A request is
 * recorded first (who asked, when; not whom), so that a crash or a stop leaves it to be resumed:
 * at the next start every unfinished erasure runs to its end. The NATS stream and webhooks already
 * delivered are out of reach, and the answer says so.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod/mini';
import { SwitchboardError } from '../core/index.js';
import type { EventBus } from './bus.js';
import type { Feature, FeatureContext, V1Scope } from './feature.js';
import { errorResponses, named, text } from './http/api-schemas.js';
import { answerInvalidBody } from './http/openapi.js';
import { ERASURE_KINDS, termOf, type ErasureKind, type ErasureRecord } from './store/erasure-plan.js';
import type { Store } from './store/types.js';

/** What a request's answer says of what Switchboard cannot erase. */
export const OUT_OF_REACH =
  'Copies outside this store are not erased: events already published to the NATS stream, webhooks already delivered to subscribers, backups and archives. Remove them there.';

export interface ErasureInput {
  readonly phone?: string | undefined;
  readonly userId?: string | undefined;
  readonly contactId?: string | undefined;
  /** Who asked: a person, a ticket (kept in the record). */
  readonly requestedBy: string;
  readonly reason?: string | undefined;
}

/** The kind and text of the one identifier of a request, or what is wrong with it. */
export function identifierOf(input: ErasureInput): { kind: ErasureKind; term: string } {
  const given = ERASURE_KINDS.filter((k) => input[k] !== undefined);
  if (given.length !== 1) throw new SwitchboardError('SB_ERR_ERASURE_INVALID', `erasure: expected exactly one of phone, userId, contactId, found ${given.length === 0 ? 'none' : given.join(' and ')}`);
  const kind = given[0] as ErasureKind;
  const t = termOf(kind, input[kind] as string);
  if ('problem' in t) throw new SwitchboardError('SB_ERR_ERASURE_INVALID', `erasure: at ${kind}: expected ${t.problem}`);
  if (input.requestedBy.trim() === '') throw new SwitchboardError('SB_ERR_ERASURE_INVALID', 'erasure: at requestedBy: expected who asked (a name or a ticket), found an empty string');
  return { kind, term: t.term };
}

/** Runs erasures to their end, one step (one transaction) at a time, yielding between steps. */
export class Erasures {
  private readonly runs = new Map<string, Promise<ErasureRecord>>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly bus?: EventBus,
  ) {}

  /** Records the request (durably) and starts it; answers the record and the run's end. */
  async request(input: ErasureInput, chunk?: number, now = new Date()): Promise<{ record: ErasureRecord; done: Promise<ErasureRecord> }> {
    const { kind, term } = identifierOf(input);
    const record = await this.store.erasures.start({ id: randomUUID(), kind, term, requestedBy: input.requestedBy.trim(), reason: input.reason, requestedAt: now.toISOString() });
    this.logger.info({ erasure: { id: record.id, kind, requestedBy: record.requestedBy } }, `erasure ${record.id} (${kind}) requested by ${record.requestedBy}`);
    return { record, done: this.run(record.id, undefined, chunk) };
  }

  /** Runs (or joins the run of) erasure `id` to its end, `chunk` sequences of the log per step. */
  run(id: string, signal?: AbortSignal, chunk?: number): Promise<ErasureRecord> {
    let r = this.runs.get(id);
    if (!r) {
      r = this.runNow(id, signal, chunk).finally(() => this.runs.delete(id));
      this.runs.set(id, r);
    }
    return r;
  }

  private async runNow(id: string, signal: AbortSignal | undefined, chunk: number | undefined): Promise<ErasureRecord> {
    let removed = (await this.store.erasures.get(id))?.counts.events ?? 0;
    for (;;) {
      const record = await this.store.erasures.step(id, chunk);
      // Once a step removed events, followers reading from memory read the store from then on:
      // nothing erased is served (with several instances, each one does so on the step's notification).
      if (record.counts.events > removed) this.bus?.flush();
      removed = record.counts.events;
      if (record.status === 'done') {
        const c = record.counts;
        this.logger.info({ erasure: { id, counts: c } }, `erasure ${id} done: ${c.events} events, ${c.quarantine} quarantine entries, ${c.projections} projection rows, ${c.deliveries} deliveries, ${c.kv} cached entries removed`);
        return record;
      }
      if (signal?.aborted) return record;
      await setImmediate();
    }
  }

  /** Every erasure a crash or a stop left unfinished, run to its end; answers their records. */
  async resume(signal?: AbortSignal, chunk?: number): Promise<ErasureRecord[]> {
    const out: ErasureRecord[] = [];
    for (const id of await this.store.erasures.running()) {
      if (signal?.aborted) break;
      this.logger.warn({ erasure: { id } }, `erasure ${id} was interrupted: resuming it`);
      out.push(await this.run(id, signal, chunk));
    }
    return out;
  }
}

const erasureBody = answerInvalidBody(
  z.strictObject({
    phone: z.optional(text('A phone number: 7 to 15 digits, spaces, +, -, . and brackets ignored (79161234567, +7 916 123-45-67).')),
    userId: z.optional(text("A platform user id (a TWIN or Threads client id, a widget's user id).")),
    contactId: z.optional(text('A contact id (a GREEN-API chat id such as 79161234567@c.us, a 1С-Коннект contact).')),
    requestedBy: z.string().check(z.minLength(1), z.maxLength(200), z.describe('Who asked: a person or a ticket; kept in the record.')),
    reason: z.optional(z.string().check(z.maxLength(500), z.describe('Why, for the record (never the person’s data).'))),
  }),
  { code: 'SB_ERR_ERASURE_INVALID', what: 'erasure' },
);

const counts = z.object({ events: z.number(), quarantine: z.number(), projections: z.number(), deliveries: z.number(), kv: z.number() });

export const erasureSchema = named(
  'Erasure',
  z.object({
    id: z.string(),
    kind: z.enum(ERASURE_KINDS),
    requestedBy: z.string(),
    reason: z.optional(z.string()),
    requestedAt: z.string(),
    finishedAt: z.optional(z.string()),
    status: z.enum(['running', 'done']),
    counts,
    outOfReach: z.string(),
  }),
  'An erasure request: who asked and when, what was removed; never whom it was about.',
);

const view = (r: ErasureRecord) => ({ ...r, outOfReach: OUT_OF_REACH });

/** The feature: the routes, and the unfinished erasures resumed at the start. */
export function createErasures(ctx: FeatureContext): Feature & { readonly erasures: Erasures } {
  const erasures = new Erasures(ctx.store, ctx.logger, ctx.bus);
  const stop = new AbortController();
  let resuming: Promise<void> | undefined;
  return {
    name: 'erasures',
    erasures,
    async start({ background }) {
      if (background)
        resuming = erasures.resume(stop.signal).then(
          () => undefined,
          (err: unknown) => ctx.logger.error({ err }, 'erasures: resuming failed'),
        );
    },
    async close() {
      stop.abort();
      await resuming;
    },
    routes(scope: V1Scope) {
      const v1 = scope.withTypeProvider<ZodTypeProvider>();
      const tags = ['privacy'];
      v1.post(
        '/v1/erasures',
        { schema: { tags, summary: "Erase one person's data: every event, quarantine entry, projection row, delivery and cached name that names them", body: erasureBody, response: { 200: erasureSchema, 202: erasureSchema, ...errorResponses } } },
        async (req, reply) => {
          const { record, done } = await erasures.request(req.body);
          // Most erasures end within seconds: answered with the counts. A long one goes on; GET it.
          const ended = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 25_000).unref())]);
          if (ended) return reply.code(200).send(view(ended));
          return reply.code(202).header('location', `/v1/erasures/${record.id}`).send(view(record));
        },
      );
      v1.get('/v1/erasures', { schema: { tags, summary: 'Every erasure request, newest first', response: { 200: z.object({ erasures: z.array(erasureSchema) }), ...errorResponses } } }, async () => ({
        erasures: (await ctx.store.erasures.list()).map(view),
      }));
      v1.get('/v1/erasures/:id', { schema: { tags, summary: 'One erasure request', params: z.object({ id: z.string() }), response: { 200: erasureSchema, ...errorResponses } } }, async (req) => {
        const r = await ctx.store.erasures.get(req.params.id);
        if (!r) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no erasure ${req.params.id}`);
        return view(r);
      });
    },
  };
}
