/**
 * Retention (docs/privacy.md), the part both backends share: the streams of events a pass reads
 * (each yields only events past their window), and which projection entities a removal concerns.
 *
 * An event's window is the first of: the first type pattern of `retention.types` that matches its
 * type (in config order), its connector's window in `retention.connectors`, `retention.events`.
 * No window: kept for ever. Age is counted from `receivedAt`, when Switchboard committed it.
 */
// Not core/index.js: that would load every data schema (zod) into the SQLite writer thread.
import { compileTypePattern } from '../../core/pattern.js';
import { keyOf, mentionOf } from '../projections/fold.js';
import type { SwitchboardEvent } from '../../core/index.js';

/** What a retention pass removes; plain data, so that it can cross to the SQLite writer thread. */
export interface RetentionWindows {
  /** The default window of events, in ms; absent: events without an override are kept for ever. */
  readonly eventsMs?: number | undefined;
  /** Windows per connector id. */
  readonly connectorsMs: Readonly<Record<string, number>>;
  /** Windows per type pattern (`message.*`, `call.ended`, comma-separated lists), first match wins. */
  readonly typesMs: readonly (readonly [string, number])[];
}

/**
 * One index-ordered stream of events a pass reads: every event it yields (older than the cutoff)
 * is past its window, because the streams split the log by the window that applies: one stream
 * per event type that a type pattern gives a window (read through the `(type, seq)` index), one
 * per connector with its own window (through `(connector_id, seq)`, minus those types), and one
 * for the rest under the default window (by sequence).
 */
export interface ExpiryStream {
  /** Events of this type only. */
  readonly type?: string | undefined;
  /** Events of this connector only. */
  readonly connectorId?: string | undefined;
  /** Not events of these types (the ones a type pattern gives their window). */
  readonly exceptTypes?: readonly string[] | undefined;
  /** Not events of these connectors (the ones with their own window). */
  readonly exceptConnectors?: readonly string[] | undefined;
}

/** One chunk of a pass over the events: one stream, its cutoff, and where the pass is in it. */
export interface ExpireRequest {
  /** The pass's "now", epoch ms (one value for the whole pass). */
  readonly now: number;
  readonly stream: ExpiryStream;
  /** Events received before this (ISO time) are past the stream's window. */
  readonly before: string;
  /** The greatest sequence received before `before` (`lastSeqBefore`): the stream ends there. */
  readonly untilSeq: number;
  /** Reads the stream's events after this sequence. */
  readonly after: number;
  /** Events read per call (one transaction). */
  readonly limit: number;
  /** Remove exactly these (a `scanExpired` of the same chunk, archived meanwhile) instead of reading. */
  readonly seqs?: readonly number[] | undefined;
}

/** What `scanExpired` answers: the chunk's events past their window, and where the pass is. */
export interface ExpiredScan {
  readonly events: readonly { readonly seq: number; readonly receivedAt: string; readonly json: string }[];
  readonly scanned: number;
  readonly lastSeq: number;
  readonly done: boolean;
}

export interface ExpireResult {
  /** Events read (each one past its window). */
  readonly scanned: number;
  /** Events removed. */
  readonly removed: number;
  /** The greatest sequence read: the next chunk's `after`. */
  readonly lastSeq: number;
  /** True when the stream has no more events past their window: go on with the next one. */
  readonly done: boolean;
  /** Outbox rows of removed events: pending ones marked failed, the others removed. */
  readonly undelivered: number;
  /** Projection rows removed (calls, conversations, operators whose last event went). */
  readonly projections: number;
}

/**
 * The streams of a pass and their windows. An event's window is the first type pattern that
 * matches its type, else its connector's, else the default: each of the `knownTypes` with a
 * pattern is a stream of its own; each connector window a stream without those types; the
 * default the rest. Types outside `knownTypes` (none are stored today) follow the connector and
 * default windows.
 */
export function expiryStreams(w: RetentionWindows, knownTypes: readonly string[]): { readonly stream: ExpiryStream; readonly windowMs: number }[] {
  const patterns = w.typesMs.map(([pattern, ms]) => [compileTypePattern(pattern), ms] as const);
  const out: { stream: ExpiryStream; windowMs: number }[] = [];
  const ruled: string[] = [];
  for (const type of knownTypes) {
    const ms = patterns.find(([match]) => match(type))?.[1];
    if (ms === undefined) continue;
    ruled.push(type);
    out.push({ stream: { type }, windowMs: ms });
  }
  const own = Object.keys(w.connectorsMs);
  for (const connectorId of own) out.push({ stream: { connectorId, exceptTypes: ruled }, windowMs: w.connectorsMs[connectorId] as number });
  if (w.eventsMs !== undefined) out.push({ stream: { exceptConnectors: own, exceptTypes: ruled }, windowMs: w.eventsMs });
  return out;
}

/** The first event at or after a sequence: its sequence and `receivedAt`. */
export type FirstEventFrom = (seq: number) => Promise<{ seq: number; at: string } | undefined>;

/**
 * The greatest sequence of an event received before `before` (0 if none), by bisection on
 * sequences up to `maxSeq`: events are committed in the order they are received, and removed
 * ones leave gaps, so each probe reads the first event at or after the middle.
 */
export async function lastSeqBefore(maxSeq: number, before: string, first: FirstEventFrom): Promise<number> {
  let lo = 0;
  let hi = maxSeq;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    const r = await first(mid);
    if (r && r.seq <= hi && r.at < before) lo = r.seq;
    else hi = mid - 1;
  }
  return lo;
}

/** A chunk's result: every row read is past its window; the stream is done when fewer came than asked. */
export function chunkOf(req: ExpireRequest, seqs: readonly number[]): { seqs: readonly number[]; lastSeq: number; done: boolean } {
  return { seqs, lastSeq: seqs.length > 0 ? (seqs[seqs.length - 1] as number) : req.after, done: seqs.length < req.limit };
}

/** The projection entities removed events concern, as `connectorId\0id` keys. */
export interface Concerned {
  readonly calls: Set<string>;
  readonly conversations: Set<string>;
  readonly operators: Set<string>;
}

/** The entities whose rows may have to go with these events: by subject, and the conversation a call or other event names. */
export function concernedBy(removed: readonly { connectorId: string; subject: string; body: string }[]): Concerned {
  const out: Concerned = { calls: new Set(), conversations: new Set(), operators: new Set() };
  for (const r of removed) {
    const call = keyOf(r.subject, 'call/');
    const conversation = keyOf(r.subject, 'conversation/');
    const operator = keyOf(r.subject, 'operator/');
    if (call !== undefined) out.calls.add(`${r.connectorId}\u0000${call}`);
    if (conversation !== undefined) out.conversations.add(`${r.connectorId}\u0000${conversation}`);
    if (operator !== undefined) out.operators.add(`${r.connectorId}\u0000${operator}`);
    if (conversation === undefined) {
      const m = mentionOf(JSON.parse(r.body) as SwitchboardEvent);
      if (m) out.conversations.add(`${r.connectorId}\u0000${m.conversationId}`);
    }
  }
  return out;
}

/** The `connectorId`, `id` of a key of `Concerned`. */
export function splitEntity(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** What `retentionHorizon` answers: the greatest sequence retention removed (0: none). */
export const HORIZON_KV = { connectorId: '', namespace: 'retention', key: 'horizon' } as const;
