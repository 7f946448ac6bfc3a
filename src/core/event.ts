/**
 * The normalized event: a CloudEvents 1.0 event (JSON format) as DESIGN §2 fixes it.
 */
import canonicalize from 'canonicalize';
import { validateData, type EventDataMap } from './catalog.js';
import { ValidationError } from './errors.js';
import { dataSchemaUri, isEventType, type EventType } from './event-types.js';
import { sha256Hex } from './sha256.js';

export const PLATFORMS = ['widget', 'threads', 'twin', 'connect1c', 'greenapi'] as const;
export type Platform = (typeof PLATFORMS)[number];
export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

/** A normalized event of type `T`. Frozen after construction. */
export interface SwitchboardEvent<T extends EventType = EventType> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: T;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly dataschema: string;
  readonly platform: Platform;
  readonly nativetype: string;
  /** Assigned by the store; absent on an event that was not stored yet. */
  readonly sequence?: string;
  /**
   * `"receipt"` when the platform gave no time and `time` is when Switchboard received the
   * payload; absent when `time` is the platform's. Orders such events by arrival (see `canonicalOrder`).
   */
  readonly timesource?: 'receipt';
  /**
   * The W3C trace context of the ingest that stored the event, when tracing is on (the CloudEvents
   * distributed-tracing extension): delivery attempts continue that trace.
   */
  readonly traceparent?: string;
  readonly data: Readonly<EventDataMap[T]>;
}

/** Any event, discriminated on `type` so that `switch (e.type)` narrows `data`. */
export type AnyEvent = { [K in EventType]: SwitchboardEvent<K> }[EventType];

const TRACEPARENT_RE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const SUBJECT_RE = /^(call|conversation|operator|client|channel|connector|contact|remote-session|file|ticket|native)\/.+$/;

export function sourceOf(platform: Platform, connectorId: string): string {
  return `switchboard/${platform}/${connectorId}`;
}

/** Canonical JSON (RFC 8785) of a value; stable across key order. */
export function canonicalJson(value: unknown): string {
  return canonicalize(value) ?? 'null';
}

/** Hex SHA-256 of the canonical JSON of a value. */
export function hashCanonical(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * Deterministic event id: the same source, native identity, type and ordinal always give the
 * same id, so a redelivered native event dedupes. Shaped as a UUID (version 8, RFC 9562).
 *
 * @example eventId('switchboard/greenapi/wa-main', 'incomingCall|ABC|offer', 'call.ringing', 0)
 */
export function eventId(source: string, identity: string, type: EventType, ordinal = 0): string {
  const h = sha256Hex(`${source}\u0000${identity}\u0000${type}\u0000${ordinal}`);
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface EventInit<T extends EventType> {
  type: T;
  platform: Platform;
  connectorId: string;
  /** The native event's identity (DESIGN §2), the dedupe key before hashing. */
  identity: string;
  /** Distinguishes several events of one type from one native event. */
  ordinal?: number;
  subject: string;
  /** Platform time; any parseable date, stored as ISO 8601 UTC. */
  time: string | number | Date;
  /** True when `time` is the receipt time because the platform gave none. */
  timeReceived?: boolean;
  nativetype: string;
  data: EventDataMap[T];
}

/**
 * Builds, validates and freezes an event. Throws `ValidationError` (`SB_ERR_EVENT_INVALID`)
 * naming the field when the data does not match the type's schema.
 *
 * @example
 * const e = createEvent({ type: 'call.ringing', platform: 'greenapi', connectorId: 'wa',
 *   identity: 'x', subject: 'call/x', time: Date.now(), nativetype: 'incomingCall/offer',
 *   data: { callId: 'x', native: {} } });
 */
export function createEvent<T extends EventType>(init: EventInit<T>): SwitchboardEvent<T> {
  const source = sourceOf(init.platform, init.connectorId);
  const event: SwitchboardEvent<T> = {
    specversion: '1.0',
    id: eventId(source, init.identity, init.type, init.ordinal ?? 0),
    source,
    type: init.type,
    subject: init.subject,
    time: toIsoUtc(init.time, 'time'),
    datacontenttype: 'application/json',
    dataschema: dataSchemaUri(init.type),
    platform: init.platform,
    nativetype: init.nativetype,
    ...(init.timeReceived === true ? { timesource: 'receipt' as const } : {}),
    data: init.data,
  };
  validateEvent(event);
  // The envelope and data are frozen; `data.native` is left as the caller gave it.
  Object.freeze(event.data);
  return Object.freeze(event);
}

/**
 * Checks an event (e.g. one read back from JSON) against the envelope rules and its type's data
 * schema (`validateData` of the catalogue).
 */
export function validateEvent(event: SwitchboardEvent): void {
  const fail = (what: string): never => {
    throw new ValidationError('SB_ERR_EVENT_INVALID', `invalid ${event.type} event: ${what}`, { detail: { type: event.type } });
  };
  if (!isEventType(event.type)) fail(`unknown type "${String(event.type)}"`);
  if (!SUBJECT_RE.test(event.subject)) fail(`subject "${event.subject}" is not <kind>/<key>`);
  if (!event.nativetype) fail('nativetype is empty');
  if (event.timesource !== undefined && event.timesource !== 'receipt') fail(`timesource "${String(event.timesource)}" is not "receipt"`);
  if (event.traceparent !== undefined && !TRACEPARENT_RE.test(event.traceparent)) fail(`traceparent "${String(event.traceparent)}" is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)`);
  const problem = validateData(event.type, event.data);
  if (problem !== undefined) fail(`data ${problem}`);
}

/** Parses a platform time into ISO 8601 UTC; numbers are Unix milliseconds. */
export function toIsoUtc(value: string | number | Date, what: string): string {
  const d = value instanceof Date ? value : new Date(value);
  const t = d.getTime();
  if (Number.isNaN(t)) throw new ValidationError('SB_ERR_INGEST_INVALID_PAYLOAD', `${what}: expected a date, found ${JSON.stringify(value)}`);
  return d.toISOString();
}
