/**
 * Errors of Switchboard. One base class with a stable `code`; a subclass only where the
 * handling differs. The HTTP status of each code lives in the catalogue below and is applied
 * in one place (`src/server/http/errors.ts`). `docs/errors.md` is kept in step by a test.
 */

/** Every error code Switchboard raises, with the HTTP status it maps to and what it means. */
export const ERROR_CODES = {
  SB_ERR_CONFIG_INVALID: { status: 500, summary: 'The configuration has an error; the message names the key path, what was expected and what was found.' },
  SB_ERR_CONFIG_READ: { status: 500, summary: 'The configuration file could not be read or parsed as YAML/JSON.' },
  SB_ERR_AUTH_REQUIRED: { status: 401, summary: 'Missing or wrong credentials. The answer carries no detail on purpose.' },
  SB_ERR_INGEST_UNKNOWN_CONNECTOR: { status: 404, summary: 'No connector with this id is configured for ingest.' },
  SB_ERR_INGEST_MALFORMED: { status: 400, summary: 'The body could not be decoded or parsed (bytes invalid in its charset, bad JSON, NDJSON line or XML); it is kept in the quarantine.' },
  SB_ERR_INGEST_INVALID_PAYLOAD: { status: 400, summary: 'A payload parsed but is not a valid native event of the platform; it is kept in the quarantine.' },
  SB_ERR_INGEST_LIMIT: { status: 400, summary: 'A payload is over server.limits (nesting depth, keys and elements); it is kept in the quarantine.' },
  SB_ERR_INGEST_EMPTY: { status: 400, summary: 'The body holds no payload (empty, `[]`, only blank NDJSON lines); not kept in the quarantine.' },
  SB_ERR_INGEST_TOO_LARGE: { status: 413, summary: 'The body is over the configured size limit (server.bodyLimit).' },
  SB_ERR_INGEST_CONTENT_TYPE: { status: 415, summary: 'The content type is not one the connector accepts.' },
  SB_ERR_OVERLOADED: { status: 503, summary: 'The commit queue or the bytes in flight are full; retry after the number of seconds in Retry-After.' },
  SB_ERR_RATE_LIMITED: { status: 429, summary: 'Too many requests; retry after the number of seconds in Retry-After.' },
  SB_ERR_NOT_FOUND: { status: 404, summary: 'No such resource (event, route).' },
  SB_ERR_QUERY_INVALID: { status: 400, summary: 'A query parameter is invalid; the message names it.' },
  SB_ERR_REQUEST_INVALID: { status: 400, summary: 'The request could not be read (a malformed path, a /v1 body that is not valid JSON, …); the message names the problem.' },
  SB_ERR_REQUEST_TOO_LARGE: { status: 413, summary: 'A /v1 request body is over the configured size limit (server.bodyLimit).' },
  SB_ERR_REQUEST_CONTENT_TYPE: { status: 415, summary: 'The content type of a /v1 request body is not one the route takes.' },
  SB_ERR_EVENT_INVALID: { status: 500, summary: 'A normalizer built an event that does not match its schema (a bug in the normalizer).' },
  SB_ERR_STORE: { status: 500, summary: 'The store failed (I/O error, read-only or damaged file, …), or could not take what one request carried; nothing of that request was acknowledged.' },
  SB_ERR_STORE_BUSY: { status: 503, summary: 'The database stayed locked by another connection or process longer than a commit waits; retry after the number of seconds in Retry-After.' },
  SB_ERR_STORE_FULL: { status: 503, summary: 'The disk (or the database size limit) is full; nothing was acknowledged; retry after the number of seconds in Retry-After.' },
  SB_ERR_STORE_CLOSED: { status: 503, summary: 'The store is closed: the server is shutting down.' },
  SB_ERR_CONNECTOR_RETRYABLE: { status: 503, summary: 'A connector hit a transient error; the runtime backs off and retries.' },
  SB_ERR_CONNECTOR_AUTH: { status: 502, summary: 'A connector was refused by its platform (bad credentials).' },
  SB_ERR_SUBSCRIPTION_INVALID: { status: 400, summary: 'A subscription (or a replay or rotation request) is invalid; the message names the field.' },
  SB_ERR_SUBSCRIPTION_TARGET_REFUSED: { status: 400, summary: 'The target URL resolves to a loopback, private or link-local address (allowed only with delivery.allowPrivateTargets), or does not resolve.' },
  SB_ERR_SUBSCRIPTION_EXISTS: { status: 409, summary: 'A subscription with this id already exists.' },
  SB_ERR_SUBSCRIPTION_READONLY: { status: 409, summary: 'The subscription comes from the config file: change it there (only enabled can be set through the API).' },
  SB_ERR_INTERNAL: { status: 500, summary: 'An unexpected error; the log has the details.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

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
    return ERROR_CODES[this.code].status;
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
