/**
 * The SQLite backend's retention (docs/privacy.md): one chunk of a pass per transaction, in the
 * writer — events past their window go with their outbox rows, and the projection rows of the
 * entities whose last event went; quarantine entries past theirs go too. What is past its window
 * is decided by the shared `retention-plan.ts`.
 */
import { REMOVED_BEFORE_DELIVERY } from '../rows.js';
import { Prepared } from './prepared.js';
import { chunkOf, concernedBy, HORIZON_KV, lastSeqBefore, splitEntity, type ExpiredScan, type ExpireRequest, type ExpireResult } from '../retention-plan.js';
import { withSequence, type ConnectorChoice } from '../types.js';

export class SqliteRetention extends Prepared {
  /** One chunk of a pass over the events, in one transaction. */
  expireEvents(req: ExpireRequest): ExpireResult {
    return this.db.transaction(() => this.expireNow(req)).immediate();
  }

  /** The chunk: the stream's next events, each past its window (through the type or connector index when it names one). */
  private scan(req: ExpireRequest): { seqs: readonly number[]; scanned: number; lastSeq: number; done: boolean } {
    if (req.seqs) return { seqs: req.seqs, scanned: 0, lastSeq: req.after, done: false };
    const { type, connectorId, exceptTypes, exceptConnectors } = req.stream;
    const where: string[] = [];
    const args: (string | number)[] = [];
    const and = (clause: string, value: string | number) => {
      where.push(clause);
      args.push(value);
    };
    and('seq > ?', req.after);
    and('seq <= ?', req.untilSeq);
    and('received_at < ?', req.before);
    if (type !== undefined) and('type = ?', type);
    if (connectorId !== undefined) and('connector_id = ?', connectorId);
    if (exceptTypes?.length) and('type NOT IN (SELECT value FROM json_each(?))', JSON.stringify(exceptTypes));
    if (exceptConnectors?.length) and('connector_id NOT IN (SELECT value FROM json_each(?))', JSON.stringify(exceptConnectors));
    args.push(req.limit);
    const seqs = this.stmt<(string | number)[], { seq: number }>(`SELECT seq FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`)
      .all(...args)
      .map((r) => r.seq);
    return { ...chunkOf(req, seqs), scanned: seqs.length };
  }

  /** The greatest sequence of an event received before `before`, by bisection on sequences (events are committed in receipt order). */
  lastSeqBefore(before: string): Promise<number> {
    const first = this.stmt<[number], { seq: number; at: string }>('SELECT seq, received_at AS at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1');
    const max = this.stmt<[], { m: number | null }>('SELECT max(seq) AS m FROM events').get()?.m ?? 0;
    return lastSeqBefore(max, before, async (seq) => first.get(seq));
  }

  /** The chunk's events past their window, read (an archive is written before `expireEvents` with their `seqs`). */
  scanExpired(req: ExpireRequest): ExpiredScan {
    const { seqs, scanned, lastSeq, done } = this.scan({ ...req, seqs: undefined });
    const events = seqs.length === 0 ? [] : this.stmt<[string], { seq: number; receivedAt: string; body: string }>(`SELECT seq, received_at AS receivedAt, body FROM events WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`).all(JSON.stringify(seqs));
    return { events: events.map((e) => ({ seq: e.seq, receivedAt: e.receivedAt, json: withSequence(e.body, e.seq) })), scanned, lastSeq, done };
  }

  private expireNow(req: ExpireRequest): ExpireResult {
    const { seqs, scanned, lastSeq, done } = this.scan(req);
    const result = { scanned, removed: 0, lastSeq, done, undelivered: 0, projections: 0 };
    if (seqs.length === 0) return result;
    const list = JSON.stringify(seqs);
    const IN = 'IN (SELECT value FROM json_each(?))';
    const removed = this.stmt<[string], { connectorId: string; subject: string; body: string }>(`SELECT connector_id AS connectorId, subject, body FROM events WHERE seq ${IN}`).all(list);
    // Deliveries: what was sent (or given up) goes with its attempts; what was still to send is
    // marked failed, so that it shows in the subscription's deliveries.
    this.stmt<[string]>(`DELETE FROM delivery_attempts WHERE did IN (SELECT did FROM delivery_outbox WHERE status <> 'pending' AND seq ${IN})`).run(list);
    this.stmt<[string]>(`DELETE FROM delivery_outbox WHERE status <> 'pending' AND seq ${IN}`).run(list);
    const now = new Date(req.now).toISOString();
    result.undelivered = this.stmt<[string, string, string]>(`UPDATE delivery_outbox SET status = 'failed', last_error = ?, updated_at = ? WHERE status = 'pending' AND seq ${IN}`).run(REMOVED_BEFORE_DELIVERY, now, list).changes;
    result.removed = this.stmt<[string]>(`DELETE FROM events WHERE seq ${IN}`).run(list).changes;
    result.projections = this.dropOrphans(removed);
    const horizon = Math.max(this.horizon(), ...seqs);
    this.stmt<[string, string, string, string, string]>(
      'INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (connector_id, namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ).run(HORIZON_KV.connectorId, HORIZON_KV.namespace, HORIZON_KV.key, String(horizon), now);
    return result;
  }

  /**
   * Removes the rows of the entities these removed events concern that have no event left: a
   * call or operator without events under its subject; then a conversation with neither events
   * under its subject nor a call that names it. Answers how many rows went.
   */
  private dropOrphans(removed: readonly { connectorId: string; subject: string; body: string }[]): number {
    const c = concernedBy(removed);
    const left = this.stmt<[string, string], { x: number }>('SELECT 1 AS x FROM events WHERE subject = ? AND +connector_id = ? LIMIT 1');
    let n = 0;
    for (const key of c.calls) {
      const [connectorId, id] = splitEntity(key);
      if (left.get(`call/${id}`, connectorId)) continue;
      const gone = this.stmt<[string, string], { conversation_id: string | null }>('DELETE FROM calls WHERE connector_id = ? AND call_id = ? RETURNING conversation_id').get(connectorId, id);
      this.stmt<[string, string]>("DELETE FROM projection_pending WHERE connector_id = ? AND kind = 'call' AND entity = ?").run(connectorId, id);
      if (gone) n++;
      if (gone?.conversation_id) c.conversations.add(`${connectorId}\u0000${gone.conversation_id}`);
    }
    for (const key of c.conversations) {
      const [connectorId, id] = splitEntity(key);
      if (left.get(`conversation/${id}`, connectorId)) continue;
      if (this.stmt<[string, string], { x: number }>('SELECT 1 AS x FROM calls WHERE connector_id = ? AND conversation_id = ? LIMIT 1').get(connectorId, id)) continue;
      n += this.stmt<[string, string]>('DELETE FROM conversations WHERE connector_id = ? AND conversation_id = ?').run(connectorId, id).changes;
      this.stmt<[string, string]>('DELETE FROM conversation_counts WHERE connector_id = ? AND conversation_id = ?').run(connectorId, id);
      this.stmt<[string, string]>("DELETE FROM projection_pending WHERE connector_id = ? AND kind = 'conversation' AND entity = ?").run(connectorId, id);
    }
    for (const key of c.operators) {
      const [connectorId, id] = splitEntity(key);
      if (left.get(`operator/${id}`, connectorId)) continue;
      n += this.stmt<[string, string]>('DELETE FROM operators WHERE connector_id = ? AND operator_id = ?').run(connectorId, id).changes;
      this.stmt<[string, string]>("DELETE FROM projection_pending WHERE connector_id = ? AND kind = 'operator' AND entity = ?").run(connectorId, id);
    }
    return n;
  }

  /** Removes up to `limit` quarantine entries received before `before` (ISO time); answers how many. */
  expireQuarantine(before: string, limit: number): number {
    return this.stmt<[string, number]>('DELETE FROM quarantine WHERE qid IN (SELECT qid FROM quarantine WHERE received_at < ? ORDER BY qid LIMIT ?)').run(before, limit).changes;
  }

  /** Removes up to `limit` state entries of a connector written before `before` (ISO time); answers how many. */
  expireConnectorState(which: ConnectorChoice, before: string, limit: number): number {
    const [where, arg] = 'connectorId' in which ? ['connector_id = ?', which.connectorId] : ['connector_id NOT IN (SELECT value FROM json_each(?))', JSON.stringify(which.except)];
    return this.stmt<[string, string, string, number]>(
      `DELETE FROM connector_kv WHERE rowid IN (SELECT rowid FROM connector_kv WHERE connector_id <> ? AND ${where} AND updated_at < ? LIMIT ?)`,
    ).run(HORIZON_KV.connectorId, arg, before, limit).changes;
  }

  /** The greatest sequence retention removed; 0 when none. */
  horizon(): number {
    const row = this.stmt<[string, string, string], { value: string }>('SELECT value FROM connector_kv WHERE connector_id = ? AND namespace = ? AND key = ?').get(HORIZON_KV.connectorId, HORIZON_KV.namespace, HORIZON_KV.key);
    return row ? Number(row.value) : 0;
  }
}
