/**
 * The schemas of the HTTP API (DESIGN §4): the query strings, path parameters and bodies that
 * routes declare — Fastify validates requests with them (`zodValidatorCompiler`) — and the answers
 * they give. `@fastify/swagger` turns the same schemas into the OpenAPI 3.1 document served at
 * `/openapi.json` and committed as `docs/openapi.json` (issue 18). Schemas registered in
 * `API_REGISTRY` become named components.
 */
import * as z from 'zod/mini';
import { CALL_OUTCOMES, EVENT_TYPES, PLATFORMS, ValidationError } from '../../core/index.js';
import { partySchema } from '../../core/catalog.js';
import { CONVERSATION_STATES } from '../projections/fold.js';

/** Named components of the OpenAPI document (`#/components/schemas/<id>`). */
export const API_REGISTRY = z.registry<{ id: string; description?: string }>();

export function named<T extends z.core.$ZodType>(id: string, schema: T, description?: string): T {
  API_REGISTRY.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

/** A string with its description in the API document. */
export const text = (description: string) => z.string().check(z.describe(description));
const opt = <T extends z.core.$ZodType>(schema: T) => z.optional(schema);

// ---------------------------------------------------------------------------------------------
// Requests

const SEQUENCE_RE = /^\d{1,16}$/;
const sequenceParam = (description: string) => opt(z.string().check(z.regex(SEQUENCE_RE), z.describe(description)));
const limitParam = opt(z.string().check(z.regex(/^\d{1,4}$/), z.describe('Items per page, 1..1000 (default 100).')));

/** A `limit` query parameter (checked for digits by `limitParam`) as a number within 1..1000. */
export function pageLimit(raw: string | undefined, fallback = 100): number {
  const n = raw === undefined ? fallback : Number(raw);
  if (n < 1 || n > 1000) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at limit: expected 1..1000, found ${raw}`);
  return n;
}
/** `GET /v1/stream` (and the other `/v1` GETs, for compatibility) may carry the API token in the query. */
const accessToken = opt(z.string().check(z.describe('The API token, for clients that cannot set the Authorization header (EventSource); prefer a ticket (POST /v1/stream/tickets).')));

const eventFilters = {
  type: opt(z.string().check(z.regex(/^[a-z0-9.*,\s-]+$/), z.describe('Type patterns, comma-separated: call.ended, call.*, *.'))),
  platform: opt(text(`The platform: ${PLATFORMS.join(', ')}.`)),
  subject: opt(text('The subject, e.g. call/<id> or conversation/<id>.')),
  connector: opt(text("The connector's id.")),
};

export const eventsQuery = z.object({
  ...eventFilters,
  after: sequenceParam('Events after this sequence.'),
  before: sequenceParam('Events before this sequence.'),
  order: opt(z.enum(['asc', 'desc']).check(z.describe('`desc` gives the newest first (default asc).'))),
  limit: limitParam,
  access_token: accessToken,
});

export const streamQuery = z.object({
  ...eventFilters,
  after: sequenceParam('Resume after this sequence (the Last-Event-ID header takes precedence); without it, only events committed from now on.'),
  /** Refused with a clear answer: the stream goes forward. */
  before: opt(text('Not taken by the stream (GET /v1/events takes it).')),
  order: opt(text('Not taken by the stream (GET /v1/events takes it).')),
  access_token: accessToken,
  ticket: opt(text('A one-use ticket from POST /v1/stream/tickets, for EventSource.')),
});

export const quarantineQuery = z.object({
  after: opt(text('Entries after this id.')),
  status: opt(z.enum(['open', 'retried', 'discarded']).check(z.describe('Only open entries, or those retried or discarded (default: all).'))),
  limit: limitParam,
  connector: opt(text("The connector's id.")),
  access_token: accessToken,
});

const listQuery = {
  after: opt(text('The `next` of the previous page.')),
  limit: limitParam,
  platform: opt(text(`The platform: ${PLATFORMS.join(', ')}.`)),
  connector: opt(text("The connector's id.")),
  access_token: accessToken,
};

export const callsQuery = z.object({
  ...listQuery,
  outcome: opt(z.enum(CALL_OUTCOMES)),
  state: opt(text('The call state, e.g. ringing, answered, ended.')),
  from: opt(z.iso.datetime({ offset: true }).check(z.describe('Calls that rang at or after this time.'))),
  to: opt(z.iso.datetime({ offset: true }).check(z.describe('Calls that rang before this time.'))),
  party: opt(z.string().check(z.minLength(1), z.describe("A party's id or phone number."))),
  conversation: opt(z.string().check(z.minLength(1), z.describe("A conversation's id <connectorId>:<key> (a call's `conversation`)."))),
});

export const conversationsQuery = z.object({ ...listQuery, state: opt(z.enum(CONVERSATION_STATES)), client: opt(text("The client's id.")) });
export const operatorsQuery = z.object({ ...listQuery, status: opt(text('online, offline, away, busy, revoked, …')) });

export const statsQuery = z.object({
  from: opt(z.iso.datetime({ offset: true }).check(z.describe('Start (inclusive) of the calls that rang and chats that opened; default: 24 hours before `to`.'))),
  to: opt(z.iso.datetime({ offset: true }).check(z.describe('End (exclusive); default: now.'))),
  bucket: opt(z.enum(['hour', 'day']).check(z.describe('Rows per hour or per day (in `tz`); absent: one total per group.'))),
  by: opt(z.enum(['platform', 'connector', 'operator']).check(z.describe('Rows per platform, connector or operator (<connectorId>:<operatorId>).'))),
  tz: opt(text('The IANA time zone of the day buckets, e.g. Europe/Moscow (default UTC).')),
  platform: opt(text(`Only this platform: ${PLATFORMS.join(', ')}.`)),
  connector: opt(text('Only this connector.')),
  access_token: accessToken,
});

export const idParams = z.object({ id: text('<connectorId>:<key> for calls and conversations; the id itself elsewhere.') });
export const eventIdParams = z.object({ id: text("The event's id.") });
export const typeParams = z.object({ type: text('An event type (call.ended) or its dataschema URN.') });
export const connectorParams = z.object({ connectorId: text("The connector's id (config `connectors[].id`).") });

// ---------------------------------------------------------------------------------------------
// Answers

export const errorBody = named(
  'Error',
  z.object({
    error: z.looseObject({
      code: text('A stable code from docs/errors.md, e.g. SB_ERR_QUERY_INVALID.'),
      message: text('What was wrong, in words.'),
    }).check(z.describe('Some errors add machine-readable detail beside code and message (docs/errors.md).')),
  }),
  'Every error answer (docs/errors.md).',
);

const party = named('Party', partySchema, 'A person or line taking part: its id on the platform, name, phone number, role.');

export const cloudEvent = named(
  'CloudEvent',
  z.object({
    specversion: z.literal('1.0'),
    id: text("The event's id: the same for the same native fact, whatever delivered it and how often."),
    source: text('switchboard/<platform>/<connectorId>'),
    type: z.enum(EVENT_TYPES),
    subject: text('The entity: call/…, conversation/…, operator/…, client/…, channel/…'),
    time: z.string().check(z.describe("The platform's time of the fact (UTC), else the receipt time (then timesource is receipt).")),
    timesource: opt(z.literal('receipt')),
    traceparent: opt(z.string().check(z.regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/), z.describe('The W3C trace context of the ingest that stored the event, when tracing is on (CloudEvents distributed-tracing extension).'))),
    datacontenttype: z.literal('application/json'),
    dataschema: text('urn:switchboard:schema:v1:<type>; served at GET /v1/schemas/<type>.'),
    platform: z.enum(PLATFORMS),
    nativetype: text("The platform's own name of what it sent."),
    sequence: opt(z.string().check(z.regex(/^\d{16}$/), z.describe("The store's order: 16 digits, increasing."))),
    data: z.record(z.string(), z.unknown()).check(z.describe("The type's data (its schema: GET /v1/schemas/<type>), with `native`: the platform's payload.")),
  }),
  'A Switchboard event: a CloudEvents 1.0 envelope (docs/events.md).',
);

const nextCursor = z.nullable(text('The `after` of the next page; null on the last one.'));

export const eventsPage = z.object({ events: z.array(cloudEvent), next: z.nullable(text('The cursor of the next page: its `after` in ascending order, its `before` newest first; null on the last one.')) });

export const ingestResult = named(
  'IngestResult',
  z.object({
    accepted: z.number(),
    duplicates: z.number(),
    events: z.number().check(z.describe('Events newly stored.')),
    rejected: z.array(z.object({ index: z.number(), code: z.string(), reason: z.string(), quarantineId: z.string() })),
  }),
  'What an ingest did with the payloads of its body.',
);

/** 400: a body that could not be read at all, or whose every payload was rejected (then with the counts). */
export const ingestRefused = named(
  'IngestRefused',
  z.object({
    error: z.looseObject({
      code: text('SB_ERR_INGEST_MALFORMED, SB_ERR_INGEST_INVALID_PAYLOAD or SB_ERR_INGEST_LIMIT.'),
      message: z.string(),
      quarantineId: opt(text('Where a body that could not be read is kept.')),
      accepted: opt(z.number()),
      duplicates: opt(z.number()),
      events: opt(z.number()),
      rejected: opt(ingestResult.shape.rejected.check(z.describe('With the counts when the body was read and every payload in it was rejected (each kept in the quarantine).'))),
    }),
  }),
  'Nothing of the body was stored.',
);

export const streamHeaders = z.looseObject({ 'last-event-id': opt(text('The sequence of the last event received: the stream resumes after it.')) });
export const sseStream = text('id: <sequence>\nevent: <type>\ndata: <CloudEvent JSON>\n\n, repeated; a comment line `: ping` every 15 s.');

const quarantineResolution = named(
  'QuarantineResolution',
  z.object({
    action: z.enum(['retried', 'discarded']),
    at: z.string(),
    result: opt(z.object({ accepted: z.number(), duplicates: z.number(), events: z.number(), rejected: z.number() })),
  }),
  'What became of the entry: re-ingested after a fix (with the counts), or discarded.',
);

export const quarantineEntry = named(
  'QuarantineEntry',
  z.object({
    id: z.string(),
    connectorId: z.string(),
    receivedAt: z.string(),
    code: z.string(),
    reason: z.string(),
    contentType: opt(z.string()),
    raw: text('The input as received: its text, or with rawEncoding base64 its bytes.'),
    rawEncoding: opt(z.literal('base64')),
    resolution: opt(quarantineResolution),
  }),
);

export const quarantinePage = z.object({ items: z.array(quarantineEntry), next: nextCursor });
export const quarantineRetried = z.object({ entry: quarantineEntry, result: ingestResult });

export const connectorsList = z.object({
  connectors: z.array(
    z.looseObject({
      id: z.string(),
      platform: z.enum(PLATFORMS),
      ingest: z.boolean().check(z.describe('Whether it takes pushed payloads at POST /ingest/<id>.')),
      events: z.number(),
      quarantined: z.number(),
      lastEvent: z.nullable(z.object({ sequence: z.string(), receivedAt: opt(z.string()) })),
      secondsSinceLastEvent: z.nullable(z.number()),
      transport: z.enum(['push', 'pull']),
      state: text('push: listening; pull: connecting, connected, backoff, standby (another instance holds its lease), stopped, …'),
      owner: opt(z.nullable(z.string()).check(z.describe('Pull, on a store several instances share: the instance that holds the lease and runs it (null: none right now).'))),
      instance: opt(z.string().check(z.describe('Pull, on a shared store: this instance, as leases name it.'))),
    }),
  ),
});

export const schemasList = z.object({ schemas: z.array(z.object({ type: z.enum(EVENT_TYPES), dataschema: z.string(), url: z.string() })) });
export const jsonSchema = z.record(z.string(), z.unknown()).check(z.describe('A JSON Schema 2020-12 document with $id = the dataschema URN.'));
export const streamTicket = z.object({ ticket: z.string(), expiresAt: z.string() });
export const session = z.object({ expiresAt: text('When the session ends; the cookie sb_session carries it.') });

export const call = named(
  'Call',
  z.object({
    id: text('<connectorId>:<callId>'),
    connectorId: z.string(),
    platform: z.string(),
    callId: z.string(),
    state: z.string(),
    direction: opt(z.string()),
    from: opt(party),
    to: opt(party),
    operator: opt(party),
    conversationId: opt(z.string()),
    conversation: opt(text('<connectorId>:<conversationId>: the conversation the call belongs to.')),
    video: opt(z.boolean()),
    outcome: opt(z.enum(CALL_OUTCOMES)),
    reason: opt(z.string()),
    ringingAt: opt(z.string()),
    answeredAt: opt(z.string()),
    endedAt: opt(z.string()),
    closedAt: opt(z.string()),
    durationSec: opt(z.number()),
    talkSec: opt(z.number()),
    rating: opt(z.number()),
    ratingScale: opt(z.number()),
    ratingComment: opt(z.string()),
    ratingSkipped: opt(z.boolean()),
    recordingUrl: opt(z.string()),
    redirects: z.number(),
    lastEventAt: z.string(),
    events: z.number(),
  }),
  'A call, folded from its events (docs/projections.md).',
);

export const callsPage = z.object({ calls: z.array(call), next: nextCursor });
export const callWithEvents = z.object({ call, events: z.array(cloudEvent) });

export const conversation = named(
  'Conversation',
  z.object({
    id: text('<connectorId>:<conversationId>'),
    connectorId: z.string(),
    platform: z.string(),
    conversationId: z.string(),
    state: z.enum(CONVERSATION_STATES),
    client: opt(party),
    operator: opt(party),
    channel: opt(z.string()),
    messages: z.number(),
    inbound: z.number(),
    outbound: z.number(),
    openedAt: z.string(),
    closedAt: opt(z.string()),
    rating: opt(z.number()),
    assignedAt: opt(text('When an operator was first assigned, where the platform says.')),
    firstResponseAt: opt(text('When the client wrote first: the first message to the client.')),
    firstResponseSec: opt(z.number().check(z.describe("Seconds from the client's first message to the first response."))),
    lastActivityAt: z.string(),
  }),
  'A conversation, folded from its events (docs/projections.md).',
);
export const conversationsPage = z.object({ conversations: z.array(conversation), next: nextCursor });

export const timeline = z.object({
  conversationId: z.string(),
  callRecords: text("The connector's call-record policy."),
  language: z.enum(['ru', 'en']),
  entries: z.array(
    named(
      'TimelineEntry',
      z.object({
        kind: z.enum(['message', 'state', 'call-record']),
        time: z.string(),
        sequence: z.string(),
        type: z.string(),
        eventId: z.string(),
        text: opt(z.string()),
        direction: opt(z.string()),
        author: opt(z.unknown()),
        callId: opt(z.string()),
        call: opt(text('<connectorId>:<callId>')),
        record: opt(z.string()),
      }),
    ),
  ),
});

export const operator = named(
  'Operator',
  z.object({
    id: text('<connectorId>:<operatorId>'),
    connectorId: z.string(),
    platform: z.string(),
    operatorId: z.string(),
    name: opt(z.string()),
    status: text('online, offline, away, busy, …, or revoked after a session revocation.'),
    nativeStatus: opt(z.string()),
    revokedReason: opt(z.string()),
    since: z.string(),
  }),
  "An operator's status, folded from its events (docs/projections.md).",
);
export const operatorsPage = z.object({ operators: z.array(operator), next: nextCursor });

const nullableNumber = (description: string) => z.nullable(z.number().check(z.describe(description)));
export const stats = z.object({
  from: z.string(),
  to: z.string(),
  tz: z.string(),
  bucket: z.nullable(z.enum(['hour', 'day'])),
  by: z.nullable(z.enum(['platform', 'connector', 'operator'])),
  serviceLevelSec: z.number(),
  shortAbandonSec: z.number(),
  rows: z.array(
    named(
      'StatsRow',
      z.object({
        period: z.nullable(text('The hour (UTC instant) or the day (in tz); null for the total.')),
        key: z.nullable(text('The platform, connector or <connectorId>:<operatorId>; null when not grouped (or no operator).')),
        calls: z.object({
          inbound: z.number(),
          answered: z.number(),
          missed: z.number(),
          abandoned: z.number(),
          shortAbandoned: z.number(),
          outbound: z.number(),
          outboundAnswered: z.number(),
          inProgress: z.number(),
          answerRate: nullableNumber('answered / inbound'),
          serviceLevel: nullableNumber('answered within serviceLevelSec / (inbound − shortAbandoned)'),
          averageSpeedOfAnswerSec: nullableNumber('Mean seconds from ringing to answer of answered inbound calls.'),
          averageTalkSec: nullableNumber('Mean talk seconds of answered calls.'),
        }),
        chats: z.object({
          opened: z.number().check(z.describe('Conversations opened in the window that hold at least one message.')),
          averageFirstResponseSec: nullableNumber("Mean seconds from the client's first message to the first message to the client, over conversations the client started."),
          responded: z.number(),
          averageTimeToAssignmentSec: nullableNumber('Mean seconds from opening to the first assignment to an operator, where the platform says.'),
          assigned: z.number(),
        }),
      }),
      'KPIs of one period and group (docs/projections.md, "KPIs").',
    ),
  ),
});

export const health = z.object({ status: z.literal('ok') });
export const readiness = z.object({ status: z.enum(['ready', 'not-ready']), store: z.boolean(), backlog: z.number() });

/** An error answer for OpenAPI's `default` response. */
export const errorResponses = { default: errorBody } as const;
