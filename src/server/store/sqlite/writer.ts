/**
 * The SQLite writer: the one connection that writes, and everything written with it — the commit
 * (events, quarantine, cursors, the projections recomputed by `SqliteProjections.apply`, the outbox
 * rows of `SqliteDelivery.enqueueInserted`, in one transaction), connector kv, the subscription
 * and outbox changes, projection rebuilds and the write probe behind `ping()`.
 *
 * The same class runs in two places: on a worker thread (`writer-thread.ts`, the default for a
 * database file), so that the main thread never waits on a write lock or an fsync; or inline, in
 * the caller's thread on the caller's connection (`:memory:` databases, and `.ts` sources under
 * vitest where a worker cannot load TypeScript). Callers reach it through `call(method, args)`
 * with structured-clonable arguments and results; a failure crosses as a `WireError` and is made a
 * `StoreError` of the same kind again on the other side (`fromWireError`).
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreFailureKind, SwitchboardEvent } from '../../../core/index.js';
// Not core/index.js: that would load every data schema (zod) into the writer thread.
import { StoreError } from '../../../core/errors.js';
import type { CommitOptions, QuarantineInput } from '../types.js';
import { SqliteDelivery } from './delivery.js';
import { SqliteProjections } from './projections.js';
import { SqliteErasures } from './erasure.js';
import { SqliteRetention } from './retention.js';

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

/** One batch of a commit as it crosses to the writer: the events as their JSON (`bodies`). */
export interface WireBatch {
  readonly connectorId: string;
  readonly receivedAt: string;
  readonly bodies: readonly string[];
  /** The parsed events, position for position: only inline (a thread parses `bodies`). */
  readonly events?: readonly SwitchboardEvent[] | undefined;
  readonly quarantine: readonly QuarantineInput[];
  readonly cursor?: string | undefined;
}

export interface WireCommitResult {
  /** Per event: its sequence, or 0 when its id was already stored. */
  readonly seqs: number[];
  readonly quarantineIds: string[];
}

/** A failure as it crosses back from the writer. */
export interface WireError {
  readonly message: string;
  readonly kind: StoreFailureKind;
  /** The SQLite result code, when there was one. */
  readonly sqliteCode?: string | undefined;
}

export interface WriterOpenOptions {
  readonly path: string;
  readonly durability?: 'full' | 'normal' | undefined;
  readonly busyTimeoutMs: number;
  readonly firstDelayMs?: number | undefined;
  /** False when a checkpointer thread copies the WAL back (the writer's automatic checkpoints off). */
  readonly autocheckpoint?: boolean | undefined;
}

/** A failure of a writer call as a `WireError` (its kind from the SQLite code). */
export function toWireError(method: string, err: unknown): WireError {
  if (err instanceof StoreError) return { message: err.message, kind: err.kind };
  const sqliteCode = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  return { message: `SQLite ${method} failed: ${err instanceof Error ? err.message : String(err)}`, kind: sqliteFailureKind(err), sqliteCode };
}

/** A `WireError` as the `StoreError` callers of the contract see. */
export function fromWireError(w: WireError): StoreError {
  return new StoreError(w.message, { kind: w.kind, closed: w.kind === 'closed', cause: w.sqliteCode === undefined ? undefined : Object.assign(new Error(w.message), { code: w.sqliteCode }) });
}

/** The write probe behind `ping()` fails below this much free space on the database's filesystem. */
export const PROBE_MIN_FREE_BYTES = 1024 * 1024;

const closed = (): never => {
  throw new StoreError('the store is closed', { closed: true });
};

export class SqliteWriter {
  private db: Database.Database | undefined;
  /** Whether `close()` closes the connection (not when it was lent by the caller, inline). */
  private owned = false;
  private stmts: ReturnType<typeof prepare> | undefined;
  readonly projections = new SqliteProjections(closed);
  readonly delivery = new SqliteDelivery(closed);
  readonly retention = new SqliteRetention(closed);
  readonly erasures = new SqliteErasures(closed);

  /** Opens its own connection to the file (the migrations are applied already by the store). */
  open(options: WriterOpenOptions): void {
    if (this.db) return;
    const db = new Database(options.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs))}`);
      if (options.autocheckpoint === false) db.pragma('wal_autocheckpoint = 0');
      this.attach(db, options.firstDelayMs);
      this.owned = true;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Writes with a connection the caller owns (inline: the store's own connection). */
  attach(db: Database.Database, firstDelayMs?: number): void {
    this.db = db;
    this.owned = false;
    this.stmts = prepare(db);
    this.projections.attach(db);
    this.delivery.attach(db);
    this.retention.attach(db);
    this.erasures.attach(db);
    // What retention and erasures remove is overwritten in the file, not only unlinked.
    db.pragma('secure_delete = ON');
    if (firstDelayMs !== undefined) this.delivery.configure({ firstDelayMs });
  }

  private handle() {
    if (!this.db || !this.stmts) return closed();
    return { db: this.db, stmts: this.stmts };
  }

  /** One call by name, as the RPC carries it. */
  async call(method: string, args: readonly unknown[]): Promise<unknown> {
    // The arguments as the method takes them (the store sends them so).
    const a = args as unknown as [never, never, never, never, never];
    switch (method) {
      case 'open':
        return this.open(a[0]);
      case 'commit':
        return this.commit(a[0], a[1]);
      case 'catchUp':
        return this.catchUp(a[0]);
      case 'kvPut':
        return this.kvPut(a[0], a[1], a[2], a[3], a[4]);
      case 'resolveQuarantine':
        return this.handle().stmts.resolveQuarantine.run(a[1], a[0]).changes > 0;
      case 'probe':
        return this.probe();
      case 'configure':
        return this.delivery.configure(a[0]);
      case 'rebuild':
        return this.projections.rebuild();
      case 'put':
        return this.delivery.put(a[0], a[1]);
      case 'setEnabled':
        return this.delivery.setEnabled(a[0], a[1], a[2], a[3]);
      case 'setSecrets':
        return this.delivery.setSecrets(a[0], a[1], a[2]);
      case 'delete':
        return this.delivery.delete(a[0]);
      case 'recordAttempts':
        return this.delivery.recordAttempts(a[0], a[1], a[2]);
      case 'replay':
        return this.delivery.replay(a[0], a[1], a[2]);
      case 'retryNow':
        return this.delivery.retryNow(a[0], a[1], a[2]);
      case 'prune':
        return this.delivery.prune(a[0]);
      case 'expireEvents':
        return this.retention.expireEvents(a[0]);
      case 'expireQuarantine':
        return this.retention.expireQuarantine(a[0], a[1]);
      case 'expireConnectorState':
        return this.retention.expireConnectorState(a[0], a[1], a[2]);
      case 'erasureStart':
        return this.erasures.start(a[0]);
      case 'erasureStep':
        return this.erasures.step(a[0], a[1]);
      case 'saveSinkCursor':
        return this.delivery.saveSinkCursor(a[0], a[1], a[2]);
      case 'close':
        return this.close();
      default:
        throw new StoreError(`the SQLite writer has no method ${method}`, { kind: 'batch' });
    }
  }

  /**
   * The commit: every batch's new events (duplicates skipped by id), quarantine and cursor, the
   * projections of the entities they concern and their outbox rows, in one IMMEDIATE transaction
   * (durable when it returns, with `synchronous=FULL`).
   */
  commit(batches: readonly WireBatch[], options: CommitOptions = {}): WireCommitResult[] {
    const { db, stmts } = this.handle();
    const run = db.transaction((): WireCommitResult[] => {
      const inserted: { seq: number; connectorId: string; event: SwitchboardEvent }[] = [];
      const results = batches.map((batch) => {
        const seqs = batch.bodies.map((body, j): number => {
          const e = batch.events?.[j] ?? (JSON.parse(body) as SwitchboardEvent);
          const info = stmts.insertEvent.run(e.id, e.type, e.platform, batch.connectorId, e.subject, e.time, batch.receivedAt, body);
          if (info.changes === 0) return 0;
          const seq = Number(info.lastInsertRowid);
          inserted.push({ seq, connectorId: batch.connectorId, event: e });
          return seq;
        });
        const quarantineIds = batch.quarantine.map((q) =>
          String(stmts.insertQuarantine.run(q.connectorId, q.receivedAt, q.code, q.reason, q.contentType ?? null, q.raw, q.rawEncoding ?? null).lastInsertRowid),
        );
        if (batch.cursor !== undefined) stmts.upsertCursor.run(batch.connectorId, batch.cursor, batch.receivedAt);
        return { seqs, quarantineIds };
      });
      // Projections and the delivery outbox change in the same transaction as the events.
      if (inserted.length > 0) {
        this.projections.apply(inserted, { defer: options.deferProjections === true });
        this.delivery.enqueueInserted(inserted);
      }
      return results;
    });
    try {
      return run.immediate();
    } catch (err) {
      // Rolled back: what the projections know of pending entities is read again.
      this.projections.resyncPending();
      throw err;
    }
  }

  /** One chunk of the projections' catch-up, in its own transaction. */
  catchUp(limit: number): number {
    const { db } = this.handle();
    try {
      return db.transaction(() => this.projections.catchUpChunk(limit)).immediate();
    } finally {
      this.projections.resyncPending();
    }
  }

  kvPut(connectorId: string, namespace: string, key: string, value: string, updatedAt: string): void {
    this.handle().stmts.kvPut.run(connectorId, namespace, key, value, updatedAt);
  }

  /** A small write: the header's `user_version` rewritten with its own value. */
  probe(): void {
    const { db } = this.handle();
    // A rewrite of the header can go through on a full disk (into WAL frames already there):
    // the filesystem's free space says whether the next commit can grow the files.
    if (!db.memory) {
      const fs = statfsSync(dirname(db.name));
      const free = fs.bavail * fs.bsize;
      if (free < PROBE_MIN_FREE_BYTES) throw Object.assign(new Error(`database or disk is full: ${free} bytes free where the database is`), { code: 'SQLITE_FULL' });
    }
    db.transaction(() => db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`)).immediate();
  }

  close(): void {
    const db = this.db;
    this.db = undefined;
    this.stmts = undefined;
    this.projections.detach();
    this.delivery.detach();
    this.retention.detach();
    this.erasures.detach();
    if (this.owned) db?.close();
  }
}

function prepare(db: Database.Database) {
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
    resolveQuarantine: db.prepare<[string, number]>('UPDATE quarantine SET resolution = ? WHERE qid = ? AND resolution IS NULL'),
    kvPut: db.prepare<[string, string, string, string, string]>(
      'INSERT INTO connector_kv (connector_id, namespace, key, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (connector_id, namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ),
  };
}
