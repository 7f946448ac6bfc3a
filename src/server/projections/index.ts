/**
 * The projections feature (DESIGN §3): calls, conversations and operators, recomputed from their
 * events inside the commit transaction of every new event that concerns them, so that they can
 * never disagree with the log; timelines are assembled from the log when asked for.
 */
import type Database from 'better-sqlite3';
import * as z from 'zod/mini';
import { SwitchboardError, ValidationError, describeIssues, type SwitchboardEvent } from '../../core/index.js';
import type { Feature, FeatureContext, V1Scope } from '../feature.js';
import type { InsertedEvent } from '../store/sqlite.js';
import { foldCall, foldConversation, foldOperator, type MessageSummary } from './fold.js';
import { buildTimeline } from './timeline.js';

type Db = Database.Database;

function keyOf(subject: string, prefix: string): string | undefined {
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

function parseEvents(rows: readonly { body: string; seq: number }[]): SwitchboardEvent[] {
  return rows.map((r) => ({ ...(JSON.parse(r.body) as SwitchboardEvent), sequence: String(r.seq).padStart(16, '0') }));
}

/** How an event names a conversation: the conversation and what it adds to the summary. */
interface Mention {
  readonly conversationId: string;
  readonly kind: 'inbound' | 'outbound' | 'other';
  readonly client?: unknown;
}

/**
 * The conversation an event names, other than by a conversation state change (those are folded):
 * a new message (counted by direction), any other event of a conversation subject, or an event of
 * another entity whose data has a `conversationId` (a call, a ticket, a file) — with the client
 * it shows (a call's caller, or the callee of an outbound call).
 */
export function mentionOf(e: SwitchboardEvent): Mention | undefined {
  const d = e.data as { conversationId?: unknown; direction?: unknown; client?: unknown; from?: unknown; to?: unknown };
  const own = keyOf(e.subject, 'conversation/');
  if (own !== undefined) {
    if (e.type.startsWith('conversation.')) return undefined;
    if (e.type === 'message.created') return { conversationId: own, kind: d.direction === 'inbound' ? 'inbound' : 'outbound', client: d.client };
    return { conversationId: own, kind: 'other', client: d.client };
  }
  if (typeof d.conversationId !== 'string' || d.conversationId === '') return undefined;
  const client = d.client ?? (e.type.startsWith('call.') ? (d.direction === 'outbound' ? d.to : d.from) : undefined);
  return { conversationId: d.conversationId, kind: 'other', client };
}

/** Reads and writes the projection tables with one connection (the store's). */
class ProjectionSql {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  /** A prepared statement, prepared once per connection. */
  private stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st as unknown as Database.Statement<P, R>;
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
      const updates = this.events(connectorId, `client/${id}`, "AND type = 'contact.updated'").sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
      const name = (updates[updates.length - 1]?.data as { name?: string } | undefined)?.name;
      if (name) out.set(id, name);
    }
    return out;
  }

  call(connectorId: string, callId: string): void {
    const events = this.events(connectorId, `call/${callId}`);
    const parties = events.flatMap((e) => {
      const d = e.data as { from?: { id?: string }; to?: { id?: string } };
      return [d.from?.id, d.to?.id];
    });
    const row = foldCall(connectorId, callId, events, this.names(connectorId, parties));
    if (!row) return;
    const partyText = ` ${[row.from, row.to, row.operator].flatMap((p) => [p?.id, p?.phone]).filter(Boolean).join(' ')} `;
    this
      .stmt(
        `INSERT INTO calls (connector_id, call_id, platform, state, outcome, started_at, conversation_id, parties, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, call_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, outcome = excluded.outcome, started_at = excluded.started_at,
           conversation_id = excluded.conversation_id, parties = excluded.parties, body = excluded.body`,
      )
      .run(connectorId, callId, row.platform, row.state, row.outcome ?? null, row.ringingAt ?? row.lastEventAt, row.conversationId ?? null, partyText, JSON.stringify(row));
  }

  conversation(connectorId: string, conversationId: string): void {
    const subject = `conversation/${conversationId}`;
    // Only the state events (conversation.*), through the (subject, type) index: messages are counted.
    const stateEvents = this.events(connectorId, subject, "AND type GLOB 'conversation.*'");
    const m = this
      .stmt<[string, string], { inbound: number; outbound: number; first_at: string; last_at: string; platform: string; client: string | null }>(
        'SELECT inbound, outbound, first_at, last_at, platform, client FROM conversation_counts WHERE connector_id = ? AND conversation_id = ?',
      )
      .get(connectorId, conversationId);
    const summary: MessageSummary = {
      inbound: m?.inbound ?? 0,
      outbound: m?.outbound ?? 0,
      firstAt: m?.first_at,
      lastAt: m?.last_at,
      platform: m?.platform,
      client: m?.client ? (JSON.parse(m.client) as MessageSummary['client']) : undefined,
    };
    const clientIds = [...stateEvents.map((e) => (e.data as { client?: { id?: string } }).client?.id), summary.client?.id];
    const row = foldConversation(connectorId, conversationId, stateEvents, summary, this.names(connectorId, clientIds));
    if (!row) return;
    this
      .stmt(
        `INSERT INTO conversations (connector_id, conversation_id, platform, state, client_id, last_activity_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, conversation_id) DO UPDATE SET platform = excluded.platform, state = excluded.state, client_id = excluded.client_id,
           last_activity_at = excluded.last_activity_at, body = excluded.body`,
      )
      .run(connectorId, conversationId, row.platform, row.state, row.client?.id ?? null, row.lastActivityAt, JSON.stringify(row));
  }

  operator(connectorId: string, operatorId: string): void {
    const row = foldOperator(connectorId, operatorId, this.events(connectorId, `operator/${operatorId}`));
    if (!row) return;
    this
      .stmt(
        `INSERT INTO operators (connector_id, operator_id, platform, status, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, operator_id) DO UPDATE SET platform = excluded.platform, status = excluded.status, body = excluded.body`,
      )
      .run(connectorId, operatorId, row.platform, row.status, JSON.stringify(row));
  }

  /** A new name for a client: the calls and conversations that show it. */
  client(connectorId: string, clientId: string, calls: Set<string>, conversations: Set<string>): void {
    for (const r of this.stmt<[string, string], { call_id: string }>("SELECT call_id FROM calls WHERE connector_id = ? AND instr(parties, ' ' || ? || ' ') > 0").all(connectorId, clientId)) calls.add(`${connectorId}\u0000${r.call_id}`);
    for (const r of this.stmt<[string, string], { conversation_id: string }>('SELECT conversation_id FROM conversations WHERE connector_id = ? AND client_id = ?').all(connectorId, clientId)) conversations.add(`${connectorId}\u0000${r.conversation_id}`);
  }

  /**
   * Adds an event that names a conversation to its summary: a message to the counts, anything else
   * (a call, a ticket, a receipt) to its first and last activity, so that a conversation exists as
   * soon as anything names it — a chat whose first contact is a call has its row and timeline.
   */
  private mention(connectorId: string, m: Mention, e: SwitchboardEvent): void {
    this
      .stmt(
        `INSERT INTO conversation_counts (connector_id, conversation_id, inbound, outbound, first_at, last_at, platform, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, conversation_id) DO UPDATE SET inbound = inbound + excluded.inbound, outbound = outbound + excluded.outbound,
           first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at),
           client = CASE WHEN client IS NULL THEN excluded.client WHEN excluded.client IS NULL THEN client ELSE min(client, excluded.client) END`,
      )
      .run(connectorId, m.conversationId, m.kind === 'inbound' ? 1 : 0, m.kind === 'outbound' ? 1 : 0, e.time, e.time, e.platform, m.client === undefined ? null : JSON.stringify(m.client));
  }

  /** Recomputes the projections of the entities these events concern. */
  apply(inserted: readonly { connectorId: string; event: SwitchboardEvent }[]): void {
    const calls = new Set<string>();
    const conversations = new Set<string>();
    const operators = new Set<string>();
    const clients = new Set<string>();
    for (const { connectorId, event } of inserted) {
      const s = event.subject;
      const k = (key: string) => `${connectorId}\u0000${key}`;
      const call = keyOf(s, 'call/');
      if (call !== undefined) calls.add(k(call));
      const conv = keyOf(s, 'conversation/');
      if (conv !== undefined) conversations.add(k(conv));
      const m = mentionOf(event);
      if (m) {
        conversations.add(k(m.conversationId));
        this.mention(connectorId, m, event);
      }
      const op = keyOf(s, 'operator/');
      if (op !== undefined) operators.add(k(op));
      const client = keyOf(s, 'client/');
      if (client !== undefined && event.type === 'contact.updated') clients.add(k(client));
    }
    const split = (key: string) => key.split('\u0000') as [string, string];
    for (const key of clients) this.client(...split(key), calls, conversations);
    for (const key of calls) this.call(...split(key));
    for (const key of conversations) this.conversation(...split(key));
    for (const key of operators) this.operator(...split(key));
  }

  /** Drops and recomputes every projection from the event log. */
  rebuild(): { calls: number; conversations: number; operators: number } {
    this.db.exec('DELETE FROM calls; DELETE FROM conversations; DELETE FROM operators; DELETE FROM conversation_counts;');
    // The events that name a conversation (see mentionOf): messages, and anything else with a conversationId.
    const mentions = this.stmt<[number], { seq: number; connector_id: string; body: string }>(
      `SELECT seq, connector_id, body FROM events WHERE seq > ? AND ((subject LIKE 'conversation/%' AND type NOT GLOB 'conversation.*')
         OR (subject NOT LIKE 'conversation/%' AND json_extract(body, '$.data.conversationId') IS NOT NULL)) ORDER BY seq LIMIT 5000`,
    );
    for (let after = 0, rows = mentions.all(after); rows.length > 0; rows = mentions.all(after)) {
      for (const r of rows) {
        const e = JSON.parse(r.body) as SwitchboardEvent;
        const m = mentionOf(e);
        if (m) this.mention(r.connector_id, m, e);
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
}

const listQuery = z.object({
  after: z.optional(z.string().check(z.regex(/^\d{1,16}$/))),
  limit: z.optional(z.string().check(z.regex(/^\d{1,4}$/))),
  platform: z.optional(z.string()),
  connector: z.optional(z.string()),
  access_token: z.optional(z.string()),
});
const callsQuery = z.extend(listQuery, {
  outcome: z.optional(z.enum(['answered', 'missed', 'rejected', 'failed'])),
  state: z.optional(z.string()),
  from: z.optional(z.iso.datetime({ offset: true })),
  to: z.optional(z.iso.datetime({ offset: true })),
  party: z.optional(z.string().check(z.minLength(1))),
  conversation: z.optional(z.string().check(z.minLength(1))),
});
const conversationsQuery = z.extend(listQuery, { state: z.optional(z.enum(['open', 'queued', 'assigned', 'closed'])), client: z.optional(z.string()) });
const operatorsQuery = z.extend(listQuery, { status: z.optional(z.string()) });

function parse<T>(schema: z.ZodMiniType<T>, query: unknown): T {
  const r = schema.safeParse(query);
  if (!r.success) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: ${describeIssues(r.error.issues, query)}`);
  return r.data;
}

function limitOf(raw: string | undefined): number {
  const n = raw === undefined ? 100 : Number(raw);
  if (n < 1 || n > 1000) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at limit: expected 1..1000, found ${raw}`);
  return n;
}

/** `<connectorId>:<key>` → its parts (connector ids hold no colon). */
function splitId(id: string, what: string): [string, string] {
  const i = id.indexOf(':');
  if (i <= 0) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no ${what} ${id}; ids look like <connectorId>:<key>`);
  return [id.slice(0, i), id.slice(i + 1)];
}

/** Runs a filtered, rid-paged list query and answers `{ [name]: rows, next }`. */
function page(db: Db, table: string, where: string[], params: (string | number)[], after: string | undefined, limit: number): { rows: unknown[]; next: string | null } {
  const all = [...where];
  const p = [...params];
  if (after !== undefined) {
    all.push('rid > ?');
    p.push(Number(after));
  }
  p.push(limit);
  const rows = db.prepare<(string | number)[], { rid: number; body: string }>(`SELECT rid, body FROM ${table} ${all.length ? `WHERE ${all.join(' AND ')}` : ''} ORDER BY rid LIMIT ?`).all(...p);
  const last = rows[rows.length - 1];
  return { rows: rows.map((r) => JSON.parse(r.body) as unknown), next: rows.length === limit && last ? String(last.rid) : null };
}

export function createProjections(ctx: FeatureContext): Feature & { rebuild(): Promise<{ calls: number; conversations: number; operators: number }> } {
  let sql: ProjectionSql | undefined;
  ctx.store.addHook({
    open(db) {
      sql = new ProjectionSql(db);
    },
    afterInsert(_db, inserted: readonly InsertedEvent[]) {
      sql?.apply(inserted);
    },
  });
  const db = () => ctx.store.database;
  const policyOf = (connectorId: string) => {
    const c = ctx.connectors.get(connectorId);
    return { policy: c?.callRecords ?? 'all', language: c?.language ?? 'ru' };
  };

  return {
    name: 'projections',
    async rebuild() {
      if (!sql) throw new SwitchboardError('SB_ERR_STORE_CLOSED', 'the store is not open');
      const s = sql;
      return db().transaction(() => s.rebuild()).immediate();
    },
    routes(v1: V1Scope) {
      v1.get('/v1/calls', async (req) => {
        const q = parse(callsQuery, req.query);
        const where: string[] = [];
        const params: string[] = [];
        const add = (clause: string, v: string | undefined) => {
          if (v === undefined) return;
          where.push(clause);
          params.push(v);
        };
        add('platform = ?', q.platform);
        add('connector_id = ?', q.connector);
        add('outcome = ?', q.outcome);
        add('state = ?', q.state);
        add('started_at >= ?', q.from === undefined ? undefined : new Date(q.from).toISOString());
        add('started_at < ?', q.to === undefined ? undefined : new Date(q.to).toISOString());
        add("instr(parties, ' ' || ? || ' ') > 0", q.party);
        if (q.conversation !== undefined) {
          if (q.conversation.indexOf(':') <= 0) throw new ValidationError('SB_ERR_QUERY_INVALID', `invalid query: at conversation: expected a conversation id <connectorId>:<key> (the calls' "conversation"), found ${JSON.stringify(q.conversation)}`);
          const [connectorId, conversationId] = splitId(q.conversation, 'conversation');
          add('connector_id = ?', connectorId);
          add('conversation_id = ?', conversationId);
        }
        const r = page(db(), 'calls', where, params, q.after, limitOf(q.limit));
        return { calls: r.rows, next: r.next };
      });
      v1.get<{ Params: { id: string } }>('/v1/calls/:id', async (req) => {
        const [connectorId, callId] = splitId(req.params.id, 'call');
        const row = db().prepare<[string, string], { body: string }>('SELECT body FROM calls WHERE connector_id = ? AND call_id = ?').get(connectorId, callId);
        if (!row) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no call ${req.params.id}`);
        const events = parseEvents(db().prepare<[string, string], { body: string; seq: number }>('SELECT body, seq FROM events WHERE +connector_id = ? AND subject = ? ORDER BY seq').all(connectorId, `call/${callId}`));
        return { call: JSON.parse(row.body) as unknown, events };
      });
      v1.get('/v1/conversations', async (req) => {
        const q = parse(conversationsQuery, req.query);
        const where: string[] = [];
        const params: string[] = [];
        for (const [clause, v] of [
          ['platform = ?', q.platform],
          ['connector_id = ?', q.connector],
          ['state = ?', q.state],
          ['client_id = ?', q.client],
        ] as const) {
          if (v === undefined) continue;
          where.push(clause);
          params.push(v);
        }
        const r = page(db(), 'conversations', where, params, q.after, limitOf(q.limit));
        return { conversations: r.rows, next: r.next };
      });
      v1.get<{ Params: { id: string } }>('/v1/conversations/:id', async (req) => {
        const [connectorId, conversationId] = splitId(req.params.id, 'conversation');
        const row = db().prepare<[string, string], { body: string }>('SELECT body FROM conversations WHERE connector_id = ? AND conversation_id = ?').get(connectorId, conversationId);
        if (!row) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no conversation ${req.params.id}`);
        return JSON.parse(row.body) as unknown;
      });
      v1.get<{ Params: { id: string } }>('/v1/conversations/:id/timeline', async (req) => {
        const [connectorId, conversationId] = splitId(req.params.id, 'conversation');
        const exists = db().prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM conversations WHERE connector_id = ? AND conversation_id = ?').get(connectorId, conversationId);
        if (!exists?.n) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no conversation ${req.params.id}`);
        const own = parseEvents(db().prepare<[string, string], { body: string; seq: number }>('SELECT body, seq FROM events WHERE +connector_id = ? AND subject = ? ORDER BY seq').all(connectorId, `conversation/${conversationId}`));
        const callEvents = parseEvents(
          db()
            .prepare<[string, string], { body: string; seq: number }>(
              "SELECT e.body, e.seq FROM events e JOIN calls c ON +e.connector_id = c.connector_id AND e.subject = 'call/' || c.call_id WHERE c.connector_id = ? AND c.conversation_id = ? ORDER BY e.seq",
            )
            .all(connectorId, conversationId),
        );
        const { policy, language } = policyOf(connectorId);
        return { conversationId: req.params.id, callRecords: policy, language, entries: buildTimeline(connectorId, own, callEvents, policy, language) };
      });
      v1.get('/v1/operators', async (req) => {
        const q = parse(operatorsQuery, req.query);
        const where: string[] = [];
        const params: string[] = [];
        for (const [clause, v] of [
          ['platform = ?', q.platform],
          ['connector_id = ?', q.connector],
          ['status = ?', q.status],
        ] as const) {
          if (v === undefined) continue;
          where.push(clause);
          params.push(v);
        }
        const r = page(db(), 'operators', where, params, q.after, limitOf(q.limit));
        return { operators: r.rows, next: r.next };
      });
    },
  };
}
