/**
 * The PostgreSQL backend (node-postgres, `pg`): a pool of connections, numbered migrations from
 * `migrations/postgres/`, and commits that resolve only after PostgreSQL's COMMIT returned (with
 * `synchronous_commit` on, the default: flushed to its WAL). Group commit happens one level up
 * (`GroupCommitter`), as for SQLite: many ingest calls share one transaction.
 *
 * **Sequence visibility.** Several processes may commit into one database. A follower that has
 * read every event up to sequence N and then asks for `seq > N` must never miss an event that
 * commits later with a sequence ≤ N. Sequences are therefore assigned under a transaction-scoped
 * advisory lock (`pg_advisory_xact_lock(SEQUENCE_LOCK)`): a commit takes the lock, reads the
 * highest sequence, inserts its events above it and commits, and the lock is released only after
 * its rows are visible. The next commit, on any process, starts numbering after them. So the
 * events are visible in sequence order. Writers that share the store take turns, one commit at a
 * time, and each commit carries a whole group of events. Sequences may have gaps: a duplicate id
 * takes no row, and its number is skipped.
 *
 * The commit also brings the projections up to date (`PostgresProjections.apply`) and writes the
 * outbox rows (`PostgresDelivery.enqueueInserted`) in the same transaction, under the same lock:
 * several instances never fold one entity concurrently.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { StoreError, type StoreFailureKind, type SwitchboardEvent } from '../../../core/index.js';
import { maskUrl } from '../../../core/secrets.js';
import { pendingMigrations } from '../migrations.js';
import { PostgresDelivery } from './delivery.js';
import { PostgresProjections } from './projections.js';
import { expireConnectorState, expireEvents, expireQuarantine, lastEventBefore, retentionHorizon, scanExpired } from './retention.js';
import { REMOVED_CHANNEL, erasureStep, getErasure, listErasures, runningErasures, startErasure } from './erasure.js';
import { connectorStatsOf, quarantineEntry } from '../rows.js';
import {
  withSequence,
  type CommitBatch,
  type CommitOptions,
  type CommitResult,
  type ConnectorStats,
  type DeliveryStore,
  type EventQuery,
  type CursorRow,
  type EventRow,
  type KvEntry,
  type KvRow,
  type LeaseStore,
  type ProjectionStore,
  type RetentionStore,
  type ErasureStore,
  type QuarantineEntry,
  type QuarantineResolution,
  type QuarantineStatus,
  type Store,
  type StoredEvent,
  type StoreWatcher,
} from '../types.js';

export interface PostgresStoreOptions {
  /** A connection string: `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** `full` (default): a commit resolves once PostgreSQL flushed it. `normal`: `synchronous_commit = off` for the commits — a crash of PostgreSQL may lose the last ones. */
  readonly durability?: 'full' | 'normal';
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
}

/** Folder of the numbered `.sql` migrations; the same from `src/` and from `dist/`. */
export const POSTGRES_MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'migrations', 'postgres');

/** Advisory lock keys (one 64-bit key space per database): the migrations, and the sequence. */
const MIGRATION_LOCK = 0x5b_0001;
const SEQUENCE_LOCK = 0x5b_0002;
/** The LISTEN/NOTIFY channel of commits. */
const COMMIT_CHANNEL = 'switchboard_commits';
/** A lost LISTEN connection is made again after this long. */
const LISTEN_RETRY_MS = 1000;
/** Entities per transaction of `projections.catchUp()`. */
const CATCH_UP_CHUNK = 500;

/** BIGINT (sequences, ids, counts) read as numbers: they stay far below 2^53. */
const INT8_OID = 20;
function typeParserOf(types: typeof pg.types): typeof pg.types.getTypeParser {
  return ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser;
}
const asNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/**
 * The kind of a PostgreSQL failure, from its SQLSTATE: a lock or serialization conflict (`busy`),
 * no space or too many connections (`full`), the connection or the server gone (`io`), anything
 * else — a value the database refuses, a constraint — a problem of what the call carried (`batch`).
 */
export function postgresFailureKind(err: unknown): StoreFailureKind {
  if (err instanceof StoreError) return err.kind;
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014') return 'busy';
  if (code === '53100' || code === '53200' || code === '53300' || code === '53400') return 'full';
  if (/^(08|57P|58|XX)/.test(code) || /^E[A-Z]+$/.test(code)) return 'io';
  if (code === '') {
    // No SQLSTATE: the client lost its connection (or never had one).
    const message = err instanceof Error ? err.message : String(err);
    return /terminat|connect|timeout|closed|ended/i.test(message) ? 'io' : 'batch';
  }
  return 'batch';
}

const closedError = (): never => {
  throw new StoreError('the store is closed', { closed: true });
};

interface SelectedRow {
  seq: string | number;
  id: string;
  type: string;
  body: string;
}

interface QuarantineRow {
  qid: string | number;
  connector_id: string;
  received_at: string;
  code: string;
  reason: string;
  content_type: string | null;
  raw: Buffer;
  raw_encoding: 'base64' | null;
  resolution: string | null;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly projectionTables = new PostgresProjections();
  readonly projections: ProjectionStore = this.projectionView();
  /** This instance, as its delivery claims (and, in `GET /v1/connectors`, its leases) name it. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly deliveryTables = new PostgresDelivery(
    () => this.db,
    (what, fn) => this.transaction(what, fn),
    this.instanceId,
  );
  readonly delivery: DeliveryStore = this.deliveryView();
  readonly retention: RetentionStore = {
    expireEvents: (req) => this.locked('retention', (c) => expireEvents(c, req)),
    expireQuarantine: (before, limit) => this.transaction('retention', (c) => expireQuarantine(c, before, limit)),
    expireConnectorState: (which, before, limit) => this.transaction('retention', (c) => expireConnectorState(c, which, before, limit)),
    horizon: () => this.reading(() => retentionHorizon(this.db)),
    scanExpired: (req) => this.reading(() => scanExpired(this.db, req)),
    lastSeqBefore: (before) => this.reading(() => lastEventBefore(this.db, before)),
  };
  readonly erasures: ErasureStore = {
    start: (st) => this.transaction('erasure', (c) => startErasure(c, st)),
    step: (id, limit) => this.locked('erasure', (c) => erasureStep(c, id, limit)),
    get: (id) => this.reading(() => getErasure(this.db, id)),
    list: () => this.reading(() => listErasures(this.db)),
    running: () => this.reading(() => runningErasures(this.db)),
  };
  readonly leases: LeaseStore = {
    acquire: (name, owner, ttlMs) =>
      this.reading(async () => {
        const taken = await this.db.query<{ owner: string }>(
          `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE leases.owner = excluded.owner OR leases.expires_at < now()
           RETURNING owner`,
          [name, owner, ttlMs],
        );
        if (taken.rows.length > 0) return { held: true, owner };
        const [row] = (await this.db.query<{ owner: string }>('SELECT owner FROM leases WHERE name = $1', [name])).rows;
        return { held: row?.owner === owner, owner: row?.owner ?? '' };
      }),
    release: (name, owner) =>
      this.reading(async () => {
        await this.db.query('DELETE FROM leases WHERE name = $1 AND owner = $2', [name, owner]);
      }),
  };
  private pool: pg.Pool | undefined;

  constructor(private readonly options: PostgresStoreOptions) {}

  async open(): Promise<void> {
    if (this.pool) return;
    // The driver is loaded with the first PostgreSQL store: a SQLite server never pays for it.
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({ connectionString: this.options.url, max: this.options.poolSize ?? 10, application_name: 'switchboard', types: { getTypeParser: typeParserOf(driver.types) } });
    // An idle connection that the server drops emits here; the pool replaces it on the next query.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, POSTGRES_MIGRATIONS);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new StoreError(`cannot open PostgreSQL store at ${maskUrl(this.options.url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: postgresFailureKind(err) });
    }
    this.pool = pool;
  }

  private get db(): pg.Pool {
    return this.pool ?? closedError();
  }

  /** A read: a failure becomes a StoreError of its kind. */
  private async read<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.db.query<R>(text, values)).rows;
    } catch (err) {
      throw this.failed('read', err);
    }
  }

  private failed(what: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    return new StoreError(`PostgreSQL ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: postgresFailureKind(err) });
  }

  /** Runs `fn` in a transaction on one pooled connection. */
  private async transaction<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.db.connect();
    } catch (err) {
      throw this.failed(what, err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      if (this.options.durability === 'normal') await client.query('SET LOCAL synchronous_commit = off');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.failed(what, err);
    } finally {
      client.release(broken);
    }
  }

  /**
   * One transaction for every batch: the advisory lock that orders sequences, the events (new ids
   * only) numbered after the highest stored sequence, the quarantine entries and the cursors.
   */
  async commit(batches: readonly CommitBatch[], options: CommitOptions = {}): Promise<CommitResult[]> {
    if (!this.pool) closedError();
    const rows: { connectorId: string; receivedAt: string; body: string; id: string; type: string; platform: string; subject: string; time: string }[] = [];
    const events: SwitchboardEvent[] = [];
    try {
      for (const b of batches) {
        b.events.forEach((e, j) => {
          events.push(e);
          rows.push({ connectorId: b.connectorId, receivedAt: b.receivedAt, body: b.bodies?.[j] ?? JSON.stringify(e), id: e.id, type: e.type, platform: e.platform, subject: e.subject, time: e.time });
        });
      }
    } catch (err) {
      throw new StoreError(`PostgreSQL commit failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: 'batch' });
    }
    const quarantine = batches.flatMap((b) => b.quarantine);
    return this.transaction('commit', async (client) => {
      let seqs = new Map<number, number>();
      let base = 0;
      if (rows.length > 0) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCE_LOCK]);
        base = asNumber((await client.query<{ s: string }>('SELECT coalesce(max(seq), 0) AS s FROM events')).rows[0]?.s ?? 0);
        const col = (f: (r: (typeof rows)[number]) => string) => rows.map(f);
        const inserted = await client.query<{ seq: string }>(
          `INSERT INTO events (seq, id, type, platform, connector_id, subject, time, received_at, body)
           SELECT $1::bigint + t.n, t.id, t.type, t.platform, t.connector_id, t.subject, t.time, t.received_at, t.body
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY
               AS t(id, type, platform, connector_id, subject, time, received_at, body, n)
            ORDER BY t.n
           ON CONFLICT (id) DO NOTHING RETURNING seq`,
          [base, col((r) => r.id), col((r) => r.type), col((r) => r.platform), col((r) => r.connectorId), col((r) => r.subject), col((r) => r.time), col((r) => r.receivedAt), col((r) => r.body)],
        );
        seqs = new Map(inserted.rows.map((r) => [asNumber(r.seq) - base - 1, asNumber(r.seq)]));
        // Projections and the delivery outbox change in the same transaction as the events.
        const fresh = [...seqs].sort((a, b) => a[1] - b[1]).map(([i, seq]) => ({ seq, connectorId: (rows[i] as (typeof rows)[number]).connectorId, event: events[i] as SwitchboardEvent }));
        if (fresh.length > 0) {
          await this.projectionTables.apply(client, fresh, { defer: options.deferProjections === true });
          await this.deliveryTables.enqueueInserted(client, fresh);
          // Delivered to every listening instance once this transaction commits (see `watch`).
          await client.query('SELECT pg_notify($1, $2)', [COMMIT_CHANNEL, String((fresh[fresh.length - 1] as { seq: number }).seq)]);
        }
      }
      let qids: string[] = [];
      if (quarantine.length > 0) {
        const q = await client.query<{ qid: string }>(
          `INSERT INTO quarantine (connector_id, received_at, code, reason, content_type, raw, raw_encoding)
           SELECT t.connector_id, t.received_at, t.code, t.reason, t.content_type, t.raw, t.raw_encoding
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[]) WITH ORDINALITY
               AS t(connector_id, received_at, code, reason, content_type, raw, raw_encoding, n)
            ORDER BY t.n
           RETURNING qid`,
          [
            quarantine.map((x) => x.connectorId),
            quarantine.map((x) => x.receivedAt),
            quarantine.map((x) => x.code),
            quarantine.map((x) => x.reason),
            quarantine.map((x) => x.contentType ?? null),
            // A raw that is not text (a caller's bug) reaches the database as NULL, which refuses it.
            quarantine.map((x) => (typeof x.raw === 'string' ? Buffer.from(x.raw, 'utf8') : null)),
            quarantine.map((x) => x.rawEncoding ?? null),
          ],
        );
        // Numbered from the table's sequence in insertion order, which is the order given.
        qids = q.rows.map((r) => asNumber(r.qid)).sort((a, b) => a - b).map(String);
      }
      for (const b of batches) {
        if (b.cursor === undefined) continue;
        await client.query(
          'INSERT INTO cursors (connector_id, cursor, updated_at) VALUES ($1, $2, $3) ON CONFLICT (connector_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at',
          [b.connectorId, b.cursor, b.receivedAt],
        );
      }
      let position = 0;
      let qPosition = 0;
      return batches.map((b) => ({
        stored: b.events.map((): StoredEvent | undefined => {
          const i = position++;
          const seq = seqs.get(i);
          const r = rows[i];
          return seq === undefined || r === undefined ? undefined : { seq, id: r.id, type: r.type, json: withSequence(r.body, seq) };
        }),
        quarantineIds: b.quarantine.map(() => qids[qPosition++] as string),
      }));
    });
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.read<SelectedRow>('SELECT seq, id, type, body FROM events WHERE id = $1', [id]);
    return row && toStored(row);
  }

  async queryEvents(q: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: (p: string) => string, v: unknown) => {
      if (v === undefined) return;
      values.push(v);
      where.push(clause(`$${values.length}`));
    };
    add((p) => `seq > ${p}`, q.after);
    add((p) => `seq < ${p}`, q.before);
    if (q.types && q.types.length > 0) {
      const exact = q.types.filter((t) => !t.includes('*'));
      const globs = q.types.filter((t) => t.includes('*'));
      const ors: string[] = [];
      if (exact.length) {
        values.push(exact);
        ors.push(`type = ANY($${values.length}::text[])`);
      }
      for (const g of globs) {
        values.push(globToLike(g));
        ors.push(`type LIKE $${values.length}`);
      }
      where.push(`(${ors.join(' OR ')})`);
    }
    add((p) => `platform = ${p}`, q.platform);
    add((p) => `connector_id = ${p}`, q.connectorId);
    if (q.subject?.endsWith('*')) add((p) => `subject LIKE ${p}`, `${likeEscape(q.subject.slice(0, -1))}%`);
    else add((p) => `subject = ${p}`, q.subject);
    values.push(q.limit);
    const sql = `SELECT seq, id, type, body FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${q.newestFirst ? ' DESC' : ''} LIMIT $${values.length}`;
    return (await this.read<SelectedRow>(sql, values)).map(toStored);
  }

  async latestSequence(): Promise<number> {
    const [row] = await this.read<{ s: string | null }>('SELECT max(seq) AS s FROM events');
    return row?.s == null ? 0 : asNumber(row.s);
  }

  async listQuarantine(q: { after?: number | undefined; limit: number; connectorId?: string | undefined; status?: QuarantineStatus | undefined }): Promise<QuarantineEntry[]> {
    const where = ['qid > $1'];
    const values: unknown[] = [q.after ?? 0];
    if (q.connectorId !== undefined) {
      values.push(q.connectorId);
      where.push(`connector_id = $${values.length}`);
    }
    if (q.status === 'open') where.push('resolution IS NULL');
    else if (q.status !== undefined) {
      values.push(q.status);
      where.push(`resolution::jsonb ->> 'action' = $${values.length}`);
    }
    values.push(q.limit);
    const rows = await this.read<QuarantineRow>(`SELECT * FROM quarantine WHERE ${where.join(' AND ')} ORDER BY qid LIMIT $${values.length}`, values);
    return rows.map(quarantineOf);
  }

  async getQuarantine(id: string): Promise<QuarantineEntry | undefined> {
    if (!/^\d{1,16}$/.test(id)) return undefined;
    const [row] = await this.read<QuarantineRow>('SELECT * FROM quarantine WHERE qid = $1', [id]);
    return row && quarantineOf(row);
  }

  async resolveQuarantine(id: string, resolution: QuarantineResolution): Promise<boolean> {
    if (!/^\d{1,16}$/.test(id)) return false;
    return this.transaction('resolveQuarantine', async (client) => ((await client.query('UPDATE quarantine SET resolution = $1 WHERE qid = $2 AND resolution IS NULL', [JSON.stringify(resolution), id])).rowCount ?? 0) > 0);
  }

  async getCursor(connectorId: string): Promise<string | undefined> {
    const [row] = await this.read<{ cursor: string }>('SELECT cursor FROM cursors WHERE connector_id = $1', [connectorId]);
    return row?.cursor;
  }

  async connectorStats(): Promise<ConnectorStats[]> {
    const events = await this.read<{ connector_id: string; events: string; last_seq: string; last_received: string }>(
      'SELECT connector_id, count(*) AS events, max(seq) AS last_seq, max(received_at) AS last_received FROM events GROUP BY connector_id',
    );
    const quarantined = new Map((await this.read<{ connector_id: string; n: string }>('SELECT connector_id, count(*) AS n FROM quarantine GROUP BY connector_id')).map((r) => [r.connector_id, asNumber(r.n)]));
    return connectorStatsOf(
      events.map((r) => ({ connectorId: r.connector_id, events: asNumber(r.events), lastSequence: asNumber(r.last_seq), lastReceivedAt: r.last_received })),
      quarantined,
    );
  }

  async kvGet(connectorId: string, namespace: string, key: string): Promise<KvEntry | undefined> {
    const [row] = await this.read<{ value: string; updated_at: string }>('SELECT value, updated_at FROM connector_kv WHERE connector_id = $1 AND namespace = $2 AND key = $3', [connectorId, namespace, key]);
    return row && { value: row.value, updatedAt: row.updated_at };
  }

  async kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): Promise<void> {
    await this.transaction('kvPut', (client) =>
      client.query(
        'INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector_id, namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [connectorId, namespace, key, value, updatedAt],
      ),
    );
  }

  // ─── import (`switchboard migrate`) ──────────────────────────────────────────────────────

  /**
   * Events copied from another store, with their own sequences, in one transaction: ids already
   * here are skipped; the projections of the new ones are deferred to `projections.catchUp()`, as
   * in a bulk load; no outbox row is written (they were delivered, or not, by the other store).
   * Answers how many were new.
   */
  async importEvents(rows: readonly EventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.locked('import', async (client) => {
      const col = <K extends keyof EventRow>(k: K) => rows.map((r) => r[k]);
      const inserted = await client.query<{ seq: number }>(
        `INSERT INTO events (seq, id, type, platform, connector_id, subject, time, received_at, body)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         ON CONFLICT (id) DO NOTHING RETURNING seq`,
        [col('seq'), col('id'), col('type'), col('platform'), col('connectorId'), col('subject'), col('time'), col('receivedAt'), col('body')],
      );
      const fresh = new Set(inserted.rows.map((r) => r.seq));
      const events = rows.filter((r) => fresh.has(r.seq)).map((r) => ({ seq: r.seq, connectorId: r.connectorId, event: JSON.parse(r.body) as SwitchboardEvent }));
      await this.projectionTables.apply(client, events, { defer: true });
      return events.length;
    });
  }

  /** Quarantine entries (their ids kept), cursors and kv copied from another store; what is here already stays. */
  async importState(state: { quarantine: readonly QuarantineEntry[]; cursors: readonly CursorRow[]; kv: readonly KvRow[] }): Promise<void> {
    await this.transaction('import', async (client) => {
      for (const q of state.quarantine) {
        await client.query(
          'INSERT INTO quarantine (qid, connector_id, received_at, code, reason, content_type, raw, raw_encoding, resolution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (qid) DO NOTHING',
          [Number(q.id), q.connectorId, q.receivedAt, q.code, q.reason, q.contentType ?? null, Buffer.from(q.raw, 'utf8'), q.rawEncoding ?? null, q.resolution === undefined ? null : JSON.stringify(q.resolution)],
        );
      }
      // New entries are numbered after the copied ones.
      await client.query("SELECT setval(pg_get_serial_sequence('quarantine', 'qid'), greatest((SELECT max(qid) FROM quarantine), 1))");
      for (const c of state.cursors) {
        await client.query('INSERT INTO cursors (connector_id, cursor, updated_at) VALUES ($1, $2, $3) ON CONFLICT (connector_id) DO NOTHING', [c.connectorId, c.cursor, c.updatedAt]);
      }
      for (const k of state.kv) {
        await client.query('INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector_id, namespace, key) DO NOTHING', [
          k.connectorId,
          k.namespace,
          k.key,
          k.value,
          k.updatedAt,
        ]);
      }
    });
  }

  /** A read on the pool whose failure becomes a StoreError of its kind. */
  private reading<T>(p: () => Promise<T>): Promise<T> {
    try {
      return p().catch((err: unknown) => {
        throw this.failed('read', err);
      });
    } catch (err) {
      return Promise.reject(this.failed('read', err));
    }
  }

  /** Transactions that change projections take the sequence lock: no commit folds the same entities meanwhile. */
  private locked<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(what, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCE_LOCK]);
      return fn(client);
    });
  }

  private projectionView(): ProjectionStore {
    const t = this.projectionTables;
    return {
      listCalls: (q) => this.reading(() => t.listCalls(this.db, q)),
      getCall: (c, id) => this.reading(() => t.getCall(this.db, c, id)),
      listConversations: (q) => this.reading(() => t.listConversations(this.db, q)),
      getConversation: (c, id) => this.reading(() => t.getConversation(this.db, c, id)),
      timelineEvents: (c, id) => this.reading(() => t.timelineEvents(this.db, c, id)),
      listOperators: (q) => this.reading(() => t.listOperators(this.db, q)),
      stats: (q) => this.reading(() => t.stats(this.db, q)),
      rebuild: () => this.locked('rebuild', (c) => t.rebuild(c)),
      catchUp: async (options = {}) => {
        const chunk = options.chunk ?? CATCH_UP_CHUNK;
        let total = await this.reading(() => t.countPending(this.db));
        let done = 0;
        for (;;) {
          const n = await this.locked('catchUp', (c) => t.catchUpChunk(c, chunk));
          done += n;
          total = Math.max(total, done);
          options.onProgress?.(done, total - done);
          if (n < chunk) return done;
        }
      },
      pendingCount: () => this.reading(() => t.countPending(this.db)),
    };
  }

  /** The delivery tables, their reads' failures as StoreErrors (their writes run in `transaction`, which does the same). */
  private deliveryView(): DeliveryStore {
    const d = this.deliveryTables;
    return {
      configure: (options) => d.configure(options),
      list: () => this.reading(() => d.list()),
      get: (id) => this.reading(() => d.get(id)),
      put: (input, now) => d.put(input, now),
      setEnabled: (id, enabled, reason, now) => d.setEnabled(id, enabled, reason, now),
      setSecrets: (id, secrets, now) => d.setSecrets(id, secrets, now),
      delete: (id) => d.delete(id),
      due: (sub, now, limit) => this.reading(() => d.due(sub, now, limit)),
      nextDueAfter: (now) => this.reading(() => d.nextDueAfter(now)),
      eventBody: (seq) => this.reading(() => d.eventBody(seq)),
      getRow: (did) => this.reading(() => d.getRow(did)),
      recordAttempts: (records, disableAfterMs, now) => d.recordAttempts(records, disableAfterMs, now),
      counts: () => this.reading(() => d.counts()),
      countsOf: (id) => this.reading(() => d.countsOf(id)),
      listDeliveries: (q) => this.reading(() => d.listDeliveries(q)),
      attemptsOf: (did, limit) => this.reading(() => d.attemptsOf(did, limit)),
      retryNow: (id, did, now) => d.retryNow(id, did, now),
      replay: (sub, range, now) => this.reading(() => d.replay(sub, range, now)),
      prune: (before) => d.prune(before),
      eventsAfter: (seq, limit) => this.reading(() => d.eventsAfter(seq, limit)),
      sinkCursor: (name) => this.reading(() => d.sinkCursor(name)),
      saveSinkCursor: (name, seq, now) => d.saveSinkCursor(name, seq, now),
    };
  }

  /**
   * Calls `on.committed` when any instance commits events into this database, and `on.removed`
   * when any instance's erasure removed events: a connection of its own LISTENs on both channels
   * (NOTIFY is sent inside the transaction, so it arrives once the change is visible). A lost
   * connection is made again every second; once it is back, both are called, for what happened
   * meanwhile.
   */
  watch(on: StoreWatcher): () => Promise<void> {
    let stopped = false;
    let client: pg.Client | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const again = () => {
      if (stopped) return;
      clearTimeout(timer);
      timer = setTimeout(() => void connect(), LISTEN_RETRY_MS);
      timer.unref();
    };
    const connect = async () => {
      if (stopped) return;
      const { default: driver } = await import('pg');
      const c = new driver.Client({ connectionString: this.options.url, application_name: 'switchboard-listen' });
      c.on('notification', (n) => (n.channel === REMOVED_CHANNEL ? on.removed() : on.committed()));
      c.on('error', () => undefined);
      c.on('end', () => {
        if (client === c) client = undefined;
        again();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${COMMIT_CHANNEL}`);
        await c.query(`LISTEN ${REMOVED_CHANNEL}`);
      } catch {
        await c.end().catch(() => undefined);
        again();
        return;
      }
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      on.removed();
      on.committed();
    };
    void connect();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    };
  }

  /** True when the store can take writes: open, and a round trip to PostgreSQL in a writable transaction succeeds. */
  async ping(): Promise<boolean> {
    if (!this.pool) return false;
    try {
      const [row] = await this.read<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
      return row?.ro === 'off';
    } catch {
      return false;
    }
  }

  /** Waits for the queries in flight, then closes every connection. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

/** A quarantine row read back: `raw` from its UTF-8 bytes. */
function quarantineOf(r: QuarantineRow): QuarantineEntry {
  return quarantineEntry({ ...r, raw: r.raw.toString('utf8') });
}

function toStored(row: SelectedRow): StoredEvent {
  const seq = asNumber(row.seq);
  return { seq, id: row.id, type: row.type, json: withSequence(row.body, seq) };
}

/** Escapes LIKE's `%`, `_` and `\` (the default escape character). */
function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A type glob (`*` any run of characters) as a LIKE pattern. */
function globToLike(glob: string): string {
  return glob.split('*').map(likeEscape).join('%');
}

/**
 * Applies the numbered `.sql` files of `dir` not yet applied, each in its own transaction, under
 * a session advisory lock: instances starting together apply each migration once.
 */
export async function migrate(pool: pg.Pool, dir: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const { version, name, sql } of pendingMigrations(dir, applied)) {
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [version, name, new Date().toISOString()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
