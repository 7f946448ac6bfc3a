/**
 * The PostgreSQL backend's erasures (docs/privacy.md), as `sqlite/erasure.ts`: each step is one
 * transaction (under the sequence lock, as every change of projections) — first the events that
 * name the person, a range of sequences at a time, with their outbox rows and attempts; then the
 * quarantine, the connector state and the projection rows that name them, and the record's end.
 */
import type pg from 'pg';
import { countsOf, ERASURE_CHUNK, erasureRecord, mentions, NO_COUNTS, type ErasureCounts, type ErasureKind, type ErasureRecord, type ErasureRow, type ErasureStart } from '../erasure-plan.js';
import { HORIZON_KV } from '../retention-plan.js';
import type { Queryable } from './queryable.js';

async function row(q: Queryable, id: string): Promise<ErasureRow | undefined> {
  return (await q.query<ErasureRow>('SELECT * FROM erasures WHERE id = $1', [id])).rows[0];
}

export async function startErasure(q: Queryable, s: ErasureStart): Promise<ErasureRecord> {
  await q.query(
    "INSERT INTO erasures (id, kind, term, requested_by, reason, requested_at, status, phase, cursor, counts) VALUES ($1, $2, $3, $4, $5, $6, 'running', 'events', 0, $7)",
    [s.id, s.kind, s.term, s.requestedBy, s.reason ?? null, s.requestedAt, JSON.stringify(NO_COUNTS)],
  );
  return erasureRecord((await row(q, s.id)) as ErasureRow);
}

export async function getErasure(q: Queryable, id: string): Promise<ErasureRecord | undefined> {
  const r = await row(q, id);
  return r && erasureRecord(r);
}

export async function listErasures(q: Queryable): Promise<ErasureRecord[]> {
  return (await q.query<ErasureRow>('SELECT * FROM erasures ORDER BY requested_at DESC, id')).rows.map(erasureRecord);
}

export async function runningErasures(q: Queryable): Promise<string[]> {
  return (await q.query<{ id: string }>("SELECT id FROM erasures WHERE status = 'running' ORDER BY requested_at")).rows.map((r) => r.id);
}

/** The LISTEN/NOTIFY channel on which an erasure step that removed events tells every instance (their live windows may hold them). */
export const REMOVED_CHANNEL = 'switchboard_removed';

/** One step in the caller's transaction (which holds the sequence lock); answers the record after it. */
export async function erasureStep(c: pg.PoolClient, id: string, limit = ERASURE_CHUNK): Promise<ErasureRecord> {
  const r = (await c.query<ErasureRow>('SELECT * FROM erasures WHERE id = $1 FOR UPDATE', [id])).rows[0];
  if (!r) throw new Error(`no erasure ${id}`);
  if (r.status === 'done' || r.term === null) return erasureRecord(r);
  const term = r.term;
  const counts: ErasureCounts = countsOf(r);
  const named = mentions(r.kind as ErasureKind, term);
  const count = async (text: string, values: unknown[]) => (await c.query(text, values)).rowCount ?? 0;
  if (r.phase === 'events') {
    const cursor = Number(r.cursor);
    const last = Number((await c.query<{ m: string | null }>('SELECT max(seq) AS m FROM events')).rows[0]?.m ?? 0);
    const until = Math.min(cursor + limit, last);
    const hits = (await c.query<{ seq: string; body: string }>('SELECT seq, body FROM events WHERE seq > $1 AND seq <= $2 AND strpos(body, $3) > 0', [cursor, until, term])).rows.filter((e) => named(e.body));
    if (hits.length > 0) {
      const seqs = hits.map((e) => Number(e.seq));
      await c.query('DELETE FROM delivery_attempts WHERE did IN (SELECT did FROM delivery_outbox WHERE seq = ANY($1::bigint[]))', [seqs]);
      counts.deliveries += await count('DELETE FROM delivery_outbox WHERE seq = ANY($1::bigint[])', [seqs]);
      counts.events += await count('DELETE FROM events WHERE seq = ANY($1::bigint[])', [seqs]);
      await c.query('SELECT pg_notify($1, $2)', [REMOVED_CHANNEL, id]);
    }
    await c.query('UPDATE erasures SET phase = $1, cursor = $2, counts = $3 WHERE id = $4', [until >= last ? 'rest' : 'events', until, JSON.stringify(counts), id]);
    return erasureRecord((await row(c, id)) as ErasureRow);
  }
  // The rest, at once: smaller tables, read through once.
  for (const q of (await c.query<{ qid: string; raw: Buffer; raw_encoding: string | null }>("SELECT qid, raw, raw_encoding FROM quarantine WHERE position(convert_to($1, 'UTF8') in raw) > 0 OR raw_encoding = 'base64'", [term])).rows) {
    const utf8 = q.raw.toString('utf8');
    const text = q.raw_encoding === 'base64' ? Buffer.from(utf8, 'base64').toString('latin1') : utf8;
    if (named(text)) counts.quarantine += await count('DELETE FROM quarantine WHERE qid = $1', [q.qid]);
  }
  for (const k of (await c.query<{ connector_id: string; namespace: string; key: string; value: string }>('SELECT connector_id, namespace, key, value FROM connector_kv WHERE strpos(key, $1) > 0 OR strpos(value, $1) > 0', [term])).rows) {
    if (k.connector_id === HORIZON_KV.connectorId && k.namespace === HORIZON_KV.namespace) continue;
    if (named(k.key) || named(k.value)) counts.kv += await count('DELETE FROM connector_kv WHERE connector_id = $1 AND namespace = $2 AND key = $3', [k.connector_id, k.namespace, k.key]);
  }
  for (const x of (await c.query<{ rid: string; connector_id: string; call_id: string; body: string; parties: string; fold: string | null }>('SELECT rid, connector_id, call_id, body, parties, fold FROM calls WHERE strpos(body, $1) > 0 OR strpos(parties, $1) > 0 OR strpos(fold, $1) > 0', [term])).rows) {
    if (!named(x.body) && !named(x.parties) && !named(x.fold)) continue;
    counts.projections += await count('DELETE FROM calls WHERE rid = $1', [x.rid]);
    await c.query("DELETE FROM projection_pending WHERE connector_id = $1 AND kind = 'call' AND entity = $2", [x.connector_id, x.call_id]);
  }
  for (const x of (await c.query<{ connector_id: string; conversation_id: string; body: string; fold: string | null }>('SELECT connector_id, conversation_id, body, fold FROM conversations WHERE strpos(body, $1) > 0 OR strpos(fold, $1) > 0 OR strpos(conversation_id, $1) > 0', [term])).rows) {
    if (!named(x.body) && !named(x.fold) && !named(x.conversation_id)) continue;
    counts.projections += await count('DELETE FROM conversations WHERE connector_id = $1 AND conversation_id = $2', [x.connector_id, x.conversation_id]);
    await c.query('DELETE FROM conversation_counts WHERE connector_id = $1 AND conversation_id = $2', [x.connector_id, x.conversation_id]);
  }
  for (const x of (await c.query<{ connector_id: string; conversation_id: string; client: string | null }>('SELECT connector_id, conversation_id, client FROM conversation_counts WHERE strpos(client, $1) > 0 OR strpos(conversation_id, $1) > 0', [term])).rows) {
    if (named(x.client) || named(x.conversation_id)) await c.query('DELETE FROM conversation_counts WHERE connector_id = $1 AND conversation_id = $2', [x.connector_id, x.conversation_id]);
  }
  for (const x of (await c.query<{ rid: string; body: string; fold: string | null }>('SELECT rid, body, fold FROM operators WHERE strpos(body, $1) > 0 OR strpos(fold, $1) > 0', [term])).rows) {
    if (named(x.body) || named(x.fold)) counts.projections += await count('DELETE FROM operators WHERE rid = $1', [x.rid]);
  }
  for (const p of (await c.query<{ connector_id: string; kind: string; entity: string }>('SELECT connector_id, kind, entity FROM projection_pending WHERE strpos(entity, $1) > 0', [term])).rows) {
    if (named(p.entity)) await c.query('DELETE FROM projection_pending WHERE connector_id = $1 AND kind = $2 AND entity = $3', [p.connector_id, p.kind, p.entity]);
  }
  await c.query("UPDATE erasures SET term = NULL, phase = 'done', status = 'done', finished_at = $1, counts = $2 WHERE id = $3", [new Date().toISOString(), JSON.stringify(counts), id]);
  return erasureRecord((await row(c, id)) as ErasureRow);
}
