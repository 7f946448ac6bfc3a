import { describe, it, expect } from 'vitest';
import { normalizerConformance, normalizerProbes } from '../../../test/normalizer-conformance.js';
import { eventId, hashCanonical, sourceOf, type EventType, type NormalizeContext } from '../../core/index.js';
import { jsonIngest } from '../json-ingest.js';
import { widget, widgetSettings } from './index.js';
import { normalizeWidget } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };
const { one, invalid } = normalizerProbes(normalizeWidget, ctx);

const web = (type: string, data?: unknown, extra: Record<string, unknown> = {}) => ({ subject: 'sess-1', payload: data === undefined ? { type } : { type, data }, ...extra });
const state = (s: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => web('state', { state: s, ...data }, extra);
const mobile = (code: string, data?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ code, callId: 'c-1', timestamp: 1768469400000, ...(data ? { data } : {}), ...extra });

/**
 * Seed 000's codes, as the nativetype each gives, and the type it becomes: the web's
 * `payload.data.state` values of `payload.type: state` (`state/<value>`), its other
 * `payload.type` values, and the Android/iOS/Flutter codes.
 */
const CODES = {
  'state/ringing': 'call.ringing',
  'state/cancelled': 'call.ended',
  'state/connected': 'call.answered',
  'state/disconnected': 'call.disconnected',
  'state/redirected': 'call.redirected',
  'state/ended': 'call.ended',
  'state/closed': 'call.closed',
  greet: 'message.created',
  chat: 'message.created',
  feedback: 'call.rated',
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
} satisfies Record<string, EventType>;

/** The least message of each code: a web state, another web type, or a mobile code (upper case). */
function minimal(code: string): Record<string, unknown> {
  const rated = { rating: 4 };
  if (code.startsWith('state/')) return state(code.slice('state/'.length));
  if (code === code.toUpperCase()) return mobile(code, code === 'FEEDBACK_RATE' ? rated : {});
  return web(code, code === 'feedback' ? rated : { text: 'hi' });
}

normalizerConformance({
  platform: 'widget',
  normalize: normalizeWidget,
  module: new URL('./normalize.ts', import.meta.url),
  fixtures: new URL('./fixtures/', import.meta.url),
  context: ctx,
  codes: CODES,
  payload: minimal,
  refusal: /^widget/,
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

describe('widget connector definition', () => {
  it('wires the normalizer and the JSON ingest', () => {
    expect(widget.platform).toBe('widget');
    expect(widget.ingest).toBe(jsonIngest);
    expect(widget.source).toBeUndefined();
    expect(widget.description).toMatch(/widget/i);
  });

  it('has no settings of its own', () => {
    expect(widgetSettings.safeParse({}).success).toBe(true);
    expect(widgetSettings.safeParse({ allowedOrigins: ['https://example.com'] }).success).toBe(false);
  });
});
