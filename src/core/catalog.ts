/**
 * The type catalogue of DESIGN §2: one schema per event type for its `data`.
 * Built with `zod/mini`. Every `data` also carries `native`: the original payload, unchanged.
 *
 * `createEvent` and `validateEvent` (event.ts) check every event's `data` with `validateData`,
 * imported, not registered: loading this module has no side effect, and every program that makes
 * events — the server, the library, the browser module — validates them the same way.
 */
import * as z from 'zod/mini';
import { EVENT_TYPES, dataSchemaUri, isEventType, type EventType } from './event-types.js';
import { describeIssues } from './issues.js';

export { EVENT_TYPES, isEventType };
export type { EventType };

const str = z.string();
const optStr = z.optional(z.string());
const optNum = z.optional(z.number());
const isoTime = z.iso.datetime({ offset: true });

/** A participant: a client, operator, bot or the business itself. */
export const partySchema = z.strictObject({
  id: optStr,
  name: optStr,
  phone: optStr,
  role: z.optional(z.enum(['client', 'operator', 'bot', 'system', 'business'])),
});
export type Party = z.infer<typeof partySchema>;

const directionSchema = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof directionSchema>;

const native = { native: z.unknown() };

const callBase = {
  ...native,
  /** The platform's own call id. */
  callId: str,
  direction: z.optional(directionSchema),
  from: z.optional(partySchema),
  to: z.optional(partySchema),
  operator: z.optional(partySchema),
  /** The conversation the call belongs to (a WhatsApp chat, a service-line chat). */
  conversationId: optStr,
  video: z.optional(z.boolean()),
};

export const CALL_OUTCOMES = ['answered', 'missed', 'rejected', 'failed'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

const callEnded = z.strictObject({
  ...callBase,
  outcome: z.enum(CALL_OUTCOMES),
  /** The native cause in kebab-case: `caller-hung-up`, `timeout`, `no-operator`, `callee-rejected`, … */
  reason: str,
  durationSec: optNum,
  talkSec: optNum,
  startedAt: z.optional(isoTime),
  answeredAt: z.optional(isoTime),
  endedAt: z.optional(isoTime),
});

const convBase = {
  ...native,
  conversationId: str,
  client: z.optional(partySchema),
  operator: z.optional(partySchema),
  channel: optStr,
};

const attachmentSchema = z.strictObject({
  url: optStr,
  name: optStr,
  mimeType: optStr,
  size: optNum,
  caption: optStr,
});
export type Attachment = z.infer<typeof attachmentSchema>;

const quickReplySchema = z.strictObject({ text: str, payload: optStr, url: optStr, imageUrl: optStr });

export const MESSAGE_STATUSES = ['sent', 'delivered', 'read', 'failed', 'deleted', 'pending'] as const;

const schemas = {
  // Calls
  'call.ringing': z.strictObject({ ...callBase, startedAt: z.optional(isoTime) }),
  'call.connecting': z.strictObject(callBase),
  'call.answered': z.strictObject({ ...callBase, answeredAt: z.optional(isoTime) }),
  'call.redirected': z.strictObject({ ...callBase, target: z.optional(partySchema) }),
  'call.disconnected': z.strictObject({ ...callBase, by: z.optional(z.enum(['client', 'operator', 'system'])) }),
  'call.finished': z.strictObject({ ...callBase, by: z.optional(z.enum(['client', 'operator', 'system'])) }),
  'call.ended': callEnded,
  'call.closed': z.strictObject(callBase),
  'call.rated': z.strictObject({ ...callBase, rating: z.number(), scale: optNum, comment: optStr }),
  'call.rating-skipped': z.strictObject(callBase),
  'call.recording-ready': z.strictObject({ ...callBase, url: str }),

  // Conversations
  'conversation.opened': z.strictObject(convBase),
  'conversation.queued': z.strictObject(convBase),
  'conversation.operator-not-found': z.strictObject(convBase),
  'conversation.assigned': z.strictObject({ ...convBase, waitSec: optNum }),
  'conversation.unassigned': z.strictObject(convBase),
  'conversation.handed-to-operator': z.strictObject(convBase),
  'conversation.typing': z.strictObject({ ...convBase, by: z.enum(['client', 'operator', 'bot']) }),
  'conversation.close-requested': z.strictObject({ ...convBase, hideAfterSec: optNum }),
  'conversation.closed': z.strictObject({ ...convBase, by: z.optional(z.enum(['client', 'operator', 'system'])), durationSec: optNum }),
  'conversation.rated': z.strictObject({ ...convBase, rating: z.number(), scale: optNum, comment: optStr }),
  'conversation.survey-requested': z.strictObject({ ...convBase, survey: z.unknown() }),
  'conversation.schedule-changed': z.strictObject({ ...convBase, schedule: z.unknown() }),
  'conversation.scenarios-offered': z.strictObject({ ...convBase, scenarios: z.unknown() }),

  // Messages
  'message.created': z.strictObject({
    ...convBase,
    messageId: str,
    direction: directionSchema,
    author: z.optional(partySchema),
    /** `text`, `file`, `location`, `contact`, `poll`, `system`, … */
    kind: optStr,
    text: optStr,
    attachments: z.array(attachmentSchema),
    quickReplies: z.array(quickReplySchema),
    quoted: z.optional(z.strictObject({ messageId: optStr, text: optStr })),
    location: z.optional(z.strictObject({ latitude: z.number(), longitude: z.number(), name: optStr, address: optStr })),
    contacts: z.optional(z.array(z.strictObject({ name: optStr, vcard: optStr, phone: optStr }))),
    /** `display: false` on the platform: stored, but not meant to be shown. */
    hidden: z.optional(z.boolean()),
    sentAt: z.optional(isoTime),
  }),
  'message.edited': z.strictObject({ ...convBase, messageId: str, text: optStr, author: z.optional(partySchema) }),
  'message.status-changed': z.strictObject({
    ...convBase,
    messageIds: z.array(str),
    /** One of `sent` · `delivered` · `read` · `failed` · `deleted` · `pending`, or the platform's own word. */
    status: str,
    description: optStr,
  }),

  // People and channels
  'operator.status-changed': z.strictObject({
    ...native,
    operatorId: str,
    operator: z.optional(partySchema),
    /** `online` · `offline` · `away` · `busy` · `dnd` · `connecting` · `redirected`, … */
    status: str,
    nativeStatus: optStr,
  }),
  'operator.session-revoked': z.strictObject({
    ...native,
    operatorId: optStr,
    reason: z.enum(['blocked', 'logged-in-elsewhere', 'logged-out']),
  }),
  'client.presence-changed': z.strictObject({ ...native, clientId: str, online: z.boolean(), conversationId: optStr }),
  'contact.updated': z.strictObject({ ...native, contactId: str, name: optStr, phone: optStr, email: optStr, avatarUrl: optStr, fields: z.optional(z.record(z.string(), z.unknown())) }),
  'channel.state-changed': z.strictObject({ ...native, channelId: str, state: str, nativeState: optStr }),
  'channel.quota-exceeded': z.strictObject({ ...native, channelId: str, method: optStr, used: optNum, total: optNum, status: optStr, description: optStr }),

  // 1С-Коннект objects
  'remote-session.started': z.strictObject({ ...native, sessionId: str, authorId: optStr, hostName: optStr, adminName: optStr, hostIp: optStr, adminIp: optStr, startedAt: z.optional(isoTime), conversationId: optStr }),
  'remote-session.ended': z.strictObject({
    ...native,
    sessionId: str,
    authorId: optStr,
    endedAt: z.optional(isoTime),
    durationSec: optNum,
    uploadedFiles: z.array(z.unknown()),
    downloadedFiles: z.array(z.unknown()),
    conversationId: optStr,
  }),
  'file.transferred': z.strictObject({ ...native, fileId: str, name: optStr, size: optNum, durationSec: optNum, conversationId: optStr }),
  'ticket.changed': z.strictObject({ ...native, ticketId: str, state: optStr, conversationId: optStr }),

  // Operations
  'connector.connected': z.strictObject({ ...native, connectorId: str, detail: optStr }),
  'connector.disconnected': z.strictObject({ ...native, connectorId: str, reason: optStr }),
  'connector.gap-detected': z.strictObject({ ...native, connectorId: str, stream: optStr, from: optStr, to: optStr, reason: optStr }),
  'connector.auth-failed': z.strictObject({ ...native, connectorId: str, reason: optStr }),

  // Anything a normalizer does not recognise.
  'native.unmapped': z.strictObject({ ...native, reason: str }),
} as const satisfies { readonly [K in EventType]: z.ZodMiniType };

export const DATA_SCHEMAS: { readonly [K in keyof typeof schemas]: (typeof schemas)[K] } = schemas;

/** The `data` of each event type. */
export type EventDataMap = { [K in EventType]: z.infer<(typeof schemas)[K]> };

/** The JSON Schema (draft 2020-12) of a type's `data`. */
export function dataJsonSchema(type: EventType): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schemas[type], { unrepresentable: 'any' }) as Record<string, unknown>;
  // `$id` is the events' own `dataschema`, so that a schema found by an event names that event's type.
  return { $schema, $id: dataSchemaUri(type), title: `${type} data`, ...rest };
}

/**
 * Checks the `data` of an event against its type's schema: `undefined` when it matches, else
 * the problem, naming the field (`at outcome: expected …, found …`).
 */
export function validateData(type: EventType, data: unknown): string | undefined {
  const result = schemas[type].safeParse(data);
  return result.success ? undefined : describeIssues(result.error.issues, data);
}
