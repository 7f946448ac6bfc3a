import { describe, it, expect } from 'vitest';
import { comparable, clone, loadFixtures, payloadReader } from '../../../test/helpers/fixtures.js';
import { normalizerConformance, normalizerProbes } from '../../../test/normalizer-conformance.js';
import { eventId, hashCanonical, sourceOf, type EventType, type NormalizeContext } from '../../core/index.js';
import { normalizeTwin } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };

const fixtures = loadFixtures(new URL('./fixtures/', import.meta.url));

type Pub = { channel: string; offset?: number; data: { event?: unknown; action?: unknown; data?: unknown } & Record<string, unknown> } & Record<string, unknown>;

const payloadOf = payloadReader<Pub>(fixtures);
const { one, invalid } = normalizerProbes(normalizeTwin, ctx);

/** The TWIN payload's `data` of a publication, as a record to spoil. */
function inner(p: Pub): Record<string, unknown> {
  return p.data.data as Record<string, unknown>;
}

/** A publication of `event` with `data`, on a channel without history. */
function pub(event: string, data: unknown, extra: Record<string, unknown> = {}): Pub {
  return { channel: 'notifications#17', data: { event, data }, ...extra };
}

/** The seed's events (seed 002, "События, которые получает оператор"), in its order, and the type each becomes (docs/events.md, ### TWIN). */
const CODES = {
  chatSessionStarted: 'conversation.opened',
  operatorNotFound: 'conversation.operator-not-found',
  chatSessionAdded: 'conversation.assigned',
  chatMessageCreated: 'message.created',
  chatMessageEdited: 'message.edited',
  chatMessageRead: 'message.status-changed',
  chatSessionDeleted: 'conversation.unassigned',
  chatSessionSwitchedFromBotToOperator: 'conversation.handed-to-operator',
  sessionClosedByClient: 'conversation.closed',
  operatorBlocked: 'operator.session-revoked',
  chatUserExists: 'operator.session-revoked',
  typing: 'conversation.typing',
  operatorLoggedOut: 'operator.session-revoked',
  clientOnline: 'client.presence-changed',
  clientOffline: 'client.presence-changed',
} satisfies Record<string, EventType>;

normalizerConformance({
  platform: 'twin',
  normalize: normalizeTwin,
  module: new URL('./normalize.ts', import.meta.url),
  fixtures: new URL('./fixtures/', import.meta.url),
  context: ctx,
  codes: CODES,
  // Each seed event has a fixture of its name: several are validated field by field, so the fixture is the least payload.
  payload: payloadOf,
});

describe('TWIN event name: `event` or `action`', () => {
  it('reads `action` as it reads `event`, for every fixture', () => {
    for (const f of fixtures) {
      const p = clone(f.payload) as Pub;
      const d = p.data;
      const swapped: Pub = { ...p, data: 'event' in d ? { action: d.event, data: d.data } : { event: d.action, data: d.data } };
      if (!('data' in d)) delete swapped.data.data;
      const a = normalizeTwin(p, ctx);
      const b = normalizeTwin(swapped, ctx);
      expect(b.map(comparable), f.file).toEqual(a.map(comparable));
      // With an offset the identity is the channel and offset, so the ids agree too.
      if (p.offset !== undefined) expect(b.map((e) => e.id), f.file).toEqual(a.map((e) => e.id));
    }
  });

  it('prefers `event` when both are present', () => {
    const p = payloadOf('typing');
    p.data.action = 'clientOnline';
    expect(one(p).nativetype).toBe('typing');
  });

  it('falls back to `action` when `event` is empty or not a string', () => {
    const p = payloadOf('clientOffline');
    p.data.event = '';
    expect(one(p).type).toBe('client.presence-changed');
    p.data.event = 42;
    expect(one(p).type).toBe('client.presence-changed');
  });
});

describe('TWIN identity', () => {
  const source = sourceOf('twin', 'fixture');

  it('keys a publication with an offset by `${channel}|${offset}`', () => {
    const p = payloadOf('chatMessageCreated');
    const e = one(p);
    expect(e.id).toBe(eventId(source, `${p.channel}|${String(p.offset)}`, 'message.created', 0));
  });

  it('dedupes by offset: the same channel and offset is the same publication, whatever its content', () => {
    const p = payloadOf('chatMessageCreated');
    const a = one(p);
    // e.g. a re-sent publication after a recovered reconnect, re-serialized with extra fields
    const again = clone(p);
    inner(again).someNewField = true;
    expect(one(again).id).toBe(a.id);
    expect(one({ ...clone(p), offset: (p.offset ?? 0) + 1 }).id).not.toBe(a.id);
    expect(one({ ...clone(p), channel: 'notifications#18' }).id).not.toBe(a.id);
  });

  it('keys a publication without an offset by the hash of the TWIN payload', () => {
    const p = payloadOf('typing-no-offset');
    const e = one(p);
    expect(e.id).toBe(eventId(source, hashCanonical(p.data), 'conversation.typing', 0));
    // key order does not matter; the channel is not part of the hash
    const reordered = { channel: 'another-channel', data: { data: p.data.data, event: p.data.event } };
    expect(one(reordered).id).toBe(e.id);
    // a different payload is a different event
    const other = clone(p);
    inner(other).clientId = 'someone';
    expect(one(other).id).not.toBe(e.id);
  });

  it('treats offset 0 and null as no offset', () => {
    const p = payloadOf('typing-no-offset');
    const expected = one(p).id;
    expect(one({ ...p, offset: 0 }).id).toBe(expected);
    expect(one({ ...p, offset: null }).id).toBe(expected);
  });

  it('keeps the offset identity for an unknown event and a known event kept as native.unmapped', () => {
    for (const file of ['unmapped-someFutureEvent', 'chatMessageCreated-without-chat']) {
      const p = payloadOf(file);
      const e = one(p);
      expect(e.type).toBe('native.unmapped');
      expect(e.id).toBe(eventId(source, `${p.channel}|${String(p.offset)}`, 'native.unmapped', 0));
    }
  });

  it('gives the events of one chat the same subject', () => {
    const files = ['chatSessionStarted', 'chatMessageCreated', 'chatMessageCreated-operator', 'chatMessageEdited', 'chatMessageRead', 'chatSessionSwitchedFromBotToOperator', 'sessionClosedByClient', 'typing'];
    const subjects = new Set(files.map((f) => one(payloadOf(f)).subject));
    expect(subjects).toEqual(new Set([`conversation/${String(inner(payloadOf('chatSessionStarted')).chatId)}`]));
  });
});

describe('TWIN mapping details', () => {
  it('chatSessionStarted: no operator party while operatorId is null; a numeric or string operatorId becomes a string id', () => {
    expect(one(payloadOf('chatSessionStarted-in-help')).data).not.toHaveProperty('operator');
    const p = payloadOf('chatSessionStarted');
    inner(p).operatorId = 'op-17';
    expect(one(p).data).toMatchObject({ operator: { id: 'op-17', role: 'operator' } });
  });

  it('operatorNotFound is validated and mapped whether it comes as `action` or `event`', () => {
    const p = payloadOf('operatorNotFound');
    const asEvent = { ...p, data: { event: 'operatorNotFound', data: p.data.data } };
    expect(one(asEvent).type).toBe('conversation.operator-not-found');
  });

  it('chatMessageRead takes a single id or an array, from messageIds, messageId, ids or id', () => {
    const cases: ReadonlyArray<readonly [Record<string, unknown>, string[]]> = [
      [{ messageIds: ['a', 'b'] }, ['a', 'b']],
      [{ messageIds: 'a' }, ['a']],
      [{ messageId: 'a' }, ['a']],
      [{ messageId: ['a', 7] }, ['a', '7']],
      [{ ids: [1, 2] }, ['1', '2']],
      [{ id: 'm-9' }, ['m-9']],
      [{ messageIds: [], messageId: 'b' }, ['b']],
    ];
    for (const [fields, ids] of cases) {
      const e = one(pub('chatMessageRead', { chatId: 'chat-1', ...fields }));
      expect(e.type, JSON.stringify(fields)).toBe('message.status-changed');
      expect(e.data, JSON.stringify(fields)).toMatchObject({ messageIds: ids, status: 'read' });
    }
  });

  it('message events read a nested `message` object', () => {
    const e = one(pub('chatMessageCreated', { message: { id: 'm-1', chatId: 'chat-1', text: 'hi', isClient: false } }));
    expect(e.subject).toBe('conversation/chat-1');
    expect(e.data).toMatchObject({ messageId: 'm-1', text: 'hi', direction: 'outbound' });
    // the chat id may sit beside the message
    expect(one(pub('chatMessageEdited', { chatId: 'chat-2', message: { id: 'm-1', text: 'x' } })).subject).toBe('conversation/chat-2');
  });

  it('a message takes attachments from `attachments` or `files`, and defaults to none', () => {
    const files = one(pub('chatMessageCreated', { id: 'm', chatId: 'c', files: [{ link: 'https://x/y.png', fileName: 'y.png', mime: 'image/png' }, 'https://x/z.pdf'] }));
    expect(files.data).toMatchObject({ kind: 'file', attachments: [{ url: 'https://x/y.png', name: 'y.png', mimeType: 'image/png' }, { url: 'https://x/z.pdf' }] });
    const none = one(pub('chatMessageCreated', { id: 'm', chatId: 'c' }));
    expect(none.data).toMatchObject({ attachments: [], quickReplies: [] });
    expect(none.data).not.toHaveProperty('kind');
    expect(none.data).not.toHaveProperty('text');
  });

  it('sessionClosedByClient is closed by the client; typing is by the client unless the payload says otherwise', () => {
    expect(one(payloadOf('sessionClosedByClient')).data).toMatchObject({ by: 'client' });
    expect(one(pub('typing', { chatId: 'c' })).data).toMatchObject({ by: 'client' });
    // an operatorId alone (the session's operator) does not make the operator the typist
    expect(one(pub('typing', { chatId: 'c', operatorId: 17 })).data).toMatchObject({ by: 'client' });
    expect(one(pub('typing', { chatId: 'c', authorType: 'operator' })).data).toMatchObject({ by: 'operator' });
    expect(one(pub('typing', { chatId: 'c', isClient: false })).data).toMatchObject({ by: 'operator' });
  });

  it('operator session events: subject operator/<operatorId, else id, else self>', () => {
    expect(one(pub('operatorBlocked', { operatorId: 'op-1', id: 'x' })).subject).toBe('operator/op-1');
    expect(one(pub('chatUserExists', { id: 5 })).subject).toBe('operator/5');
    expect(one(pub('operatorLoggedOut', null)).subject).toBe('operator/self');
    expect(one(pub('operatorLoggedOut', null)).data).toMatchObject({ reason: 'logged-out' });
    expect(one(pub('chatUserExists', {})).data).toMatchObject({ reason: 'logged-in-elsewhere' });
    expect(one(pub('operatorBlocked', {})).data).toMatchObject({ reason: 'blocked' });
  });

  it('clientOnline takes id, else clientId', () => {
    expect(one(pub('clientOnline', { clientId: 'cl-1' })).subject).toBe('client/cl-1');
    expect(one(pub('clientOnline', { id: 'cl-2', clientId: 'cl-1' })).data).toMatchObject({ clientId: 'cl-2', online: true });
  });
});

describe('TWIN author rule (message direction)', () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, 'inbound' | 'outbound', string]> = [
    ['no author fields: the client', {}, 'inbound', 'client'],
    ['clientId only', { clientId: 'cl' }, 'inbound', 'client'],
    ['operatorId on the message: the operator', { operatorId: 17 }, 'outbound', 'operator'],
    ['operatorId null', { operatorId: null, clientId: 'cl' }, 'inbound', 'client'],
    ['isClient true beats operatorId', { isClient: true, operatorId: 17 }, 'inbound', 'client'],
    ['isClient false', { isClient: false }, 'outbound', 'operator'],
    ['fromClient true', { fromClient: true }, 'inbound', 'client'],
    ['authorType client', { authorType: 'CLIENT', operatorId: 17 }, 'inbound', 'client'],
    ['authorType operator', { authorType: 'operator' }, 'outbound', 'operator'],
    ['authorType bot', { authorType: 'bot' }, 'outbound', 'bot'],
    ['senderType system', { senderType: 'system' }, 'outbound', 'system'],
    ['author.type agent', { author: { type: 'agent', id: 'a-1', name: 'Anna' } }, 'outbound', 'operator'],
    ['author.role customer', { author: { role: 'customer' } }, 'inbound', 'client'],
    ['direction in', { direction: 'in', operatorId: 17 }, 'inbound', 'client'],
    ['direction outgoing', { direction: 'outgoing' }, 'outbound', 'operator'],
    ['author type beats direction', { direction: 'outbound', authorType: 'bot' }, 'outbound', 'bot'],
    ['an unknown authorType is no signal', { authorType: 'martian', operatorId: 3 }, 'outbound', 'operator'],
  ];

  for (const [name, fields, direction, role] of cases) {
    it(name, () => {
      const e = one(pub('chatMessageCreated', { id: 'm-1', chatId: 'chat-1', text: 'x', ...fields }));
      expect(e.data).toMatchObject({ direction, author: { role } });
    });
  }

  it('names the author from author.id/author.name, else the client or operator id', () => {
    expect(one(pub('chatMessageCreated', { id: 'm', chatId: 'c', author: { type: 'agent', id: 'a-1', name: 'Anna' } })).data).toMatchObject({ author: { id: 'a-1', name: 'Anna', role: 'operator' } });
    expect(one(pub('chatMessageCreated', { id: 'm', chatId: 'c', clientId: 'cl', authorName: 'Ivan' })).data).toMatchObject({ author: { id: 'cl', name: 'Ivan', role: 'client' } });
    expect(one(pub('chatMessageCreated', { id: 'm', chatId: 'c', operatorId: 17 })).data).toMatchObject({ author: { id: '17', role: 'operator' }, operator: { id: '17' } });
  });
});

describe('TWIN time', () => {
  const at = (startedAt: unknown) => {
    const p = payloadOf('chatSessionStarted');
    inner(p).startedAt = startedAt;
    return one(p, { ...ctx, receivedAt: '2026-03-04T05:06:07.000Z' }).time;
  };

  it('takes an ISO 8601 time with a zone, in any offset', () => {
    expect(at('2024-06-03T09:15:02Z')).toBe('2024-06-03T09:15:02.000Z');
    expect(at('2024-06-03T12:15:02.123456+03:00')).toBe('2024-06-03T09:15:02.123Z');
    expect(at('2024-06-03 12:15:02+0300')).toBe('2024-06-03T09:15:02.000Z');
  });

  it('uses the receipt time for a time without a zone or one that is not a date', () => {
    expect(at('2024-06-03 09:15:02')).toBe('2026-03-04T05:06:07.000Z');
    expect(at('2024-06-03T09:15:02')).toBe('2026-03-04T05:06:07.000Z');
    expect(at('yesterday')).toBe('2026-03-04T05:06:07.000Z');
    expect(at('2024-13-45T09:15:02Z')).toBe('2026-03-04T05:06:07.000Z');
  });

  it('takes Unix seconds or milliseconds where an unconfirmed payload has numbers', () => {
    const time = (createdAt: number) => one(pub('chatMessageCreated', { id: 'm', chatId: 'c', createdAt })).time;
    expect(time(1717406162)).toBe('2024-06-03T09:16:02.000Z');
    expect(time(1717406162000)).toBe('2024-06-03T09:16:02.000Z');
  });

  it('does not take the session start as the time of later session events', () => {
    const p = pub('chatSessionDeleted', { id: 's', chatId: 'c', startedAt: '2024-06-03T09:15:02Z' });
    expect(one(p).time).toBe(ctx.receivedAt);
  });
});

describe('TWIN unknown and unconfirmed input', () => {
  it('keeps an unknown event as native.unmapped, whatever its data', () => {
    for (const data of [undefined, null, 'text', [1], { chatId: 'c' }]) {
      const e = one(pub('operatorStatusSomething', data));
      expect(e.type).toBe('native.unmapped');
      expect(e.nativetype).toBe('operatorStatusSomething');
      expect(e.subject).toBe('native/operatorStatusSomething');
      expect(e.data).toMatchObject({ reason: 'no mapping for TWIN event "operatorStatusSomething"' });
    }
  });

  it('does not mistake Object.prototype names for events', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(normalizeTwin(pub(name, {}), ctx).map((e) => e.type), name).toEqual(['native.unmapped']);
    }
  });

  it('never throws for an unconfirmed event whose data is an object, however bare', () => {
    const unconfirmed = Object.keys(CODES).filter((n) => !['chatSessionStarted', 'operatorNotFound', 'clientOffline'].includes(n));
    const shapes: unknown[] = [{}, { chatId: 5 }, { chatId: '' }, { id: { nested: true } }, { messageIds: [null, {}] }, { attachments: 'none', chatId: 'c', id: 'm' }, { author: 'x', chatId: 'c', id: 'm' }, { createdAt: 'soon', chatId: 'c', id: 'm' }];
    for (const name of unconfirmed) {
      for (const data of shapes) {
        const events = normalizeTwin(pub(name, data), ctx);
        expect(events, `${name} ${JSON.stringify(data)}`).toHaveLength(1);
      }
    }
  });

  it('keeps a known event that lacks the id its mapping needs as native.unmapped, naming what is missing', () => {
    const cases: ReadonlyArray<readonly [string, Record<string, unknown>, RegExp]> = [
      ['chatMessageCreated', { chatId: 'c' }, /^chatMessageCreated without a message id \(data\.id or data\.messageId\)$/],
      ['chatMessageCreated', { id: 'm' }, /^chatMessageCreated without a conversation id/],
      ['chatMessageEdited', { chatId: 'c' }, /^chatMessageEdited without a message id/],
      ['chatMessageRead', { chatId: 'c' }, /^chatMessageRead without message ids/],
      ['chatMessageRead', { messageId: 'm' }, /^chatMessageRead without a conversation id/],
      ['chatSessionAdded', {}, /^chatSessionAdded without a conversation id \(data\.chatId, data\.sessionId or data\.id\)$/],
      ['chatSessionDeleted', { name: 'x' }, /^chatSessionDeleted without a conversation id/],
      ['chatSessionSwitchedFromBotToOperator', {}, /^chatSessionSwitchedFromBotToOperator without a conversation id/],
      ['sessionClosedByClient', {}, /^sessionClosedByClient without a conversation id/],
      ['typing', { id: 'x' }, /^typing without a conversation id/],
      ['clientOnline', { chatId: 'c' }, /^clientOnline without a client id/],
    ];
    for (const [name, data, reason] of cases) {
      const e = one(pub(name, data));
      expect(e.type, name).toBe('native.unmapped');
      expect(e.nativetype).toBe(name);
      expect((e.data as { reason: string }).reason).toMatch(reason);
    }
  });

  it('uses the session id where a session event has no chatId', () => {
    expect(one(pub('chatSessionAdded', { id: 's-1' })).subject).toBe('conversation/s-1');
    expect(one(pub('chatSessionAdded', { id: 's-1', sessionId: 's-2' })).subject).toBe('conversation/s-2');
    expect(one(pub('typing', { sessionId: 's-3' })).subject).toBe('conversation/s-3');
  });
});

describe('TWIN invalid publications', () => {
  it('rejects what is not a publication object', () => {
    for (const p of [null, undefined, 42, 'typing', [], [{ channel: 'c' }]]) {
      expect(invalid(p).message).toMatch(/^twin: expected a publication object \{ channel, offset\?, data \}, found /);
    }
  });

  it('rejects a publication without a channel', () => {
    expect(invalid({ data: { event: 'typing', data: {} } }).message).toBe('twin: at channel: expected a non-empty string, found nothing');
    expect(invalid({ channel: '', data: { event: 'typing', data: {} } }).message).toMatch(/^twin: at channel: /);
    expect(invalid({ channel: 7, data: { event: 'typing', data: {} } }).message).toMatch(/^twin: at channel: .*found number 7$/);
  });

  it('rejects an offset that is not a non-negative integer', () => {
    for (const offset of ['5', -1, 1.5, Number.NaN, {}]) {
      expect(invalid({ ...payloadOf('typing'), offset }).message).toMatch(/^twin: at offset: expected a non-negative integer, found /);
    }
  });

  it('rejects publication data that is not an object', () => {
    for (const data of [undefined, null, 'chatSessionStarted', [], 3]) {
      expect(invalid({ channel: 'c', offset: 1, data }).message).toMatch(/^twin: at data: expected the TWIN payload object \{ event \| action, data \}, found /);
    }
  });

  it('rejects publication data with neither an `event` nor an `action` string', () => {
    expect(invalid({ channel: 'c', data: { data: {} } }).message).toBe('twin: at data.event: expected a non-empty string (or one in data.action), found nothing');
    expect(invalid({ channel: 'c', data: { event: 7, data: {} } }).message).toMatch(/^twin: at data\.event: .*found number 7$/);
    expect(invalid({ channel: 'c', data: { event: '', action: false, data: {} } }).message).toBe('twin: at data.event: expected a non-empty string (or one in data.action), found string "" (data.action: boolean false)');
  });

  it('rejects a known event whose data is not an object', () => {
    for (const name of ['chatMessageCreated', 'typing', 'clientOnline', 'chatSessionAdded']) {
      expect(invalid(pub(name, undefined)).message).toBe(`${name}: at data.data: expected object, found nothing`);
      expect(invalid(pub(name, null)).message).toBe(`${name}: at data.data: expected object, found null`);
      expect(invalid(pub(name, [{ chatId: 'c' }])).message).toMatch(new RegExp(`^${name}: at data\\.data: expected object, found an array`));
    }
    // the operator-session events need no data, but what there is must be an object
    for (const name of ['operatorBlocked', 'chatUserExists', 'operatorLoggedOut']) {
      expect(invalid(pub(name, 'bye')).message).toBe(`${name}: at data.data: expected object, found string "bye"`);
    }
  });

  const cases: ReadonlyArray<readonly [string, (d: Record<string, unknown>) => void, RegExp]> = [
    ['chatSessionStarted', (d) => delete d.id, /^chatSessionStarted: at data\.data\.id: expected string, found nothing$/],
    ['chatSessionStarted', (d) => delete d.chatId, /^chatSessionStarted: at data\.data\.chatId: expected string/],
    ['chatSessionStarted', (d) => delete d.clientId, /^chatSessionStarted: at data\.data\.clientId: expected .*found nothing/],
    ['chatSessionStarted', (d) => (d.clientId = 5), /at data\.data\.clientId: expected .*found number 5/],
    ['chatSessionStarted', (d) => delete d.name, /at data\.data\.name: expected string/],
    ['chatSessionStarted', (d) => (d.markedAsSpam = 'no'), /at data\.data\.markedAsSpam: expected boolean, found string "no"/],
    ['chatSessionStarted', (d) => (d.operatorId = true), /at data\.data\.operatorId: expected .*found boolean true/],
    ['chatSessionStarted', (d) => delete d.operatorId, /at data\.data\.operatorId: expected /],
    ['chatSessionStarted', (d) => delete d.channel, /at data\.data\.channel: expected string/],
    ['chatSessionStarted', (d) => delete d.status, /at data\.data\.status: expected string/],
    ['chatSessionStarted', (d) => (d.startedAt = 1717406102), /at data\.data\.startedAt: expected string, found number 1717406102/],
    ['chatSessionStarted', (d) => delete d.lastMessageCreatedAt, /at data\.data\.lastMessageCreatedAt: expected /],
    ['chatSessionStarted', (d) => delete d.operatorAssignedAt, /at data\.data\.operatorAssignedAt: expected /],
    ['chatSessionStarted', (d) => (d.operatorType = null), /at data\.data\.operatorType: expected string, found null/],
    ['chatSessionStarted', (d) => (d.timerFirstAnswer = '60'), /at data\.data\.timerFirstAnswer: expected number/],
    ['chatSessionStarted', (d) => ((d.coordinates as Record<string, unknown>).latitude = '58.01'), /at data\.data\.coordinates\.latitude: expected .*found string "58\.01"/],
    ['chatSessionStarted', (d) => (d.previousOperator = { id: 17 }), /at data\.data\.previousOperator\.id: expected .*found number 17/],
    ['chatSessionStarted', (d) => (d.clientBanned = 'yes'), /at data\.data\.clientBanned: expected /],
    ['operatorNotFound', (d) => delete d.botStatus, /^operatorNotFound: at data\.data\.botStatus: expected string, found nothing$/],
    ['operatorNotFound', (d) => delete d.chatId, /^operatorNotFound: at data\.data\.chatId: expected string/],
    ['operatorNotFound', (d) => (d.sessionId = 12), /^operatorNotFound: at data\.data\.sessionId: expected string, found number 12/],
    ['operatorNotFound', (d) => delete d.operatorType, /at data\.data\.operatorType: expected string/],
    ['operatorNotFound', (d) => delete d.status, /at data\.data\.status: expected string/],
    ['clientOffline', (d) => delete d.id, /^clientOffline: at data\.data\.id: expected string, found nothing$/],
    ['clientOffline', (d) => (d.id = 99), /^clientOffline: at data\.data\.id: expected string, found number 99$/],
  ];

  for (const [file, spoil, message] of cases) {
    it(`${file}: ${message.source}`, () => {
      const payload = payloadOf(file);
      spoil(inner(payload));
      expect(invalid(payload).message).toMatch(message);
    });
  }

  it('accepts chatSessionStarted with only the required fields and nulls where the seed allows them', () => {
    expect(one(payloadOf('chatSessionStarted-in-help')).type).toBe('conversation.opened');
    const p = payloadOf('chatSessionStarted');
    Object.assign(inner(p), { coordinates: null, previousOperator: null, botStatus: null, clientIp: null, lastMessage: null, unreadClientMessageCount: null, extraField: { anything: 1 } });
    expect(one(p).type).toBe('conversation.opened');
  });
});
