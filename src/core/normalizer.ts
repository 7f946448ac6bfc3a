/**
 * The normalizer contract: a pure function from one native payload to zero or more events.
 * No I/O, no clock, no Node built-ins: the same code runs in a browser, React Native and Node.
 */
import type { EventDataMap, EventType } from './catalog.js';
import { ValidationError } from './errors.js';
import { createEvent, hashCanonical, type Platform, type SwitchboardEvent } from './event.js';
import { describeIssues, describeValue } from './issues.js';
import { isRecord } from './kit.js';
import type * as z from 'zod/mini';

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
 * The key of a subject (`call/<key>`) comes from the payload (an id, a chat, a type name): an
 * empty key or one with a line break is the payload's fault, refused as such rather than as an
 * invalid event. A subject with a wrong kind is left for `createEvent` to report (a normalizer bug).
 */
function checkSubjectKey(platform: Platform, subject: string): void {
  const key = subject.slice(subject.indexOf('/') + 1);
  if (!key || /[\n\r\u2028\u2029]/.test(key)) invalidPayload(`${platform}: the subject key is empty or not one line: ${describeValue(key)}`);
}

/**
 * Deepest nesting of objects and arrays a normalizer accepts in a payload: the most
 * `server.limits.maxDepth` may be set to. The server refuses deeper payloads before they reach a
 * normalizer, by its configured limit (`SB_ERR_INGEST_LIMIT`, `limits.ts`); this bound keeps a
 * normalizer called on its own (the library, the browser module) from overflowing the stack,
 * which happens some thousands of levels down.
 */
export const MAX_PAYLOAD_DEPTH = 1000;

/**
 * True when `value` nests objects and arrays more than `max` levels deep (a cycle counts as too
 * deep). Iterative: measuring never overflows the stack, which hashing or serialising such a
 * payload, recursively, would. Depth first, so it stops at the first path past `max`; a value
 * reached by several paths (never in parsed JSON) is walked once per path, as hashing it would be.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const todo: [unknown, number][] = [[value, 1]];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [v, level] = next;
    if (v && typeof v === 'object') {
      if (level > max) return true;
      for (const child of Object.values(v)) todo.push([child, level + 1]);
    }
  }
  return false;
}

/** Refuses (`SB_ERR_INGEST_INVALID_PAYLOAD`) a value nested deeper than `MAX_PAYLOAD_DEPTH`, naming `what`. */
export function refuseDeepNesting(value: unknown, what: string): void {
  if (nestedDeeperThan(value, MAX_PAYLOAD_DEPTH)) invalidPayload(`${what}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
}

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
      checkSubjectKey(platform, subject);
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
 * The SHA-256 of the payload's canonical JSON, as its identity when the platform gives none.
 * Canonical JSON (RFC 8785) cannot hold some values (a lone UTF-16 surrogate): such a payload
 * is refused (`SB_ERR_INGEST_INVALID_PAYLOAD`) naming `what`, as it cannot be deduplicated.
 */
export function payloadHash(value: unknown, what: string): string {
  try {
    return hashCanonical(value);
  } catch (err) {
    return invalidPayload(`${what} cannot be identified: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The `native.unmapped` event for a payload no mapping recognises. Its identity is the hash of
 * the canonical payload unless the platform gives a better one; its time the platform's when
 * known, else the receipt time.
 */
export function unmapped(platform: Platform, ctx: NormalizeContext, native: unknown, nativetype: string, reason: string, identity?: string, time?: string | number | Date): SwitchboardEvent<'native.unmapped'> {
  const out = collector(platform, ctx, native, identity ?? `unmapped|${payloadHash(native, `${platform}: the payload`)}`, nativetype);
  return out.emit('native.unmapped', `native/${nativetype || 'unknown'}`, { reason }, time);
}

/** Throws the error a normalizer raises for a payload that is not a valid native event. */
export function invalidPayload(message: string, detail?: Record<string, unknown>): never {
  throw new ValidationError('SB_ERR_INGEST_INVALID_PAYLOAD', message, detail ? { detail } : undefined);
}

export { isRecord };

/**
 * Parses with a schema, or throws `SB_ERR_INGEST_INVALID_PAYLOAD` naming the failing paths
 * (from `root`, e.g. `data.data` for a publication's payload) and `what` was being read.
 */
export function parseWith<S extends z.ZodMiniType>(schema: S, data: unknown, what: string, root?: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) invalidPayload(`${what}: ${describeIssues(result.error.issues, data, root)}`);
  return result.data as z.infer<S>;
}
