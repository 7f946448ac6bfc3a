/**
 * Conversation timelines: messages, state changes and call records in order. Call records follow
 * the connector's policy from the GREEN-API guide (seed 004), with the guide's texts.
 */
import { canonicalOrder, type SwitchboardEvent } from '../../core/index.js';
import type { CallRecordPolicy } from '../config.js';

/** The texts of seed 004, and their English versions. */
export const CALL_RECORD_TEXTS = {
  ru: { incoming: 'Входящий вызов', answered: 'Отвеченный звонок', rejected: 'Сброшенный звонок', missed: 'Пропущенный звонок' },
  en: { incoming: 'Incoming call', answered: 'Answered call', rejected: 'Rejected call', missed: 'Missed call' },
} as const;

export type CallRecordKind = keyof (typeof CALL_RECORD_TEXTS)['ru'];

/**
 * The call record a call event gives under a policy, or none:
 * - `none`: nothing;
 * - `offer-only`: "Входящий вызов" on ringing only;
 * - `results-only`: answered → "Отвеченный звонок"; every unanswered end → "Пропущенный звонок";
 * - `all`: ringing → "Входящий вызов"; answered → "Отвеченный звонок"; rejected by the operator →
 *   "Сброшенный звонок"; missed → "Пропущенный звонок".
 */
export function callRecordKind(event: SwitchboardEvent, policy: CallRecordPolicy): CallRecordKind | undefined {
  if (policy === 'none') return undefined;
  const d = event.data as { direction?: string; outcome?: string };
  if (event.type === 'call.ringing') return policy === 'offer-only' || policy === 'all' ? (d.direction === 'outbound' ? undefined : 'incoming') : undefined;
  if (event.type !== 'call.ended' || policy === 'offer-only') return undefined;
  if (d.outcome === 'answered') return 'answered';
  if (d.outcome === 'rejected' && policy === 'all') return 'rejected';
  return 'missed';
}

export interface TimelineEntry {
  readonly kind: 'message' | 'state' | 'call-record';
  readonly time: string;
  readonly sequence: string;
  readonly type: string;
  readonly eventId: string;
  readonly text?: string;
  readonly direction?: string;
  readonly author?: unknown;
  readonly callId?: string;
  /** `<connectorId>:<callId>`: the id `GET /v1/calls/:id` takes. */
  readonly call?: string;
  readonly record?: CallRecordKind;
}

/** Types that are noise in a timeline. */
const SKIPPED: ReadonlySet<string> = new Set(['conversation.typing']);

/**
 * Builds a timeline from the conversation's own events and the events of the calls linked to it,
 * in the canonical order (`canonicalOrder`: platform time, then arrival; an event with only a
 * receipt time stays where it arrived among the others).
 */
export function buildTimeline(connectorId: string, conversationEvents: readonly SwitchboardEvent[], callEvents: readonly SwitchboardEvent[], policy: CallRecordPolicy, language: 'ru' | 'en'): TimelineEntry[] {
  const records = new Map<SwitchboardEvent, CallRecordKind>();
  for (const e of callEvents) {
    const record = callRecordKind(e, policy);
    if (record) records.set(e, record);
  }
  const shown = [...conversationEvents.filter((e) => !SKIPPED.has(e.type)), ...records.keys()];
  return canonicalOrder(shown).map((e): TimelineEntry => {
    const base = { time: e.time, sequence: e.sequence ?? '', type: e.type, eventId: e.id };
    const record = records.get(e);
    if (record) {
      const callId = (e.data as { callId?: string }).callId;
      return { kind: 'call-record', ...base, text: CALL_RECORD_TEXTS[language][record], record, ...(callId ? { callId, call: `${connectorId}:${callId}` } : {}) };
    }
    const d = e.data as { text?: string; direction?: string; author?: unknown };
    return e.type.startsWith('message.') ? { kind: 'message', ...base, ...(d.text === undefined ? {} : { text: d.text }), ...(d.direction ? { direction: d.direction } : {}), ...(d.author ? { author: d.author } : {}) } : { kind: 'state', ...base };
  });
}
