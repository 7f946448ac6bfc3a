/**
 * The SQLite backend (better-sqlite3): WAL journal, `synchronous=FULL` by default so that a
 * committed transaction is on disk before `commit()` resolves. Group commit happens one level up
 * (`GroupCommitter`): many ingest calls share one transaction and one fsync.
 *
 * better-sqlite3 is synchronous: a statement waiting for a lock held by another connection waits
 * on the event loop. So while serving, the busy timeout is a few milliseconds and a locked
 * database fails fast with a `StoreError` of kind `busy`; the committer retries asynchronously.
 * Failures are classified (`busy`, `full`, `io`, `batch`) so that callers can tell a store-wide
 * condition from a problem of one commit's data; `ping()` answers false after a store-wide
 * failure until a commit, or a small write probe, goes through again.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreError, type StoreFailureKind, type SwitchboardEvent } from '../../../core/index.js';
import { SqliteDelivery } from './delivery.js';
import { SqliteProjections } from './projections.js';
import { withSequence, type CommitBatch, type CommitResult, type ConnectorStats, type EventQuery, type KvEntry, type QuarantineEntry, type Store, type StoredEvent, type DeliveryStore, type ProjectionStore } from '../types.js';

export interface SqliteStoreOptions {
  /** Path of the database file; `:memory:` for tests that need no durability. */
  readonly path: string;
  /** `full` (default): fsync before every commit resolves. `normal`: WAL fsync only at checkpoints; a power loss may lose the last commits, a process crash loses nothing. */
  readonly durability?: 'full' | 'normal';
}

export interface SqliteOpenOptions {
  /**
   * How long a statement waits for a lock held by another connection before failing with a
   * `busy` StoreError, once open (default `SQLITE_BUSY_TIMEOUT_MS`). The wait blocks the event
   * loop, so a server keeps it short and the committer retries asynchronously instead; an
   * offline command (`replay`, `rebuild`) may wait longer (`SQLITE_OFFLINE_BUSY_TIMEOUT_MS`).
   */
  readonly busyTimeoutMs?: number;
}

/** The busy timeout while serving: a few milliseconds (see `SqliteOpenOptions.busyTimeoutMs`). */
export const SQLITE_BUSY_TIMEOUT_MS = 5;
/** The busy timeout while opening (migrations) and in offline commands: nothing is served, so a blocking wait is harmless. */
export const SQLITE_OFFLINE_BUSY_TIMEOUT_MS = 5000;
/** After a store-wide failure, `ping()` tries a write at most this often. */
const PROBE_INTERVAL_MS = 1000;

/**
 * The kind of a failure of a SQLite call, from its result code: a lock held elsewhere (`busy`),
 * a full disk or database size limit (`full`), a file that cannot be written or read (`io`), or,
 * for anything else (a constraint, a value that cannot be bound, an error in a commit hook), a
 * problem of what this call carried (`batch`).
 */
export function sqliteFailureKind(err: unknown): StoreFailureKind {
  if (err instanceof StoreError) return err.kind;
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === 'SQLITE_FULL') return 'full';
  if (/^SQLITE_(IOERR|CANTOPEN|CORRUPT|NOTADB|READONLY|PERM|NOMEM|PROTOCOL)/.test(code)) return 'io';
  return 'batch';
}

/**
 * The object's async methods with SQLite failures turned into `StoreError`s of their kind
 * (busy, full, io, …), as the contract has callers see them.
 */
function storeErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const wrap = (err: unknown): never => {
          if (err instanceof StoreError) throw err;
          throw new StoreError(`SQLite failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: sqliteFailureKind(err) });
        };
        try {
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return out instanceof Promise ? out.catch(wrap) : out;
        } catch (err) {
          return wrap(err);
        }
      };
    },
  });
}

/** Folder of the numbered `.sql` migrations; the same from `src/` and from `dist/`. */
export const SQLITE_MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'migrations', 'sqlite');

interface Row {
  seq: number;
  id: string;
  type: string;
  body: string;
}

/** An event inserted by the transaction in progress. */
export interface InsertedEvent {
  readonly seq: number;
  readonly connectorId: string;
  readonly event: SwitchboardEvent;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly queryCache = new Map<string, Database.Statement<(string | number)[], Row>>();
  private readonly closedError = (): never => {
    throw new StoreError('the store is closed', { closed: true });
  };
  /** The calls, conversations and operators tables, updated in every commit transaction. */
  private readonly projectionTables = new SqliteProjections(this.closedError);
  readonly projections: ProjectionStore = storeErrors(this.projectionTables);
  /** Subscriptions, outbox (written in every commit transaction), attempts, sink cursors. */
  private readonly deliveryTables = new SqliteDelivery(this.closedError);
  readonly delivery: DeliveryStore = storeErrors(this.deliveryTables);
  private db: Database.Database | undefined;
  private stmts: ReturnType<SqliteStore['prepare']> | undefined;
  /** The last store-wide failure of a write, until a write goes through again. */
  private failure: StoreFailureKind | undefined;
  private lastProbeAt = 0;

  constructor(private readonly options: SqliteStoreOptions) {}

  async open(options: SqliteOpenOptions = {}): Promise<void> {
    if (this.db) return;
    try {
      if (this.options.path !== ':memory:') mkdirSync(dirname(this.options.path), { recursive: true });
      const db = new Database(this.options.path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`busy_timeout = ${SQLITE_OFFLINE_BUSY_TIMEOUT_MS}`);
      migrate(db, SQLITE_MIGRATIONS);
      this.db = db;
      this.stmts = this.prepare(db);
      this.projectionTables.attach(db);
      this.deliveryTables.attach(db);
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS))}`);
      this.failure = undefined;
    } catch (err) {
      throw new StoreError(`cannot open SQLite store at ${this.options.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  private prepare(db: Database.Database) {
    return {
      insertEvent: db.prepare<[string, string, string, string, string, string, string, string]>(
        'INSERT OR IGNORE INTO events (id, type, platform, connector_id, subject, time, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertQuarantine: db.prepare<[string, string, string, string, string | null, string, string | null]>(
        'INSERT INTO quarantine (connector_id, received_at, code, reason, content_type, raw, raw_encoding) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertCursor: db.prepare<[string, string, string]>(
        'INSERT INTO cursors (connector_id, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (connector_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at',
      ),
      getEvent: db.prepare<[string], Row>('SELECT seq, id, type, body FROM events WHERE id = ?'),
      latest: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events'),
      getCursor: db.prepare<[string], { cursor: string }>('SELECT cursor FROM cursors WHERE connector_id = ?'),
      stats: db.prepare<[], { connector_id: string; events: number; last_seq: number; last_received: string }>(
        'SELECT connector_id, count(*) AS events, max(seq) AS last_seq, max(received_at) AS last_received FROM events GROUP BY connector_id',
      ),
      kvGet: db.prepare<[string, string, string], { value: string; updated_at: string }>('SELECT value, updated_at FROM connector_kv WHERE connector_id = ? AND namespace = ? AND key = ?'),
      kvPut: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (connector_id, namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      ),
      quarantineCounts: db.prepare<[], { connector_id: string; n: number }>('SELECT connector_id, count(*) AS n FROM quarantine GROUP BY connector_id'),
    };
  }

  private handle() {
    if (!this.db || !this.stmts) throw new StoreError('the store is closed', { closed: true });
    return { db: this.db, stmts: this.stmts };
  }

  async commit(batches: readonly CommitBatch[]): Promise<CommitResult[]> {
    const { db, stmts } = this.handle();
    const run = db.transaction((): CommitResult[] => {
      const inserted: InsertedEvent[] = [];
      const results = batches.map((batch) => {
        const stored = batch.events.map((e, j): StoredEvent | undefined => {
          const body = batch.bodies?.[j] ?? JSON.stringify(e);
          const info = stmts.insertEvent.run(e.id, e.type, e.platform, batch.connectorId, e.subject, e.time, batch.receivedAt, body);
          if (info.changes === 0) return undefined;
          const seq = Number(info.lastInsertRowid);
          inserted.push({ seq, connectorId: batch.connectorId, event: e });
          return { seq, id: e.id, type: e.type, json: withSequence(body, seq) };
        });
        const quarantineIds = batch.quarantine.map((q) =>
          String(stmts.insertQuarantine.run(q.connectorId, q.receivedAt, q.code, q.reason, q.contentType ?? null, q.raw, q.rawEncoding ?? null).lastInsertRowid),
        );
        if (batch.cursor !== undefined) stmts.upsertCursor.run(batch.connectorId, batch.cursor, batch.receivedAt);
        return { stored, quarantineIds };
      });
      // Projections and the delivery outbox change in the same transaction as the events.
      if (inserted.length > 0) {
        this.projectionTables.apply(inserted);
        this.deliveryTables.enqueueInserted(inserted);
      }
      return results;
    });
    try {
      const results = run.immediate();
      this.failure = undefined;
      return results;
    } catch (err) {
      throw this.failed('commit', err, true);
    }
  }

  /** A StoreError for a failed call, its kind taken from the error; a store-wide failure of a write is remembered for `ping()`. */
  private failed(what: string, err: unknown, write: boolean): StoreError {
    if (err instanceof StoreError) return err;
    const kind = sqliteFailureKind(err);
    if (write && kind !== 'batch') this.failure = kind;
    return new StoreError(`SQLite ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind });
  }

  /** Runs a read: a store-wide failure (locked, I/O) becomes a StoreError; anything else (a bug) is thrown as it is. */
  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (sqliteFailureKind(err) === 'batch') throw err;
      throw this.failed(what, err, false);
    }
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.read('read', () => this.handle().stmts.getEvent.get(id));
    return row && toStored(row);
  }

  async queryEvents(q: EventQuery): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.after !== undefined) {
      where.push('seq > ?');
      params.push(q.after);
    }
    if (q.before !== undefined) {
      where.push('seq < ?');
      params.push(q.before);
    }
    if (q.types && q.types.length > 0) {
      const exact = q.types.filter((t) => !t.includes('*'));
      const globs = q.types.filter((t) => t.includes('*'));
      const ors: string[] = [];
      if (exact.length) {
        ors.push(`type IN (${exact.map(() => '?').join(', ')})`);
        params.push(...exact);
      }
      for (const g of globs) {
        ors.push('type GLOB ?');
        params.push(globEscape(g));
      }
      where.push(`(${ors.join(' OR ')})`);
    }
    if (q.platform !== undefined) {
      where.push('platform = ?');
      params.push(q.platform);
    }
    if (q.connectorId !== undefined) {
      where.push('connector_id = ?');
      params.push(q.connectorId);
    }
    if (q.subject !== undefined) {
      if (q.subject.endsWith('*')) {
        where.push('subject GLOB ?');
        params.push(`${globEscape(q.subject.slice(0, -1)).replace(/\*/g, '[*]')}*`);
      } else {
        where.push('subject = ?');
        params.push(q.subject);
      }
    }
    const sql = `SELECT seq, id, type, body FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${q.newestFirst ? ' DESC' : ''} LIMIT ?`;
    params.push(q.limit);
    return this.read('query', () => this.cached(sql).all(...params)).map(toStored);
  }

  /** Queries built from filters are few distinct texts: prepare each once. */
  private cached(sql: string): Database.Statement<(string | number)[], Row> {
    let st = this.queryCache.get(sql);
    if (!st) {
      st = this.handle().db.prepare<(string | number)[], Row>(sql);
      if (this.queryCache.size > 200) this.queryCache.clear();
      this.queryCache.set(sql, st);
    }
    return st;
  }

  async latestSequence(): Promise<number> {
    return this.read('read', () => this.handle().stmts.latest.get())?.seq ?? 0;
  }

  async listQuarantine(q: { after?: number | undefined; limit: number; connectorId?: string | undefined }): Promise<QuarantineEntry[]> {
    const { db } = this.handle();
    const rows = this.read('read', () => db
      .prepare<[number, string | null, string | null, number], { qid: number; connector_id: string; received_at: string; code: string; reason: string; content_type: string | null; raw: string; raw_encoding: 'base64' | null }>(
        'SELECT * FROM quarantine WHERE qid > ? AND (? IS NULL OR connector_id = ?) ORDER BY qid LIMIT ?',
      )
      .all(q.after ?? 0, q.connectorId ?? null, q.connectorId ?? null, q.limit));
    return rows.map((r) => ({
      id: String(r.qid),
      connectorId: r.connector_id,
      receivedAt: r.received_at,
      code: r.code,
      reason: r.reason,
      contentType: r.content_type ?? undefined,
      raw: r.raw,
      ...(r.raw_encoding === null ? {} : { rawEncoding: r.raw_encoding }),
    }));
  }

  async getCursor(connectorId: string): Promise<string | undefined> {
    return this.read('read', () => this.handle().stmts.getCursor.get(connectorId))?.cursor;
  }

  async connectorStats(): Promise<ConnectorStats[]> {
    const { stmts } = this.handle();
    const quarantined = new Map(this.read('read', () => stmts.quarantineCounts.all()).map((r) => [r.connector_id, r.n]));
    const out: ConnectorStats[] = this.read('read', () => stmts.stats.all()).map((r) => ({
      connectorId: r.connector_id,
      events: r.events,
      lastSequence: r.last_seq,
      lastReceivedAt: r.last_received,
      quarantined: quarantined.get(r.connector_id) ?? 0,
    }));
    for (const [connectorId, n] of quarantined) {
      if (!out.some((s) => s.connectorId === connectorId)) out.push({ connectorId, events: 0, lastSequence: undefined, lastReceivedAt: undefined, quarantined: n });
    }
    return out;
  }

  async kvGet(connectorId: string, namespace: string, key: string): Promise<KvEntry | undefined> {
    const row = this.read('read', () => this.handle().stmts.kvGet.get(connectorId, namespace, key));
    return row && { value: row.value, updatedAt: row.updated_at };
  }

  async kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): Promise<void> {
    const { stmts } = this.handle();
    try {
      stmts.kvPut.run(connectorId, namespace, key, value, updatedAt);
    } catch (err) {
      throw this.failed('write', err, true);
    }
    this.failure = undefined;
  }

  /**
   * True when the store can take writes: open, and no store-wide failure (locked, disk full,
   * I/O error) of a write since the last one that went through. After such a failure a small
   * write (the header's `user_version`, rewritten with its own value) is tried, at most once a
   * second, so that readiness comes back without waiting for traffic.
   */
  async ping(): Promise<boolean> {
    if (!this.db) return false;
    if (this.failure === undefined) return true;
    const now = Date.now();
    if (now - this.lastProbeAt < PROBE_INTERVAL_MS) return false;
    this.lastProbeAt = now;
    const db = this.db;
    try {
      db.transaction(() => db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`)).immediate();
      this.failure = undefined;
      return true;
    } catch (err) {
      this.failed('write probe', err, true);
      return false;
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.stmts = undefined;
    this.queryCache.clear();
    this.projectionTables.detach();
    this.deliveryTables.detach();
    db?.close();
  }
}

function toStored(row: Row): StoredEvent {
  return { seq: row.seq, id: row.id, type: row.type, json: withSequence(row.body, row.seq) };
}

/** Escapes GLOB's `?` and `[` so only `*` stays a wildcard. */
function globEscape(pattern: string): string {
  return pattern.replace(/[?[]/g, (c) => `[${c}]`);
}

/** Applies the numbered `.sql` files of `dir` not yet applied, each in its own transaction. */
export function migrate(db: Database.Database, dir: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version));
  const files = readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  for (const file of files) {
    const version = parseInt(file, 10);
    if (applied.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, new Date().toISOString());
    }).immediate();
  }
}

