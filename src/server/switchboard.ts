/**
 * `createSwitchboard(config)`: the server and library in one object.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TracerProvider } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import { SwitchboardError, sourceOf, type EventType, type SwitchboardEvent, type TypePattern, type TypesMatching, type TypesOfFilter } from '../core/index.js';
import { connectorFor } from '../connectors/registry.js';
import type { ConnectorDefinition, IngestItem } from '../connectors/types.js';
import { EventBus, type Committed } from './bus.js';
import type { Feature, FeatureConnector } from './feature.js';
import { FEATURES } from './features.js';
import { connectorsOf, resolveConfig, type SwitchboardConfig, type SwitchboardConfigInput } from './config.js';
import { follow, type FollowFilter } from './follow.js';
import { buildApp, type HttpConnector } from './http/app.js';
import { createMetrics, type Metrics } from './metrics.js';
import { GroupCommitter, Pipeline, type IngestResult } from './pipeline.js';
import { ConnectorRuntime } from './runtime.js';
import { PostgresStore } from './store/postgres/index.js';
import type { Store } from './store/types.js';
import { StoreTail } from './tail.js';
import { Lease, leaseTiming, type LeaseTiming } from './lease.js';
import { SQLITE_OFFLINE_BUSY_TIMEOUT_MS, SqliteStore } from './store/sqlite/index.js';
import type { Tracing } from './tracing.js';
import { VERSION } from './version.js';
import { loggerOptions } from './log.js';
import type { RetentionFeature, RetentionPassResult } from './retention.js';
import type { ErasureInput, Erasures } from './erasure.js';
import type { ErasureRecord } from './store/erasure-plan.js';
import { privateDir, tightenDataDir } from './private-files.js';

/** An event of one of the types `T`, discriminated on `type`. */
export type EventOf<T extends EventType> = T extends EventType ? SwitchboardEvent<T> : never;

/**
 * What `events()` reads. `type` is a pattern (`call.ended`, `call.*`, `*`) or a comma-separated
 * list of them; the events yielded are typed by it, as `on()` types its handler's.
 */
export interface EventsFilter<P extends string = string> extends FollowFilter {
  readonly type?: P | undefined;
  /** Start after this sequence; `0` (default) from the beginning, `'now'` only new events. */
  readonly after?: number | string | 'now';
  /** Keep waiting for new events (default) or end at the last stored one. */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

/** How often a shared store is read for missed commits (a lost notification), besides the notifications. */
const TAIL_SAFETY_MS = 5_000;

export interface CreateOptions {
  /** Overrides for the config's environment (tests). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  /** Collect Node process metrics (default true). */
  readonly processMetrics?: boolean;
  /** The receipt clock (tests that need receipt times to repeat). */
  readonly now?: () => Date;
  /** At most one log line per connector about refused ingest in this time, in ms (default 60 000). */
  readonly refusalLogIntervalMs?: number;
  /**
   * A bulk load (`switchboard replay`): commits record the entities their events concern and the
   * projections are brought up to date by `catchUpProjections()` — each entity once, not once per
   * commit. Until then, the calls, conversations and operators lag behind the event log.
   */
  readonly bulk?: boolean;
  /**
   * Where spans go, instead of the OTLP exporter of the config's `tracing` (e.g. a provider with
   * an in-memory exporter in tests, or the host application's own). Given, tracing is on.
   */
  readonly tracerProvider?: TracerProvider;
  /** How long leases last and how often they are renewed, with a shared store (tests shorten them). */
  readonly leaseTiming?: LeaseTiming;
}

function parseAfter(after: EventsFilter['after'], latest: number): number {
  if (after === undefined) return 0;
  if (after === 'now') return latest;
  const n = typeof after === 'number' ? after : Number(after);
  if (!Number.isSafeInteger(n) || n < 0) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `after: expected a sequence or "now", found ${String(after)}`);
  return n;
}

/** Reads the API token kept in the data folder, or makes one and keeps it (mode 0600). */
function loadOrCreateApiToken(dataDir: string): { token: string; generated: boolean } {
  const file = join(dataDir, 'api-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, generated: false };
  } catch {
    // none yet
  }
  privateDir(dataDir);
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, generated: true };
}

export class Switchboard {
  readonly config: SwitchboardConfig;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly apiToken: string;
  /** True when the API token was generated at this start (print it). */
  readonly apiTokenGenerated: boolean;
  private readonly store: Store;
  /** A shared store's reader that feeds the bus (undefined: the committer publishes itself). */
  private readonly tail: StoreTail | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  private tailTimer: ReturnType<typeof setInterval> | undefined;
  private readonly features: readonly Feature[];
  private readonly bus = new EventBus();
  private readonly committer: GroupCommitter;
  private readonly pipeline: Pipeline;
  private tracing: Tracing | undefined;
  private readonly connectors = new Map<string, HttpConnector>();
  private readonly runtimes: ConnectorRuntime[] = [];
  private readonly runtimeById = new Map<string, ConnectorRuntime>();
  private readonly services: (() => Promise<void>)[] = [];
  private readonly serviceStarters: (() => void)[] = [];
  private readonly shutdown = new AbortController();
  private app: Awaited<ReturnType<typeof buildApp>> | undefined;
  private started = false;
  private pendingHandlers: (() => void)[] = [];
  private address: string | undefined;

  constructor(
    config: SwitchboardConfig,
    private readonly options: CreateOptions = {},
  ) {
    this.config = config;
    // Logs go to stderr, so that stdout carries only what a command prints for people and scripts.
    this.logger = options.logger ?? pino(loggerOptions(config.log.level), pino.destination(2));
    this.metrics = createMetrics({ defaultMetrics: options.processMetrics !== false });
    if (config.server.apiToken) {
      this.apiToken = config.server.apiToken;
      this.apiTokenGenerated = false;
    } else {
      const t = loadOrCreateApiToken(config.dataDir);
      this.apiToken = t.token;
      this.apiTokenGenerated = t.generated;
    }
    this.store =
      config.store.postgres !== undefined
        ? new PostgresStore({ url: config.store.postgres, durability: config.store.durability })
        : new SqliteStore({ path: config.store.sqlite ?? join(config.dataDir, 'switchboard.db'), durability: config.store.durability, bulk: options.bulk === true });
    // A store several instances share feeds the bus by reading it back, in sequence order (tail.ts).
    const tail = this.store.watch ? new StoreTail(this.store, this.bus, this.logger) : undefined;
    this.tail = tail;
    this.committer = new GroupCommitter(this.store, this.bus, this.metrics, {
      maxPendingEvents: config.server.maxPendingEvents,
      maxBatchEvents: config.server.maxBatchEvents,
      logger: this.logger,
      deferProjections: options.bulk === true,
      ...(tail ? { publish: (events: readonly Committed[]) => tail.committed(events) } : {}),
    });
    this.pipeline = new Pipeline(this.committer, this.metrics, options.now, config.server.limits);
    const featureConnectors = new Map<string, FeatureConnector>();

    for (const entry of connectorsOf(config, this.apiToken)) {
      const definition = connectorFor(entry.platform);
      if (!definition) continue;
      const instance = { id: entry.id, definition, settings: entry.settings };
      featureConnectors.set(entry.id, { ...entry, definition });
      const makeSource = definition.source;
      let runtime: ConnectorRuntime | undefined;
      if (makeSource && makeSource({ connectorId: entry.id, settings: entry.settings, cursor: undefined, signal: () => undefined }) !== undefined) {
        runtime = new ConnectorRuntime(
          instance,
          (cursor, signal) => makeSource({ connectorId: entry.id, settings: entry.settings, cursor, signal }) as NonNullable<ReturnType<typeof makeSource>>,
          {
            pipeline: this.pipeline,
            committer: this.committer,
            store: this.store,
            metrics: this.metrics,
            logger: this.logger,
            // A store several instances share: one of them at a time runs this connector's source
            // (a source of this machine, a named pipe, runs wherever it is configured).
            ...(this.store.leases && this.store.instanceId && definition.hostLocal !== true ? { lease: new Lease(this.store.leases, `connector:${entry.id}`, this.store.instanceId, this.logger, options.leaseTiming ?? leaseTiming(config.store.leaseTtl)) } : {}),
          },
        );
        this.runtimes.push(runtime);
        this.runtimeById.set(entry.id, runtime);
      }
      this.connectors.set(entry.id, { ...instance, ingestToken: entry.ingestToken, corsOrigins: entry.corsOrigins, status: () => runtime?.status() ?? { transport: 'push', state: 'listening' } });
      if (!runtime) this.metrics.connectorUp.set({ connector: entry.id }, 0);
      this.serviceStarters.push(() => this.startService(entry.id, definition, entry.settings));
    }
    // Tracing is loaded at start: the features read it then.
    const tracingNow = () => this.tracing;
    const featureContext = {
      config,
      store: this.store,
      bus: this.bus,
      committer: this.committer,
      metrics: this.metrics,
      logger: this.logger,
      connectors: featureConnectors,
      get tracing() {
        return tracingNow();
      },
    };
    this.features = FEATURES.map((make) => make(featureContext));
  }

  /** Runs a connector's background service on the events of that connector, after their commit. */
  private startService(connectorId: string, definition: ConnectorDefinition, settings: Record<string, unknown>): void {
    const service = definition.service?.({
      connectorId,
      settings,
      kv: {
        get: (namespace, key) => this.store.kvGet(connectorId, namespace, key),
        put: (namespace, key, value) => this.store.kvPut(connectorId, namespace, key, value, new Date().toISOString()),
      },
      emit: async (events) => {
        await this.committer.submit({ connectorId, receivedAt: new Date().toISOString(), events, quarantine: [] });
      },
      warn: (message, detail) => this.logger.warn({ connector: connectorId, ...detail }, message),
    });
    if (!service) return;
    const source = sourceOf(definition.platform, connectorId);
    const unsubscribe = this.bus.subscribe((committed) => {
      // Only this instance's commits: another instance's services react to theirs.
      const mine = committed.filter((c) => c.local !== false && c.event.source === source).map((c) => c.event);
      if (mine.length > 0) service.onCommitted(mine);
    });
    this.services.push(async () => {
      unsubscribe();
      await service.stop();
    });
  }

  /** The connectors in use, with their ingest tokens (for printing at start). */
  listConnectors(): { id: string; platform: string; ingest: boolean }[] {
    return [...this.connectors.values()].map((c) => ({ id: c.id, platform: c.definition.platform, ingest: Boolean(c.definition.ingest && c.ingestToken) }));
  }

  /** The server's base URL once listening. */
  get url(): string | undefined {
    return this.address;
  }

  /**
   * Opens the store, starts pulled connectors and background work (delivery) unless
   * `background: false`, and the HTTP server unless `listen: false`.
   * @example const sb = createSwitchboard({}); await sb.start(); console.log(sb.url);
   */
  async start(options: { listen?: boolean; background?: boolean } = {}): Promise<this> {
    if (this.started) return this;
    // OpenTelemetry is loaded only when tracing is on (config, or a provider given).
    if (!this.tracing && (this.config.tracing.enabled || this.options.tracerProvider)) {
      const { Tracing } = await import('./tracing.js');
      this.tracing = Tracing.fromConfig(this.config.tracing, VERSION, this.options.tracerProvider);
      this.pipeline.tracing = this.tracing;
    }
    // Serving (HTTP or background work), a locked database must not block the event loop: the
    // committer waits for it on timers. An offline command (replay, rebuild) may simply wait.
    const offline = options.listen === false && options.background === false;
    // The data folder holds personal data and secrets: this user's only (older versions made it 0755).
    tightenDataDir(this.config.dataDir);
    if (this.store instanceof SqliteStore) await this.store.open(offline ? { busyTimeoutMs: SQLITE_OFFLINE_BUSY_TIMEOUT_MS } : {});
    else await this.store.open();
    this.bus.reset(await this.store.latestSequence());
    if (this.tail && this.store.watch) {
      const tail = this.tail;
      // An erasure on any instance empties this one's live window too: nothing erased is served from memory.
      const bus = this.bus;
      this.unwatch = this.store.watch({ committed: () => tail.poke(), removed: () => bus.flush() });
      // A notification lost with its connection is caught up by this slow safety read.
      this.tailTimer = setInterval(() => tail.poke(), TAIL_SAFETY_MS);
      this.tailTimer.unref();
    }
    const background = options.background !== false;
    for (const f of this.features) await f.start?.({ background });
    this.started = true;
    for (const launch of this.pendingHandlers.splice(0)) launch();
    if (background) {
      if (this.options.bulk !== true) this.catchUpInBackground();
      for (const r of this.runtimes) r.start();
      for (const startService of this.serviceStarters) startService();
    }
    if (options.listen !== false) {
      this.app = await buildApp({
        store: this.store,
        bus: this.bus,
        metrics: this.metrics,
        pipeline: this.pipeline,
        committer: this.committer,
        connectors: this.connectors,
        apiToken: this.apiToken,
        bodyLimit: this.config.server.bodyLimit,
        maxPendingEvents: this.config.server.maxPendingEvents,
        maxBytesInFlight: this.config.server.maxBytesInFlight,
        requestTimeoutMs: this.config.server.requestTimeout,
        logger: this.logger,
        shutdown: this.shutdown.signal,
        features: this.features,
        tracing: this.tracing,
        ...(this.options.refusalLogIntervalMs === undefined ? {} : { refusalLogIntervalMs: this.options.refusalLogIntervalMs }),
      });
      this.address = await this.app.listen({ port: this.config.server.port, host: this.config.server.host });
      const port = this.app.server.address();
      if (port && typeof port === 'object') this.address = `http://${this.config.server.host.includes(':') ? `[${this.config.server.host}]` : this.config.server.host}:${port.port}`;
      this.setPushConnectorsUp(true);
    }
    return this;
  }

  /**
   * Brings the projections up to date with the events of bulk loads (`bulk`, or a replay that
   * was interrupted), a chunk at a time; resolves with the entities recomputed.
   */
  async catchUpProjections(onProgress?: (done: number, left: number) => void): Promise<number> {
    this.requireStarted();
    return this.store.projections.catchUp(onProgress ? { onProgress } : {});
  }

  /** At start: projections left behind by an interrupted bulk load are caught up in the background, with progress in the log. */
  private catchUpInBackground(): void {
    void (async () => {
      const left = await this.store.projections.pendingCount();
      if (left === 0) return;
      this.logger.warn({ entities: left }, 'projections: catching up with an interrupted bulk load (replay); calls, conversations and operators lag until done');
      let logged = Date.now();
      const done = await this.store.projections.catchUp({
        onProgress: (n, rest) => {
          if (Date.now() - logged < 5000) return;
          logged = Date.now();
          this.logger.info({ done: n, left: rest }, 'projections: catching up');
        },
      });
      this.logger.info({ entities: done }, 'projections: caught up');
    })().catch((err: unknown) => {
      if (!this.shutdown.signal.aborted) this.logger.error({ err }, 'projections: the catch-up failed; `switchboard rebuild` recomputes them');
    });
  }

  /** A push-only connector is up while the HTTP server takes its ingest: listening, with its ingestToken set. */
  private setPushConnectorsUp(listening: boolean): void {
    for (const c of this.connectors.values()) {
      if (this.runtimeById.has(c.id)) continue;
      this.metrics.connectorUp.set({ connector: c.id }, listening && c.definition.ingest && c.ingestToken ? 1 : 0);
    }
  }

  private requireStarted(): void {
    if (!this.started) throw new SwitchboardError('SB_ERR_STORE_CLOSED', 'call start() first');
  }

  /**
   * Ingests native payloads for a connector, as `POST /ingest/:id` does: one payload, or an
   * array of payloads. Resolves after the commit.
   * @example await sb.ingest('greenapi', { typeWebhook: 'incomingCall', ... });
   */
  async ingest(connectorId: string, payload: unknown): Promise<IngestResult> {
    this.requireStarted();
    const items: IngestItem[] = Array.isArray(payload) ? payload.map((p: unknown) => ({ payload: p })) : [{ payload }];
    return this.pipeline.ingestItems(this.connector(connectorId), items);
  }

  /** Ingests already split items (payloads, or unreadable lines with their error) — what `switchboard replay` uses. */
  async ingestItems(connectorId: string, items: readonly IngestItem[]): Promise<IngestResult> {
    this.requireStarted();
    return this.pipeline.ingestItems(this.connector(connectorId), items);
  }

  /**
   * Sends an outbound command through a connected pulled connector, e.g. the TWIN operator's
   * typing: `await sb.command('twin-ops', 'typing', { chatId })`.
   */
  async command(connectorId: string, name: string, args: unknown): Promise<unknown> {
    this.requireStarted();
    this.connector(connectorId);
    const runtime = this.runtimeById.get(connectorId);
    if (!runtime) throw new SwitchboardError('SB_ERR_NOT_FOUND', `connector ${connectorId} keeps no connection to send commands through`);
    return runtime.command(name, args);
  }

  private connector(connectorId: string): HttpConnector {
    const connector = this.connectors.get(connectorId);
    if (!connector) throw new SwitchboardError('SB_ERR_INGEST_UNKNOWN_CONNECTOR', `no connector "${connectorId}"; configured: ${[...this.connectors.keys()].join(', ') || 'none'}`);
    return connector;
  }

  /**
   * Calls `handler` for each newly committed event matching the pattern, in sequence order,
   * one at a time (may be called before `start()`). Returns a function that unsubscribes.
   * @example sb.on('call.*', (e) => console.log(e.type, e.data.callId));
   */
  on<P extends TypePattern>(pattern: P, handler: (event: EventOf<TypesMatching<P>>) => void | Promise<void>): () => void {
    const abort = new AbortController();
    const unsubscribeOnClose = () => abort.abort();
    this.shutdown.signal.addEventListener('abort', unsubscribeOnClose, { once: true });
    const launch = () =>
      void (async () => {
        for await (const e of this.events({ type: pattern, after: 'now', signal: abort.signal })) {
          try {
            await handler(e as EventOf<TypesMatching<P>>);
          } catch (err) {
            this.logger.error({ err, event: e.id }, `handler for ${pattern} failed`);
          }
        }
      })();
    // Handlers registered before start() begin with the first event committed after it.
    if (this.started) launch();
    else this.pendingHandlers.push(launch);
    return () => {
      abort.abort();
      this.shutdown.signal.removeEventListener('abort', unsubscribeOnClose);
    };
  }

  /**
   * Stored events as an async iterator, then (unless `follow: false`) new ones as they commit.
   * Each event is discriminated on `type`: `if (e.type === 'call.ended') e.data.outcome`; a
   * `type` pattern narrows them to the types it matches.
   * @example for await (const e of sb.events({ type: 'message.*', after: 0, follow: false })) console.log(e.sequence, e.data.conversationId);
   */
  async *events<P extends string = '*'>(filter: EventsFilter<P> = {}): AsyncGenerator<EventOf<TypesOfFilter<P>>> {
    this.requireStarted();
    const after = parseAfter(filter.after, this.bus.latestSequence);
    const signal = filter.signal ? AbortSignal.any([filter.signal, this.shutdown.signal]) : this.shutdown.signal;
    for await (const row of follow(this.store, this.bus, filter, after, { signal, follow: filter.follow !== false })) {
      yield JSON.parse(row.json) as EventOf<TypesOfFilter<P>>;
    }
  }

  /**
   * Recomputes every projection from the event log; answers the row counts by feature.
   * @example await sb.start({ listen: false }); console.log(await sb.rebuild());
   */
  async rebuild(): Promise<Record<string, Record<string, number>>> {
    this.requireStarted();
    const out: Record<string, Record<string, number>> = {};
    for (const f of this.features) if (f.rebuild) out[f.name] = await f.rebuild();
    return out;
  }

  /**
   * Runs a retention pass now (docs/privacy.md), as the background job does every
   * `retention.interval`; `now` is the time the windows are counted back from.
   */
  async applyRetention(now: Date = new Date()): Promise<RetentionPassResult> {
    const feature = this.features.find((f): f is RetentionFeature => f.name === 'retention');
    if (!feature) throw new Error('retention is not part of this server');
    return feature.job.pass(this.shutdown.signal, now.getTime());
  }

  /**
   * Stores events as they are (an archive read back, `switchboard replay --archive`): each keeps
   * its id, and one already stored is a duplicate. Answers how many were new.
   */
  async importEvents(connectorId: string, events: readonly SwitchboardEvent[]): Promise<{ accepted: number; duplicates: number }> {
    if (events.length === 0) return { accepted: 0, duplicates: 0 };
    const r = await this.committer.submit({ connectorId, receivedAt: new Date().toISOString(), events, quarantine: [] });
    const accepted = r.stored.filter((x) => x !== undefined).length;
    return { accepted, duplicates: events.length - accepted };
  }

  /**
   * Erases one person's data (docs/privacy.md), as `POST /v1/erasures`: records the request,
   * then runs it to its end. Answers the record with the counts.
   */
  async erase(input: ErasureInput, options: { chunk?: number | undefined } = {}): Promise<ErasureRecord> {
    const { done } = await this.erasureRunner().request(input, options.chunk);
    return done;
  }

  /** Runs the erasures a crash or a stop left unfinished to their end (`serve` does it at its start). */
  async resumeErasures(options: { chunk?: number | undefined } = {}): Promise<ErasureRecord[]> {
    return this.erasureRunner().resume(undefined, options.chunk);
  }

  private erasureRunner(): Erasures {
    const feature = this.features.find((f): f is Feature & { erasures: Erasures } => f.name === 'erasures' && 'erasures' in f);
    if (!feature) throw new Error('erasures are not part of this server');
    return feature.erasures;
  }

  /** Stops HTTP (closing streams), pulled connectors, waits for pending commits, closes the store. */
  async close(): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    this.shutdown.abort();
    this.bus.wakeAll();
    this.setPushConnectorsUp(false);
    await this.app?.close();
    await Promise.all(this.runtimes.map((r) => r.stop()));
    await Promise.all(this.services.map((stop) => stop()));
    await this.committer.close();
    clearInterval(this.tailTimer);
    await this.unwatch?.();
    await this.tail?.close();
    for (const f of [...this.features].reverse()) await f.close?.();
    await this.store.close();
    await this.tracing?.shutdown();
  }
}

/**
 * Creates a Switchboard from a config object (the same keys as the config file; all optional).
 * Throws `ConfigError` naming every problem.
 *
 * @example
 * const sb = createSwitchboard({ server: { port: 8080 }, store: { sqlite: './data/sb.db' } });
 * sb.on('call.ended', (e) => console.log(e.data.outcome));
 * await sb.start();
 */
export function createSwitchboard(config: SwitchboardConfigInput = {}, options: CreateOptions = {}): Switchboard {
  return new Switchboard(resolveConfig(config, options.env ? { env: options.env } : {}), options);
}
