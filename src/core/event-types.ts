/**
 * The names of the type catalogue (DESIGN §2) without their schemas: what the envelope check
 * needs, small enough for the browser module. `catalog.ts` holds one schema per name and the
 * compiler checks that the two lists are the same.
 */

const NAMES = [
  // Calls
  'call.ringing', 'call.connecting', 'call.answered', 'call.redirected', 'call.disconnected', 'call.finished', 'call.ended', 'call.closed',
  'call.rated', 'call.rating-skipped', 'call.recording-ready',
  // Conversations
  'conversation.opened', 'conversation.queued', 'conversation.operator-not-found', 'conversation.assigned', 'conversation.unassigned',
  'conversation.handed-to-operator', 'conversation.typing', 'conversation.close-requested', 'conversation.closed', 'conversation.rated',
  'conversation.survey-requested', 'conversation.schedule-changed', 'conversation.scenarios-offered',
  // Messages
  'message.created', 'message.edited', 'message.status-changed',
  // People and channels
  'operator.status-changed', 'operator.session-revoked', 'client.presence-changed', 'contact.updated', 'channel.state-changed', 'channel.quota-exceeded',
  // 1С-Коннект objects
  'remote-session.started', 'remote-session.ended', 'file.transferred', 'ticket.changed',
  // Operations
  'connector.connected', 'connector.disconnected', 'connector.gap-detected', 'connector.auth-failed',
  // Anything a normalizer does not recognise.
  'native.unmapped',
] as const;

/** Every event type of the catalogue. */
export type EventType = (typeof NAMES)[number];

/** All event types, in catalogue order. */
export const EVENT_TYPES: EventType[] = [...NAMES];

const typeSet: ReadonlySet<string> = new Set(NAMES);
export function isEventType(value: string): value is EventType {
  return typeSet.has(value);
}

/** The `dataschema` URI of a type; the schema itself is served at `GET /v1/schemas/<type>`. */
export function dataSchemaUri(type: EventType): string {
  return `urn:switchboard:schema:v1:${type}`;
}
