/**
 * The GREEN-API normalizer: one notification (webhook body, or the `body` of a
 * `receiveNotification` answer) to normalized events. Pure: no I/O, no clock, no Node built-ins.
 *
 * Identity (the dedupe key, DESIGN §2): `${idMessage}|${typeWebhook}|${status}` where the
 * notification has an `idMessage`; otherwise `${idInstance}|${typeWebhook}|${timestamp}|…` with the
 * fields that tell two notifications apart. The mapping table is in `docs/events.md` (GREEN-API).
 */
import * as z from 'zod/mini';
import { collector, compact, describeValue, invalidPayload, isRecord, num, nz, parseTime, parseWith, payloadHash, rec, refuseDeepNesting, unmapped } from '../../core/index.js';
import type { Attachment, CallOutcome, NormalizeContext, Normalizer, Party, SwitchboardEvent } from '../../core/index.js';

const PLATFORM = 'greenapi';

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

const PERSONAL_CHAT = /^(\d+)@c\.us$/;

/** A WhatsApp chat or account id as a party; `phone` only for personal chats (`…@c.us`). */
function party(id: string, name?: string, role: Party['role'] = 'client'): Party {
  return compact({ id, name, phone: PERSONAL_CHAT.exec(id)?.[1], role });
}

function isGroup(chatId: string): boolean {
  return chatId.endsWith('@g.us');
}

/** A table's own entry for a native word: `constructor` or `toString` name no entry. */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `sleepMode` → `sleep-mode`. */
function kebab(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}


// ─── schemas: only the fields a mapping needs; extra fields are allowed ───────────────────────

const idInstance = z.union([z.number(), z.string()]);
const instanceData = z.looseObject({ idInstance });

const incomingCallSchema = z.looseObject({
  from: z.string(),
  status: z.string(),
  idMessage: z.string(),
  timestamp: z.number(),
});

const outgoingCallSchema = z.looseObject({
  from: z.string(),
  status: z.string(),
  timestamp: z.number(),
  idMessage: z.optional(z.string()),
  isVideo: z.optional(z.boolean()),
  duration: z.optional(z.number()),
});

const messageSchema = z.looseObject({
  typeWebhook: z.string(),
  idMessage: z.string(),
  timestamp: z.number(),
  senderData: z.looseObject({ chatId: z.string() }),
  messageData: z.looseObject({ typeMessage: z.string() }),
});

// The type-specific part of a message notification, one schema per `typeMessage` family.
const textSchema = z.looseObject({ messageData: z.looseObject({ textMessageData: z.looseObject({ textMessage: z.string() }) }) });
const extendedTextSchema = z.looseObject({ messageData: z.looseObject({ extendedTextMessageData: z.looseObject({ text: z.string() }) }) });
const fileSchema = z.looseObject({ messageData: z.looseObject({ fileMessageData: z.looseObject({ downloadUrl: z.string() }) }) });
const locationSchema = z.looseObject({
  messageData: z.looseObject({ locationMessageData: z.looseObject({ latitude: z.number(), longitude: z.number() }) }),
});
const contactSchema = z.looseObject({ messageData: z.looseObject({ contactMessageData: z.looseObject({}) }) });
const pollSchema = z.looseObject({ messageData: z.looseObject({ pollMessageData: z.looseObject({ name: z.string() }) }) });
const editedSchema = z.looseObject({ messageData: z.looseObject({ editedMessageData: z.looseObject({ stanzaId: z.string() }) }) });
const deletedSchema = z.looseObject({ messageData: z.looseObject({ deletedMessageData: z.looseObject({ stanzaId: z.string() }) }) });

const outgoingStatusSchema = z.looseObject({
  chatId: z.string(),
  idMessage: z.string(),
  status: z.string(),
  timestamp: z.number(),
});

const stateSchema = z.looseObject({ instanceData, timestamp: z.number(), stateInstance: z.string() });

// GREEN-API's own example of quotaExceeded has no `timestamp`: the receipt time stands in.
const quotaSchema = z.looseObject({ instanceData, timestamp: z.optional(z.number()), quotaData: z.looseObject({}) });

const blockSchema = z.looseObject({ instanceData, timestamp: z.number(), chatId: z.string() });

// ─── calls ────────────────────────────────────────────────────────────────────────────────────

interface CallEnd {
  readonly outcome: CallOutcome;
  readonly reason: string;
}

/** incomingCall final statuses (seed 004 and the IncomingCall page). */
const INCOMING_CALL_END: Readonly<Record<string, CallEnd>> = {
  // the operator rejected, or do-not-disturb is on; both spellings occur
  hungUp: { outcome: 'rejected', reason: 'callee-rejected' },
  hangUp: { outcome: 'rejected', reason: 'callee-rejected' },
  // the caller ended the call (deprecated in favour of `declined`, still accepted)
  missed: { outcome: 'missed', reason: 'caller-hung-up' },
  // the caller did not wait for an answer
  declined: { outcome: 'missed', reason: 'caller-gave-up' },
};

function incomingCall(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(incomingCallSchema, payload, 'incomingCall');
  const nativetype = `incomingCall/${n.status}`;
  const identity = `${n.idMessage}|incomingCall|${n.status}`;
  const subject = `call/${n.idMessage}`;
  const time = parseTime(n.timestamp);
  const call = { callId: n.idMessage, direction: 'inbound' as const, from: party(n.from), conversationId: n.from };
  const out = collector(PLATFORM, ctx, payload, identity, nativetype);

  if (n.status === 'offer') {
    out.emit('call.ringing', subject, call, time);
    return out.events;
  }
  if (n.status === 'pickUp') {
    out.emit('call.answered', subject, call, time);
    out.emit('call.ended', subject, { ...call, outcome: 'answered', reason: 'answered' }, time);
    return out.events;
  }
  const end = own(INCOMING_CALL_END, n.status);
  if (!end) return [unmapped(PLATFORM, ctx, payload, nativetype, `no mapping for incomingCall status "${n.status}"`, identity, time)];
  out.emit('call.ended', subject, { ...call, ...end }, time);
  return out.events;
}

/** outgoingCall (beta) statuses. */
const OUTGOING_CALL_END: Readonly<Record<string, CallEnd>> = {
  // The guide: nobody answered, or the number has no WhatsApp account.
  hungUp: { outcome: 'missed', reason: 'no-answer' },
  invalid: { outcome: 'failed', reason: 'invalid-number' },
};

function outgoingCall(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(outgoingCallSchema, payload, 'outgoingCall');
  // `idMessage` is documented but the type is beta: without it the call is keyed by the payload.
  const callKey = n.idMessage ?? payloadHash(payload, 'greenapi outgoingCall');
  const nativetype = `outgoingCall/${n.status}`;
  const identity = `${callKey}|outgoingCall|${n.status}`;
  const subject = `call/${callKey}`;
  const time = parseTime(n.timestamp);
  const call = compact({ callId: callKey, direction: 'outbound' as const, to: party(n.from), conversationId: n.from, video: n.isVideo });
  const out = collector(PLATFORM, ctx, payload, identity, nativetype);

  if (n.status === 'pickUp') {
    out.emit('call.answered', subject, call, time);
    out.emit('call.ended', subject, compact({ ...call, outcome: 'answered' as const, reason: 'answered', durationSec: n.duration, talkSec: n.duration }), time);
    return out.events;
  }
  const end = own(OUTGOING_CALL_END, n.status);
  if (!end) return [unmapped(PLATFORM, ctx, payload, nativetype, `no mapping for outgoingCall status "${n.status}"`, identity, time)];
  out.emit('call.ended', subject, compact({ ...call, ...end, durationSec: n.duration }), time);
  return out.events;
}

// ─── messages ─────────────────────────────────────────────────────────────────────────────────

const FILE_TYPES = new Set(['imageMessage', 'videoMessage', 'documentMessage', 'audioMessage']);

function fileAttachment(data: Record<string, unknown>): Attachment {
  return compact({ url: nz(data.downloadUrl), name: nz(data.fileName), mimeType: nz(data.mimeType), caption: nz(data.caption) });
}

interface Contact {
  name?: string;
  vcard?: string;
  phone?: string;
}

function contactOf(c: Record<string, unknown>): Contact {
  const vcard = nz(c.vcard);
  // vCards from WhatsApp carry the number as `TEL;waid=79001234567:…`
  const phone = vcard ? /waid=(\d+)/.exec(vcard)?.[1] : undefined;
  return compact({ name: nz(c.displayName), vcard, phone });
}

/** The quoted message: `messageData.quotedMessage` (current), else the deprecated `quotedMessage` type's `stanzaId`. */
function quotedOf(messageData: Record<string, unknown>): { messageId?: string; text?: string } | undefined {
  const q = messageData.quotedMessage;
  if (isRecord(q)) {
    const quoted = compact({ messageId: nz(q.stanzaId), text: nz(q.textMessage) ?? nz(q.caption) });
    return Object.keys(quoted).length > 0 ? quoted : undefined;
  }
  const legacy = nz(rec(messageData.extendedTextMessageData).stanzaId);
  return legacy ? { messageId: legacy } : undefined;
}

interface MessageContent {
  kind: string;
  text?: string;
  attachments: Attachment[];
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: Contact[];
}

/** Reads the type-specific content of a `message.created`, validating what the kind needs. */
function messageContent(payload: unknown, typeMessage: string, md: Record<string, unknown>, what: string): MessageContent {
  switch (typeMessage) {
    case 'textMessage':
      return { kind: 'text', text: parseWith(textSchema, payload, what).messageData.textMessageData.textMessage, attachments: [] };
    case 'extendedTextMessage':
    case 'quotedMessage':
      return { kind: 'text', text: parseWith(extendedTextSchema, payload, what).messageData.extendedTextMessageData.text, attachments: [] };
    case 'locationMessage': {
      const loc = parseWith(locationSchema, payload, what).messageData.locationMessageData;
      const location = compact({ latitude: loc.latitude, longitude: loc.longitude, name: nz(loc.nameLocation), address: nz(loc.address) });
      return { kind: 'location', attachments: [], location };
    }
    case 'contactMessage':
      return { kind: 'contact', attachments: [], contacts: [contactOf(parseWith(contactSchema, payload, what).messageData.contactMessageData)] };
    case 'contactsArrayMessage': {
      // Documented as `messageData.contacts`; the examples and the SDK send `messageData.messageData.contacts`.
      const nested = rec(md.messageData).contacts;
      const list = Array.isArray(nested) ? nested : md.contacts;
      if (!Array.isArray(list)) invalidPayload(`${what}: at messageData.messageData.contacts: expected array, found ${describeValue(nested)}`);
      return { kind: 'contact', attachments: [], contacts: list.filter(isRecord).map(contactOf) };
    }
    case 'pollMessage':
      return { kind: 'poll', text: parseWith(pollSchema, payload, what).messageData.pollMessageData.name, attachments: [] };
    default: {
      if (FILE_TYPES.has(typeMessage)) {
        const file = parseWith(fileSchema, payload, what).messageData.fileMessageData;
        return { kind: 'file', text: nz(file.caption), attachments: [fileAttachment(file)] };
      }
      // Any other type (sticker, reaction, buttons, poll update, …) is still a message; a sticker keeps its file.
      const file = rec(md.fileMessageData);
      return { kind: typeMessage, attachments: nz(file.downloadUrl) ? [fileAttachment(file)] : [] };
    }
  }
}

function message(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(messageSchema, payload, String(rec(payload).typeWebhook));
  const { typeWebhook, idMessage } = n;
  const sd = n.senderData;
  const md = n.messageData;
  const typeMessage = md.typeMessage;
  const what = `${typeWebhook}/${typeMessage}`;
  const chatId = sd.chatId;
  const conversationId = chatId;
  const subject = `conversation/${chatId}`;
  const time = parseTime(n.timestamp);
  const out = collector(PLATFORM, ctx, payload, `${idMessage}|${typeWebhook}|`, what);

  const inbound = typeWebhook === 'incomingMessageReceived';
  const group = isGroup(chatId);
  let client: Party;
  let author: Party;
  if (inbound) {
    const senderName = nz(sd.senderContactName) ?? nz(sd.senderName) ?? (group ? undefined : nz(sd.chatName));
    author = party(nz(sd.sender) ?? chatId, senderName);
    client = group ? party(chatId, nz(sd.chatName)) : party(chatId, senderName);
  } else {
    // outgoingMessageReceived (sent from the phone) and outgoingAPIMessageReceived (sent by the API):
    // the sender fields describe the business account, chatName the other side.
    author = compact({ role: 'business' as const, id: nz(rec(n.instanceData).wid) });
    client = party(chatId, nz(sd.chatName));
  }

  if (typeMessage === 'editedMessage') {
    const edited = parseWith(editedSchema, payload, what).messageData.editedMessageData;
    const text = typeof edited.textMessage === 'string' ? edited.textMessage : nz(edited.caption);
    out.emit('message.edited', subject, compact({ conversationId, client, messageId: edited.stanzaId, text, author }), time);
    return out.events;
  }
  if (typeMessage === 'deletedMessage') {
    const deleted = parseWith(deletedSchema, payload, what).messageData.deletedMessageData;
    out.emit('message.status-changed', subject, { conversationId, client, messageIds: [deleted.stanzaId], status: 'deleted' }, time);
    return out.events;
  }

  const content = messageContent(payload, typeMessage, md, what);
  out.emit(
    'message.created',
    subject,
    compact({
      conversationId,
      client,
      messageId: idMessage,
      direction: inbound ? ('inbound' as const) : ('outbound' as const),
      author,
      kind: content.kind,
      text: content.text,
      attachments: content.attachments,
      quickReplies: [],
      quoted: quotedOf(md),
      location: content.location,
      contacts: content.contacts,
    }),
    time,
  );
  return out.events;
}

// ─── statuses, instance and account notifications ─────────────────────────────────────────────

/** Statuses that mean the message was not delivered; kept as `failed` with the native word. */
const FAILED_STATUSES = new Set(['noAccount', 'notInGroup', 'yellowCard']);

function outgoingMessageStatus(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(outgoingStatusSchema, payload, 'outgoingMessageStatus');
  const nativeDescription = nz(n.description);
  const failed = FAILED_STATUSES.has(n.status);
  const description = failed ? [n.status, nativeDescription].filter(Boolean).join(': ') : nativeDescription;
  const out = collector(PLATFORM, ctx, payload, `${n.idMessage}|outgoingMessageStatus|${n.status}`, `outgoingMessageStatus/${n.status}`);
  out.emit(
    'message.status-changed',
    `conversation/${n.chatId}`,
    compact({ conversationId: n.chatId, messageIds: [n.idMessage], status: failed ? 'failed' : n.status, description }),
    parseTime(n.timestamp),
  );
  return out.events;
}

const INSTANCE_STATES: Readonly<Record<string, string>> = {
  authorized: 'authorized',
  notAuthorized: 'not-authorized',
  blocked: 'blocked',
  starting: 'starting',
  yellowCard: 'yellow-card',
  sleepMode: 'sleep-mode',
};

function stateInstanceChanged(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(stateSchema, payload, 'stateInstanceChanged');
  const channelId = String(n.instanceData.idInstance);
  const out = collector(PLATFORM, ctx, payload, `${channelId}|stateInstanceChanged|${n.timestamp}|${n.stateInstance}`, `stateInstanceChanged/${n.stateInstance}`);
  out.emit(
    'channel.state-changed',
    `channel/${channelId}`,
    { channelId, state: own(INSTANCE_STATES, n.stateInstance) ?? kebab(n.stateInstance), nativeState: n.stateInstance },
    parseTime(n.timestamp),
  );
  return out.events;
}

function quotaExceeded(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(quotaSchema, payload, 'quotaExceeded');
  const channelId = String(n.instanceData.idInstance);
  const q = n.quotaData;
  const fields = compact({ method: nz(q.method), used: num(q.used), total: num(q.total), status: nz(q.status), description: nz(q.description) });
  const identity = `${channelId}|quotaExceeded|${n.timestamp ?? ''}|${fields.method ?? ''}|${fields.used ?? ''}|${fields.total ?? ''}|${fields.status ?? ''}`;
  const out = collector(PLATFORM, ctx, payload, identity, 'quotaExceeded');
  out.emit('channel.quota-exceeded', `channel/${channelId}`, { channelId, ...fields }, n.timestamp === undefined ? undefined : parseTime(n.timestamp));
  return out.events;
}

function incomingBlock(payload: unknown, ctx: NormalizeContext): SwitchboardEvent[] {
  const n = parseWith(blockSchema, payload, 'incomingBlock');
  const chatState = nz(n.chatState);
  const channelId = String(n.instanceData.idInstance);
  const out = collector(PLATFORM, ctx, payload, `${channelId}|incomingBlock|${n.timestamp}|${n.chatId}|${chatState ?? ''}`, 'incomingBlock');
  out.emit(
    'contact.updated',
    `client/${n.chatId}`,
    compact({ contactId: n.chatId, phone: PERSONAL_CHAT.exec(n.chatId)?.[1], fields: compact({ blocked: (chatState ?? 'blocked') === 'blocked', chatState }) }),
    parseTime(n.timestamp),
  );
  return out.events;
}

// ─── entry point ──────────────────────────────────────────────────────────────────────────────

const HANDLERS: Readonly<Record<string, (payload: unknown, ctx: NormalizeContext) => SwitchboardEvent[]>> = {
  incomingCall,
  outgoingCall,
  incomingMessageReceived: message,
  outgoingMessageReceived: message,
  outgoingAPIMessageReceived: message,
  outgoingMessageStatus,
  stateInstanceChanged,
  quotaExceeded,
  incomingBlock,
};

/**
 * Normalizes one GREEN-API notification. Also takes a `receiveNotification` answer
 * (`{ receiptId, body }`) and normalizes its `body`, so recorded polling output replays as is.
 *
 * @example
 * const events = normalizeGreenApi(
 *   { typeWebhook: 'incomingCall', instanceData: { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' },
 *     timestamp: 1717000000, from: '79001234567@c.us', status: 'offer', idMessage: 'A1B2' },
 *   { connectorId: 'wa-main', receivedAt: '2024-05-29T16:26:41.000Z' });
 * // → [call.ringing on subject call/A1B2]
 */
export const normalizeGreenApi: Normalizer = (payload, ctx) => {
  if (!isRecord(payload)) invalidPayload(`greenapi: expected a notification object, found ${describeValue(payload)}`);
  refuseDeepNesting(payload, 'greenapi: the notification');
  if (payload.typeWebhook === undefined && 'receiptId' in payload && isRecord(payload.body)) return normalizeGreenApi(payload.body, ctx);
  const typeWebhook = payload.typeWebhook;
  if (typeof typeWebhook !== 'string' || typeWebhook === '') {
    invalidPayload(`greenapi: at typeWebhook: expected a non-empty string, found ${describeValue(typeWebhook)}`);
  }
  const handler = Object.hasOwn(HANDLERS, typeWebhook) ? HANDLERS[typeWebhook] : undefined;
  if (!handler) {
    const time = typeof payload.timestamp === 'number' && Number.isFinite(payload.timestamp) ? payload.timestamp * 1000 : undefined;
    return [unmapped(PLATFORM, ctx, payload, typeWebhook, `no mapping for typeWebhook "${typeWebhook}"`, undefined, time)];
  }
  return handler(payload, ctx);
};
