/**
 * The PostgreSQL delivery tables (migrations/postgres/003_delivery.sql): subscriptions, the
 * outbox written in the commit transaction (`enqueueInserted`), attempts and sink cursors — the
 * same steps as the SQLite backend's `../sqlite/delivery.ts`.
 *
 * Several instances may share the tables, so nothing here trusts a copy in memory: the
 * subscriptions are read from the table (the commit reads the enabled ones in its own
 * transaction), and only their compiled filters are cached, by id and `updated_at`. Due rows are
 * claimed (`due`): a row is sent by one instance at a time.
 */
import type pg from 'pg';
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
import type { Queryable } from './queryable.js';

/** The outbox columns of the contract (not the claim). */
const OUTBOX = 'did, subscription_id, seq, event_id, subject, status, attempts, rounds, next_at, last_status, last_error, created_at, updated_at, delivered_at';
const OUTBOX_O = OUTBOX.split(', ')
  .map((c) => `o.${c}`)
  .join(', ');

/** How long a claim on a due row lasts unless `configure` says: longer than any attempt and its recording. */
export const DEFAULT_CLAIM_MS = 60_000;

const ENQUEUE = `INSERT INTO delivery_outbox (subscription_id, seq, event_id, subject, status, next_at, created_at, updated_at)
  SELECT t.sub, t.seq, t.id, t.subject, 'pending', $5, $6, $6 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS t(sub, seq, id, subject)
  ON CONFLICT (subscription_id, seq) DO NOTHING`;

const REQUEUE = `UPDATE delivery_outbox SET status = 'pending', attempts = 0, rounds = rounds + 1, next_at = $1, updated_at = $2, delivered_at = NULL, claimed_by = NULL, claim_until = NULL
  WHERE subscription_id = $3 AND seq = $4 AND status <> 'pending'`;

function isStatus(s: string): s is DeliveryStatus {
  return s === 'pending' || s === 'delivered' || s === 'failed';
}

export class PostgresDelivery implements DeliveryStore {
  private firstDelayMs = 0;
  private readonly matchers = new Map<string, { updatedAt: string; match: Matcher }>();

  /**
   * @param pool the pool, or a `StoreError` for a closed store
   * @param transaction runs a function in a transaction on one connection (the store's)
   */
  constructor(
    private readonly pool: () => pg.Pool,
    private readonly transaction: <T>(what: string, fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
    /** This instance, as its claims name it. */
    private readonly owner: string,
    private claimMs = DEFAULT_CLAIM_MS,
  ) {}

  configure(options: { firstDelayMs: number; claimMs?: number }): void {
    this.firstDelayMs = options.firstDelayMs;
    if (options.claimMs !== undefined) this.claimMs = options.claimMs;
  }

  private async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = [], q: Queryable = this.pool()): Promise<R[]> {
    return (await q.query<R>(text, values)).rows;
  }

  private matcher(sub: Subscription): Matcher {
    const cached = this.matchers.get(sub.id);
    if (cached && cached.updatedAt === sub.updatedAt) return cached.match;
    const match = filtersMatcher(sub.filters);
    this.matchers.set(sub.id, { updatedAt: sub.updatedAt, match });
    return match;
  }

  async list(): Promise<Subscription[]> {
    return (await this.rows<SubscriptionRow>('SELECT * FROM subscriptions ORDER BY created_at, id')).map(toSubscription);
  }

  async get(id: string, q: Queryable = this.pool()): Promise<Subscription | undefined> {
    const [row] = await this.rows<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = $1', [id], q);
    return row && toSubscription(row);
  }

  /** Creates a subscription (or replaces the one with its id, keeping its state). */
  async put(input: SubscriptionInput, now = new Date()): Promise<Subscription> {
    const iso = now.toISOString();
    const filters = JSON.stringify(input.filters);
    const secrets = JSON.stringify(input.secrets);
    return this.transaction('put', async (c) => {
      await c.query(
        `INSERT INTO subscriptions (id, origin, url, filters, mode, ordered, secrets, description, enabled, disabled_reason, disabled_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
         ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, url = excluded.url, filters = excluded.filters, mode = excluded.mode, ordered = excluded.ordered,
           secrets = excluded.secrets, description = excluded.description, updated_at = excluded.updated_at`,
        [input.id, input.origin, input.url, filters, input.mode, input.ordered ? 1 : 0, secrets, input.description ?? null, input.enabled ? 1 : 0, input.enabled ? null : (input.disabledReason ?? 'disabled'), input.enabled ? null : iso, iso],
      );
      return (await this.get(input.id, c)) as Subscription;
    });
  }

  /** Enables (clearing the reason and the failure streak; pending deliveries start a fresh schedule now) or disables. */
  async setEnabled(id: string, enabled: boolean, reason: string | undefined, now = new Date()): Promise<Subscription | undefined> {
    const iso = now.toISOString();
    return this.transaction('setEnabled', async (c) => {
      await c.query('UPDATE subscriptions SET enabled = $1, disabled_reason = $2, disabled_at = $3, failing_since = NULL, updated_at = $4 WHERE id = $5', [
        enabled ? 1 : 0,
        enabled ? null : (reason ?? 'disabled'),
        enabled ? null : iso,
        iso,
        id,
      ]);
      if (enabled) await c.query("UPDATE delivery_outbox SET attempts = 0, next_at = $1, updated_at = $2, claimed_by = NULL, claim_until = NULL WHERE subscription_id = $3 AND status = 'pending'", [now.getTime(), iso, id]);
      return this.get(id, c);
    });
  }

  async setSecrets(id: string, secrets: readonly StoredSecret[], now = new Date()): Promise<Subscription | undefined> {
    return this.transaction('setSecrets', async (c) => {
      await c.query('UPDATE subscriptions SET secrets = $1, updated_at = $2 WHERE id = $3', [JSON.stringify(secrets), now.toISOString(), id]);
      return this.get(id, c);
    });
  }

  /** Removes a subscription with its outbox and attempts. */
  async delete(id: string): Promise<boolean> {
    return this.transaction('delete', async (c) => {
      await c.query('DELETE FROM delivery_attempts WHERE subscription_id = $1', [id]);
      await c.query('DELETE FROM delivery_outbox WHERE subscription_id = $1', [id]);
      return ((await c.query('DELETE FROM subscriptions WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  /** In the commit transaction: one outbox row per inserted event and matching enabled subscription. */
  async enqueueInserted(q: Queryable, inserted: readonly { seq: number; event: SwitchboardEvent }[], now = Date.now()): Promise<number> {
    const subs = (await this.rows<SubscriptionRow>('SELECT * FROM subscriptions WHERE enabled = 1', [], q)).map(toSubscription);
    if (subs.length === 0) return 0;
    const cols = { sub: [] as string[], seq: [] as number[], id: [] as string[], subject: [] as string[] };
    for (const { seq, event } of inserted) {
      for (const sub of subs) {
        if (!this.matcher(sub)(event)) continue;
        cols.sub.push(sub.id);
        cols.seq.push(seq);
        cols.id.push(event.id);
        cols.subject.push(event.subject);
      }
    }
    if (cols.sub.length === 0) return 0;
    const iso = new Date(now).toISOString();
    return (await q.query(ENQUEUE, [cols.sub, cols.seq, cols.id, cols.subject, now + this.firstDelayMs, iso])).rowCount ?? 0;
  }

  /**
   * Pending rows of a subscription due by `now`, claimed for this instance (rows it claimed
   * already included; rows another instance claims, or locks at this moment, left out); in
   * ordered mode only the first pending row of each subject, claimed or not.
   */
  async due(sub: Subscription, now: number, limit: number): Promise<OutboxRow[]> {
    const order = sub.ordered ? 'o.seq' : 'o.next_at, o.seq';
    const rows = await this.rows<OutboxRow>(
      `UPDATE delivery_outbox SET claimed_by = $4, claim_until = $2::bigint + $5::bigint
       WHERE did IN (
         SELECT o.did FROM delivery_outbox o WHERE o.subscription_id = $1 AND o.status = 'pending' AND o.next_at <= $2
           AND (o.claim_until IS NULL OR o.claim_until < $2 OR o.claimed_by = $4)
           ${sub.ordered ? "AND NOT EXISTS (SELECT 1 FROM delivery_outbox p WHERE p.subscription_id = o.subscription_id AND p.subject = o.subject AND p.status = 'pending' AND p.seq < o.seq)" : ''}
         ORDER BY ${order} LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${OUTBOX}`,
      [sub.id, now, limit, this.owner, this.claimMs],
    );
    return rows.sort((a, b) => (sub.ordered ? a.seq - b.seq : a.next_at - b.next_at || a.seq - b.seq));
  }

  /** The earliest future attempt of an enabled subscription. */
  async nextDueAfter(now: number): Promise<number | undefined> {
    const [row] = await this.rows<{ t: number | null }>(
      "SELECT min(o.next_at) AS t FROM delivery_outbox o JOIN subscriptions s ON s.id = o.subscription_id WHERE o.status = 'pending' AND o.next_at > $1 AND s.enabled = 1",
      [now],
    );
    return row?.t ?? undefined;
  }

  async eventBody(seq: number): Promise<string | undefined> {
    return (await this.rows<{ body: string }>('SELECT body FROM events WHERE seq = $1', [seq]))[0]?.body;
  }

  async getRow(did: number): Promise<OutboxRow | undefined> {
    return (await this.rows<OutboxRow>(`SELECT ${OUTBOX} FROM delivery_outbox WHERE did = $1`, [did]))[0];
  }

  /**
   * Records attempts in one transaction: the attempt rows, the outbox rows, the failure streak
   * of each subscription. Answers the subscriptions to disable (410, or failing too long).
   */
  async recordAttempts(records: readonly AttemptRecord[], disableAfterMs: number, now = Date.now()): Promise<{ id: string; reason: string; kind: 'gone' | 'failing' }[]> {
    const iso = new Date(now).toISOString();
    return this.transaction('recordAttempts', async (c) => {
      const streaks = new FailureStreaks(disableAfterMs, now);
      const subs = new Map<string, Subscription | undefined>();
      for (const r of records) {
        await c.query('INSERT INTO delivery_attempts (did, subscription_id, round, attempt, started_at, duration_ms, status, error, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
          r.did,
          r.subscriptionId,
          r.round,
          r.attempt,
          new Date(r.startedAt).toISOString(),
          r.durationMs,
          r.status ?? null,
          r.error ?? null,
          r.result,
        ]);
        if (!subs.has(r.subscriptionId)) subs.set(r.subscriptionId, await this.get(r.subscriptionId, c));
        if (r.result === 'delivered') {
          await c.query(
            "UPDATE delivery_outbox SET status = 'delivered', attempts = $1, last_status = $2, last_error = NULL, updated_at = $3, delivered_at = $3, claimed_by = NULL, claim_until = NULL WHERE did = $4",
            [r.attempt, r.status ?? null, iso, r.did],
          );
        } else {
          await c.query('UPDATE delivery_outbox SET status = $1, attempts = $2, last_status = $3, last_error = $4, next_at = $5, updated_at = $6, claimed_by = NULL, claim_until = NULL WHERE did = $7', [
            r.result === 'exhausted' ? 'failed' : 'pending',
            r.attempt,
            r.status ?? null,
            r.error ?? null,
            r.nextAt ?? now,
            iso,
            r.did,
          ]);
        }
        streaks.note(r, subs.get(r.subscriptionId));
      }
      for (const [id, since] of streaks.failing) await c.query('UPDATE subscriptions SET failing_since = $1 WHERE id = $2', [since, id]);
      return streaks.toDisable();
    });
  }

  /** Pending and failed counts per subscription. */
  async counts(): Promise<Map<string, Record<DeliveryStatus, number>>> {
    const out = new Map<string, Record<DeliveryStatus, number>>();
    for (const { id } of await this.rows<{ id: string }>('SELECT id FROM subscriptions')) out.set(id, { pending: 0, delivered: 0, failed: 0 });
    for (const r of await this.rows<{ subscription_id: string; status: string; n: number }>(
      "SELECT subscription_id, status, count(*) AS n FROM delivery_outbox WHERE status IN ('pending', 'failed') GROUP BY subscription_id, status",
    )) {
      const c = out.get(r.subscription_id);
      if (c && isStatus(r.status)) c[r.status] = r.n;
    }
    return out;
  }

  async countsOf(id: string): Promise<Record<DeliveryStatus, number>> {
    const c = { pending: 0, delivered: 0, failed: 0 };
    for (const r of await this.rows<{ status: string; n: number }>('SELECT status, count(*) AS n FROM delivery_outbox WHERE subscription_id = $1 GROUP BY status', [id])) if (isStatus(r.status)) c[r.status] = r.n;
    return c;
  }

  async listDeliveries(q: DeliveryListQuery): Promise<(OutboxRow & { type: string | null })[]> {
    const where = ['o.subscription_id = $1'];
    const values: (string | number)[] = [q.subscriptionId];
    if (q.status) {
      values.push(q.status);
      where.push(`o.status = $${values.length}`);
    }
    if (q.after !== undefined) {
      values.push(q.after);
      where.push(`o.did > $${values.length}`);
    }
    values.push(q.limit);
    return this.rows<OutboxRow & { type: string | null }>(`SELECT ${OUTBOX_O}, e.type FROM delivery_outbox o LEFT JOIN events e ON e.seq = o.seq WHERE ${where.join(' AND ')} ORDER BY o.did LIMIT $${values.length}`, values);
  }

  async attemptsOf(did: number, limit: number): Promise<AttemptRow[]> {
    return (await this.rows<AttemptRow>('SELECT * FROM delivery_attempts WHERE did = $1 ORDER BY aid DESC LIMIT $2', [did, limit])).reverse();
  }

  /** One delivery due now (see `DeliveryStore.retryNow`); SET expressions read the row as it was. */
  async retryNow(subscriptionId: string, did: number, now = Date.now()): Promise<OutboxRow | undefined> {
    return this.transaction('retryNow', async (c) =>
      (
        await c.query<OutboxRow>(
          `UPDATE delivery_outbox SET status = 'pending', next_at = $1, updated_at = $2,
             attempts = CASE WHEN status = 'pending' THEN attempts ELSE 0 END,
             rounds = CASE WHEN status = 'pending' THEN rounds ELSE rounds + 1 END,
             delivered_at = CASE WHEN status = 'pending' THEN delivered_at ELSE NULL END,
             claimed_by = NULL, claim_until = NULL
           WHERE did = $3 AND subscription_id = $4 RETURNING ${OUTBOX}`,
          [now, new Date(now).toISOString(), did, subscriptionId],
        )
      ).rows[0],
    );
  }

  /**
   * Enqueues the events of a range again for a subscription (its filters apply): a row not yet
   * in the outbox is added, a delivered or failed one set pending with a fresh schedule, a
   * pending one left as it is. Runs in transactions of `chunk` events.
   */
  async replay(sub: Subscription, range: ReplayRange, now = Date.now(), chunk = 2000): Promise<{ enqueued: number; alreadyPending: number; matched: number }> {
    const match = filtersMatcher(sub.filters);
    const iso = new Date(now).toISOString();
    const next = now + this.firstDelayMs;
    const totals = { enqueued: 0, alreadyPending: 0, matched: 0 };
    let after = (range.fromSequence ?? 1) - 1;
    for (;;) {
      const values: unknown[] = [after];
      const where = ['seq > $1'];
      for (const [clause, v] of [
        ['seq <= ?', range.toSequence],
        ['time >= ?', range.fromTime],
        ['time <= ?', range.toTime],
      ] as const) {
        if (v === undefined) continue;
        values.push(v);
        where.push(clause.replace('?', `$${values.length}`));
      }
      if (range.onlyFailed) {
        values.push(sub.id);
        where.push(`seq IN (SELECT seq FROM delivery_outbox WHERE subscription_id = $${values.length} AND status = 'failed')`);
      }
      values.push(chunk);
      const rows = await this.rows<{ seq: number; id: string; subject: string; body: string }>(`SELECT seq, id, subject, body FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${values.length}`, values);
      if (rows.length === 0) break;
      await this.transaction('replay', async (c) => {
        for (const r of rows) {
          if (!match(JSON.parse(r.body) as SwitchboardEvent)) continue;
          totals.matched++;
          const existing = (await c.query<{ status: string }>('SELECT status FROM delivery_outbox WHERE subscription_id = $1 AND seq = $2', [sub.id, r.seq])).rows[0];
          if (!existing) totals.enqueued += (await c.query(ENQUEUE, [[sub.id], [r.seq], [r.id], [r.subject], next, iso])).rowCount ?? 0;
          else if (existing.status === 'pending') totals.alreadyPending++;
          else totals.enqueued += (await c.query(REQUEUE, [next, iso, sub.id, r.seq])).rowCount ?? 0;
        }
      });
      after = (rows[rows.length - 1] as { seq: number }).seq;
      if (rows.length < chunk) break;
    }
    return totals;
  }

  /** Removes finished outbox rows (and their attempts) last changed before `before`, in batches. */
  async prune(before: Date, batch = 5000): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.transaction('prune', async (c) => {
        const { rows } = await c.query<{ did: number }>(
          "DELETE FROM delivery_outbox WHERE did IN (SELECT did FROM delivery_outbox WHERE status IN ('delivered', 'failed') AND updated_at < $1 LIMIT $2) RETURNING did",
          [before.toISOString(), batch],
        );
        if (rows.length > 0) await c.query('DELETE FROM delivery_attempts WHERE did = ANY($1::bigint[])', [rows.map((r) => r.did)]);
        return rows.length;
      });
      removed += n;
      if (n < batch) break;
    }
    return removed;
  }

  async eventsAfter(seq: number, limit: number): Promise<{ seq: number; id: string; type: string; platform: string; body: string }[]> {
    return this.rows('SELECT seq, id, type, platform, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [seq, limit]);
  }

  async sinkCursor(name: string): Promise<number> {
    return (await this.rows<{ seq: number }>('SELECT seq FROM sink_cursors WHERE name = $1', [name]))[0]?.seq ?? 0;
  }

  async saveSinkCursor(name: string, seq: number, now = new Date()): Promise<void> {
    await this.transaction('saveSinkCursor', (c) =>
      c.query('INSERT INTO sink_cursors (name, seq, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at', [name, seq, now.toISOString()]),
    );
  }
}
