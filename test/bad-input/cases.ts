/**
 * The bad-input catalogue: malformed and hostile input across the five platforms, each with the
 * answer Switchboard must give — status, error code, a reason that names what was wrong — and
 * whether the input is kept in the quarantine. `test/bad-input.test.ts` posts every case to a real
 * server. Add a case here when a new kind of bad input is found.
 */

export interface BadInputCase {
  readonly name: string;
  /** A connector of `CATALOGUE_CONNECTORS`. */
  readonly connector: 'wa' | 'widget' | 'threads' | 'twin' | '1c';
  readonly contentType: string;
  /** The body: text as given, or bytes. */
  readonly body: string | Uint8Array;
  readonly status: number;
  readonly code: string;
  /** What the message must say. */
  readonly reason: RegExp;
  /** Kept in the quarantine with this code (`GET /v1/quarantine`), with the bytes as received. */
  readonly quarantined: boolean;
  /** The bytes the quarantine keeps when they are not the whole body: the one item of an array or NDJSON body. */
  readonly raw?: string;
  /**
   * How the input arrives: `http` (default) a POST to `/ingest`; `library` through `sb.ingest()`,
   * as a pulled connector's runtime hands its items over (TWIN is pulled over Centrifugo and has
   * no ingest route); `status` is then 400 for "rejected".
   */
  readonly via?: 'http' | 'library';
}

export const INGEST_TOKEN = 'catalogue-ingest-token-0123456789';

export const CATALOGUE_CONNECTORS = [
  { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN },
  { id: 'widget', platform: 'widget', ingestToken: INGEST_TOKEN },
  { id: 'threads', platform: 'threads', ingestToken: INGEST_TOKEN },
  { id: 'twin', platform: 'twin', ingestToken: INGEST_TOKEN, auth: { token: 'unused-token' }, url: 'ws://127.0.0.1:9/never' },
  { id: '1c', platform: 'connect1c', ingestToken: INGEST_TOKEN },
] as const;

const JSON_CT = 'application/json';
const XML_CT = 'application/xml';

const instance = { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' };
const waText = (over: Record<string, unknown> = {}) => ({
  typeWebhook: 'incomingMessageReceived',
  instanceData: instance,
  timestamp: 1717002000,
  idMessage: 'BAE5F4886F6F2D05',
  senderData: { chatId: '79001234567@c.us', sender: '79001234567@c.us', senderName: 'Ivan' },
  messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'hi' } },
  ...over,
});
/** JSON text of an object nested `levels` deep (built as text: the test's own JSON.stringify would overflow). */
const deepText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const deepArrayText = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const event1c = (attrs: string, children = '<CallID>c-1</CallID><State>Started</State>') => `<Event ${attrs}>${children}</Event>`;
const goodAttrs = 'ID="d5d0c0de-0000-4000-8000-000000000001" Time="2026-03-02T12:00:00" Mode="ServicesClients" Object="Call" Initiator="Incoming"';
const j = (v: unknown) => JSON.stringify(v);

const invalid = (connector: BadInputCase['connector'], name: string, body: unknown, reason: RegExp): BadInputCase => ({
  name,
  connector,
  ...(connector === 'twin' ? { via: 'library' as const } : {}),
  contentType: JSON_CT,
  body: typeof body === 'string' ? body : j(body),
  status: 400,
  code: 'SB_ERR_INGEST_INVALID_PAYLOAD',
  reason,
  quarantined: true,
});
const malformed = (connector: BadInputCase['connector'], name: string, body: string | Uint8Array, reason: RegExp, contentType = connector === '1c' ? XML_CT : JSON_CT): BadInputCase => ({
  name,
  connector,
  contentType,
  body,
  status: 400,
  code: 'SB_ERR_INGEST_MALFORMED',
  reason,
  quarantined: true,
});

export const CASES: readonly BadInputCase[] = [
  // ─── any JSON platform: the body ───────────────────────────────────────────────────────────
  malformed('wa', 'truncated JSON', '{"typeWebhook":"incomingCall",', /malformed JSON/),
  malformed('wa', 'a lone string that is not JSON', 'hello', /malformed JSON/),
  malformed('widget', 'JSON with a trailing comma', '{"code":"RINGING","callId":"c",}', /malformed JSON/),
  { ...malformed('threads', 'a bad NDJSON line', '{"origin":"threads"\n', /line 1: malformed JSON/, 'application/x-ndjson'), raw: '{"origin":"threads"' },
  malformed('threads', 'a NUL byte in JSON', '{"origin":"x\u0000"', /malformed JSON/),
  { name: 'an empty JSON array', connector: 'wa', contentType: JSON_CT, body: '[]', status: 400, code: 'SB_ERR_INGEST_EMPTY', reason: /no payload/, quarantined: false },
  { name: 'blank NDJSON', connector: 'threads', contentType: 'application/x-ndjson', body: '\n\n  \n', status: 400, code: 'SB_ERR_INGEST_EMPTY', reason: /no payload/, quarantined: false },
  { name: 'an empty body', connector: 'widget', contentType: JSON_CT, body: '', status: 400, code: 'SB_ERR_INGEST_EMPTY', reason: /no payload|empty/, quarantined: false },
  { name: 'a content type the connector does not take', connector: 'wa', contentType: 'text/plain', body: j(waText()), status: 415, code: 'SB_ERR_INGEST_CONTENT_TYPE', reason: /text\/plain/, quarantined: false },
  { name: 'XML to a JSON platform', connector: 'widget', contentType: XML_CT, body: '<a/>', status: 415, code: 'SB_ERR_INGEST_CONTENT_TYPE', reason: /application\/xml/, quarantined: false },
  { name: 'JSON to the 1С-Коннект relay', connector: '1c', contentType: JSON_CT, body: '{}', status: 415, code: 'SB_ERR_INGEST_CONTENT_TYPE', reason: /application\/json/, quarantined: false },
  malformed('wa', 'invalid UTF-8 in JSON', Uint8Array.from([...new TextEncoder().encode('{"typeWebhook":"'), 0xc3, 0x28, ...new TextEncoder().encode('"}')]), /not valid utf-8: invalid bytes at byte offset 16/),
  { name: 'JSON declared in another charset', connector: 'wa', contentType: 'application/json; charset=windows-1251', body: j(waText()), status: 415, code: 'SB_ERR_INGEST_CONTENT_TYPE', reason: /charset|UTF-8/, quarantined: false },

  // ─── hostile shapes ────────────────────────────────────────────────────────────────────────
  { name: 'a payload nested 4,500 levels deep (GREEN-API, unknown field)', connector: 'wa', contentType: JSON_CT, body: j(waText({ extra: 'DEEP' })).replace('"DEEP"', deepText(4500)), status: 400, code: 'SB_ERR_INGEST_LIMIT', reason: /nested 4,50\d levels deep; the limit is 64/, quarantined: true },
  // A JSON array body is a list of payloads: its one item is the array inside, kept as that slice.
  { name: 'an array nested 10,000 levels deep', connector: 'widget', contentType: JSON_CT, body: deepArrayText(10_000), status: 400, code: 'SB_ERR_INGEST_LIMIT', reason: /levels deep; the limit is 64/, quarantined: true, raw: deepArrayText(9_999) },
  { name: 'a deep JSON text inside a Threads SURVEY', connector: 'threads', contentType: JSON_CT, body: j({ origin: 'threads', type: 'SURVEY', threadId: 7, uuid: 'u-deep', text: deepText(4500) }), status: 400, code: 'SB_ERR_INGEST_LIMIT', reason: /levels deep; the limit is 64/, quarantined: true },
  { name: 'a payload with too many keys', connector: 'threads', contentType: JSON_CT, body: j({ origin: 'threads', type: 'THREAD_OPENED', threadId: 1, extra: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }), status: 400, code: 'SB_ERR_INGEST_LIMIT', reason: /the limit is 10,000/, quarantined: true },

  // ─── GREEN-API ─────────────────────────────────────────────────────────────────────────────
  invalid('wa', 'GREEN-API: not an object', '42', /expected a notification object/),
  invalid('wa', 'GREEN-API: no typeWebhook', { instanceData: instance, timestamp: 1 }, /typeWebhook/),
  invalid('wa', 'GREEN-API: typeWebhook empty', { typeWebhook: '', instanceData: instance }, /typeWebhook/),
  invalid('wa', 'GREEN-API: typeWebhook a number', { typeWebhook: 7, instanceData: instance }, /typeWebhook/),
  invalid('wa', 'GREEN-API: incomingCall without idMessage', { from: '79001234567@c.us', typeWebhook: 'incomingCall', instanceData: instance, status: 'offer', timestamp: 1 }, /idMessage/),
  invalid('wa', 'GREEN-API: incomingCall timestamp a string', { from: '79001234567@c.us', typeWebhook: 'incomingCall', instanceData: instance, status: 'offer', timestamp: 'yesterday', idMessage: 'C1' }, /timestamp/),
  invalid('wa', 'GREEN-API: message without senderData', { ...waText(), senderData: undefined }, /senderData/),
  invalid('wa', 'GREEN-API: message without messageData', { ...waText(), messageData: undefined }, /messageData/),
  invalid('wa', 'GREEN-API: textMessageData a string', waText({ messageData: { typeMessage: 'textMessage', textMessageData: 'hi' } }), /textMessageData/),
  invalid('wa', 'GREEN-API: outgoing status without idMessage', { typeWebhook: 'outgoingMessageStatus', instanceData: instance, timestamp: 1, chatId: '79001234567@c.us', status: 'read' }, /idMessage/),
  invalid('wa', 'GREEN-API: contactsArray contacts not a list', waText({ messageData: { typeMessage: 'contactsArrayMessage', messageData: { contacts: 'x' } } }), /contacts/),
  invalid('wa', 'GREEN-API: senderData.chatId a number', waText({ senderData: { chatId: 79001234567, sender: '79001234567@c.us' } }), /senderData\.chatId/),
  invalid('wa', 'GREEN-API: stateInstance a number', { typeWebhook: 'stateInstanceChanged', instanceData: instance, timestamp: 1717002000, stateInstance: 5 }, /stateInstance/),

  // ─── call widget ───────────────────────────────────────────────────────────────────────────
  invalid('widget', 'widget: not an object', '"RINGING"', /expected a message object/),
  invalid('widget', 'widget: mobile code without callId', { code: 'RINGING', timestamp: 1768469400000 }, /callId/),
  invalid('widget', 'widget: mobile callId an object', { code: 'RINGING', callId: { a: 1 }, timestamp: 1768469400000 }, /callId/),
  invalid('widget', 'widget: mobile timestamp unreadable', { code: 'RINGING', callId: 'c-1', timestamp: 'soon' }, /timestamp|Unix milliseconds/),
  invalid('widget', 'widget: mobile data a string', { code: 'FEEDBACK_RATE', callId: 'c-1', timestamp: 1768469400000, data: 'five' }, /data/),
  invalid('widget', 'widget: web payload a string', { subject: 'widget-session-1', payload: 'state' }, /payload/),
  invalid('widget', 'widget: web state without data', { subject: 'widget-session-1', payload: { type: 'state' }, timestamp: 1768469400000 }, /state/),
  invalid('widget', 'widget: web subject with a newline', { subject: 'a\nb', payload: { type: 'state', data: { state: 'ringing' } }, timestamp: 1768469400000 }, /subject/),
  invalid('widget', 'widget: web time without a zone', { subject: 'widget-session-1', payload: { type: 'state', data: { state: 'ringing' } }, timestamp: '2026-01-01T10:00:00' }, /zone|Unix/),

  // ─── edna Threads ──────────────────────────────────────────────────────────────────────────
  { ...invalid('threads', 'Threads: an array item that is not an object', '[[1]]', /expected a push object/), raw: '[1]' },
  invalid('threads', 'Threads: another sender', { origin: 'firebase', type: 'MESSAGE' }, /not a Threads push/),
  invalid('threads', 'Threads: type missing', { origin: 'threads', threadId: 1 }, /at type/),
  invalid('threads', 'Threads: type multi-line', { origin: 'threads', type: 'MES\nSAGE', threadId: 1 }, /at type/),
  invalid('threads', 'Threads: threadId multi-line', { origin: 'threads', type: 'THREAD_OPENED', threadId: 'a\nb' }, /threadId/),
  invalid('threads', 'Threads: SURVEY text not JSON', { origin: 'threads', type: 'SURVEY', threadId: 1, uuid: 'u-1', text: '{"id": 12, "questions": [' }, /malformed JSON/),
  invalid('threads', 'Threads: SURVEY text a number', { origin: 'threads', type: 'SURVEY', threadId: 1, uuid: 'u-2', text: 12 }, /expected a JSON string/),
  invalid('threads', 'Threads: MESSAGE_EDITED without ids', { origin: 'threads', type: 'MESSAGE_EDITED', threadId: 1, text: 'x' }, /uuid, providerId or backendId/),
  invalid('threads', 'Threads: read receipts an object', { origin: 'threads', type: 'MESSAGES_READ', threadId: 1, readInMessageIds: { a: 1 } }, /readInMessageIds/),
  invalid('threads', 'Threads: SCHEDULE text not JSON', { origin: 'threads', type: 'SCHEDULE', text: '{' }, /malformed JSON/),

  // ─── TWIN ──────────────────────────────────────────────────────────────────────────────────
  invalid('twin', 'TWIN: not an object', 'null', /expected a publication object/),
  invalid('twin', 'TWIN: channel missing', { offset: 1, data: { event: 'typing', data: {} } }, /at channel/),
  invalid('twin', 'TWIN: offset negative', { channel: 'notifications', offset: -1, data: { event: 'typing', data: {} } }, /at offset/),
  invalid('twin', 'TWIN: offset a fraction', { channel: 'notifications', offset: 1.5, data: { event: 'typing', data: {} } }, /at offset/),
  invalid('twin', 'TWIN: data a string', { channel: 'notifications', offset: 1, data: 'typing' }, /at data/),
  invalid('twin', 'TWIN: data.data a list', { channel: 'notifications', offset: 1, data: { event: 'chatMessageCreated', data: [1] } }, /data\.data/),
  invalid('twin', 'TWIN: offset a string', { channel: 'notifications', offset: 'one', data: { event: 'typing', data: {} } }, /at offset/),

  // ─── 1С-Коннект relay ──────────────────────────────────────────────────────────────────────
  malformed('1c', '1С-Коннект: not XML', 'hello', /XML|Event/),
  malformed('1c', '1С-Коннект: an unclosed Event', `<Event ${goodAttrs}><CallID>c-1</CallID>`, /XML|unclosed|Event/),
  malformed('1c', '1С-Коннект: a DTD', `<?xml version="1.0"?><!DOCTYPE Event [<!ENTITY x "y">]>${event1c(goodAttrs)}`, /DTD|DOCTYPE|entit/i),
  malformed('1c', '1С-Коннект: an entity bomb', `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Event ${goodAttrs}><CallID>&lol2;</CallID></Event>`, /DTD|DOCTYPE|entit/i),
  malformed('1c', '1С-Коннект: elements nested 5,000 deep inside an Event', `<Event ${goodAttrs}>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</Event>`, /nest|deep/i),
  malformed('1c', '1С-Коннект: 40,000 unclosed <Event openings', '<Event "'.repeat(40_000), /XML|Event|unclosed|attribute/i),
  malformed('1c', '1С-Коннект: a root that is not <Event>', `<CommandResult ID="1"><Result>OK</Result></CommandResult>`, /Event/),
  { name: '1С-Коннект: an Event without ID', connector: '1c', contentType: XML_CT, body: event1c('Time="2026-03-02T12:00:00" Mode="ServicesClients" Object="Call" Initiator="Incoming"'), status: 400, code: 'SB_ERR_INGEST_INVALID_PAYLOAD', reason: /without an ID attribute/, quarantined: true },
  { name: '1С-Коннект: an impossible date', connector: '1c', contentType: XML_CT, body: event1c(goodAttrs.replace('2026-03-02', '2026-02-30')), status: 400, code: 'SB_ERR_INGEST_INVALID_PAYLOAD', reason: /not a valid date/, quarantined: true },
  { name: '1С-Коннект: an unreadable time', connector: '1c', contentType: XML_CT, body: event1c(goodAttrs.replace('2026-03-02T12:00:00', 'noon')), status: 400, code: 'SB_ERR_INGEST_INVALID_PAYLOAD', reason: /expected a local time/, quarantined: true },
  { name: '1С-Коннект: a negative duration', connector: '1c', contentType: XML_CT, body: event1c(goodAttrs, '<CallID>c-1</CallID><State>Finished</State><CallResult>Success</CallResult><Duration>-5</Duration>'), status: 400, code: 'SB_ERR_INGEST_INVALID_PAYLOAD', reason: /non-negative number/, quarantined: true },
  { name: '1С-Коннект: a rating of 9', connector: '1c', contentType: XML_CT, body: event1c(goodAttrs, '<CallID>c-1</CallID><State>SoundQualityAssessment</State><Assessment>9</Assessment>'), status: 400, code: 'SB_ERR_INGEST_INVALID_PAYLOAD', reason: /rating 1\.\.5/, quarantined: true },
  malformed('1c', '1С-Коннект: windows-1251 bytes declared as UTF-8', Uint8Array.from([...new TextEncoder().encode(`<Event ${goodAttrs}><CallID>`), 0xcf, 0xf0, 0xe8, ...new TextEncoder().encode('</CallID><State>Started</State></Event>')]), /not valid utf-8: invalid bytes at byte offset/, 'application/xml; charset=utf-8'),
  malformed('1c', '1С-Коннект: an unknown charset', event1c(goodAttrs), /charset/, 'application/xml; charset=klingon'),
];
