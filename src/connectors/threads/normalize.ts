/**
 * The edna Threads normalizer (seed 001): one push payload `{ origin: "threads", type, …payload }`
 * to normalized events. Pure: no I/O, no clock, no Node built-ins; small, because it also runs in
 * the browser module.
 *
 * Identity (the dedupe key, DESIGN §2): `${uuid ?? providerId ?? backendId}|${type}` when the push
 * has any of these ids, else the SHA-256 of the canonical payload. Subject:
 * `conversation/<threadId>`, or `conversation/unknown-thread` for pushes without one.
 * The mapping table is in `docs/events.md` (edna Threads).
 */
import { collector, compact, describeValue, idOf, invalidPayload, isRecord, jsonSyntaxMessage, num, nz, payloadHash, rec, refuseDeepNesting, parseTime, unmapped } from '../../core/index.js';
import type { Attachment, NormalizeContext, Normalizer, Party, SwitchboardEvent } from '../../core/index.js';

const PLATFORM = 'threads';

/** The conversation key of pushes without a `threadId`. */
export const UNKNOWN_THREAD = 'unknown-thread';

const LINE_BREAK = /[\n\r\u2028\u2029]/;

// ─── the push ─────────────────────────────────────────────────────────────────────────────────

interface Push {
  readonly p: Record<string, unknown>;
  readonly type: string;
  /** `uuid ?? providerId ?? backendId`, if any. */
  readonly messageId: string | undefined;
  readonly identity: string;
  readonly subject: string;
  readonly time: string | undefined;
  /** The fields every conversation event carries. */
  readonly base: { conversationId: string; client?: Party; operator?: Party };
  /** Parses the JSON strings the push holds (the server's applies the payload limits). */
  readonly parseJson: NormalizeContext['parseJson'];
}

/** `operator` as a party: `role: EXTERNAL_BOT` → bot, anything else → operator. */
function operatorOf(v: unknown): Party | undefined {
  if (!isRecord(v)) return undefined;
  return compact({ id: idOf(v.id), name: nz(v.name) ?? nz(v.alias), role: v.role === 'EXTERNAL_BOT' ? ('bot' as const) : ('operator' as const) });
}

/**
 * A JSON string field (`SURVEY`, `SCHEDULE`, `SCENARIO`: `text`), parsed by the context's
 * `parseJson` (on the server: within the payload limits); an object or array already parsed is
 * taken as is (the payload's own limits covered it).
 */
function jsonField(push: Push, key: string): unknown {
  const v = push.p[key];
  if (isRecord(v) || Array.isArray(v)) return v;
  const where = `threads ${push.type}: at ${key}`;
  if (typeof v !== 'string') return invalidPayload(`${where}: expected a JSON string, found ${describeValue(v)}`);
  let parsed: unknown;
  try {
    parsed = push.parseJson ? push.parseJson(v, where) : (JSON.parse(v) as unknown);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return invalidPayload(`${where}: malformed JSON: ${jsonSyntaxMessage(err)}`);
  }
  // Without the server's parseJson (the library, the browser module), nothing else bounds it.
  refuseDeepNesting(parsed, `${where}: the JSON`);
  return parsed;
}

/** `readInMessageIds`: a comma-separated string, a bracketed string `"[a, b]"` or an array. */
function readIds(push: Push): string[] {
  const v = push.p.readInMessageIds;
  const list = typeof v === 'string' ? v.replace(/^\s*\[|\]\s*$/g, '').split(',') : typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list)) {
    return invalidPayload(`threads ${push.type}: at readInMessageIds: expected a comma-separated string, a bracketed list or an array, found ${describeValue(v)}`);
  }
  const ids: string[] = [];
  for (const item of list as unknown[]) {
    const id = typeof item === 'string' ? item.trim().replace(/^["']|["']$/g, '') : idOf(item);
    if (id) ids.push(id);
  }
  return ids;
}

function attachmentOf(a: Record<string, unknown>): Attachment {
  const o = rec(a.optional);
  return compact({ url: nz(a.result) ?? nz(a.url), name: nz(o.name) ?? nz(a.name), mimeType: nz(o.type) ?? nz(a.type), size: num(o.size) ?? num(a.size) });
}

// ─── mappings ─────────────────────────────────────────────────────────────────────────────────

type Emit = ReturnType<typeof collector>['emit'];
type Mapping = (emit: Emit, push: Push) => void;

type Plain = 'conversation.opened' | 'conversation.queued' | 'conversation.assigned' | 'conversation.unassigned' | 'conversation.closed';

const plain =
  (type: Plain): Mapping =>
  (emit, push) => {
    emit(type, push.subject, push.base, push.time);
  };

/** The id of the message an edit or deletion concerns; required. */
function targetId(push: Push): string {
  return push.messageId ?? invalidPayload(`threads ${push.type}: expected the message's uuid, providerId or backendId, found none`);
}

const message: Mapping = (emit, push) => {
  const p = push.p;
  const operator = push.base.operator;
  const quote = Array.isArray(p.quotes) ? rec(p.quotes[0]) : {};
  const quoted = compact({ messageId: idOf(quote.uuid) ?? idOf(quote.providerId), text: nz(quote.text) });
  emit(
    'message.created',
    push.subject,
    compact({
      ...push.base,
      // Without any id the message is keyed by its payload: a redelivery still gets the same id.
      messageId: push.messageId ?? push.identity,
      // The SDK reads a push with an operator as the operator's phrase, else as the client's own.
      direction: operator ? ('outbound' as const) : ('inbound' as const),
      author: operator ?? compact({ id: push.base.client?.id, role: 'client' as const }),
      text: nz(p.text) ?? nz(p.formattedText),
      attachments: Array.isArray(p.attachments) ? p.attachments.filter(isRecord).map(attachmentOf) : [],
      quickReplies: Array.isArray(p.quickReplies)
        ? p.quickReplies.filter(isRecord).map((q) => compact({ text: typeof q.text === 'string' ? q.text : '', payload: nz(q.payload), url: nz(q.url), imageUrl: nz(q.imageUrl) }))
        : [],
      quoted: Object.keys(quoted).length > 0 ? quoted : undefined,
      hidden: p.display === false ? true : undefined,
      sentAt: push.time,
    }),
    push.time,
  );
};

const MAPPINGS: Readonly<Record<string, Mapping>> = {
  THREAD_OPENED: plain('conversation.opened'),
  THREAD_CLOSED: plain('conversation.closed'),
  TYPING: (emit, push) => {
    emit('conversation.typing', push.subject, { ...push.base, by: push.base.operator?.role === 'bot' ? 'bot' : 'operator' }, push.time);
  },
  SURVEY: (emit, push) => {
    emit('conversation.survey-requested', push.subject, { ...push.base, survey: jsonField(push, 'text') }, push.time);
  },
  SCHEDULE: (emit, push) => {
    emit('conversation.schedule-changed', push.subject, { ...push.base, schedule: jsonField(push, 'text') }, push.time);
  },
  SCENARIO: (emit, push) => {
    emit('conversation.scenarios-offered', push.subject, { ...push.base, scenarios: jsonField(push, 'text') }, push.time);
  },
  MESSAGE: message,
  OPERATOR_JOINED: plain('conversation.assigned'),
  OPERATOR_LEFT: plain('conversation.unassigned'),
  OPERATOR_LOOKUP_STARTED: plain('conversation.queued'),
  REQUEST_CLOSE_THREAD: (emit, push) => {
    const hideAfter = num(push.p.hideAfter);
    emit('conversation.close-requested', push.subject, compact({ ...push.base, hideAfterSec: hideAfter !== undefined && hideAfter > 0 ? hideAfter : undefined }), push.time);
  },
  MESSAGES_READ: (emit, push) => {
    emit('message.status-changed', push.subject, { ...push.base, messageIds: readIds(push), status: 'read' }, push.time);
  },
  MESSAGE_EDITED: (emit, push) => {
    const author = push.base.operator;
    emit('message.edited', push.subject, compact({ ...push.base, messageId: targetId(push), text: nz(push.p.text) ?? nz(push.p.formattedText), author }), push.time);
  },
  MESSAGE_DELETED: (emit, push) => {
    emit('message.status-changed', push.subject, { ...push.base, messageIds: [targetId(push)], status: 'deleted' }, push.time);
  },
  THREAD_ENQUEUED: plain('conversation.queued'),
  THREAD_IN_PROGRESS: plain('conversation.assigned'),
};

/** The types this normalizer maps (the seed's and the newer SDKs'); any other type is `native.unmapped`. */
export const THREADS_MAPPED_TYPES: readonly string[] = Object.keys(MAPPINGS);

/**
 * Normalizes one Threads push. A push without `type` but with `readInMessageIds` is read as
 * `MESSAGES_READ`, as the SDK does.
 *
 * @example
 * normalizeThreads({ origin: 'threads', type: 'THREAD_OPENED', threadId: 304 },
 *   { connectorId: 'threads-app', receivedAt: '2026-01-01T00:00:00.000Z' });
 * // → [conversation.opened on subject conversation/304]
 */
export const normalizeThreads: Normalizer = (payload, ctx: NormalizeContext): SwitchboardEvent[] => {
  if (!isRecord(payload)) return invalidPayload(`threads: expected a push object, found ${describeValue(payload)}`);
  refuseDeepNesting(payload, 'threads: the push');
  const origin = payload.origin;
  if (typeof origin !== 'string' || origin.toLowerCase() !== 'threads') {
    invalidPayload(`threads: not a Threads push: origin is ${describeValue(origin)}, expected "threads"`);
  }
  // The type and the thread id become the nativetype and a subject: single lines.
  const type = nz(payload.type) ?? (payload.type === undefined && 'readInMessageIds' in payload ? 'MESSAGES_READ' : undefined);
  if (type === undefined || LINE_BREAK.test(type)) return invalidPayload(`threads: at type: expected a non-empty single-line string, found ${describeValue(payload.type)}`);
  const threadId = idOf(payload.threadId) ?? UNKNOWN_THREAD;
  if (LINE_BREAK.test(threadId)) invalidPayload(`threads ${type}: at threadId: expected a number or a single-line string, found ${describeValue(payload.threadId)}`);
  const messageId = idOf(payload.uuid) ?? idOf(payload.providerId) ?? idOf(payload.backendId);
  const clientId = idOf(payload.clientId);
  const push: Push = {
    p: payload,
    type,
    messageId,
    identity: messageId !== undefined ? `${messageId}|${type}` : payloadHash(payload, 'threads: the push'),
    subject: `conversation/${threadId}`,
    // A time the kit cannot read (no zone, say) gives way to the receipt time.
    time: parseTime(payload.receivedDate),
    base: compact({ conversationId: threadId, client: clientId === undefined ? undefined : { id: clientId, role: 'client' as const }, operator: operatorOf(payload.operator) }),
    parseJson: ctx.parseJson,
  };
  const mapping = Object.hasOwn(MAPPINGS, type) ? MAPPINGS[type] : undefined;
  if (!mapping) return [unmapped(PLATFORM, ctx, payload, type, `no mapping for Threads type "${type}"`, push.identity, push.time)];
  const out = collector(PLATFORM, ctx, payload, push.identity, type);
  mapping(out.emit, push);
  return out.events;
};
