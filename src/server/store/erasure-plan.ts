/**
 * Erasure on request (docs/privacy.md), the part both backends share: what an identifier looks
 * like wherever it is stored, and the record of a request.
 *
 * The store looks for the identifier's text with `instr`/`strpos` first, and keeps a row only when
 * `mentions` confirms it: a phone number's digits not inside a longer run of digits
 * (`79161234567`, `+79161234567`, `79161234567@c.us`, `tel:79161234567` — not `8 916 123-45-67`,
 * which no platform sends), an id not inside a longer id.
 */
export const ERASURE_KINDS = ['phone', 'userId', 'contactId'] as const;
export type ErasureKind = (typeof ERASURE_KINDS)[number];

export interface ErasureCounts {
  /** Events that named the person, removed. */
  events: number;
  /** Quarantine entries that named them, removed. */
  quarantine: number;
  /** Call, conversation and operator rows (with their counts) that named them, removed. */
  projections: number;
  /** Outbox rows of the removed events, removed with their attempts (pending ones are not sent). */
  deliveries: number;
  /** Connector state (the caller-name cache) that named them, removed. */
  kv: number;
}

export const NO_COUNTS: ErasureCounts = { events: 0, quarantine: 0, projections: 0, deliveries: 0, kv: 0 };

export type ErasureStatus = 'running' | 'done';

/** What is kept of a request: who asked, when, what went — not whom it was about. */
export interface ErasureRecord {
  readonly id: string;
  readonly kind: ErasureKind;
  readonly requestedBy: string;
  readonly reason: string | undefined;
  readonly requestedAt: string;
  readonly finishedAt: string | undefined;
  readonly status: ErasureStatus;
  readonly counts: ErasureCounts;
}

export interface ErasureStart {
  readonly id: string;
  readonly kind: ErasureKind;
  /** The text looked for (`termOf`). */
  readonly term: string;
  readonly requestedBy: string;
  readonly reason: string | undefined;
  readonly requestedAt: string;
}

/**
 * The text an identifier is looked for as: a phone number's digits (7 to 15 of them, whatever
 * spaces, `+`, dashes or brackets it was given with), an id as given. Answers the problem when
 * it is not one.
 */
export function termOf(kind: ErasureKind, value: string): { term: string } | { problem: string } {
  if (kind === 'phone') {
    const digits = value.replace(/[\s()+\-.]/g, '');
    if (!/^\d{7,15}$/.test(digits)) return { problem: `a phone number: 7 to 15 digits (spaces, +, -, ., brackets ignored), found ${JSON.stringify(value)}` };
    return { term: digits };
  }
  const id = value.trim();
  if (id.length < 3 || id.length > 256) return { problem: `an id of 3 to 256 characters, found ${JSON.stringify(value)}` };
  return { term: id };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The predicate on stored text: does it name the identifier `term` of `kind`? */
export function mentions(kind: ErasureKind, term: string): (text: string | null | undefined) => boolean {
  const re = kind === 'phone' ? new RegExp(`(?<!\\d)${term}(?!\\d)`) : new RegExp(`(?<![A-Za-z0-9_-])${escape(term)}(?![A-Za-z0-9_-])`);
  return (text) => typeof text === 'string' && text.includes(term) && re.test(text);
}

/** A row of the `erasures` table, as both backends read it. */
export interface ErasureRow {
  id: string;
  kind: string;
  term: string | null;
  requested_by: string;
  reason: string | null;
  requested_at: string;
  finished_at: string | null;
  status: string;
  phase: string;
  cursor: string | number;
  counts: string;
}

export function countsOf(r: ErasureRow): ErasureCounts {
  return { ...NO_COUNTS, ...(JSON.parse(r.counts) as Partial<ErasureCounts>) };
}

export function erasureRecord(r: ErasureRow): ErasureRecord {
  return {
    id: r.id,
    kind: r.kind as ErasureKind,
    requestedBy: r.requested_by,
    reason: r.reason ?? undefined,
    requestedAt: r.requested_at,
    finishedAt: r.finished_at ?? undefined,
    status: r.status === 'done' ? 'done' : 'running',
    counts: countsOf(r),
  };
}

/** Sequences looked at per transaction of the events phase. */
export const ERASURE_CHUNK = 2_000;
