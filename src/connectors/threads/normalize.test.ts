import { describe, it, expect } from 'vitest';
import { loadFixtures, payloadReader } from '../../../test/helpers/fixtures.js';
import { normalizerConformance, normalizerProbes } from '../../../test/normalizer-conformance.js';
import { eventId, hashCanonical, sourceOf, type EventType, type NormalizeContext } from '../../core/index.js';
import { jsonIngest } from '../json-ingest.js';
import { threads, threadsSettings } from './index.js';
import { THREADS_MAPPED_TYPES, UNKNOWN_THREAD, normalizeThreads } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };
const payloadOf = payloadReader<Record<string, unknown>>(loadFixtures(new URL('./fixtures/', import.meta.url)));
const { one, invalid } = normalizerProbes(normalizeThreads, ctx);

const push = (type: string, extra: Record<string, unknown> = {}) => ({ origin: 'threads', type, threadId: 147, ...extra });

/** Seed 001's types, in its order, and the type each becomes; then the newer SDKs' types, mapped or kept whole. */
const CODES = {
  THREAD_OPENED: 'conversation.opened',
  THREAD_CLOSED: 'conversation.closed',
  TYPING: 'conversation.typing',
  SURVEY: 'conversation.survey-requested',
  SCHEDULE: 'conversation.schedule-changed',
  MESSAGE: 'message.created',
  OPERATOR_JOINED: 'conversation.assigned',
  OPERATOR_LEFT: 'conversation.unassigned',
  SCENARIO: 'conversation.scenarios-offered',
  OPERATOR_LOOKUP_STARTED: 'conversation.queued',
  REQUEST_CLOSE_THREAD: 'conversation.close-requested',
  MESSAGES_READ: 'message.status-changed',
  // the newer SDKs
  MESSAGE_EDITED: 'message.edited',
  MESSAGE_DELETED: 'message.status-changed',
  THREAD_ENQUEUED: 'conversation.queued',
  THREAD_IN_PROGRESS: 'conversation.assigned',
  // known to the SDKs, without a catalogue type
  ON_HOLD: 'native.unmapped',
  NONE: 'native.unmapped',
  REMOVE_PUSHES: 'native.unmapped',
  UNREAD_MESSAGE_NOTIFICATION: 'native.unmapped',
  CLIENT_BLOCKED: 'native.unmapped',
  CHAT_PUSH: 'native.unmapped',
  AVERAGE_WAIT_TIME: 'native.unmapped',
  THREAD_WILL_BE_REASSIGNED: 'native.unmapped',
} satisfies Record<string, EventType>;

/** The least payload each type needs. */
function minimal(type: string): Record<string, unknown> {
  switch (type) {
    case 'SURVEY':
    case 'SCHEDULE':
    case 'SCENARIO':
      return push(type, { text: '{}' });
    case 'MESSAGES_READ':
      return push(type, { readInMessageIds: '1' });
    case 'MESSAGE_EDITED':
    case 'MESSAGE_DELETED':
      return push(type, { uuid: 'u-1' });
    default:
      return push(type);
  }
}

normalizerConformance({
  platform: 'threads',
  normalize: normalizeThreads,
  module: new URL('./normalize.ts', import.meta.url),
  fixtures: new URL('./fixtures/', import.meta.url),
  context: ctx,
  codes: CODES,
  payload: minimal,
  advertised: THREADS_MAPPED_TYPES,
  refusal: /^threads/,
});

describe('Threads mapping details', () => {
  it('uses conversation/<threadId>, or conversation/unknown-thread without one', () => {
    expect(one(push('THREAD_OPENED', { threadId: 304 })).subject).toBe('conversation/304');
    expect(one(push('THREAD_OPENED', { threadId: 'T-9' })).subject).toBe('conversation/T-9');
    const bare = one({ origin: 'threads', type: 'TYPING' });
    expect(bare.subject).toBe(`conversation/${UNKNOWN_THREAD}`);
    expect(bare.data).toMatchObject({ conversationId: UNKNOWN_THREAD, by: 'operator' });
    expect(one(push('THREAD_OPENED', { threadId: null })).subject).toBe('conversation/unknown-thread');
  });

  it('takes clientId as the client and operator as a party (EXTERNAL_BOT → bot)', () => {
    const e = one(push('OPERATOR_JOINED', { clientId: 'cl-1', operator: { id: 4, name: 'Елена', role: 'OPERATOR' } }));
    expect(e.data).toMatchObject({ client: { id: 'cl-1', role: 'client' }, operator: { id: '4', name: 'Елена', role: 'operator' } });
    expect(one(push('TYPING', { operator: { id: 5, role: 'EXTERNAL_BOT' } })).data).toMatchObject({ by: 'bot', operator: { id: '5', role: 'bot' } });
    expect(one(push('OPERATOR_JOINED', { operator: { id: 4, name: null, alias: 'Лена' } })).data).toMatchObject({ operator: { id: '4', name: 'Лена', role: 'operator' } });
  });

  it('parses SURVEY, SCHEDULE and SCENARIO text; takes an already parsed value as is', () => {
    expect(one(push('SURVEY', { text: '{"id":1,"questions":[]}' })).data).toMatchObject({ survey: { id: 1, questions: [] } });
    expect(one(push('SCHEDULE', { text: { id: 2 } })).data).toMatchObject({ schedule: { id: 2 } });
    expect(one(push('SCENARIO', { text: [{ id: 1 }] })).data).toMatchObject({ scenarios: [{ id: 1 }] });
    expect(one(push('SCENARIO', { text: 'null' })).data).toMatchObject({ scenarios: null });
  });

  it('rejects a SURVEY, SCHEDULE or SCENARIO whose text is not JSON, naming text', () => {
    expect(invalid(push('SURVEY', { text: '{broken' })).message).toMatch(/^threads SURVEY: at text: malformed JSON: /);
    expect(invalid(push('SCHEDULE')).message).toBe('threads SCHEDULE: at text: expected a JSON string, found nothing');
    expect(invalid(push('SCENARIO', { text: 5 })).message).toBe('threads SCENARIO: at text: expected a JSON string, found number 5');
  });

  it('reads MESSAGE: direction by operator, author, text, attachments, quick replies, hidden, sentAt', () => {
    const e = one(payloadOf('MESSAGE'));
    expect(e.data).toMatchObject({
      messageId: '297ad109-4d01-4d01-bfbf-a18ad01140af',
      direction: 'outbound',
      author: { id: '4', name: 'Оператор Елена', role: 'operator' },
      attachments: [{ url: 'https://files.example.com/test_pdf2.pdf', name: 'test_pdf2.pdf', mimeType: 'application/pdf', size: 62707 }],
      sentAt: '2026-01-15T09:31:10.914Z',
    });
    expect(e.data).not.toHaveProperty('hidden');
    expect(one(push('MESSAGE', { uuid: 'u', operator: null, text: 'hi' })).data).toMatchObject({ direction: 'inbound', author: { role: 'client' }, text: 'hi' });
    expect(one(push('MESSAGE', { uuid: 'u', formattedText: '<b>hi</b>' })).data).toMatchObject({ text: '<b>hi</b>' });
  });

  it('maps attachments from result/url, optional.* before the flat fields', () => {
    const e = one(
      push('MESSAGE', {
        uuid: 'u',
        attachments: [
          { result: 'https://a/1', url: 'https://a/other', optional: { name: 'one.pdf', type: 'application/pdf', size: 10 }, name: 'x', type: 'y', size: 99 },
          { url: 'https://a/2', name: 'two.png', type: 'image/png', size: '20' },
          { state: 'PENDING' },
          'not an object',
        ],
      }),
    );
    expect(e.data).toMatchObject({
      attachments: [{ url: 'https://a/1', name: 'one.pdf', mimeType: 'application/pdf', size: 10 }, { url: 'https://a/2', name: 'two.png', mimeType: 'image/png', size: 20 }, {}],
    });
  });

  it('maps quick replies to { text, payload, url, imageUrl }', () => {
    const e = one(push('MESSAGE', { uuid: 'u', quickReplies: [{ id: 1, type: 'TEXT', text: 'Да', payload: 'yes', url: null, imageUrl: null }, { imageUrl: 'https://i/1.png' }] }));
    expect(e.data).toMatchObject({ quickReplies: [{ text: 'Да', payload: 'yes' }, { text: '', imageUrl: 'https://i/1.png' }] });
  });

  it('marks display: false as hidden, and only false', () => {
    expect(one(push('MESSAGE', { uuid: 'u', display: false })).data).toMatchObject({ hidden: true });
    expect(one(push('MESSAGE', { uuid: 'u', display: 'false' })).data).not.toHaveProperty('hidden');
    expect(one(push('MESSAGE', { uuid: 'u', display: true })).data).not.toHaveProperty('hidden');
  });

  it('reads readInMessageIds as a comma-separated string, a bracketed string or an array', () => {
    const ids = (v: unknown) => (one(push('MESSAGES_READ', { readInMessageIds: v })).data as { messageIds: string[] }).messageIds;
    expect(ids('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(ids('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(ids('[a, b]')).toEqual(['a', 'b']);
    expect(ids('["a","b"]')).toEqual(['a', 'b']);
    expect(ids(['a', 'b', 7])).toEqual(['a', 'b', '7']);
    expect(ids('4211601')).toEqual(['4211601']);
    expect(ids(4211601)).toEqual(['4211601']);
    expect(ids('')).toEqual([]);
    expect(ids('[]')).toEqual([]);
    expect(ids(['', null, {}])).toEqual([]);
  });

  it('reads a push without type but with readInMessageIds as MESSAGES_READ (as the SDK does)', () => {
    const e = one({ origin: 'threads', readInMessageIds: '1,2' });
    expect([e.type, e.nativetype]).toEqual(['message.status-changed', 'MESSAGES_READ']);
    expect(e.data).toMatchObject({ messageIds: ['1', '2'], status: 'read' });
  });

  it('rejects readInMessageIds that is none of the three forms', () => {
    expect(invalid(push('MESSAGES_READ')).message).toBe('threads MESSAGES_READ: at readInMessageIds: expected a comma-separated string, a bracketed list or an array, found nothing');
    expect(invalid(push('MESSAGES_READ', { readInMessageIds: { a: 1 } })).message).toMatch(/at readInMessageIds: .*found an object/);
  });

  it('takes hideAfter as seconds when it is a number above 0, else omits it', () => {
    const hide = (v: unknown) => one(push('REQUEST_CLOSE_THREAD', v === undefined ? {} : { hideAfter: v })).data;
    expect(hide('600')).toMatchObject({ hideAfterSec: 600 });
    expect(hide(30)).toMatchObject({ hideAfterSec: 30 });
    for (const v of ['0', '-5', 'abc', '', null, undefined, 0]) expect(hide(v), String(v)).not.toHaveProperty('hideAfterSec');
  });

  it('maps MESSAGE_EDITED and MESSAGE_DELETED to the message they concern, which they must name', () => {
    expect(one(push('MESSAGE_EDITED', { providerId: 'p-1', text: 'new' })).data).toMatchObject({ messageId: 'p-1', text: 'new' });
    expect(one(push('MESSAGE_DELETED', { backendId: 55 })).data).toMatchObject({ messageIds: ['55'], status: 'deleted' });
    expect(invalid(push('MESSAGE_EDITED', { text: 'x' })).message).toBe("threads MESSAGE_EDITED: expected the message's uuid, providerId or backendId, found none");
    expect(invalid(push('MESSAGE_DELETED')).message).toBe("threads MESSAGE_DELETED: expected the message's uuid, providerId or backendId, found none");
  });

  it('keeps unknown types as native.unmapped, whatever their name', () => {
    for (const type of ['SOMETHING_NEW', 'message', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const e = one({ origin: 'threads', type });
      expect([e.type, e.nativetype], type).toEqual(['native.unmapped', type]);
    }
  });

  it('takes receivedDate as the time when the kit reads it as one (zoned ISO 8601, Unix time), else the receipt time', () => {
    const at = (receivedDate: unknown) => one(push('THREAD_OPENED', { receivedDate })).time;
    expect(at('2026-01-15T12:30:00+03:00')).toBe('2026-01-15T09:30:00.000Z');
    expect(at('2026-01-15 12:30:00+03')).toBe('2026-01-15T09:30:00.000Z');
    expect(at('2026-01-15T09:30:00.123Z')).toBe('2026-01-15T09:30:00.123Z');
    expect(at(1768469400000)).toBe('2026-01-15T09:30:00.000Z');
    expect(at('2026-01-15T09:30:00')).toBe(ctx.receivedAt);
    expect(at('15.01.2026 09:30')).toBe(ctx.receivedAt);
    expect(at('2026-13-45T99:00:00Z')).toBe(ctx.receivedAt);
  });
});

describe('Threads identity', () => {
  const source = sourceOf('threads', 'fixture');

  it('is uuid ?? providerId ?? backendId, then |type', () => {
    expect(one(push('OPERATOR_JOINED', { uuid: 'u', providerId: 'p', backendId: 1 })).id).toBe(eventId(source, 'u|OPERATOR_JOINED', 'conversation.assigned'));
    expect(one(push('OPERATOR_JOINED', { providerId: 'p', backendId: 1 })).id).toBe(eventId(source, 'p|OPERATOR_JOINED', 'conversation.assigned'));
    expect(one(push('OPERATOR_JOINED', { backendId: 1 })).id).toBe(eventId(source, '1|OPERATOR_JOINED', 'conversation.assigned'));
    expect(one(push('OPERATOR_JOINED', { uuid: '', providerId: 'p' })).id).toBe(eventId(source, 'p|OPERATOR_JOINED', 'conversation.assigned'));
  });

  it('falls back to the hash of the canonical payload without any id', () => {
    const p = push('THREAD_OPENED');
    expect(one(p).id).toBe(eventId(source, hashCanonical(p), 'conversation.opened'));
    const m = payloadOf('MESSAGE-no-ids');
    expect(one(m).data).toMatchObject({ messageId: hashCanonical(m) });
  });

  it('gives the same message id under different types distinct event ids', () => {
    const a = one(push('MESSAGE', { uuid: 'u-1' }));
    const b = one(push('MESSAGE_EDITED', { uuid: 'u-1' }));
    const c = one(push('MESSAGE_DELETED', { uuid: 'u-1' }));
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(new Set([a.subject, b.subject, c.subject])).toEqual(new Set(['conversation/147']));
  });

  it('takes the messageId from providerId when uuid is missing', () => {
    expect(one(payloadOf('MESSAGE-no-uuid')).data).toMatchObject({ messageId: 'b1c2d3e4-aaaa-4bbb-8ccc-0123456789ab' });
  });
});

describe('Threads invalid pushes', () => {
  const cases: ReadonlyArray<readonly [unknown, string]> = [
    [null, 'threads: expected a push object, found null'],
    ['THREAD_OPENED', 'threads: expected a push object, found string "THREAD_OPENED"'],
    [[{ origin: 'threads' }], 'threads: expected a push object, found an array (1 item)'],
    [{ type: 'THREAD_OPENED', threadId: 1 }, 'threads: not a Threads push: origin is nothing, expected "threads"'],
    [{ origin: 'fcm', type: 'THREAD_OPENED' }, 'threads: not a Threads push: origin is string "fcm", expected "threads"'],
    [{ origin: 'threads-x', type: 'THREAD_OPENED' }, 'threads: not a Threads push: origin is string "threads-x", expected "threads"'],
    [{ origin: 1, type: 'THREAD_OPENED' }, 'threads: not a Threads push: origin is number 1, expected "threads"'],
    [{ origin: 'threads' }, 'threads: at type: expected a non-empty single-line string, found nothing'],
    [{ origin: 'threads', type: '' }, 'threads: at type: expected a non-empty single-line string, found string ""'],
    [{ origin: 'threads', type: 5 }, 'threads: at type: expected a non-empty single-line string, found number 5'],
    [{ origin: 'threads', type: 'A\nB' }, 'threads: at type: expected a non-empty single-line string, found string "A\\nB"'],
    [{ origin: 'threads', type: 'THREAD_OPENED', threadId: 'x\ny' }, 'threads THREAD_OPENED: at threadId: expected a number or a single-line string, found string "x\\ny"'],
  ];

  for (const [payload, message] of cases) {
    it(message, () => {
      expect(invalid(payload).message).toBe(message);
    });
  }

  it('compares origin case-insensitively', () => {
    for (const origin of ['threads', 'Threads', 'THREADS']) expect(one({ origin, type: 'THREAD_OPENED' }).type).toBe('conversation.opened');
  });

  it('rejects a push canonical JSON cannot hold (a lone surrogate) only when it has no id to use', () => {
    expect(invalid(push('TYPING', { text: '\ud800' })).message).toMatch(/^threads: the push cannot be identified: /);
    expect(one(push('MESSAGE', { uuid: 'u', text: '\ud800' })).type).toBe('message.created');
  });
});

describe('Threads connector definition', () => {
  it('wires the normalizer and the JSON ingest', () => {
    expect(threads.platform).toBe('threads');
    expect(threads.ingest).toBe(jsonIngest);
    expect(threads.source).toBeUndefined();
    expect(threads.description).toMatch(/Threads/);
  });

  it('has no settings of its own', () => {
    expect(threadsSettings.safeParse({}).success).toBe(true);
    expect(threadsSettings.safeParse({ origin: 'threads' }).success).toBe(false);
  });
});
