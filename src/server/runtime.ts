/**
 * The connector runtime: runs a pulled `Source` (polling, WebSocket, pipe) and owns what every
 * such connector needs — connecting, reconnection with jittered exponential backoff, resume
 * points saved in the same transaction as the events, acks only after the commit, and status
 * reported as data (`status()`) and as `connector.*` events.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RetryableError, SwitchboardError, backoffDelay, createEvent, sleep, type EventType } from '../core/index.js';
import type { IngestItem, Source, SourceSignal } from '../connectors/types.js';
import type { Metrics } from './metrics.js';
import type { ConnectorInstance, GroupCommitter, Pipeline } from './pipeline.js';
import type { Lease } from './lease.js';
import type { Store } from './store/types.js';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Backoff after credentials were refused; long, so that a bad password never spins. */
  readonly authFailedMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 20_000, authFailedMs: 60_000 };


export type RuntimeState = 'starting' | 'standby' | 'connecting' | 'connected' | 'backoff' | 'auth-failed' | 'stopped';

/** A connector's live state in `GET /v1/connectors`. */
export interface ConnectorStatus {
  readonly transport: 'push' | 'pull';
  readonly state: string;
  readonly [detail: string]: unknown;
}

export class ConnectorRuntime {
  private state: RuntimeState = 'starting';
  private lastError: string | undefined;
  private errors = 0;
  private batches = 0;
  /**
   * Failures since the source last delivered (a read that answered): the backoff's attempt
   * number. A successful connect does not reset it — for HTTP polling a connect opens nothing.
   */
  private consecutiveErrors = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private current: Source | undefined;

  constructor(
    private readonly connector: ConnectorInstance,
    private readonly makeSource: (cursor: string | undefined, signal: (s: SourceSignal) => void) => Source,
    private readonly deps: {
      pipeline: Pipeline;
      committer: GroupCommitter;
      store: Store;
      metrics: Metrics;
      logger: Logger;
      backoff?: BackoffOptions;
      /** Several instances share the store: the source runs only on the instance that holds this lease. */
      lease?: Lease;
    },
  ) {
    // A series from the start, so that an alert on 0 also sees a connector that never connected.
    deps.metrics.connectorUp.set({ connector: connector.id }, 0);
  }

  /** Sends an outbound command through the connected source. */
  async command(name: string, args: unknown): Promise<unknown> {
    const source = this.current;
    if (!source?.command) throw new SwitchboardError('SB_ERR_NOT_FOUND', `connector ${this.connector.id} takes no commands`);
    if (this.state !== 'connected') throw new RetryableError(`connector ${this.connector.id} is not connected (${this.state})`);
    return source.command(name, args);
  }

  status(): ConnectorStatus {
    const lease = this.deps.lease;
    return {
      transport: 'pull',
      state: this.state,
      errors: this.errors,
      consecutiveErrors: this.consecutiveErrors,
      lastError: this.lastError ?? null,
      batches: this.batches,
      ...(lease ? { owner: lease.holder === '' ? null : lease.holder, instance: lease.owner } : {}),
    };
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.deps.logger.error({ err, connector: this.connector.id }, 'connector runtime stopped by an error'));
  }

  /** Stops reading, lets the batch in flight finish its commit and ack, then closes the source. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.state = 'stopped';
  }

  private async emit(type: Extract<EventType, `connector.${string}`>, extra: Record<string, string | undefined>): Promise<void> {
    const { id, definition } = this.connector;
    const event = createEvent({
      type,
      platform: definition.platform,
      connectorId: id,
      identity: `runtime|${randomUUID()}`,
      subject: `connector/${id}`,
      time: new Date(),
      nativetype: `switchboard/${type}`,
      data: { connectorId: id, native: null, ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)) } as never,
    });
    try {
      await this.deps.committer.submit({ connectorId: id, receivedAt: event.time, events: [event], quarantine: [] });
    } catch (err) {
      this.deps.logger.warn({ err, connector: id }, `could not store ${type}`);
    }
  }

  private onSignal = (s: SourceSignal): void => {
    switch (s.kind) {
      case 'connected':
        this.state = 'connected';
        this.deps.metrics.connectorUp.set({ connector: this.connector.id }, 1);
        void this.emit('connector.connected', { detail: s.detail });
        break;
      case 'disconnected':
        this.deps.metrics.connectorUp.set({ connector: this.connector.id }, 0);
        void this.emit('connector.disconnected', { reason: s.reason });
        break;
      case 'gap':
        void this.emit('connector.gap-detected', { stream: s.stream, from: s.from, to: s.to, reason: s.reason });
        break;
      case 'auth-failed':
        void this.emit('connector.auth-failed', { reason: s.reason });
        break;
    }
  };

  private async run(): Promise<void> {
    const lease = this.deps.lease;
    if (!lease) return this.runSource(this.abort.signal);
    // Standby until this instance holds the lease; the source stops when it is lost.
    await lease.run(
      this.abort.signal,
      (signal) => this.runSource(signal),
      () => {
        if (!this.abort.signal.aborted) this.state = 'standby';
      },
    );
  }

  private async runSource(signal: AbortSignal): Promise<void> {
    const backoff = this.deps.backoff ?? DEFAULT_BACKOFF;
    while (!signal.aborted) {
      const cursor = await this.deps.store.getCursor(this.connector.id);
      const source = this.makeSource(cursor, this.onSignal);
      this.current = source;
      try {
        this.state = 'connecting';
        await source.connect(signal);
        if (!source.reportsConnected) this.onSignal({ kind: 'connected' });
        await this.readLoop(source, signal, backoff);
      } catch (err) {
        if (signal.aborted) break;
        this.noteError(err);
        const authFailed = isAuthError(err);
        if (authFailed) {
          this.state = 'auth-failed';
          this.onSignal({ kind: 'auth-failed', reason: this.lastError ?? '' });
        } else {
          if (this.state === 'connected') this.onSignal({ kind: 'disconnected', reason: this.lastError ?? '' });
          this.state = 'backoff';
        }
        const attempt = this.consecutiveErrors - 1;
        const wait = authFailed ? backoff.authFailedMs : waitFor(err, attempt, backoff);
        this.deps.logger.warn({ connector: this.connector.id, err: this.lastError, attempt, waitMs: wait }, 'connector error; reconnecting');
        await sleep(wait, signal);
      } finally {
        this.current = undefined;
        await source.close().catch(() => undefined);
      }
    }
    this.deps.metrics.connectorUp.set({ connector: this.connector.id }, 0);
  }

  /**
   * Reads, commits and acks until stopped. A few failed reads in a row are a blip, retried with
   * backoff on the same source; past `MAX_BLIPS`, or when the connection is lost, the error is
   * thrown and the source reconnects. Blips and reconnects share one attempt count, which only a
   * read that answered (a batch committed and acked, or an empty long poll) starts over: a source
   * that connects but never delivers backs off up to `maxMs`.
   */
  private async readLoop(source: Source, signal: AbortSignal, backoff: BackoffOptions): Promise<void> {
    let blips = 0;
    while (!signal.aborted) {
      try {
        const batch = await source.read(signal);
        blips = 0;
        if (!batch) {
          this.consecutiveErrors = 0;
          continue;
        }
        const items: IngestItem[] = [...batch.items.map((payload) => ({ payload })), ...(batch.rejected ?? [])];
        // A batch with no items (e.g. a notification type the user chose not to keep) is still
        // acked, so that the platform's queue never stalls on it.
        if (items.length > 0 || batch.cursor !== undefined) {
          await this.deps.pipeline.ingestItems(this.connector, items, batch.cursor === undefined ? {} : { cursor: batch.cursor });
          this.batches++;
        }
        // Only now, with the events on disk, may the platform forget them.
        await batch.ack?.();
        this.consecutiveErrors = 0;
      } catch (err) {
        if (signal.aborted || isAuthError(err) || !(err instanceof RetryableError) || err.connectionLost || ++blips > MAX_BLIPS) throw err;
        this.noteError(err);
        const attempt = this.consecutiveErrors - 1;
        const wait = waitFor(err, attempt, backoff);
        this.deps.logger.debug({ connector: this.connector.id, err: this.lastError, attempt, waitMs: wait }, 'transient connector error; retrying');
        await sleep(wait, signal);
      }
    }
  }

  private noteError(err: unknown): void {
    this.errors++;
    this.consecutiveErrors++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}

/** Failed reads in a row tolerated on one source before it is closed and reconnected. */
const MAX_BLIPS = 3;

function isAuthError(err: unknown): boolean {
  return err instanceof SwitchboardError && err.code === 'SB_ERR_CONNECTOR_AUTH';
}

function waitFor(err: unknown, attempt: number, backoff: BackoffOptions): number {
  return err instanceof RetryableError && err.retryAfterMs !== undefined ? err.retryAfterMs : backoffDelay(attempt, backoff);
}
