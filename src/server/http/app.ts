/**
 * The HTTP surface of DESIGN §4 on Fastify.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform } from 'node:stream';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod/mini';
import { EVENT_TYPES, OverloadedError, SwitchboardError, ValidationError, dataJsonSchema, dataSchemaUri, isEventType } from '../../core/index.js';
import type { EventBus } from '../bus.js';
import { charsetRefusal, parseContentType } from '../decode.js';
import type { Feature } from '../feature.js';
import { followPages, toQuery, type FollowFilter } from '../follow.js';
import { UNMATCHED_ROUTE, type Metrics } from '../metrics.js';
import type { ConnectorInstance, GroupCommitter, IngestResult, Pipeline } from '../pipeline.js';
import type { ConnectorStatus } from '../runtime.js';
import type { QuarantineEntry, Store, StoredEvent } from '../store/types.js';
import { formatSequence } from '../store/types.js';
import { ByteBudget, type BudgetHold } from './budget.js';
import { toHttpAnswer, type HttpAnswer } from './errors.js';
import { registerDashboard } from './dashboard.js';
import { IngestRefusals, UNKNOWN_CONNECTOR, refusalReason } from './refusals.js';
import { lazyChildLogger } from './lazy-logger.js';
import cookie from '@fastify/cookie';
import { SESSION_COOKIE, SESSION_TTL_MS, StreamTickets, queryCredential, redactCredentials } from './stream-auth.js';
import * as api from './api-schemas.js';
import { registerOpenApi } from './openapi.js';
import type { Span, Tracing } from '../tracing.js';

export interface HttpConnector extends ConnectorInstance {
  readonly ingestToken: string | undefined;
  /** Browser origins allowed to POST to its ingest route (CORS). */
  readonly corsOrigins: readonly string[];
  /** Live state of a pulled connector, for `/v1/connectors`. */
  status(): ConnectorStatus;
}

export interface AppContext {
  readonly store: Store;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly pipeline: Pipeline;
  readonly committer: GroupCommitter;
  readonly connectors: ReadonlyMap<string, HttpConnector>;
  readonly apiToken: string;
  readonly bodyLimit: number;
  readonly maxPendingEvents: number;
  /** Bytes of ingest bodies being read or waiting for their commit beyond which ingest answers 503. */
  readonly maxBytesInFlight: number;
  /** Most time to receive a whole request (headers and body), in ms (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly logger: Logger;
  /** Aborted when the server shuts down: ends every open stream. */
  readonly shutdown: AbortSignal;
  /** Routes of server features, registered in the authenticated `/v1` scope. */
  readonly features: readonly Feature[];
  /** At most one log line per connector about refused ingest in this time (default 60 s). */
  readonly refusalLogIntervalMs?: number;
  /** OpenTelemetry tracing, when on: each ingest request is a server span. */
  readonly tracing?: Tracing | undefined;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Digests of the configured secrets, computed once (they are compared on every request). */
const expectedDigests = new Map<string, Buffer>();

/**
 * Presented secrets already found to match, with the secret they matched. A lookup keyed by the
 * presented text tells nothing about a secret no one has presented; only a value that matched
 * before skips the hashing (a webhook sender presents the same token on every request).
 */
const verified = new Map<string, string>();

/** Timing-safe comparison of a presented secret with the expected one. */
export function secretMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (presented === undefined || expected === undefined || expected === '') return false;
  if (verified.get(presented) === expected) return true;
  let want = expectedDigests.get(expected);
  if (!want) {
    want = digest(expected);
    if (expectedDigests.size > 1000) expectedDigests.clear();
    expectedDigests.set(expected, want);
  }
  const ok = timingSafeEqual(digest(presented), want);
  if (ok) {
    if (verified.size > 1000) verified.clear();
    verified.set(presented, expected);
  }
  return ok;
}

/** The credential of an `Authorization: <scheme> <token>` header (GREEN-API picks its own scheme). */
function credentialOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  return space < 0 ? header : header.slice(space + 1).trim();
}

function resolvedAlready(id: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_QUARANTINE_RESOLVED', `quarantine entry ${id} was retried or discarded already`);
}

/** A quarantine entry that is still open, or the error that says why not. */
async function openQuarantineEntry(ctx: AppContext, id: string): Promise<QuarantineEntry> {
  const entry = await ctx.store.getQuarantine(id);
  if (!entry) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no quarantine entry ${id}`);
  if (entry.resolution) throw resolvedAlready(id);
  return entry;
}

/**
 * What a retry ingests: for a connector that takes pushed bodies, the entry's bytes with its
 * content type (text as UTF-8, which it was decoded from); for a pulled connector's payload, the
 * JSON it kept.
 */
function retryInput(connector: HttpConnector, entry: QuarantineEntry): { body: Uint8Array; contentType: string } | { payload: unknown } {
  if (connector.definition.ingest) {
    if (entry.rawEncoding === 'base64') return { body: Buffer.from(entry.raw, 'base64'), contentType: entry.contentType ?? '' };
    const type = parseContentType(entry.contentType ?? connector.definition.ingest.contentTypes[0] ?? '').type;
    return { body: Buffer.from(entry.raw, 'utf8'), contentType: `${type}; charset=utf-8` };
  }
  try {
    return { payload: JSON.parse(entry.raw) as unknown };
  } catch {
    throw new ValidationError('SB_ERR_INGEST_MALFORMED', `quarantine entry ${entry.id} is not JSON, and connector ${entry.connectorId} takes no pushed bodies: it cannot be retried`);
  }
}

/** The session of a request's cookie, when it holds a live one. */
function sessionOf(req: FastifyRequest, sessions: StreamTickets): boolean {
  const id = req.cookies[SESSION_COOKIE];
  return id !== undefined && sessions.valid(id);
}

/** Whether a request's Origin (else Referer) is this server's own: browsers send one on every POST, PATCH and DELETE. */
function sameOrigin(req: FastifyRequest): boolean {
  const from = req.headers.origin ?? req.headers.referer;
  if (!from) return false;
  try {
    return new URL(from).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * `EventSource` cannot set headers: `GET /v1/stream`, and no other route, takes a one-use ticket
 * or (for compatibility) the API token itself in the query.
 */
function streamQueryAuthorized(req: FastifyRequest, tickets: StreamTickets, apiToken: string): boolean {
  if (req.method !== 'GET' || req.routeOptions.url !== '/v1/stream') return false;
  const ticket = queryCredential(req.query, 'ticket');
  const token = queryCredential(req.query, 'access_token');
  return ticket !== undefined ? tickets.redeem(ticket) : secretMatches(token, apiToken);
}

function filterOf(q: { type?: string | undefined; platform?: string | undefined; subject?: string | undefined; connector?: string | undefined }): FollowFilter {
  return { type: q.type, platform: q.platform, subject: q.subject, connectorId: q.connector };
}

/** `POST /ingest/:connectorId`: its body is the platform's own (the document describes it in `openapi.ts`). */
const INGEST_SCHEMA = {
  tags: ['ingest'],
  summary: "A platform's native payloads, as the platform sends them",
  description:
    "GREEN-API webhooks, edna Threads pushes, call-widget events (JSON, or NDJSON with one payload a line) and 1С-Коннект XML events. The answer comes after the events are durably stored. A payload that cannot be read or normalized is kept in the quarantine and named in `rejected`; the others are stored. 400 when every payload of the body was rejected, 503 with Retry-After when the server is overloaded.",
  security: [{ ingestToken: [] }],
  consumes: ['application/json', 'application/x-ndjson', 'application/xml', 'text/xml'],
  params: api.connectorParams,
  response: { 200: api.ingestResult, 400: api.ingestRefused, default: api.errorBody },
};

/** `GET /v1/stream`: Server-Sent Events, one event per stored event. */
const STREAM_SCHEMA = {
  tags: ['events'],
  summary: 'The live stream of stored events (Server-Sent Events), resumable',
  description:
    'Each SSE event has `id:` = the sequence, `event:` = the type and `data:` = the CloudEvent (docs/asyncapi.yaml describes the messages). Resume with the Last-Event-ID header or `after`: no gap, no repeat. Without either, events committed from now on.',
  querystring: api.streamQuery,
  headers: api.streamHeaders,
  response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: api.sseStream } } }, ...api.errorResponses },
};

export async function buildApp(ctx: AppContext) {
  const refusals = new IngestRefusals(ctx.metrics, ctx.logger, ctx.refusalLogIntervalMs);

  /** Counts and logs a refused ingest (wrong token, unknown connector, content type, size). */
  const noteRefusal = (req: FastifyRequest, answer: HttpAnswer): void => {
    const reason = refusalReason(answer.body.error.code);
    if (!reason || !req.url.startsWith('/ingest/')) return;
    const id = (req.params as { connectorId?: string } | null)?.connectorId;
    refusals.note({ connector: id !== undefined && ctx.connectors.has(id) ? id : UNKNOWN_CONNECTOR, reason, status: answer.status, ip: req.ip });
  };

  /** Every error answer, whoever raised it (a route, a hook, Fastify's router or body parser). */
  const sendError = (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const answer = toHttpAnswer(err, req.url);
    if (answer.status >= 500 && answer.body.error.code === 'SB_ERR_INTERNAL') req.log.error({ err, req }, 'unhandled error');
    ctx.metrics.httpErrors.inc({ code: answer.body.error.code });
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  };

  const requestTimeout = ctx.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const logger = redactCredentials(ctx.logger);
  const app = Fastify({
    // Its request lines never carry a query-string credential.
    loggerInstance: logger,
    // A request's child logger is made when it first logs (most never do).
    childLoggerFactory: lazyChildLogger(logger),
    bodyLimit: ctx.bodyLimit,
    // A client that sends its headers or body slowly, or not at all, is answered 408 and
    // disconnected once the request has taken this long; Node checks on an interval (30 s by
    // default), kept here to a quarter of the timeout.
    requestTimeout,
    http: { requestTimeout, headersTimeout: Math.min(requestTimeout, 60_000), connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(requestTimeout / 4))) },
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: true,
    // Errors of Fastify's router (a path it cannot decode, a parameter over maxParamLength) skip
    // the error handler: answer them the same way.
    frameworkErrors: (err, req, reply) => {
      noteRefusal(req, toHttpAnswer(err, req.url));
      sendError(err, req, reply);
    },
  });

  await registerOpenApi(app);

  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) => sendError(new SwitchboardError('SB_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`), req, reply));

  const open = { security: [] as Record<string, string[]>[], tags: ['operations'] };
  app.get('/healthz', { schema: { ...open, summary: 'Liveness: the process answers', response: { 200: api.health } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { ...open, summary: 'Readiness: the store answers and the commit backlog is under server.maxPendingEvents', response: { 200: api.readiness, 503: api.readiness } } }, async (_req, reply) => {
    const storeOk = await ctx.store.ping();
    const backlogOk = ctx.committer.backlog < ctx.maxPendingEvents;
    const ready = storeOk && backlogOk && !ctx.shutdown.aborted;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', store: storeOk, backlog: ctx.committer.backlog });
  });
  app.get('/metrics', { schema: { ...open, summary: 'Prometheus metrics (docs/operations.md)', produces: ['text/plain'] } }, async (_req, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()));
  await registerDashboard(app);

  app.addHook('onClose', async () => refusals.stop());

  // Bytes in flight: each ingest request holds its body's bytes from before it is read until its
  // commit settles (the handler's `finally`), or until its answer is sent when it never reaches
  // the handler (refused, too large, aborted).
  const budget = new ByteBudget(ctx.maxBytesInFlight, (n) => ctx.metrics.ingestBytesInFlight.set(n));
  const holds = new WeakMap<FastifyRequest, { hold: BudgetHold; inHandler: boolean }>();
  const overloaded = (): OverloadedError => {
    ctx.metrics.overloads.inc();
    return new OverloadedError(`ingest bodies in flight are at server.maxBytesInFlight (${budget.inFlight} of ${budget.max} bytes); retry later`, 1);
  };

  await app.register(async (ingest) => {
    // Refusals (wrong token, unknown connector, content type, size) are counted and logged, rate-limited.
    ingest.addHook('onError', async (req, _reply, err) => noteRefusal(req, toHttpAnswer(err, req.url)));

    // Bodies are read as bytes: the pipeline decodes them in their declared charset and each
    // connector splits and parses them itself, so that a body that cannot be read can be kept in
    // the quarantine exactly as it came.
    ingest.removeAllContentTypeParsers();
    ingest.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    // Browsers (the client module's forwarder) may post from the origins a connector allows.
    // The options of each connector are made once (they were a few KiB of garbage per request).
    const corsOptions = new Map<string, { origin: string | string[]; methods: string[]; allowedHeaders: string[]; exposedHeaders: string[]; maxAge: number }>();
    const corsOf = (id: string | undefined) => {
      const key = id ?? '';
      let o = corsOptions.get(key);
      if (!o) {
        const allowed = (id === undefined ? undefined : ctx.connectors.get(id)?.corsOrigins) ?? [];
        o = { origin: allowed.includes('*') ? '*' : [...allowed], methods: ['POST'], allowedHeaders: ['authorization', 'content-type'], exposedHeaders: ['retry-after'], maxAge: 600 };
        corsOptions.set(key, o);
      }
      return o;
    };
    await ingest.register(cors, {
      delegator: (req, cb) => {
        const raw = /^\/ingest\/([^/?#]+)/.exec(req.url ?? '')?.[1];
        let id: string | undefined;
        try {
          id = raw === undefined ? undefined : decodeURIComponent(raw);
        } catch {
          id = undefined;
        }
        // Only connectors' ids are kept: a path naming none shares the empty entry.
        cb(null, corsOf(id !== undefined && ctx.connectors.has(id) ? id : undefined));
      },
    });

    // Each ingest request is the root of its payloads' trace (continuing the sender's `traceparent`).
    const spans = new WeakMap<FastifyRequest, Span>();
    const tracing = ctx.tracing;
    if (tracing) {
      ingest.addHook('onRequest', async (req: FastifyRequest<{ Params: { connectorId: string } }>) => {
        if (req.method === 'OPTIONS') return;
        const attributes = { 'http.request.method': 'POST', 'http.route': '/ingest/:connectorId', 'url.path': req.url.split('?')[0] ?? '', 'switchboard.connector.id': req.params.connectorId };
        spans.set(req, tracing.start('POST /ingest/:connectorId', 'server', attributes, tracing.extract(req.headers)));
      });
      const finish = (req: FastifyRequest, status: number | undefined) => {
        const span = spans.get(req);
        if (!span) return;
        spans.delete(req);
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        tracing.end(span, status === undefined ? 'the client went away' : status >= 500 ? `HTTP ${status}` : undefined);
      };
      ingest.addHook('onResponse', async (req, reply) => finish(req, reply.statusCode));
      ingest.addHook('onRequestAbort', async (req) => finish(req, undefined));
    }

    ingest.addHook('onRequest', async (req: FastifyRequest<{ Params: { connectorId: string } }>, reply) => {
      if (req.method === 'OPTIONS') return;
      const connector = ctx.connectors.get(req.params.connectorId);
      if (!connector?.definition.ingest) throw new SwitchboardError('SB_ERR_INGEST_UNKNOWN_CONNECTOR', `no connector "${req.params.connectorId}" takes pushed payloads`);
      if (!secretMatches(credentialOf(req.headers.authorization), connector.ingestToken)) throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'unauthorized');
      const media = parseContentType(req.headers['content-type']);
      if (!connector.definition.ingest.contentTypes.includes(media.type)) {
        throw new SwitchboardError('SB_ERR_INGEST_CONTENT_TYPE', `content type "${media.type || '(none)'}" is not accepted by ${connector.id}; use one of ${connector.definition.ingest.contentTypes.join(', ')}`);
      }
      const charset = charsetRefusal(media);
      if (charset !== undefined) throw new SwitchboardError('SB_ERR_INGEST_CONTENT_TYPE', charset);
      const entry = { hold: budget.hold(), inHandler: false };
      holds.set(req, entry);
      reply.raw.once('close', () => {
        if (!entry.inHandler) entry.hold.release();
      });
      // With a Content-Length, the whole body is taken (or refused) before it is read.
      const length = Number(req.headers['content-length']);
      if (length > 0 && !entry.hold.take(length)) throw overloaded();
    });

    // Without one (chunked), each chunk is taken as it arrives; the first that crosses the budget ends the read.
    ingest.addHook('preParsing', async (req, _reply, payload) => {
      const entry = holds.get(req);
      if (!entry || Number(req.headers['content-length']) >= 0) return payload;
      return payload.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, next) {
            if (entry.hold.take(chunk.length)) next(null, chunk);
            else next(overloaded());
          },
        }),
      );
    });

    ingest.post<{ Params: { connectorId: string } }>('/ingest/:connectorId', { schema: INGEST_SCHEMA }, async (req, reply) => {
      const connector = ctx.connectors.get(req.params.connectorId) as HttpConnector;
      const body = req.body instanceof Uint8Array ? req.body : new Uint8Array();
      const entry = holds.get(req);
      if (entry) entry.inHandler = true;
      let result: IngestResult;
      try {
        const span = spans.get(req);
        result = await ctx.pipeline.ingestBody(connector, body, req.headers['content-type'] ?? '', span ? ctx.tracing?.contextWith(span) : undefined);
      } finally {
        entry?.hold.release();
      }
      const allRejected = result.accepted === 0 && result.duplicates === 0 && result.rejected.length > 0;
      if (allRejected) {
        const first = result.rejected[0];
        const code = first?.code === 'SB_ERR_INGEST_MALFORMED' || first?.code === 'SB_ERR_INGEST_LIMIT' ? first.code : 'SB_ERR_INGEST_INVALID_PAYLOAD';
        return reply.code(400).send({ error: { code, message: first?.reason ?? 'invalid payload', ...result } });
      }
      return reply.code(200).send(result);
    });
  });

  const tickets = new StreamTickets();
  const sessions = new StreamTickets(SESSION_TTL_MS);

  await app.register(async (v1) => {
    // Cookies are read in this scope only: ingest never parses them.
    await v1.register(cookie);
    v1.addHook('onRequest', async (req: FastifyRequest) => {
      const header = credentialOf(req.headers.authorization);
      if (header !== undefined) {
        if (secretMatches(header, ctx.apiToken)) return;
      } else if (sessionOf(req, sessions)) {
        // A browser sends the cookie only to its own site (SameSite=Strict); a change must also
        // come from a page of this server.
        if (req.method === 'GET' || req.method === 'HEAD' || sameOrigin(req)) return;
        throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'unauthorized');
      } else if (streamQueryAuthorized(req, tickets, ctx.apiToken)) return;
      throw new SwitchboardError('SB_ERR_AUTH_REQUIRED', 'unauthorized');
    });

    // The dashboard's login: the API token (as the header) for a session cookie the page's
    // scripts cannot read; logout forgets it.
    v1.post('/v1/sessions', { schema: { tags: ['operations'], summary: 'A dashboard session: sets an HttpOnly, SameSite=Strict cookie that authorizes /v1 from this site for 12 hours', response: { 201: api.session, ...api.errorResponses } } }, async (req, reply) => {
      const { ticket, expiresAt } = sessions.issue();
      void reply.setCookie(SESSION_COOKIE, ticket, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.protocol === 'https', maxAge: SESSION_TTL_MS / 1000 });
      return reply.code(201).header('cache-control', 'no-store').send({ expiresAt });
    });
    v1.delete('/v1/sessions', { schema: { tags: ['operations'], summary: 'Log out: forgets the session of the cookie and clears it', response: { 204: z.null(), ...api.errorResponses } } }, async (req, reply) => {
      const id = req.cookies[SESSION_COOKIE];
      if (id) sessions.revoke(id);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    });

    // A stream ticket for the API token: what a browser's EventSource puts in its URL instead.
    await v1.register(async (scope) => {
      // A body, if any, is ignored: any content type will do (curl -X POST, fetch without a body).
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 }, (_req, _body, done) => done(null, undefined));
      scope.post('/v1/stream/tickets', { schema: { tags: ['events'], summary: 'A one-use ticket for GET /v1/stream?ticket= (EventSource cannot send headers); valid 60 s', response: { 201: api.streamTicket, ...api.errorResponses } } }, async (_req, reply) => reply.code(201).header('cache-control', 'no-store').send(tickets.issue()));
    });

    const typed = v1.withTypeProvider<ZodTypeProvider>();
    v1.get<{ Querystring: z.output<typeof api.eventsQuery> }>('/v1/events', { schema: { tags: ['events'], summary: 'Events of the log in store order, paged and filtered', querystring: api.eventsQuery, response: { 200: api.eventsPage, ...api.errorResponses } } }, async (req, reply) => {
      const q = req.query;
      const limit = api.pageLimit(q.limit);
      const newestFirst = q.order === 'desc';
      if (q.after !== undefined) await refuseGone(ctx, Number(q.after));
      const query = { ...toQuery(filterOf(q), q.after === undefined ? undefined : Number(q.after), limit), before: q.before === undefined ? undefined : Number(q.before), newestFirst };
      const rows = await ctx.store.queryEvents(query);
      // The cursor of the next page: its `after` in ascending order, its `before` newest first.
      const last = rows[rows.length - 1];
      const next = rows.length === limit && last ? `"${formatSequence(last.seq)}"` : 'null';
      return reply.type('application/json').send(`{"events":[${rows.map((r) => r.json).join(',')}],"next":${next}}`);
    });

    v1.get<{ Params: z.output<typeof api.eventIdParams> }>('/v1/events/:id', { schema: { tags: ['events'], summary: 'One event by its id', params: api.eventIdParams, response: { 200: api.cloudEvent, ...api.errorResponses } } }, async (req, reply) => {
      const row = await ctx.store.getEvent(req.params.id);
      if (!row) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no event with id ${req.params.id}`);
      return reply.type('application/json').send(row.json);
    });

    typed.get('/v1/stream', { schema: STREAM_SCHEMA }, async (req, reply) => streamEvents(ctx, req.query, req, reply));

    typed.get('/v1/quarantine', { schema: { tags: ['operations'], summary: 'Input that could not be read or normalized, as received', querystring: api.quarantineQuery, response: { 200: api.quarantinePage, ...api.errorResponses } } }, async (req) => {
      const q = req.query;
      const limit = api.pageLimit(q.limit);
      const items = await ctx.store.listQuarantine({ after: q.after === undefined ? undefined : Number(q.after), limit, connectorId: q.connector, status: q.status });
      const last = items[items.length - 1];
      return { items, next: items.length === limit && last ? last.id : null };
    });

    // After a fix (a config change, a new version), the input goes through ingest again; or it is
    // discarded. Either is recorded on the entry, which stays listed.
    typed.post('/v1/quarantine/:id/retry', { schema: { tags: ['operations'], summary: 'Ingest a quarantined input again (after a fix); recorded on the entry', params: api.idParams, response: { 200: api.quarantineRetried, ...api.errorResponses } } }, async (req) => {
      const entry = await openQuarantineEntry(ctx, req.params.id);
      const connector = ctx.connectors.get(entry.connectorId);
      if (!connector) throw new SwitchboardError('SB_ERR_INGEST_UNKNOWN_CONNECTOR', `connector ${entry.connectorId} of quarantine entry ${entry.id} is not configured; add it back to retry, or discard the entry`);
      const input = retryInput(connector, entry);
      const still = ctx.pipeline.check(connector, input);
      if (still) throw new ValidationError('SB_ERR_INGEST_INVALID_PAYLOAD', `quarantine entry ${entry.id} is still refused (${still.code}): ${still.reason}`);
      const result = 'body' in input ? await ctx.pipeline.ingestBody(connector, input.body, input.contentType) : await ctx.pipeline.ingestItems(connector, [{ payload: input.payload }]);
      const resolution = { action: 'retried' as const, at: new Date().toISOString(), result: { accepted: result.accepted, duplicates: result.duplicates, events: result.events, rejected: result.rejected.length } };
      if (!(await ctx.store.resolveQuarantine(entry.id, resolution))) throw resolvedAlready(entry.id);
      req.log.info({ quarantine: entry.id, connector: entry.connectorId, ...resolution.result }, 'quarantine entry retried');
      return { entry: { ...entry, resolution }, result };
    });
    typed.post('/v1/quarantine/:id/discard', { schema: { tags: ['operations'], summary: 'Discard a quarantined input; recorded on the entry, which stays listed', params: api.idParams, response: { 200: api.quarantineEntry, ...api.errorResponses } } }, async (req) => {
      const entry = await openQuarantineEntry(ctx, req.params.id);
      const resolution = { action: 'discarded' as const, at: new Date().toISOString() };
      if (!(await ctx.store.resolveQuarantine(entry.id, resolution))) throw resolvedAlready(entry.id);
      req.log.info({ quarantine: entry.id, connector: entry.connectorId }, 'quarantine entry discarded');
      return { ...entry, resolution };
    });

    typed.get('/v1/connectors', { schema: { tags: ['operations'], summary: 'The configured connectors with their counts and live state', response: { 200: api.connectorsList, ...api.errorResponses } } }, async () => {
      const stats = new Map((await ctx.store.connectorStats()).map((s) => [s.connectorId, s]));
      const now = Date.now();
      return {
        connectors: [...ctx.connectors.values()].map((c) => {
          const s = stats.get(c.id);
          return {
            id: c.id,
            platform: c.definition.platform,
            ingest: Boolean(c.definition.ingest && c.ingestToken),
            events: s?.events ?? 0,
            quarantined: s?.quarantined ?? 0,
            lastEvent: s?.lastSequence === undefined ? null : { sequence: formatSequence(s.lastSequence), receivedAt: s.lastReceivedAt },
            secondsSinceLastEvent: s?.lastReceivedAt ? Math.round((now - Date.parse(s.lastReceivedAt)) / 1000) : null,
            ...c.status(),
          };
        }),
      };
    });

    for (const f of ctx.features) await f.routes?.(v1);

    // Every type's data schema. An event's `dataschema` (urn:switchboard:schema:v1:<type>) names
    // its schema: `GET /v1/schemas/<type>` answers it, and so does the URN itself in the path.
    typed.get('/v1/schemas', { schema: { tags: ['operations'], summary: "Every event type with its data schema's URN and path", response: { 200: api.schemasList, ...api.errorResponses } } }, async () => ({
      schemas: EVENT_TYPES.map((type) => ({ type, dataschema: dataSchemaUri(type), url: `/v1/schemas/${type}` })),
    }));
    typed.get('/v1/schemas/:type', { schema: { tags: ['operations'], summary: "An event type's data schema (JSON Schema 2020-12)", params: api.typeParams, response: { 200: api.jsonSchema, ...api.errorResponses } } }, async (req) => {
      const type = req.params.type.replace(/\.json$/, '').replace(/^urn:switchboard:schema:v1:/, '');
      if (!isEventType(type)) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no event type ${type}; GET /v1/schemas lists them`);
      return dataJsonSchema(type);
    });
  });

  return app;
}

/**
 * An event's SSE frame, encoded once and shared by every subscriber that gets the same stored
 * event from the bus's window (held as long as the event is).
 */
const frames = new WeakMap<StoredEvent, Buffer>();
function frameOf(e: StoredEvent): Buffer {
  let frame = frames.get(e);
  if (!frame) {
    frame = Buffer.from(`id: ${formatSequence(e.seq)}\nevent: ${e.type}\ndata: ${e.json}\n\n`);
    frames.set(e, frame);
  }
  return frame;
}

/**
 * A page of events as one buffer, written with one call. Subscribers with the same filters read
 * the same pages from the bus's window (the events one commit published), so a page's buffer is
 * kept with its first event (as long as the window holds that) and shared: one copy per page,
 * not one per subscriber.
 */
const pageBuffers = new WeakMap<StoredEvent, { items: readonly StoredEvent[]; buf: Buffer }>();
function pageOf(page: readonly StoredEvent[]): Buffer {
  const first = page[0] as StoredEvent;
  if (page.length === 1) return frameOf(first);
  const hit = pageBuffers.get(first);
  if (hit && hit.items.length === page.length && hit.items.every((e, i) => e === page[i])) return hit.buf;
  const buf = Buffer.concat(page.map(frameOf));
  pageBuffers.set(first, { items: page, buf });
  return buf;
}

/** Events per SSE write: bounds what one subscriber that lags holds in its socket's buffer. */
const STREAM_PAGE_EVENTS = 500;

/** Resolves when the response can take more, or on abort; leaves no listener behind either way. */
function drained(res: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.removeListener('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A reader resuming after `after`, when retention removed events after it, gets `410` naming the horizon. */
async function refuseGone(ctx: AppContext, after: number): Promise<void> {
  if (after === 0) return;
  const horizon = await ctx.store.retention.horizon();
  if (after < horizon) {
    throw new SwitchboardError('SB_ERR_EVENTS_GONE', `events after sequence ${after} were removed by retention, up to sequence ${horizon} at most: resume with after=${horizon}, or from the start`, {
      detail: { after: formatSequence(after), horizon: formatSequence(horizon) },
    });
  }
}

async function streamEvents(ctx: AppContext, q: z.output<typeof api.streamQuery>, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (q.before !== undefined || q.order !== undefined) throw new ValidationError('SB_ERR_QUERY_INVALID', 'invalid query: before and order are for GET /v1/events; the stream goes forward from after (or Last-Event-ID)');
  const lastEventId = req.headers['last-event-id'];
  const resumeRaw = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : q.after;
  if (resumeRaw !== undefined && !/^\d{1,16}$/.test(resumeRaw)) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid resume point: expected a sequence (digits), found ${JSON.stringify(resumeRaw)}`);
  const filter = filterOf(q);
  const start = resumeRaw === undefined ? ctx.bus.latestSequence : Number(resumeRaw);
  const horizon = resumeRaw === undefined || start === 0 ? 0 : await ctx.store.retention.horizon();

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
  // Retention removed events after the resume point: say so before what is left (no id: the
  // client's Last-Event-ID stays until a real event comes).
  if (start > 0 && start < horizon) res.write(`event: gap\ndata: ${JSON.stringify({ after: formatSequence(start), horizon: formatSequence(horizon), reason: 'retention' })}\n\n`);
  const abort = new AbortController();
  const stop = () => abort.abort();
  req.raw.on('close', stop);
  ctx.shutdown.addEventListener('abort', stop, { once: true });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
  ctx.metrics.streamClients.inc();
  try {
    for await (const page of followPages(ctx.store, ctx.bus, filter, start, { signal: abort.signal, pageSize: STREAM_PAGE_EVENTS })) {
      const ok = res.write(pageOf(page));
      if (!ok) await drained(res, abort.signal);
    }
  } catch (err) {
    req.log.warn({ err }, 'stream ended by an error');
  } finally {
    clearInterval(heartbeat);
    ctx.metrics.streamClients.dec();
    ctx.shutdown.removeEventListener('abort', stop);
    res.end();
  }
}
