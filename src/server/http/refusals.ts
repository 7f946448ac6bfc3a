/**
 * Refused ingest made visible: every refusal of `POST /ingest/:connectorId` is counted in
 * `switchboard_ingest_refused_total{connector,reason}` and logged at warn — at most one line per
 * connector per interval: the first refusal at once, then, at the end of the interval, one line
 * with the number of refusals not logged. Lines carry the connector, the reason, the status and
 * the client address; never the presented credentials.
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../../core/index.js';
import type { Metrics } from '../metrics.js';

export type RefusalReason = 'auth' | 'unknown-connector' | 'content-type' | 'too-large';

/** The ingest answers that are refusals, by error code. */
const REASONS: Partial<Record<ErrorCode, RefusalReason>> = {
  SB_ERR_AUTH_REQUIRED: 'auth',
  SB_ERR_INGEST_UNKNOWN_CONNECTOR: 'unknown-connector',
  SB_ERR_INGEST_CONTENT_TYPE: 'content-type',
  SB_ERR_INGEST_TOO_LARGE: 'too-large',
};

export function refusalReason(code: ErrorCode): RefusalReason | undefined {
  return REASONS[code];
}

/** The `connector` label of a refusal whose connector is not configured (bounded: never the id asked for). */
export const UNKNOWN_CONNECTOR = '(unknown)';

export interface Refusal {
  /** A configured connector id, or `UNKNOWN_CONNECTOR`. */
  readonly connector: string;
  readonly reason: RefusalReason;
  readonly status: number;
  /** The client address. */
  readonly ip: string;
}

interface Window {
  suppressed: number;
  last: Refusal;
  readonly timer: NodeJS.Timeout;
}

export const DEFAULT_REFUSAL_LOG_INTERVAL_MS = 60_000;

export class IngestRefusals {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_REFUSAL_LOG_INTERVAL_MS,
  ) {}

  note(r: Refusal): void {
    this.metrics.ingestRefused.inc({ connector: r.connector, reason: r.reason });
    const open = this.windows.get(r.connector);
    if (open) {
      open.suppressed++;
      open.last = r;
      return;
    }
    this.logger.warn({ ...r }, `ingest refused for ${r.connector}: ${r.reason}`);
    this.open(r);
  }

  private open(last: Refusal): void {
    const timer = setTimeout(() => this.close(last.connector, true), this.intervalMs);
    timer.unref();
    this.windows.set(last.connector, { suppressed: 0, last, timer });
  }

  /** Ends a connector's interval: logs the refusals left out, if any, and opens the next one after that line. */
  private close(connector: string, reopen: boolean): void {
    const w = this.windows.get(connector);
    if (!w) return;
    clearTimeout(w.timer);
    this.windows.delete(connector);
    if (w.suppressed === 0) return;
    this.logger.warn({ ...w.last, suppressed: w.suppressed }, `ingest refused for ${connector}: ${w.suppressed} more refusals not logged, the last: ${w.last.reason}`);
    if (reopen) this.open(w.last);
  }

  /** Logs what is still left out and stops the timers (server shutdown). */
  stop(): void {
    for (const connector of [...this.windows.keys()]) this.close(connector, false);
  }
}
