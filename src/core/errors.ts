/**
 * Errors of Switchboard. One base class with a stable `code`; a subclass only where the
 * handling differs. The HTTP status of each code lives in `ERROR_STATUS` below and is applied
 * in one place (`src/server/http/errors.ts`). `docs/errors.md` is kept in step by a test.
 */

/**
 * Every error code Switchboard raises, with the HTTP status it maps to. What each means is in
 * `ERROR_CODES` (`error-catalogue.ts`), kept apart so that the browser module does not carry the texts.
 */
export const ERROR_STATUS = {
  SB_ERR_CONFIG_INVALID: 500,
  SB_ERR_CONFIG_READ: 500,
  SB_ERR_AUTH_REQUIRED: 401,
  SB_ERR_INGEST_UNKNOWN_CONNECTOR: 404,
  SB_ERR_INGEST_MALFORMED: 400,
  SB_ERR_INGEST_INVALID_PAYLOAD: 400,
  SB_ERR_INGEST_LIMIT: 400,
  SB_ERR_INGEST_EMPTY: 400,
  SB_ERR_INGEST_TOO_LARGE: 413,
  SB_ERR_INGEST_CONTENT_TYPE: 415,
  SB_ERR_OVERLOADED: 503,
  SB_ERR_RATE_LIMITED: 429,
  SB_ERR_NOT_FOUND: 404,
  SB_ERR_QUERY_INVALID: 400,
  SB_ERR_REQUEST_INVALID: 400,
  SB_ERR_REQUEST_TOO_LARGE: 413,
  SB_ERR_REQUEST_CONTENT_TYPE: 415,
  SB_ERR_EVENT_INVALID: 500,
  SB_ERR_STORE: 500,
  SB_ERR_STORE_BUSY: 503,
  SB_ERR_STORE_FULL: 503,
  SB_ERR_STORE_CLOSED: 503,
  SB_ERR_CONNECTOR_RETRYABLE: 503,
  SB_ERR_CONNECTOR_AUTH: 502,
  SB_ERR_SUBSCRIPTION_INVALID: 400,
  SB_ERR_SUBSCRIPTION_TARGET_REFUSED: 400,
  SB_ERR_SUBSCRIPTION_EXISTS: 409,
  SB_ERR_QUARANTINE_RESOLVED: 409,
  SB_ERR_EVENTS_GONE: 410,
  SB_ERR_ERASURE_INVALID: 400,
  SB_ERR_SUBSCRIPTION_READONLY: 409,
  SB_ERR_INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Base class of every error Switchboard raises on purpose. */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable detail, safe to show to the caller. */
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options?.detail;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A configuration error: names the key path, what was expected and what was found. */
export class ConfigError extends SwitchboardError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], code: ErrorCode = 'SB_ERR_CONFIG_INVALID') {
    super(code, formatConfigIssues(issues), { detail: { issues } });
    this.issues = issues;
  }
}

export interface ConfigIssue {
  /** Key path such as `connectors[1].polling.idInstance`; empty for the root. */
  path: string;
  expected: string;
  found: string;
}

function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.path || '(root)'}: expected ${i.expected}, found ${i.found}`);
  return `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

/** A native payload or a built event that does not match its schema. */
export class ValidationError extends SwitchboardError {
  constructor(code: 'SB_ERR_INGEST_MALFORMED' | 'SB_ERR_INGEST_INVALID_PAYLOAD' | 'SB_ERR_INGEST_LIMIT' | 'SB_ERR_EVENT_INVALID' | 'SB_ERR_QUERY_INVALID', message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** A transient connector error: the runtime backs off and retries instead of failing. */
export class RetryableError extends SwitchboardError {
  /** Suggested wait before the next try, when the platform said (e.g. Retry-After). */
  readonly retryAfterMs: number | undefined;
  /** The connection is gone: reconnect (after backoff) rather than retry on the same source. */
  readonly connectionLost: boolean;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number; connectionLost?: boolean }) {
    super('SB_ERR_CONNECTOR_RETRYABLE', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
    this.connectionLost = options?.connectionLost ?? false;
  }
}

/**
 * What made a store operation fail. `busy`, `full`, `io` and `closed` are store-wide: no commit
 * can go through until they pass. `batch` is about what one commit carried (a constraint, a
 * value the store cannot take): other commits are not affected.
 */
export type StoreFailureKind = 'busy' | 'full' | 'io' | 'closed' | 'batch';

const STORE_CODES = { busy: 'SB_ERR_STORE_BUSY', full: 'SB_ERR_STORE_FULL', io: 'SB_ERR_STORE', closed: 'SB_ERR_STORE_CLOSED', batch: 'SB_ERR_STORE' } as const satisfies Record<StoreFailureKind, ErrorCode>;

/** Suggested wait before a retry, by kind (seconds). */
const STORE_RETRY_AFTER_SEC: Record<StoreFailureKind, number | undefined> = { busy: 1, full: 10, io: undefined, closed: 1, batch: undefined };

/** The store failed or is closed. */
export class StoreError extends SwitchboardError {
  readonly kind: StoreFailureKind;
  /** Suggested wait before a retry (`Retry-After`), for the kinds that pass. */
  readonly retryAfterSec: number | undefined;
  constructor(message: string, options?: { cause?: unknown; closed?: boolean; kind?: StoreFailureKind; retryAfterSec?: number }) {
    const kind = options?.kind ?? (options?.closed ? 'closed' : 'io');
    super(STORE_CODES[kind], message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryAfterSec = options?.retryAfterSec ?? STORE_RETRY_AFTER_SEC[kind];
  }

  /** True when no commit can go through until the condition passes (not a problem of one commit's data). */
  get storeWide(): boolean {
    return this.kind !== 'batch';
  }
}

/** Too much pending work: the caller should retry after `retryAfterSec`. */
export class OverloadedError extends SwitchboardError {
  readonly retryAfterSec: number;
  constructor(message: string, retryAfterSec = 1) {
    super('SB_ERR_OVERLOADED', message);
    this.retryAfterSec = retryAfterSec;
  }
}
