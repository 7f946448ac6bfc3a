/**
 * The PostgreSQL backend's projections: the calls, conversations and operators tables,
 * recomputed with the shared pure folds inside the commit transaction of every new event that
 * concerns them (`apply`, on the commit's connection), and the reads of `ProjectionStore` (on the
 * pool). The same steps as the SQLite backend's (`../sqlite/projections.ts`), in PostgreSQL's SQL.
 */
import type { Call, SwitchboardEvent } from '../../../core/index.js';
import {
  appendsAfter,
  CALL_RANK,
  callParties,
  conversationAppends,
  conversationClient,
  EMPTY_CONVERSATION,
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
  sameIndexed,
  splitKey,
  summaryOf,
  type Kept,
  type KeptRow,
  type Kind,
  type SummaryRow,
  type Touched,
} from '../projection-plan.js';
import type { CallListQuery, ConversationListQuery, OperatorListQuery, ProjectionPage, StatsCounters, StatsQuery } from '../types.js';
import type { Queryable } from './queryable.js';
import { postgresStats } from './stats.js';


const SUMMARY_COLUMNS = 'inbound, outbound, first_at, last_at, platform, client, first_inbound_at, first_outbound_at';

/**
 * Mentions added to their conversations' counts, many in one statement: the rows are summed per
 * conversation first (sums, least and greatest do not depend on the order), then upserted.
 * LEAST and GREATEST skip NULLs, as the SQLite form's coalesce does; the columns compare as bytes.
 */
const MENTIONS_SQL = `INSERT INTO conversation_counts AS c (connector_id, conversation_id, inbound, outbound, first_at, last_at, platform, client, first_inbound_at, first_outbound_at)
  SELECT t.connector_id, t.conversation_id, sum(t.inbound), sum(t.outbound), min(t.first_at COLLATE "C"), max(t.last_at COLLATE "C"), (array_agg(t.platform ORDER BY t.n))[1],
    min(t.client COLLATE "C"), min(t.first_inbound_at COLLATE "C"), min(t.first_outbound_at COLLATE "C")
  FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
    AS t(connector_id, conversation_id, inbound, outbound, first_at, last_at, platform, client, first_inbound_at, first_outbound_at, n)
  GROUP BY t.connector_id, t.conversation_id
  ON CONFLICT (connector_id, conversation_id) DO UPDATE SET inbound = c.inbound + excluded.inbound, outbound = c.outbound + excluded.outbound,
    first_at = LEAST(c.first_at, excluded.first_at), last_at = GREATEST(c.last_at, excluded.last_at),
    client = LEAST(c.client, excluded.client),
    first_inbound_at = LEAST(c.first_inbound_at, excluded.first_inbound_at),
    first_outbound_at = LEAST(c.first_outbound_at, excluded.first_outbound_at)`;

type Table = 'calls' | 'conversations' | 'operators';

export class PostgresProjections {
  /** An entity's events in sequence order (`filter`: more conditions on `type`). */
  private async events(q: Queryable, connectorId: string, subject: string, filter = ''): Promise<SwitchboardEvent[]> {
    // `connector_id || ''`: keeps the planner on the subject indexes. With the (connector_id, seq)
    // index it would read the connector's whole log (it does, after a bulk load, until ANALYZE).
    const { rows } = await q.query<{ body: string; seq: number }>(`SELECT body, seq FROM events WHERE connector_id || '' = $1 AND subject = $2 ${filter} ORDER BY seq`, [connectorId, subject]);
    return parseEvents(rows);
  }

  /** Latest caller names (contact.updated) of some parties, by platform time. */
  private async names(q: Queryable, connectorId: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of new Set(ids)) {
      const name = latestName(await this.events(q, connectorId, `client/${id}`, "AND type = 'contact.updated'"));
      if (name) out.set(id, name);
    }
    return out;
  }

  /** A row's kept fold (see the SQLite backend's `kept`). */
  private async kept<S>(q: Queryable, table: Table, key: string, connectorId: string, id: string, indexed: readonly string[] = []): Promise<KeptRow<S> | undefined> {
    const { rows } = await q.query<Record<string, string | null>>(`SELECT ${['fold', ...indexed].join(', ')} FROM ${table} WHERE connector_id = $1 AND ${key} = $2`, [connectorId, id]);
    const row = rows[0];
    if (!row) return { s: undefined };
    return row.fold ? { ...(JSON.parse(row.fold) as Kept<S>), indexed: indexed.map((c) => row[c] ?? null) } : undefined;
  }

  /** The caller names of `ids`: those `known` already holds, the others looked up (and added). */
  private async namesFor(q: Queryable, connectorId: string, ids: readonly (string | undefined)[], known: Record<string, string | null> = {}): Promise<{ map: Map<string, string>; known: Record<string, string | null> }> {
    const missing = ids.filter((id): id is string => id !== undefined && !(id in known));
    const next = { ...known };
    if (missing.length > 0) {
      const found = await this.names(q, connectorId, missing);
      for (const id of missing) next[id] = found.get(id) ?? null;
    }
    const map = new Map<string, string>();
    for (const id of ids) {
      const name = id === undefined ? undefined : next[id];
      if (typeof name === 'string') map.set(id as string, name);
    }
    return { map, known: next };
  }

  /** Recomputes a call's row (folding `fresh` into the kept state when they all go after it). */
  private async call(q: Queryable, connectorId: string, callId: string, fresh?: readonly SwitchboardEvent[]): Promise<void> {
    const kept = fresh && (await this.kept<CallFold>(q, 'calls', 'call_id', connectorId, callId, ['conversation_id', 'started_at']));
    const folded = kept && foldOn(kept.s, fresh, (x, e) => !e.type.startsWith('call.') || appendsAfter(x?.tail ?? {}, e, CALL_RANK), stepCall);
    let s = folded?.s;
    let known = kept?.names;
    if (!folded) {
      s = foldCallState(await this.events(q, connectorId, `call/${callId}`));
      known = undefined;
    }
    if (!s) return;
    const names = await this.namesFor(q, connectorId, callParties(s), known);
    const row = finishCall(connectorId, callId, s, names.map);
    const indexed = [row.conversationId ?? null, row.ringingAt ?? row.lastEventAt];
    const fold = JSON.stringify({ s, names: names.known });
    if (sameIndexed(kept?.indexed, indexed)) {
      await q.query('UPDATE calls SET platform = $1, state = $2, outcome = $3, parties = $4, body = $5, fold = $6 WHERE connector_id = $7 AND call_id = $8', [
        row.platform,
        row.state,
        row.outcome ?? null,
        partyText(row),
        JSON.stringify(row),
        fold,
        connectorId,
        callId,
      ]);
      return;
    }
    await q.query(
      `INSERT INTO calls (connector_id, call_id, platform, state, outcome, started_at, conversation_id, parties, body, fold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (connector_id, call_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, outcome = excluded.outcome, started_at = excluded.started_at,
         conversation_id = excluded.conversation_id, parties = excluded.parties, body = excluded.body, fold = excluded.fold`,
      [connectorId, callId, row.platform, row.state, row.outcome ?? null, indexed[1], indexed[0], partyText(row), JSON.stringify(row), fold],
    );
  }

  /** Recomputes a conversation's row from its state events and the summary of its messages. */
  private async conversation(q: Queryable, connectorId: string, conversationId: string, fresh?: readonly SwitchboardEvent[], counted?: MessageSummary): Promise<void> {
    const kept = fresh && (await this.kept<ConversationFold>(q, 'conversations', 'conversation_id', connectorId, conversationId, ['client_id']));
    let s = kept && foldOn(kept.s ?? EMPTY_CONVERSATION, fresh, conversationAppends, stepConversation)?.s;
    let known = kept?.names;
    if (!s) {
      s = foldConversationState(await this.events(q, connectorId, `conversation/${conversationId}`, "AND type LIKE 'conversation.%'"));
      known = undefined;
    }
    let summary = counted;
    if (!summary) {
      const { rows } = await q.query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM conversation_counts WHERE connector_id = $1 AND conversation_id = $2`, [connectorId, conversationId]);
      summary = summaryOf(rows[0]);
    }
    const names = await this.namesFor(q, connectorId, [conversationClient(s, summary)], known);
    const row = finishConversation(connectorId, conversationId, s, summary, names.map);
    if (!row) return;
    const fold = JSON.stringify({ s, names: names.known });
    if (sameIndexed(kept?.indexed, [row.client?.id ?? null])) {
      await q.query('UPDATE conversations SET platform = $1, state = $2, last_activity_at = $3, body = $4, fold = $5 WHERE connector_id = $6 AND conversation_id = $7', [
        row.platform,
        row.state,
        row.lastActivityAt,
        JSON.stringify(row),
        fold,
        connectorId,
        conversationId,
      ]);
      return;
    }
    await q.query(
      `INSERT INTO conversations (connector_id, conversation_id, platform, state, client_id, last_activity_at, body, fold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (connector_id, conversation_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, client_id = excluded.client_id,
         last_activity_at = excluded.last_activity_at, body = excluded.body, fold = excluded.fold`,
      [connectorId, conversationId, row.platform, row.state, row.client?.id ?? null, row.lastActivityAt, JSON.stringify(row), fold],
    );
  }

  /** Recomputes an operator's row (folding `fresh` into the kept state when they go after it). */
  private async operator(q: Queryable, connectorId: string, operatorId: string, fresh?: readonly SwitchboardEvent[]): Promise<void> {
    const kept = fresh && (await this.kept<OperatorFold>(q, 'operators', 'operator_id', connectorId, operatorId));
    const folded = kept && foldOn(kept.s, fresh, (x, e) => x === undefined || operatorAppends(x, e), stepOperator);
    let s = folded?.s;
    if (!folded) s = foldOperatorState(await this.events(q, connectorId, `operator/${operatorId}`));
    if (!s) return;
    const row = finishOperator(connectorId, operatorId, s);
    await q.query(
      `INSERT INTO operators (connector_id, operator_id, platform, status, body, fold) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (connector_id, operator_id) DO UPDATE SET platform = excluded.platform, status = excluded.status, body = excluded.body, fold = excluded.fold`,
      [connectorId, operatorId, row.platform, row.status, JSON.stringify(row), JSON.stringify({ s })],
    );
  }

  /** A new name for a client: the calls and conversations that show it join `t`, marked in `full` to be recomputed from the log. */
  private async client(q: Queryable, connectorId: string, clientId: string, t: Touched, full: Set<string>): Promise<void> {
    const calls = await q.query<{ call_id: string }>("SELECT call_id FROM calls WHERE connector_id = $1 AND strpos(parties, ' ' || $2 || ' ') > 0", [connectorId, clientId]);
    for (const r of calls.rows) {
      const key = `${connectorId}\u0000${r.call_id}`;
      if (!t.calls.has(key)) t.calls.set(key, 0);
      full.add(`call\u0000${key}`);
    }
    const conversations = await q.query<{ conversation_id: string }>('SELECT conversation_id FROM conversations WHERE connector_id = $1 AND client_id = $2', [connectorId, clientId]);
    for (const r of conversations.rows) {
      const key = `${connectorId}\u0000${r.conversation_id}`;
      if (!t.conversations.has(key)) t.conversations.set(key, 0);
      full.add(`conversation\u0000${key}`);
    }
  }

  /**
   * Adds events that name conversations to their summaries, in one statement; with `summaries`,
   * answers each conversation's summary after it, by `<connectorId>\0<conversationId>`.
   */
  private async mentions(q: Queryable, mentions: readonly { connectorId: string; mention: Mention; event: SwitchboardEvent }[], summaries: boolean): Promise<Map<string, MessageSummary>> {
    const out = new Map<string, MessageSummary>();
    if (mentions.length === 0) return out;
    const rows = mentions.map((m) => mentionValues(m.connectorId, m.mention, m.event));
    const columns = Array.from({ length: 10 }, (_, i) => rows.map((r) => r[i] ?? null));
    const returning = summaries ? ` RETURNING c.connector_id, c.conversation_id, ${SUMMARY_COLUMNS.split(', ').map((c) => `c.${c}`).join(', ')}` : '';
    const result = await q.query<SummaryRow & { connector_id: string; conversation_id: string }>(MENTIONS_SQL + returning, columns);
    for (const r of result.rows) out.set(`${r.connector_id}\u0000${r.conversation_id}`, summaryOf(r));
    return out;
  }

  /**
   * In the commit transaction: brings the projections of the entities these events concern up
   * to date, or with `defer` records them in `projection_pending`. While any entity waits there
   * (a bulk load of any instance not yet caught up), every entity is recomputed from the log.
   */
  async apply(q: Queryable, inserted: readonly { seq?: number; connectorId: string; event: SwitchboardEvent }[], options: { defer?: boolean } = {}): Promise<void> {
    const { touched, mentions } = planProjections(inserted);
    for (const [key, summary] of await this.mentions(q, mentions, options.defer !== true)) touched.counted.set(key, summary);
    if (options.defer) {
      await this.defer(q, touched);
      return;
    }
    const pending = await q.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM projection_pending) AS any');
    await this.recompute(q, touched, pending.rows[0]?.any !== true);
  }

  private async recompute(q: Queryable, t: Touched, incremental = false): Promise<void> {
    const full = new Set<string>();
    for (const key of t.clients.keys()) await this.client(q, ...splitKey(key), t, full);
    const fresh = (kind: Kind, key: string) => {
      const id = `${kind}\u0000${key}`;
      return incremental && !full.has(id) ? (t.fresh.get(id) ?? []) : undefined;
    };
    for (const key of t.calls.keys()) await this.call(q, ...splitKey(key), fresh('call', key));
    for (const key of t.conversations.keys()) await this.conversation(q, ...splitKey(key), fresh('conversation', key), t.counted.get(key));
    for (const key of t.operators.keys()) await this.operator(q, ...splitKey(key), fresh('operator', key));
  }

  private async defer(q: Queryable, t: Touched): Promise<void> {
    const rows: { connectorId: string; entity: string; kind: Kind; seq: number }[] = [];
    for (const [kind, keys] of [['client', t.clients], ['call', t.calls], ['conversation', t.conversations], ['operator', t.operators]] as const) {
      for (const [key, seq] of keys) {
        const [connectorId, entity] = splitKey(key);
        rows.push({ connectorId, entity, kind, seq });
      }
    }
    if (rows.length === 0) return;
    // The first event's sequence stays (DO NOTHING): the catch-up follows the log.
    await q.query(
      `INSERT INTO projection_pending (connector_id, entity, kind, seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.connectorId), rows.map((r) => r.entity), rows.map((r) => r.kind), rows.map((r) => r.seq)],
    );
  }

  /** One chunk of the catch-up, in the caller's transaction: at most `limit` pending entities recomputed and removed. */
  async catchUpChunk(q: Queryable, limit: number): Promise<number> {
    const { rows } = await q.query<{ connector_id: string; kind: string; entity: string; seq: string }>(
      'DELETE FROM projection_pending WHERE (connector_id, kind, entity) IN (SELECT connector_id, kind, entity FROM projection_pending ORDER BY seq LIMIT $1) RETURNING connector_id, kind, entity, seq',
      [limit],
    );
    const t = emptyTouched();
    for (const r of [...rows].sort((a, b) => Number(a.seq) - Number(b.seq))) {
      const key = `${r.connector_id}\u0000${r.entity}`;
      const seq = Number(r.seq);
      if (r.kind === 'call') t.calls.set(key, seq);
      else if (r.kind === 'conversation') t.conversations.set(key, seq);
      else if (r.kind === 'operator') t.operators.set(key, seq);
      else if (r.kind === 'client') t.clients.set(key, seq);
    }
    await this.recompute(q, t);
    return rows.length;
  }

  async countPending(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ n: string }>('SELECT count(*) AS n FROM projection_pending');
    return Number(rows[0]?.n ?? 0);
  }

  /** Drops and recomputes every projection from the event log, in the caller's transaction. */
  async rebuild(q: Queryable): Promise<{ calls: number; conversations: number; operators: number }> {
    await q.query('DELETE FROM calls; DELETE FROM conversations; DELETE FROM operators; DELETE FROM conversation_counts; DELETE FROM projection_pending;');
    // The events that name a conversation (see mentionOf): messages, and anything else with a conversationId.
    for (let after = 0; ; ) {
      const { rows } = await q.query<{ seq: string; connector_id: string; body: string }>(
        `SELECT seq, connector_id, body FROM events WHERE seq > $1 AND ((subject LIKE 'conversation/%' AND type NOT LIKE 'conversation.%')
           OR (subject NOT LIKE 'conversation/%' AND (body::jsonb #>> '{data,conversationId}') IS NOT NULL)) ORDER BY seq LIMIT 5000`,
        [after],
      );
      if (rows.length === 0) break;
      const found = rows.flatMap((r) => {
        const event = JSON.parse(r.body) as SwitchboardEvent;
        const mention = mentionOf(event);
        return mention ? [{ connectorId: r.connector_id, mention, event }] : [];
      });
      await this.mentions(q, found, false);
      after = Number(rows[rows.length - 1]?.seq ?? after);
    }
    const subjects = await q.query<{ connector_id: string; subject: string }>(
      "SELECT DISTINCT connector_id, subject FROM events WHERE subject LIKE 'call/%' OR subject LIKE 'conversation/%' OR subject LIKE 'operator/%' ORDER BY connector_id, subject",
    );
    const done = new Set<string>();
    for (const { connector_id: c, subject } of subjects.rows) {
      const call = keyOf(subject, 'call/');
      const conv = keyOf(subject, 'conversation/');
      const op = keyOf(subject, 'operator/');
      if (call !== undefined) await this.call(q, c, call);
      else if (conv !== undefined) {
        await this.conversation(q, c, conv);
        done.add(`${c}\u0000${conv}`);
      } else if (op !== undefined) await this.operator(q, c, op);
    }
    // Conversations that only other entities name (a chat whose only contact was a call).
    for (const r of (await q.query<{ connector_id: string; conversation_id: string }>('SELECT connector_id, conversation_id FROM conversation_counts')).rows) {
      if (!done.has(`${r.connector_id}\u0000${r.conversation_id}`)) await this.conversation(q, r.connector_id, r.conversation_id);
    }
    const count = async (t: Table) => Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n ?? 0);
    return { calls: await count('calls'), conversations: await count('conversations'), operators: await count('operators') };
  }

  // ─── reads ──────────────────────────────────────────────────────────────────────────────────

  async listCalls(q: Queryable, query: CallListQuery): Promise<ProjectionPage<Call>> {
    return page<Call>(q, 'calls', query, [
      ['platform = ?', query.platform],
      ['connector_id = ?', query.connectorId ?? query.conversation?.connectorId],
      ['conversation_id = ?', query.conversation?.conversationId],
      ['outcome = ?', query.outcome],
      ['state = ?', query.state],
      ['started_at >= ?', query.from],
      ['started_at < ?', query.to],
      ["strpos(parties, ' ' || ? || ' ') > 0", query.party],
    ]);
  }

  async getCall(q: Queryable, connectorId: string, callId: string): Promise<{ call: Call; events: SwitchboardEvent[] } | undefined> {
    const { rows } = await q.query<{ body: string }>('SELECT body FROM calls WHERE connector_id = $1 AND call_id = $2', [connectorId, callId]);
    if (!rows[0]) return undefined;
    return { call: JSON.parse(rows[0].body) as Call, events: await this.events(q, connectorId, `call/${callId}`) };
  }

  async listConversations(q: Queryable, query: ConversationListQuery): Promise<ProjectionPage<ConversationRow>> {
    return page<ConversationRow>(q, 'conversations', query, [
      ['platform = ?', query.platform],
      ['connector_id = ?', query.connectorId],
      ['state = ?', query.state],
      ['client_id = ?', query.clientId],
    ]);
  }

  async getConversation(q: Queryable, connectorId: string, conversationId: string): Promise<ConversationRow | undefined> {
    const { rows } = await q.query<{ body: string }>('SELECT body FROM conversations WHERE connector_id = $1 AND conversation_id = $2', [connectorId, conversationId]);
    return rows[0] ? (JSON.parse(rows[0].body) as ConversationRow) : undefined;
  }

  async timelineEvents(q: Queryable, connectorId: string, conversationId: string): Promise<{ own: SwitchboardEvent[]; calls: SwitchboardEvent[] } | undefined> {
    const exists = await q.query('SELECT 1 FROM conversations WHERE connector_id = $1 AND conversation_id = $2', [connectorId, conversationId]);
    if (exists.rows.length === 0) return undefined;
    const calls = await q.query<{ body: string; seq: number }>(
      "SELECT e.body, e.seq FROM events e JOIN calls c ON e.connector_id = c.connector_id AND e.subject = 'call/' || c.call_id WHERE c.connector_id = $1 AND c.conversation_id = $2 ORDER BY e.seq",
      [connectorId, conversationId],
    );
    return { own: await this.events(q, connectorId, `conversation/${conversationId}`), calls: parseEvents(calls.rows) };
  }

  async stats(q: Queryable, query: StatsQuery): Promise<StatsCounters[]> {
    return postgresStats(q, query);
  }

  async listOperators(q: Queryable, query: OperatorListQuery): Promise<ProjectionPage<OperatorRow>> {
    return page<OperatorRow>(q, 'operators', query, [
      ['platform = ?', query.platform],
      ['connector_id = ?', query.connectorId],
      ['status = ?', query.status],
    ]);
  }
}

/** Runs a filtered, rid-paged list query of a projection table; each filter's `?` is its value, left out when undefined. */
async function page<T>(q: Queryable, table: Table, query: { after?: string | undefined; limit: number }, filters: readonly [string, string | undefined][]): Promise<ProjectionPage<T>> {
  const where: string[] = [];
  const values: (string | number)[] = [];
  for (const [clause, v] of filters) {
    if (v === undefined) continue;
    values.push(v);
    where.push(clause.replace('?', `$${values.length}`));
  }
  if (query.after !== undefined) {
    values.push(Number(query.after));
    where.push(`rid > $${values.length}`);
  }
  values.push(query.limit);
  const { rows } = await q.query<{ rid: string; body: string }>(`SELECT rid, body FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rid LIMIT $${values.length}`, values);
  const last = rows[rows.length - 1];
  return { rows: rows.map((r) => JSON.parse(r.body) as T), next: rows.length === query.limit && last ? String(last.rid) : null };
}
