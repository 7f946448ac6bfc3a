/**
 * The TWIN normalizer: one Centrifugo publication of the operator panel's live events (seed 002)
 * to normalized events. Pure: no I/O, no clock, no Node built-ins.
 *
 * The input is the publication as the connector hands it over: `{ channel, offset?, data }`, where
 * `data` is TWIN's payload `{ event: '<name>', data: {…} }` or, for some events,
 * `{ action: '<name>', data: {…} }`. The event name is the `nativetype`.
 *
 * Identity (the dedupe key, DESIGN §2): `${channel}|${epoch}|${offset}` (`${channel}|${offset}` when
 * the epoch is not known) when the publication has an offset
 * (the channel keeps history), else the SHA-256 of the canonical TWIN payload. Only
 * `chatSessionStarted`, `operatorNotFound` and `clientOffline` are typed by the seed and validated
 * in full; the other payloads are unconfirmed, so their fields are taken where present and their
 * shape never fails beyond "data must be an object". The table is in `docs/events.md` (### TWIN).
 */
import * as z from 'zod/mini';
import { collector, compact, describeValue, finite, idOf, invalidPayload, isRecord, nz, parseTime, parseWith, payloadHash, rec, refuseDeepNesting, unmapped } from '../../core/index.js';
import type { Attachment, Direction, NormalizeContext, Normalizer, Party, SwitchboardEvent } from '../../core/index.js';

const PLATFORM = 'twin';

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

/** Parses with a schema or throws `SB_ERR_INGEST_INVALID_PAYLOAD` naming the paths from the publication root. */
const parse = <S extends z.ZodMiniType>(schema: S, data: unknown, what: string): z.infer<S> => parseWith(schema, data, what, 'data.data');

/** The first of several fields that holds an id. */
function firstId(d: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const id = idOf(d[key]);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * The event time from the first of `values` the kit's `parseTime` reads (ISO 8601 with a zone, or
 * Unix seconds or milliseconds). Undefined (→ the receipt time) when none is: a zone-less string
 * would be read in the host's zone, so it is not trusted.
 */
function timeOf(...values: unknown[]): string | undefined {
  for (const v of values) {
    const t = parseTime(v);
    if (t !== undefined) return t;
  }
  return undefined;
}

// ─── schemas: the payloads the seed types; extra fields are allowed ───────────────────────────

const str = z.string();
const nullableStr = z.nullable(z.string());
const optNullableStr = z.optional(z.nullable(z.string()));
const optNullableNum = z.optional(z.nullable(z.number()));

/** `chatSessionStarted` data, field for field as the seed types it. */
const sessionStartedSchema = z.looseObject({
  id: str,
  chatId: str,
  clientId: nullableStr,
  name: str,
  markedAsSpam: z.boolean(),
  operatorId: z.nullable(z.union([z.string(), z.number()])),
  operatorType: z.optional(str),
  channel: str,
  botStatus: optNullableStr,
  status: str,
  startedAt: str,
  clientOnlineAt: optNullableStr,
  clientOfflineAt: optNullableStr,
  lastMessageCreatedAt: nullableStr,
  lastMessage: z.optional(z.unknown()),
  clientExternalId: optNullableStr,
  clientBanned: z.optional(z.nullable(z.boolean())),
  referer: z.optional(str),
  clientIp: optNullableStr,
  coordinates: z.optional(
    z.nullable(
      z.looseObject({
        city: optNullableStr,
        latitude: optNullableNum,
        zip_code: optNullableStr,
        longitude: optNullableNum,
        time_zone: optNullableStr,
        region_name: optNullableStr,
        country_code: optNullableStr,
        country_name: optNullableStr,
      }),
    ),
  ),
  unreadClientMessageCount: optNullableNum,
  unreadClientMessageExists: z.optional(z.nullable(z.boolean())),
  messengerType: optNullableStr,
  whatsappPhone: optNullableStr,
  timerFirstAnswer: z.optional(z.number()),
  timerNextAnswers: z.optional(z.number()),
  lastOperatorMessage: z.optional(z.unknown()),
  firstClientMessageAfterLastOperatorMessage: z.optional(z.unknown()),
  operatorAssignedAt: nullableStr,
  previousOperator: z.optional(z.nullable(z.looseObject({ id: optNullableStr, name: optNullableStr }))),
});

/** `operatorNotFound` data (seed: `{ action: 'operatorNotFound', data: {…} }`). */
const operatorNotFoundSchema = z.looseObject({ botStatus: str, chatId: str, operatorType: str, sessionId: str, status: str });

/** `clientOffline` data (seed: `{ action: 'clientOffline', data: { id } }`). */
const clientOfflineSchema = z.looseObject({ id: str });

// ─── the publication ─────────────────────────────────────────────────────────────────────────

/** One publication, read: what every handler needs. */
interface Publication {
  /** The publication exactly as handed over: `data.native` of every event. */
  readonly native: Record<string, unknown>;
  /** The event name (`event`, else `action`): the `nativetype`. */
  readonly name: string;
  /** The TWIN payload's `data`; `{}` where it may be absent. */
  readonly data: Record<string, unknown>;
  /** The dedupe identity. */
  readonly identity: string;
}

function emitter(pub: Publication, ctx: NormalizeContext) {
  return collector(PLATFORM, ctx, pub.native, pub.identity, pub.name);
}

/** A known event whose payload lacks what its mapping needs: kept whole as `native.unmapped`. */
function keep(pub: Publication, ctx: NormalizeContext, reason: string): SwitchboardEvent[] {
  return [unmapped(PLATFORM, ctx, pub.native, pub.name, reason, pub.identity)];
}

// ─── parties and keys ────────────────────────────────────────────────────────────────────────

/**
 * The conversation key: `chatId`, else `sessionId`, else (for payloads that are a session, whose
 * `id` is the session id) `id`. One chat keeps its subject across its sessions.
 */
function conversationKey(d: Record<string, unknown>, sessionLike: boolean): string | undefined {
  return firstId(d, sessionLike ? ['chatId', 'sessionId', 'id'] : ['chatId', 'sessionId']);
}

function operatorParty(operatorId: unknown): Party | undefined {
  const id = idOf(operatorId);
  return id === undefined ? undefined : { id, role: 'operator' };
}

function clientParty(id: string | undefined, name?: string, phone?: string): Party | undefined {
  return id === undefined && name === undefined && phone === undefined ? undefined : compact({ id, name, phone, role: 'client' as const });
}

/** Digits of a phone number (`+7 900 123-45-67` → `79001234567`), else undefined. */
function digits(v: unknown): string | undefined {
  const d = typeof v === 'string' ? v.replace(/\D/g, '') : '';
  return d === '' ? undefined : d;
}

/** The conversation fields of a session payload (`chatSessionStarted` and the other session events). */
function sessionFields(d: Record<string, unknown>, conversationId: string) {
  return compact({
    conversationId,
    // `name` is the chat's display name in the operator panel: the client's name.
    client: clientParty(idOf(d.clientId), nz(d.name), digits(d.whatsappPhone)),
    operator: operatorParty(d.operatorId),
    channel: nz(d.channel),
  });
}

// ─── the author rule: who wrote a message (or is typing) ──────────────────────────────────────
// TWIN's message payloads are unconfirmed. Every decision about the author is here, so that it
// can be corrected in one place once real payloads are seen.

type Side = 'client' | 'operator' | 'bot' | 'system';

const SIDE_WORDS: Readonly<Record<string, Side>> = {
  client: 'client',
  customer: 'client',
  user: 'client',
  contact: 'client',
  visitor: 'client',
  operator: 'operator',
  agent: 'operator',
  manager: 'operator',
  employee: 'operator',
  bot: 'bot',
  system: 'system',
};

const DIRECTION_WORDS: Readonly<Record<string, Side>> = {
  in: 'client',
  inbound: 'client',
  incoming: 'client',
  out: 'operator',
  outbound: 'operator',
  outgoing: 'operator',
};

function word(table: Readonly<Record<string, Side>>, v: unknown): Side | undefined {
  return typeof v === 'string' && Object.hasOwn(table, v.toLowerCase()) ? table[v.toLowerCase()] : undefined;
}

/**
 * The author's side from explicit fields only, most specific first: `authorType`/`senderType`/
 * `author.type`/`author.role` (`client`, `customer`, `user`, `contact`, `visitor` → client;
 * `operator`, `agent`, `manager`, `employee` → operator; `bot`; `system`); then `isClient`/
 * `fromClient` (boolean); then `direction` (`in`/`inbound`/`incoming` → client,
 * `out`/`outbound`/`outgoing` → operator).
 */
function explicitSide(d: Record<string, unknown>): Side | undefined {
  const author = rec(d.author);
  const typed = word(SIDE_WORDS, d.authorType) ?? word(SIDE_WORDS, d.senderType) ?? word(SIDE_WORDS, author.type) ?? word(SIDE_WORDS, author.role);
  if (typed) return typed;
  for (const key of ['isClient', 'fromClient']) {
    const v = d[key];
    if (typeof v === 'boolean') return v ? 'client' : 'operator';
  }
  return word(DIRECTION_WORDS, d.direction);
}

/** Who wrote a message: the explicit fields, else an `operatorId` on the message (operator), else the client. */
function messageSide(d: Record<string, unknown>): Side {
  return explicitSide(d) ?? (idOf(d.operatorId) !== undefined ? 'operator' : 'client');
}

function directionOf(side: Side): Direction {
  return side === 'client' ? 'inbound' : 'outbound';
}

/** The author party of a message: `author.id`/`author.name` when given, else the client or operator id. */
function authorParty(d: Record<string, unknown>, side: Side): Party {
  const author = rec(d.author);
  const fallbackId = side === 'client' ? idOf(d.clientId) : side === 'operator' ? idOf(d.operatorId) : undefined;
  return compact({ id: idOf(author.id) ?? fallbackId, name: nz(author.name) ?? nz(d.authorName) ?? nz(d.senderName), role: side });
}

/** Who is typing: the explicit fields, else the client (the operator receives the client's typing). */
function typingSide(d: Record<string, unknown>): 'client' | 'operator' | 'bot' {
  const side = explicitSide(d);
  return side === 'operator' || side === 'bot' ? side : 'client';
}

// ─── sessions ─────────────────────────────────────────────────────────────────────────────────

function chatSessionStarted(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const d = parse(sessionStartedSchema, pub.data, 'chatSessionStarted');
  const out = emitter(pub, ctx);
  out.emit('conversation.opened', `conversation/${d.chatId}`, sessionFields(d, d.chatId), timeOf(d.startedAt));
  return out.events;
}

function operatorNotFound(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const d = parse(operatorNotFoundSchema, pub.data, 'operatorNotFound');
  const out = emitter(pub, ctx);
  // botStatus (e.g. `HELP`), operatorType, sessionId and status stay in `native`.
  out.emit('conversation.operator-not-found', `conversation/${d.chatId}`, { conversationId: d.chatId });
  return out.events;
}

type SessionType = 'conversation.assigned' | 'conversation.unassigned' | 'conversation.handed-to-operator';

/** A session event with an unconfirmed payload: the session's fields where present. */
function sessionEvent(type: SessionType, timeKeys: readonly string[]) {
  return (pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] => {
    const d = pub.data;
    const key = conversationKey(d, true);
    if (key === undefined) return keep(pub, ctx, `${pub.name} without a conversation id (data.chatId, data.sessionId or data.id)`);
    const out = emitter(pub, ctx);
    out.emit(type, `conversation/${key}`, sessionFields(d, key), timeOf(...timeKeys.map((k) => d[k])));
    return out.events;
  };
}

function sessionClosedByClient(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const d = pub.data;
  const key = conversationKey(d, true);
  if (key === undefined) return keep(pub, ctx, 'sessionClosedByClient without a conversation id (data.chatId, data.sessionId or data.id)');
  const out = emitter(pub, ctx);
  out.emit('conversation.closed', `conversation/${key}`, { ...sessionFields(d, key), by: 'client' }, timeOf(d.closedAt, d.finishedAt, d.endedAt));
  return out.events;
}

// ─── messages ─────────────────────────────────────────────────────────────────────────────────

/** The message of a message event: `data.message` when it is an object, else `data` itself. */
function messageOf(d: Record<string, unknown>): Record<string, unknown> {
  return isRecord(d.message) ? d.message : d;
}

function attachmentOf(v: unknown): Attachment {
  if (typeof v === 'string') return v === '' ? {} : { url: v };
  const a = rec(v);
  return compact({
    url: nz(a.url) ?? nz(a.link),
    name: nz(a.name) ?? nz(a.fileName) ?? nz(a.filename),
    mimeType: nz(a.mimeType) ?? nz(a.mime) ?? nz(a.contentType),
    size: finite(a.size),
    caption: nz(a.caption),
  });
}

function attachmentsOf(m: Record<string, unknown>): Attachment[] {
  const list = Array.isArray(m.attachments) ? m.attachments : Array.isArray(m.files) ? m.files : [];
  return list.map(attachmentOf);
}

/** The message text: `text`, else `message` or `body` when they are strings. */
function textOf(m: Record<string, unknown>): string | undefined {
  for (const key of ['text', 'message', 'body']) {
    const v = m[key];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

function chatMessageCreated(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const m = messageOf(pub.data);
  const key = conversationKey(m, false) ?? conversationKey(pub.data, false);
  if (key === undefined) return keep(pub, ctx, 'chatMessageCreated without a conversation id (data.chatId or data.sessionId)');
  const messageId = firstId(m, ['id', 'messageId']);
  if (messageId === undefined) return keep(pub, ctx, 'chatMessageCreated without a message id (data.id or data.messageId)');
  const side = messageSide(m);
  const text = textOf(m);
  const attachments = attachmentsOf(m);
  const out = emitter(pub, ctx);
  out.emit(
    'message.created',
    `conversation/${key}`,
    compact({
      conversationId: key,
      client: clientParty(idOf(m.clientId)),
      operator: operatorParty(m.operatorId),
      messageId,
      direction: directionOf(side),
      author: authorParty(m, side),
      kind: attachments.length > 0 ? 'file' : text !== undefined ? 'text' : undefined,
      text,
      attachments,
      quickReplies: [],
    }),
    timeOf(m.createdAt),
  );
  return out.events;
}

function chatMessageEdited(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const m = messageOf(pub.data);
  const key = conversationKey(m, false) ?? conversationKey(pub.data, false);
  if (key === undefined) return keep(pub, ctx, 'chatMessageEdited without a conversation id (data.chatId or data.sessionId)');
  const messageId = firstId(m, ['id', 'messageId']);
  if (messageId === undefined) return keep(pub, ctx, 'chatMessageEdited without a message id (data.id or data.messageId)');
  const out = emitter(pub, ctx);
  // The seed: "one of the operators edited a message in the chat".
  const editor = compact({ id: idOf(m.editedBy) ?? idOf(m.operatorId), role: 'operator' as const });
  out.emit('message.edited', `conversation/${key}`, compact({ conversationId: key, messageId, text: textOf(m), author: editor }), timeOf(m.updatedAt, m.editedAt));
  return out.events;
}

/** The ids a read receipt covers: `messageIds`, else `messageId`, else `ids`, else `id`; each a single id or an array. */
function messageIdsOf(d: Record<string, unknown>): string[] {
  for (const key of ['messageIds', 'messageId', 'ids', 'id']) {
    const v = d[key];
    const ids = (Array.isArray(v) ? v : [v]).map(idOf).filter((id): id is string => id !== undefined);
    if (ids.length > 0) return ids;
  }
  return [];
}

function chatMessageRead(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const m = messageOf(pub.data);
  const key = conversationKey(m, false) ?? conversationKey(pub.data, false);
  if (key === undefined) return keep(pub, ctx, 'chatMessageRead without a conversation id (data.chatId or data.sessionId)');
  const messageIds = messageIdsOf(m);
  if (messageIds.length === 0) return keep(pub, ctx, 'chatMessageRead without message ids (data.messageIds, data.messageId, data.ids or data.id)');
  const out = emitter(pub, ctx);
  // The client read the operator's messages.
  out.emit('message.status-changed', `conversation/${key}`, compact({ conversationId: key, client: clientParty(idOf(m.clientId)), messageIds, status: 'read' }), timeOf(m.readAt));
  return out.events;
}

function typing(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const d = pub.data;
  const key = conversationKey(d, false);
  if (key === undefined) return keep(pub, ctx, 'typing without a conversation id (data.chatId or data.sessionId)');
  const out = emitter(pub, ctx);
  out.emit('conversation.typing', `conversation/${key}`, compact({ conversationId: key, client: clientParty(idOf(d.clientId)), by: typingSide(d) }));
  return out.events;
}

// ─── operator and client ─────────────────────────────────────────────────────────────────────

type RevokeReason = 'blocked' | 'logged-in-elsewhere' | 'logged-out';

/** The operator's session ended; subject `operator/<operatorId, else id, else "self">`. */
function sessionRevoked(reason: RevokeReason) {
  return (pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] => {
    const operatorId = firstId(pub.data, ['operatorId', 'id']);
    const out = emitter(pub, ctx);
    out.emit('operator.session-revoked', `operator/${operatorId ?? 'self'}`, compact({ operatorId, reason }));
    return out.events;
  };
}

function presence(clientId: string, online: boolean, d: Record<string, unknown>, pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const out = emitter(pub, ctx);
  out.emit('client.presence-changed', `client/${clientId}`, compact({ clientId, online, conversationId: idOf(d.chatId) }), timeOf(online ? d.clientOnlineAt : d.clientOfflineAt));
  return out.events;
}

function clientOnline(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const clientId = firstId(pub.data, ['id', 'clientId']);
  if (clientId === undefined) return keep(pub, ctx, 'clientOnline without a client id (data.id or data.clientId)');
  return presence(clientId, true, pub.data, pub, ctx);
}

function clientOffline(pub: Publication, ctx: NormalizeContext): SwitchboardEvent[] {
  const d = parse(clientOfflineSchema, pub.data, 'clientOffline');
  return presence(d.id, false, d, pub, ctx);
}

// ─── entry point ──────────────────────────────────────────────────────────────────────────────

type Handler = (pub: Publication, ctx: NormalizeContext) => SwitchboardEvent[];

/** The seed's events, in its order. */
const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['chatSessionStarted', chatSessionStarted],
  ['operatorNotFound', operatorNotFound],
  ['chatSessionAdded', sessionEvent('conversation.assigned', ['operatorAssignedAt'])],
  ['chatMessageCreated', chatMessageCreated],
  ['chatMessageEdited', chatMessageEdited],
  ['chatMessageRead', chatMessageRead],
  ['chatSessionDeleted', sessionEvent('conversation.unassigned', [])],
  ['chatSessionSwitchedFromBotToOperator', sessionEvent('conversation.handed-to-operator', [])],
  ['sessionClosedByClient', sessionClosedByClient],
  ['operatorBlocked', sessionRevoked('blocked')],
  ['chatUserExists', sessionRevoked('logged-in-elsewhere')],
  ['typing', typing],
  ['operatorLoggedOut', sessionRevoked('logged-out')],
  ['clientOnline', clientOnline],
  ['clientOffline', clientOffline],
]);

/** Events whose mapping needs nothing from `data`, which may then be absent or null. */
const DATA_OPTIONAL: ReadonlySet<string> = new Set(['operatorBlocked', 'chatUserExists', 'operatorLoggedOut']);

/** The event name: `event` when it is a non-empty string, else `action`. */
function eventName(payload: Record<string, unknown>): string {
  const name = nz(payload.event) ?? nz(payload.action);
  if (name === undefined) {
    invalidPayload(
      `twin: at data.event: expected a non-empty string (or one in data.action), found ${describeValue(payload.event)}` +
        (payload.action === undefined ? '' : ` (data.action: ${describeValue(payload.action)})`),
    );
  }
  return name;
}

/**
 * Normalizes one TWIN publication `{ channel, offset?, data }` from the Centrifugo connection.
 *
 * @example
 * const events = normalizeTwin(
 *   { channel: 'notifications#17', offset: 42,
 *     data: { action: 'clientOffline', data: { id: 'c1a2b3' } } },
 *   { connectorId: 'twin-main', receivedAt: '2024-06-03T09:15:00.000Z' });
 * // → [client.presence-changed on subject client/c1a2b3, online: false]
 */
export const normalizeTwin: Normalizer = (payload, ctx) => {
  if (!isRecord(payload)) invalidPayload(`twin: expected a publication object { channel, offset?, data }, found ${describeValue(payload)}`);
  refuseDeepNesting(payload, 'twin: the publication');
  const { channel, offset, data, epoch } = payload;
  if (typeof channel !== 'string' || channel === '') invalidPayload(`twin: at channel: expected a non-empty string, found ${describeValue(channel)}`);
  if (offset !== undefined && offset !== null && !(typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)) {
    invalidPayload(`twin: at offset: expected a non-negative integer, found ${describeValue(offset)}`);
  }
  if (!isRecord(data)) invalidPayload(`twin: at data: expected the TWIN payload object { event | action, data }, found ${describeValue(data)}`);
  const name = eventName(data);
  // Centrifugo offsets start at 1; 0 (or none) means the channel keeps no history. Offsets restart
  // with a new epoch, so the epoch is part of the key when the connection knows it.
  const position = typeof epoch === 'string' && epoch !== '' ? `${epoch}|${offset}` : `${offset}`;
  const identity = typeof offset === 'number' && offset > 0 ? `${channel}|${position}` : payloadHash(data, 'twin: the publication');

  const handler = HANDLERS.get(name);
  if (!handler) return [unmapped(PLATFORM, ctx, payload, name, `no mapping for TWIN event "${name}"`, identity)];

  const inner = data.data;
  if (!isRecord(inner) && !(DATA_OPTIONAL.has(name) && (inner === undefined || inner === null))) {
    invalidPayload(`${name}: at data.data: expected object, found ${describeValue(inner)}`);
  }
  return handler({ native: payload, name, data: isRecord(inner) ? inner : {}, identity }, ctx);
};
