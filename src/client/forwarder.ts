/**
 * The forwarder: relays native messages (not normalized events: the server normalizes and
 * validates again) from a page or an app to `POST <url>/ingest/<connectorId>` of a Switchboard
 * server, as a JSON array with `Authorization: Bearer <token>`.
 *
 * Batching (up to `batchSize` items or `maxBatchBytes`, or what came in `flushMs`); one request
 * in flight; jittered exponential backoff on network errors, 408, 429 and 5xx, waiting at least
 * `Retry-After`; input the server refuses (400, 401, 404, 415, a 413 of one item) is dropped and
 * reported, a 413 of several items is split; on page hide what is queued leaves with
 * `fetch(…, { keepalive: true })`, within the browser's 64 KB budget for such requests. Offline,
 * at most `maxQueue` items are kept: the oldest go first, each reported.
 */
import { backoffDelay } from '../core/index.js';
import { ClientError, report, type ErrorHandler } from './errors.js';

/** The part of `fetch` the forwarder uses (browsers, React Native, Node ≥ 18). */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; keepalive?: boolean },
) => Promise<{ readonly status: number; readonly headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface ForwardOptions {
  /** The Switchboard server's base URL, e.g. `https://sb.example.com` (a path prefix is kept). */
  url: string;
  /** The connector's id in the server's config (`platform: widget` or `threads`). */
  connectorId: string;
  /** The connector's `ingestToken`. */
  token: string;
  /** Items per request; default 50. */
  batchSize?: number;
  /** How long an item waits for others before a partial batch leaves; default 1000 ms. */
  flushMs?: number;
  /** Items kept at most while the server cannot be reached; default 1000. */
  maxQueue?: number;
  /** Body size of one request; default 60 000 bytes (so that any batch may leave on page hide). */
  maxBatchBytes?: number;
  /** Backoff between tries: from `minMs` (default 500), doubling, up to `maxMs` (default 30 000). */
  backoff?: { minMs?: number; maxMs?: number };
  /** Problems: refused and dropped input. Default: `console.warn`. */
  onError?: ErrorHandler;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Default: `Math.random`, for the jitter. */
  random?: () => number;
}

/** The forwarder's state, as data. */
export interface ForwarderStatus {
  /** Items waiting, including those in flight. */
  readonly queued: number;
  /** Items the server accepted (stored or recognised as duplicates). */
  readonly sent: number;
  /** Items given up: refused by the server, or pushed out of a full queue. */
  readonly dropped: number;
  /** Failed tries in a row; 0 after a success. */
  readonly attempt: number;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  /** When the next try is due (ms since the epoch) while backing off. */
  readonly retryAt: number | undefined;
}

export interface Forwarder {
  readonly connectorId: string;
  /** Queues one native message (any JSON value). Never throws. */
  push(native: unknown): void;
  /** Sends what is queued now; resolves when the queue is empty or a retry is scheduled. */
  flush(): Promise<void>;
  /** Resolves when nothing is queued or in flight (waiting through retries). */
  drained(): Promise<void>;
  /** The page is going away: sends what is queued with `keepalive`, up to 64 KB. */
  pageHide(): void;
  status(): ForwarderStatus;
  /** Flushes, then stops: later input is not forwarded. */
  close(): Promise<void>;
}

/** Browsers refuse keepalive requests beyond 64 KiB of bodies in flight; a margin for headers. */
const KEEPALIVE_BUDGET = 64_000;
const MAX_RETRY_AFTER_MS = 600_000;

interface Item {
  readonly native: unknown;
  readonly json: string;
  readonly bytes: number;
  /** Requests carrying the item now. */
  busy: number;
  /** In a keepalive request now. */
  ka: boolean;
}

/** UTF-8 length of a string, without TextEncoder (not everywhere in React Native). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** `Retry-After`: seconds or an HTTP date → milliseconds (undefined when absent or unreadable). */
function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

/** The server's reason from an error body `{ error: { code, message } }`, else the body itself. */
function reasonOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the text is the reason
  }
  return text.slice(0, 200) || 'no reason given';
}

type Outcome = 'ok' | 'drop' | 'split' | 'retry';

function classify(status: number, items: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 413) return items > 1 ? 'split' : 'drop';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  return 'drop';
}

/**
 * A forwarder to one connector. Use one per connector: the widget's and Threads' go to
 * different connectors with their own tokens.
 *
 * @example
 * const widgetForwarder = forwardTo({ url: 'https://sb.example.com', connectorId: 'widget-web', token: WIDGET_INGEST_TOKEN });
 * widgetForwarder.push({ subject: 's-1', payload: { type: 'state', data: { state: 'ringing' } }, timestamp: Date.now() });
 */
export function forwardTo(options: ForwardOptions): Forwarder {
  const { connectorId, onError } = options;
  if (!options.url || !connectorId || !options.token) throw new TypeError('forwardTo: url, connectorId and token are required');
  const endpoint = `${options.url.replace(/\/+$/, '')}/ingest/${encodeURIComponent(connectorId)}`;
  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  const batchSize = Math.max(1, options.batchSize ?? 50);
  const flushMs = Math.max(0, options.flushMs ?? 1000);
  const maxQueue = Math.max(1, options.maxQueue ?? 1000);
  const maxBatchBytes = Math.max(2, options.maxBatchBytes ?? 60_000);
  const minMs = options.backoff?.minMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));

  let queue: Item[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backingOff = false;
  let sending = false;
  let flushing = false;
  let closed = false;
  let attempt = 0;
  /** After a 413: at most this many items per request, until a request succeeds. */
  let itemsCap = Infinity;
  let sent = 0;
  let dropped = 0;
  let lastStatus: number | undefined;
  let lastError: string | undefined;
  let retryAt: number | undefined;
  let flushWaiters: (() => void)[] = [];
  let drainWaiters: (() => void)[] = [];

  const idle = (): boolean => queue.length === 0 && !sending;
  const waiting = (): number => queue.reduce((n, i) => n + (i.busy ? 0 : 1), 0);

  function wake(): void {
    if (idle()) {
      for (const w of drainWaiters.splice(0)) w();
      flushing = false;
    }
    if (idle() || backingOff) for (const w of flushWaiters.splice(0)) w();
  }

  function clearTimer(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    backingOff = false;
    retryAt = undefined;
  }

  function remove(items: readonly Item[]): void {
    const gone = new Set(items);
    queue = queue.filter((i) => !gone.has(i));
  }

  function drop(items: readonly Item[], error: ClientError): void {
    const before = queue.length;
    remove(items);
    dropped += before - queue.length;
    report(onError, error, items.length === 1 ? items[0]?.native : items.map((i) => i.native));
  }

  function schedule(): void {
    if (closed || sending || backingOff) return;
    if (flushing || waiting() >= batchSize) {
      if (timer !== undefined) clearTimer();
      void send();
    } else if (timer === undefined && waiting() > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        void send();
      }, flushMs);
    }
  }

  function take(budget: number, cap: number, keepalive: boolean): Item[] {
    const out: Item[] = [];
    let bytes = 2;
    for (const item of queue) {
      if (keepalive ? item.ka : item.busy > 0) continue;
      if (out.length >= cap || bytes + item.bytes + 1 > budget) break;
      out.push(item);
      bytes += item.bytes + 1;
    }
    return out;
  }

  /** Reads the answer to a request; returns what to do with its items. */
  async function answer(items: Item[], res: Awaited<ReturnType<FetchLike>>): Promise<Outcome> {
    lastStatus = res.status;
    const text = await res.text().catch(() => '');
    const outcome = classify(res.status, items.length);
    if (outcome === 'ok') {
      let rejected: unknown = [];
      try {
        rejected = (JSON.parse(text) as { rejected?: unknown }).rejected ?? [];
      } catch {
        // a 2xx without a JSON body: every item counts as accepted
      }
      for (const r of Array.isArray(rejected) ? (rejected as { index?: unknown; reason?: unknown }[]) : []) {
        const item = typeof r.index === 'number' ? items[r.index] : undefined;
        if (item) drop([item], new ClientError('SB_ERR_CLIENT_REJECTED', `${connectorId} refused an item: ${String(r.reason)}`, { status: res.status }));
      }
      const before = queue.length;
      remove(items);
      sent += before - queue.length;
      lastError = undefined;
    } else if (outcome === 'drop') {
      drop(items, new ClientError('SB_ERR_CLIENT_REJECTED', `${connectorId} answered ${res.status}: ${reasonOf(text)}`, { status: res.status }));
    } else {
      lastError = `HTTP ${res.status}`;
    }
    return outcome;
  }

  async function send(): Promise<void> {
    if (sending || closed) return wake();
    const items = take(maxBatchBytes, Math.min(batchSize, itemsCap), false);
    if (items.length === 0) return wake();
    sending = true;
    for (const i of items) i.busy++;
    let outcome: Outcome = 'retry';
    let wait: number | undefined;
    try {
      const res = await doFetch(endpoint, { method: 'POST', headers, body: `[${items.map((i) => i.json).join(',')}]` });
      outcome = await answer(items, res);
      if (outcome === 'retry') wait = retryAfterMs(res.headers.get('retry-after'), Date.now());
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    for (const i of items) i.busy--;
    sending = false;
    if (outcome === 'split') itemsCap = Math.max(1, Math.ceil(items.length / 2));
    if (outcome === 'ok') itemsCap = Infinity;
    if (outcome === 'retry' && queue.length > 0 && !closed) {
      attempt++;
      const delay = Math.max(wait ?? 0, backoffDelay(attempt - 1, { initialMs: minMs, maxMs }, random));
      backingOff = true;
      retryAt = Date.now() + delay;
      timer = setTimeout(() => {
        timer = undefined;
        backingOff = false;
        retryAt = undefined;
        void send();
      }, delay);
    } else if (outcome !== 'retry') attempt = 0;
    wake();
    schedule();
  }

  function push(native: unknown): void {
    if (closed) return;
    let json: string | undefined;
    try {
      json = JSON.stringify(native);
    } catch (err) {
      report(onError, new ClientError('SB_ERR_CLIENT_UNSERIALIZABLE', `not forwarded: ${err instanceof Error ? err.message : String(err)}`, { cause: err }), native);
      return;
    }
    if (json === undefined) {
      report(onError, new ClientError('SB_ERR_CLIENT_UNSERIALIZABLE', `not forwarded: ${typeof native} is not JSON`), native);
      return;
    }
    queue.push({ native, json, bytes: utf8Length(json), busy: 0, ka: false });
    while (queue.length > maxQueue) {
      const oldest = queue[0];
      if (oldest) drop([oldest], new ClientError('SB_ERR_CLIENT_QUEUE_FULL', `${connectorId}: more than ${maxQueue} items waiting; the oldest was dropped`));
    }
    schedule();
  }

  function pageHide(): void {
    if (closed) return;
    let budget = KEEPALIVE_BUDGET;
    // Items of a request in flight go again: the browser may cancel it with the page, and the
    // server counts a repeat as a duplicate.
    for (;;) {
      const items = take(Math.min(budget, maxBatchBytes), batchSize, true);
      if (items.length === 0) break;
      const body = `[${items.map((i) => i.json).join(',')}]`;
      budget -= utf8Length(body);
      for (const i of items) {
        i.busy++;
        i.ka = true;
      }
      const done = (): void => {
        for (const i of items) {
          i.busy--;
          i.ka = false;
        }
        wake();
        schedule();
      };
      doFetch(endpoint, { method: 'POST', headers, body, keepalive: true })
        .then((res) => answer(items, res))
        .then(done, (err: unknown) => {
          lastError = err instanceof Error ? err.message : String(err);
          done();
        });
    }
  }

  function flush(): Promise<void> {
    if (closed) return Promise.resolve();
    flushing = true;
    if (backingOff) clearTimer();
    const p = new Promise<void>((resolve) => flushWaiters.push(resolve));
    schedule();
    wake();
    return p;
  }

  return {
    connectorId,
    push,
    pageHide,
    flush,
    drained() {
      if (idle()) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    status: () => ({ queued: queue.length, sent, dropped, attempt, lastStatus, lastError, retryAt }),
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      clearTimer();
      flushWaiters = [];
      drainWaiters = [];
    },
  };
}
