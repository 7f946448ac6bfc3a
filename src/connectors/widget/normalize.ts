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
 * The mapping table is in `docs/events.md` (Call widget).
 */
import { abbreviate, collector, compact, describeValue, idOf, invalidPayload, isRecord, num, nz, parseTime, payloadHash, refuseDeepNesting, unmapped } from '../../core/index.js';
import type { NormalizeContext, Normalizer, SwitchboardEvent } from '../../core/index.js';

const PLATFORM = 'widget';

/**
 * A timestamp: Unix seconds (below 10^12) or milliseconds, as a number or a numeric string, or
 * an ISO 8601 time with a zone. `undefined`/`null` → undefined (the receipt time); anything else is
 * rejected, naming `at`: a zone-less time would be read in the host's zone.
 */
function timeOf(v: unknown, at: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return parseTime(v) ?? invalidPayload(`widget: at ${at}: expected Unix milliseconds, Unix seconds or an ISO 8601 time with a zone, found ${describeValue(v)}`);
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * A non-empty single-line string (or, for ids, a finite number as a string), else rejected
 * naming `at`: it becomes part of a subject or the nativetype, which are single lines.
 */
function field(v: unknown, what: string, at: string, id = false): string {
  const s = id ? idOf(v) : nz(v);
  if (s === undefined || LINE_BREAK.test(s)) {
    return invalidPayload(`${what}: at ${at}: expected a non-empty single-line string${id ? ' or a number' : ''}, found ${describeValue(v)}`);
  }
  return s;
}

// ─── reading the message ──────────────────────────────────────────────────────────────────────

/** One widget message, read: what every mapping needs. */
interface Message {
  /** `state/<state>` or `<type>` (web), `<CODE>` (mobile): the `nativetype`. */
  readonly nativetype: string;
  /** The web state or type, or the mobile code: the key in its table. */
  readonly name: string;
  /** Which table `name` is looked up in. */
  readonly kind: 'state' | 'type' | 'code';
  /** The widget's `data` (web: `payload.data`); `{}` when absent or not an object. */
  readonly data: Record<string, unknown>;
  /** `payload.data` itself when it is not an object (a bare text or rating). */
  readonly bare: unknown;
  /** The call key (see `callKey`). */
  readonly key: string;
  /** The relay's event id, else the hash of the message and its timestamp. */
  readonly identity: string;
  readonly time: string | number | undefined;
}

/**
 * The call key. Mobile: `callId`. Web: `payload.data.callId`, else `payload.data.id`, else
 * `payload.data.sessionId`, else the message's `subject`. The one place that decides it.
 */
function callKey(what: string, mobile: boolean, m: Record<string, unknown>, data: Record<string, unknown>): string {
  if (mobile) return field(m.callId, what, 'callId', true);
  for (const k of ['callId', 'id', 'sessionId']) if (idOf(data[k]) !== undefined) return field(data[k], what, `payload.data.${k}`, true);
  return field(m.subject, what, 'subject');
}

function read(m: Record<string, unknown>): Message {
  const mobile = 'code' in m || 'callId' in m;
  let name: string;
  let nativetype: string;
  let kind: Message['kind'] = 'code';
  let raw: unknown;
  let what: string;
  if (mobile) {
    const code = field(m.code, 'widget mobile code', 'code');
    what = `widget mobile code ${abbreviate(code)}`;
    field(m.callId, what, 'callId', true);
    raw = m.data;
    if (raw !== undefined && raw !== null && !isRecord(raw)) invalidPayload(`${what}: at data: expected an object, found ${describeValue(raw)}`);
    name = nativetype = code;
  } else {
    if (!('subject' in m) && !('payload' in m)) {
      const keys = Object.keys(m);
      invalidPayload(
        `widget: expected a web message { subject, payload } or a mobile code { code, callId }, found an object with ${keys.length ? `keys ${keys.slice(0, 8).map((k) => abbreviate(k)).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'no keys'}`,
      );
    }
    what = 'widget web message';
    field(m.subject, what, 'subject');
    const payload = m.payload;
    if (!isRecord(payload)) return invalidPayload(`${what}: at payload: expected an object, found ${describeValue(payload)}`);
    const type = field(payload.type, what, 'payload.type');
    raw = payload.data;
    name = nativetype = type;
    kind = 'type';
    if (type === 'state') {
      if (!isRecord(raw)) return invalidPayload(`${what}: at payload.data: expected an object with a state, found ${describeValue(raw)}`);
      const state = field(raw.state, what, 'payload.data.state');
      name = state;
      nativetype = `state/${state}`;
      kind = 'state';
    }
  }
  const data = isRecord(raw) ? raw : {};
  const stamp = m.timestamp ?? m.ts;
  const time = timeOf(stamp, m.timestamp === undefined || m.timestamp === null ? 'ts' : 'timestamp');
  const identity = idOf(m.id) ?? idOf(m.eventId) ?? payloadHash(stamp === undefined || stamp === null ? { payload: m } : { payload: m, timestamp: stamp }, 'widget: the message');
  const key = callKey(what, mobile, m, data);
  return { nativetype, name, kind, data, bare: raw, key, identity, time };
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

function message(kind: 'greeting' | 'text'): Mapping {
  return (emit, msg) => {
    const d = msg.data;
    const direction = kind === 'greeting' ? 'outbound' : chatDirection(d);
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

const TABLES: Readonly<Record<Message['kind'], Readonly<Record<string, Mapping>>>> = {
  /** Web `payload.data.state` of `payload.type: state`. */
  state: {
    ringing: simple('call.ringing'),
    cancelled,
    connected: simple('call.answered'),
    disconnected,
    redirected: simple('call.redirected'),
    ended,
    closed: simple('call.closed'),
  },
  /** Web `payload.type` other than `state`. */
  type: {
    greet: message('greeting'),
    chat: message('text'),
    feedback: rated,
  },
  /** Mobile SDK codes. */
  code: {
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
  },
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
  refuseDeepNesting(payload, 'widget: the message');
  const msg = read(payload);
  const table = TABLES[msg.kind];
  const mapping = Object.hasOwn(table, msg.name) ? table[msg.name] : undefined;
  const out = collector(PLATFORM, ctx, payload, msg.identity, msg.nativetype);
  const why = mapping ? mapping(out.emit, msg, { callId: msg.key, direction: 'inbound', conversationId: msg.key }) : `no mapping for widget ${msg.kind} "${msg.name}"`;
  return why ? [unmapped(PLATFORM, ctx, payload, msg.nativetype, why, msg.identity, msg.time)] : out.events;
};
