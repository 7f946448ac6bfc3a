/**
 * The one place where errors become HTTP answers. Every error body has the same shape:
 * `{ "error": { "code": "SB_ERR_…", "message": "…", …detail } }`.
 */
import { ERROR_CODES, OverloadedError, RetryableError, StoreError, SwitchboardError, type ErrorCode } from '../../core/index.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { error: { code: ErrorCode; message: string } & Record<string, unknown> };
}

/**
 * The errors Fastify raises itself (routing, body parsing), translated to ours. On `/ingest/…` a
 * body error keeps the ingest code, which counts it as a refusal; elsewhere it is a request code
 * (`SB_ERR_INGEST_MALFORMED` would promise a quarantine that `/v1` does not have).
 */
function fastifyCode(code: string, status: number | undefined, ingest: boolean): ErrorCode | undefined {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ingest ? 'SB_ERR_INGEST_TOO_LARGE' : 'SB_ERR_REQUEST_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ingest ? 'SB_ERR_INGEST_CONTENT_TYPE' : 'SB_ERR_REQUEST_CONTENT_TYPE';
    case 'FST_ERR_VALIDATION':
      return 'SB_ERR_QUERY_INVALID';
    // A path parameter longer than any id (Fastify's maxParamLength): no such connector or resource.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return ingest ? 'SB_ERR_INGEST_UNKNOWN_CONNECTOR' : 'SB_ERR_NOT_FOUND';
  }
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 404) return 'SB_ERR_NOT_FOUND';
  if (status === 413) return ingest ? 'SB_ERR_INGEST_TOO_LARGE' : 'SB_ERR_REQUEST_TOO_LARGE';
  if (status === 415) return ingest ? 'SB_ERR_INGEST_CONTENT_TYPE' : 'SB_ERR_REQUEST_CONTENT_TYPE';
  return 'SB_ERR_REQUEST_INVALID';
}

/** Our words for the framework errors whose own message would echo a long or broken path. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is longer than any id (at most 100 characters)',
  FST_ERR_BAD_URL: 'the path is not valid: a malformed %-encoding',
};

function frameworkError(err: unknown): { code: string; status: number | undefined; message: string } | undefined {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string' || !err.code.startsWith('FST_ERR_')) return undefined;
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
  return { code: err.code, status, message: FASTIFY_MESSAGES[err.code] ?? err.message };
}

/** Seconds to wait before a retry, for an answer that is 429 or 503: what the error suggests, else 1. */
function retryAfterOf(err: SwitchboardError): number {
  if (err instanceof OverloadedError) return err.retryAfterSec;
  if (err instanceof StoreError && err.retryAfterSec !== undefined) return err.retryAfterSec;
  if (err instanceof RetryableError && err.retryAfterMs !== undefined) return Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return 1;
}

/**
 * The answer to an error. `path` is the request's (`req.url`): it tells an error Fastify raised on
 * `/ingest/…` from one elsewhere.
 */
export function toHttpAnswer(err: unknown, path = ''): HttpAnswer {
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
  const framework = frameworkError(err);
  const mapped = framework && fastifyCode(framework.code, framework.status, path.startsWith('/ingest/'));
  if (framework && mapped) return { status: ERROR_CODES[mapped].status, headers: {}, body: { error: { code: mapped, message: framework.message } } };
  return { status: 500, headers: {}, body: { error: { code: 'SB_ERR_INTERNAL', message: 'internal error; see the server log' } } };
}
