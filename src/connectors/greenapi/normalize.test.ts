import { describe, it, expect } from 'vitest';
import { clone, loadFixtures, payloadReader } from '../../../test/helpers/fixtures.js';
import { normalizerConformance, normalizerProbes } from '../../../test/normalizer-conformance.js';
import { hashCanonical, type EventType, type NormalizeContext } from '../../core/index.js';
import { jsonIngest } from '../json-ingest.js';
import { greenapi, greenApiSettings } from './index.js';
import { normalizeGreenApi } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };
const payloadOf = payloadReader<Record<string, unknown>>(loadFixtures(new URL('./fixtures/', import.meta.url)));
const { invalid } = normalizerProbes(normalizeGreenApi, ctx);

/**
 * Every native code the mapping covers (docs/events.md, GREEN-API; seed 004 is the incomingCall
 * statuses), with the types it becomes: a call picked up gives `call.answered` and `call.ended`.
 */
const CODES = {
  'incomingCall/offer': 'call.ringing',
  'incomingCall/pickUp': ['call.answered', 'call.ended'],
  'incomingCall/hungUp': 'call.ended',
  'incomingCall/hangUp': 'call.ended',
  'incomingCall/missed': 'call.ended',
  'incomingCall/declined': 'call.ended',
  'outgoingCall/pickUp': ['call.answered', 'call.ended'],
  'outgoingCall/hungUp': 'call.ended',
  'outgoingCall/invalid': 'call.ended',
  'incomingMessageReceived/textMessage': 'message.created',
  'incomingMessageReceived/extendedTextMessage': 'message.created',
  'incomingMessageReceived/imageMessage': 'message.created',
  'incomingMessageReceived/videoMessage': 'message.created',
  'incomingMessageReceived/documentMessage': 'message.created',
  'incomingMessageReceived/audioMessage': 'message.created',
  'incomingMessageReceived/locationMessage': 'message.created',
  'incomingMessageReceived/contactMessage': 'message.created',
  'incomingMessageReceived/contactsArrayMessage': 'message.created',
  'incomingMessageReceived/pollMessage': 'message.created',
  'incomingMessageReceived/quotedMessage': 'message.created',
  'incomingMessageReceived/stickerMessage': 'message.created',
  'incomingMessageReceived/reactionMessage': 'message.created',
  'incomingMessageReceived/pollUpdateMessage': 'message.created',
  'incomingMessageReceived/editedMessage': 'message.edited',
  'incomingMessageReceived/deletedMessage': 'message.status-changed',
  'outgoingMessageReceived/textMessage': 'message.created',
  'outgoingMessageReceived/editedMessage': 'message.edited',
  'outgoingMessageReceived/deletedMessage': 'message.status-changed',
  'outgoingAPIMessageReceived/extendedTextMessage': 'message.created',
  'outgoingAPIMessageReceived/documentMessage': 'message.created',
  'outgoingMessageStatus/sent': 'message.status-changed',
  'outgoingMessageStatus/delivered': 'message.status-changed',
  'outgoingMessageStatus/read': 'message.status-changed',
  'outgoingMessageStatus/failed': 'message.status-changed',
  'outgoingMessageStatus/noAccount': 'message.status-changed',
  'outgoingMessageStatus/notInGroup': 'message.status-changed',
  'outgoingMessageStatus/yellowCard': 'message.status-changed',
  'stateInstanceChanged/authorized': 'channel.state-changed',
  'stateInstanceChanged/notAuthorized': 'channel.state-changed',
  'stateInstanceChanged/blocked': 'channel.state-changed',
  'stateInstanceChanged/starting': 'channel.state-changed',
  'stateInstanceChanged/yellowCard': 'channel.state-changed',
  'stateInstanceChanged/sleepMode': 'channel.state-changed',
  quotaExceeded: 'channel.quota-exceeded',
  incomingBlock: 'contact.updated',
} satisfies Record<string, EventType | readonly EventType[]>;

normalizerConformance({
  platform: 'greenapi',
  normalize: normalizeGreenApi,
  module: new URL('./normalize.ts', import.meta.url),
  fixtures: new URL('./fixtures/', import.meta.url),
  context: ctx,
  codes: CODES,
  // Each code has a fixture of its name (`incomingCall/offer`: incomingCall-offer.json); the notifications are validated field by field, so the fixture is the least payload.
  payload: (code) => payloadOf(code.replace('/', '-')),
});

describe('GREEN-API identity', () => {
  it('gives an offer and its final status distinct ids but the same subject', () => {
    const offer = normalizeGreenApi(payloadOf('incomingCall-offer'), ctx);
    for (const end of ['incomingCall-pickUp', 'incomingCall-hungUp', 'incomingCall-declined', 'incomingCall-missed']) {
      const final = normalizeGreenApi(payloadOf(end), ctx);
      for (const e of final) {
        expect(e.subject).toBe(offer[0]?.subject);
        expect(e.id).not.toBe(offer[0]?.id);
      }
    }
  });

  it('gives a message and its status changes distinct ids on the same conversation', () => {
    const sent = normalizeGreenApi(payloadOf('outgoingAPIMessageReceived-extendedTextMessage'), ctx);
    const statuses = ['sent', 'delivered', 'read'].flatMap((s) => normalizeGreenApi(payloadOf(`outgoingMessageStatus-${s}`), ctx));
    const all = [...sent, ...statuses];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(new Set(all.map((e) => e.subject))).toEqual(new Set(['conversation/79001234567@c.us']));
  });

  it('keys an outgoing call without idMessage by the hash of its payload', () => {
    const payload = payloadOf('outgoingCall-pickUp');
    delete payload.idMessage;
    const events = normalizeGreenApi(payload, ctx);
    const key = hashCanonical(payload);
    expect(events.map((e) => e.subject)).toEqual([`call/${key}`, `call/${key}`]);
    expect(events[0]?.data).toMatchObject({ callId: key });
    expect(normalizeGreenApi(clone(payload), ctx).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('normalizes a receiveNotification answer like the webhook body it wraps', () => {
    const body = payloadOf('incomingMessageReceived-textMessage');
    const polled = normalizeGreenApi({ receiptId: 17, body }, ctx);
    expect(polled.map((e) => e.id)).toEqual(normalizeGreenApi(body, ctx).map((e) => e.id));
    expect(polled[0]?.data.native).toEqual(body);
  });
});

describe('GREEN-API unknown input', () => {
  it('keeps an unknown typeWebhook as native.unmapped', () => {
    const events = normalizeGreenApi({ typeWebhook: 'someFutureWebhook', instanceData: { idInstance: 1 }, timestamp: 1717000000 }, ctx);
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('native.unmapped');
    expect(events[0]?.nativetype).toBe('someFutureWebhook');
  });

  it('never throws for an object with a string typeWebhook of an unknown type, however bare', () => {
    for (const typeWebhook of ['deviceInfo', 'statusInstanceChanged', 'x', 'incomingcall']) {
      expect(normalizeGreenApi({ typeWebhook }, ctx).map((e) => e.type)).toEqual(['native.unmapped']);
    }
  });

  it('keeps an unknown call status as native.unmapped', () => {
    const payload = { ...payloadOf('outgoingCall-pickUp'), status: 'busy' };
    const events = normalizeGreenApi(payload, ctx);
    expect(events.map((e) => [e.type, e.nativetype])).toEqual([['native.unmapped', 'outgoingCall/busy']]);
  });

  it('passes an unknown message status and instance state through', () => {
    const status = normalizeGreenApi({ ...payloadOf('outgoingMessageStatus-sent'), status: 'pending' }, ctx);
    expect(status[0]?.data).toMatchObject({ status: 'pending' });
    const state = normalizeGreenApi({ ...payloadOf('stateInstanceChanged-starting'), stateInstance: 'someNewState' }, ctx);
    expect(state[0]?.data).toMatchObject({ state: 'some-new-state', nativeState: 'someNewState' });
  });

  it('uses the receipt time when a notification has no timestamp', () => {
    const events = normalizeGreenApi(payloadOf('quotaExceeded'), { ...ctx, receivedAt: '2026-03-04T05:06:07.000Z' });
    expect(events[0]?.time).toBe('2026-03-04T05:06:07.000Z');
  });
});

describe('GREEN-API invalid payloads', () => {
  it('rejects what is not an object', () => {
    for (const p of [null, undefined, 42, 'incomingCall', [], [{ typeWebhook: 'incomingCall' }]]) {
      expect(invalid(p).message).toMatch(/expected a notification object/);
    }
  });

  it('rejects an object without a string typeWebhook', () => {
    expect(invalid({ instanceData: { idInstance: 1 }, timestamp: 1 }).message).toMatch(/at typeWebhook: expected a non-empty string, found nothing/);
    expect(invalid({ typeWebhook: 7 }).message).toMatch(/at typeWebhook: .*found number 7/);
    expect(invalid({ typeWebhook: '' }).message).toMatch(/at typeWebhook/);
  });

  const cases: ReadonlyArray<readonly [string, (p: Record<string, unknown>) => void, RegExp]> = [
    ['incomingCall-offer', (p) => delete p.from, /^incomingCall: at from: expected string, found nothing/],
    ['incomingCall-offer', (p) => delete p.idMessage, /^incomingCall: at idMessage: expected string/],
    ['incomingCall-offer', (p) => (p.timestamp = '1717000000'), /^incomingCall: at timestamp: expected number, found string "1717000000"/],
    ['outgoingCall-pickUp', (p) => delete p.status, /^outgoingCall: at status: expected string/],
    ['outgoingCall-pickUp', (p) => (p.isVideo = 'no'), /^outgoingCall: at isVideo: expected boolean/],
    ['incomingMessageReceived-textMessage', (p) => delete p.senderData, /^incomingMessageReceived: at senderData: expected object/],
    ['incomingMessageReceived-textMessage', (p) => delete (p.senderData as Record<string, unknown>).chatId, /at senderData\.chatId: expected string/],
    ['incomingMessageReceived-textMessage', (p) => delete (p.messageData as Record<string, unknown>).typeMessage, /at messageData\.typeMessage: expected string/],
    ['incomingMessageReceived-textMessage', (p) => delete (p.messageData as Record<string, unknown>).textMessageData, /^incomingMessageReceived\/textMessage: at messageData\.textMessageData: expected object/],
    ['incomingMessageReceived-extendedTextMessage', (p) => delete ((p.messageData as Record<string, unknown>).extendedTextMessageData as Record<string, unknown>).text, /at messageData\.extendedTextMessageData\.text: expected string/],
    ['incomingMessageReceived-imageMessage', (p) => delete ((p.messageData as Record<string, unknown>).fileMessageData as Record<string, unknown>).downloadUrl, /at messageData\.fileMessageData\.downloadUrl: expected string/],
    ['incomingMessageReceived-locationMessage', (p) => (((p.messageData as Record<string, unknown>).locationMessageData as Record<string, unknown>).latitude = '58.01'), /at messageData\.locationMessageData\.latitude: expected number, found string "58\.01"/],
    ['incomingMessageReceived-contactsArrayMessage', (p) => delete (p.messageData as Record<string, unknown>).messageData, /at messageData\.messageData\.contacts: expected array/],
    ['incomingMessageReceived-pollMessage', (p) => delete ((p.messageData as Record<string, unknown>).pollMessageData as Record<string, unknown>).name, /at messageData\.pollMessageData\.name: expected string/],
    ['incomingMessageReceived-editedMessage', (p) => delete ((p.messageData as Record<string, unknown>).editedMessageData as Record<string, unknown>).stanzaId, /at messageData\.editedMessageData\.stanzaId: expected string/],
    ['incomingMessageReceived-deletedMessage', (p) => delete (p.messageData as Record<string, unknown>).deletedMessageData, /at messageData\.deletedMessageData: expected object/],
    ['outgoingMessageReceived-textMessage', (p) => delete p.idMessage, /^outgoingMessageReceived: at idMessage: expected string/],
    ['outgoingMessageStatus-read', (p) => delete p.chatId, /^outgoingMessageStatus: at chatId: expected string/],
    ['outgoingMessageStatus-read', (p) => delete p.status, /^outgoingMessageStatus: at status: expected string/],
    ['stateInstanceChanged-authorized', (p) => delete p.stateInstance, /^stateInstanceChanged: at stateInstance: expected string/],
    ['stateInstanceChanged-authorized', (p) => delete (p.instanceData as Record<string, unknown>).idInstance, /^stateInstanceChanged: at instanceData\.idInstance: expected /],
    ['quotaExceeded', (p) => delete p.quotaData, /^quotaExceeded: at quotaData: expected object/],
    ['incomingBlock', (p) => delete p.chatId, /^incomingBlock: at chatId: expected string/],
  ];

  for (const [file, spoil, message] of cases) {
    it(`${file}: ${message.source}`, () => {
      const payload = payloadOf(file);
      spoil(payload);
      expect(invalid(payload).message).toMatch(message);
    });
  }
});

describe('GREEN-API connector definition', () => {
  it('wires the normalizer, the JSON ingest, the poller and caller names', () => {
    expect(greenapi.platform).toBe('greenapi');
    expect(greenapi.ingest).toBe(jsonIngest);
    const noop = () => undefined;
    // Without polling credentials: webhooks only, no poller, no caller names.
    expect(greenapi.source?.({ connectorId: 'wa', settings: {}, cursor: undefined, signal: noop })).toBeUndefined();
    const polling = { apiUrl: 'http://127.0.0.1:1', idInstance: '1101', apiTokenInstance: 't' };
    expect(greenapi.source?.({ connectorId: 'wa', settings: { polling }, cursor: undefined, signal: noop })).toBeDefined();
    expect(greenapi.source?.({ connectorId: 'wa', settings: { polling: { ...polling, receive: false } }, cursor: undefined, signal: noop })).toBeUndefined();
  });

  it('accepts the documented settings', () => {
    const ok = [
      {},
      { keepTypes: ['incomingCall', 'incomingMessageReceived'], callerNames: false },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: '1101000001', apiTokenInstance: 'abc', receiveTimeout: 20 } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: 1101000001, apiTokenInstance: 'abc' } },
    ];
    for (const s of ok) expect(greenApiSettings.safeParse(s).success, JSON.stringify(s)).toBe(true);
    const numeric = greenApiSettings.safeParse({ polling: { apiUrl: 'https://api.green-api.com', idInstance: 1101000001, apiTokenInstance: 'abc' } });
    expect(numeric.data?.polling?.idInstance).toBe('1101000001');
  });

  it('rejects wrong settings', () => {
    const bad = [
      { unknownKey: 1 },
      { polling: { apiUrl: 'not a url', idInstance: '1', apiTokenInstance: 'x' } },
      { polling: { apiUrl: 'ftp://api.green-api.com', idInstance: '1', apiTokenInstance: 'x' } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: 1101.5, apiTokenInstance: 'x' } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: '', apiTokenInstance: 'x' } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: '1', apiTokenInstance: 'x', receiveTimeout: 61 } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: '1', apiTokenInstance: 'x', receiveTimeout: 4 } },
      { polling: { apiUrl: 'https://api.green-api.com', idInstance: '1', apiTokenInstance: 'x', extra: true } },
      { keepTypes: 'incomingCall' },
    ];
    for (const s of bad) expect(greenApiSettings.safeParse(s).success, JSON.stringify(s)).toBe(false);
  });
});

describe('GREEN-API typeWebhook names that are also object properties', () => {
  it('maps toString, constructor and hasOwnProperty to native.unmapped', () => {
    for (const typeWebhook of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const events = normalizeGreenApi({ typeWebhook, instanceData: { idInstance: 1 }, timestamp: 1717000000 }, ctx);
      expect(events.map((e) => e.type)).toEqual(['native.unmapped']);
    }
  });
});
