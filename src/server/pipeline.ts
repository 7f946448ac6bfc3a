/**
 * ingest → parse/validate → normalize → dedupe → commit → ack → publish.
 *
 * `GroupCommitter` gathers the batches of concurrent ingest calls and commits them in one
 * transaction (one fsync), then resolves each caller — the caller acks only then — and
 * publishes the newly stored events in sequence order.
 *
 * Nothing one caller carries may fail another's events: an event that cannot be written as JSON
 * is found before it joins a group and goes to the quarantine instead; a group whose transaction
 * fails for something in its data (not a store-wide condition) is split in halves and committed
 * again until only the culprit's batch fails. A database locked by another connection is waited
 * for asynchronously — retries with backoff on timers, never a blocking wait — for a bounded time
 * before the waiting callers fail with `SB_ERR_STORE_BUSY` (503 + Retry-After).
 */
import type { Logger } from 'pino';
// Event ids hashed with node:crypto on the server (the core's JS SHA-256 stays for browsers).
import './native-hash.js';
import { DEFAULT_PAYLOAD_LIMITS, OverloadedError, StoreError, SwitchboardError, ValidationError, parseJsonWithin, payloadLimitBreach, sleep, type NormalizeContext, type PayloadLimits, type SwitchboardEvent } from '../core/index.js';
import type { ConnectorDefinition, IngestItem } from '../connectors/types.js';
import type { EventBus, Committed } from './bus.js';
import { decodeBody, parseContentType } from './decode.js';
import { dumpUnstorable, prepareBatch, type UnstorableEvent } from './event-json.js';
import type { Attributes, Context, Span, Tracing } from './tracing.js';
import type { Metrics } from './metrics.js';
import { StoreFailures } from './store-failures.js';
import type { CommitBatch, CommitResult, QuarantineInput, Store, StoredEvent } from './store/types.js';

export interface CommitterOptions {
  /** Events waiting for a commit beyond which new work is refused with 503 (backpressure). */
  readonly maxPendingEvents: number;
  /** Most events in one transaction. */
  readonly maxBatchEvents: number;
  /** How long a group retries a database locked by another connection before its callers fail with 503 (default 5 s). */
  readonly busyWaitMs?: number;
  /** Where store failures are logged (at error, rate-limited); none: only counted. */
  readonly logger?: Logger;
  /** At most one log line per kind of store failure in this time (default 60 s). */
  readonly failureLogIntervalMs?: number;
  /** Commit with `deferProjections` (a bulk load; see `Store.commit`). */
  readonly deferProjections?: boolean;
  /**
   * Groups handed to the store before the first of them returns (default 2): the next group waits
   * in the writer's queue while one commits, so the writer goes from one COMMIT to the next
   * without waiting for this thread to hear of the first and send the second.
   */
  readonly maxInFlight?: number;
  /**
   * Where committed events go (default: straight onto the bus, in commit order). A store shared
   * by several instances gives them to a `StoreTail` instead, which publishes in sequence order
   * what it reads back.
   */
  readonly publish?: (events: readonly Committed[]) => void;
}

export const DEFAULT_BUSY_WAIT_MS = 5_000;
/** Backoff between the commit attempts on a locked database: doubles from the first to the last. */
const BUSY_BACKOFF_MS: readonly [number, number] = [5, 200];

interface Pending {
  /** The batch as the store gets it (see `prepareBatch`). */
  readonly batch: CommitBatch;
  readonly size: number;
  /** Events of the batch given that cannot be stored: kept in the quarantine, reported in the result. */
  readonly unstorable: readonly UnstorableEvent[];
  /** For each event of `batch`: its position in the batch given, when some were left out. */
  readonly positions: readonly number[] | undefined;
  /** Events and quarantine entries of the batch given. */
  readonly given: { readonly events: number; readonly quarantine: number };
  /** When it was submitted: a locked database is waited for at most `busyWaitMs` from then. */
  readonly submittedAt: number;
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: unknown) => void;
}

/** A store failure as a StoreError (a store that threw something else is treated as failing on this data). */
function asStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError(`commit failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, kind: 'batch' });
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private pendingEvents = 0;
  /** Groups handed to the store and not yet settled. */
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly failures: StoreFailures;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly metrics: Metrics,
    private readonly options: CommitterOptions,
  ) {
    this.failures = new StoreFailures(metrics, options.logger, options.failureLogIntervalMs);
  }

  /** Events accepted but not yet committed. */
  get backlog(): number {
    return this.pendingEvents;
  }

  submit(batch: CommitBatch): Promise<CommitResult> {
    if (this.closed) return Promise.reject(new SwitchboardError('SB_ERR_STORE_CLOSED', 'the server is shutting down'));
    const size = batch.events.length + batch.quarantine.length;
    if (this.pendingEvents > 0 && this.pendingEvents + size > this.options.maxPendingEvents) {
      this.metrics.overloads.inc();
      return Promise.reject(new OverloadedError(`commit queue full (${this.pendingEvents} events pending)`, 1));
    }
    // Serialized here, per caller: an event that cannot be stored never joins a group.
    const prepared = prepareBatch(batch);
    return new Promise((resolve, reject) => {
      this.queue.push({ ...prepared, size, given: { events: batch.events.length, quarantine: batch.quarantine.length }, submittedAt: Date.now(), resolve, reject });
      this.pendingEvents += size;
      // After the I/O phase, so that the requests that arrived together form one group.
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private get maxInFlight(): number {
    return Math.max(1, this.options.maxInFlight ?? 2);
  }

  /** Hands groups to the store while fewer than `maxInFlight` are there; each takes what is queued. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const group: Pending[] = [];
      let events = 0;
      while (this.queue.length > 0 && (group.length === 0 || events + (this.queue[0]?.size ?? 0) <= this.options.maxBatchEvents)) {
        const p = this.queue.shift() as Pending;
        group.push(p);
        events += p.size;
      }
      this.inFlight++;
      void this.commitGroup(group).finally(() => {
        this.inFlight--;
        // What queued while this group committed goes at once: it waited a whole commit already.
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          const idle = this.idle;
          this.idle = [];
          for (const f of idle) f();
        }
      });
    }
  }

  /**
   * Commits a group in one transaction and settles every caller in it. A locked database is
   * retried with backoff until its oldest caller has waited `busyWaitMs` (so callers queued
   * behind a locked group do not wait once more in full); a failure caused by the group's data
   * splits it in halves, committed one after the other (so sequences keep the submit order),
   * until the batch at fault fails alone.
   */
  private async commitGroup(group: Pending[]): Promise<void> {
    const deadline = group.reduce((oldest, p) => Math.min(oldest, p.submittedAt), Infinity) + (this.options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS);
    let delay = BUSY_BACKOFF_MS[0];
    for (;;) {
      const stop = this.metrics.commitSeconds.startTimer();
      let outcome: { results: CommitResult[] } | { failure: StoreError };
      try {
        outcome = { results: await this.store.commit(group.map((p) => p.batch), this.options.deferProjections ? { deferProjections: true } : undefined) };
      } catch (err) {
        outcome = { failure: asStoreError(err) };
      }
      stop();
      if ('results' in outcome) {
        this.failures.committed();
        this.settle(group, outcome.results);
        return;
      }
      const { failure } = outcome;
      this.failures.note(failure);
      if (failure.kind === 'busy' && Date.now() + delay <= deadline) {
        await sleep(delay);
        delay = Math.min(delay * 2, BUSY_BACKOFF_MS[1]);
        continue;
      }
      if (failure.kind === 'batch' && group.length > 1) {
        const half = Math.ceil(group.length / 2);
        await this.commitGroup(group.slice(0, half));
        await this.commitGroup(group.slice(half));
        return;
      }
      this.fail(group, this.answerFor(failure));
      return;
    }
  }

  /** The error the callers of a failed group get. */
  private answerFor(failure: StoreError): StoreError {
    const busyWaitMs = this.options.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS;
    if (failure.kind === 'busy') {
      return new StoreError(`the database is locked by another connection or process: the commit waited ${(busyWaitMs / 1000).toFixed(1)} s; nothing was stored, retry`, { cause: failure, kind: 'busy' });
    }
    if (failure.kind === 'full') {
      return new StoreError(`the disk holding the database is full (${failure.message}); nothing was stored, retry once space is freed`, { cause: failure, kind: 'full' });
    }
    if (failure.kind === 'batch') {
      return new StoreError(`this batch could not be stored (other requests were not affected): ${failure.message}`, { cause: failure, kind: 'batch' });
    }
    return failure;
  }

  private fail(group: readonly Pending[], err: StoreError): void {
    for (const p of group) {
      this.pendingEvents -= p.size;
      p.reject(err);
    }
  }

  private settle(group: readonly Pending[], results: readonly CommitResult[]): void {
    let events = 0;
    const published: Committed[] = [];
    group.forEach((p, i) => {
      events += p.size;
      this.pendingEvents -= p.size;
      const r = results[i] as CommitResult;
      r.stored.forEach((s, j) => {
        const e = p.batch.events[j];
        if (s && e) published.push({ stored: s, event: e });
      });
      p.resolve(resultFor(p, r));
    });
    this.metrics.commitBatchEvents.observe(events);
    if (this.options.publish) this.options.publish(published);
    else this.bus.publish(published);
  }

  /** Refuses new work and waits for what is queued to be committed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0 || this.queue.length > 0 || this.scheduled) await new Promise<void>((r) => this.idle.push(r));
    this.failures.stop();
  }
}

/** The result for the batch as it was given: the unstorable events put back in their places, as quarantined. */
function resultFor(p: Pending, r: CommitResult): CommitResult {
  if (p.positions === undefined) return r;
  const stored: (StoredEvent | undefined)[] = new Array<StoredEvent | undefined>(p.given.events).fill(undefined);
  p.positions.forEach((given, j) => {
    stored[given] = r.stored[j];
  });
  return {
    stored,
    quarantineIds: r.quarantineIds.slice(0, p.given.quarantine),
    invalid: p.unstorable.map((u, k) => ({ ...u, quarantineId: r.quarantineIds[p.given.quarantine + k] ?? '' })),
  };
}

export interface RejectedItem {
  readonly index: number;
  readonly code: string;
  readonly reason: string;
  readonly quarantineId: string;
}

/** The answer to an ingest: counts of payloads, and the rejected ones with their reasons. */
export interface IngestResult {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: RejectedItem[];
  /** Events newly stored. */
  readonly events: number;
}

export interface ConnectorInstance {
  readonly id: string;
  readonly definition: ConnectorDefinition;
  readonly settings: Record<string, unknown>;
}

export class Pipeline {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly metrics: Metrics,
    private readonly now: () => Date = () => new Date(),
    /** Checked on every payload before it is normalized (`server.limits`). */
    private readonly limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS,
  ) {}

  /** OpenTelemetry tracing, when on (`tracing.ts`; set by the server's start). */
  tracing: Tracing | undefined;

  /**
   * Decodes an HTTP body in the charset its Content-Type (or, for XML, the body itself) declares,
   * splits it with the connector's ingest spec and ingests its items. A body that cannot be read
   * at all — bytes not valid in that charset, or refused by the spec — is quarantined whole, as
   * received, and the `ValidationError` is thrown with its `quarantineId` (→ 400).
   */
  async ingestBody(connector: ConnectorInstance, body: Uint8Array, contentType: string, trace?: Context): Promise<IngestResult> {
    const read = this.readBody(connector, body, contentType);
    if ('refused' in read) return this.refuseBody(connector, read.refused, read.error, trace);
    return this.ingestItems(connector, read.items, { contentType: read.mediaType, ...(trace ? { trace } : {}) });
  }

  /** Decodes and splits a body: its items, or why it cannot be read (with what the quarantine keeps of it). */
  private readBody(connector: ConnectorInstance, body: Uint8Array, contentType: string): { items: IngestItem[]; mediaType: string } | { refused: Pick<QuarantineInput, 'contentType' | 'raw' | 'rawEncoding'>; error: ValidationError } {
    const spec = connector.definition.ingest;
    if (!spec) throw new SwitchboardError('SB_ERR_INGEST_CONTENT_TYPE', `connector ${connector.id} takes no pushed payloads`);
    const media = parseContentType(contentType);
    const decoded = decodeBody(body, media);
    if ('error' in decoded) {
      // The bytes as they came, with the charset they claimed.
      const raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
      return { refused: { contentType, raw, rawEncoding: 'base64' }, error: new ValidationError('SB_ERR_INGEST_MALFORMED', decoded.error) };
    }
    let items: IngestItem[];
    try {
      items = spec.split(decoded.text, media.type);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return { refused: { contentType: media.type, raw: decoded.text }, error: err };
    }
    if (items.length === 0) throw new SwitchboardError('SB_ERR_INGEST_EMPTY', 'the body holds no payload');
    return { items, mediaType: media.type };
  }

  /**
   * What an ingest of this input would refuse, without storing anything: the first reason, or
   * `undefined` when every payload would go through (a quarantine retry checks before it ingests).
   * A body goes through the connector's ingest spec; a payload (a pulled connector's) straight to
   * its normalizer.
   */
  check(connector: ConnectorInstance, input: { readonly body: Uint8Array; readonly contentType: string } | { readonly payload: unknown }): { code: string; reason: string } | undefined {
    let items: readonly IngestItem[];
    if ('payload' in input) items = [{ payload: input.payload }];
    else {
      const read = this.readBody(connector, input.body, input.contentType);
      if ('refused' in read) return { code: read.error.code, reason: read.error.message };
      items = read.items;
    }
    return this.normalizeItems(connector, items, {}).rejected[0];
  }

  /** Keeps a body that could not be read in the quarantine, then throws its error with the quarantine id. */
  private async refuseBody(connector: ConnectorInstance, input: Pick<QuarantineInput, 'contentType' | 'raw' | 'rawEncoding'>, err: ValidationError, trace?: Context): Promise<never> {
    const receivedAt = this.now().toISOString();
    const result = await this.traced('switchboard.commit', connector, trace, { 'switchboard.quarantined': 1 }, () =>
      this.committer.submit({
        connectorId: connector.id,
        receivedAt,
        events: [],
        quarantine: [{ connectorId: connector.id, receivedAt, code: err.code, reason: err.message, ...input }],
      }),
    );
    this.metrics.ingestItems.inc({ connector: connector.id, result: 'rejected' });
    throw new ValidationError(err.code as 'SB_ERR_INGEST_MALFORMED', err.message, { cause: err, detail: { quarantineId: result.quarantineIds[0] } });
  }

  /**
   * Normalizes items and commits their events (and the bad items to the quarantine) together. A
   * payload over the limits (`server.limits`) is refused before the normalizer sees it: nothing
   * nested deep enough to overflow the stack of what walks it later reaches the shared commit.
   */
  async ingestItems(connector: ConnectorInstance, items: readonly IngestItem[], opts: { contentType?: string; cursor?: string; trace?: Context } = {}): Promise<IngestResult> {
    if (!this.tracing || opts.trace) return this.ingestItemsIn(connector, items, opts);
    // A batch no request brought (a pulled connector, `sb.ingest()`, a replay) starts its own trace.
    const tracing = this.tracing;
    const root = tracing.start(`ingest ${connector.id}`, 'internal', { 'switchboard.connector.id': connector.id, 'switchboard.payloads': items.length });
    try {
      const result = await this.ingestItemsIn(connector, items, { ...opts, trace: tracing.contextWith(root) });
      tracing.end(root);
      return result;
    } catch (err) {
      tracing.end(root, err);
      throw err;
    }
  }

  /**
   * Runs `work` in a span under `trace` (when tracing is on and a trace is given), ending it with
   * the outcome; `work` alone otherwise.
   */
  private async traced<T>(name: string, connector: ConnectorInstance, trace: Context | undefined, attributes: Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
    const tracing = this.tracing;
    if (!tracing || !trace) return work(undefined);
    const span = tracing.start(name, 'internal', { 'switchboard.connector.id': connector.id, ...attributes }, trace);
    try {
      const result = await work(span);
      tracing.end(span);
      return result;
    } catch (err) {
      tracing.end(span, err);
      throw err;
    }
  }

  private async ingestItemsIn(connector: ConnectorInstance, items: readonly IngestItem[], opts: { contentType?: string; cursor?: string; trace?: Context }): Promise<IngestResult> {
    const normalizeSpan = this.tracing && opts.trace ? this.tracing.start('switchboard.normalize', 'internal', { 'switchboard.connector.id': connector.id, 'switchboard.payloads': items.length }, opts.trace) : undefined;
    const { receivedAt, events, owner, quarantine, quarantinedIndex, rejected } = this.normalizeItems(connector, items, opts);
    if (normalizeSpan) {
      normalizeSpan.setAttributes({ 'switchboard.events': events.length, 'switchboard.rejected': rejected.length });
      this.tracing?.end(normalizeSpan);
    }
    const result = await this.traced('switchboard.commit', connector, opts.trace, { 'switchboard.events': events.length, 'switchboard.quarantined': quarantine.length }, async (span) => {
      const r = await this.committer.submit({ connectorId: connector.id, receivedAt, events, quarantine, cursor: opts.cursor });
      span?.setAttribute('switchboard.events.stored', r.stored.filter(Boolean).length);
      return r;
    });

    const fresh = new Set<number>();
    const seen = new Set<number>();
    let stored = 0;
    result.stored.forEach((s, j) => {
      const i = owner[j] as number;
      seen.add(i);
      if (s) {
        fresh.add(i);
        stored++;
      }
    });
    const rejectedSet = new Set(quarantinedIndex);
    // Events the store could not take went to the quarantine instead: their items are rejected.
    const unstorable = new Map<number, RejectedItem>();
    for (const u of result.invalid ?? []) {
      const index = owner[u.index] as number;
      if (!rejectedSet.has(index) && !unstorable.has(index)) unstorable.set(index, { index, code: u.code, reason: u.reason, quarantineId: u.quarantineId });
    }
    for (const index of unstorable.keys()) rejectedSet.add(index);
    let accepted = 0;
    let duplicates = 0;
    items.forEach((_, i) => {
      if (rejectedSet.has(i)) return;
      if (fresh.has(i) || !seen.has(i)) accepted++;
      else duplicates++;
    });
    const id = connector.id;
    if (accepted) this.metrics.ingestItems.inc({ connector: id, result: 'accepted' }, accepted);
    if (duplicates) this.metrics.ingestItems.inc({ connector: id, result: 'duplicate' }, duplicates);
    if (rejected.length + unstorable.size) this.metrics.ingestItems.inc({ connector: id, result: 'rejected' }, rejected.length + unstorable.size);
    const all = rejected.map((r, k) => ({ ...r, quarantineId: result.quarantineIds[k] ?? '' }));
    return {
      accepted,
      duplicates,
      events: stored,
      rejected: unstorable.size ? [...all, ...unstorable.values()].sort((a, b) => a.index - b.index) : all,
    };
  }

  /** Normalizes items: their events (with the item each came from) and the items refused, with what the quarantine keeps of them. */
  private normalizeItems(connector: ConnectorInstance, items: readonly IngestItem[], opts: { contentType?: string; trace?: Context }) {
    // The events carry the ingest's trace context, which their delivery attempts continue.
    const traceparent = opts.trace ? this.tracing?.traceparentOf(opts.trace) : undefined;
    const receivedAt = this.now().toISOString();
    const ctx: NormalizeContext = { connectorId: connector.id, receivedAt, settings: connector.settings, parseJson: (text, where) => parseJsonWithin(text, where, this.limits) };
    const events: SwitchboardEvent[] = [];
    const owner: number[] = [];
    const quarantine: QuarantineInput[] = [];
    const quarantinedIndex: number[] = [];
    const rejected: { index: number; code: string; reason: string }[] = [];
    items.forEach((item, index) => {
      let code: string;
      let reason: string;
      const breach = 'payload' in item ? payloadLimitBreach(item.payload, this.limits) : undefined;
      if ('error' in item) {
        code = 'SB_ERR_INGEST_MALFORMED';
        reason = item.error;
      } else if (breach) {
        code = breach.code;
        reason = `payload ${index + 1}: ${breach.message}`;
      } else {
        try {
          for (const e of connector.definition.normalize(item.payload, ctx)) {
            events.push(traceparent === undefined ? e : { ...e, traceparent });
            owner.push(index);
          }
          return;
        } catch (err) {
          code = err instanceof SwitchboardError ? err.code : 'SB_ERR_EVENT_INVALID';
          reason = err instanceof Error ? err.message : String(err);
        }
      }
      const raw = item.raw ?? safeStringify('payload' in item ? item.payload : undefined);
      quarantine.push({ connectorId: connector.id, receivedAt, code, reason, contentType: opts.contentType, raw });
      quarantinedIndex.push(index);
      rejected.push({ index, code, reason });
    });
    return { receivedAt, events, owner, quarantine, quarantinedIndex, rejected };
  }
}

/** A payload handed over as a value (library, pulled sources) as JSON, or as much of it as can be shown. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return dumpUnstorable(value);
  }
}
