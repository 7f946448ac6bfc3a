/**
 * The SQLite backend's projections: the calls, conversations and operators tables, recomputed
 * with the shared pure folds inside the commit transaction of every new event that concerns
 * them (`apply`), and the reads of `ProjectionStore`.
 */
import type Database from 'better-sqlite3';
import type { Call, SwitchboardEvent } from '../../../core/index.js';
import {
  appendsAfter,
  CALL_RANK,
  callParties,
  conversationAppends,
  EMPTY_CONVERSATION,
  conversationClient,
  finishCall,
  finishConversation,
  finishOperator,
  foldCallState,
  foldConversationState,
  foldOperatorState,
  keyOf,
  mentionOf,
  operatorAppends,
  stepCall,
  stepConversation,
  stepOperator,
  type CallFold,
  type ConversationFold,
  type ConversationRow,
  type Mention,
  type MessageSummary,
  type OperatorFold,
  type OperatorRow,
} from '../../projections/fold.js';
import {
  emptyTouched,
  foldOn,
  parseEvents,
  latestName,
  mentionValues,
  partyText,
  planProjections,
  sameIndexed as same,
  splitKey as split,
  summaryOf,
  type Kept,
  type KeptRow,
  type Kind,
  type SummaryRow,
  type Touched,
} from '../projection-plan.js';
import type { CallListQuery, ConversationListQuery, OperatorListQuery, ProjectionPage, ProjectionStore, StatsCounters, StatsQuery } from '../types.js';
import { Prepared } from './prepared.js';
import { sqliteStats } from './stats.js';
import { filters } from './where.js';

type Db = Database.Database;

/** Reads and writes the projection tables with one connection (the store's). */
const SUMMARY_COLUMNS = 'inbound, outbound, first_at, last_at, platform, client, first_inbound_at, first_outbound_at';

/** A message or other mention added to its conversation's counts (see `mention`). */
const MENTION_SQL = `INSERT INTO conversation_counts (connector_id, conversation_id, inbound, outbound, first_at, last_at, platform, client, first_inbound_at, first_outbound_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, conversation_id) DO UPDATE SET inbound = inbound + excluded.inbound, outbound = outbound + excluded.outbound,
           first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at),
           client = CASE WHEN client IS NULL THEN excluded.client WHEN excluded.client IS NULL THEN client ELSE min(client, excluded.client) END,
           first_inbound_at = coalesce(min(first_inbound_at, excluded.first_inbound_at), first_inbound_at, excluded.first_inbound_at),
           first_outbound_at = coalesce(min(first_outbound_at, excluded.first_outbound_at), first_outbound_at, excluded.first_outbound_at)`;
const MENTION_RETURNING_SQL = `${MENTION_SQL}
         RETURNING ${SUMMARY_COLUMNS}`;

export class SqliteProjections extends Prepared implements Omit<ProjectionStore, 'catchUp' | 'pendingCount'> {
  /** Uses the store's connection once it is open. */
  override attach(db: Db): void {
    super.attach(db);
    this.resyncPending();
  }

  /** Reads whether entities wait for a catch-up (after a transaction that may have changed it, or failed). */
  resyncPending(): void {
    this.pendingMayExist = this.countPending() > 0;
  }

  /**
   * An entity's events. `+connector_id` keeps SQLite on the subject indexes: on the
   * (connector_id, seq) index the query would scan the connector's whole log.
   */
  private events(connectorId: string, subject: string, filter = ''): SwitchboardEvent[] {
    return parseEvents(this.stmt<[string, string], { body: string; seq: number }>(`SELECT body, seq FROM events WHERE +connector_id = ? AND subject = ? ${filter} ORDER BY seq`).all(connectorId, subject));
  }

  /** Latest caller names (contact.updated) of some parties, by platform time. */
  private names(connectorId: string, ids: readonly (string | undefined)[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const id of new Set(ids.filter((x): x is string => x !== undefined))) {
      const name = latestName(this.events(connectorId, `client/${id}`, "AND type = 'contact.updated'"));
      if (name) out.set(id, name);
    }
    return out;
  }

  /**
   * A row's kept fold: `{ s: undefined }` when there is no row (with nothing pending, the entity's
   * fold has seen nothing: an entity without a row has no event its fold reads), undefined when
   * the row keeps none (written before the folds were kept: recompute it from the log).
   */
  private kept<S>(table: 'calls' | 'conversations' | 'operators', key: 'call_id' | 'conversation_id' | 'operator_id', connectorId: string, id: string, indexed: readonly string[] = []): KeptRow<S> | undefined {
    const row = this.stmt<[string, string], Record<string, string | null>>(`SELECT ${['fold', ...indexed].join(', ')} FROM ${table} WHERE connector_id = ? AND ${key} = ?`).get(connectorId, id);
    if (!row) return { s: undefined };
    return row.fold ? { ...(JSON.parse(row.fold) as Kept<S>), indexed: indexed.map((c) => row[c] ?? null) } : undefined;
  }

  /** The caller names of `ids`: those `known` already holds, the others looked up (and added). */
  private namesFor(connectorId: string, ids: readonly (string | undefined)[], known: Record<string, string | null> = {}): { map: Map<string, string>; known: Record<string, string | null> } {
    const missing = ids.filter((id): id is string => id !== undefined && !(id in known));
    const next = { ...known };
    if (missing.length > 0) {
      const found = this.names(connectorId, missing);
      for (const id of missing) next[id] = found.get(id) ?? null;
    }
    const map = new Map<string, string>();
    for (const id of ids) {
      const name = id === undefined ? undefined : next[id];
      if (typeof name === 'string') map.set(id as string, name);
    }
    return { map, known: next };
  }

  /**
   * Recomputes a call's row. With `fresh` (the call's events of this commit, in sequence order)
   * and a kept fold they all go after, they are folded into it; otherwise the call's events are
   * read from the log and folded from the start.
   */
  call(connectorId: string, callId: string, fresh?: readonly SwitchboardEvent[]): void {
    const kept = fresh && this.kept<CallFold>('calls', 'call_id', connectorId, callId, ['conversation_id', 'started_at']);
    const folded = kept && foldOn(kept.s, fresh, (x, e) => !e.type.startsWith('call.') || appendsAfter(x?.tail ?? {}, e, CALL_RANK), stepCall);
    let s = folded?.s;
    let known = kept?.names;
    if (!folded) {
      s = foldCallState(this.events(connectorId, `call/${callId}`));
      known = undefined;
    }
    if (!s) return;
    const names = this.namesFor(connectorId, callParties(s), known);
    const row = finishCall(connectorId, callId, s, names.map);
    const indexed = [row.conversationId ?? null, row.ringingAt ?? row.lastEventAt];
    const fold = JSON.stringify({ s, names: names.known });
    if (same(kept?.indexed, indexed)) {
      this
        .stmt('UPDATE calls SET platform = ?, state = ?, outcome = ?, parties = ?, body = ?, fold = ? WHERE connector_id = ? AND call_id = ?')
        .run(row.platform, row.state, row.outcome ?? null, partyText(row), JSON.stringify(row), fold, connectorId, callId);
      return;
    }
    this
      .stmt(
        `INSERT INTO calls (connector_id, call_id, platform, state, outcome, started_at, conversation_id, parties, body, fold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, call_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, outcome = excluded.outcome, started_at = excluded.started_at,
           conversation_id = excluded.conversation_id, parties = excluded.parties, body = excluded.body, fold = excluded.fold`,
      )
      .run(connectorId, callId, row.platform, row.state, row.outcome ?? null, indexed[1], indexed[0], partyText(row), JSON.stringify(row), fold);
  }

  /**
   * Recomputes a conversation's row from its state events (folded into the kept state when
   * `fresh` — this commit's state events — all go after it) and the summary of its messages.
   */
  conversation(connectorId: string, conversationId: string, fresh?: readonly SwitchboardEvent[], counted?: MessageSummary): void {
    const kept = fresh && this.kept<ConversationFold>('conversations', 'conversation_id', connectorId, conversationId, ['client_id']);
    let s = kept && foldOn(kept.s ?? EMPTY_CONVERSATION, fresh, conversationAppends, stepConversation)?.s;
    let known = kept?.names;
    if (!s) {
      // Only the state events (conversation.*), through the (subject, type) index: messages are counted.
      s = foldConversationState(this.events(connectorId, `conversation/${conversationId}`, "AND type GLOB 'conversation.*'"));
      known = undefined;
    }
    const summary = counted ?? summaryOf(this.stmt<[string, string], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM conversation_counts WHERE connector_id = ? AND conversation_id = ?`).get(connectorId, conversationId));
    const names = this.namesFor(connectorId, [conversationClient(s, summary)], known);
    const row = finishConversation(connectorId, conversationId, s, summary, names.map);
    if (!row) return;
    const fold = JSON.stringify({ s, names: names.known });
    if (same(kept?.indexed, [row.client?.id ?? null])) {
      this
        .stmt('UPDATE conversations SET platform = ?, state = ?, last_activity_at = ?, body = ?, fold = ? WHERE connector_id = ? AND conversation_id = ?')
        .run(row.platform, row.state, row.lastActivityAt, JSON.stringify(row), fold, connectorId, conversationId);
      return;
    }
    this
      .stmt(
        `INSERT INTO conversations (connector_id, conversation_id, platform, state, client_id, last_activity_at, body, fold) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, conversation_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, client_id = excluded.client_id,
           last_activity_at = excluded.last_activity_at, body = excluded.body, fold = excluded.fold`,
      )
      .run(connectorId, conversationId, row.platform, row.state, row.client?.id ?? null, row.lastActivityAt, JSON.stringify(row), fold);
  }

  /** Recomputes an operator's row (folding `fresh` into the kept state when they go after it). */
  operator(connectorId: string, operatorId: string, fresh?: readonly SwitchboardEvent[]): void {
    const kept = fresh && this.kept<OperatorFold>('operators', 'operator_id', connectorId, operatorId);
    const folded = kept && foldOn(kept.s, fresh, (x, e) => x === undefined || operatorAppends(x, e), stepOperator);
    let s = folded?.s;
    if (!folded) s = foldOperatorState(this.events(connectorId, `operator/${operatorId}`));
    if (!s) return;
    const row = finishOperator(connectorId, operatorId, s);
    this
      .stmt(
        `INSERT INTO operators (connector_id, operator_id, platform, status, body, fold) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, operator_id) DO UPDATE SET platform = excluded.platform, status = excluded.status, body = excluded.body, fold = excluded.fold`,
      )
      .run(connectorId, operatorId, row.platform, row.status, JSON.stringify(row), JSON.stringify({ s }));
  }

  /** A new name for a client: the calls and conversations that show it join `t`, marked in `full` to be recomputed from the log. */
  client(connectorId: string, clientId: string, t: Touched, full: Set<string>): void {
    for (const r of this.stmt<[string, string], { call_id: string }>("SELECT call_id FROM calls WHERE connector_id = ? AND instr(parties, ' ' || ? || ' ') > 0").all(connectorId, clientId)) {
      const key = `${connectorId}\u0000${r.call_id}`;
      if (!t.calls.has(key)) t.calls.set(key, 0);
      full.add(`call\u0000${key}`);
    }
    for (const r of this.stmt<[string, string], { conversation_id: string }>('SELECT conversation_id FROM conversations WHERE connector_id = ? AND client_id = ?').all(connectorId, clientId)) {
      const key = `${connectorId}\u0000${r.conversation_id}`;
      if (!t.conversations.has(key)) t.conversations.set(key, 0);
      full.add(`conversation\u0000${key}`);
    }
  }

  /**
   * Adds an event that names a conversation to its summary: a message to the counts, anything else
   * (a call, a ticket, a receipt) to its first and last activity, so that a conversation exists as
   * soon as anything names it — a chat whose first contact is a call has its row and timeline.
   */
  private mention(connectorId: string, m: Mention, e: SwitchboardEvent, summary = true): MessageSummary | undefined {
    const statement = this.stmt<unknown[], SummaryRow>(summary ? MENTION_RETURNING_SQL : MENTION_SQL);
    const args = mentionValues(connectorId, m, e);
    // A deferred commit recomputes the conversation later: the new summary is not read back.
    if (!summary) {
      statement.run(...args);
      return undefined;
    }
    const row = statement.get(...args);
    return row && summaryOf(row);
  }

  /**
   * Whether some entity may wait in `projection_pending` (a bulk load not yet caught up): its
   * kept fold misses the deferred events, so until the catch-up every entity is recomputed from
   * the log. Only this connection writes, so the flag is exact after `attach`'s count.
   */
  private pendingMayExist = true;

  /**
   * Brings the projections of the entities these events concern up to date — folding each
   * entity's new events into its kept state where they go after it, recomputing it from the log
   * otherwise — or, with `defer`, records them in `projection_pending` for `catchUpChunk`.
   * Message counts are increments and are kept either way.
   */
  apply(inserted: readonly { seq?: number; connectorId: string; event: SwitchboardEvent }[], options: { defer?: boolean } = {}): void {
    const { touched, mentions } = planProjections(inserted);
    for (const { connectorId, key, mention, event } of mentions) {
      const summary = this.mention(connectorId, mention, event, options.defer !== true);
      if (summary) touched.counted.set(key, summary);
    }
    if (options.defer) {
      this.pendingMayExist = true;
      this.defer(touched);
    } else this.recompute(touched, !this.pendingMayExist);
  }

  /**
   * Recomputes the touched entities — incrementally, when `incremental`, from their new events in
   * `t.fresh` — and first adds, for each client with a new name, the calls and conversations that
   * show it (recomputed from the log).
   */
  private recompute(t: Touched, incremental = false): void {
    const full = new Set<string>();
    for (const key of t.clients.keys()) this.client(...split(key), t, full);
    const fresh = (kind: Kind, key: string) => {
      const id = `${kind}\u0000${key}`;
      return incremental && !full.has(id) ? (t.fresh.get(id) ?? []) : undefined;
    };
    for (const key of t.calls.keys()) this.call(...split(key), fresh('call', key));
    for (const key of t.conversations.keys()) this.conversation(...split(key), fresh('conversation', key), t.counted.get(key));
    for (const key of t.operators.keys()) this.operator(...split(key), fresh('operator', key));
  }

  private defer(t: Touched): void {
    // The first event's sequence stays (INSERT OR IGNORE): the catch-up follows the log.
    const add = this.stmt<[string, string, string, number]>('INSERT OR IGNORE INTO projection_pending (connector_id, kind, entity, seq) VALUES (?, ?, ?, ?)');
    for (const [kind, keys] of [['client', t.clients], ['call', t.calls], ['conversation', t.conversations], ['operator', t.operators]] as const) {
      for (const [key, seq] of keys) {
        const [connectorId, entity] = split(key);
        add.run(connectorId, kind, entity, seq);
      }
    }
  }

  /**
   * One chunk of the catch-up: at most `limit` pending entities recomputed and removed from
   * `projection_pending` (the caller's transaction). Answers how many were done.
   */
  catchUpChunk(limit: number): number {
    const rows = this.stmt<[number], { connector_id: string; kind: string; entity: string; seq: number }>('SELECT connector_id, kind, entity, seq FROM projection_pending ORDER BY seq LIMIT ?').all(limit);
    const t = emptyTouched();
    const remove = this.stmt<[string, string, string]>('DELETE FROM projection_pending WHERE connector_id = ? AND kind = ? AND entity = ?');
    for (const r of rows) {
      const key = `${r.connector_id}\u0000${r.entity}`;
      if (r.kind === 'call') t.calls.set(key, r.seq);
      else if (r.kind === 'conversation') t.conversations.set(key, r.seq);
      else if (r.kind === 'operator') t.operators.set(key, r.seq);
      else if (r.kind === 'client') t.clients.set(key, r.seq);
      remove.run(r.connector_id, r.kind, r.entity);
    }
    this.recompute(t);
    return rows.length;
  }

  /** Entities waiting in `projection_pending`. */
  countPending(): number {
    return this.stmt<[], { n: number }>('SELECT count(*) AS n FROM projection_pending').get()?.n ?? 0;
  }

  /** Drops and recomputes every projection from the event log, in one transaction. */
  async rebuild(): Promise<{ calls: number; conversations: number; operators: number }> {
    try {
      return this.db.transaction(() => this.rebuildNow()).immediate();
    } finally {
      this.resyncPending();
    }
  }

  private rebuildNow(): { calls: number; conversations: number; operators: number } {
    this.db.exec('DELETE FROM calls; DELETE FROM conversations; DELETE FROM operators; DELETE FROM conversation_counts; DELETE FROM projection_pending;');
    // The events that name a conversation (see mentionOf): messages, and anything else with a conversationId.
    const mentions = this.stmt<[number], { seq: number; connector_id: string; body: string }>(
      `SELECT seq, connector_id, body FROM events WHERE seq > ? AND ((subject LIKE 'conversation/%' AND type NOT GLOB 'conversation.*')
         OR (subject NOT LIKE 'conversation/%' AND json_extract(body, '$.data.conversationId') IS NOT NULL)) ORDER BY seq LIMIT 5000`,
    );
    for (let after = 0, rows = mentions.all(after); rows.length > 0; rows = mentions.all(after)) {
      for (const r of rows) {
        const e = JSON.parse(r.body) as SwitchboardEvent;
        const m = mentionOf(e);
        if (m) this.mention(r.connector_id, m, e, false);
      }
      after = rows[rows.length - 1]?.seq ?? after;
    }
    const subjects = this
      .stmt<[], { connector_id: string; subject: string }>(
        "SELECT DISTINCT connector_id, subject FROM events WHERE subject LIKE 'call/%' OR subject LIKE 'conversation/%' OR subject LIKE 'operator/%' ORDER BY connector_id, subject",
      )
      .all();
    const done = new Set<string>();
    for (const { connector_id: c, subject } of subjects) {
      const call = keyOf(subject, 'call/');
      const conv = keyOf(subject, 'conversation/');
      const op = keyOf(subject, 'operator/');
      if (call !== undefined) this.call(c, call);
      else if (conv !== undefined) {
        this.conversation(c, conv);
        done.add(`${c}\u0000${conv}`);
      } else if (op !== undefined) this.operator(c, op);
    }
    // Conversations that only other entities name (a chat whose only contact was a call).
    for (const r of this.stmt<[], { connector_id: string; conversation_id: string }>('SELECT connector_id, conversation_id FROM conversation_counts').all()) {
      if (!done.has(`${r.connector_id}\u0000${r.conversation_id}`)) this.conversation(r.connector_id, r.conversation_id);
    }
    const count = (t: string) => (this.stmt<[], { n: number }>(`SELECT count(*) AS n FROM ${t}`).get()?.n ?? 0);
    return { calls: count('calls'), conversations: count('conversations'), operators: count('operators') };
  }

  // ─── reads ──────────────────────────────────────────────────────────────────────────────────

  async listCalls(q: CallListQuery): Promise<ProjectionPage<Call>> {
    const f = filters();
    f.add('platform = ?', q.platform);
    f.add('connector_id = ?', q.connectorId ?? q.conversation?.connectorId);
    f.add('conversation_id = ?', q.conversation?.conversationId);
    f.add('outcome = ?', q.outcome);
    f.add('state = ?', q.state);
    f.add('started_at >= ?', q.from);
    f.add('started_at < ?', q.to);
    f.add("instr(parties, ' ' || ? || ' ') > 0", q.party);
    return page<Call>(this.db, 'calls', f, q);
  }

  async getCall(connectorId: string, callId: string): Promise<{ call: Call; events: SwitchboardEvent[] } | undefined> {
    const row = this.stmt<[string, string], { body: string }>('SELECT body FROM calls WHERE connector_id = ? AND call_id = ?').get(connectorId, callId);
    if (!row) return undefined;
    return { call: JSON.parse(row.body) as Call, events: this.events(connectorId, `call/${callId}`) };
  }

  async listConversations(q: ConversationListQuery): Promise<ProjectionPage<ConversationRow>> {
    const f = filters();
    f.add('platform = ?', q.platform);
    f.add('connector_id = ?', q.connectorId);
    f.add('state = ?', q.state);
    f.add('client_id = ?', q.clientId);
    return page<ConversationRow>(this.db, 'conversations', f, q);
  }

  async getConversation(connectorId: string, conversationId: string): Promise<ConversationRow | undefined> {
    const row = this.stmt<[string, string], { body: string }>('SELECT body FROM conversations WHERE connector_id = ? AND conversation_id = ?').get(connectorId, conversationId);
    return row ? (JSON.parse(row.body) as ConversationRow) : undefined;
  }

  async timelineEvents(connectorId: string, conversationId: string): Promise<{ own: SwitchboardEvent[]; calls: SwitchboardEvent[] } | undefined> {
    const exists = this.stmt<[string, string], { n: number }>('SELECT count(*) AS n FROM conversations WHERE connector_id = ? AND conversation_id = ?').get(connectorId, conversationId);
    if (!exists?.n) return undefined;
    const calls = parseEvents(
      this.stmt<[string, string], { body: string; seq: number }>(
        "SELECT e.body, e.seq FROM events e JOIN calls c ON +e.connector_id = c.connector_id AND e.subject = 'call/' || c.call_id WHERE c.connector_id = ? AND c.conversation_id = ? ORDER BY e.seq",
      ).all(connectorId, conversationId),
    );
    return { own: this.events(connectorId, `conversation/${conversationId}`), calls };
  }

  async stats(q: StatsQuery): Promise<StatsCounters[]> {
    return sqliteStats(this.db, q);
  }

  async listOperators(q: OperatorListQuery): Promise<ProjectionPage<OperatorRow>> {
    const f = filters();
    f.add('platform = ?', q.platform);
    f.add('connector_id = ?', q.connectorId);
    f.add('status = ?', q.status);
    return page<OperatorRow>(this.db, 'operators', f, q);
  }
}

/** Runs a filtered, rid-paged list query of a projection table. */
function page<T>(db: Db, table: 'calls' | 'conversations' | 'operators', f: ReturnType<typeof filters>, q: { after?: string | undefined; limit: number }): ProjectionPage<T> {
  const where = [...f.where];
  const params = [...f.params];
  if (q.after !== undefined) {
    where.push('rid > ?');
    params.push(Number(q.after));
  }
  params.push(q.limit);
  const rows = db.prepare<(string | number)[], { rid: number; body: string }>(`SELECT rid, body FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rid LIMIT ?`).all(...params);
  const last = rows[rows.length - 1];
  return { rows: rows.map((r) => JSON.parse(r.body) as T), next: rows.length === q.limit && last ? String(last.rid) : null };
}
