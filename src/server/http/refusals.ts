/**
 * Refused ingest made visible: every refusal of `POST /ingest/:connectorId` is counted in
 * `switchboard_ingest_refused_total{connector,reason}` and logged at warn — at most one line per
 * connector per interval: the first refusal at once, then, at the end of the interval, one line
 * with the number of refusals not logged. Lines carry the connector, the reason, the status and
 * the client address; never the presented credentials.
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../../core/index.js';
import { LogWindows } from '../log-windows.js';
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

export const DEFAULT_REFUSAL_LOG_INTERVAL_MS = 60_000;

export class IngestRefusals {
  private readonly log: LogWindows<string, Refusal>;

  constructor(
    private readonly metrics: Metrics,
    logger: Logger,
    intervalMs = DEFAULT_REFUSAL_LOG_INTERVAL_MS,
  ) {
    this.log = new LogWindows<string, Refusal>(
      intervalMs,
      (connector, r) => logger.warn({ ...r }, `ingest refused for ${connector}: ${r.reason}`),
      (connector, last, suppressed) => logger.warn({ ...last, suppressed }, `ingest refused for ${connector}: ${suppressed} more refusals not logged, the last: ${last.reason}`),
    );
  }

  note(r: Refusal): void {
    this.metrics.ingestRefused.inc({ connector: r.connector, reason: r.reason });
    this.log.note(r.connector, r);
  }

  /** Logs what is still left out and stops the timers (server shutdown). */
  stop(): void {
    this.log.stop();
  }
}
