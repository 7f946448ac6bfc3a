/**
 * Retention (docs/privacy.md): a background job that removes events past their window (with
 * their outbox rows and the projection rows of entities with no event left), quarantine entries
 * past theirs, and cached connector state (caller names) not written within its connector's
 * window. It runs at the start and then every `retention.interval`, one chunk per transaction,
 * yielding between chunks: it never holds the event loop, nor the write lock for longer than one
 * chunk. With a store several instances share, one of them at a time runs it
 * (lease `retention`). Progress goes to the log (at most every 5 s, and a line per pass) and to
 * `/metrics` (`switchboard_retention_*`).
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { sleep } from '../core/index.js';
import type { Feature, FeatureContext } from './feature.js';
import { Lease, leaseTiming } from './lease.js';
import { FolderArchive, S3Archive, type ArchiveTarget } from './archive.js';
import { retentionEnabled, windowsOf, type RetentionConfig } from './retention-config.js';
import { EVENT_TYPES } from '../core/index.js';
import { expiryStreams, type ExpireRequest, type ExpireResult } from './store/retention-plan.js';
import type { ConnectorChoice, Store } from './store/types.js';

export interface RetentionPassResult {
  readonly events: number;
  /** Events written to the archive before they went. */
  readonly archived: number;
  readonly scanned: number;
  readonly undelivered: number;
  readonly projections: number;
  readonly quarantine: number;
  /** Entries of connector state (the caller-name cache) removed. */
  readonly connectorState: number;
  readonly horizon: number;
  readonly seconds: number;
}

function createRetentionMetrics(registry: Registry) {
  const registers = [registry];
  return {
    removed: new Counter({
      name: 'switchboard_retention_removed_total',
      help: 'What retention removed: events, quarantine entries, projection rows (calls, conversations, operators whose last event went), undelivered outbox rows (marked failed), and connector state entries (the caller-name cache).',
      labelNames: ['what'] as const,
      registers,
    }),
    scanned: new Counter({ name: 'switchboard_retention_scanned_events_total', help: 'Events retention passes looked at.', registers }),
    horizon: new Gauge({ name: 'switchboard_retention_horizon', help: 'The greatest sequence retention removed (0: none); a reader resuming before it may have missed events.', registers }),
    lastPass: new Gauge({ name: 'switchboard_retention_last_pass_timestamp_seconds', help: 'When the last retention pass ended (Unix time).', registers }),
    running: new Gauge({ name: 'switchboard_retention_running', help: '1 while a retention pass runs on this instance.', registers }),
  };
}

export class Retention {
  private readonly metrics: ReturnType<typeof createRetentionMetrics>;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private current: Promise<RetentionPassResult> | undefined;
  private readonly archive: ArchiveTarget | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: RetentionConfig,
    private readonly logger: Logger,
    registry: Registry,
    private readonly lease?: Lease,
  ) {
    this.metrics = createRetentionMetrics(registry);
    this.archive = config.archive === undefined ? undefined : 'folder' in config.archive ? new FolderArchive(config.archive.folder) : new S3Archive(config.archive.s3);
  }

  /** Runs a pass now and then every `interval`, until `stop()`. */
  start(): void {
    if (this.loop || !retentionEnabled(this.config)) return;
    const abort = new AbortController();
    this.abort = abort;
    const every = async (signal: AbortSignal) => {
      while (!signal.aborted) {
        try {
          await this.pass(signal);
        } catch (err) {
          if (!signal.aborted) this.logger.error({ err }, `retention: the pass failed: ${(err as Error).message}; next in ${this.config.interval} ms`);
        }
        await sleep(this.config.interval, signal).catch(() => undefined);
      }
    };
    this.loop = (this.lease ? this.lease.run(abort.signal, every) : every(abort.signal)).catch((err: unknown) => this.logger.error({ err }, 'retention stopped'));
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /** One pass over the events and the quarantine (one at a time: a second call waits for the first). */
  pass(signal?: AbortSignal, now = Date.now()): Promise<RetentionPassResult> {
    const next = (this.current ?? Promise.resolve()).catch(() => undefined).then(() => this.passNow(signal, now));
    this.current = next;
    return next;
  }

  private async passNow(signal: AbortSignal | undefined, now: number): Promise<RetentionPassResult> {
    const started = Date.now();
    const windows = windowsOf(this.config);
    const total = { events: 0, archived: 0, scanned: 0, undelivered: 0, projections: 0, quarantine: 0, connectorState: 0 };
    let lastLog = started;
    this.metrics.running.set(1);
    try {
      // Each stream yields only events past its window (store/retention-plan.ts): what a longer
      // window keeps is not read again at every pass.
      const untilSeq = new Map<number, number>();
      for (const { stream, windowMs } of expiryStreams(windows, EVENT_TYPES)) {
        if (signal?.aborted) break;
        const before = new Date(now - windowMs).toISOString();
        let until = untilSeq.get(windowMs);
        if (until === undefined) untilSeq.set(windowMs, (until = await this.store.retention.lastSeqBefore(before)));
        for (let after = 0; !signal?.aborted; ) {
          const req: ExpireRequest = { now, stream, before, untilSeq: until, after, limit: this.config.chunk };
          let r: ExpireResult;
          if (this.archive) {
            // Read, archived and flushed to disk, then removed: exactly what was archived.
            const scan = await this.store.retention.scanExpired(req);
            await this.archive.write(scan.events);
            total.archived += scan.events.length;
            const removed = scan.events.length === 0 ? undefined : await this.store.retention.expireEvents({ ...req, seqs: scan.events.map((e) => e.seq) });
            r = { ...(removed ?? { removed: 0, undelivered: 0, projections: 0 }), scanned: scan.scanned, lastSeq: scan.lastSeq, done: scan.done };
          } else r = await this.store.retention.expireEvents(req);
          total.events += r.removed;
          total.scanned += r.scanned;
          total.undelivered += r.undelivered;
          total.projections += r.projections;
          this.metrics.removed.inc({ what: 'events' }, r.removed);
          this.metrics.removed.inc({ what: 'undelivered' }, r.undelivered);
          this.metrics.removed.inc({ what: 'projections' }, r.projections);
          this.metrics.scanned.inc(r.scanned);
          if (Date.now() - lastLog >= 5_000) {
            lastLog = Date.now();
            this.logger.info({ retention: { ...total, sequence: r.lastSeq } }, `retention: ${total.events} events removed so far (${total.scanned} looked at)`);
          }
          if (r.done) break;
          after = r.lastSeq;
          // Between two chunks the committer and the readers go first.
          await setImmediate();
        }
      }
      if (this.config.quarantine !== undefined) {
        const before = new Date(now - this.config.quarantine).toISOString();
        total.quarantine += await this.inChunks('quarantine', signal, (limit) => this.store.retention.expireQuarantine(before, limit));
      }
      // A connector's cached state (a caller's name and contact info) is kept as long as its
      // events: entries not written again within the connector's window (`connectors`, else
      // `events`) go — also those of a connector no longer configured.
      const own = Object.keys(windows.connectorsMs);
      const choices: [ConnectorChoice, number | undefined][] = [...own.map((id): [ConnectorChoice, number | undefined] => [{ connectorId: id }, windows.connectorsMs[id]]), [{ except: own }, windows.eventsMs]];
      for (const [which, windowMs] of choices) {
        if (windowMs === undefined || signal?.aborted) continue;
        const before = new Date(now - windowMs).toISOString();
        total.connectorState += await this.inChunks('connector_state', signal, (limit) => this.store.retention.expireConnectorState(which, before, limit));
      }
      const horizon = await this.store.retention.horizon();
      this.metrics.horizon.set(horizon);
      this.metrics.lastPass.set(Date.now() / 1000);
      const result = { ...total, horizon, seconds: (Date.now() - started) / 1000 };
      this.logger.info(
        { retention: result },
        `retention: removed ${result.events} events${this.archive ? ` (${result.archived} archived in ${this.archive.where})` : ''}, ${result.projections} projection rows, ${result.quarantine} quarantine entries, ${result.connectorState} cached connector entries (${result.undelivered} undelivered webhooks marked failed) in ${result.seconds.toFixed(1)} s`,
      );
      return result;
    } finally {
      this.metrics.running.set(0);
    }
  }

  /** Calls `remove` with `chunk` until it removes fewer (one transaction each, yielding between); answers the total. */
  private async inChunks(what: string, signal: AbortSignal | undefined, remove: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    while (!signal?.aborted) {
      const n = await remove(this.config.chunk);
      total += n;
      this.metrics.removed.inc({ what }, n);
      if (n < this.config.chunk) break;
      await setImmediate();
    }
    return total;
  }
}

/** The retention feature: the job, started with the server's background work. */
export type RetentionFeature = Feature & { readonly name: 'retention'; readonly job: Retention };

export function createRetention(ctx: FeatureContext): RetentionFeature {
  const { store, config, logger, metrics } = ctx;
  // A store several instances share: one of them at a time runs the passes.
  const lease = store.leases && store.instanceId ? new Lease(store.leases, 'retention', store.instanceId, logger, leaseTiming(config.store.leaseTtl)) : undefined;
  const job = new Retention(store, config.retention, logger, metrics.registry, lease);
  return {
    name: 'retention',
    job,
    async start({ background }) {
      if (background) job.start();
    },
    async close() {
      await job.stop();
    },
  };
}
