/**
 * Retention (docs/privacy.md), the part both backends share: which of a chunk of events, scanned
 * in sequence order, are past their window, and which projection entities their removal concerns.
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

/** One chunk of a pass over the events: the windows, the time, and where the pass is. */
export interface ExpireRequest extends RetentionWindows {
  /** The pass's "now", epoch ms (one value for the whole pass). */
  readonly now: number;
  /** Scans the events after this sequence. */
  readonly after: number;
  /** Events scanned per call (one transaction). */
  readonly limit: number;
  /** Remove exactly these (a `scanExpired` of the same chunk, archived meanwhile) instead of scanning. */
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
  /** Events looked at. */
  readonly scanned: number;
  /** Events removed. */
  readonly removed: number;
  /** The greatest sequence looked at: the next chunk's `after`. */
  readonly lastSeq: number;
  /** True when no later event can be past its window yet: the pass is over. */
  readonly done: boolean;
  /** Outbox rows of removed events: pending ones marked failed, the others removed. */
  readonly undelivered: number;
  /** Projection rows removed (calls, conversations, operators whose last event went). */
  readonly projections: number;
}

/** The row of an event a pass looks at. */
export interface ScannedEvent {
  readonly seq: number;
  readonly connectorId: string;
  readonly type: string;
  readonly receivedAt: string;
}

/** Compiled windows: the window of one event. */
export function windowFunction(w: RetentionWindows): (connectorId: string, type: string) => number | undefined {
  const types = w.typesMs.map(([pattern, ms]) => [compileTypePattern(pattern), ms] as const);
  return (connectorId, type) => {
    for (const [match, ms] of types) if (match(type)) return ms;
    return w.connectorsMs[connectorId] ?? w.eventsMs;
  };
}

/** The shortest window of all: no event younger than that can expire. `undefined`: none configured. */
export function shortestWindow(w: RetentionWindows): number | undefined {
  const all = [w.eventsMs, ...Object.values(w.connectorsMs), ...w.typesMs.map(([, ms]) => ms)].filter((x): x is number => x !== undefined);
  return all.length > 0 ? Math.min(...all) : undefined;
}

/**
 * Which scanned events (in sequence order) are past their window, and whether the pass is over:
 * it is when fewer rows than asked came back, or when a row is younger than the shortest window
 * (events are committed in sequence order, so no later one is older).
 */
export function expiring(req: ExpireRequest, rows: readonly ScannedEvent[]): { seqs: number[]; lastSeq: number; done: boolean } {
  const windowOf = windowFunction(req);
  const shortest = shortestWindow(req);
  const seqs: number[] = [];
  let lastSeq = req.after;
  let done = rows.length < req.limit || shortest === undefined;
  for (const r of rows) {
    const age = req.now - Date.parse(r.receivedAt);
    if (shortest !== undefined && age < shortest) {
      done = true;
      break;
    }
    lastSeq = r.seq;
    const ms = windowOf(r.connectorId, r.type);
    if (ms !== undefined && age >= ms) seqs.push(r.seq);
  }
  return { seqs, lastSeq, done };
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
