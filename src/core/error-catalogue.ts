/**
 * The catalogue of error codes: HTTP status and what each means (`docs/errors.md` is kept in step
 * with it by a test).
 */
import { ERROR_STATUS, type ErrorCode } from './errors.js';

export const ERROR_CODES = {
  SB_ERR_CONFIG_INVALID: { status: ERROR_STATUS.SB_ERR_CONFIG_INVALID, summary: 'The configuration has an error; the message names the key path, what was expected and what was found.' },
  SB_ERR_CONFIG_READ: { status: ERROR_STATUS.SB_ERR_CONFIG_READ, summary: 'The configuration file could not be read or parsed as YAML/JSON.' },
  SB_ERR_AUTH_REQUIRED: { status: ERROR_STATUS.SB_ERR_AUTH_REQUIRED, summary: 'Missing or wrong credentials. The answer carries no detail on purpose.' },
  SB_ERR_INGEST_UNKNOWN_CONNECTOR: { status: ERROR_STATUS.SB_ERR_INGEST_UNKNOWN_CONNECTOR, summary: 'No connector with this id is configured for ingest.' },
  SB_ERR_INGEST_MALFORMED: { status: ERROR_STATUS.SB_ERR_INGEST_MALFORMED, summary: 'The body could not be decoded or parsed (bytes invalid in its charset, bad JSON, NDJSON line or XML); it is kept in the quarantine.' },
  SB_ERR_INGEST_INVALID_PAYLOAD: { status: ERROR_STATUS.SB_ERR_INGEST_INVALID_PAYLOAD, summary: 'A payload parsed but is not a valid native event of the platform; it is kept in the quarantine.' },
  SB_ERR_INGEST_LIMIT: { status: ERROR_STATUS.SB_ERR_INGEST_LIMIT, summary: 'A payload is over server.limits (nesting depth, keys and elements); it is kept in the quarantine.' },
  SB_ERR_INGEST_EMPTY: { status: ERROR_STATUS.SB_ERR_INGEST_EMPTY, summary: 'The body holds no payload (empty, `[]`, only blank NDJSON lines); not kept in the quarantine.' },
  SB_ERR_INGEST_TOO_LARGE: { status: ERROR_STATUS.SB_ERR_INGEST_TOO_LARGE, summary: 'The body is over the configured size limit (server.bodyLimit).' },
  SB_ERR_INGEST_CONTENT_TYPE: { status: ERROR_STATUS.SB_ERR_INGEST_CONTENT_TYPE, summary: 'The content type is not one the connector accepts.' },
  SB_ERR_OVERLOADED: { status: ERROR_STATUS.SB_ERR_OVERLOADED, summary: 'The commit queue or the bytes in flight are full; retry after the number of seconds in Retry-After.' },
  SB_ERR_RATE_LIMITED: { status: ERROR_STATUS.SB_ERR_RATE_LIMITED, summary: 'Too many requests; retry after the number of seconds in Retry-After.' },
  SB_ERR_NOT_FOUND: { status: ERROR_STATUS.SB_ERR_NOT_FOUND, summary: 'No such resource (event, route).' },
  SB_ERR_QUERY_INVALID: { status: ERROR_STATUS.SB_ERR_QUERY_INVALID, summary: 'A query parameter is invalid; the message names it.' },
  SB_ERR_REQUEST_INVALID: { status: ERROR_STATUS.SB_ERR_REQUEST_INVALID, summary: 'The request could not be read (a malformed path, a /v1 body that is not valid JSON, …); the message names the problem.' },
  SB_ERR_REQUEST_TOO_LARGE: { status: ERROR_STATUS.SB_ERR_REQUEST_TOO_LARGE, summary: 'A /v1 request body is over the configured size limit (server.bodyLimit).' },
  SB_ERR_REQUEST_CONTENT_TYPE: { status: ERROR_STATUS.SB_ERR_REQUEST_CONTENT_TYPE, summary: 'The content type of a /v1 request body is not one the route takes.' },
  SB_ERR_EVENT_INVALID: { status: ERROR_STATUS.SB_ERR_EVENT_INVALID, summary: 'A normalizer built an event that does not match its schema (a bug in the normalizer).' },
  SB_ERR_STORE: { status: ERROR_STATUS.SB_ERR_STORE, summary: 'The store failed (I/O error, read-only or damaged file, …), or could not take what one request carried; nothing of that request was acknowledged.' },
  SB_ERR_STORE_BUSY: { status: ERROR_STATUS.SB_ERR_STORE_BUSY, summary: 'The database stayed locked by another connection or process longer than a commit waits; retry after the number of seconds in Retry-After.' },
  SB_ERR_STORE_FULL: { status: ERROR_STATUS.SB_ERR_STORE_FULL, summary: 'The disk (or the database size limit) is full; nothing was acknowledged; retry after the number of seconds in Retry-After.' },
  SB_ERR_STORE_CLOSED: { status: ERROR_STATUS.SB_ERR_STORE_CLOSED, summary: 'The store is closed: the server is shutting down.' },
  SB_ERR_CONNECTOR_RETRYABLE: { status: ERROR_STATUS.SB_ERR_CONNECTOR_RETRYABLE, summary: 'A connector hit a transient error; the runtime backs off and retries.' },
  SB_ERR_CONNECTOR_AUTH: { status: ERROR_STATUS.SB_ERR_CONNECTOR_AUTH, summary: 'A connector was refused by its platform (bad credentials).' },
  SB_ERR_SUBSCRIPTION_INVALID: { status: ERROR_STATUS.SB_ERR_SUBSCRIPTION_INVALID, summary: 'A subscription (or a replay or rotation request) is invalid; the message names the field.' },
  SB_ERR_SUBSCRIPTION_TARGET_REFUSED: { status: ERROR_STATUS.SB_ERR_SUBSCRIPTION_TARGET_REFUSED, summary: 'The target URL resolves to a loopback, private or link-local address (allowed only with delivery.allowPrivateTargets), or does not resolve.' },
  SB_ERR_SUBSCRIPTION_EXISTS: { status: ERROR_STATUS.SB_ERR_SUBSCRIPTION_EXISTS, summary: 'A subscription with this id already exists.' },
  SB_ERR_QUARANTINE_RESOLVED: { status: ERROR_STATUS.SB_ERR_QUARANTINE_RESOLVED, summary: 'The quarantined input was retried or discarded already.' },
  SB_ERR_EVENTS_GONE: { status: ERROR_STATUS.SB_ERR_EVENTS_GONE, summary: 'Retention removed events after the sequence a reader resumes from: resume from the horizon the message names, or from the start.' },
  SB_ERR_ERASURE_INVALID: { status: ERROR_STATUS.SB_ERR_ERASURE_INVALID, summary: 'An erasure request is invalid: not exactly one of phone, userId and contactId, a phone that is no number, no requestedBy; the message names the field.' },
  SB_ERR_SUBSCRIPTION_READONLY: { status: ERROR_STATUS.SB_ERR_SUBSCRIPTION_READONLY, summary: 'The subscription comes from the config file: change it there (only enabled can be set through the API).' },
  SB_ERR_INTERNAL: { status: ERROR_STATUS.SB_ERR_INTERNAL, summary: 'An unexpected error; the log has the details.' },
} as const satisfies Record<ErrorCode, { status: number; summary: string }>;

/**
 * The codes only the browser module (`switchboard/client`) reports, through `onError` (it never
 * throws them): no HTTP status, they never cross the wire. `docs/errors.md` lists them too.
 */
export const CLIENT_ERROR_CODES = {
  SB_ERR_CLIENT_HANDLER: { summary: 'An on() handler threw; the other handlers still ran.' },
  SB_ERR_CLIENT_REJECTED: { summary: 'The server refused forwarded input (status 400, 401, 404, 413, 415, or 200 with the item under rejected); it was dropped, not retried.' },
  SB_ERR_CLIENT_QUEUE_FULL: { summary: "The forwarder's queue was over maxQueue (offline for long); the oldest input was dropped." },
  SB_ERR_CLIENT_UNSERIALIZABLE: { summary: 'Input that JSON.stringify refuses (a cycle, a BigInt) was not queued for forwarding.' },
} as const;

export type ClientOnlyErrorCode = keyof typeof CLIENT_ERROR_CODES;
