/**
 * The PostgreSQL backend's retention (docs/privacy.md), as `sqlite/retention.ts`: one chunk of a
 * pass per transaction (under the sequence lock, as every change of projections) — events past
 * their window go with their outbox rows and the projection rows of the entities whose last event
 * went; quarantine entries past theirs go too.
 */
import type pg from 'pg';
import { chunkOf, concernedBy, HORIZON_KV, lastSeqBefore, splitEntity, type ExpiredScan, type ExpireRequest, type ExpireResult } from '../retention-plan.js';
import { withSequence, type ConnectorChoice } from '../types.js';
import { REMOVED_BEFORE_DELIVERY } from '../rows.js';
import type { Queryable } from './queryable.js';

/** One chunk of a pass over the events, in the caller's transaction (which holds the sequence lock). */
async function scan(q: Queryable, req: ExpireRequest): Promise<{ seqs: readonly number[]; scanned: number; lastSeq: number; done: boolean }> {
  if (req.seqs) return { seqs: req.seqs, scanned: 0, lastSeq: req.after, done: false };
  const { type, connectorId, exceptTypes, exceptConnectors } = req.stream;
  const where: string[] = [];
  const values: unknown[] = [];
  const and = (clause: string, value: unknown) => {
    values.push(value);
    where.push(clause.replace('?', `$${values.length}`));
  };
  and('seq > ?', req.after);
  and('seq <= ?', req.untilSeq);
  and('received_at < ?', req.before);
  if (type !== undefined) and('type = ?', type);
  if (connectorId !== undefined) and('connector_id = ?', connectorId);
  if (exceptTypes?.length) and('NOT (type = ANY(?::text[]))', exceptTypes);
  if (exceptConnectors?.length) and('NOT (connector_id = ANY(?::text[]))', exceptConnectors);
  values.push(req.limit);
  const seqs = (await q.query<{ seq: string }>(`SELECT seq FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${values.length}`, values)).rows.map((r) => Number(r.seq));
  return { ...chunkOf(req, seqs), scanned: seqs.length };
}

/** The greatest sequence of an event received before `before`, by bisection on sequences (`retention-plan.ts`). */
export async function lastEventBefore(q: Queryable, before: string): Promise<number> {
  const max = Number((await q.query<{ m: string | null }>('SELECT max(seq) AS m FROM events')).rows[0]?.m ?? 0);
  return lastSeqBefore(max, before, async (seq) => {
    const r = (await q.query<{ seq: string; at: string }>('SELECT seq, received_at AS at FROM events WHERE seq >= $1 ORDER BY seq LIMIT 1', [seq])).rows[0];
    return r && { seq: Number(r.seq), at: r.at };
  });
}

/** The chunk's events past their window, read (an archive is written before `expireEvents` with their `seqs`). */
export async function scanExpired(q: Queryable, req: ExpireRequest): Promise<ExpiredScan> {
  const { seqs, scanned, lastSeq, done } = await scan(q, { ...req, seqs: undefined });
  const events = seqs.length === 0 ? [] : (await q.query<{ seq: string; receivedAt: string; body: string }>('SELECT seq, received_at AS "receivedAt", body FROM events WHERE seq = ANY($1::bigint[]) ORDER BY seq', [seqs])).rows;
  return { events: events.map((e) => ({ seq: Number(e.seq), receivedAt: e.receivedAt, json: withSequence(e.body, Number(e.seq)) })), scanned, lastSeq, done };
}

export async function expireEvents(c: pg.PoolClient, req: ExpireRequest): Promise<ExpireResult> {
  const { seqs, scanned, lastSeq, done } = await scan(c, req);
  const result = { scanned, removed: 0, lastSeq, done, undelivered: 0, projections: 0 };
  if (seqs.length === 0) return result;
  const removed = (await c.query<{ connectorId: string; subject: string; body: string }>('SELECT connector_id AS "connectorId", subject, body FROM events WHERE seq = ANY($1::bigint[])', [seqs])).rows;
  // Deliveries: what was sent (or given up) goes with its attempts; what was still to send is
  // marked failed, so that it shows in the subscription's deliveries.
  await c.query("DELETE FROM delivery_attempts WHERE did IN (SELECT did FROM delivery_outbox WHERE status <> 'pending' AND seq = ANY($1::bigint[]))", [seqs]);
  await c.query("DELETE FROM delivery_outbox WHERE status <> 'pending' AND seq = ANY($1::bigint[])", [seqs]);
  const now = new Date(req.now).toISOString();
  result.undelivered =
    (await c.query("UPDATE delivery_outbox SET status = 'failed', last_error = $1, updated_at = $2, claimed_by = NULL, claim_until = NULL WHERE status = 'pending' AND seq = ANY($3::bigint[])", [REMOVED_BEFORE_DELIVERY, now, seqs]))
      .rowCount ?? 0;
  result.removed = (await c.query('DELETE FROM events WHERE seq = ANY($1::bigint[])', [seqs])).rowCount ?? 0;
  result.projections = await dropOrphans(c, removed);
  await c.query(
    `INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (connector_id, namespace, key) DO UPDATE SET value = GREATEST(connector_kv.value::bigint, excluded.value::bigint)::text, updated_at = excluded.updated_at`,
    [HORIZON_KV.connectorId, HORIZON_KV.namespace, HORIZON_KV.key, String(Math.max(...seqs)), now],
  );
  return result;
}

/**
 * Removes the rows of the entities these removed events concern that have no event left: a call
 * or operator without events under its subject; then a conversation with neither events under its
 * subject nor a call that names it. Answers how many rows went.
 */
async function dropOrphans(c: pg.PoolClient, removed: readonly { connectorId: string; subject: string; body: string }[]): Promise<number> {
  const con = concernedBy(removed);
  const left = async (connectorId: string, subject: string) => (await c.query('SELECT 1 FROM events WHERE subject = $1 AND connector_id = $2 LIMIT 1', [subject, connectorId])).rows.length > 0;
  let n = 0;
  for (const key of con.calls) {
    const [connectorId, id] = splitEntity(key);
    if (await left(connectorId, `call/${id}`)) continue;
    const gone = (await c.query<{ conversation_id: string | null }>('DELETE FROM calls WHERE connector_id = $1 AND call_id = $2 RETURNING conversation_id', [connectorId, id])).rows[0];
    await c.query("DELETE FROM projection_pending WHERE connector_id = $1 AND kind = 'call' AND entity = $2", [connectorId, id]);
    if (gone) n++;
    if (gone?.conversation_id) con.conversations.add(`${connectorId}\u0000${gone.conversation_id}`);
  }
  for (const key of con.conversations) {
    const [connectorId, id] = splitEntity(key);
    if (await left(connectorId, `conversation/${id}`)) continue;
    if ((await c.query('SELECT 1 FROM calls WHERE connector_id = $1 AND conversation_id = $2 LIMIT 1', [connectorId, id])).rows.length > 0) continue;
    n += (await c.query('DELETE FROM conversations WHERE connector_id = $1 AND conversation_id = $2', [connectorId, id])).rowCount ?? 0;
    await c.query('DELETE FROM conversation_counts WHERE connector_id = $1 AND conversation_id = $2', [connectorId, id]);
    await c.query("DELETE FROM projection_pending WHERE connector_id = $1 AND kind = 'conversation' AND entity = $2", [connectorId, id]);
  }
  for (const key of con.operators) {
    const [connectorId, id] = splitEntity(key);
    if (await left(connectorId, `operator/${id}`)) continue;
    n += (await c.query('DELETE FROM operators WHERE connector_id = $1 AND operator_id = $2', [connectorId, id])).rowCount ?? 0;
    await c.query("DELETE FROM projection_pending WHERE connector_id = $1 AND kind = 'operator' AND entity = $2", [connectorId, id]);
  }
  return n;
}

/** Removes up to `limit` quarantine entries received before `before` (ISO time); answers how many. */
export async function expireQuarantine(q: Queryable, before: string, limit: number): Promise<number> {
  return (await q.query('DELETE FROM quarantine WHERE qid IN (SELECT qid FROM quarantine WHERE received_at < $1 ORDER BY qid LIMIT $2)', [before, limit])).rowCount ?? 0;
}

/** Removes up to `limit` state entries of a connector written before `before` (ISO time); answers how many. */
export async function expireConnectorState(q: Queryable, which: ConnectorChoice, before: string, limit: number): Promise<number> {
  const [where, arg] = 'connectorId' in which ? ['connector_id = $2', which.connectorId] : ['connector_id <> ALL($2::text[])', [...which.except]];
  const removed = await q.query(
    `DELETE FROM connector_kv WHERE (connector_id, namespace, key) IN (SELECT connector_id, namespace, key FROM connector_kv WHERE connector_id <> $1 AND ${where} AND updated_at < $3 LIMIT $4)`,
    [HORIZON_KV.connectorId, arg, before, limit],
  );
  return removed.rowCount ?? 0;
}

/** The greatest sequence retention removed; 0 when none. */
export async function retentionHorizon(q: Queryable): Promise<number> {
  const [row] = (await q.query<{ value: string }>('SELECT value FROM connector_kv WHERE connector_id = $1 AND namespace = $2 AND key = $3', [HORIZON_KV.connectorId, HORIZON_KV.namespace, HORIZON_KV.key])).rows;
  return row ? Number(row.value) : 0;
}
