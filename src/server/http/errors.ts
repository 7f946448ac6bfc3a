/**
 * The one place where errors become HTTP answers. Every error body has the same shape:
 * `{ "error": { "code": "SB_ERR_…", "message": "…", …detail } }`.
 */
import { ERROR_CODES, OverloadedError, RetryableError, StoreError, SwitchboardError, type ErrorCode } from '../../core/index.js';
import { sqliteFailureKind } from '../store/sqlite.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { error: { code: ErrorCode; message: string } & Record<string, unknown> };
}

/** Fastify's own error codes, translated to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'SB_ERR_INGEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'SB_ERR_INGEST_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'SB_ERR_INGEST_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'SB_ERR_INGEST_EMPTY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'SB_ERR_INGEST_MALFORMED',
  FST_ERR_VALIDATION: 'SB_ERR_QUERY_INVALID',
  FST_ERR_NOT_FOUND: 'SB_ERR_NOT_FOUND',
};

function fastifyCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Seconds to wait before a retry, for an answer that is 429 or 503: what the error suggests, else 1. */
function retryAfterOf(err: SwitchboardError): number {
  if (err instanceof OverloadedError) return err.retryAfterSec;
  if (err instanceof StoreError && err.retryAfterSec !== undefined) return err.retryAfterSec;
  if (err instanceof RetryableError && err.retryAfterMs !== undefined) return Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return 1;
}

export function toHttpAnswer(err: unknown): HttpAnswer {
  // A SQLite call made outside the store's wrappers (projection and delivery queries) on a locked or full database.
  const fcode = fastifyCode(err);
  if (fcode?.startsWith('SQLITE_') && !(err instanceof SwitchboardError)) {
    const kind = sqliteFailureKind(err);
    if (kind === 'busy' || kind === 'full') err = new StoreError(`SQLite failed: ${(err as Error).message}`, { cause: err, kind });
  }
  if (err instanceof SwitchboardError) {
    const headers: Record<string, string> = {};
    if (err.status === 429 || err.status === 503) headers['retry-after'] = String(retryAfterOf(err));
    if (err.code === 'SB_ERR_AUTH_REQUIRED') {
      headers['www-authenticate'] = 'Bearer';
      // No detail on purpose: a wrong token and a missing one look the same.
      return { status: 401, headers, body: { error: { code: err.code, message: 'unauthorized' } } };
    }
    return { status: err.status, headers, body: { error: { ...(err.detail ?? {}), code: err.code, message: err.message } } };
  }
  const mapped = fcode ? FASTIFY_CODES[fcode] : undefined;
  if (mapped) {
    const message = err instanceof Error ? err.message : String(err);
    return { status: ERROR_CODES[mapped].status, headers: {}, body: { error: { code: mapped, message } } };
  }
  return { status: 500, headers: {}, body: { error: { code: 'SB_ERR_INTERNAL', message: 'internal error; see the server log' } } };
}
