/**
 * The call widget normalizer (seed 000, "Слушатель"): one widget message to normalized events.
 * Pure: no I/O, no clock, no Node built-ins; small, because it also runs in the browser module.
 *
 * Two input forms, told apart by their keys:
 * - a web message, relayed as it arrives: `{ subject, payload: { type, data } }`;
 * - a mobile SDK code, relayed as `{ code, callId, timestamp?, data? }` (DESIGN §4). A message
 *   with a `code` or `callId` key is read as a mobile code.
 *
 * Identity (the dedupe key, DESIGN §2): the relay's event id (`id`, else `eventId`) when the
 * message has one; else the SHA-256 of the canonical `{ payload: <message>, timestamp }`.
 * `docs/connectors/widget-mapping.md` has the table.
 */
import {
  collector,
  describeValue,
  hashCanonical,
  invalidPayload,
  isRecord,
  unmapped,
  type NormalizeContext,
  type Normalizer,
  type SwitchboardEvent,
} from '../../core/index.js';

const PLATFORM = 'widget';

/** Drops keys whose value is `undefined`, so that events hold only what the widget gave. */
function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** A non-empty string, else undefined. */
function nz(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An id: a non-empty string, or a finite number as a string. */
function idOf(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : nz(v);
}

/** A finite number, or a string holding one. */
function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** SHA-256 of the canonical JSON; a value canonical JSON refuses (a lone surrogate) is invalid input. */
function hash(v: unknown): string {
  try {
    return hashCanonical(v);
  } catch (err) {
    return invalidPayload(`widget: the message cannot be identified: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * A timestamp: Unix seconds (below 10^12) or milliseconds, as a number or a numeric string, or
 * an ISO 8601 time with a zone. `undefined`/`null` → undefined (the receipt time); anything else is
 * rejected, naming `at`: a zone-less time would be read in the host's zone.
 */
function timeOf(v: unknown, at: string): string | number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = num(v);
  if (n !== undefined && n > 0 && n < 1e15) return n < 1e12 ? n * 1000 : n;
  if (typeof v === 'string' && ZONED_TIME.test(v) && Number.isFinite(Date.parse(v))) return v;
  return invalidPayload(`widget: at ${at}: expected Unix milliseconds, Unix seconds or an ISO 8601 time with a zone, found ${describeValue(v)}`);
}

// ─── reading the message ──────────────────────────────────────────────────────────────────────

/** One widget message, read: what every mapping needs. */
interface Message {
  /** The message exactly as relayed: `data.native` of every event. */
  readonly native: Record<string, unknown>;
  /** `state/<state>` or `<type>` (web), `<CODE>` (mobile): the `nativetype`. */
  readonly nativetype: string;
  /** The mapping key: the web state or type, or the mobile code. */
  readonly name: string;
  /** The widget's `data` (web: `payload.data`); `{}` when absent or not an object. */
  readonly data: Record<string, unknown>;
  /** `payload.data` itself when it is not an object (a bare text or rating). */
  readonly bare: unknown;
  readonly key: string;
  readonly identity: string;
  readonly time: string | number | undefined;
}

/**
 * The call key. Mobile: `callId`. Web: `payload.data.callId`, else `payload.data.id`, else
 * `payload.data.sessionId`, else the message's `subject`. The one place that decides it.
 */
function callKey(mobile: boolean, m: Record<string, unknown>, data: Record<string, unknown>): string | undefined {
  return mobile ? idOf(m.callId) : (idOf(data.callId) ?? idOf(data.id) ?? idOf(data.sessionId) ?? nz(m.subject));
}

function read(m: Record<string, unknown>): Message {
  const mobile = 'code' in m || 'callId' in m;
  let name: string;
  let nativetype: string;
  let raw: unknown;
  if (mobile) {
    const code = nz(m.code);
    if (code === undefined) invalidPayload(`widget mobile code: at code: expected a non-empty string, found ${describeValue(m.code)}`);
    if (idOf(m.callId) === undefined) invalidPayload(`widget mobile code ${code}: at callId: expected a non-empty string or a number, found ${describeValue(m.callId)}`);
    raw = m.data;
    if (raw !== undefined && raw !== null && !isRecord(raw)) invalidPayload(`widget mobile code ${code}: at data: expected an object, found ${describeValue(raw)}`);
    name = nativetype = code;
  } else {
    if (!('subject' in m) && !('payload' in m)) {
      invalidPayload(`widget: expected a web message { subject, payload } or a mobile code { code, callId }, found an object with keys ${Object.keys(m).join(', ') || '(none)'}`);
    }
    if (nz(m.subject) === undefined) invalidPayload(`widget web message: at subject: expected a non-empty string, found ${describeValue(m.subject)}`);
    const payload = m.payload;
    if (!isRecord(payload)) return invalidPayload(`widget web message: at payload: expected an object, found ${describeValue(payload)}`);
    const type = nz(payload.type);
    if (type === undefined) invalidPayload(`widget web message: at payload.type: expected a non-empty string, found ${describeValue(payload.type)}`);
    raw = payload.data;
    name = nativetype = type;
    if (type === 'state') {
      const state = isRecord(raw) ? nz(raw.state) : undefined;
      if (state === undefined) invalidPayload(`widget web message: at payload.data.state: expected a non-empty string, found ${describeValue(isRecord(raw) ? raw.state : raw)}`);
      name = state;
      nativetype = `state/${state}`;
    }
  }
  const data = isRecord(raw) ? raw : {};
  const stamp = m.timestamp ?? m.ts;
  const time = timeOf(stamp, m.timestamp === undefined ? 'ts' : 'timestamp') ?? timeOf(data.timestamp ?? data.ts, 'data timestamp');
  const relayId = idOf(m.id) ?? idOf(m.eventId);
  const identity = relayId !== undefined ? `event|${relayId}` : `hash|${hash(stamp === undefined ? { payload: m } : { payload: m, timestamp: stamp })}`;
  // Web messages always have a subject and mobile codes a callId (checked above).
  const key = callKey(mobile, m, data) as string;
  return { native: m, nativetype, name, data, bare: raw, key, identity, time };
}

// ─── mappings ─────────────────────────────────────────────────────────────────────────────────

type By = 'client' | 'operator' | 'system';

function byOf(v: unknown): By | undefined {
  return v === 'client' || v === 'operator' || v === 'system' ? v : undefined;
}

const NO_OPERATOR = /no[\s_-]?(?:operator|agent)|operator[\s_-]?not[\s_-]?found|unavailable/i;

/**
 * Why a call was cancelled. The widget sends `cancelled` both for a manual cancel and when no
 * operator is available; its data is unconfirmed, so only an explicit sign counts as "no
 * operator": `noOperator: true`, or a `reason`/`cause` naming it.
 */
function cancelReason(d: Record<string, unknown>): string {
  const hint = nz(d.reason) ?? nz(d.cause) ?? '';
  return d.noOperator === true || NO_OPERATOR.test(hint) ? 'no-operator' : 'cancelled';
}

const OUT_WORDS = /^(?:out|outbound|outgoing|operator|agent|bot|system)$/i;
const IN_WORDS = /^(?:in|inbound|incoming|client|customer|user|visitor)$/i;

/**
 * Who wrote a chat message: `direction`, else `from`/`author`/`sender`/`role` (a word, or an
 * object's `role`/`type`), operator-side words → outbound, client-side words → inbound.
 * Without any of them: inbound (the widget is the client's side of the call).
 */
function chatDirection(d: Record<string, unknown>): 'inbound' | 'outbound' {
  for (const v of [d.direction, d.from, d.author, d.sender, d.role]) {
    const w = isRecord(v) ? (nz(v.role) ?? nz(v.type)) : nz(v);
    if (w !== undefined && OUT_WORDS.test(w)) return 'outbound';
    if (w !== undefined && IN_WORDS.test(w)) return 'inbound';
  }
  return 'inbound';
}

type Emit = ReturnType<typeof collector>['emit'];
type Mapping = (emit: Emit, msg: Message, call: { callId: string; direction: 'inbound'; conversationId: string }) => string | void;

function message(kind: 'greeting' | undefined): Mapping {
  return (emit, msg) => {
    const d = msg.data;
    const direction = kind ? 'outbound' : chatDirection(d);
    emit(
      'message.created',
      `conversation/${msg.key}`,
      compact({
        conversationId: msg.key,
        messageId: idOf(d.messageId) ?? msg.identity,
        direction,
        author: { role: direction === 'outbound' ? ('operator' as const) : ('client' as const) },
        kind,
        text: nz(d.text) ?? nz(d.message) ?? nz(msg.bare),
        attachments: [],
        quickReplies: [],
      }),
      msg.time,
    );
  };
}

const rated: Mapping = (emit, msg, call) => {
  const d = msg.data;
  const rating = num(d.rating) ?? num(d.rate) ?? num(d.value) ?? num(d.score) ?? num(msg.bare);
  if (rating === undefined) return `${msg.nativetype} without a numeric rating (data.rating, rate, value or score)`;
  emit('call.rated', `call/${msg.key}`, compact({ ...call, rating, scale: num(d.scale), comment: nz(d.comment) }), msg.time);
};

const simple =
  (type: 'call.ringing' | 'call.connecting' | 'call.answered' | 'call.redirected' | 'call.closed' | 'call.rating-skipped'): Mapping =>
  (emit, msg, call) => {
    emit(type, `call/${msg.key}`, call, msg.time);
  };

const cancelled: Mapping = (emit, msg, call) => {
  emit('call.ended', `call/${msg.key}`, { ...call, outcome: 'missed', reason: cancelReason(msg.data) }, msg.time);
};
const ended: Mapping = (emit, msg, call) => {
  emit('call.ended', `call/${msg.key}`, { ...call, outcome: 'answered', reason: 'finished' }, msg.time);
};
const disconnected: Mapping = (emit, msg, call) => {
  emit('call.disconnected', `call/${msg.key}`, { ...call, by: byOf(msg.data.by) ?? 'operator' }, msg.time);
};
const finished: Mapping = (emit, msg, call) => {
  emit('call.finished', `call/${msg.key}`, compact({ ...call, by: byOf(msg.data.by) }), msg.time);
};

/** Web states and types (`state/<state>` is keyed by the state). */
const WEB: Readonly<Record<string, Mapping>> = {
  ringing: simple('call.ringing'),
  cancelled,
  connected: simple('call.answered'),
  disconnected,
  redirected: simple('call.redirected'),
  ended,
  closed: simple('call.closed'),
  greet: message('greeting'),
  chat: message(undefined),
  feedback: rated,
};

/** Mobile SDK codes. */
const MOBILE: Readonly<Record<string, Mapping>> = {
  RINGING: simple('call.ringing'),
  CANCELLED: cancelled,
  GREET: message('greeting'),
  START: simple('call.connecting'),
  CONNECTED: simple('call.answered'),
  REDIRECTED: simple('call.redirected'),
  DISCONNECTED: disconnected,
  FINISH: finished,
  ENDED: ended,
  FEEDBACK_SKIP: simple('call.rating-skipped'),
  FEEDBACK_RATE: rated,
  CLOSED: simple('call.closed'),
};

/**
 * Normalizes one call widget message: a web message `{ subject, payload: { type, data } }` or a
 * relayed mobile code `{ code, callId, timestamp?, data? }`.
 *
 * @example
 * normalizeWidget({ code: 'RINGING', callId: 'c-1', timestamp: 1767225600000 },
 *   { connectorId: 'widget-web', receivedAt: '2026-01-01T00:00:05.000Z' });
 * // → [call.ringing on subject call/c-1]
 */
export const normalizeWidget: Normalizer = (payload, ctx: NormalizeContext): SwitchboardEvent[] => {
  if (!isRecord(payload)) invalidPayload(`widget: expected a message object, found ${describeValue(payload)}`);
  const msg = read(payload);
  const table = msg.nativetype === msg.name && !('code' in payload || 'callId' in payload) ? WEB : 'code' in payload || 'callId' in payload ? MOBILE : WEB;
  const mapping = Object.hasOwn(table, msg.name) ? table[msg.name] : undefined;
  const why = mapping
    ? undefined
    : `no mapping for widget ${table === MOBILE ? 'code' : msg.nativetype.startsWith('state/') ? 'state' : 'type'} "${msg.name}"`;
  const out = collector(PLATFORM, ctx, payload, msg.identity, msg.nativetype);
  const unmappedWhy = why ?? mapping?.(out.emit, msg, { callId: msg.key, direction: 'inbound', conversationId: msg.key });
  if (unmappedWhy) return [unmapped(PLATFORM, ctx, payload, msg.nativetype, unmappedWhy, msg.identity, msg.time)];
  return out.events;
};
