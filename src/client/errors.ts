/**
 * The one error type the browser module hands to `onError`. It is never thrown into the app.
 */
import type { ClientOnlyErrorCode } from '../core/index.js';

/**
 * - `SB_ERR_INGEST_INVALID_PAYLOAD`: the input is not a valid widget message or Threads push (the
 *   message names the field, as the server's 400 does).
 * - `SB_ERR_INGEST_MALFORMED`: a string input that is not JSON.
 * - `SB_ERR_EVENT_INVALID`: a normalizer built an invalid event (a bug: please report it).
 * - `SB_ERR_CLIENT_HANDLER`: an `on()` handler threw; the other handlers still ran.
 * - `SB_ERR_CLIENT_REJECTED`: the server refused forwarded input (`status`: 400, 401, 404, 413,
 *   415, or 200 with the item listed under `rejected`); it was dropped, not retried.
 * - `SB_ERR_CLIENT_QUEUE_FULL`: the forwarder's queue was over `maxQueue` (offline for long);
 *   the oldest input was dropped.
 * - `SB_ERR_CLIENT_UNSERIALIZABLE`: input that `JSON.stringify` refuses (a cycle, a BigInt) was
 *   not queued for forwarding.
 */
export type ClientErrorCode = 'SB_ERR_INGEST_INVALID_PAYLOAD' | 'SB_ERR_INGEST_MALFORMED' | 'SB_ERR_EVENT_INVALID' | ClientOnlyErrorCode;

/** An error reported through `onError(error, input)`. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** The HTTP status of the server's answer, for `SB_ERR_CLIENT_REJECTED`. */
  readonly status: number | undefined;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.status = options?.status;
  }
}

/** Receives every problem of the module with the input it concerns. */
export type ErrorHandler = (error: ClientError, input: unknown) => void;

/** Calls the app's error handler; a handler that throws is not allowed to break the module. */
export function report(onError: ErrorHandler | undefined, error: ClientError, input: unknown): void {
  try {
    if (onError) onError(error, input);
    else if (typeof console !== 'undefined') console.warn(`[switchboard] ${error.code}: ${error.message}`);
  } catch {
    // The app's own handler failed; there is nowhere left to report it.
  }
}
