/**
 * The SQLite delivery tables (migrations/sqlite/004_delivery.sql) and the in-memory copy of the
 * subscriptions that the commit matches events against. Every change to a subscription goes
 * through here, so that the copy and the table never differ: better-sqlite3 is synchronous, and a
 * change cannot interleave with a commit transaction.
 */
import type Database from 'better-sqlite3';
import type { SwitchboardEvent } from '../../../core/index.js';
import {
  filtersMatcher,
  type AttemptRecord,
  type AttemptRow,
  type DeliveryListQuery,
  type DeliveryStatus,
  type Matcher,
  type OutboxRow,
  type ReplayRange,
  type StoredSecret,
  type Subscription,
  type SubscriptionInput,
} from '../../delivery/types.js';
import { FailureStreaks, toSubscription, type SubscriptionRow } from '../rows.js';
import type { DeliveryStore } from '../types.js';
import type { InsertedEvent } from './inserted.js';
import { filters } from './where.js';

function statements(db: Database.Database) {
  return {
      allSubs: db.prepare<[], SubscriptionRow>('SELECT * FROM subscriptions ORDER BY created_at, id'),
      getSub: db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE id = ?'),
      insertSub: db.prepare<[string, string, string, string, string, number, string, string | null, number, string | null, string | null, string, string]>(
        'INSERT INTO subscriptions (id, origin, url, filters, mode, ordered, secrets, description, enabled, disabled_reason, disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateSub: db.prepare<[string, string, string, string, number, string, string | null, string, string]>(
        'UPDATE subscriptions SET origin = ?, url = ?, filters = ?, mode = ?, ordered = ?, secrets = ?, description = ?, updated_at = ? WHERE id = ?',
      ),
      setEnabled: db.prepare<[number, string | null, string | null, string, string]>(
        'UPDATE subscriptions SET enabled = ?, disabled_reason = ?, disabled_at = ?, failing_since = NULL, updated_at = ? WHERE id = ?',
      ),
      setFailing: db.prepare<[string | null, string]>('UPDATE subscriptions SET failing_since = ? WHERE id = ?'),
      setSecrets: db.prepare<[string, string, string]>('UPDATE subscriptions SET secrets = ?, updated_at = ? WHERE id = ?'),
      deleteSub: db.prepare<[string]>('DELETE FROM subscriptions WHERE id = ?'),
      deleteOutbox: db.prepare<[string]>('DELETE FROM delivery_outbox WHERE subscription_id = ?'),
      deleteAttempts: db.prepare<[string]>('DELETE FROM delivery_attempts WHERE subscription_id = ?'),
      enqueue: db.prepare<[string, number, string, string, number, string, string]>(
        "INSERT OR IGNORE INTO delivery_outbox (subscription_id, seq, event_id, subject, status, next_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
      ),
      // SET expressions read the row as it was: a pending row keeps its attempts and round.
      retryNow: db.prepare<[number, string, number, string], OutboxRow>(
        `UPDATE delivery_outbox SET status = 'pending', next_at = ?, updated_at = ?,
           attempts = CASE WHEN status = 'pending' THEN attempts ELSE 0 END,
           rounds = CASE WHEN status = 'pending' THEN rounds ELSE rounds + 1 END,
           delivered_at = CASE WHEN status = 'pending' THEN delivered_at ELSE NULL END
         WHERE did = ? AND subscription_id = ? RETURNING *`,
      ),
      requeue: db.prepare<[number, string, string, number]>(
        "UPDATE delivery_outbox SET status = 'pending', attempts = 0, rounds = rounds + 1, next_at = ?, updated_at = ?, delivered_at = NULL WHERE subscription_id = ? AND seq = ? AND status <> 'pending'",
      ),
      restartPending: db.prepare<[number, string, string]>("UPDATE delivery_outbox SET attempts = 0, next_at = ?, updated_at = ? WHERE subscription_id = ? AND status = 'pending'"),
      due: db.prepare<[string, number, number], OutboxRow>("SELECT * FROM delivery_outbox WHERE subscription_id = ? AND status = 'pending' AND next_at <= ? ORDER BY next_at, seq LIMIT ?"),
      dueOrdered: db.prepare<[string, number, number], OutboxRow>(
        `SELECT o.* FROM delivery_outbox o WHERE o.subscription_id = ? AND o.status = 'pending' AND o.next_at <= ?
           AND NOT EXISTS (SELECT 1 FROM delivery_outbox p WHERE p.subscription_id = o.subscription_id AND p.subject = o.subject AND p.status = 'pending' AND p.seq < o.seq)
         ORDER BY o.seq LIMIT ?`,
      ),
      nextDue: db.prepare<[number], { t: number | null }>(
        "SELECT min(o.next_at) AS t FROM delivery_outbox o JOIN subscriptions s ON s.id = o.subscription_id WHERE o.status = 'pending' AND o.next_at > ? AND s.enabled = 1",
      ),
      eventBody: db.prepare<[number], { body: string }>('SELECT body FROM events WHERE seq = ?'),
      getRow: db.prepare<[number], OutboxRow>('SELECT * FROM delivery_outbox WHERE did = ?'),
      insertAttempt: db.prepare<[number, string, number, number, string, number, number | null, string | null, string]>(
        'INSERT INTO delivery_attempts (did, subscription_id, round, attempt, started_at, duration_ms, status, error, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      markDelivered: db.prepare<[number, number | null, string, string, number]>(
        "UPDATE delivery_outbox SET status = 'delivered', attempts = ?, last_status = ?, last_error = NULL, updated_at = ?, delivered_at = ? WHERE did = ?",
      ),
      markFailed: db.prepare<[string, number, number | null, string | null, number, string, number]>(
        'UPDATE delivery_outbox SET status = ?, attempts = ?, last_status = ?, last_error = ?, next_at = ?, updated_at = ? WHERE did = ?',
      ),
      counts: db.prepare<[], { subscription_id: string; status: string; n: number }>(
        "SELECT subscription_id, status, count(*) AS n FROM delivery_outbox WHERE status IN ('pending', 'failed') GROUP BY subscription_id, status",
      ),
      countsOf: db.prepare<[string], { status: string; n: number }>('SELECT status, count(*) AS n FROM delivery_outbox WHERE subscription_id = ? GROUP BY status'),
      attemptsOf: db.prepare<[number, number], AttemptRow>('SELECT * FROM delivery_attempts WHERE did = ? ORDER BY aid DESC LIMIT ?'),
      pruneOutbox: db.prepare<[string, number]>(
        "DELETE FROM delivery_outbox WHERE did IN (SELECT did FROM delivery_outbox WHERE status IN ('delivered', 'failed') AND updated_at < ? LIMIT ?)",
      ),
      eventsAfter: db.prepare<[number, number], { seq: number; id: string; type: string; platform: string; body: string }>('SELECT seq, id, type, platform, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      pruneAttempts: db.prepare<[]>('DELETE FROM delivery_attempts WHERE did NOT IN (SELECT did FROM delivery_outbox)'),
      sinkCursor: db.prepare<[string], { seq: number }>('SELECT seq FROM sink_cursors WHERE name = ?'),
      saveSinkCursor: db.prepare<[string, number, string]>('INSERT INTO sink_cursors (name, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at'),
  };
}

/**
 * The SQLite backend's `DeliveryStore`. Attached to the store's connection when it opens; the
 * outbox rows of new events are written by `enqueueInserted` inside the commit transaction.
 */
export class SqliteDelivery implements DeliveryStore {
  private readonly subs = new Map<string, { sub: Subscription; match: Matcher }>();
  private conn: { db: Database.Database; s: ReturnType<typeof statements> } | undefined;
  private firstDelayMs = 0;

  constructor(private readonly closed: () => never) {}

  /** Prepares the statements on the store's connection and loads the subscriptions. */
  attach(db: Database.Database): void {
    this.conn = { db, s: statements(db) };
    this.subs.clear();
    for (const r of this.conn.s.allSubs.all()) this.remember(toSubscription(r));
  }

  detach(): void {
    this.conn = undefined;
  }

  /** Reads the subscriptions again from the table (a reader's copy, after the writer changed them). */
  reloadSubscriptions(): void {
    const rows = this.s.allSubs.all();
    this.subs.clear();
    for (const r of rows) this.remember(toSubscription(r));
  }

  private get db(): Database.Database {
    return (this.conn ?? this.closed()).db;
  }

  private get s(): ReturnType<typeof statements> {
    return (this.conn ?? this.closed()).s;
  }

  configure(options: { firstDelayMs: number }): void {
    this.firstDelayMs = options.firstDelayMs;
  }

  private remember(sub: Subscription): Subscription {
    this.subs.set(sub.id, { sub, match: filtersMatcher(sub.filters) });
    return sub;
  }

  private reload(id: string): Subscription | undefined {
    const row = this.s.getSub.get(id);
    if (!row) {
      this.subs.delete(id);
      return undefined;
    }
    return this.remember(toSubscription(row));
  }

  async list(): Promise<Subscription[]> {
    return [...this.subs.values()].map((s) => s.sub);
  }

  async get(id: string): Promise<Subscription | undefined> {
    return this.subs.get(id)?.sub;
  }

  /** Creates a subscription (or replaces the one with its id, keeping its state). */
  async put(input: SubscriptionInput, now = new Date()): Promise<Subscription> {
    const iso = now.toISOString();
    const existing = this.subs.get(input.id)?.sub;
    const filters = JSON.stringify(input.filters);
    const secrets = JSON.stringify(input.secrets);
    this.db.transaction(() => {
      if (existing) {
        this.s.updateSub.run(input.origin, input.url, filters, input.mode, input.ordered ? 1 : 0, secrets, input.description ?? null, iso, input.id);
      } else {
        this.s.insertSub.run(input.id, input.origin, input.url, filters, input.mode, input.ordered ? 1 : 0, secrets, input.description ?? null, input.enabled ? 1 : 0, input.enabled ? null : (input.disabledReason ?? 'disabled'), input.enabled ? null : iso, iso, iso);
      }
    }).immediate();
    return this.reload(input.id) as Subscription;
  }

  /** Enables (clearing the reason and the failure streak; pending deliveries start a fresh schedule now) or disables. */
  async setEnabled(id: string, enabled: boolean, reason: string | undefined, now = new Date()): Promise<Subscription | undefined> {
    const iso = now.toISOString();
    this.db.transaction(() => {
      this.s.setEnabled.run(enabled ? 1 : 0, enabled ? null : (reason ?? 'disabled'), enabled ? null : iso, iso, id);
      if (enabled) this.s.restartPending.run(now.getTime(), iso, id);
    }).immediate();
    return this.reload(id);
  }

  async setSecrets(id: string, secrets: readonly StoredSecret[], now = new Date()): Promise<Subscription | undefined> {
    this.s.setSecrets.run(JSON.stringify(secrets), now.toISOString(), id);
    return this.reload(id);
  }

  /** Removes a subscription with its outbox and attempts. */
  async delete(id: string): Promise<boolean> {
    const existed = this.subs.has(id);
    this.db.transaction(() => {
      this.s.deleteAttempts.run(id);
      this.s.deleteOutbox.run(id);
      this.s.deleteSub.run(id);
    }).immediate();
    this.subs.delete(id);
    return existed;
  }

  /**
   * The commit hook: one outbox row per inserted event and matching enabled subscription, in
   * the transaction that inserts the events. Answers the number of rows.
   */
  enqueueInserted(inserted: readonly InsertedEvent[], now = Date.now()): number {
    const firstDelayMs = this.firstDelayMs;
    const targets = [...this.subs.values()].filter((s) => s.sub.enabled);
    if (targets.length === 0) return 0;
    const iso = new Date(now).toISOString();
    let n = 0;
    for (const { seq, event } of inserted) {
      for (const t of targets) {
        if (t.match(event)) n += this.s.enqueue.run(t.sub.id, seq, event.id, event.subject, now + firstDelayMs, iso, iso).changes;
      }
    }
    return n;
  }

  /** Pending rows of a subscription due by `now`; in ordered mode only the first pending row of each subject. */
  async due(sub: Subscription, now: number, limit: number): Promise<OutboxRow[]> {
    return (sub.ordered ? this.s.dueOrdered : this.s.due).all(sub.id, now, limit);
  }

  /** The earliest future attempt of an enabled subscription. */
  async nextDueAfter(now: number): Promise<number | undefined> {
    return this.s.nextDue.get(now)?.t ?? undefined;
  }

  /** The stored CloudEvent body of a sequence (without `sequence`). */
  async eventBody(seq: number): Promise<string | undefined> {
    return this.s.eventBody.get(seq)?.body;
  }

  async getRow(did: number): Promise<OutboxRow | undefined> {
    return this.s.getRow.get(did);
  }

  /**
   * Records attempts in one transaction: the attempt rows, the outbox rows, the failure streak
   * of each subscription. Answers the subscriptions to disable (410, or failing too long).
   */
  async recordAttempts(records: readonly AttemptRecord[], disableAfterMs: number, now = Date.now()): Promise<{ id: string; reason: string; kind: 'gone' | 'failing' }[]> {
    const iso = new Date(now).toISOString();
    const streaks = new FailureStreaks(disableAfterMs, now);
    this.db.transaction(() => {
      for (const r of records) {
        this.s.insertAttempt.run(r.did, r.subscriptionId, r.round, r.attempt, new Date(r.startedAt).toISOString(), r.durationMs, r.status ?? null, r.error ?? null, r.result);
        const sub = this.subs.get(r.subscriptionId)?.sub;
        if (r.result === 'delivered') this.s.markDelivered.run(r.attempt, r.status ?? null, iso, iso, r.did);
        else this.s.markFailed.run(r.result === 'exhausted' ? 'failed' : 'pending', r.attempt, r.status ?? null, r.error ?? null, r.nextAt ?? now, iso, r.did);
        streaks.note(r, sub);
      }
      for (const [id, since] of streaks.failing) this.s.setFailing.run(since, id);
    }).immediate();
    for (const id of streaks.failing.keys()) this.reload(id);
    return streaks.toDisable();
  }

  /** Pending and failed counts per subscription (delivered ones are not counted here: metrics). */
  async counts(): Promise<Map<string, Record<DeliveryStatus, number>>> {
    const out = new Map<string, Record<DeliveryStatus, number>>();
    for (const sub of this.subs.keys()) out.set(sub, { pending: 0, delivered: 0, failed: 0 });
    for (const r of this.s.counts.all()) {
      const c = out.get(r.subscription_id);
      if (c && (r.status === 'pending' || r.status === 'delivered' || r.status === 'failed')) c[r.status] = r.n;
    }
    return out;
  }

  async countsOf(id: string): Promise<Record<DeliveryStatus, number>> {
    const c = { pending: 0, delivered: 0, failed: 0 };
    for (const r of this.s.countsOf.all(id)) if (r.status === 'pending' || r.status === 'delivered' || r.status === 'failed') c[r.status] = r.n;
    return c;
  }

  async listDeliveries(q: DeliveryListQuery): Promise<(OutboxRow & { type: string | null })[]> {
    const where = ['o.subscription_id = ?'];
    const params: (string | number)[] = [q.subscriptionId];
    if (q.status) {
      where.push('o.status = ?');
      params.push(q.status);
    }
    if (q.after !== undefined) {
      where.push('o.did > ?');
      params.push(q.after);
    }
    params.push(q.limit);
    return this.db
      .prepare<(string | number)[], OutboxRow & { type: string | null }>(`SELECT o.*, e.type FROM delivery_outbox o LEFT JOIN events e ON e.seq = o.seq WHERE ${where.join(' AND ')} ORDER BY o.did LIMIT ?`)
      .all(...params);
  }

  async attemptsOf(did: number, limit: number): Promise<AttemptRow[]> {
    return this.s.attemptsOf.all(did, limit).reverse();
  }

  /** One delivery due now (see `DeliveryStore.retryNow`). */
  async retryNow(subscriptionId: string, did: number, now = Date.now()): Promise<OutboxRow | undefined> {
    return this.s.retryNow.get(now, new Date(now).toISOString(), did, subscriptionId);
  }

  /**
   * Enqueues the events of a range again for a subscription (its filters apply): a row not yet
   * in the outbox is added, a delivered or failed one set pending with a fresh schedule, a
   * pending one left as it is. Runs in transactions of `chunk` events.
   */
  async replay(sub: Subscription, range: ReplayRange, now = Date.now(), chunk = 2000): Promise<{ enqueued: number; alreadyPending: number; matched: number }> {
    const firstDelayMs = this.firstDelayMs;
    const match = filtersMatcher(sub.filters);
    const iso = new Date(now).toISOString();
    const f = filters();
    f.where.push('seq > ?');
    f.add('seq <= ?', range.toSequence);
    f.add('time >= ?', range.fromTime);
    f.add('time <= ?', range.toTime);
    const { where, params: base } = f;
    if (range.onlyFailed) where.push("seq IN (SELECT seq FROM delivery_outbox WHERE subscription_id = ? AND status = 'failed')");
    const page = this.db.prepare<(string | number)[], { seq: number; id: string; subject: string; body: string }>(
      `SELECT seq, id, subject, body FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
    );
    const statusOf = this.db.prepare<[string, number], { status: string }>('SELECT status FROM delivery_outbox WHERE subscription_id = ? AND seq = ?');
    let after = (range.fromSequence ?? 1) - 1;
    const totals = { enqueued: 0, alreadyPending: 0, matched: 0 };
    for (;;) {
      const rows = page.all(after, ...base, ...(range.onlyFailed ? [sub.id] : []), chunk);
      if (rows.length === 0) break;
      this.db.transaction(() => {
        for (const r of rows) {
          const e = JSON.parse(r.body) as SwitchboardEvent;
          if (!match(e)) continue;
          totals.matched++;
          const existing = statusOf.get(sub.id, r.seq);
          if (!existing) totals.enqueued += this.s.enqueue.run(sub.id, r.seq, r.id, r.subject, now + firstDelayMs, iso, iso).changes;
          else if (existing.status === 'pending') totals.alreadyPending++;
          else totals.enqueued += this.s.requeue.run(now + firstDelayMs, iso, sub.id, r.seq).changes;
        }
      }).immediate();
      after = (rows[rows.length - 1] as { seq: number }).seq;
      if (rows.length < chunk) break;
    }
    return totals;
  }

  /** Removes finished outbox rows (and their attempts) last changed before `before`. */
  async prune(before: Date, batch = 5000): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = this.s.pruneOutbox.run(before.toISOString(), batch).changes;
      removed += n;
      if (n < batch) break;
    }
    if (removed > 0) this.s.pruneAttempts.run();
    return removed;
  }

  /** Stored events after a sequence, in order (the NATS sink's reading). */
  async eventsAfter(seq: number, limit: number): Promise<{ seq: number; id: string; type: string; platform: string; body: string }[]> {
    return this.s.eventsAfter.all(seq, limit);
  }

  /** The position a sink has acknowledged. */
  async sinkCursor(name: string): Promise<number> {
    return this.s.sinkCursor.get(name)?.seq ?? 0;
  }

  async saveSinkCursor(name: string, seq: number, now = new Date()): Promise<void> {
    this.s.saveSinkCursor.run(name, seq, now.toISOString());
  }
}
