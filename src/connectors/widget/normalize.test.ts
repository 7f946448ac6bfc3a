import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { comparable, clone, loadFixtures, type Fixture } from '../../../test/helpers/fixtures.js';
import {
  eventId,
  hashCanonical,
  seededRandom,
  sourceOf,
  validateEvent,
  ValidationError,
  type NormalizeContext,
  type SwitchboardEvent,
} from '../../core/index.js';
import { jsonIngest } from '../json-ingest.js';
import { widget, widgetSettings } from './index.js';
import { normalizeWidget } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };

const fixtures = loadFixtures(new URL('./fixtures/', import.meta.url));



function payloadOf(file: string): Record<string, unknown> {
  const f = fixtures.find((x) => x.file === `${file}.json`);
  if (!f) throw new Error(`no fixture ${file}`);
  return clone(f.payload) as Record<string, unknown>;
}

function one(payload: unknown, context: NormalizeContext = ctx): SwitchboardEvent {
  const events = normalizeWidget(payload, context);
  expect(events).toHaveLength(1);
  return events[0] as SwitchboardEvent;
}

function invalid(payload: unknown): ValidationError {
  try {
    normalizeWidget(payload, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
    return e;
  }
  throw new Error(`expected a ValidationError for ${JSON.stringify(payload)}`);
}

const web = (type: string, data?: unknown, extra: Record<string, unknown> = {}) => ({ subject: 'sess-1', payload: data === undefined ? { type } : { type, data }, ...extra });
const state = (s: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => web('state', { state: s, ...data }, extra);
const mobile = (code: string, data?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ code, callId: 'c-1', timestamp: 1768469400000, ...(data ? { data } : {}), ...extra });

/** Seed 000, web: `payload.data.state` values of `payload.type: state`, and the type each becomes. */
const SEED_WEB_STATES = {
  ringing: 'call.ringing',
  cancelled: 'call.ended',
  connected: 'call.answered',
  disconnected: 'call.disconnected',
  redirected: 'call.redirected',
  ended: 'call.ended',
  closed: 'call.closed',
} as const;

/** Seed 000, web: `payload.type` values besides `state`. */
const SEED_WEB_TYPES = { greet: 'message.created', chat: 'message.created', feedback: 'call.rated' } as const;

/** Seed 000, Android/iOS/Flutter codes. */
const SEED_MOBILE_CODES = {
  RINGING: 'call.ringing',
  CANCELLED: 'call.ended',
  GREET: 'message.created',
  START: 'call.connecting',
  CONNECTED: 'call.answered',
  REDIRECTED: 'call.redirected',
  DISCONNECTED: 'call.disconnected',
  FINISH: 'call.finished',
  ENDED: 'call.ended',
  FEEDBACK_SKIP: 'call.rating-skipped',
  FEEDBACK_RATE: 'call.rated',
  CLOSED: 'call.closed',
} as const;

/** Every nativetype the seed codes produce, with the type it must map to. */
const SEED_CODES: ReadonlyArray<readonly [string, string]> = [
  ...Object.entries(SEED_WEB_STATES).map(([s, t]) => [`state/${s}`, t] as const),
  ...Object.entries(SEED_WEB_TYPES),
  ...Object.entries(SEED_MOBILE_CODES),
];

describe('widget fixtures', () => {
  it('are present', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(SEED_CODES.length);
  });

  for (const f of fixtures) {
    it(`${f.file}: ${f.description}`, () => {
      const events = normalizeWidget(f.payload, ctx);
      expect(events.map(comparable)).toEqual(f.expected);
      for (const e of events) {
        expect(e.platform).toBe('widget');
        expect(e.source).toBe('switchboard/widget/fixture');
        expect(e.data.native).toEqual(f.payload);
      }
    });
  }
});

describe('widget mapping coverage (seed 000)', () => {
  const byCode = new Map<string, string[]>();
  for (const f of fixtures) for (const e of normalizeWidget(f.payload, ctx)) byCode.set(e.nativetype, [...(byCode.get(e.nativetype) ?? []), e.type]);

  for (const [code, type] of SEED_CODES) {
    it(`${code} has a fixture mapping it to ${type}`, () => {
      const types = byCode.get(code);
      expect(types, `no fixture yields nativetype ${code}`).toBeDefined();
      expect(types).toContain(type);
    });
  }

  it('maps every seed code to its type, never to native.unmapped', () => {
    const rated = { rating: 4 };
    for (const [s, type] of Object.entries(SEED_WEB_STATES)) expect(one(state(s)).type, s).toBe(type);
    for (const [t, type] of Object.entries(SEED_WEB_TYPES)) expect(one(web(t, t === 'feedback' ? rated : { text: 'hi' })).type, t).toBe(type);
    for (const [c, type] of Object.entries(SEED_MOBILE_CODES)) expect(one(mobile(c, c === 'FEEDBACK_RATE' ? rated : {})).type, c).toBe(type);
  });

  it('lists every mapped code the fixtures produce', () => {
    const known = new Set(SEED_CODES.map(([c]) => c));
    const mapped = [...byCode].filter(([, types]) => types.some((t) => t !== 'native.unmapped')).map(([c]) => c);
    expect(mapped.filter((c) => !known.has(c))).toEqual([]);
  });
});

describe('widget mapping details', () => {
  it('keys a web call by payload.data.callId, then id, then sessionId, then the subject', () => {
    expect(one(state('ringing', { callId: 'A', id: 'B', sessionId: 'C' })).subject).toBe('call/A');
    expect(one(state('ringing', { id: 'B', sessionId: 'C' })).subject).toBe('call/B');
    expect(one(state('ringing', { sessionId: 77 })).subject).toBe('call/77');
    expect(one(state('ringing')).subject).toBe('call/sess-1');
    expect(one(state('ringing', { callId: '' })).subject).toBe('call/sess-1');
  });

  it('keys a mobile call by callId, a number as its decimal string', () => {
    const e = one({ code: 'RINGING', callId: 42 });
    expect(e.subject).toBe('call/42');
    expect(e.data).toMatchObject({ callId: '42', direction: 'inbound', conversationId: '42' });
  });

  it('puts messages on conversation/<key> and calls on call/<key>, linked by conversationId', () => {
    const greet = one(mobile('GREET', { text: 'Hello' }));
    const ring = one(mobile('RINGING'));
    expect(greet.subject).toBe('conversation/c-1');
    expect(ring.subject).toBe('call/c-1');
    expect(greet.data).toMatchObject({ conversationId: 'c-1', direction: 'outbound', author: { role: 'operator' }, kind: 'greeting', text: 'Hello' });
    expect(ring.data).toMatchObject({ conversationId: 'c-1' });
  });

  it('tells a no-operator cancel from a manual one only by an explicit sign', () => {
    const reason = (data: Record<string, unknown>) => (one(state('cancelled', data)).data as { reason: string }).reason;
    expect(reason({})).toBe('cancelled');
    expect(reason({ reason: 'client' })).toBe('cancelled');
    expect(reason({ noOperator: true })).toBe('no-operator');
    expect(reason({ reason: 'NO_OPERATOR' })).toBe('no-operator');
    expect(reason({ cause: 'operator not found' })).toBe('no-operator');
    expect(reason({ reason: 'all agents unavailable' })).toBe('no-operator');
    expect(one(mobile('CANCELLED', { reason: 'no-agent' })).data).toMatchObject({ outcome: 'missed', reason: 'no-operator' });
  });

  it('ends a finished call as answered / finished', () => {
    expect(one(state('ended')).data).toMatchObject({ outcome: 'answered', reason: 'finished' });
    expect(one(mobile('ENDED')).data).toMatchObject({ outcome: 'answered', reason: 'finished' });
  });

  it('marks disconnected as by the operator, and FINISH by the side data.by names', () => {
    expect(one(mobile('DISCONNECTED')).data).toMatchObject({ by: 'operator' });
    expect(one(mobile('FINISH')).data).not.toHaveProperty('by');
    expect(one(mobile('FINISH', { by: 'operator' })).data).toMatchObject({ by: 'operator' });
    expect(one(mobile('FINISH', { by: 'somebody' })).data).not.toHaveProperty('by');
  });

  it('reads the chat direction from direction/from/author/sender/role, else inbound', () => {
    const dir = (data: unknown) => (one(web('chat', data)).data as { direction: string }).direction;
    expect(dir({ text: 'x' })).toBe('inbound');
    expect(dir('bare text')).toBe('inbound');
    expect(dir({ text: 'x', direction: 'outgoing' })).toBe('outbound');
    expect(dir({ text: 'x', direction: 'in' })).toBe('inbound');
    expect(dir({ text: 'x', from: 'OPERATOR' })).toBe('outbound');
    expect(dir({ text: 'x', author: { role: 'agent' } })).toBe('outbound');
    expect(dir({ text: 'x', sender: { type: 'client' } })).toBe('inbound');
    expect(dir({ text: 'x', role: 'bot' })).toBe('outbound');
    expect(dir({ text: 'x', from: 'someone' })).toBe('inbound');
  });

  it('takes the message text from data.text, data.message or a bare string', () => {
    expect(one(web('chat', { text: 'a', message: 'b' })).data).toMatchObject({ text: 'a' });
    expect(one(web('chat', { message: 'b' })).data).toMatchObject({ text: 'b' });
    expect(one(web('greet', 'Добрый день')).data).toMatchObject({ text: 'Добрый день', kind: 'greeting' });
    expect(one(web('greet')).data).not.toHaveProperty('text');
    expect(one(web('chat', { text: 'a', messageId: 'm-9' })).data).toMatchObject({ messageId: 'm-9' });
  });

  it('takes the rating from rating, rate, value, score or a bare number, with scale and comment', () => {
    const rating = (data: unknown) => one(web('feedback', data)).data;
    expect(rating({ rating: 5, scale: 5, comment: 'ok' })).toMatchObject({ rating: 5, scale: 5, comment: 'ok' });
    expect(rating({ rate: '4' })).toMatchObject({ rating: 4 });
    expect(rating({ value: 3 })).toMatchObject({ rating: 3 });
    expect(rating({ score: 2 })).toMatchObject({ rating: 2 });
    expect(rating(1)).toMatchObject({ rating: 1 });
  });

  it('keeps a rating without a number as native.unmapped', () => {
    for (const p of [web('feedback', {}), web('feedback'), web('feedback', { rating: 'five' }), mobile('FEEDBACK_RATE'), mobile('FEEDBACK_RATE', { rating: null })]) {
      const e = one(p);
      expect(e.type).toBe('native.unmapped');
      expect(e.data).toMatchObject({ reason: expect.stringMatching(/without a numeric rating/) });
    }
  });

  it('keeps unknown states, types and codes as native.unmapped with their nativetype', () => {
    expect([one(state('paused')).type, one(state('paused')).nativetype]).toEqual(['native.unmapped', 'state/paused']);
    expect([one(web('typing', {})).type, one(web('typing', {})).nativetype]).toEqual(['native.unmapped', 'typing']);
    expect([one(mobile('MUTED')).type, one(mobile('MUTED')).nativetype]).toEqual(['native.unmapped', 'MUTED']);
    // Case matters: the web uses lower case, the SDKs upper case.
    expect(one(mobile('ringing')).type).toBe('native.unmapped');
    expect(one(state('RINGING')).type).toBe('native.unmapped');
    // A web `payload.type` that is a state name is not a state.
    expect(one(web('ringing', {})).type).toBe('native.unmapped');
  });

  it('maps object property names to native.unmapped', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(one(mobile(name)).type).toBe('native.unmapped');
      expect(one(state(name)).type).toBe('native.unmapped');
      expect(one(web(name, {})).type).toBe('native.unmapped');
    }
  });
});

describe('widget time', () => {
  const at = (extra: Record<string, unknown>) => one(state('ringing', {}, extra)).time;

  it('reads Unix milliseconds, Unix seconds, numeric strings and zoned ISO times', () => {
    expect(at({ timestamp: 1768469400000 })).toBe('2026-01-15T09:30:00.000Z');
    expect(at({ timestamp: 1768469400 })).toBe('2026-01-15T09:30:00.000Z');
    expect(at({ timestamp: '1768469400000' })).toBe('2026-01-15T09:30:00.000Z');
    expect(at({ timestamp: '2026-01-15T12:30:00+03:00' })).toBe('2026-01-15T09:30:00.000Z');
    expect(at({ timestamp: '2026-01-15T09:30:00.250Z' })).toBe('2026-01-15T09:30:00.250Z');
    expect(at({ ts: 1768469400 })).toBe('2026-01-15T09:30:00.000Z');
    expect(at({ timestamp: null, ts: 1768469400 })).toBe('2026-01-15T09:30:00.000Z');
  });

  it('uses the receipt time without a timestamp', () => {
    expect(one(state('ringing'), { ...ctx, receivedAt: '2026-03-04T05:06:07.000Z' }).time).toBe('2026-03-04T05:06:07.000Z');
    expect(one({ code: 'RINGING', callId: 'x' }, { ...ctx, receivedAt: '2026-03-04T05:06:07.000Z' }).time).toBe('2026-03-04T05:06:07.000Z');
  });

  it('rejects a timestamp that is not a time, naming the field', () => {
    expect(invalid(state('ringing', {}, { timestamp: 'yesterday' })).message).toBe(
      'widget: at timestamp: expected Unix milliseconds, Unix seconds or an ISO 8601 time with a zone, found string "yesterday"',
    );
    expect(invalid(state('ringing', {}, { timestamp: '2026-01-15T09:30:00' })).message).toMatch(/at timestamp: .*found string "2026-01-15T09:30:00"/);
    expect(invalid(mobile('RINGING', {}, { timestamp: -5 })).message).toMatch(/at timestamp: .*found number -5/);
    expect(invalid(mobile('RINGING', {}, { timestamp: 1e18 })).message).toMatch(/at timestamp: /);
    expect(invalid(mobile('RINGING', {}, { timestamp: {} })).message).toMatch(/at timestamp: .*found an object/);
    expect(invalid(state('ringing', {}, { ts: true })).message).toMatch(/at ts: .*found boolean true/);
  });
});

describe('widget identity', () => {
  it('gives a duplicate delivery the same ids, whatever the receipt time', () => {
    for (const f of fixtures) {
      const first = normalizeWidget(f.payload, ctx).map((e) => e.id);
      const again = normalizeWidget(clone(f.payload), { ...ctx, receivedAt: '2026-02-02T00:00:00.000Z' }).map((e) => e.id);
      expect(again, f.file).toEqual(first);
    }
  });

  it('gives every event of every fixture its own id', () => {
    const ids = fixtures.flatMap((f) => normalizeWidget(f.payload, ctx).map((e) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is the hash of the canonical { payload, timestamp } without a relay id', () => {
    const p = state('connected', {}, { timestamp: 1768469400000 });
    const source = sourceOf('widget', 'fixture');
    expect(one(p).id).toBe(eventId(source, hashCanonical({ payload: p, timestamp: 1768469400000 }), 'call.answered'));
    const bare = state('connected');
    expect(one(bare).id).toBe(eventId(source, hashCanonical({ payload: bare }), 'call.answered'));
    const ts = state('connected', {}, { ts: 1768469400 });
    expect(one(ts).id).toBe(eventId(source, hashCanonical({ payload: ts, timestamp: 1768469400 }), 'call.answered'));
  });

  it('tells a repeated state at another time apart (connected again after a redirect)', () => {
    const a = one(state('connected', {}, { timestamp: 1768469400000 }));
    const b = one(state('connected', {}, { timestamp: 1768469460000 }));
    expect(a.subject).toBe(b.subject);
    expect(a.id).not.toBe(b.id);
    const m1 = one(mobile('CONNECTED', {}, { timestamp: 1 }));
    const m2 = one(mobile('CONNECTED', {}, { timestamp: 2 }));
    expect(m1.id).not.toBe(m2.id);
  });

  it('uses the relay event id (id, else eventId) when the message has one', () => {
    const source = sourceOf('widget', 'fixture');
    const a = one(state('connected', {}, { id: 'evt-1', timestamp: 1 }));
    expect(a.id).toBe(eventId(source, 'evt-1', 'call.answered'));
    // The same relay id is the same event, even if the relay stamped another time.
    expect(one(state('connected', {}, { id: 'evt-1', timestamp: 2 })).id).toBe(a.id);
    expect(one(mobile('CONNECTED', {}, { eventId: 'evt-1' })).id).toBe(a.id);
    expect(one(mobile('CONNECTED', {}, { id: 7 })).id).toBe(eventId(source, '7', 'call.answered'));
    // An empty id is no id.
    const p = state('connected', {}, { id: '' });
    expect(one(p).id).toBe(eventId(source, hashCanonical({ payload: p }), 'call.answered'));
  });

  it('gives a message without data.messageId the identity as its messageId', () => {
    const p = mobile('GREET', { text: 'hi' }, { eventId: 'evt-9' });
    expect(one(p).data).toMatchObject({ messageId: 'evt-9' });
    const q = web('chat', { text: 'hi' });
    expect(one(q).data).toMatchObject({ messageId: hashCanonical({ payload: q }) });
  });

  it('depends on the connector (source)', () => {
    const p = payloadOf('mobile-RINGING');
    expect(one(p).id).not.toBe(one(p, { ...ctx, connectorId: 'other' }).id);
  });
});

describe('widget invalid messages', () => {
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [null, 'widget: expected a message object, found null'],
    [[], 'widget: expected a message object, found an array (0 items)'],
    ['RINGING', 'widget: expected a message object, found string "RINGING"'],
    [{}, 'widget: expected a web message { subject, payload } or a mobile code { code, callId }, found an object with no keys'],
    [{ state: 'ringing', foo: 1 }, 'widget: expected a web message { subject, payload } or a mobile code { code, callId }, found an object with keys state, foo'],
    [{ payload: { type: 'state', data: { state: 'ringing' } } }, 'widget web message: at subject: expected a non-empty single-line string, found nothing'],
    [{ subject: '', payload: { type: 'chat' } }, 'widget web message: at subject: expected a non-empty single-line string, found string ""'],
    [{ subject: 'a\nb', payload: { type: 'chat' } }, 'widget web message: at subject: expected a non-empty single-line string, found string "a\\nb"'],
    [{ subject: 's' }, 'widget web message: at payload: expected an object, found nothing'],
    [{ subject: 's', payload: 'state' }, 'widget web message: at payload: expected an object, found string "state"'],
    [{ subject: 's', payload: {} }, 'widget web message: at payload.type: expected a non-empty single-line string, found nothing'],
    [{ subject: 's', payload: { type: 3 } }, 'widget web message: at payload.type: expected a non-empty single-line string, found number 3'],
    [{ subject: 's', payload: { type: 'state' } }, 'widget web message: at payload.data: expected an object with a state, found nothing'],
    [{ subject: 's', payload: { type: 'state', data: 'ringing' } }, 'widget web message: at payload.data: expected an object with a state, found string "ringing"'],
    [{ subject: 's', payload: { type: 'state', data: {} } }, 'widget web message: at payload.data.state: expected a non-empty single-line string, found nothing'],
    [{ subject: 's', payload: { type: 'state', data: { state: null } } }, 'widget web message: at payload.data.state: expected a non-empty single-line string, found null'],
    [{ subject: 's', payload: { type: 'state', data: { state: 'ringing', callId: 'x\u2028y' } } }, 'widget web message: at payload.data.callId: expected a non-empty single-line string or a number, found string "x\u2028y"'],
    [{ callId: 'c-1' }, 'widget mobile code: at code: expected a non-empty single-line string, found nothing'],
    [{ code: 7, callId: 'c-1' }, 'widget mobile code: at code: expected a non-empty single-line string, found number 7'],
    [{ code: 'RINGING' }, 'widget mobile code RINGING: at callId: expected a non-empty single-line string or a number, found nothing'],
    [{ code: 'RINGING', callId: '' }, 'widget mobile code RINGING: at callId: expected a non-empty single-line string or a number, found string ""'],
    [{ code: 'RINGING', callId: { id: 1 } }, 'widget mobile code RINGING: at callId: expected a non-empty single-line string or a number, found an object'],
    [{ code: 'RINGING', callId: 'c', data: 'x' }, 'widget mobile code RINGING: at data: expected an object, found string "x"'],
    [{ code: 'RINGING', callId: 'c', data: [1] }, 'widget mobile code RINGING: at data: expected an object, found an array (1 item)'],
  ];

  for (const [payload, message] of cases) {
    it(message, () => {
      expect(invalid(payload).message).toBe(message);
    });
  }

  it('accepts a mobile code with data null or absent', () => {
    expect(one({ code: 'RINGING', callId: 'c', data: null }).type).toBe('call.ringing');
    expect(one({ code: 'RINGING', callId: 'c' }).type).toBe('call.ringing');
  });

  it('rejects a message canonical JSON cannot hold (a lone surrogate) unless the relay gave an id', () => {
    expect(invalid(state('ringing', { note: '\ud800' })).message).toMatch(/^widget: the message cannot be identified: /);
    expect(one(state('ringing', { note: '\ud800' }, { id: 'evt-1' })).type).toBe('call.ringing');
  });
});

// ─── fuzz: random JSON and spoiled fixtures give events or the one ValidationError ─────────────


const WORDS = ['subject', 'payload', 'type', 'data', 'state', 'code', 'callId', 'timestamp', 'ts', 'id', 'eventId', 'sessionId', 'text', 'message', 'rating', 'rate', 'scale', 'by', 'reason', 'noOperator', 'direction', 'from', '__proto__', 'constructor'];
const STRINGS = [...Object.keys(SEED_WEB_STATES), ...Object.keys(SEED_WEB_TYPES), ...Object.keys(SEED_MOBILE_CODES), 'state', '', ' ', 'a\nb', '\u2028', '\ud800', '2026-01-15T09:30:00Z', '2026-01-15T09:30:00', '1768469400', 'operator', 'no_operator', 'toString', 'x'.repeat(300)];
const NUMBERS = [0, -1, 1, 5, 1.5, 1768469400, 1768469400000, 1e12, 1e15, 1e21, -0, Number.MAX_SAFE_INTEGER];

function randomJson(rnd: () => number, depth = 0): unknown {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const r = rnd();
  if (depth > 3 || r < 0.15) return pick([null, true, false]);
  if (r < 0.3) return pick(NUMBERS);
  if (r < 0.5) return pick(STRINGS);
  if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 3) }, () => randomJson(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rnd() * 5); i > 0; i--) o[pick(WORDS)] = randomJson(rnd, depth + 1);
  return o;
}

/** A random message of the widget's shapes (web or mobile), with random values in its fields. */
function randomMessage(rnd: () => number): unknown {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const value = () => (rnd() < 0.5 ? pick(STRINGS) : randomJson(rnd, 2));
  const extra = rnd() < 0.5 ? { [pick(['timestamp', 'ts', 'id', 'eventId'])]: rnd() < 0.5 ? pick(NUMBERS) : value() } : {};
  if (rnd() < 0.5) {
    const data = rnd() < 0.8 ? { state: value(), [pick(WORDS)]: value(), [pick(WORDS)]: value() } : randomJson(rnd, 2);
    return { subject: value(), payload: { type: rnd() < 0.5 ? 'state' : value(), data }, ...extra };
  }
  return { code: value(), callId: value(), data: rnd() < 0.7 ? { [pick(WORDS)]: value(), [pick(WORDS)]: value() } : randomJson(rnd, 2), ...extra };
}

/** A fixture payload with one to three random values replaced or removed. */
function spoiled(rnd: () => number): unknown {
  const f = fixtures[Math.floor(rnd() * fixtures.length)] as Fixture;
  const p = clone(f.payload);
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    let node: unknown = p;
    for (;;) {
      if (!node || typeof node !== 'object') break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const k = keys[Math.floor(rnd() * keys.length)] as string;
      const child = (node as Record<string, unknown>)[k];
      if (child && typeof child === 'object' && rnd() < 0.6) {
        node = child;
        continue;
      }
      if (rnd() < 0.3) delete (node as Record<string, unknown>)[k];
      else (node as Record<string, unknown>)[k] = randomJson(rnd, 2);
      break;
    }
  }
  return p;
}

describe('widget fuzz', () => {
  it('answers ~200 random and spoiled messages with events or ValidationError SB_ERR_INGEST_INVALID_PAYLOAD only', () => {
    const rnd = seededRandom(0x5eed000);
    const inputs = [...Array.from({ length: 60 }, () => randomJson(rnd)), ...Array.from({ length: 80 }, () => randomMessage(rnd)), ...Array.from({ length: 80 }, () => spoiled(rnd))];
    let events = 0;
    let rejected = 0;
    for (const input of inputs) {
      try {
        const out = normalizeWidget(input, ctx);
        expect(Array.isArray(out)).toBe(true);
        for (const e of out) validateEvent(e);
        events += out.length;
      } catch (err) {
        if (!(err instanceof ValidationError) || err.code !== 'SB_ERR_INGEST_INVALID_PAYLOAD') {
          throw new Error(`unexpected ${String(err)} for ${JSON.stringify(input)}`, { cause: err });
        }
        expect(err.message).toMatch(/^widget/);
        rejected++;
      }
    }
    // Both outcomes are exercised.
    expect(events).toBeGreaterThan(20);
    expect(rejected).toBeGreaterThan(20);
  });
});

describe('widget connector definition', () => {
  it('wires the normalizer and the JSON ingest', () => {
    expect(widget.platform).toBe('widget');
    expect(widget.normalize).toBe(normalizeWidget);
    expect(widget.ingest).toBe(jsonIngest);
    expect(widget.source).toBeUndefined();
    expect(widget.description).toMatch(/widget/i);
  });

  it('has no settings of its own', () => {
    expect(widgetSettings.safeParse({}).success).toBe(true);
    expect(widgetSettings.safeParse({ allowedOrigins: ['https://example.com'] }).success).toBe(false);
  });
});

describe('widget normalizer purity', () => {
  it('imports only the core, and no clock or randomness', () => {
    const source = readFileSync(fileURLToPath(new URL('./normalize.ts', import.meta.url)), 'utf8');
    const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['../../core/index.js']));
    expect(source).not.toMatch(/Date\.now|new Date\(|Math\.random|process\.|require\(/);
  });
});
