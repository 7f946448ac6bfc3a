/**
 * The SQLite backend (better-sqlite3): WAL journal, `synchronous=FULL` by default so that a
 * committed transaction is on disk before `commit()` resolves. Group commit happens one level up
 * (`GroupCommitter`): many ingest calls share one transaction and one fsync.
 *
 * Writes go to the writer (`writer.ts`): by default a worker thread with its own connection that
 * runs every write transaction — the commit with its projections and outbox rows, kv, the
 * subscription and outbox changes, rebuilds — so the main thread never waits on an fsync or a
 * write lock; reads stay on the main thread's connection (WAL: readers do not wait for the
 * writer). A `:memory:` database, and the `.ts` sources (vitest), run the same writer inline, on
 * the main connection (`writer` option).
 *
 * better-sqlite3 is synchronous: a statement waiting for a lock held by another connection waits
 * on its thread. While serving, the busy timeout is a few milliseconds and a locked database
 * fails fast with a `StoreError` of kind `busy`; the committer retries asynchronously.
 * Failures are classified (`busy`, `full`, `io`, `batch`) so that callers can tell a store-wide
 * condition from a problem of one commit's data; `ping()` answers false after a store-wide
 * failure until a commit, or a small write probe, goes through again.
 */
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreError, type StoreFailureKind, type SwitchboardEvent } from '../../../core/index.js';
import { SqliteDelivery } from './delivery.js';
import { SqliteProjections } from './projections.js';
import { SqliteErasures } from './erasure.js';
import { SqliteRetention } from './retention.js';
import type { ErasureRecord } from '../erasure-plan.js';
import { PRIVATE_DIR_MODE, privateDatabaseFile } from '../../private-files.js';
import type { ExpireResult } from '../retention-plan.js';
import { pendingMigrations } from '../migrations.js';
import { connectorStatsOf, quarantineEntry, type QuarantineRowText } from '../rows.js';
import { filters } from './where.js';
import { BULK_WRITER_YOUNG_GENERATION_MB, InlineWriterLink, ThreadWriterLink, WRITER_YOUNG_GENERATION_MB, type WriterLink } from './writer-link.js';
import { sqliteFailureKind, type WireBatch, type WireCommitResult, type WriterOpenOptions } from './writer.js';
import { withSequence, type CursorRow, type EventRow, type KvRow, type CommitBatch, type CommitOptions, type CommitResult, type ConnectorStats, type EventQuery, type KvEntry, type QuarantineEntry, type QuarantineResolution, type QuarantineStatus, type Store, type StoredEvent, type DeliveryStore, type ProjectionStore, type RetentionStore, type ErasureStore } from '../types.js';

export interface SqliteStoreOptions {
  /** Path of the database file; `:memory:` for tests that need no durability. */
  readonly path: string;
  /** `full` (default): fsync before every commit resolves. `normal`: WAL fsync only at checkpoints; a power loss may lose the last commits, a process crash loses nothing. */
  readonly durability?: 'full' | 'normal';
  /**
   * Where writes run. `thread` (the default for a file, from the compiled `dist/`): a worker
   * thread with its own connection. `inline`: in this thread on the store's connection (always
   * for `:memory:`, whose data no second connection sees; the default when running the `.ts`
   * sources, which a worker thread cannot load).
   */
  readonly writer?: 'thread' | 'inline';
  /** Tuned for a bulk load (`switchboard replay`): a larger young generation for the writer thread. */
  readonly bulk?: boolean;
  /** The worker entry (`writer-thread.js`); default: the one beside this module. Tests running the `.ts` sources point it at `dist/`. */
  readonly writerUrl?: URL;
}

/** The compiled writer thread's entry, beside this module in `dist/`. */
export const SQLITE_WRITER_URL = new URL('./writer-thread.js', import.meta.url);

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
/** Entities per transaction of `projections.catchUp()`: a few tens of milliseconds of the writer's time. */
const CATCH_UP_CHUNK = 500;
/** After a store-wide failure, `ping()` tries a write at most this often. */
const PROBE_INTERVAL_MS = 1000;

export { sqliteFailureKind } from './writer.js';

/**
 * The object's async methods with SQLite failures turned into `StoreError`s of their kind
 * (busy, full, io, …), as the contract has callers see them.
 */
/** Errors thrown by a caller's callback (e.g. `catchUp`'s `onProgress`): theirs, passed on as they are. */
const callerErrors = new WeakSet<object>();

function markCallerErrors(f: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  const mark = (err: unknown): never => {
    if (err !== null && typeof err === 'object') callerErrors.add(err);
    throw err;
  };
  return (...a: unknown[]) => {
    try {
      const out = f(...a);
      return out instanceof Promise ? out.catch(mark) : out;
    } catch (err) {
      return mark(err);
    }
  };
}

/** The arguments with their callbacks (and those of option objects) marking what they throw. */
function guardCallbacks(args: readonly unknown[]): unknown[] {
  return args.map((a) => {
    if (typeof a === 'function') return markCallerErrors(a as (...x: unknown[]) => unknown);
    if (a === null || typeof a !== 'object' || Object.getPrototypeOf(a) !== Object.prototype) return a;
    const entries = Object.entries(a as Record<string, unknown>);
    if (!entries.some(([, v]) => typeof v === 'function')) return a;
    return Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'function' ? markCallerErrors(v as (...x: unknown[]) => unknown) : v]));
  });
}

function storeErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const wrap = (err: unknown): never => {
          if (err instanceof StoreError || (err !== null && typeof err === 'object' && callerErrors.has(err))) throw err;
          throw new StoreError(`SQLite failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: sqliteFailureKind(err) });
        };
        try {
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(obj, guardCallbacks(args));
          return out instanceof Promise ? out.catch(wrap) : out;
        } catch (err) {
          return wrap(err);
        }
      };
    },
  });
}

/** A dead writer thread is replaced at most this often. */
const WRITER_RESTART_INTERVAL_MS = 1_000;

/** Folder of the numbered `.sql` migrations; the same from `src/` and from `dist/`. */
export const SQLITE_MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'migrations', 'sqlite');

interface Row {
  seq: number;
  id: string;
  type: string;
  body: string;
}

export type { InsertedEvent } from './inserted.js';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly queryCache = new Map<string, Database.Statement<(string | number)[], Row>>();
  private readonly closedError = (): never => {
    throw new StoreError('the store is closed', { closed: true });
  };
  /** The projection tables, read on this thread's connection (the writer updates them in its commits). */
  private readonly projectionTables = new SqliteProjections(this.closedError);
  readonly projections: ProjectionStore = storeErrors(this.projectionView());
  /** The delivery tables, read on this thread's connection; their writes go to the writer. */
  private readonly deliveryTables = new SqliteDelivery(this.closedError);
  readonly delivery: DeliveryStore = storeErrors(this.deliveryView());
  /** The retention horizon, read on this thread's connection; the passes run in the writer. */
  private readonly retentionTables = new SqliteRetention(this.closedError);
  readonly retention: RetentionStore = storeErrors({
    expireEvents: (req) => this.write<ExpireResult>('expireEvents', [req]),
    expireQuarantine: (before, limit) => this.write<number>('expireQuarantine', [before, limit]),
    expireConnectorState: (which, before, limit) => this.write<number>('expireConnectorState', [which, before, limit]),
    horizon: async () => this.retentionTables.horizon(),
    scanExpired: async (req) => this.retentionTables.scanExpired(req),
    lastSeqBefore: async (before) => this.retentionTables.lastSeqBefore(before),
  });
  /** The erasure records, read on this thread's connection; the steps run in the writer. */
  private readonly erasureTables = new SqliteErasures(this.closedError);
  readonly erasures: ErasureStore = storeErrors({
    start: (st) => this.write<ErasureRecord>('erasureStart', [st]),
    step: (id, limit) => this.write<ErasureRecord>('erasureStep', [id, limit]),
    get: async (id) => this.erasureTables.get(id),
    list: async () => this.erasureTables.list(),
    running: async () => this.erasureTables.running(),
  });
  private db: Database.Database | undefined;
  private stmts: ReturnType<SqliteStore['prepare']> | undefined;
  /** The writer: a worker thread, or inline on `db`. */
  private link: WriterLink | undefined;
  /** The checkpointer thread (thread mode only). */
  private checkpointer: Worker | undefined;
  private firstDelayMs: number | undefined;
  /** The last store-wide failure of a write, until a write goes through again. */
  private failure: StoreFailureKind | undefined;
  private lastProbeAt = 0;
  /** How the writer thread was started, to start another if it dies. */
  private writerStart: { url: URL; options: WriterOpenOptions; youngGenerationMb: number } | undefined;
  private restarting: Promise<WriterLink> | undefined;
  private lastRestartAt = 0;

  constructor(private readonly options: SqliteStoreOptions) {}

  /** Where writes run (see `SqliteStoreOptions.writer`). */
  get writerMode(): 'thread' | 'inline' {
    if (this.options.path === ':memory:') return 'inline';
    if (this.options.writer) return this.options.writer;
    return this.options.writerUrl !== undefined || import.meta.url.endsWith('.js') ? 'thread' : 'inline';
  }

  async open(options: SqliteOpenOptions = {}): Promise<void> {
    if (this.db) return;
    let db: Database.Database | undefined;
    try {
      if (this.options.path !== ':memory:') {
        // A folder made here is 0700; the database and its WAL are this user's only (0600).
        mkdirSync(dirname(this.options.path), { recursive: true, mode: PRIVATE_DIR_MODE });
        privateDatabaseFile(this.options.path);
      }
      db = new Database(this.options.path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`busy_timeout = ${SQLITE_OFFLINE_BUSY_TIMEOUT_MS}`);
      migrate(db, SQLITE_MIGRATIONS);
      const busyTimeoutMs = Math.max(0, Math.round(options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS));
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      if (this.writerMode === 'inline') this.link = new InlineWriterLink(db, this.firstDelayMs);
      else {
        this.writerStart = {
          url: this.options.writerUrl ?? SQLITE_WRITER_URL,
          options: { path: this.options.path, durability: this.options.durability, busyTimeoutMs, firstDelayMs: this.firstDelayMs, autocheckpoint: false },
          youngGenerationMb: this.options.bulk ? BULK_WRITER_YOUNG_GENERATION_MB : WRITER_YOUNG_GENERATION_MB,
        };
        this.link = await ThreadWriterLink.start(this.writerStart.url, this.writerStart.options, this.writerStart.youngGenerationMb);
      }
      // With the writer on its thread, checkpoints run on a third one (the writer's are off).
      if (this.link.mode === 'thread') this.checkpointer = startCheckpointer(new URL('./checkpoint-thread.js', this.options.writerUrl ?? SQLITE_WRITER_URL), this.options.path);
      this.db = db;
      this.stmts = this.prepare(db);
      this.projectionTables.attach(db);
      this.deliveryTables.attach(db);
      this.retentionTables.attach(db);
      this.erasureTables.attach(db);
      if (this.firstDelayMs !== undefined) this.deliveryTables.configure({ firstDelayMs: this.firstDelayMs });
      this.failure = undefined;
    } catch (err) {
      db?.close();
      throw new StoreError(`cannot open SQLite store at ${this.options.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The reads of this thread's connection (writes are the writer's). */
  private prepare(db: Database.Database) {
    return {
      getEvent: db.prepare<[string], Row>('SELECT seq, id, type, body FROM events WHERE id = ?'),
      latest: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events'),
      getCursor: db.prepare<[string], { cursor: string }>('SELECT cursor FROM cursors WHERE connector_id = ?'),
      stats: db.prepare<[], { connector_id: string; events: number; last_seq: number; last_received: string }>(
        'SELECT connector_id, count(*) AS events, max(seq) AS last_seq, max(received_at) AS last_received FROM events GROUP BY connector_id',
      ),
      kvGet: db.prepare<[string, string, string], { value: string; updated_at: string }>('SELECT value, updated_at FROM connector_kv WHERE connector_id = ? AND namespace = ? AND key = ?'),
      quarantineCounts: db.prepare<[], { connector_id: string; n: number }>('SELECT connector_id, count(*) AS n FROM quarantine GROUP BY connector_id'),
    };
  }

  private handle() {
    if (!this.db || !this.stmts) throw new StoreError('the store is closed', { closed: true });
    return { db: this.db, stmts: this.stmts };
  }

  /**
   * The writer to call: the current one, or — when its thread died (the calls in flight then
   * failed with an `io` StoreError) — a new thread on a new connection, started at most once a
   * second; until one is up, calls fail as the dead one's did.
   */
  private async liveLink(): Promise<WriterLink> {
    const link = this.link ?? this.closedError();
    const dead = link.dead;
    if (!dead || !this.writerStart) return link;
    if (this.restarting) return this.restarting;
    const now = Date.now();
    if (now - this.lastRestartAt < WRITER_RESTART_INTERVAL_MS) throw dead;
    this.lastRestartAt = now;
    const { url, options, youngGenerationMb } = this.writerStart;
    this.restarting = ThreadWriterLink.start(url, { ...options, firstDelayMs: this.firstDelayMs }, youngGenerationMb)
      .then(async (next) => {
        if (this.link !== link) {
          // Closed (or replaced) while starting: this one is not needed.
          await next.close();
          return this.link ?? this.closedError();
        }
        this.link = next;
        await link.close().catch(() => undefined);
        return next;
      })
      .catch((err: unknown) => {
        throw err instanceof StoreError ? err : new StoreError(`cannot restart the SQLite writer: ${err instanceof Error ? err.message : String(err)}`, { kind: 'io', cause: err });
      })
      .finally(() => {
        this.restarting = undefined;
      });
    return this.restarting;
  }

  /** A call to the writer; `tracked`: a store-wide failure is remembered for `ping()`, a success clears it. */
  private async write<T>(method: string, args: readonly unknown[], tracked = false): Promise<T> {
    try {
      // The current writer is taken at once (a close right after this call waits for it).
      const current = this.link ?? this.closedError();
      const link = current.dead ? await this.liveLink() : current;
      const out = (await link.call(method, args)) as T;
      if (tracked) this.failure = undefined;
      return out;
    } catch (err) {
      const e = err instanceof StoreError ? err : new StoreError(`SQLite ${method} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: sqliteFailureKind(err) });
      if (tracked && e.kind !== 'batch' && e.kind !== 'closed') this.failure = e.kind;
      throw e;
    }
  }

  /**
   * Commits in the writer's transaction; resolves once the writer's COMMIT returned (durable with
   * `synchronous=FULL`). The events cross as their JSON (each serialized once, by the committer).
   */
  async commit(batches: readonly CommitBatch[], options: CommitOptions = {}): Promise<CommitResult[]> {
    // The current writer is taken at once (a close right after this call waits for it).
    const current = this.link ?? this.closedError();
    const link = current.dead ? await this.liveLink() : current;
    let wire: WireBatch[];
    try {
      wire = batches.map((b) => ({
        connectorId: b.connectorId,
        receivedAt: b.receivedAt,
        bodies: b.bodies ?? b.events.map((e) => JSON.stringify(e)),
        // Inline, the writer takes the objects as they are; a thread parses the JSON.
        events: link.mode === 'inline' ? b.events : undefined,
        quarantine: b.quarantine,
        cursor: b.cursor,
      }));
    } catch (err) {
      throw new StoreError(`SQLite commit failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: 'batch' });
    }
    const results = await this.write<WireCommitResult[]>('commit', options.deferProjections ? [wire, { deferProjections: true }] : [wire], true);
    return results.map((r, i) => {
      const b = batches[i] as CommitBatch;
      const bodies = (wire[i] as WireBatch).bodies;
      return {
        stored: r.seqs.map((seq, j): StoredEvent | undefined => {
          const e = b.events[j] as SwitchboardEvent;
          return seq === 0 ? undefined : { seq, id: e.id, type: e.type, json: withSequence(bodies[j] as string, seq) };
        }),
        quarantineIds: r.quarantineIds,
      };
    });
  }

  /** A StoreError for a failed read, its kind taken from the error. */
  private failed(what: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    return new StoreError(`SQLite ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: sqliteFailureKind(err) });
  }

  /** Runs a read: a store-wide failure (locked, I/O) becomes a StoreError; anything else (a bug) is thrown as it is. */
  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (sqliteFailureKind(err) === 'batch') throw err;
      throw this.failed(what, err);
    }
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.read('read', () => this.handle().stmts.getEvent.get(id));
    return row && toStored(row);
  }

  async queryEvents(q: EventQuery): Promise<StoredEvent[]> {
    const f = filters();
    f.add('seq > ?', q.after);
    f.add('seq < ?', q.before);
    if (q.types && q.types.length > 0) {
      const exact = q.types.filter((t) => !t.includes('*'));
      const globs = q.types.filter((t) => t.includes('*'));
      const ors: string[] = [];
      if (exact.length) {
        ors.push(`type IN (${exact.map(() => '?').join(', ')})`);
        f.params.push(...exact);
      }
      for (const g of globs) {
        ors.push('type GLOB ?');
        f.params.push(globEscape(g));
      }
      f.where.push(`(${ors.join(' OR ')})`);
    }
    f.add('platform = ?', q.platform);
    f.add('connector_id = ?', q.connectorId);
    if (q.subject?.endsWith('*')) f.add('subject GLOB ?', `${globEscape(q.subject.slice(0, -1)).replace(/\*/g, '[*]')}*`);
    else f.add('subject = ?', q.subject);
    const { where, params } = f;
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

  async listQuarantine(q: { after?: number | undefined; limit: number; connectorId?: string | undefined; status?: QuarantineStatus | undefined }): Promise<QuarantineEntry[]> {
    const { db } = this.handle();
    const f = filters();
    f.add('qid > ?', q.after ?? 0);
    f.add('connector_id = ?', q.connectorId);
    if (q.status === 'open') f.where.push('resolution IS NULL');
    else f.add("json_extract(resolution, '$.action') = ?", q.status);
    const rows = this.read('read', () => db.prepare<(string | number)[], QuarantineRowText>(`SELECT * FROM quarantine WHERE ${f.where.join(' AND ')} ORDER BY qid LIMIT ?`).all(...f.params, q.limit));
    return rows.map(quarantineEntry);
  }

  async getQuarantine(id: string): Promise<QuarantineEntry | undefined> {
    if (!/^\d{1,16}$/.test(id)) return undefined;
    const row = this.read('read', () => this.handle().db.prepare<[number], QuarantineRowText>('SELECT * FROM quarantine WHERE qid = ?').get(Number(id)));
    return row && quarantineEntry(row);
  }

  async resolveQuarantine(id: string, resolution: QuarantineResolution): Promise<boolean> {
    if (!/^\d{1,16}$/.test(id)) return false;
    return this.write<boolean>('resolveQuarantine', [Number(id), JSON.stringify(resolution)], true);
  }

  async getCursor(connectorId: string): Promise<string | undefined> {
    return this.read('read', () => this.handle().stmts.getCursor.get(connectorId))?.cursor;
  }

  async connectorStats(): Promise<ConnectorStats[]> {
    const { stmts } = this.handle();
    const quarantined = new Map(this.read('read', () => stmts.quarantineCounts.all()).map((r) => [r.connector_id, r.n]));
    return connectorStatsOf(
      this.read('read', () => stmts.stats.all()).map((r) => ({ connectorId: r.connector_id, events: r.events, lastSequence: r.last_seq, lastReceivedAt: r.last_received })),
      quarantined,
    );
  }

  async kvGet(connectorId: string, namespace: string, key: string): Promise<KvEntry | undefined> {
    const row = this.read('read', () => this.handle().stmts.kvGet.get(connectorId, namespace, key));
    return row && { value: row.value, updatedAt: row.updated_at };
  }

  async kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): Promise<void> {
    await this.write('kvPut', [connectorId, namespace, key, value, updatedAt], true);
  }

  // ─── export (`switchboard migrate`) ──────────────────────────────────────────────────────

  /** Stored events after a sequence, in order, with every column. */
  async exportEvents(after: number, limit: number): Promise<EventRow[]> {
    return this.read('read', () =>
      this.handle()
        .db.prepare<[number, number], EventRow>(
          'SELECT seq, id, type, platform, connector_id AS connectorId, subject, time, received_at AS receivedAt, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
        )
        .all(after, limit),
    );
  }

  async exportCursors(): Promise<CursorRow[]> {
    return this.read('read', () => this.handle().db.prepare<[], CursorRow>('SELECT connector_id AS connectorId, cursor, updated_at AS updatedAt FROM cursors ORDER BY connector_id').all());
  }

  async exportKv(): Promise<KvRow[]> {
    return this.read('read', () =>
      this.handle().db.prepare<[], KvRow>('SELECT connector_id AS connectorId, namespace, key, value, updated_at AS updatedAt FROM connector_kv ORDER BY connector_id, namespace, key').all(),
    );
  }

  /** The projections: reads on this connection, `rebuild` in the writer. */
  private projectionView(): ProjectionStore {
    const t = this.projectionTables;
    return {
      listCalls: (q) => t.listCalls(q),
      getCall: (c, id) => t.getCall(c, id),
      listConversations: (q) => t.listConversations(q),
      getConversation: (c, id) => t.getConversation(c, id),
      timelineEvents: (c, id) => t.timelineEvents(c, id),
      listOperators: (q) => t.listOperators(q),
      stats: (q) => t.stats(q),
      rebuild: () => this.write('rebuild', []),
      catchUp: async (options = {}) => {
        const chunk = options.chunk ?? CATCH_UP_CHUNK;
        // Counted once (a count per chunk would scan the table each time); `left` is an estimate
        // when other bulk commits add entities meanwhile.
        let total = t.countPending();
        let done = 0;
        for (;;) {
          const n = await this.write<number>('catchUp', [chunk]);
          done += n;
          total = Math.max(total, done);
          options.onProgress?.(done, total - done);
          if (n < chunk) return done;
        }
      },
      pendingCount: async () => t.countPending(),
    };
  }

  /**
   * The delivery tables: reads on this connection; every write in the writer, whose copy of the
   * subscriptions matches the events of its commits. After a write that may change a
   * subscription, this side's copy is read again from the tables (the writer has committed).
   */
  private deliveryView(): DeliveryStore {
    const t = this.deliveryTables;
    const write = async <T>(method: string, args: readonly unknown[], subscriptions: boolean): Promise<T> => {
      const out = await this.write<T>(method, args);
      if (subscriptions && this.db) t.reloadSubscriptions();
      return out;
    };
    return {
      configure: (options) => {
        this.firstDelayMs = options.firstDelayMs;
        t.configure(options);
        // In order before any later commit; a failure shows on the next call.
        this.link?.call('configure', [options]).catch(() => undefined);
      },
      list: () => t.list(),
      get: (id) => t.get(id),
      put: (input, now) => write('put', [input, now], true),
      setEnabled: (id, enabled, reason, now) => write('setEnabled', [id, enabled, reason, now], true),
      setSecrets: (id, secrets, now) => write('setSecrets', [id, secrets, now], true),
      delete: (id) => write('delete', [id], true),
      due: (sub, now, limit) => t.due(sub, now, limit),
      nextDueAfter: (now) => t.nextDueAfter(now),
      eventBody: (seq) => t.eventBody(seq),
      getRow: (did) => t.getRow(did),
      recordAttempts: (records, disableAfterMs, now) => write('recordAttempts', [records, disableAfterMs, now], true),
      counts: () => t.counts(),
      countsOf: (id) => t.countsOf(id),
      listDeliveries: (q) => t.listDeliveries(q),
      attemptsOf: (did, limit) => t.attemptsOf(did, limit),
      replay: (sub, range, now) => write('replay', [sub, range, now], false),
      retryNow: (id, did, now) => write('retryNow', [id, did, now], false),
      prune: (before) => write('prune', [before], false),
      eventsAfter: (seq, limit) => t.eventsAfter(seq, limit),
      sinkCursor: (name) => t.sinkCursor(name),
      saveSinkCursor: (name, seq, now) => write('saveSinkCursor', [name, seq, now], false),
    };
  }

  /**
   * True when the store can take writes: open, its writer alive, and no store-wide failure
   * (locked, disk full, I/O error) of a write since the last one that went through. After such a
   * failure a small write (the header's `user_version`, rewritten with its own value) is tried in
   * the writer, at most once a second, so that readiness comes back without waiting for traffic.
   */
  async ping(): Promise<boolean> {
    if (!this.db || !this.link) return false;
    if (this.link.dead) {
      // A dead writer thread: readiness comes back once a new one is up.
      try {
        if ((await this.liveLink()).dead) return false;
      } catch {
        return false;
      }
    }
    if (this.failure === undefined) return true;
    const now = Date.now();
    if (now - this.lastProbeAt < PROBE_INTERVAL_MS) return false;
    this.lastProbeAt = now;
    try {
      await this.write('probe', [], true);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for the writer's calls in flight, closes its connection (and thread), then this one. */
  async close(): Promise<void> {
    const link = this.link;
    const db = this.db;
    this.link = undefined;
    this.db = undefined;
    this.stmts = undefined;
    this.queryCache.clear();
    this.projectionTables.detach();
    this.deliveryTables.detach();
    this.retentionTables.detach();
    this.erasureTables.detach();
    await link?.close();
    const checkpointer = this.checkpointer;
    this.checkpointer = undefined;
    if (checkpointer) await stopCheckpointer(checkpointer);
    db?.close();
  }
}

/** How often the checkpointer copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 250;

function startCheckpointer(url: URL, path: string): Worker {
  const worker = new Worker(url, { workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS }, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
  worker.unref();
  // A checkpointer that dies costs only WAL growth until the next start; the commits go on.
  worker.on('error', () => undefined);
  return worker;
}

/** A last checkpoint, then the thread ends (or is ended after a second). */
async function stopCheckpointer(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage('close');
  const timer = setTimeout(() => void worker.terminate(), 1000);
  await exited;
  clearTimeout(timer);
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
  for (const { version, name, sql } of pendingMigrations(dir, applied)) {
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, name, new Date().toISOString());
    }).immediate();
  }
}
