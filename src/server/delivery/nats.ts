/**
 * The NATS JetStream sink: publishes every committed event, in sequence order, to
 * `<subjectPrefix>.<platform>.<type>` with `Nats-Msg-Id` = the event id, waits for JetStream's
 * acknowledgements, and keeps the greatest acknowledged sequence as its cursor in the store
 * (`sink_cursors`). After a crash it republishes from the saved cursor; JetStream drops the
 * repeats by `Nats-Msg-Id` within the stream's duplicate window. The stream is created if
 * missing; the client reconnects on its own, and the sink starts over from its cursor after any
 * failed publish.
 */
import type { Lease } from '../lease.js';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { backoffDelay, sleep } from '../../core/index.js';
import type { EventBus } from '../bus.js';
import { withSequence } from '../store/types.js';
import type { NatsConfig } from './config.js';
import type { DeliveryStore } from '../store/types.js';
import type { NatsMetrics } from './metrics.js';

/** Waits between tries to reach NATS: from about 250 ms, doubling, up to 15 s. */
const NATS_BACKOFF = { initialMs: 250, maxMs: 15_000 };

/** The subject of an event: `<prefix>.<platform>.<type>` (types keep their dot: `switchboard.greenapi.call.ended`). */
export function natsSubject(prefix: string, platform: string, type: string): string {
  return `${prefix}.${platform}.${type}`;
}

export interface NatsSinkOptions {
  readonly config: NatsConfig;
  /** Several instances share the store: only the holder of this lease publishes. */
  readonly lease?: Lease | undefined;
  readonly db: () => DeliveryStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: NatsMetrics;
}

export class NatsSink {
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private cursor = 0;
  private savedCursor = 0;
  private savedAt = 0;
  private readonly name: string;

  constructor(private readonly options: NatsSinkOptions) {
    this.name = `nats:${options.config.stream}`;
  }

  /** Aborts when the sink stops, or, with a lease, when this instance's tenure ends. */
  private signal: AbortSignal = this.stop.signal;

  start(): void {
    const tenure = async (signal: AbortSignal) => {
      this.signal = signal;
      // From the store: another instance may have moved the cursor since this one last held the lease.
      this.cursor = await this.options.db().sinkCursor(this.name);
      this.savedCursor = this.cursor;
      this.savedAt = Date.now();
      await this.run();
      if (this.options.lease) await this.maybeSaveCursor(true);
    };
    const lease = this.options.lease;
    this.loop = lease ? lease.run(this.stop.signal, tenure) : tenure(this.stop.signal);
  }

  private get log(): Logger {
    return this.options.logger;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.signal.aborted) {
      try {
        await this.connect();
        await this.ensureStream();
        failures = 0;
        await this.pump();
      } catch (err) {
        if (this.signal.aborted) break;
        const wait = backoffDelay(failures++, NATS_BACKOFF);
        this.log.warn({ err: err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code } : err, stream: this.options.config.stream }, `nats: ${err instanceof Error ? err.message : String(err)}; retrying from sequence ${this.cursor + 1} in ${wait} ms`);
        await sleep(wait, this.signal);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) return;
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const c = this.options.config;
    const nc = await connect({
      servers: c.url.split(',').map((s) => s.trim()),
      name: 'switchboard',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: c.timeout,
      ...(c.token !== undefined ? { token: c.token } : {}),
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.pass !== undefined ? { pass: c.pass } : {}),
    });
    this.nc = nc;
    this.js = jetstream(nc, { timeout: c.timeout });
    this.options.metrics.natsConnected.set(1);
    this.log.info({ server: nc.getServer(), stream: c.stream }, `nats: connected to ${nc.getServer()}`);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.options.metrics.natsConnected.set(0);
          this.log.warn({ server: s.server }, 'nats: disconnected; reconnecting');
        } else if (s.type === 'reconnect') {
          this.options.metrics.natsConnected.set(1);
          this.log.info({ server: s.server }, 'nats: reconnected');
        }
      }
    })().catch(() => undefined);
    void nc.closed().then(() => this.options.metrics.natsConnected.set(0));
  }

  /** Creates the stream with the subjects `<prefix>.>` if it does not exist. */
  private async ensureStream(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    const { jetstreamManager, JetStreamApiError, JetStreamApiCodes } = await import('@nats-io/jetstream');
    const { nanos } = await import('@nats-io/transport-node');
    const c = this.options.config;
    const jsm = await jetstreamManager(nc, { timeout: c.timeout });
    const wanted = `${c.subjectPrefix}.>`;
    try {
      const info = await jsm.streams.info(c.stream);
      if (!info.config.subjects?.some((s) => s === wanted || s === '>' || wanted === s)) {
        this.log.warn({ stream: c.stream, subjects: info.config.subjects }, `nats: stream ${c.stream} exists without the subjects ${wanted}; publishes may be refused`);
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
      await jsm.streams.add({ name: c.stream, subjects: [wanted], duplicate_window: nanos(c.duplicateWindow) });
      this.log.info({ stream: c.stream, subjects: [wanted] }, `nats: created stream ${c.stream}`);
    }
  }

  /** Publishes what follows the cursor, window by window, until stopped or a publish fails. */
  private async pump(): Promise<void> {
    const c = this.options.config;
    const js = this.js;
    if (!js) return;
    const { headers } = await import('@nats-io/transport-node');
    const db = this.options.db();
    while (!this.signal.aborted) {
      const rows = await db.eventsAfter(this.cursor, c.maxInFlight);
      this.options.metrics.natsLag.set(Math.max(0, this.options.bus.latestSequence - this.cursor));
      if (rows.length === 0) {
        await this.maybeSaveCursor(false);
        const unsaved = this.cursor !== this.savedCursor;
        const wait = this.options.bus.waitBeyond(this.cursor, this.signal);
        await (unsaved ? Promise.race([wait, sleep(Math.max(0, this.savedAt + c.cursorInterval - Date.now()), this.signal)]) : wait);
        continue;
      }
      // An event larger than the server's max_payload can never be published: it is skipped
      // (logged and counted) instead of stopping the sink.
      const maxPayload = this.nc?.info?.max_payload ?? Number.POSITIVE_INFINITY;
      const acks = rows.map((r) => {
        const body = withSequence(r.body, r.seq);
        if (Buffer.byteLength(body) + 512 > maxPayload) return Promise.resolve('too-large' as const);
        const h = headers();
        h.set('Content-Type', 'application/cloudevents+json');
        return js.publish(natsSubject(c.subjectPrefix, r.platform, r.type), body, { msgID: r.id, timeout: c.timeout, headers: h });
      });
      const settled = await Promise.allSettled(acks);
      for (const [i, s] of settled.entries()) {
        const row = rows[i] as { seq: number; id: string };
        if (s.status === 'rejected') {
          await this.maybeSaveCursor(false);
          throw s.reason instanceof Error ? s.reason : new Error(String(s.reason));
        }
        if (s.value === 'too-large') {
          this.options.metrics.natsPublished.inc({ result: 'too-large' });
          this.log.error({ event: row.id, sequence: row.seq, maxPayload }, `nats: event ${row.id} is larger than the server's max_payload (${maxPayload} bytes); not published`);
        } else {
          this.options.metrics.natsPublished.inc({ result: s.value.duplicate ? 'duplicate' : 'stored' });
        }
        this.cursor = row.seq;
      }
      await this.maybeSaveCursor(false);
    }
  }

  /** Saves the acknowledged position at most every `cursorInterval` (always when `force`). */
  private async maybeSaveCursor(force: boolean): Promise<void> {
    if (this.cursor === this.savedCursor) return;
    const now = Date.now();
    if (!force && now - this.savedAt < this.options.config.cursorInterval) return;
    try {
      const cursor = this.cursor;
      await this.options.db().saveSinkCursor(this.name, cursor);
      this.savedCursor = cursor;
      this.savedAt = now;
    } catch (err) {
      this.log.warn({ err }, 'nats: cannot save the cursor');
    }
  }

  /** The acknowledged position (tests, status). */
  get position(): number {
    return this.cursor;
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
    // With a lease, each tenure saved its cursor as it ended.
    if (!this.options.lease) await this.maybeSaveCursor(true);
    const nc = this.nc;
    this.nc = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    this.options.metrics.natsConnected.set(0);
  }
}
