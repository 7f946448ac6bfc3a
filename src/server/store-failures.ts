/**
 * Store failures made visible: every failed commit transaction is counted in
 * `switchboard_store_errors_total{kind}` and logged at error — at most one line per kind per
 * interval: the first failure at once, then, at the end of the interval, one line with the number
 * of failures not logged. When commits go through again after a store-wide failure, one line at
 * warn says so.
 */
import type { Logger } from 'pino';
import type { StoreError, StoreFailureKind } from '../core/index.js';
import type { Metrics } from './metrics.js';

export const DEFAULT_STORE_FAILURE_LOG_INTERVAL_MS = 60_000;

/** What each kind means for the people reading the log. */
const MEANING: Record<StoreFailureKind, string> = {
  busy: 'the database is locked by another connection or process; commits are retried, then answered 503',
  full: 'the disk (or the database size limit) is full; ingest is answered 503 and /readyz is not ready until space is freed',
  io: 'the database file cannot be written or read (I/O error, read-only or damaged file); ingest is answered 500',
  closed: 'the store is closed',
  batch: 'what one request carried could not be stored; that request is answered 500, the others of its group are committed',
};

interface Window {
  suppressed: number;
  last: StoreError;
  readonly timer: NodeJS.Timeout;
}

export class StoreFailures {
  private readonly windows = new Map<StoreFailureKind, Window>();
  /** The store-wide failure since which no commit went through. */
  private down: StoreFailureKind | undefined;
  private downSince = 0;
  private failedSince = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger | undefined,
    private readonly intervalMs = DEFAULT_STORE_FAILURE_LOG_INTERVAL_MS,
  ) {
    // Every series from the start, so that increase() sees the first failure.
    for (const kind of Object.keys(MEANING) as StoreFailureKind[]) metrics.storeErrors.inc({ kind }, 0);
  }

  /** A commit transaction failed. */
  note(err: StoreError): void {
    this.metrics.storeErrors.inc({ kind: err.kind });
    if (err.storeWide && err.kind !== 'closed') {
      if (this.down === undefined) this.downSince = Date.now();
      this.down = err.kind;
      this.failedSince++;
    }
    const open = this.windows.get(err.kind);
    if (open) {
      open.suppressed++;
      open.last = err;
      return;
    }
    this.logger?.error({ err, kind: err.kind }, `store: commit failed (${err.kind}): ${err.message} — ${MEANING[err.kind]}`);
    this.open(err);
  }

  /** A commit went through. */
  committed(): void {
    if (this.down === undefined) return;
    this.logger?.warn({ kind: this.down, failures: this.failedSince, seconds: Math.round((Date.now() - this.downSince) / 1000) }, `store: commits go through again after ${this.failedSince} failed (${this.down}) in ${Math.round((Date.now() - this.downSince) / 1000)} s`);
    this.down = undefined;
    this.failedSince = 0;
  }

  private open(last: StoreError): void {
    const timer = setTimeout(() => this.close(last.kind, true), this.intervalMs);
    timer.unref();
    this.windows.set(last.kind, { suppressed: 0, last, timer });
  }

  private close(kind: StoreFailureKind, reopen: boolean): void {
    const w = this.windows.get(kind);
    if (!w) return;
    clearTimeout(w.timer);
    this.windows.delete(kind);
    if (w.suppressed === 0) return;
    this.logger?.error({ err: w.last, kind, suppressed: w.suppressed }, `store: ${w.suppressed} more commit failures (${kind}) not logged, the last: ${w.last.message}`);
    if (reopen) this.open(w.last);
  }

  /** Logs what is still left out and stops the timers (shutdown). */
  stop(): void {
    for (const kind of [...this.windows.keys()]) this.close(kind, false);
  }
}
