/**
 * Store failures made visible: every failed commit transaction is counted in
 * `switchboard_store_errors_total{kind}` and logged at error — at most one line per kind per
 * interval: the first failure at once, then, at the end of the interval, one line with the number
 * of failures not logged. When commits go through again after a store-wide failure, one line at
 * warn says so.
 */
import type { Logger } from 'pino';
import type { StoreError, StoreFailureKind } from '../core/index.js';
import { LogWindows } from './log-windows.js';
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

export class StoreFailures {
  private readonly log: LogWindows<StoreFailureKind, StoreError>;
  /** The store-wide failure since which no commit went through. */
  private down: StoreFailureKind | undefined;
  private downSince = 0;
  private failedSince = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger | undefined,
    intervalMs = DEFAULT_STORE_FAILURE_LOG_INTERVAL_MS,
  ) {
    this.log = new LogWindows<StoreFailureKind, StoreError>(
      intervalMs,
      (kind, err) => logger?.error({ err, kind }, `store: commit failed (${kind}): ${err.message} — ${MEANING[kind]}`),
      (kind, last, suppressed) => logger?.error({ err: last, kind, suppressed }, `store: ${suppressed} more commit failures (${kind}) not logged, the last: ${last.message}`),
    );
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
    this.log.note(err.kind, err);
  }

  /** A commit went through. */
  committed(): void {
    if (this.down === undefined) return;
    this.logger?.warn({ kind: this.down, failures: this.failedSince, seconds: Math.round((Date.now() - this.downSince) / 1000) }, `store: commits go through again after ${this.failedSince} failed (${this.down}) in ${Math.round((Date.now() - this.downSince) / 1000)} s`);
    this.down = undefined;
    this.failedSince = 0;
  }

  /** Logs what is still left out and stops the timers (shutdown). */
  stop(): void {
    this.log.stop();
  }
}
