/**
 * The SQLite backend's erasures (docs/privacy.md): a request is a row of `erasures`; each step is
 * one transaction in the writer — first the events that name the person, a range of sequences at a
 * time (with their outbox rows and attempts), then in one last transaction the quarantine, the
 * connector state and the projection rows that name them, and the record's end (its identifier
 * cleared). The row's phase and cursor make a step after a crash go on where the last one ended.
 */
import { countsOf, ERASURE_CHUNK, erasureRecord, mentions, NO_COUNTS, type ErasureCounts, type ErasureKind, type ErasureRecord, type ErasureRow, type ErasureStart } from '../erasure-plan.js';
import { HORIZON_KV } from '../retention-plan.js';
import { Prepared } from './prepared.js';

const IN = 'IN (SELECT value FROM json_each(?))';

export class SqliteErasures extends Prepared {
  start(s: ErasureStart): ErasureRecord {
    this.stmt(
      "INSERT INTO erasures (id, kind, term, requested_by, reason, requested_at, status, phase, cursor, counts) VALUES (?, ?, ?, ?, ?, ?, 'running', 'events', 0, ?)",
    ).run(s.id, s.kind, s.term, s.requestedBy, s.reason ?? null, s.requestedAt, JSON.stringify(NO_COUNTS));
    return this.get(s.id) as ErasureRecord;
  }

  private row(id: string): ErasureRow | undefined {
    return this.stmt<[string], ErasureRow>('SELECT * FROM erasures WHERE id = ?').get(id);
  }

  get(id: string): ErasureRecord | undefined {
    const r = this.row(id);
    return r && erasureRecord(r);
  }

  list(): ErasureRecord[] {
    return this.stmt<[], ErasureRow>('SELECT * FROM erasures ORDER BY requested_at DESC, id').all().map(erasureRecord);
  }

  /** Ids of the erasures not finished (a crash or a stop came first). */
  running(): string[] {
    return this.stmt<[], { id: string }>("SELECT id FROM erasures WHERE status = 'running' ORDER BY requested_at").all().map((r) => r.id);
  }

  /** One step, in one transaction; answers the record after it. */
  step(id: string, limit = ERASURE_CHUNK): ErasureRecord {
    return this.db.transaction(() => this.stepNow(id, limit)).immediate();
  }

  private stepNow(id: string, limit: number): ErasureRecord {
    const r = this.row(id);
    if (!r) throw new Error(`no erasure ${id}`);
    if (r.status === 'done' || r.term === null) return erasureRecord(r);
    const counts: ErasureCounts = countsOf(r);
    const named = mentions(r.kind as ErasureKind, r.term);
    if (r.phase === 'events') {
      const last = this.stmt<[], { m: number | null }>('SELECT max(seq) AS m FROM events').get()?.m ?? 0;
      const cursor = Number(r.cursor);
      const until = Math.min(cursor + limit, last);
      const hits = this.stmt<[number, number, string], { seq: number; body: string }>('SELECT seq, body FROM events WHERE seq > ? AND seq <= ? AND instr(body, ?) > 0').all(cursor, until, r.term).filter((e) => named(e.body));
      if (hits.length > 0) {
        const list = JSON.stringify(hits.map((e) => e.seq));
        this.stmt<[string]>(`DELETE FROM delivery_attempts WHERE did IN (SELECT did FROM delivery_outbox WHERE seq ${IN})`).run(list);
        counts.deliveries += this.stmt<[string]>(`DELETE FROM delivery_outbox WHERE seq ${IN}`).run(list).changes;
        counts.events += this.stmt<[string]>(`DELETE FROM events WHERE seq ${IN}`).run(list).changes;
      }
      const done = until >= last;
      this.stmt<[string, number, string, string]>('UPDATE erasures SET phase = ?, cursor = ?, counts = ? WHERE id = ?').run(done ? 'rest' : 'events', until, JSON.stringify(counts), id);
      return erasureRecord(this.row(id) as ErasureRow);
    }
    // The rest, at once: smaller tables, read through once.
    const like = r.term;
    for (const q of this.stmt<[string], { qid: number; raw: string; raw_encoding: string | null }>("SELECT qid, raw, raw_encoding FROM quarantine WHERE instr(raw, ?) > 0 OR raw_encoding = 'base64'").all(like)) {
      const text = q.raw_encoding === 'base64' ? Buffer.from(q.raw, 'base64').toString('latin1') : q.raw;
      if (named(text)) counts.quarantine += this.stmt<[number]>('DELETE FROM quarantine WHERE qid = ?').run(q.qid).changes;
    }
    for (const k of this.stmt<[string, string], { connector_id: string; namespace: string; key: string; value: string }>('SELECT connector_id, namespace, key, value FROM connector_kv WHERE instr(key, ?) > 0 OR instr(value, ?) > 0').all(like, like)) {
      if (k.connector_id === HORIZON_KV.connectorId && k.namespace === HORIZON_KV.namespace) continue;
      if (named(k.key) || named(k.value)) counts.kv += this.stmt<[string, string, string]>('DELETE FROM connector_kv WHERE connector_id = ? AND namespace = ? AND key = ?').run(k.connector_id, k.namespace, k.key).changes;
    }
    for (const c of this.stmt<[string, string, string], { rid: number; connector_id: string; call_id: string; body: string; parties: string; fold: string | null }>('SELECT rowid AS rid, connector_id, call_id, body, parties, fold FROM calls WHERE instr(body, ?) > 0 OR instr(parties, ?) > 0 OR instr(fold, ?) > 0').all(like, like, like)) {
      if (!named(c.body) && !named(c.parties) && !named(c.fold)) continue;
      counts.projections += this.stmt<[number]>('DELETE FROM calls WHERE rowid = ?').run(c.rid).changes;
      this.stmt<[string, string]>("DELETE FROM projection_pending WHERE connector_id = ? AND kind = 'call' AND entity = ?").run(c.connector_id, c.call_id);
    }
    for (const c of this.stmt<[string, string, string], { connector_id: string; conversation_id: string; body: string; fold: string | null }>(
      'SELECT c.connector_id, c.conversation_id, c.body, c.fold FROM conversations c WHERE instr(c.body, ?) > 0 OR instr(c.fold, ?) > 0 OR instr(c.conversation_id, ?) > 0',
    ).all(like, like, like)) {
      if (!named(c.body) && !named(c.fold) && !named(c.conversation_id)) continue;
      counts.projections += this.stmt<[string, string]>('DELETE FROM conversations WHERE connector_id = ? AND conversation_id = ?').run(c.connector_id, c.conversation_id).changes;
      this.stmt<[string, string]>('DELETE FROM conversation_counts WHERE connector_id = ? AND conversation_id = ?').run(c.connector_id, c.conversation_id);
    }
    for (const c of this.stmt<[string, string], { connector_id: string; conversation_id: string; client: string | null }>('SELECT connector_id, conversation_id, client FROM conversation_counts WHERE instr(client, ?) > 0 OR instr(conversation_id, ?) > 0').all(like, like)) {
      if (named(c.client) || named(c.conversation_id)) this.stmt<[string, string]>('DELETE FROM conversation_counts WHERE connector_id = ? AND conversation_id = ?').run(c.connector_id, c.conversation_id);
    }
    for (const o of this.stmt<[string, string], { rid: number; body: string; fold: string | null }>('SELECT rowid AS rid, body, fold FROM operators WHERE instr(body, ?) > 0 OR instr(fold, ?) > 0').all(like, like)) {
      if (named(o.body) || named(o.fold)) counts.projections += this.stmt<[number]>('DELETE FROM operators WHERE rowid = ?').run(o.rid).changes;
    }
    for (const p of this.stmt<[string], { connector_id: string; kind: string; entity: string }>('SELECT connector_id, kind, entity FROM projection_pending WHERE instr(entity, ?) > 0').all(like)) {
      if (named(p.entity)) this.stmt<[string, string, string]>('DELETE FROM projection_pending WHERE connector_id = ? AND kind = ? AND entity = ?').run(p.connector_id, p.kind, p.entity);
    }
    this.stmt<[string, string, string]>("UPDATE erasures SET term = NULL, phase = 'done', status = 'done', finished_at = ?, counts = ? WHERE id = ?").run(new Date().toISOString(), JSON.stringify(counts), id);
    return erasureRecord(this.row(id) as ErasureRow);
  }
}
