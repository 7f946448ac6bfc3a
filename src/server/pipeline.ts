/**
 * ingest → parse/validate → normalize → dedupe → commit → ack → publish.
 *
 * `GroupCommitter` gathers the batches of concurrent ingest calls and commits them in one
 * transaction (one fsync), then resolves each caller — the caller acks only then — and
 * publishes the newly stored events in sequence order.
 */
import { DEFAULT_PAYLOAD_LIMITS, OverloadedError, SwitchboardError, ValidationError, parseJsonWithin, payloadLimitBreach, type NormalizeContext, type PayloadLimits, type SwitchboardEvent } from '../core/index.js';
import type { ConnectorDefinition, IngestItem } from '../connectors/types.js';
import type { EventBus, Committed } from './bus.js';
import { decodeBody, parseContentType } from './decode.js';
import type { Metrics } from './metrics.js';
import type { CommitBatch, CommitResult, QuarantineInput, Store } from './store/types.js';

export interface CommitterOptions {
  /** Events waiting for a commit beyond which new work is refused with 503 (backpressure). */
  readonly maxPendingEvents: number;
  /** Most events in one transaction. */
  readonly maxBatchEvents: number;
}

interface Pending {
  readonly batch: CommitBatch;
  readonly size: number;
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private pendingEvents = 0;
  private running = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly metrics: Metrics,
    private readonly options: CommitterOptions,
  ) {}

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
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, size, resolve, reject });
      this.pendingEvents += size;
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group: Pending[] = [];
      let events = 0;
      while (this.queue.length > 0 && (group.length === 0 || events + (this.queue[0]?.size ?? 0) <= this.options.maxBatchEvents)) {
        const p = this.queue.shift() as Pending;
        group.push(p);
        events += p.size;
      }
      const stop = this.metrics.commitSeconds.startTimer();
      let results: CommitResult[];
      try {
        results = await this.store.commit(group.map((p) => p.batch));
      } catch (err) {
        this.pendingEvents -= events;
        for (const p of group) p.reject(err);
        continue;
      } finally {
        stop();
      }
      this.pendingEvents -= events;
      this.metrics.commitBatchEvents.observe(events);
      const published: Committed[] = [];
      group.forEach((p, i) => {
        const r = results[i] as CommitResult;
        r.stored.forEach((s, j) => {
          const e = p.batch.events[j];
          if (s && e) published.push({ stored: s, event: e });
        });
        p.resolve(r);
      });
      this.bus.publish(published);
      // Let the I/O phase run so that concurrent requests join the next group.
      if (this.queue.length > 0) await new Promise((r) => setImmediate(r));
    }
    this.running = false;
    const idle = this.idle;
    this.idle = [];
    for (const f of idle) f();
  }

  /** Refuses new work and waits for what is queued to be committed. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }
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

  /**
   * Decodes an HTTP body in the charset its Content-Type (or, for XML, the body itself) declares,
   * splits it with the connector's ingest spec and ingests its items. A body that cannot be read
   * at all — bytes not valid in that charset, or refused by the spec — is quarantined whole, as
   * received, and the `ValidationError` is thrown with its `quarantineId` (→ 400).
   */
  async ingestBody(connector: ConnectorInstance, body: Uint8Array, contentType: string): Promise<IngestResult> {
    const spec = connector.definition.ingest;
    if (!spec) throw new SwitchboardError('SB_ERR_INGEST_CONTENT_TYPE', `connector ${connector.id} takes no pushed payloads`);
    const media = parseContentType(contentType);
    const decoded = decodeBody(body, media);
    if ('error' in decoded) {
      // The bytes as they came, with the charset they claimed.
      const raw = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
      return this.refuseBody(connector, { contentType, raw, rawEncoding: 'base64' }, new ValidationError('SB_ERR_INGEST_MALFORMED', decoded.error));
    }
    let items: IngestItem[];
    try {
      items = spec.split(decoded.text, media.type);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return this.refuseBody(connector, { contentType: media.type, raw: decoded.text }, err);
    }
    if (items.length === 0) throw new SwitchboardError('SB_ERR_INGEST_EMPTY', 'the body holds no payload');
    return this.ingestItems(connector, items, { contentType: media.type });
  }

  /** Keeps a body that could not be read in the quarantine, then throws its error with the quarantine id. */
  private async refuseBody(connector: ConnectorInstance, input: Pick<QuarantineInput, 'contentType' | 'raw' | 'rawEncoding'>, err: ValidationError): Promise<never> {
    const receivedAt = this.now().toISOString();
    const result = await this.committer.submit({
      connectorId: connector.id,
      receivedAt,
      events: [],
      quarantine: [{ connectorId: connector.id, receivedAt, code: err.code, reason: err.message, ...input }],
    });
    this.metrics.ingestItems.inc({ connector: connector.id, result: 'rejected' });
    throw new ValidationError(err.code as 'SB_ERR_INGEST_MALFORMED', err.message, { cause: err, detail: { quarantineId: result.quarantineIds[0] } });
  }

  /**
   * Normalizes items and commits their events (and the bad items to the quarantine) together. A
   * payload over the limits (`server.limits`) is refused before the normalizer sees it: nothing
   * nested deep enough to overflow the stack of what walks it later reaches the shared commit.
   */
  async ingestItems(connector: ConnectorInstance, items: readonly IngestItem[], opts: { contentType?: string; cursor?: string } = {}): Promise<IngestResult> {
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
            events.push(e);
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
    const result = await this.committer.submit({ connectorId: connector.id, receivedAt, events, quarantine, cursor: opts.cursor });

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
    if (rejected.length) this.metrics.ingestItems.inc({ connector: id, result: 'rejected' }, rejected.length);
    return {
      accepted,
      duplicates,
      events: stored,
      rejected: rejected.map((r, k) => ({ ...r, quarantineId: result.quarantineIds[k] ?? '' })),
    };
  }
}

/** A payload handed over as a value (the library, pulled sources) as JSON, or why it has none. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (err) {
    return `(not representable as JSON: ${err instanceof Error ? err.message : String(err)})`;
  }
}
