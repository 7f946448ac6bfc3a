/**
 * What every backend's projections do the same way, with no SQL: which entities a commit's new
 * events concern (`planProjections`), folding new events into a kept state (`foldOn`), the
 * message summary as the fold reads it (`summaryOf`). The backends run the queries around it —
 * SQLite synchronously in its writer, PostgreSQL asynchronously in its commit transaction.
 */
import type { SwitchboardEvent } from '../../core/index.js';
import { keyOf, mentionOf, type Mention, type MessageSummary } from '../projections/fold.js';
import { formatSequence } from './types.js';

/**
 * What a projection row keeps of its fold (the `fold` column): the fold's state and the caller
 * names looked up for its parties (null: looked up, none).
 */
export interface Kept<S> {
  readonly s: S;
  readonly names?: Record<string, string | null>;
}

/**
 * A kept fold as read with its row: `indexed` holds the row's values of the columns that
 * secondary indexes cover (absent: no row). An update that leaves them as they are does not
 * name them, so the database rewrites no index entry.
 */
export interface KeptRow<S> extends Kept<S | undefined> {
  readonly indexed?: readonly (string | null)[];
}

/** Whether a row's indexed values are unchanged. */
export const sameIndexed = (a: readonly (string | null)[] | undefined, b: readonly (string | null)[]) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Folds `fresh` (newer by arrival than everything `kept` has folded, in sequence order) into the
 * kept state, or answers undefined when one of them would not go last in canonical order (then
 * the entity is recomputed from the log).
 */
export function foldOn<S>(kept: S, fresh: readonly SwitchboardEvent[], appends: (s: S, e: SwitchboardEvent) => boolean, step: (s: S, e: SwitchboardEvent) => S): { s: S } | undefined {
  let s = kept;
  for (const e of fresh) {
    if (!appends(s, e)) return undefined;
    s = step(s, e);
  }
  return { s };
}

export type Kind = 'call' | 'conversation' | 'operator' | 'client';
export const KIND_SET = { call: 'calls', conversation: 'conversations', operator: 'operators', client: 'clients' } as const;

/** The entities a commit concerns, by `<connectorId>\0<key>`, with the sequence of the first event. */
export interface Touched {
  readonly calls: Map<string, number>;
  readonly conversations: Map<string, number>;
  readonly operators: Map<string, number>;
  /** Clients with a new name (`contact.updated`). */
  readonly clients: Map<string, number>;
  /** The new events each entity folds, by `<kind>\0<connectorId>\0<key>`, in sequence order. */
  readonly fresh: Map<string, SwitchboardEvent[]>;
  /** The message summaries of conversations this commit counted in, as they are after it. */
  readonly counted: Map<string, MessageSummary>;
}

export function emptyTouched(): Touched {
  return { calls: new Map(), conversations: new Map(), operators: new Map(), clients: new Map(), fresh: new Map(), counted: new Map() };
}

/** Event rows read back as events, each with its `sequence` (set on the parsed object, not a copy). */
export function parseEvents(rows: readonly { body: string; seq: number }[]): SwitchboardEvent[] {
  return rows.map((r) => {
    const e = JSON.parse(r.body) as { -readonly [K in keyof SwitchboardEvent]: SwitchboardEvent[K] };
    e.sequence = formatSequence(r.seq);
    return e;
  });
}

/** `<connectorId>\0<entity>` split in two. */
export function splitKey(key: string): [string, string] {
  return key.split('\u0000') as [string, string];
}

/** An event that names a conversation, to be added to its counts. */
export interface PlannedMention {
  readonly connectorId: string;
  /** `<connectorId>\0<conversationId>`. */
  readonly key: string;
  readonly mention: Mention;
  readonly event: SwitchboardEvent;
}

/**
 * The entities some new events concern and, in order, the mentions to count: a call's, a
 * conversation's (its state events folded, its messages counted), an operator's, a client's new
 * name. The backend counts each mention (recording the summary after it in `touched.counted`),
 * then recomputes or defers the touched entities.
 */
export function planProjections(inserted: readonly { seq?: number; connectorId: string; event: SwitchboardEvent }[]): { touched: Touched; mentions: PlannedMention[] } {
  const touched = emptyTouched();
  const mentions: PlannedMention[] = [];
  const add = (kind: Kind, key: string, seq: number, e?: SwitchboardEvent) => {
    const set = touched[KIND_SET[kind]];
    if (!set.has(key)) set.set(key, seq);
    if (e) {
      const id = `${kind}\u0000${key}`;
      const list = touched.fresh.get(id);
      if (list) list.push(e);
      else touched.fresh.set(id, [e]);
    }
  };
  for (const { seq = 0, connectorId, event } of inserted) {
    const s = event.subject;
    const k = (key: string) => `${connectorId}\u0000${key}`;
    const call = keyOf(s, 'call/');
    if (call !== undefined) add('call', k(call), seq, event);
    const conv = keyOf(s, 'conversation/');
    // A conversation folds its state events (conversation.*); messages are counted.
    if (conv !== undefined) add('conversation', k(conv), seq, event.type.startsWith('conversation.') ? event : undefined);
    const m = mentionOf(event);
    if (m) {
      add('conversation', k(m.conversationId), seq);
      mentions.push({ connectorId, key: k(m.conversationId), mention: m, event });
    }
    const op = keyOf(s, 'operator/');
    if (op !== undefined) add('operator', k(op), seq, event);
    const client = keyOf(s, 'client/');
    if (client !== undefined && event.type === 'contact.updated') add('client', k(client), seq);
  }
  return { touched, mentions };
}

/** A row of `conversation_counts` (numbers may come as text from a driver). */
export interface SummaryRow {
  inbound: number | string;
  outbound: number | string;
  first_at: string;
  last_at: string;
  platform: string;
  client: string | null;
  first_inbound_at: string | null;
  first_outbound_at: string | null;
}

export function summaryOf(m: SummaryRow | undefined): MessageSummary {
  return {
    inbound: Number(m?.inbound ?? 0),
    outbound: Number(m?.outbound ?? 0),
    firstAt: m?.first_at,
    lastAt: m?.last_at,
    platform: m?.platform,
    client: m?.client ? (JSON.parse(m.client) as MessageSummary['client']) : undefined,
    firstInboundAt: m?.first_inbound_at ?? undefined,
    firstOutboundAt: m?.first_outbound_at ?? undefined,
  };
}

/** The parameters of a mention's upsert into `conversation_counts`, in column order. */
export function mentionValues(connectorId: string, m: Mention, e: SwitchboardEvent): (string | number | null)[] {
  return [
    connectorId,
    m.conversationId,
    m.kind === 'inbound' ? 1 : 0,
    m.kind === 'outbound' ? 1 : 0,
    e.time,
    e.time,
    e.platform,
    m.client === undefined ? null : JSON.stringify(m.client),
    m.kind === 'inbound' ? e.time : null,
    m.kind === 'outbound' ? e.time : null,
  ];
}

/** The text the party filter of `GET /v1/calls` searches: party ids and phones, space-delimited. */
export function partyText(row: { from?: { id?: string; phone?: string } | undefined; to?: { id?: string; phone?: string } | undefined; operator?: { id?: string; phone?: string } | undefined }): string {
  return ` ${[row.from, row.to, row.operator].flatMap((p) => [p?.id, p?.phone]).filter(Boolean).join(' ')} `;
}

/** The latest name among `contact.updated` events, by platform time (ties by id). */
export function latestName(updates: SwitchboardEvent[]): string | undefined {
  const sorted = updates.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  return (sorted[sorted.length - 1]?.data as { name?: string } | undefined)?.name;
}
