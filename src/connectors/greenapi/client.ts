/**
 * The three GREEN-API HTTP methods Switchboard uses, with their errors translated for the
 * runtime: 401/403 → `SB_ERR_CONNECTOR_AUTH`; 429, 466, 5xx and network errors →
 * `RetryableError` (with the platform's Retry-After when it gives one).
 */
import { request, type Dispatcher } from 'undici';
import { RetryableError, SwitchboardError, isRecord, jsonSyntaxMessage } from '../../core/index.js';

export interface GreenApiCredentials {
  readonly apiUrl: string;
  readonly idInstance: string;
  readonly apiTokenInstance: string;
}

export interface ReceivedNotification {
  readonly receiptId: number;
  readonly body: unknown;
  /** Length of the answer's text, to refuse absurd sizes. */
  readonly size: number;
}

/** `receiveNotification` answered something that is not `{ receiptId, body }` or `null`. */
export class MalformedAnswerError extends RetryableError {
  constructor(
    message: string,
    readonly raw: string,
    /** The receipt id, when it could still be read from the text: the notification can be deleted. */
    readonly receiptId: number | undefined,
  ) {
    super(message);
  }
}

/** Salvages `"receiptId": n` from an answer that is not valid JSON. */
function receiptIdIn(text: string): number | undefined {
  const m = /"receiptId"\s*:\s*(\d{1,15})\b/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface ContactInfo {
  readonly name?: string;
  readonly contactName?: string;
  readonly [key: string]: unknown;
}

function retryAfterMs(headers: Record<string, string | string[] | undefined>, fallbackMs: number): number {
  const v = headers['retry-after'];
  const s = Array.isArray(v) ? v[0] : v;
  const n = s === undefined ? NaN : Number(s);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : fallbackMs;
}

export class GreenApiClient {
  private readonly base: string;

  constructor(
    private readonly creds: GreenApiCredentials,
    private readonly dispatcher?: Dispatcher,
  ) {
    this.base = `${creds.apiUrl.replace(/\/+$/, '')}/waInstance${encodeURIComponent(creds.idInstance)}`;
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', what: string, path: string, opts: { body?: unknown; signal?: AbortSignal; timeoutMs: number }): Promise<string> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.base}/${path}`, {
        method,
        signal: opts.signal,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new RetryableError(`${what}: ${(err as Error).message}`, { cause: err });
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw new RetryableError(`${what}: the answer was cut off (${(err as Error).message})`, { cause: err });
    }
    const status = res.statusCode;
    if (status === 401 || status === 403) throw new SwitchboardError('SB_ERR_CONNECTOR_AUTH', `${what}: GREEN-API refused idInstance ${this.creds.idInstance} (HTTP ${status}); check idInstance and apiTokenInstance`);
    if (status === 429) throw new RetryableError(`${what}: rate limited (HTTP 429)`, { retryAfterMs: retryAfterMs(res.headers, 1000) });
    if (status === 466) throw new RetryableError(`${what}: quota exceeded (HTTP 466)`, { retryAfterMs: retryAfterMs(res.headers, 60_000) });
    if (status !== 200) throw new RetryableError(`${what}: HTTP ${status} ${text.slice(0, 200)}`);
    return text;
  }

  /** Long-polls for the oldest notification; `null` when none came within `receiveTimeoutSec`. */
  async receive(receiveTimeoutSec: number, signal?: AbortSignal): Promise<ReceivedNotification | null> {
    const text = await this.call('GET', 'receiveNotification', `receiveNotification/${encodeURIComponent(this.creds.apiTokenInstance)}?receiveTimeout=${receiveTimeoutSec}`, {
      signal,
      timeoutMs: (receiveTimeoutSec + 15) * 1000,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (err) {
      throw new MalformedAnswerError(`receiveNotification answered malformed JSON: ${jsonSyntaxMessage(err)}`, text, receiptIdIn(text));
    }
    if (parsed === null) return null;
    if (!isRecord(parsed) || typeof parsed.receiptId !== 'number' || !('body' in parsed)) {
      const id = isRecord(parsed) && typeof parsed.receiptId === 'number' ? parsed.receiptId : undefined;
      throw new MalformedAnswerError('receiveNotification answered neither null nor { receiptId, body }', text, id);
    }
    return { receiptId: parsed.receiptId, body: parsed.body, size: text.length };
  }

  /** Removes a notification from the queue; false when it was no longer there. */
  async delete(receiptId: number, signal?: AbortSignal): Promise<boolean> {
    const text = await this.call('DELETE', 'deleteNotification', `deleteNotification/${encodeURIComponent(this.creds.apiTokenInstance)}/${receiptId}`, { signal, timeoutMs: 30_000 });
    try {
      const parsed = JSON.parse(text) as unknown;
      return isRecord(parsed) && parsed.result === true;
    } catch {
      throw new RetryableError(`deleteNotification answered malformed JSON (${text.length} bytes)`);
    }
  }

  /** `getContactInfo` for a chat; GREEN-API allows one call per second per instance. */
  async contactInfo(chatId: string, signal?: AbortSignal): Promise<ContactInfo> {
    const text = await this.call('POST', 'getContactInfo', `getContactInfo/${encodeURIComponent(this.creds.apiTokenInstance)}`, { body: { chatId }, signal, timeoutMs: 30_000 });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (err) {
      // Not the answer itself: it names the person, and this message reaches the log.
      throw new RetryableError(`getContactInfo answered malformed JSON (${text.length} bytes): ${jsonSyntaxMessage(err)}`);
    }
    if (!isRecord(parsed)) throw new RetryableError('getContactInfo answered something that is not an object');
    const info: ContactInfo = { ...parsed };
    return info;
  }
}
