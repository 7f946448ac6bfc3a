import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { comparable, clone, loadFixtures } from '../../../test/helpers/fixtures.js';
import { ValidationError, hashCanonical, type NormalizeContext, type SwitchboardEvent } from '../../core/index.js';
import { jsonIngest } from '../json-ingest.js';
import { greenapi, greenApiSettings } from './index.js';
import { normalizeGreenApi } from './normalize.js';

const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };

const fixtures = loadFixtures(new URL('./fixtures/', import.meta.url));



function payloadOf(file: string): Record<string, unknown> {
  const f = fixtures.find((x) => x.file === `${file}.json`);
  if (!f) throw new Error(`no fixture ${file}`);
  return clone(f.payload) as Record<string, unknown>;
}

function invalid(payload: unknown): ValidationError {
  try {
    normalizeGreenApi(payload, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
    return e;
  }
  throw new Error(`expected a ValidationError for ${JSON.stringify(payload)}`);
}

/**
 * Every native code the mapping covers (docs/events.md, GREEN-API). Each must have a
 * fixture that maps it to something other than native.unmapped.
 */
const MAPPED_CODES = [
  'incomingCall/offer',
  'incomingCall/pickUp',
  'incomingCall/hungUp',
  'incomingCall/hangUp',
  'incomingCall/missed',
  'incomingCall/declined',
  'outgoingCall/pickUp',
  'outgoingCall/hungUp',
  'outgoingCall/invalid',
  'incomingMessageReceived/textMessage',
  'incomingMessageReceived/extendedTextMessage',
  'incomingMessageReceived/imageMessage',
  'incomingMessageReceived/videoMessage',
  'incomingMessageReceived/documentMessage',
  'incomingMessageReceived/audioMessage',
  'incomingMessageReceived/locationMessage',
  'incomingMessageReceived/contactMessage',
  'incomingMessageReceived/contactsArrayMessage',
  'incomingMessageReceived/pollMessage',
  'incomingMessageReceived/quotedMessage',
  'incomingMessageReceived/stickerMessage',
  'incomingMessageReceived/reactionMessage',
  'incomingMessageReceived/pollUpdateMessage',
  'incomingMessageReceived/editedMessage',
  'incomingMessageReceived/deletedMessage',
  'outgoingMessageReceived/textMessage',
  'outgoingMessageReceived/editedMessage',
  'outgoingMessageReceived/deletedMessage',
  'outgoingAPIMessageReceived/extendedTextMessage',
  'outgoingAPIMessageReceived/documentMessage',
  'outgoingMessageStatus/sent',
  'outgoingMessageStatus/delivered',
  'outgoingMessageStatus/read',
  'outgoingMessageStatus/failed',
  'outgoingMessageStatus/noAccount',
  'outgoingMessageStatus/notInGroup',
  'outgoingMessageStatus/yellowCard',
  'stateInstanceChanged/authorized',
  'stateInstanceChanged/notAuthorized',
  'stateInstanceChanged/blocked',
  'stateInstanceChanged/starting',
  'stateInstanceChanged/yellowCard',
  'stateInstanceChanged/sleepMode',
  'quotaExceeded',
  'incomingBlock',
] as const;

describe('GREEN-API fixtures', () => {
  it('are present', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(MAPPED_CODES.length);
  });

  for (const f of fixtures) {
    it(`${f.file}: ${f.description}`, () => {
      const events = normalizeGreenApi(f.payload, ctx);
      expect(events.map(comparable)).toEqual(f.expected);
      for (const e of events) {
        expect(e.platform).toBe('greenapi');
        expect(e.source).toBe('switchboard/greenapi/fixture');
        expect(e.data.native).toEqual(f.payload);
      }
    });
  }
});

describe('GREEN-API mapping coverage', () => {
  const byCode = new Map<string, SwitchboardEvent[]>();
  for (const f of fixtures) {
    for (const e of normalizeGreenApi(f.payload, ctx)) byCode.set(e.nativetype, [...(byCode.get(e.nativetype) ?? []), e]);
  }

  for (const code of MAPPED_CODES) {
    it(`${code} has a fixture and a mapping`, () => {
      const events = byCode.get(code);
      expect(events, `no fixture yields nativetype ${code}`).toBeDefined();
      expect(events?.map((e) => e.type)).not.toContain('native.unmapped');
    });
  }

  it('lists every mapped code the fixtures produce', () => {
    const mapped = [...byCode].filter(([, events]) => events.some((e) => e.type !== 'native.unmapped')).map(([code]) => code);
    expect(mapped.filter((c) => !(MAPPED_CODES as readonly string[]).includes(c))).toEqual([]);
  });
});

describe('GREEN-API identity', () => {
  it('gives a duplicate delivery the same ids', () => {
    for (const f of fixtures) {
      const first = normalizeGreenApi(f.payload, ctx).map((e) => e.id);
      const again = normalizeGreenApi(clone(f.payload), { ...ctx, receivedAt: '2026-02-02T00:00:00.000Z' }).map((e) => e.id);
      expect(again, f.file).toEqual(first);
    }
  });

  it('gives every event of every fixture its own id', () => {
    const ids = fixtures.flatMap((f) => normalizeGreenApi(f.payload, ctx).map((e) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

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

  it('depends on the connector (source)', () => {
    const payload = payloadOf('incomingCall-offer');
    const a = normalizeGreenApi(payload, ctx);
    const b = normalizeGreenApi(payload, { ...ctx, connectorId: 'other' });
    expect(a[0]?.id).not.toBe(b[0]?.id);
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
    expect(greenapi.normalize).toBe(normalizeGreenApi);
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

describe('GREEN-API normalizer purity', () => {
  it('imports only the core and zod/mini', () => {
    const source = readFileSync(fileURLToPath(new URL('./normalize.ts', import.meta.url)), 'utf8');
    const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['zod/mini', '../../core/index.js']));
    expect(source).not.toMatch(/Date\.now|new Date\(|Math\.random|process\.|require\(/);
  });
});

describe('GREEN-API typeWebhook names that are also object properties', () => {
  it('maps toString, constructor and hasOwnProperty to native.unmapped', () => {
    for (const typeWebhook of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const events = normalizeGreenApi({ typeWebhook, instanceData: { idInstance: 1 }, timestamp: 1717000000 }, { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' });
      expect(events.map((e) => e.type)).toEqual(['native.unmapped']);
    }
  });
});
