/**
 * The delivery worker: takes due outbox rows, sends them (bounded concurrency per target and in
 * total, a whole-attempt timeout), and records every attempt. Retries follow
 * `delivery.retrySchedule`, stretched by `Retry-After`; a 410 disables the subscription, and so
 * does failing for longer than `delivery.disableAfter`. In ordered mode only the first pending
 * event of each subject is due (see `DeliveryStore.due`).
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { StoreError, type SwitchboardEvent } from '../../core/index.js';
import { withSequence } from '../store/types.js';
import type { DeliveryConfig } from './config.js';
import type { DeliveryStore } from '../store/types.js';
import type { AttemptRecord, OutboxRow, Subscription } from './types.js';
import type { DeliveryMetrics } from './metrics.js';
import { safeLookup, urlProblem, type Resolver } from './safety.js';
import { signatureHeader } from './signing.js';
import type { Tracing } from '../tracing.js';

/** Wait before recording finished attempts again when the database was locked by another process. */
const RECORD_RETRY_MS = 50;

export const USER_AGENT = 'Switchboard-Webhooks/1';

/** The secrets that sign now: the current one and those not yet expired. */
export function signingSecrets(sub: Subscription, now: number): string[] {
  const valid = sub.secrets.filter((s, i) => i === 0 || s.expiresAt === null || Date.parse(s.expiresAt) > now);
  return valid.map((s) => s.secret);
}

/** Percent-encodes a header value as the CloudEvents HTTP binding asks (space, `"`, `%`, non-printable ASCII and beyond). */
function encodeHeaderValue(v: string): string {
  return v.replace(/[^\x21-\x7e]|["%]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

export interface WebhookRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The event's trace context (its `traceparent` extension), when it has one. */
  readonly traceparent: string | undefined;
}

/**
 * The request of one event for one subscription: structured mode sends the CloudEvent JSON
 * (`application/cloudevents+json`); binary mode sends `data` with the attributes as `ce-*`
 * headers. Both carry the Standard Webhooks headers: `webhook-id` (the event id, the same on
 * every retry and replay), `webhook-timestamp`, `webhook-signature`.
 */
export function buildRequest(sub: Subscription, seq: number, storedBody: string, now: number): WebhookRequest {
  const json = withSequence(storedBody, seq);
  const event = JSON.parse(json) as SwitchboardEvent & Record<string, unknown>;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  let body: string;
  if (sub.mode === 'binary') {
    body = JSON.stringify(event.data);
    headers['content-type'] = 'application/json; charset=utf-8';
    for (const [k, v] of Object.entries(event)) {
      // The trace context travels in the W3C `traceparent` header (below), as the extension's HTTP binding has it.
      if (k === 'data' || k === 'datacontenttype' || k === 'traceparent' || v === undefined || v === null) continue;
      headers[`ce-${k}`] = encodeHeaderValue(typeof v === 'string' ? v : JSON.stringify(v));
    }
  } else {
    body = json;
    headers['content-type'] = 'application/cloudevents+json; charset=utf-8';
  }
  const timestamp = Math.floor(now / 1000);
  headers['webhook-id'] = event.id;
  headers['webhook-timestamp'] = String(timestamp);
  headers['webhook-signature'] = signatureHeader(signingSecrets(sub, now), event.id, timestamp, body);
  // Without tracing, the receiver still gets the trace the event was stored in.
  if (typeof event.traceparent === 'string') headers.traceparent = event.traceparent;
  return { headers, body, traceparent: typeof event.traceparent === 'string' ? event.traceparent : undefined };
}

/** Milliseconds asked by a `Retry-After` header (seconds or an HTTP date), or `undefined`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${code ? `${code}: ` : ''}${err.message}${cause}`.slice(0, 500);
}

async function readSnippet(body: AsyncIterable<Buffer | string> & { destroy(err?: Error): unknown }, max: number): Promise<string> {
  let out = '';
  try {
    for await (const chunk of body) {
      out += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (out.length >= max) break;
    }
  } catch {
    // a broken body: what was read is enough
  } finally {
    body.destroy();
  }
  return out.slice(0, max);
}

class TimeoutMarker extends Error {}

interface InFlight {
  readonly did: number;
  readonly subscriptionId: string;
  readonly target: string;
  readonly controller: AbortController;
  promise: Promise<void>;
}

export interface WorkerOptions {
  readonly config: DeliveryConfig;
  readonly logger: Logger;
  readonly metrics: DeliveryMetrics;
  /** Name resolution for targets (tests); the system resolver by default. */
  readonly resolver?: Resolver;
  /** OpenTelemetry tracing, when on: each attempt is a client span in its event's trace. */
  readonly tracing?: Tracing | undefined;
}

/** A webhook URL as a span shows it: no credentials, no query (either may hold a secret). */
function urlForSpan(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class DeliveryWorker {
  private readonly agent: Agent;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly perTarget = new Map<string, number>();
  private results: { entry: InFlight; record: AttemptRecord }[] = [];
  private flushScheduled = false;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private turn = 0;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly db: DeliveryStore,
    private readonly options: WorkerOptions,
  ) {
    const { config } = options;
    this.agent = new Agent({
      connect: { lookup: safeLookup(config.allowPrivateTargets, options.resolver), timeout: config.timeout },
      connections: config.concurrencyPerTarget,
      headersTimeout: config.timeout,
      bodyTimeout: config.timeout,
      keepAliveTimeout: 4_000,
    });
  }

  start(): void {
    this.heartbeat = setInterval(() => this.wake(), 5_000);
    this.heartbeat.unref();
    this.wake();
  }

  /** Looks for due work soon (new outbox rows, a finished attempt, a changed subscription). */
  wake(): void {
    if (this.closed || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.runPump();
    });
  }

  /** One pump at a time; a wake-up during a pump runs another after it. */
  private async runPump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      await this.pump();
    } catch (err) {
      if (!this.closed) this.options.logger.error({ err }, 'delivery: cannot read the outbox');
    } finally {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    }
  }

  /** Aborts the attempts in flight for a subscription (it was deleted or disabled). */
  cancel(subscriptionId: string): void {
    for (const f of this.inFlight.values()) if (f.subscriptionId === subscriptionId) f.controller.abort(new Error('subscription removed'));
  }

  /**
   * The rows whose attempt was recorded while this pump ran: its read of the due rows may predate
   * that record (the store answers asynchronously), so they are not sent again from it — the
   * pump that their release asks for reads them afresh.
   */
  private releasedInPump: Set<number> | undefined;

  private async pump(): Promise<void> {
    this.releasedInPump = new Set();
    try {
      await this.pumpOnce();
    } finally {
      this.releasedInPump = undefined;
    }
  }

  private async pumpOnce(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.timer);
    const { config } = this.options;
    const now = Date.now();
    const subs = (await this.db.list()).filter((s) => s.enabled);
    // Nothing can be due without an enabled subscription: no read of the outbox (every commit
    // wakes the worker).
    if (subs.length === 0) return;
    const first = subs.length ? this.turn++ % subs.length : 0;
    for (let i = 0; i < subs.length && this.inFlight.size < config.maxInFlight; i++) {
      const sub = subs[(first + i) % subs.length] as Subscription;
      const target = targetOf(sub.url);
      let capacity = Math.min(config.concurrencyPerTarget - (this.perTarget.get(target) ?? 0), config.maxInFlight - this.inFlight.size);
      if (capacity <= 0) continue;
      let mine = 0;
      for (const f of this.inFlight.values()) if (f.subscriptionId === sub.id) mine++;
      for (const row of await this.db.due(sub, now, capacity + mine)) {
        if (capacity <= 0) break;
        if (this.inFlight.has(row.did) || this.releasedInPump?.has(row.did)) continue;
        this.launch(sub, row, target);
        capacity--;
      }
    }
    if (this.closed) return;
    const next = await this.db.nextDueAfter(now);
    if (this.closed) return;
    clearTimeout(this.timer);
    if (next !== undefined) {
      this.timer = setTimeout(() => this.wake(), Math.min(Math.max(next - now, 0), 60_000));
      this.timer.unref();
    }
  }

  private launch(sub: Subscription, row: OutboxRow, target: string): void {
    const entry: InFlight = { did: row.did, subscriptionId: sub.id, target, controller: new AbortController(), promise: Promise.resolve() };
    this.inFlight.set(row.did, entry);
    this.perTarget.set(target, (this.perTarget.get(target) ?? 0) + 1);
    this.options.metrics.inFlight.inc();
    entry.promise = this.attempt(sub, row, entry.controller.signal).then(
      (record) => (record ? this.queueRecord(entry, record) : this.release(entry)),
      (err: unknown) => {
        this.options.logger.error({ err, subscription: sub.id }, 'delivery: attempt failed unexpectedly');
        this.release(entry);
      },
    );
  }

  private release(entry: InFlight): void {
    if (!this.inFlight.delete(entry.did)) return;
    this.releasedInPump?.add(entry.did);
    const n = (this.perTarget.get(entry.target) ?? 1) - 1;
    if (n <= 0) this.perTarget.delete(entry.target);
    else this.perTarget.set(entry.target, n);
    this.options.metrics.inFlight.dec();
    this.wake();
  }

  /** One attempt; `undefined` when it was cut short by shutdown or cancel (not an attempt). */
  private async attempt(sub: Subscription, row: OutboxRow, signal: AbortSignal): Promise<AttemptRecord | undefined> {
    const { config } = this.options;
    const startedAt = Date.now();
    const attempt = row.attempts + 1;
    let status: number | undefined;
    let error: string | undefined;
    let retryAfter: number | undefined;
    const stored = await this.db.eventBody(row.seq);
    if (stored === undefined) {
      error = 'the event is no longer in the store';
    } else {
      const problem = urlProblem(sub.url, config.allowPrivateTargets);
      if (problem) {
        error = `refused: expected ${problem}`;
      } else {
        const req = buildRequest(sub, row.seq, stored, startedAt);
        const tracing = this.options.tracing;
        const span = tracing?.start(
          'webhook POST',
          'client',
          {
            'http.request.method': 'POST',
            'url.full': urlForSpan(sub.url),
            'switchboard.subscription.id': sub.id,
            'switchboard.event.id': req.headers['webhook-id'] ?? '',
            'switchboard.event.sequence': row.seq,
            'switchboard.delivery.attempt': attempt,
            'switchboard.delivery.round': row.rounds,
          },
          tracing.extract(req.traceparent === undefined ? undefined : { traceparent: req.traceparent }),
        );
        // The receiver sees this attempt as the parent of what it does.
        const own = span ? tracing?.traceparentOf(tracing.contextWith(span)) : undefined;
        if (own !== undefined) req.headers.traceparent = own;
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(new TimeoutMarker('timeout')), config.timeout);
        try {
          const res = await request(sub.url, {
            method: 'POST',
            headers: req.headers,
            body: req.body,
            dispatcher: this.agent,
            signal: AbortSignal.any([signal, timeout.signal]),
          });
          status = res.statusCode;
          retryAfter = parseRetryAfter(res.headers['retry-after'], Date.now());
          if (status >= 200 && status < 300) await res.body.dump({ limit: 65_536 });
          else {
            const snippet = (await readSnippet(res.body, 300)).replace(/\s+/g, ' ').trim();
            error = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
          }
        } catch (err) {
          if (signal.aborted) return undefined;
          status = undefined;
          error = timeout.signal.aborted ? `timed out after ${config.timeout} ms` : describeError(err);
        } finally {
          clearTimeout(timer);
          if (span) {
            if (status !== undefined) span.setAttribute('http.response.status_code', status);
            tracing?.end(span, status !== undefined && status >= 200 && status < 300 ? undefined : (error ?? (signal.aborted ? 'cancelled' : 'failed')));
          }
        }
        if (signal.aborted && status === undefined) return undefined;
      }
    }
    const finishedAt = Date.now();
    const durationMs = finishedAt - startedAt;
    this.options.metrics.attemptSeconds.observe(durationMs / 1000);
    const base = { did: row.did, subscriptionId: sub.id, round: row.rounds, attempt, startedAt, durationMs, status, error };
    if (status !== undefined && status >= 200 && status < 300) return { ...base, error: undefined, result: 'delivered', nextAt: undefined };
    if (status === 410) return { ...base, result: 'gone', nextAt: finishedAt };
    const schedule = config.retrySchedule;
    if (attempt >= schedule.length) return { ...base, result: 'exhausted', nextAt: undefined };
    const wait = Math.max(schedule[attempt] ?? 0, Math.min(retryAfter ?? 0, config.maxRetryAfter));
    return { ...base, result: 'failed', nextAt: finishedAt + wait };
  }

  private queueRecord(entry: InFlight, record: AttemptRecord): void {
    this.results.push({ entry, record });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Records finished attempts in one transaction, then frees their slots. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.results;
    this.results = [];
    if (batch.length === 0) return;
    let records: AttemptRecord[];
    let disable: { id: string; reason: string; kind: 'gone' | 'failing' }[];
    try {
      const known = new Set((await this.db.list()).map((sub) => sub.id));
      records = batch.map((b) => b.record).filter((r) => known.has(r.subscriptionId));
      disable = await this.db.recordAttempts(records, this.options.config.disableAfter);
    } catch (err) {
      if (!this.closed && err instanceof StoreError && err.kind === 'busy') {
        // The database is locked by another process: record these attempts a little later
        // (their slots stay taken) rather than send them again.
        this.results = [...batch, ...this.results];
        this.flushScheduled = true;
        setTimeout(() => void this.flush(), RECORD_RETRY_MS).unref();
        return;
      }
      // The rows stay pending and are sent again: at least once.
      this.options.logger.error({ err }, 'delivery: cannot record attempts');
      for (const b of batch) this.release(b.entry);
      return;
    }
    try {
      for (const r of records) this.options.metrics.deliveries.inc({ subscription: r.subscriptionId, result: r.result });
      for (const d of disable) {
        await this.db.setEnabled(d.id, false, d.reason);
        this.options.metrics.subscriptionsDisabled.inc({ reason: d.kind });
        this.options.logger.warn({ subscription: d.id, reason: d.reason }, `subscription ${d.id} disabled: ${d.reason}`);
      }
    } catch (err) {
      this.options.logger.error({ err }, 'delivery: cannot disable a subscription');
    }
    for (const b of batch) this.release(b.entry);
  }

  /** Stops taking work, aborts what is in flight (not counted as attempts), records what finished. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const pending = [...this.inFlight.values()];
    for (const f of pending) f.controller.abort(new Error('shutdown'));
    await Promise.allSettled(pending.map((f) => f.promise));
    await this.flush();
    await this.agent.close().catch(() => undefined);
  }
}

/** Concurrency is bounded per target: scheme, host and port. */
export function targetOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
