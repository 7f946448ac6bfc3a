/**
 * The normalizer contract: a pure function from one native payload to zero or more events.
 * No I/O, no clock, no Node built-ins: the same code runs in a browser, React Native and Node.
 */
import type { EventDataMap, EventType } from './catalog.js';
import { ValidationError } from './errors.js';
import { createEvent, hashCanonical, type Platform, type SwitchboardEvent } from './event.js';

export interface NormalizeContext {
  readonly connectorId: string;
  /** Receipt time (ISO 8601): the event time when the platform gives none. */
  readonly receivedAt: string;
  /** The connector's validated settings, for normalizers that need them (time zone, locale). */
  readonly settings?: Readonly<Record<string, unknown>>;
  /**
   * Parses JSON a payload carries as a string (a Threads `SURVEY` text); `where` names it in
   * errors. The server's holds the value to the payload limits (`parseJsonWithin`, throwing
   * `SB_ERR_INGEST_LIMIT`); without one, `JSON.parse`.
   */
  readonly parseJson?: (text: string, where: string) => unknown;
}

/**
 * Turns one native payload into events. Throws `ValidationError` with code
 * `SB_ERR_INGEST_INVALID_PAYLOAD` when the payload is not a valid native event of the platform;
 * a valid payload of an unknown kind becomes `native.unmapped`, never an error.
 */
export type Normalizer = (payload: unknown, ctx: NormalizeContext) => SwitchboardEvent[];

export type DataWithoutNative<T extends EventType> = Omit<EventDataMap[T], 'native'>;

/**
 * Collects the events of one native payload, giving each a deterministic id from the payload's
 * identity, its type and an ordinal, and attaching the payload as `data.native`.
 *
 * @example
 * const out = collector('greenapi', ctx, payload, `${idMessage}|incomingCall|offer`, 'incomingCall/offer');
 * out.emit('call.ringing', `call/${idMessage}`, { callId: idMessage }, time);
 * return out.events;
 */
export function collector(platform: Platform, ctx: NormalizeContext, native: unknown, identity: string, nativetype: string) {
  const events: SwitchboardEvent[] = [];
  const ordinals = new Map<EventType, number>();
  return {
    events,
    emit<T extends EventType>(type: T, subject: string, data: DataWithoutNative<T>, time?: string | number | Date): SwitchboardEvent<T> {
      const ordinal = ordinals.get(type) ?? 0;
      ordinals.set(type, ordinal + 1);
      const event = createEvent<T>({
        type,
        platform,
        connectorId: ctx.connectorId,
        identity,
        ordinal,
        subject,
        time: time ?? ctx.receivedAt,
        timeReceived: time === undefined,
        nativetype,
        data: { ...data, native } as EventDataMap[T],
      });
      events.push(event);
      return event;
    },
  };
}

/**
 * The `native.unmapped` event for a payload no mapping recognises. Its identity is the hash of
 * the canonical payload unless the platform gives a better one; its time the platform's when
 * known, else the receipt time.
 */
export function unmapped(platform: Platform, ctx: NormalizeContext, native: unknown, nativetype: string, reason: string, identity?: string, time?: string | number | Date): SwitchboardEvent<'native.unmapped'> {
  const out = collector(platform, ctx, native, identity ?? `unmapped|${hashCanonical(native)}`, nativetype);
  return out.emit('native.unmapped', `native/${nativetype || 'unknown'}`, { reason }, time);
}

/** Throws the error a normalizer raises for a payload that is not a valid native event. */
export function invalidPayload(message: string, detail?: Record<string, unknown>): never {
  throw new ValidationError('SB_ERR_INGEST_INVALID_PAYLOAD', message, detail ? { detail } : undefined);
}

/** Narrows `unknown` to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
